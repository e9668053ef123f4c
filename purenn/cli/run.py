"""run: a script written for the book's src/ folder, on purenn; path: the folder of the book's names.

`python -m purenn run SCRIPT.py [ARGS...]` runs SCRIPT as `python SCRIPT.py
[ARGS...]` would -- as __main__, with sys.argv = [SCRIPT] + ARGS and the
script's folder first on sys.path -- except that the book's module names
(network, network2, network3, mnist_loader, expand_mnist,
mnist_average_darkness, mnist_svm; elements.NAME and mnist.NAME as the ports
spell them) are purenn's modules (purenn/book/__init__.py), even where a file
of that name lies beside the script: that is the book's NumPy code, and
running purenn's in its place is what `run` is for.  Such a file is named in
a warning on stderr.

What follows is the script's own: its output, its exit status (sys.exit), an
uncaught exception's traceback (from the script's first frame: purenn's
frames above it are dropped) and status 1.  purenn's errors raised
in the script are tracebacks too, not the one-line messages of the other
commands.  Ctrl-C is the script's KeyboardInterrupt: its traceback, then
status 130 (a normal exit, so the script's atexit handlers run; `python
SCRIPT` ends by the signal itself, which a shell also shows as 130).  Only
a SCRIPT that cannot be read is purenn's: one line, status 2.
"""

import argparse
import builtins
import importlib.machinery
import io
import os
import stat
import sys
import traceback
import types

from .. import book

__all__ = ["add_parser", "run", "add_path_parser", "path"]

_DESCRIPTION = """\
Run SCRIPT as python would, with the book's modules -- network, network2, network3,
mnist_loader, expand_mnist, mnist_average_darkness, mnist_svm, also as elements.NAME and
mnist.NAME -- being purenn's own. The script's output, exceptions and exit status are its own."""

_EPILOG = """\
A file such as network.py beside the script is not used (a warning names it): to run the
script with your own network.py, put purenn's folder of the book's names after it on the
path instead, where Python's usual order applies:
  PYTHONPATH="$(python -m purenn path)" python SCRIPT.py"""


def add_parser(commands):
    command = commands.add_parser(
        "run", help="run a script written for the book's code (import network, mnist_loader, ...) on purenn",
        description=_DESCRIPTION, epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    command.add_argument("script", metavar="SCRIPT", nargs="?", help="the Python script to run")
    command.add_argument("args", nargs="...", metavar="ARGS", help="the script's arguments (its sys.argv[1:])")
    return command


def add_path_parser(commands):
    return commands.add_parser(
        "path", help="print the folder that makes the book's module names purenn's, for PYTHONPATH",
        description="Print the folder of modules named as the book's (network.py, mnist_loader.py, ...), "
                    "each of which is purenn's module of that name: put it on sys.path in place of the "
                    "book's src/, e.g. PYTHONPATH=\"$(python -m purenn path)\" python SCRIPT.py")


def path(args, parser, argv):
    print(book.SRC)
    return 0


def run(args, parser, argv):
    """The script's exit status; SystemExit raised in the script goes on up, as in python."""
    script = args.script
    if script is None:
        parser.error("give the script to run: purenn run SCRIPT.py [ARGS...]")
    problem = _unreadable(script)
    if problem is not None:
        print("purenn run: error: {}: {}".format(script, problem), file=sys.stderr)
        return 2
    # as python names the script in __file__ and tracebacks: absolute from Python 3.9 on
    filename = os.path.abspath(script) if sys.version_info >= (3, 9) else script
    sys.argv = argv[argv.index(script, 1):]  # as given: argparse's args.args would have lost a "--" in them
    if not getattr(sys.flags, "safe_path", False):  # python -P puts no script folder on the path
        sys.path[0] = os.path.dirname(os.path.realpath(script))
    book.install(shadowed=_warn_shadowed)
    try:
        _run_as_main(filename)
    except SystemExit:
        raise
    except KeyboardInterrupt as e:
        _print_uncaught(e, filename)
        return 130
    except BaseException as e:  # noqa: B902 -- any exception the script lets go, as python reports it
        _print_uncaught(e, filename)
        return 1
    return 0


def _run_as_main(filename):
    """As python runs a script: compiled from its bytes (a coding line obeyed), run in a new __main__."""
    with io.open_code(filename) as f:
        source = f.read()
    main = types.ModuleType("__main__")
    main.__file__, main.__cached__, main.__builtins__ = filename, None, builtins
    main.__loader__ = importlib.machinery.SourceFileLoader("__main__", filename)
    sys.modules["__main__"] = main
    exec(compile(source, filename, "exec", dont_inherit=True), vars(main))


def _unreadable(script):
    """Why SCRIPT cannot be run, or None."""
    try:
        if not stat.S_ISREG(os.stat(script).st_mode):
            return "not a regular file" if not os.path.isdir(script) else "is a directory; give a script"
        with open(script, "rb"):
            return None
    except OSError as e:
        return e.strerror or str(e)


def _warn_shadowed(name, where):
    print("purenn run: warning: {} is not used: `import {}` is purenn's (purenn run --help says how to use "
          "your own)".format(where, name), file=sys.stderr, flush=True)


def _print_uncaught(error, filename):
    """Report an exception as python does for a script: sys.excepthook, from the script's first frame."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next  # purenn's frames; none are left for a SyntaxError in the script
    error.__traceback__ = tb
    try:
        sys.excepthook(type(error), error, tb)
    except BaseException as hook_error:  # noqa: B902 -- as python does when the script's hook fails
        print("Error in sys.excepthook:", file=sys.stderr)
        traceback.print_exception(type(hook_error), hook_error, hook_error.__traceback__)
        print("\nOriginal exception was:", file=sys.stderr)
        traceback.print_exception(type(error), error, tb)

