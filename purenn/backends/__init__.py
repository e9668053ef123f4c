"""Which implementation computes: the reference, the Python engine or the C core.

    "reference"  the book's code in purenn.network and purenn.network2, run
                 as written: the specification, and slow
    "python"     the Python engine (engine.py): standard library only, the
                 same numbers bit for bit, several times faster
    "c"          the C core in csrc/ (glue: cbackend.py), built by cffi at
                 install time when a C compiler and cffi are at hand; the
                 same numbers again, many times faster
    "auto"       "c" when it is built, else "python"

A network takes `backend=`; None means $PURENN_BACKEND, and that unset means
"auto".  Asking for "c" where it is not built is an error, never a quiet
fall back to Python: `available_backends()` and `core_status()` say what is
there and why.

The book's methods and the fast backends
----------------------------------------
A network class names, in BOOK_METHODS, the methods whose work a fast
backend does in its own code (feedforward, update_mini_batch, backprop, ...).
A network whose class overrides one of them, or that has one replaced on
the instance, must run that code: with "auto" it runs on the reference
(`net.backend` says so), and asking for "python" or "c" by name is a
BackendError naming the method.  The same holds when the mirrored reference
code itself has changed (mirrored.py): a module's source file edited (any
edit of linalg.py, network.py, network2.py or mnist_svm.py), or one of their
functions, classes, methods or table entries replaced while the program
runs.  A network whose backend purenn chose goes over to the reference at
the next call even when the change comes after it was made.

The protocol: what a fast backend provides
------------------------------------------
A network, for a backend, is its `sizes` (n_0 inputs ... n_L outputs),
`weights` (weights[l] is n_{l+1} x n_l, weights[l][j][k] from neuron k to
neuron j), `biases` (biases[l] has n_{l+1}), `cost` (a cost class: its
__name__ and `output`, "sigmoid" or "softmax"), `activation` (the hidden
neurons: "sigmoid", "tanh" or "relu") and `dropout` (a probability).  Every
network carries all of them.  Data comes as Examples (below).

    name, describe()                       the backend's name; one line on what runs
    feedforward(net, x)                    the n_L outputs for one input x (n_0 numbers)
    classify(net, examples)                the index of the largest output per example
    costs(net, examples)                   cost.fn(output, y) per example (y one-hot)
    trainer(net, examples, n, lmbda, l1, momentum, velocities)
                                           a Trainer for one run of SGD:
        examples_per_call(batch, interruptible)
                                           how many positions train() should be given at a time
        begin_epoch(order, masks)          the epoch's order of example positions (a
                                           permutation of range(len(examples))) and its
                                           dropout masks (bytes: one per hidden neuron per
                                           position, or None)
        train(begin, end, batch, eta)      the mini-batches of `batch` positions from `begin`
                                           (a multiple of batch) up to `end` (the last may
                                           be shorter), as update_mini_batch does them
        end_epoch()                        put the trained weights back into net
        velocities()                       momentum's velocities, shaped like
                                           (weights, biases), or None

`n` is the size of the whole training set (it scales lmbda and l1);
`velocities` are those to start from, or None for zeros.  Each backend
keeps its own form of a network's parameters (the C core: one flat array,
transposed) and makes it again only when the weights have changed
(ParamsCache, in cache.py).
"""

import os

from ..errors import ArgumentError, BackendError
from ..linalg import argmax
from . import mirrored
from .examples import Examples

__all__ = ["BACKENDS", "MAX_THREADS", "choose_threads", "available_backends", "resolve_backend", "core_status",
           "load_core", "choose_backend", "automatic", "fast_backend", "changed_code", "overridden_methods",
           "predictions", "Examples"]

#: The backend names a network accepts (besides "auto").
BACKENDS = ("reference", "python", "c")

_c_backend = None
_c_error = None


def _import_core():
    """Import the C core once; remember why if it cannot be imported."""
    global _c_backend, _c_error
    if _c_backend is None and _c_error is None:
        try:
            from . import cbackend  # on demand: it loads cffi and the compiled core
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


#: The most threads the C core's network3 runs on (csrc/network3.c).
MAX_THREADS = 64


def choose_threads(threads=None):
    """The number of threads the C core's network3 runs on: `threads`, or
    $PURENN_THREADS, or (both unset) the processors this process may use, at
    most MAX_THREADS.  The numbers computed are the same whatever it is."""
    source = "threads"
    if threads is None:
        text = os.environ.get("PURENN_THREADS", "").strip()
        if not text:
            try:
                return max(1, min(MAX_THREADS, len(os.sched_getaffinity(0))))
            except (AttributeError, OSError):  # not on macOS or Windows
                return max(1, min(MAX_THREADS, os.cpu_count() or 1))
        source, threads = "PURENN_THREADS", int(text) if text.isascii() and text.isdigit() else None
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= MAX_THREADS:
        given = text if source == "PURENN_THREADS" else threads
        raise ArgumentError("{}: {!r} is not a number of threads from 1 to {}".format(source, given, MAX_THREADS))
    return threads


