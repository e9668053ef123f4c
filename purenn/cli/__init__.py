"""The command line: `python -m purenn COMMAND ...` (or `purenn COMMAND ...`).

    train          train the chapter-1 network, or network2 with the chapter-3 options  (train.py)
    evaluate       the accuracy of a saved network                                      (commands.py)
    baseline       the book's baselines (darkness, SVM)
    expand         write the expanded training set
    predict        recognise digits in pictures
    show           print test digits in the terminal
    misclassified  draw the test digits a network gets wrong
    backends       list the backends and whether the C core is built
    bench          time an epoch and an evaluation on every backend (and NumPy)         (bench.py)

Errors in the input (a bad option, a missing or damaged data file) are
reported on one line on stderr, with exit status 2; stopping and resuming
`train` is resume.py; what the commands share is options.py.
"""

import argparse
import signal
import sys

from .. import __version__
from ..errors import PurennError
from . import bench, train
from .commands import COMMANDS

__all__ = ["main", "build_parser"]

#: name -> (add the command's parser, run it as run(args, parser, argv))
ALL_COMMANDS = dict([("train", (train.add_parser, train.run))] + list(COMMANDS.items())
                    + [("bench", (bench.add_parser, bench.run))])


def build_parser():
    """(the parser, each command's own parser by name)."""
    parser = argparse.ArgumentParser(
        prog="purenn",
        description="Neural networks from Nielsen's 'Neural Networks and Deep Learning' in plain "
                    "Python, with an optional C core.")
    parser.add_argument("--version", action="version", version="purenn " + __version__)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    return parser, {name: add(commands) for name, (add, _) in ALL_COMMANDS.items()}


def main(argv=None):
    parser, command_parsers = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    try:
        return ALL_COMMANDS[args.command][1](args, command_parsers[args.command], argv)
    except PurennError as e:
        print("purenn: error: {}".format(e), file=sys.stderr)
        return 2
    except MemoryError:
        print("purenn: error: out of memory; try smaller --sizes or fewer images", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        print("\npurenn: interrupted", file=sys.stderr)
        return 128 + getattr(e, "signum", signal.SIGINT)
