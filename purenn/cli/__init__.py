"""The command line: `python -m purenn COMMAND ...` (or `purenn COMMAND ...`).

    train          train the chapter-1 network, or network2 with the chapter-3 options  (train.py)
    train3         train the chapter-6 network (network3) of any architecture (--layers) (train3.py)
    chapter6       one of the book's chapter-6 runs by name                             (train3.py)
    ensemble       the plurality vote of saved networks                                 (ensemble.py)
    evaluate       the accuracy of a saved network                                      (commands.py)
    baseline       the book's baselines (darkness, SVM)
    expand         write the expanded training set
    predict        recognise digits in pictures
    show           print test digits in the terminal
    misclassified  draw the test digits a network gets wrong
    backends       list the backends and whether the C core is built
    bench          time an epoch and an evaluation on every backend (and NumPy)         (bench.py)
    bench3         time the book's conv nets: reference, C core, PyTorch                (bench3.py)
    run            run a script written for the book's src/ folder, on purenn           (run.py)
    path           print the folder that makes the book's module names purenn's
    explain        backpropagation for one example, equation by equation                (explain.py)
    serve          the page in the browser: draw, inside, mistakes, learn               (serve.py)
    figure         redraw one of the book's figures as SVG, its numbers as JSON         (figure.py)
    export         a saved network for MicroPython: model.bin and purenn_micro.py       (export.py)

Errors in the input (a bad option, a missing or damaged data file) are
reported on one line on stderr, with exit status 2 -- except in `run`, whose
script's exceptions and exit status are the script's own; stopping and
resuming `train` is resume.py; what the commands share is options.py.
"""

import os
import signal
import sys

from .. import __version__
from ..errors import PurennError
from . import bench, bench3, ensemble, explain, export, figure, run, serve, train, train3
from .commands import COMMANDS
from .options import Parser

__all__ = ["main", "build_parser"]

#: name -> (add the command's parser, run it as run(args, parser, argv))
ALL_COMMANDS = dict([("train", (train.add_parser, train.run)), ("train3", (train3.add_train3, train3.train3)),
                     ("chapter6", (train3.add_chapter6, train3.chapter6)),
                     ("ensemble", (ensemble.add_parser, ensemble.run))] + list(COMMANDS.items())
                    + [("bench", (bench.add_parser, bench.run)), ("bench3", (bench3.add_parser, bench3.run)),
                       ("run", (run.add_parser, run.run)),
                       ("path", (run.add_path_parser, run.path)), ("explain", (explain.add_parser, explain.run)),
                       ("serve", (serve.add_parser, serve.run)), ("figure", (figure.add_parser, figure.run)),
                       ("export", (export.add_parser, export.run))])


def build_parser():
    """(the parser, each command's own parser by name)."""
    parser = Parser(
        prog="purenn",
        description="Neural networks from Nielsen's 'Neural Networks and Deep Learning' in plain "
                    "Python, with an optional C core.")
    parser.add_argument("--version", action="version", version="purenn " + __version__)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    return parser, {name: add(commands) for name, (add, _) in ALL_COMMANDS.items()}


def main(argv=None):
    errors = sys.stderr = _Output(sys.stderr)  # a hung-up terminal (EIO) cannot stop a command
    try:
        return _main(argv)
    except KeyboardInterrupt:  # while the parser is built or reads the arguments
        print("\npurenn: interrupted", file=sys.stderr)
        return 130
    finally:
        sys.stderr = errors.stream


def _main(argv):
    parser, command_parsers = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    if args.command == "run":  # the script's streams, exceptions and exit status are its own
        if isinstance(sys.stderr, _Output):
            sys.stderr = sys.stderr.stream  # main's guard, put back in main's finally
        return run.run(args, command_parsers["run"], argv)
    output = sys.stdout = _Output(sys.stdout)
    try:
        status = _run(args, command_parsers[args.command], argv)
    finally:
        sys.stdout = output.stream
    if output.failed is not None and status == 0:
        print("purenn: error: standard output: {}; what was left to print was dropped (every file was "
              "written)".format(output.failed.strerror or output.failed), file=sys.stderr)
        return 2
    return status


def _run(args, parser, argv):
    """The command's exit status; one line on stderr for what went wrong."""
    try:
        return ALL_COMMANDS[args.command][1](args, parser, argv)
    except PurennError as e:
        print("purenn: error: {}".format(e), file=sys.stderr)
    except MemoryError:
        print("purenn: error: out of memory; try smaller --sizes or fewer images", file=sys.stderr)
    except OSError as e:  # a full disk, a directory removed, no permission: the file and the reason
        where = "{}: ".format(e.filename) if e.filename is not None else ""
        print("purenn: error: {}{}".format(where, e.strerror or e), file=sys.stderr)
    except KeyboardInterrupt as e:
        print("\npurenn: interrupted", file=sys.stderr)
        return 128 + getattr(e, "signum", signal.SIGINT)
    return 2


class _Output:
    """Standard output (or error) that a closed pipe (`| head`), a full disk
    (`> /dev/full`) or a terminal that has hung up cannot stop: the first
    failure is remembered, everything after it is dropped, and the command
    goes on to write its files."""

    def __init__(self, stream):
        self.stream, self.failed = stream, None

    def write(self, text):
        if self.failed is None:
            try:
                return self.stream.write(text)
            except OSError as e:
                self._fail(e)
        return len(text)

    def flush(self):
        if self.failed is None:
            try:
                self.stream.flush()
            except OSError as e:
                self._fail(e)

    def _fail(self, error):
        self.failed = error
        try:  # the interpreter flushes stdout as it exits: let that go nowhere
            os.dup2(os.open(os.devnull, os.O_WRONLY), self.stream.fileno())
        except (OSError, ValueError, AttributeError):
            pass

    def __getattr__(self, name):
        return getattr(self.stream, name)
