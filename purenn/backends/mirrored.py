"""The reference code the fast backends mirror, and whether it is still that code.

The Python engine and the C core compute what the reference computes, in
their own code.  A subclass that overrides a book method is caught by
overridden_methods (purenn.backends); this module catches the rest:

    changed(net)   what of the reference `net`'s fast backend mirrors is not
                   as purenn wrote it -- [] when all is; else, for each
                   module of USES[net's module]:
                   "network2.py"        its source file is not the recorded one
                                        (an edit anywhere in it: the chapter-2
                                        exercise done in network.py itself, a
                                        changed constant, a changed SGD loop)
                   "network2.softmax"   a function, class, method or table entry
                                        of it replaced while the program runs
                   and "mnist_loader.PIXEL_VALUES" if a pixel is not byte / 256

Source files: SHA-256 of each module's text, compared with RECORDED (taken
when the twins last agreed with it; the bit-for-bit tests hold them to it).
A module whose source cannot be read (installed without its .py files)
counts as unchanged: nobody can have edited it.

At run time: each global of a mirrored module, each attribute of a class it
defines and each entry of a table (dict, tuple, list) it holds must be the
object purenn defined -- a function or class defined in purenn's own files
under the name it is found by, not wrapped -- and any other value the object
first seen there.  The check costs a few microseconds a call: the objects
are compared by identity with those last found sound, and looked at closely
only when one differs.

After a deliberate change of a mirrored module -- with its twins in
backends/engine.py and csrc/ changed to match, and the bit-for-bit tests
passing -- record it:

    python -c "from purenn.backends import mirrored; mirrored.write()"

tests/test_twins.py fails until then.
"""

import os
import sys
import types
from operator import attrgetter, is_

__all__ = ["USES", "RECORDED", "changed", "fingerprint", "write"]

#: module of a network class -> the purenn modules whose code its fast backends mirror
USES = {"purenn.network": ("elementary", "linalg", "network"),
        "purenn.network2": ("elementary", "linalg", "network", "network2"),
        "purenn.mnist_svm": ("elementary", "linalg", "mnist_svm"),
        "purenn.network3": ("elementary", "linalg", "network", "network2", "network3")}

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_sources = {}  # module -> whether its source file is the recorded one
_sound = {}  # module -> (the objects last found sound, the names found replaced)
_first = {}  # (module, name) -> the first value seen there, for values that are not functions or classes


def changed(net_or_class):
    """What of the reference the fast backends mirror for this network (or
    class) is not as purenn wrote it; [] when all is."""
    cls = net_or_class if isinstance(net_or_class, type) else type(net_or_class)
    book = next((c for c in cls.__mro__ if c.__module__ in USES), None)
    out = []
    for short in (USES[book.__module__] if book is not None else ()):
        if not _source_recorded(short):
            out.append(short + ".py")
        out.extend(_replaced(short))
    if not _pixels_sound():
        out.append("mnist_loader.PIXEL_VALUES")
    return out


def fingerprint(short):
    """SHA-256 (hex, first 16 digits) of the source of purenn.<short>, or None where it cannot be read."""
    import hashlib  # here, not at the top: PyPy's hashlib loads cffi, which `import purenn` never needs
    module = sys.modules["purenn." + short]
    try:
        source = module.__loader__.get_source(module.__name__)
    except (AttributeError, ImportError, OSError):
        source = None
    if source is None:
        return None
    return hashlib.sha256(source.replace("\r\n", "\n").encode("utf-8")).hexdigest()[:16]


def _source_recorded(short):
    if short not in _sources:
        digest = fingerprint(short)
        _sources[short] = digest is None or digest == RECORDED.get(short)
    return _sources[short]


#### What runs: the objects of a mirrored module

def _guarded(short):
    """(name, object) for everything of purenn.<short> the check looks at."""
    module = sys.modules["purenn." + short]
    for name, value in list(vars(module).items()):
        if name.startswith("__") or isinstance(value, types.ModuleType):
            continue
        yield name, value
        if isinstance(value, type) and value.__module__ == module.__name__:
            for attribute, member in list(vars(value).items()):
                if not attribute.startswith("__") or attribute == "__init__":
                    yield name + "." + attribute, member
        elif isinstance(value, (dict, tuple, list)):
            for key, entry in (value.items() if isinstance(value, dict) else enumerate(value)):
                yield "{}[{!r}]".format(name, key), entry


