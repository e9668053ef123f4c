"""The book's module names -- `import network`, `import mnist_loader`, ... --
as purenn's own modules, for scripts written for the book's src/ folder.

    name                      is                            spelled as in
    ------------------------  ----------------------------  ----------------------------------
    network, network2,        purenn.network, ...           the book's src/ (mnielsen/neural-
    network3, mnist_loader,   (the same module objects)     networks-and-deep-learning)
    expand_mnist,
    mnist_average_darkness,
    mnist_svm
    elements.NAME             purenn.NAME                   MichalDanielDobrzanski/DeepLearningPython
    mnist.NAME                purenn.NAME                   dangbert/DeepLearningPython35

`import network` gives purenn.network itself, not a copy: a script that
replaces network.sigmoid or subclasses network.Network changes what is
trained (and purenn's fast backends step aside for the reference, see
purenn/backends/mirrored.py).  network3 is purenn.network3 when this purenn
has it; until then `import network3` is an ImportError that says so.

Two ways in, one mechanism: the folder `SRC` (purenn/book/src) holds a shim
module per name, each replacing itself in sys.modules with purenn's module.
Put SRC on sys.path (`python -m purenn path` prints it) and Python's usual
order applies -- a network.py beside the script comes first; or call
`install()` (what `python -m purenn run` does), and the book's names are found
in SRC before anything on sys.path.

    >>> import sys, purenn.network, purenn.book
    >>> purenn.book.install()
    >>> import network
    >>> network is purenn.network
    True
    >>> purenn.book.uninstall(); del sys.modules["network"]
"""

import importlib
import importlib.machinery
import os
import sys

__all__ = ["MODULES", "PACKAGES", "NAMES", "SRC", "become", "install", "uninstall"]

#: the book's module name -> purenn's module of that name
MODULES = {name: "purenn." + name for name in (
    "network", "network2", "network3", "mnist_loader", "expand_mnist", "mnist_average_darkness", "mnist_svm")}

#: the packages the book's ports put the modules in (`from elements import network2`)
PACKAGES = ("elements", "mnist")

#: every name a script may import: the modules, the packages and each package's modules
NAMES = frozenset(list(MODULES) + list(PACKAGES) + [p + "." + m for p in PACKAGES for m in MODULES])

#: the folder of shims: one module per name of MODULES and PACKAGES
SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "src")


def become(name):
    """Make the module being imported as `name` (a shim in SRC) purenn's module of that name."""
    if name not in NAMES:  # SRC's shims found under a name that is not the book's: elements.mnist
        raise ModuleNotFoundError("No module named {!r}".format(name), name=name)
    shim = sys.modules[name]
    if name in PACKAGES:  # a package whose modules are SRC's shims, imported as they are asked for
        shim.__path__ = [SRC]
        shim.__getattr__ = lambda attribute: _submodule(name, attribute)
        return
    module = name.rpartition(".")[2]
    try:
        sys.modules[name] = importlib.import_module(MODULES[module])
    except ModuleNotFoundError as e:
        if e.name != MODULES[module]:
            raise
        others = sorted(set(MODULES) - {module})
        raise ImportError("{} is not in this purenn yet (chapter 6's convolutional networks are still to come); "
                          "it has the book's {} and {}".format(name, ", ".join(others[:-1]), others[-1]),
                          name=name) from None


def _submodule(package, attribute):
    """`import elements; elements.network2` (dangbert's mnist/__init__.py imports its modules)."""
    if attribute not in MODULES:
        raise AttributeError("module {!r} has no attribute {!r}".format(package, attribute))
    return importlib.import_module(package + "." + attribute)


class _BookFinder:
    """Finds the book's names in SRC before sys.path is searched (a sys.meta_path finder)."""

    def __init__(self, shadowed):
        self.shadowed = shadowed

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in NAMES:
            return None
        if self.shadowed is not None and "." not in fullname:
            other = importlib.machinery.PathFinder.find_spec(fullname)
            if other is not None:
                where = other.origin if other.has_location else list(other.submodule_search_locations or [""])[0]
                if where and os.path.dirname(os.path.abspath(where)) != SRC:
                    self.shadowed(fullname, where)
        return importlib.machinery.PathFinder.find_spec(fullname, [SRC])


def install(shadowed=None):
    """From now on, the book's names are purenn's modules, whatever sys.path holds.

    shadowed(name, path) is called when a name hides a module that sys.path
    would have found (a network.py beside the script, say)."""
    uninstall()
    sys.meta_path.insert(0, _BookFinder(shadowed))


def uninstall():
    sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, _BookFinder)]
