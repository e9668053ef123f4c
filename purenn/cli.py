"""The command line: `python -m purenn COMMAND ...` (or `purenn COMMAND ...`).

    train      train the chapter-1 network on MNIST (or any data in its format)
    bench      time an epoch and an evaluation on every backend (and NumPy)
    backends   list the backends and whether the C core is built

Errors in the input (a bad option, a missing or damaged data file) are
reported on one line on stderr, with exit status 2.
"""

import argparse
import math
import random
import sys
import time

from . import __version__
from .backends import BACKENDS, available_backends, core_status, resolve_backend
from .errors import PurennError

__all__ = ["main"]


#### Option types: each turns a string into a value or says what is wrong

def _sizes(text):
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            "{!r} is not a comma-separated list of whole numbers, e.g. 784,30,10".format(text)) from None
    if len(sizes) < 2:
        raise argparse.ArgumentTypeError(
            "{!r} has {} layer; give at least an input and an output layer, e.g. 784,30,10".format(
                text, len(sizes)))
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError("{!r}: every layer needs at least one neuron".format(text))
    return sizes


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("{!r} is not a whole number".format(text)) from None
    if value < 1:
        raise argparse.ArgumentTypeError("{} is not positive; give 1 or more".format(value))
    return value


def _non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("{!r} is not a whole number".format(text)) from None
    if value < 0:
        raise argparse.ArgumentTypeError("{} is negative; give 0 or more".format(value))
    return value


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("{!r} is not a number".format(text)) from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError("{} is not a positive finite number".format(text))
    return value


def _backend(text):
    if text.lower() not in BACKENDS + ("auto",):
        raise argparse.ArgumentTypeError("{!r} is not a backend; choose auto, python or c".format(text))
    return text.lower()


#### Commands

def _train(args, parser):
    from .network import Network
    from .progress import Progress

    backend = resolve_backend(args.backend)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2 ** 32)
    data_dir, training_data, test_data, load_seconds = _load(args, parser)

    net = Network(args.sizes, seed=seed, backend=backend)
    _say("purenn {}: network {}, backend {} ({})".format(
        __version__, args.sizes, backend, _backend_detail(backend)))
    _say("data {} (loaded in {:.2f} s): training on {}, testing on {}".format(
        data_dir, load_seconds, len(training_data), len(test_data)))
    _say("epochs {}, mini-batch size {}, eta {}, seed {}".format(
        args.epochs, args.batch_size, args.eta, seed))
    progress = None if args.quiet else Progress(sys.stderr)
    started = time.perf_counter()
    results = net.SGD(training_data, args.epochs, args.batch_size, args.eta,
                      test_data=test_data, progress=progress)
    seconds = time.perf_counter() - started
    if results:
        best = max(range(len(results)), key=lambda j: (results[j], -j))
        _say("best: epoch {}, {} / {} ({:.2f}%); {:.1f} s for {} epochs".format(
            best, results[best], len(test_data), 100.0 * results[best] / len(test_data),
            seconds, args.epochs))
    return 0


def _load(args, parser):
    """(data_dir, training_data, test_data, seconds) for --data, --train-limit,
    --test-limit, checked against --sizes."""
    from .mnist_loader import find_data_dir, load_data_wrapper

    data_dir = find_data_dir(args.data)
    started = time.perf_counter()
    training_data, _, test_data = load_data_wrapper(data_dir)
    seconds = time.perf_counter() - started
    training_data = training_data[:args.train_limit]
    test_data = test_data[:args.test_limit]
    if not training_data:
        parser.error("the data in {} has no training images".format(data_dir))
    n_in, n_out = len(training_data[0][0]), len(training_data[0][1])
    if args.sizes[0] != n_in:
        parser.error("argument --sizes: the input layer has {} neurons but the images in {} have {} "
                     "pixels; start --sizes with {}".format(args.sizes[0], data_dir, n_in, n_in))
    if args.sizes[-1] < n_out:
        parser.error("argument --sizes: the output layer has {} neurons, fewer than the {} classes; "
                     "end --sizes with {}".format(args.sizes[-1], n_out, n_out))
    if args.sizes[-1] > n_out:
        pad = [0.0] * (args.sizes[-1] - n_out)  # extra outputs are taught to stay at 0
        training_data = [(x, y + pad) for x, y in training_data]
    return data_dir, training_data, test_data, seconds


def _say(text):
    print(text, flush=True)


def _backend_detail(backend):
    if backend == "c":
        return core_status()[1]
    return "pure Python reference"


def _bench(args, parser):
    from .bench import run_bench

    names = args.backends or []
    for name in names:
        resolve_backend(name)  # unknown or unbuilt: the usual one-line error
    data_dir, training_data, test_data, seconds = _load(args, parser)
    run_bench(training_data, test_data, sizes=args.sizes, epochs=args.epochs, mini_batch_size=args.batch_size,
              eta=args.eta, backends=names or None, numpy=not args.no_numpy, seed=args.seed,
              load_seconds=seconds)
    return 0