def _objects(short):
    """The objects of _guarded(short), in its order, without their names: the quick look."""
    module = sys.modules["purenn." + short]
    out = []
    for name, value in vars(module).items():
        if name.startswith("__") or isinstance(value, types.ModuleType):
            continue
        out.append(value)
        if isinstance(value, type) and value.__module__ == module.__name__:
            out.extend(member for attribute, member in vars(value).items()
                       if not attribute.startswith("__") or attribute == "__init__")
        elif isinstance(value, dict):
            out.extend(value.values())
        elif isinstance(value, (tuple, list)):
            out.extend(value)
    return out


def _replaced(short):
    objects = _objects(short)
    last = _sound.get(short)
    if last is not None and len(last[0]) == len(objects) and all(map(is_, last[0], objects)):
        return last[1]
    replaced = [short + "." + name for name, value in _guarded(short) if not _original(short, name, value)]
    _sound[short] = (objects, replaced)
    return replaced


def _original(short, name, value):
    """Whether `value`, found at purenn.<short>.<name>, is what purenn put there."""
    in_table = "[" in name
    if in_table and _first.setdefault((short, name), value) is not value:
        return False  # a table's entry is the one first found there
    if isinstance(value, (staticmethod, classmethod)):
        value = value.__func__
    if isinstance(value, property):
        return all(_purenn_function(f) for f in (value.fget, value.fset, value.fdel) if f is not None)
    if isinstance(value, (types.FunctionType, type)):
        return _defined_here(value) and (in_table or value.__name__ == name.rsplit(".", 1)[-1])
    if isinstance(value, tuple) and in_table:  # e.g. ACTIVATIONS' (f, f')
        return all(_defined_here(v) for v in value if isinstance(v, (types.FunctionType, type)))
    if isinstance(value, (dict, tuple, list)):
        return True  # a table: its entries are looked at one by one
    return _first.setdefault((short, name), value) is value


def _defined_here(value):
    """A function or class defined in purenn's own files, not wrapped, and what its module holds under its name."""
    if isinstance(value, types.FunctionType) and not _purenn_function(value):
        return False
    if isinstance(value, type) and not value.__module__.startswith("purenn."):
        return False
    return _defined_as(value)


def _purenn_function(f):
    return (isinstance(f, types.FunctionType) and not hasattr(f, "__wrapped__")
            and os.path.abspath(f.__code__.co_filename).startswith(_PACKAGE + os.sep))


def _defined_as(value):
    """Whether `value` is what its own module holds under its qualified name."""
    try:
        found = attrgetter(value.__qualname__)(sys.modules[value.__module__])
    except (AttributeError, KeyError):
        return False
    return found is value or getattr(found, "__func__", None) is value


_PIXELS = [byte / 256 for byte in range(256)]
_pixels_seen = []


def _pixels_sound():
    """mnist_loader.PIXEL_VALUES is byte / 256, as the C core converts an Image's bytes."""
    loader = sys.modules.get("purenn.mnist_loader")
    if loader is None:  # not imported: there is no Image to convert
        return True
    pixels = loader.PIXEL_VALUES
    if _pixels_seen and _pixels_seen[0] is pixels and all(map(is_, _pixels_seen[1], pixels)):
        return _pixels_seen[2]
    sound = len(pixels) == 256 and all(float(p).hex() == q.hex() for p, q in zip(pixels, _PIXELS))
    _pixels_seen[:] = [pixels, list(pixels), sound]
    return sound


def write():
    """Record the fingerprints of the mirrored modules' sources as they are now, in this file."""
    path = os.path.abspath(__file__)
    text = open(path, encoding="utf-8").read()
    start = text.index(_BLOCK) + 1
    end = text.index("\n}\n", start) + 3
    modules = sorted({short for uses in USES.values() for short in uses})
    for short in modules:
        __import__("purenn." + short)
    lines = ["RECORDED = {"] + ['    "{}": "{}",'.format(short, fingerprint(short)) for short in modules]
    with open(path, "w", encoding="utf-8") as f:
        f.write(text[:start] + "\n".join(lines) + "\n}\n" + text[end:])
    print("recorded the sources of {} in {}".format(", ".join(modules), path))


_BLOCK = "\n" + "RECORDED = {" + "\n"  # where the block begins (spelt so that it does not match itself)

#: The fingerprints of the mirrored modules' sources when the twins last agreed with them (written by write()).
RECORDED = {
    "elementary": "34fd0015c3bb08e4",
    "linalg": "763649b1069b55ac",
    "mnist_svm": "d24e6e5c5b630bca",
    "network": "be53d035b43100c5",
    "network2": "3579026cdf4be487",
    "network3": "97e9a759954f7d4d",
}
