"""Which implementation computes: the reference, the Python engine or the C core.

    "reference"  the teaching code of purenn.network and purenn.network2,
                 run as written: the specification, and slow
    "python"     the Python engine (purenn.engine): standard library only,
                 the same numbers bit for bit, several times faster
    "c"          the C core in csrc/, built by cffi at install time when a
                 C compiler and cffi are at hand; the same numbers again
    "auto"       "c" when it is built, else "python"

A Network takes `backend=`; None means $PURENN_BACKEND, and that unset
means "auto".  Asking for "c" where it is not built is an error, never a
quiet fall back to Python: `available_backends()` and `core_status()` say
what is there and why.
"""

import os

from ..errors import BackendError

__all__ = ["BACKENDS", "available_backends", "resolve_backend", "core_status", "load_core"]

#: The backend names a Network accepts (besides "auto").
BACKENDS = ("reference", "python", "c")

_c_backend = None
_c_error = None


def _import_core():
    """Import the C core once; remember why if it cannot be imported."""
    global _c_backend, _c_error
    if _c_backend is None and _c_error is None:
        try:
            from . import cbackend
            _c_backend = cbackend.CoreBackend()
        except ImportError as e:
            _c_error = str(e) or type(e).__name__
    return _c_backend


def core_status():
    """(built, detail): whether the C core can be used, and what it is or why not."""
    core = _import_core()
    if core is not None:
        return True, core.describe()
    return False, _c_error


def available_backends():
    """The backends that can run here, in order of preference: c (if built), python, reference."""
    return (["c"] if _import_core() is not None else []) + ["python", "reference"]


def resolve_backend(name=None):
    """The backend ("python" or "c") that `name` asks for.

    None reads $PURENN_BACKEND; "auto" (the default) prefers the C core.
    """
    source = "backend"
    if name is None:
        name = os.environ.get("PURENN_BACKEND", "").strip() or "auto"
        source = "PURENN_BACKEND"
    if not isinstance(name, str) or name.lower() not in BACKENDS + ("auto",):
        raise BackendError("{}: unknown backend {!r}; choose one of auto, c, python, reference".format(
            source, name))
    name = name.lower()
    if name == "auto":
        return "c" if _import_core() is not None else "python"
    if name == "c" and _import_core() is None:
        raise BackendError(
            "{}: the C backend was asked for but is not built ({}); reinstall purenn where a C "
            "compiler and cffi are available, or choose the python backend".format(source, _c_error))
    return name


def load_core(name="c"):
    """What runs a fast backend: the C core's glue (purenn._cbackend.CoreBackend)
    for "c", the Python engine (purenn.engine.EngineBackend) for "python"."""
    if name == "python":
        from .engine import EngineBackend
        return EngineBackend()
    core = _import_core()
    if core is None:
        raise BackendError("the C core is not built ({})".format(_c_error))
    return core
