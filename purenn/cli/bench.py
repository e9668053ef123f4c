"""`python -m purenn bench`: time training and evaluation on every backend.

For each backend it prints the seconds one epoch of SGD takes over the
training images (the book's chapter-1 setting by default: [784, 30, 10],
mini-batch 10, eta 3.0, 50,000 images) and the seconds to evaluate the
10,000 test images.  When NumPy is installed it also times a NumPy version
of the book's network.py algorithm -- per-example backpropagation, as in the
book -- written below, in the same process, and prints every time as a
ratio against it.

Times are CPU seconds of this process (time.process_time), which a busy
machine disturbs less than wall-clock time; the fastest of --epochs epochs is
reported.  Run twice before believing a small difference.
"""

import contextlib
import io
import random
import sys
import time

from ..backends import Examples, available_backends, resolve_backend
from ..network import Network
from .options import add_data_option, add_network_options, backend_list, check_memory, load_data, non_negative_int, positive_int

__all__ = ["add_parser", "run", "run_bench", "NumpyNetwork", "peak_rss_mb"]

_clock = time.process_time


def peak_rss_mb():
    """This process's peak resident memory in MB, or None where it cannot be read.

    Linux's VmHWM is this process's own; getrusage's ru_maxrss (the fallback)
    also counts the parent's peak when the process was started by fork + exec.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


class NumpyNetwork:
    """The book's network.py algorithm in NumPy, for comparison only: column
    vectors, per-example backprop, gradients summed over the mini-batch."""

    def __init__(self, sizes, seed, np):
        self.np = np
        rng = np.random.RandomState(seed)
        self.biases = [rng.randn(y, 1) for y in sizes[1:]]
        self.weights = [rng.randn(y, x) for x, y in zip(sizes[:-1], sizes[1:])]
        self.num_layers = len(sizes)

    def sigmoid(self, z):
        return 1.0 / (1.0 + self.np.exp(-z))

    def sigmoid_prime(self, z):
        return self.sigmoid(z) * (1 - self.sigmoid(z))

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = self.sigmoid(self.np.dot(w, a) + b)
        return a

    def epoch(self, training_data, order, mini_batch_size, eta):
        for k in range(0, len(order), mini_batch_size):
            self.update_mini_batch([training_data[i] for i in order[k:k + mini_batch_size]], eta)

    def update_mini_batch(self, mini_batch, eta):
        np = self.np
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        self.weights = [w - (eta / len(mini_batch)) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(self.biases, nabla_b)]

    def backprop(self, x, y):
        np = self.np
        nabla_b = [None] * len(self.biases)
        nabla_w = [None] * len(self.weights)
        activation = x
        activations = [x]
        zs = []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = self.sigmoid(z)
            activations.append(activation)
        delta = (activations[-1] - y) * self.sigmoid_prime(zs[-1])
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for l in range(2, self.num_layers):
            delta = np.dot(self.weights[-l + 1].transpose(), delta) * self.sigmoid_prime(zs[-l])
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
        return nabla_b, nabla_w

    def evaluate(self, test_data):
        np = self.np
        return sum(int(np.argmax(self.feedforward(x)) == y) for x, y in test_data)


def _time_purenn(backend, sizes, seed, training_data, test_data, epochs, mini_batch_size, eta):
    """Time one backend through SGD itself: the seconds of each epoch's
    training (from the progress calls that open and close it), the seconds
    before the first epoch (handing the data to the backend), and the
    evaluation of the test images once they are packed."""
    net = Network(sizes, seed=seed, backend=backend)
    marks = []

    def progress(done, total):
        if done in (0, total):
            marks.append(_clock())

    started = _clock()
    with contextlib.redirect_stdout(io.StringIO()):
        net.SGD(training_data, epochs, mini_batch_size, eta, progress=progress)
    prepare = marks[0] - started
    epoch_times = [end - begin for begin, end in zip(marks[0::2], marks[1::2])]
    test = Examples(test_data, labelled=True, n_out=sizes[-1])
    started = _clock()
    net.evaluate(test)  # packs the images once, as SGD does with its test data
    prepare += _clock() - started
    started = _clock()
    correct = net.evaluate(test)
    return prepare, epoch_times, _clock() - started, correct


def _time_numpy(np, sizes, seed, training_data, test_data, epochs, mini_batch_size, eta):
    started = _clock()
    train = [(np.array(x).reshape(-1, 1), np.array(y).reshape(-1, 1)) for x, y in training_data]
    test = [(np.array(x).reshape(-1, 1), y) for x, y in test_data]
    prepare = _clock() - started
    net = NumpyNetwork(sizes, seed, np)
    order = list(range(len(train)))
    rng = random.Random(seed)
    epoch_times = []
    for _ in range(epochs):
        rng.shuffle(order)
        started = _clock()
        net.epoch(train, order, mini_batch_size, eta)
        epoch_times.append(_clock() - started)
    started = _clock()
    correct = net.evaluate(test)
    return prepare, epoch_times, _clock() - started, correct


def _ratio(reference, seconds):
    if seconds <= 0.0 or reference <= 0.0:
        return "-"
    if seconds <= reference:
        return "{:.1f}x faster".format(reference / seconds)
    return "{:.1f}x slower".format(seconds / reference)


def run_bench(training_data, test_data, sizes=(784, 30, 10), epochs=1, mini_batch_size=10, eta=3.0,
              backends=None, numpy=True, seed=0, load_seconds=None, out=None):
    """Time each backend (and NumPy) on the data; print a table to `out`; return the rows."""
    out = out or sys.stdout
    say = lambda text="": print(text, file=out, flush=True)  # noqa: E731
    backends = list(backends or [name for name in available_backends() if name != "reference"])
    rss = peak_rss_mb()
    say("purenn bench: network {}, mini-batch {}, eta {}, {} training and {} test images, {} epoch(s)".format(
        list(sizes), mini_batch_size, eta, len(training_data), len(test_data), epochs))
    say("python {} ({}), {}".format(sys.version.split()[0], sys.implementation.name, sys.platform))
    if load_seconds is not None:
        say("loading the data: {:.2f} s{}".format(load_seconds, ", peak RSS {:.0f} MB".format(rss) if rss else ""))

    rows = []
    for backend in backends:
        say("timing {} ...".format(backend))
        prepare, epoch_times, evaluate, correct = _time_purenn(
            backend, list(sizes), seed, training_data, test_data, epochs, mini_batch_size, eta)
        rows.append((backend, prepare, epoch_times, evaluate, correct))
    if numpy:
        try:
            import numpy as np
        except ImportError:
            say("numpy: not installed, no comparison")
        else:
            say("timing numpy {} (the book's algorithm) ...".format(np.__version__))
            prepare, epoch_times, evaluate, correct = _time_numpy(
                np, list(sizes), seed, training_data, test_data, epochs, mini_batch_size, eta)
            rows.append(("numpy", prepare, epoch_times, evaluate, correct))

    reference = dict((row[0], row) for row in rows).get("numpy")
    say()
    say("{:<8} {:>10} {:>12} {:>12} {:>10} {:>12}  {}".format(
        "backend", "s/epoch", "examples/s", "evaluate s", "prepare s", "accuracy", "vs numpy (epoch, evaluate)"))
    for name, prepare, epoch_times, evaluate, correct in rows:
        epoch = min(epoch_times)
        ratio = ""
        if reference is not None and name != "numpy":
            ratio = "{}, {}".format(_ratio(min(reference[2]), epoch), _ratio(reference[3], evaluate))
        say("{:<8} {:>10.3f} {:>12,.0f} {:>12.4f} {:>10.2f} {:>11.2f}%  {}".format(
            name, epoch, len(training_data) / epoch, evaluate, prepare,
            100.0 * correct / max(1, len(test_data)), ratio))
    by_name = dict((row[0], row) for row in rows)
    for fast, slow in (("c", "python"), ("c", "reference"), ("python", "reference")):
        if fast in by_name and slow in by_name:
            say("{} is {:.1f}x faster per epoch than {}".format(
                fast, min(by_name[slow][2]) / min(by_name[fast][2]), slow))
    say("s/epoch is the fastest of {} epoch(s), CPU seconds; 'prepare' is SGD's set-up before the first "
        "epoch (checking the data, handing it to the backend) and packing the test images".format(epochs))
    return rows


def add_parser(commands):
    bench = commands.add_parser(
        "bench", help="time training and evaluation on every backend",
        description="Time one epoch of SGD and the evaluation of the test images on every "
                    "available backend and, when NumPy is installed, on a NumPy version of the "
                    "book's network.py written in the benchmark; print the ratios.")
    add_network_options(bench, epochs=1, epochs_help="epochs to time; the fastest is reported")
    bench.add_argument("--train-limit", type=positive_int, default=50000, metavar="N",
                       help="training images per epoch (default 50000, all)")
    bench.add_argument("--test-limit", type=positive_int, default=10000, metavar="N",
                       help="test images to evaluate (default 10000, all)")
    bench.add_argument("--backends", type=backend_list, default=None, metavar="NAME,...",
                       help="backends to time: c, python, reference (default: c and python, "
                            "those that are built)")
    bench.add_argument("--no-numpy", action="store_true", help="skip the NumPy comparison")
    bench.add_argument("--seed", type=non_negative_int, default=0, metavar="N",
                       help="seed for the initial weights and shuffles (default 0)")
    bench.add_argument("--elementary", action="store_true",
                       help="instead: time purenn's own exp, log, tanh, sin and cos against the "
                            "platform's (math, and the C library's in C)")
    add_data_option(bench)
    return bench


def run(args, parser, argv):
    if args.elementary:
        from .benchelem import run_elementary_bench
        run_elementary_bench(repeats=args.epochs, seed=args.seed)
        return 0
    names = args.backends or []
    for name in names:
        resolve_backend(name)  # unknown or unbuilt: the usual one-line error
    check_memory(args.sizes, parser)
    _, training_data, _, test_data, seconds = load_data(vars(args), parser)
    run_bench(training_data, test_data, sizes=args.sizes, epochs=args.epochs, mini_batch_size=args.batch_size,
              eta=args.eta, backends=names or None, numpy=not args.no_numpy, seed=args.seed,
              load_seconds=seconds)
    return 0