def available_backends():
    """The backends that can run here, in order of preference: c (if built), python, reference."""
    return (["c"] if _import_core() is not None else []) + ["python", "reference"]


def _requested(name):
    """(name, where it came from): the argument, or $PURENN_BACKEND, or "auto"."""
    if name is None:
        return os.environ.get("PURENN_BACKEND", "").strip() or "auto", "PURENN_BACKEND"
    return name, "backend"


def resolve_backend(name=None):
    """The backend ("reference", "python" or "c") that `name` asks for.

    None reads $PURENN_BACKEND; "auto" (the default) prefers the C core.
    """
    name, source = _requested(name)
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


#: the most layers the C core takes (csrc/network.c, MAX_LAYERS)
C_MAX_LAYERS = 64


def choose_backend(name, net):
    """The backend a new network `net` runs on: resolve_backend(name), except
    that a network that overrides one of its class's BOOK_METHODS runs on the
    reference under "auto", and is refused a fast backend asked for by name;
    and that a network of more layers than the C core takes runs in Python
    under "auto", and is refused the C core asked for by name."""
    requested, source = _requested(name)
    backend = resolve_backend(name)
    if backend == "c" and len(net.sizes) > C_MAX_LAYERS:
        if not automatic(name):
            raise BackendError("{}: the C core takes networks of at most {} layers, not {}; choose the python "
                               "backend".format(source, C_MAX_LAYERS, len(net.sizes)))
        backend = "python"
    changed = [] if backend == "reference" else changed_code(net)
    if backend == "reference" or not changed:
        return backend
    if automatic(name):
        return "reference"
    raise _bypass_error(net, backend, changed, source)


def automatic(name):
    """Whether the backend `name` asks for (None: $PURENN_BACKEND) is chosen by purenn ("auto")."""
    requested, _ = _requested(name)
    return isinstance(requested, str) and requested.strip().lower() == "auto"


def fast_backend(net):
    """The engine or the C core for net.backend, or None for the reference.
    If `net` has changed what the fast backend mirrors since it was made: a
    network whose backend purenn chose (net.backend_automatic) goes over to
    the reference, and says so in net.backend; one whose fast backend was
    asked for by name gets a BackendError."""
    if net.backend == "reference":
        return None
    changed = changed_code(net)
    if changed and net.backend_automatic:
        net.backend = "reference"
        return None
    if changed:
        raise _bypass_error(net, net.backend, changed, "backend")
    return load_core(net.backend)


def changed_code(net):
    """What `net` would run that a fast backend does not: overridden_methods,
    and the mirrored reference code edited or replaced since its twins were
    checked (mirrored.changed)."""
    return overridden_methods(net) + mirrored.changed(net)


def overridden_methods(net):
    """The names in BOOK_METHODS that `net` does not run as purenn's class
    defines them: overridden by a subclass or set on the instance."""
    book = next((cls for cls in type(net).__mro__
                 if "BOOK_METHODS" in vars(cls) and cls.__module__.startswith("purenn.")), None)
    if book is None:
        return []
    return [name for name in book.BOOK_METHODS
            if name in vars(net) or getattr(type(net), name) is not vars(book)[name]]


def _bypass_error(net, backend, changed, source):
    methods = [name for name in changed if "." not in name]
    edited = [name for name in changed if "." in name]
    what = []
    if methods:
        what.append("{} changes {}".format(type(net).__name__, ", ".join(methods)))
    if edited:
        what.append("the reference's {} {} been changed since its twins were checked".format(
            ", ".join(edited), "has" if len(edited) == 1 else "have"))
    return BackendError(
        "{}: {}, which the {} backend does not run; use backend=\"reference\" (or \"auto\", which chooses "
        "it) to train with the changed code".format(source, "; ".join(what), backend))


def load_core(name="c"):
    """What runs a fast backend: the C core's glue (cbackend.CoreBackend) for
    "c", the Python engine (engine.EngineBackend) for "python"."""
    if name == "python":
        from .engine import EngineBackend  # on demand: `import purenn` stays small
        return EngineBackend()
    core = _import_core()
    if core is None:
        raise BackendError("the C core is not built ({})".format(_c_error))
    return core


def predictions(net, xs):
    """The digit `net` sees in each input of `xs`: the index of its largest
    output (the first on a tie), computed by the network's backend in one go."""
    core = fast_backend(net)
    if core is None:
        return [argmax(net.feedforward(x)) for x in xs]
    return core.classify(net, Examples([(x, 0) for x in xs], labelled=True, n_out=net.sizes[-1]))