def _backend_list(text):
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    for name in names:
        if name not in BACKENDS:
            raise argparse.ArgumentTypeError("{!r} is not a backend; choose from python, c".format(name))
    return names


def _backends(args, parser):
    built, detail = core_status()
    for name in available_backends():
        print("{:8} {}".format(name, detail if name == "c" else "pure Python reference"))
    if not built:
        print("(c: not built -- {})".format(detail))
    print("auto = {}".format(resolve_backend("auto")))
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="purenn",
        description="Neural networks from Nielsen's 'Neural Networks and Deep Learning' in plain "
                    "Python, with an optional C core.")
    parser.add_argument("--version", action="version", version="purenn " + __version__)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    train = commands.add_parser(
        "train", help="train the chapter-1 network on MNIST",
        description="Train the book's chapter-1 network (sigmoid neurons, quadratic cost, "
                    "mini-batch SGD) and print the test accuracy after each epoch. The defaults "
                    "are the book's experiment; it reaches about 95%% accuracy.")
    train.add_argument("--sizes", type=_sizes, default=[784, 30, 10], metavar="N,N,...",
                       help="neurons per layer, input first (default 784,30,10)")
    train.add_argument("--epochs", type=_positive_int, default=30, metavar="N",
                       help="passes over the training data (default 30)")
    train.add_argument("--batch-size", type=_positive_int, default=10, metavar="N",
                       help="examples per mini-batch (default 10)")
    train.add_argument("--eta", type=_positive_float, default=3.0, metavar="X",
                       help="learning rate (default 3.0)")
    train.add_argument("--data", metavar="DIR", default=None,
                       help="directory with the four MNIST-format files, each plain or .gz "
                            "(default: $PURENN_DATA, else the MNIST bundled with purenn)")
    train.add_argument("--seed", type=_non_negative_int, default=None, metavar="N",
                       help="seed for the initial weights and the shuffles; the same seed gives "
                            "the same run (default: a random seed, printed)")
    train.add_argument("--train-limit", type=_positive_int, default=None, metavar="N",
                       help="train on only the first N training images")
    train.add_argument("--test-limit", type=_positive_int, default=None, metavar="N",
                       help="test on only the first N test images")
    train.add_argument("--backend", type=_backend, default=None, metavar="NAME",
                       help="auto, python or c (default: $PURENN_BACKEND, else auto: the C core "
                            "when it is built)")
    train.add_argument("--quiet", action="store_true",
                       help="no progress line on stderr")
    train.set_defaults(run=_train, parser=train)

    bench = commands.add_parser(
        "bench", help="time training and evaluation on every backend",
        description="Time one epoch of SGD and the evaluation of the test images on every "
                    "available backend and, when NumPy is installed, on a NumPy version of the "
                    "book's network.py written in the benchmark; print the ratios.")
    bench.add_argument("--sizes", type=_sizes, default=[784, 30, 10], metavar="N,N,...",
                       help="neurons per layer (default 784,30,10)")
    bench.add_argument("--epochs", type=_positive_int, default=1, metavar="N",
                       help="epochs to time; the fastest is reported (default 1)")
    bench.add_argument("--batch-size", type=_positive_int, default=10, metavar="N",
                       help="examples per mini-batch (default 10)")
    bench.add_argument("--eta", type=_positive_float, default=3.0, metavar="X",
                       help="learning rate (default 3.0)")
    bench.add_argument("--train-limit", type=_positive_int, default=50000, metavar="N",
                       help="training images per epoch (default 50000, all)")
    bench.add_argument("--test-limit", type=_positive_int, default=10000, metavar="N",
                       help="test images to evaluate (default 10000, all)")
    bench.add_argument("--backends", type=_backend_list, default=None, metavar="NAME,...",
                       help="backends to time (default: every available one)")
    bench.add_argument("--no-numpy", action="store_true", help="skip the NumPy comparison")
    bench.add_argument("--seed", type=_non_negative_int, default=0, metavar="N",
                       help="seed for the initial weights and shuffles (default 0)")
    bench.add_argument("--data", metavar="DIR", default=None,
                       help="directory with the MNIST-format files (default: the bundled MNIST)")
    bench.set_defaults(run=_bench, parser=bench)

    backends = commands.add_parser("backends", help="list the backends that can run here",
                                   description="List the backends and whether the C core is built.")
    backends.set_defaults(run=_backends, parser=backends)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args, args.parser)
    except PurennError as e:
        print("purenn: error: {}".format(e), file=sys.stderr)
        return 2
    except MemoryError:
        print("purenn: error: out of memory; try smaller --sizes or fewer images", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\npurenn: interrupted", file=sys.stderr)
        return 130
