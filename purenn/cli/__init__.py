"""The command line: `python -m purenn COMMAND ...` (or `purenn COMMAND ...`).

    train      train the chapter-1 network, or network2 with the chapter-3 options
    evaluate   the accuracy of a saved network
    baseline   the book's baselines (darkness)
    expand     write the expanded training set
    predict    recognise digits in pictures
    show       print test digits in the terminal
    misclassified  draw the test digits a network gets wrong
    bench      time an epoch and an evaluation on every backend (and NumPy)
    backends   list the backends and whether the C core is built

Errors in the input (a bad option, a missing or damaged data file) are
reported on one line on stderr, with exit status 2.
"""

import argparse
import math
import os
import random
import shlex
import signal
import sys
import tempfile
import threading
import time
from array import array

from .. import __version__
from ..backends import BACKENDS, available_backends, core_status, resolve_backend
from ..training.checks import is_finite_number
from ..errors import ArgumentError, ModelFileError, PurennError, TrainingInterrupted

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


def _whole_number(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("{!r} is not a whole number".format(text)) from None


def _number(text, expected):
    """float(text); "TEXT is not EXPECTED" if it is not a number or not finite."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("{!r} is not a number".format(text)) from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError("{} is not {}".format(text, expected))
    return value


def _positive_int(text):
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError("{} is not positive; give 1 or more".format(value))
    return value


def _non_negative_int(text):
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError("{} is negative; give 0 or more".format(value))
    return value


def _positive_float(text):
    value = _number(text, "a positive finite number")
    if value <= 0:
        raise argparse.ArgumentTypeError("{} is not a positive finite number".format(text))
    return value


def _non_negative_float(text):
    value = _number(text, "a finite number of 0 or more")
    if value < 0:
        raise argparse.ArgumentTypeError("{} is not a finite number of 0 or more".format(text))
    return value


def _probability(text):
    value = _non_negative_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError("{} is not below 1".format(text))
    return value


def _backend(text):
    if text.lower() not in BACKENDS + ("auto",):
        raise argparse.ArgumentTypeError("{!r} is not a backend; choose auto, c, python or reference".format(text))
    return text.lower()


#### Commands

# Options that ask for network2 (chapter 3) rather than the chapter-1 network.
_NETWORK2_OPTIONS = ("cost", "activation", "lmbda", "l1", "init", "dropout", "momentum", "schedule",
                     "early_stopping", "monitor", "monitor_training_cost", "monitor_training_accuracy",
                     "monitor_evaluation_cost", "monitor_evaluation_accuracy", "plot", "validation")
def _asks_for_network2(options):
    """Whether these options (a dict by name) train network2 rather than the chapter-1 network."""
    return any(options[name] not in (None, False) for name in _NETWORK2_OPTIONS)


_COSTS = {"quadratic": "QuadraticCost", "cross-entropy": "CrossEntropyCost",
          "log-likelihood": "LogLikelihoodCost"}


def _train(args, parser):
    from ..training.progress import Progress

    backend = resolve_backend(args.backend)
    resumed = _resume(args, parser, backend) if args.resume else None
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2 ** 32)
    args.seed = seed
    if resumed is not None:
        chapter3 = resumed.state["kind"] == "network2"
        if args.plot and not chapter3:
            parser.error("argument --plot: {} is a run of the chapter-1 network, which has no curves to "
                         "plot".format(args.resume))
    else:
        chapter3 = _asks_for_network2(vars(args))
    _check_memory(args.sizes, parser)
    data_dir, training_data, validation_data, test_data, load_seconds = _load(args, parser)
    datasets = (training_data, validation_data, test_data)
    if resumed is not None and _fingerprint(*datasets) != resumed.command["data_sha256"]:
        raise ModelFileError(args.resume, "the images in {} are not the ones this run started with; "
                                          "give the run's data with --data".format(data_dir))
    for path, option in ((args.save, "--save"), (args.plot, "--plot"), (args.checkpoint, "--checkpoint")):
        if path:
            _check_writable(path, option, parser)
    progress = None if args.quiet else Progress(sys.stderr)
    if progress is not None and resumed is not None:
        progress.epoch = resumed.state["epoch"]
    with _StopSignals() as stop:
        try:
            if chapter3:
                net, results, seconds = _train_network2(args, seed, backend, data_dir, training_data,
                                                        validation_data, test_data, load_seconds, progress, stop,
                                                        resumed)
            else:
                net = _train_chapter1(args, seed, backend, data_dir, training_data, test_data, load_seconds,
                                      progress, stop, resumed)
        except TrainingInterrupted as e:
            if progress is not None:
                progress.clear()
            return _stopped(args, e, stop.signum, data_dir, datasets)
        # A signal from here on comes too late to stop training: the network is saved all the same.
        if stop.signum is not None:
            print("purenn: {} came after the last epoch; finishing".format(signal.Signals(stop.signum).name),
                  file=sys.stderr)
        if args.save:
            from ..files.modelfile import save_network
            save_network(net, args.save)
            _say("saved the network to {}".format(args.save))
    if resumed is not None:
        _say("the run is complete; the checkpoint {} is no longer needed".format(args.resume))
    return 0


def _train_chapter1(args, seed, backend, data_dir, training_data, test_data, load_seconds, progress, stop, resumed):
    from ..network import Network

    net = resumed.net if resumed is not None else Network(args.sizes, seed=seed, backend=backend)
    _say("purenn {}: the chapter-1 network {}, backend {} ({})".format(
        __version__, args.sizes, backend, _backend_detail(backend)))
    _say("data {} (loaded in {:.2f} s): training on {}, testing on {}".format(
        data_dir, load_seconds, len(training_data), len(test_data)))
    _say("epochs {}, mini-batch size {}, eta {}, seed {}".format(args.epochs, args.batch_size, args.eta, seed))
    _say_resuming(args, resumed, len(training_data))
    args.records = []
    started = time.perf_counter()
    results = net.SGD(training_data, args.epochs, args.batch_size, args.eta, test_data=test_data,
                      progress=progress, stop=stop, resume=resumed.state if resumed is not None else None)
    seconds = time.perf_counter() - started
    if results:
        best = max(range(len(results)), key=lambda j: (results[j], -j))
        _say("best: epoch {}, {} / {} ({:.2f}%); {:.1f} s {}".format(
            best, results[best], len(test_data), 100.0 * results[best] / len(test_data), seconds,
            "for {} epochs".format(args.epochs) if resumed is None else "since resuming"))
    return net


def _train_network2(args, seed, backend, data_dir, training_data, validation_data, test_data,
                    load_seconds, progress, stop=None, resumed=None):
    from .. import network2
    from ..files.plot import write_svg

    cost = getattr(network2, _COSTS[args.cost or "cross-entropy"])
    if resumed is not None:
        net = resumed.net
        cost = net.cost
    else:
        net = network2.Network(args.sizes, cost, activation=args.activation or "sigmoid",
                               dropout=args.dropout or 0.0, seed=seed, backend=backend)
        if args.init == "large":
            net.large_weight_initializer()
    monitors = _monitors(args)
    evaluation_name = "validation" if args.validation else "test"
    evaluation_data = validation_data if args.validation else test_data
    if (monitors["evaluation_cost"] or monitors["evaluation_accuracy"]) and not evaluation_data:
        raise ArgumentError("the {} data is empty: nothing to evaluate on".format(evaluation_name))
    _say("purenn {}: network2 {}, {}, {} hidden neurons, backend {} ({})".format(
        __version__, args.sizes, cost.__name__, net.activation, backend, _backend_detail(backend)))
    _say("data {} (loaded in {:.2f} s): training on {}, evaluating on {} {} images".format(
        data_dir, load_seconds, len(training_data), len(evaluation_data), evaluation_name))
    _say("epochs {}, mini-batch size {}, eta {}, lmbda {}, l1 {}, momentum {}, dropout {}, init {}, "
         "schedule {}, early stopping {}, seed {}".format(
             args.epochs, args.batch_size, args.eta, args.lmbda or 0.0, args.l1 or 0.0, args.momentum or 0.0,
             args.dropout or 0.0, args.init or "default", args.schedule or "off", args.early_stopping or "off",
             seed))
    columns = [("epoch", 5, "epoch", "{:d}"), ("eta", 9, "eta", "{:.4g}")]
    for name, title, form in (("training_cost", "train cost", "{:.4f}"),
                              ("training_accuracy", "train acc", "{:.2%}"),
                              ("evaluation_cost", evaluation_name[:4] + " cost", "{:.4f}"),
                              ("evaluation_accuracy", evaluation_name[:4] + " acc", "{:.2%}")):
        if monitors[name]:
            columns.append((name, 10, title, form))
    columns.append(("seconds", 7, "s", "{:.2f}"))
    _say_resuming(args, resumed, len(training_data))
    _say("  ".join(title.rjust(width) for _, width, title, _ in columns))
    records = args.records = list(resumed.command["records"]) if resumed is not None else []

    def row(record):
        records.append(record)
        _say("  ".join(form.format(record[key]).rjust(width) for key, width, _, form in columns))

    started = time.perf_counter()
    net.SGD(training_data, args.epochs, args.batch_size, args.eta, lmbda=args.lmbda or 0.0,
            evaluation_data=evaluation_data,
            monitor_evaluation_cost=monitors["evaluation_cost"],
            monitor_evaluation_accuracy=monitors["evaluation_accuracy"],
            monitor_training_cost=monitors["training_cost"],
            monitor_training_accuracy=monitors["training_accuracy"],
            early_stopping_n=args.early_stopping or 0, l1=args.l1 or 0.0, momentum=args.momentum or 0.0,
            schedule=args.schedule or 0, progress=progress, on_epoch=row, verbose=False, stop=stop,
            resume=resumed.state if resumed is not None else None)
    seconds = time.perf_counter() - started
    if len(records) < args.epochs:
        _say("stopped after {} of {} epochs ({})".format(
            len(records), args.epochs, "early stopping" if args.early_stopping else "the learning-rate schedule"))
    if monitors["evaluation_accuracy"] and records:
        best = max(records, key=lambda r: (r["evaluation_accuracy"], -r["epoch"]))
        _say("best {} accuracy: {:.2%} at epoch {}; final {:.2%}; {:.1f} s".format(
            evaluation_name, best["evaluation_accuracy"], best["epoch"], records[-1]["evaluation_accuracy"],
            seconds))
    if args.plot:
        write_svg(args.plot, records, title="{} {} on {} images, eta {}, lmbda {}".format(
            cost.__name__, args.sizes, len(training_data), args.eta, args.lmbda or 0.0))
        _say("plotted the curves to {}".format(args.plot))
    return net, records, seconds


# A weight held as a float in a Python list: the float object and the list's pointer to it.
_BYTES_PER_PARAMETER = 32


def _check_memory(sizes, parser):
    """Refuse --sizes whose weights alone would not fit in the memory there is,
    before trying (and being killed by the system, rather than told why)."""
    count = 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        count += n_in * n_out + n_out
    available = _available_memory()
    if available is not None and count * _BYTES_PER_PARAMETER > available:
        parser.error("argument --sizes: {:,} weights and biases need at least {:,.1f} GB, more than the {:,.1f} GB "
                     "of memory available; give smaller layers".format(
                         count, count * _BYTES_PER_PARAMETER / 1e9, available / 1e9))


def _available_memory():
    """Bytes of memory available (Linux's MemAvailable), or None where unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _monitors(args):
    """Which of the four figures network2 measures after each epoch (by default the evaluation accuracy)."""
    monitors = {name: bool(args.monitor or getattr(args, "monitor_" + name))
                for name in ("training_cost", "training_accuracy", "evaluation_cost", "evaluation_accuracy")}
    if not any(monitors.values()):
        monitors["evaluation_accuracy"] = True
    return monitors


def _check_writable(path, option, parser):
    if os.path.isdir(path):
        parser.error("argument {}: {} is a directory; give a file name".format(option, path))
    directory = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(directory):
        parser.error("argument {}: the directory {} does not exist".format(option, directory))
    if not os.access(directory, os.W_OK):
        parser.error("argument {}: cannot write in {}".format(option, directory))


#### Stopping and resuming a training run

# The options a resumed run may change: where things go and how it runs, not what it computes.
_RESUME_MAY_CHANGE = ("resume", "backend", "quiet", "data", "save", "plot", "checkpoint")
# The options a checkpoint records, to run the rest of the training as it began.
_RUN_OPTIONS = ("sizes", "epochs", "batch_size", "eta", "seed", "train_limit", "test_limit", "validation_size",
                "save", "plot") + _NETWORK2_OPTIONS


class _StopSignals:
    """While training: SIGINT (Ctrl-C) and SIGTERM ask training to stop after
    the current mini-batch; a second one stops at once.  Called, it says
    whether to stop.  Signals that were being ignored stay ignored."""

    def __init__(self):
        self.signum = None
        self._saved = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():  # only there can Python catch signals
            for signum in (signal.SIGINT, signal.SIGTERM):
                if signal.getsignal(signum) is not signal.SIG_IGN:
                    self._saved[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc):
        for signum, handler in self._saved.items():
            if handler is not None:  # None: a handler not installed from Python, which cannot be put back
                signal.signal(signum, handler)

    def _handle(self, signum, frame):
        if self.signum is not None:
            raise _StopNow(signum)  # asked twice: stop now (files are written atomically)
        self.signum = signum

    def __call__(self):
        return self.signum is not None


class _StopNow(KeyboardInterrupt):
    """A second stop signal: the run ends at once, with status 128 + signum."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _stopped(args, interrupted, signum, data_dir, datasets):
    """Save a checkpoint of the stopped run (trained on `datasets`: training,
    validation, test), say how to resume it; the exit status."""
    from ..training import checkpoint

    command = {name: getattr(args, name) for name in _RUN_OPTIONS}
    command.update(data=os.path.abspath(data_dir), save=args.save and os.path.abspath(args.save),
                   plot=args.plot and os.path.abspath(args.plot), records=args.records,
                   data_sha256=_fingerprint(*datasets))
    path = args.checkpoint or args.resume or _DEFAULT_CHECKPOINT
    try:
        checkpoint.save(path, interrupted.net, interrupted.state, command)
    except OSError as e:
        # A full disk, a file that became a directory...: the temporary directory is the last resort.
        fallback = os.path.join(tempfile.gettempdir(), _DEFAULT_CHECKPOINT)
        print("purenn: cannot write {} ({}); writing the checkpoint to {} instead".format(
            path, e.strerror or e, fallback), file=sys.stderr)
        path = fallback
        try:
            checkpoint.save(path, interrupted.net, interrupted.state, command)
        except OSError as e:
            raise ArgumentError("cannot write the checkpoint to {} either ({}); the run is lost".format(
                path, e.strerror or e)) from None
    name = signal.Signals(signum).name  # training stops only when a signal asked it to
    where = ("before epoch {}".format(interrupted.epoch) if not interrupted.done else
             "in epoch {} after {} of {} training examples".format(interrupted.epoch, interrupted.done,
                                                                    interrupted.n))
    _say("stopped by {} {}; saved a checkpoint to {}".format(name, where, path))
    print("purenn: stopped; resume with: python -m purenn train --resume {}".format(shlex.quote(path)),
          file=sys.stderr)
    return 128 + signum


_DEFAULT_CHECKPOINT = "purenn-checkpoint.json"


def _resume(args, parser, backend):
    """Load the checkpoint of --resume and take the run's options from it."""
    from ..training import checkpoint

    given = _options_given(args.argv)
    for name in sorted(given - set(_RESUME_MAY_CHANGE)):
        parser.error("argument --{}: not allowed with --resume; a resumed run keeps the settings it "
                     "started with".format(name.replace("_", "-")))
    resumed = checkpoint.load(args.resume, backend=backend)
    command = resumed.command
    keys = set(_RUN_OPTIONS) | {"data", "records", "data_sha256"}
    if not isinstance(command, dict) or not keys <= set(command):
        raise ModelFileError(args.resume, "not a checkpoint of `purenn train` (its options are missing)")
    _check_options(command, args.resume)
    for name in _RUN_OPTIONS:
        if name not in given:
            setattr(args, name, command[name])
    if "data" not in given:
        args.data = command["data"]
    _check_run(resumed, args, command)
    return resumed


def _check_options(command, path):
    """Each option a checkpoint records is one `train` would accept: checked by
    the very option types of the command line."""
    actions = {action.dest: action for action in build_parser().train_parser._actions}
    for name in _RUN_OPTIONS:
        value, action = command[name], actions[name]
        if value is None and action.default is None:
            continue
        if action.nargs == 0:  # a flag
            ok = isinstance(value, bool)
        elif action.type is None:  # a file name
            ok = isinstance(value, str)
        elif isinstance(value, bool) or not isinstance(value, (int, float, str, list)):
            ok = False
        else:
            text = ",".join(str(v) for v in value) if isinstance(value, list) else str(value)
            try:
                ok = action.type(text) == value
            except (argparse.ArgumentTypeError, ValueError, TypeError):
                ok = False
        if ok and action.choices is not None:
            ok = value in action.choices
        if not ok:
            raise ModelFileError(path, "its options have --{} {!r}, which train does not take".format(
                name.replace("_", "-"), value))
    for name in ("data", "data_sha256"):
        if not isinstance(command[name], str):
            raise ModelFileError(path, "its options have {} {!r}, not a string".format(name, command[name]))


def _check_run(resumed, args, command):
    """The checkpoint's network, state and options describe one run."""
    path, net, state, records = args.resume, resumed.net, resumed.state, command["records"]
    if list(net.sizes) != args.sizes:
        raise ModelFileError(path, "the network is {}, the options say --sizes {}".format(net.sizes, args.sizes))
    chapter3 = _asks_for_network2(command)
    if chapter3 != (state["kind"] == "network2"):
        raise ModelFileError(path, "the options are for {}, the network is {}".format(
            "network2" if chapter3 else "the chapter-1 network", state["kind"]))
    if chapter3:
        expected = (_COSTS[args.cost or "cross-entropy"], args.activation or "sigmoid", args.dropout or 0.0)
        if (net.cost.__name__, net.activation, net.dropout) != expected:
            raise ModelFileError(path, "the network is {}, {}, dropout {}; the options say {}, {}, dropout {}".format(
                net.cost.__name__, net.activation, net.dropout, *expected))
    # One record per finished epoch (network2), each with the figures the table and chart show.
    needed = {"epoch", "eta", "seconds"} | {name for name, on in _monitors(args).items() if on}
    if (not isinstance(records, list) or len(records) != (state["epoch"] if chapter3 else 0)
            or not all(isinstance(r, dict) and needed <= set(r) and all(
                is_finite_number(v) for v in r.values()) for r in records)):
        raise ModelFileError(path, "its records of the finished epochs do not fit the run")


def _options_given(argv):
    """The names of the options written out on this command line."""
    parser = build_parser()
    for action in parser.train_parser._actions:
        action.default = argparse.SUPPRESS
    return set(vars(parser.parse_args(argv))) - {"command", "run", "parser"}


def _say_resuming(args, resumed, n):
    if resumed is not None:
        _say("resuming {}: epoch {}, {} of {} training examples done".format(
            args.resume, resumed.state["epoch"], resumed.state["done"], n))


def _fingerprint(*datasets):
    """SHA-256 of the examples of each dataset, to check that a resumed run
    trains -- and measures, schedules and stops early -- on the same images."""
    import hashlib  # here: PyPy's hashlib loads cffi (see checkpoint.params_digest)
    digest = hashlib.sha256()
    for data in datasets:
        digest.update(len(data).to_bytes(8, "little"))
        for x, y in data:
            pixels = getattr(x, "pixels", None)
            digest.update(pixels if pixels is not None else array("d", x).tobytes())
            digest.update(array("d", [y] if isinstance(y, int) else y).tobytes())
    return digest.hexdigest()


def _evaluate(args, parser):
    from ..mnist_loader import find_data_dir, load_data_wrapper
    from ..network2 import load

    net = load(args.model, backend=args.backend)
    data_dir = find_data_dir(args.data)
    _, validation_data, test_data = load_data_wrapper(data_dir)
    if len(test_data[0][0]) != net.sizes[0] if test_data else False:
        raise ArgumentError("{}: the network takes {} inputs, the images in {} have {} pixels".format(
            args.model, net.sizes[0], data_dir, len(test_data[0][0])))
    labels = [y for _, y in test_data + validation_data]
    if labels and max(labels) >= net.sizes[-1]:
        raise ArgumentError("{}: the network has {} outputs, but the images in {} have labels up to {}".format(
            args.model, net.sizes[-1], data_dir, max(labels)))
    _say("{}: {} {}, backend {}".format(args.model, net.cost.__name__, net.sizes, net.backend))
    for name, data in (("test", test_data), ("validation", validation_data)):
        if data:
            correct = net.accuracy(data)
            _say("{:<10} {} / {} ({:.2%})".format(name, correct, len(data), correct / len(data)))
    return 0


def _load(args, parser):
    """(data_dir, training, validation, test, seconds) for --data, --train-limit,
    --test-limit, checked against --sizes."""
    from ..mnist_loader import find_data_dir, load_data_wrapper

    data_dir = find_data_dir(args.data)
    started = time.perf_counter()
    training_data, validation_data, test_data = load_data_wrapper(data_dir, getattr(args, "validation_size", None))
    seconds = time.perf_counter() - started
    training_data = training_data[:args.train_limit]
    validation_data = validation_data[:args.test_limit]
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
    return data_dir, training_data, validation_data, test_data, seconds


def _say(text):
    print(text, flush=True)


_BACKEND_DETAIL = {"python": "the pure-Python engine", "reference": "the teaching code, as written"}


def _backend_detail(backend):
    return core_status()[1] if backend == "c" else _BACKEND_DETAIL[backend]


def _bench(args, parser):
    from .bench import run_bench

    names = args.backends or []
    for name in names:
        resolve_backend(name)  # unknown or unbuilt: the usual one-line error
    _check_memory(args.sizes, parser)
    data_dir, training_data, _, test_data, seconds = _load(args, parser)
    run_bench(training_data, test_data, sizes=args.sizes, epochs=args.epochs, mini_batch_size=args.batch_size,
              eta=args.eta, backends=names or None, numpy=not args.no_numpy, seed=args.seed,
              load_seconds=seconds)
    return 0


def _backend_list(text):
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    for name in names:
        if name not in BACKENDS:
            raise argparse.ArgumentTypeError("{!r} is not a backend; choose from c, python, reference".format(name))
    return names


def _baseline(args, parser):
    if args.method == "darkness":
        from ..mnist_average_darkness import run
        run(args.data)
    else:
        from ..mnist_svm import run
        run(args.data, D=args.features, gamma=args.gamma, epochs=args.epochs, train_limit=args.train_limit,
            test_limit=args.test_limit, seed=args.seed, backend=args.backend, out=_say)
    return 0


def _expand(args, parser):
    from ..expand_mnist import expand
    from ..training.progress import Progress

    progress = None if args.quiet else Progress(sys.stderr)
    started = time.perf_counter()
    from ..mnist_loader import default_validation_size
    count, validation = expand(args.out, args.data, seed=args.seed, progress=progress)
    usual = default_validation_size(count + validation)
    _say("wrote {} shuffled training images and {} validation images, and the test images, to {} in "
         "{:.1f} s; train on them with: python -m purenn train --data {}{}".format(
             count, validation, args.out, time.perf_counter() - started, args.out,
             "" if usual == validation else " --validation-size {}".format(validation)))
    return 0


def _load_model(path, backend):
    """A saved network that reads 28 x 28 digits: 784 inputs, at least 10 outputs."""
    from ..network2 import load
    net = load(path, backend=backend)
    if net.sizes[0] != 784:
        raise ArgumentError("{}: the network takes {} inputs, not the 784 pixels of a 28 x 28 digit".format(
            path, net.sizes[0]))
    if net.sizes[-1] < 10:
        raise ArgumentError("{}: the network has {} outputs, fewer than the 10 digits".format(path, net.sizes[-1]))
    return net


def _predict(args, parser):
    from ..files.pictures import write_png
    from ..files.handwriting import predict

    net = _load_model(args.model, args.backend)
    for n, path in enumerate(args.images):
        digit, outputs, image = predict(net, path)
        total = 0.0
        for v in outputs:
            total += v
        share = outputs[digit] / total if total > 0 else 0.0
        _say("{}: {} ({:.1%} of the output)".format(path, digit, share))
        _say("  outputs: " + "  ".join("{}:{:.3f}".format(i, v) for i, v in enumerate(outputs)))
        if args.save_input:
            target = args.save_input if len(args.images) == 1 else "{}-{}.png".format(
                args.save_input.rsplit(".", 1)[0], n)
            write_png(target, 28, 28, image.pixels)
            _say("  the 28 x 28 input the network saw: {}".format(target))
    return 0


def _show(args, parser):
    from ..mnist_loader import find_data_dir, load_data
    from ..files.pictures import to_terminal

    _, _, (images, labels) = load_data(find_data_dir(args.data))
    net = _load_model(args.model, args.backend) if args.model else None
    for i in range(args.start, min(args.start + args.count, len(images))):
        image = images[i]
        title = "test image {}: label {}".format(i, labels[i])
        if net is not None:
            outputs = net.feedforward(image)
            guess = max(range(len(outputs)), key=lambda j: (outputs[j], -j))
            title += ", the network says {}{}".format(guess, "" if guess == labels[i] else "  (wrong)")
        _say(title)
        for line in to_terminal(image.pixels, 28, 28):
            _say(line.rstrip())
    return 0


def _misclassified(args, parser):
    from ..mnist_loader import find_data_dir, load_data_wrapper
    from ..network import argmax
    from ..files.pictures import digit_grid, write_png

    net = _load_model(args.model, args.backend)
    _, _, test_data = load_data_wrapper(find_data_dir(args.data))
    wrong, captions = [], []
    for x, y in test_data:
        guess = argmax(net.feedforward(x))
        if guess != y:
            wrong.append(x)
            captions.append("{}->{}".format(y, guess))
    shown = wrong[:args.limit]
    width, height, pixels = digit_grid(shown, captions[:args.limit], columns=args.columns)
    write_png(args.out, width, height, pixels)
    _say("{} of {} test images are misclassified; drew {} of them, captioned true->predicted, in {}".format(
        len(wrong), len(test_data), len(shown), args.out))
    return 0


def _backends(args, parser):
    built, detail = core_status()
    for name in available_backends():
        print("{:10} {}".format(name, _backend_detail(name)))
    if not built:
        print("(c: not built -- {})".format(detail))
    print("auto = {}".format(resolve_backend("auto")))
    return 0


def _data_option(command):
    command.add_argument("--data", metavar="DIR", default=None,
                         help="directory with the four MNIST-format files, each plain or .gz "
                              "(default: $PURENN_DATA, else the MNIST bundled with purenn)")


def _backend_option(command):
    command.add_argument("--backend", type=_backend, default=None, metavar="NAME",
                         help="auto, c, python (the pure-Python engine) or reference (the teaching code "
                              "as written) (default: $PURENN_BACKEND, else auto: the C core when it is "
                              "built, else python)")


def _network_options(command, epochs, epochs_help):
    """--sizes, --epochs, --batch-size and --eta, the book's chapter-1 values by default."""
    command.add_argument("--sizes", type=_sizes, default=[784, 30, 10], metavar="N,N,...",
                         help="neurons per layer, input first (default 784,30,10)")
    command.add_argument("--epochs", type=_positive_int, default=epochs, metavar="N",
                         help="{} (default {})".format(epochs_help, epochs))
    command.add_argument("--batch-size", type=_positive_int, default=10, metavar="N",
                         help="examples per mini-batch (default 10)")
    command.add_argument("--eta", type=_positive_float, default=3.0, metavar="X",
                         help="learning rate (default 3.0)")


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
    _network_options(train, epochs=30, epochs_help="passes over the training data")
    _data_option(train)
    train.add_argument("--seed", type=_non_negative_int, default=None, metavar="N",
                       help="seed for the initial weights and the shuffles; the same seed gives "
                            "the same run (default: a random seed, printed)")
    train.add_argument("--train-limit", type=_positive_int, default=None, metavar="N",
                       help="train on only the first N training images")
    train.add_argument("--test-limit", type=_positive_int, default=None, metavar="N",
                       help="test on only the first N test images")
    _backend_option(train)
    train.add_argument("--quiet", action="store_true",
                       help="no progress line on stderr")
    train.add_argument("--validation-size", type=_non_negative_int, default=None, metavar="N",
                       help="how many of the last training-file images to keep for validation "
                            "(default 10000, or a sixth of a smaller file)")
    train.add_argument("--save", metavar="FILE", default=None,
                       help="save the trained network as JSON (the book's network2 format)")
    train.add_argument("--checkpoint", metavar="FILE", default=None,
                       help="where Ctrl-C or SIGTERM saves the run, to resume it (default: "
                            "{}, or the file resumed from)".format(_DEFAULT_CHECKPOINT))
    train.add_argument("--resume", metavar="FILE", default=None,
                       help="carry on a run stopped by Ctrl-C or SIGTERM from its checkpoint; it ends with "
                            "exactly the weights of an uninterrupted run")
    ch3 = train.add_argument_group(
        "chapter 3 (network2)",
        "Any of these trains the book's network2 instead of the chapter-1 network, and prints a "
        "table of the monitored figures per epoch (by default the evaluation accuracy).")
    ch3.add_argument("--cost", choices=sorted(_COSTS), default=None,
                     help="the cost (default cross-entropy); log-likelihood puts a softmax on the output")
    ch3.add_argument("--activation", choices=["sigmoid", "tanh", "relu"], default=None,
                     help="the hidden neurons (default sigmoid)")
    ch3.add_argument("--lmbda", type=_non_negative_float, default=None, metavar="X",
                     help="L2 regularisation parameter (default 0)")
    ch3.add_argument("--l1", type=_non_negative_float, default=None, metavar="X",
                     help="L1 regularisation parameter (default 0)")
    ch3.add_argument("--init", choices=["default", "large"], default=None,
                     help="initial weights: default N(0, 1/n_in), or large N(0, 1) as in chapter 1")
    ch3.add_argument("--dropout", type=_probability, default=None, metavar="P",
                     help="drop each hidden neuron with probability P while training (default 0)")
    ch3.add_argument("--momentum", type=_probability, default=None, metavar="MU",
                     help="momentum coefficient, 0 <= MU < 1 (default 0: plain gradient descent)")
    ch3.add_argument("--schedule", type=_positive_int, default=None, metavar="N",
                     help="halve eta after N epochs without improvement; stop when it has fallen to 1/128")
    ch3.add_argument("--early-stopping", type=_positive_int, default=None, metavar="N",
                     help="stop after N epochs without improvement")
    ch3.add_argument("--validation", action="store_true",
                     help="evaluate on the validation images instead of the test images")
    ch3.add_argument("--monitor", action="store_true", help="monitor all four figures below")
    ch3.add_argument("--monitor-training-cost", action="store_true", help="the cost on the training data")
    ch3.add_argument("--monitor-training-accuracy", action="store_true", help="the accuracy on the training data")
    ch3.add_argument("--monitor-evaluation-cost", action="store_true", help="the cost on the evaluation data")
    ch3.add_argument("--monitor-evaluation-accuracy", action="store_true",
                     help="the accuracy on the evaluation data")
    ch3.add_argument("--plot", metavar="FILE.svg", default=None,
                     help="draw the monitored curves as an SVG chart")
    train.set_defaults(run=_train, parser=train)
    parser.train_parser = train

    evaluate = commands.add_parser("evaluate", help="accuracy of a saved network on the test and validation data",
                                   description="Load a network saved by `train --save` (or by the book's "
                                               "network2.save) and print its accuracy on the test and "
                                               "validation images.")
    evaluate.add_argument("model", metavar="MODEL", help="the saved network (JSON)")
    _data_option(evaluate)
    _backend_option(evaluate)
    evaluate.set_defaults(run=_evaluate, parser=evaluate)

    bench = commands.add_parser(
        "bench", help="time training and evaluation on every backend",
        description="Time one epoch of SGD and the evaluation of the test images on every "
                    "available backend and, when NumPy is installed, on a NumPy version of the "
                    "book's network.py written in the benchmark; print the ratios.")
    _network_options(bench, epochs=1, epochs_help="epochs to time; the fastest is reported")
    bench.add_argument("--train-limit", type=_positive_int, default=50000, metavar="N",
                       help="training images per epoch (default 50000, all)")
    bench.add_argument("--test-limit", type=_positive_int, default=10000, metavar="N",
                       help="test images to evaluate (default 10000, all)")
    bench.add_argument("--backends", type=_backend_list, default=None, metavar="NAME,...",
                       help="backends to time: c, python, reference (default: c and python, "
                            "those that are built)")
    bench.add_argument("--no-numpy", action="store_true", help="skip the NumPy comparison")
    bench.add_argument("--seed", type=_non_negative_int, default=0, metavar="N",
                       help="seed for the initial weights and shuffles (default 0)")
    _data_option(bench)
    bench.set_defaults(run=_bench, parser=bench)

    baseline = commands.add_parser("baseline", help="the book's baseline classifiers",
                                   description="Run one of the book's baselines on MNIST: darkness (guess the "
                                               "digit whose average darkness is nearest) or svm (a linear SVM "
                                               "on random Fourier features, the RBF kernel approximated; no "
                                               "scikit-learn).")
    baseline.add_argument("method", choices=["darkness", "svm"], help="which baseline")
    baseline.add_argument("--features", type=_positive_int, default=2000, metavar="D",
                          help="svm: random Fourier features (default 2000)")
    baseline.add_argument("--gamma", type=_positive_float, default=0.02, metavar="X",
                          help="svm: the RBF kernel's gamma (default 0.02)")
    baseline.add_argument("--epochs", type=_positive_int, default=3, metavar="N",
                          help="svm: passes of SGD (default 3)")
    baseline.add_argument("--train-limit", type=_positive_int, default=None, metavar="N",
                          help="svm: train on the first N training images only")
    baseline.add_argument("--test-limit", type=_positive_int, default=None, metavar="N",
                          help="svm: test on the first N test images only")
    baseline.add_argument("--seed", type=_non_negative_int, default=0, metavar="N",
                          help="svm: seed for the features and the shuffles (default 0)")
    _backend_option(baseline)
    _data_option(baseline)
    baseline.set_defaults(run=_baseline, parser=baseline)

    expand = commands.add_parser(
        "expand", help="write the book's expanded training set (five shifts of each image)",
        description="Write every training image and its four one-pixel shifts, shuffled, as gzipped IDX "
                    "files in MNIST's layout (the validation and test images unchanged), ready for "
                    "`train --data DIR`.")
    expand.add_argument("--out", metavar="DIR", required=True, help="directory to write the files into")
    _data_option(expand)
    expand.add_argument("--seed", type=_non_negative_int, default=0, metavar="N",
                        help="seed for the shuffle (default 0)")
    expand.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    expand.set_defaults(run=_expand, parser=expand)

    model_help = "a network saved by `train --save` (or the book's network2.save)"
    predict = commands.add_parser(
        "predict", help="recognise handwritten digits in pictures (PNG, PGM, PBM)",
        description="Turn each picture -- of any size, dark ink on light paper or light on dark -- into an "
                    "MNIST-style 28 x 28 input (greyscale, polarity, crop, fit 20 x 20, centre of mass) and "
                    "print the digit the network sees and all ten outputs.")
    predict.add_argument("model", metavar="MODEL", help=model_help)
    predict.add_argument("images", metavar="IMAGE", nargs="+", help="pictures of single digits")
    predict.add_argument("--save-input", metavar="FILE.png", default=None,
                         help="save the 28 x 28 input the network saw (numbered when several pictures)")
    _backend_option(predict)
    predict.set_defaults(run=_predict, parser=predict)

    show = commands.add_parser("show", help="print test digits in the terminal",
                               description="Print test digits as shaded characters with their labels "
                                           "(and a network's answers when given --model).")
    show.add_argument("--start", type=_non_negative_int, default=0, metavar="N", help="first test image (default 0)")
    show.add_argument("--count", type=_positive_int, default=5, metavar="N", help="how many (default 5)")
    show.add_argument("--model", metavar="MODEL", default=None, help=model_help)
    _data_option(show)
    _backend_option(show)
    show.set_defaults(run=_show, parser=show)

    wrong = commands.add_parser("misclassified", help="a picture of the test digits a network gets wrong",
                                description="Draw the test digits the network misclassifies as a PNG grid, "
                                            "each captioned true->predicted.")
    wrong.add_argument("model", metavar="MODEL", help=model_help)
    wrong.add_argument("--out", metavar="FILE.png", required=True, help="the PNG to write")
    wrong.add_argument("--limit", type=_positive_int, default=100, metavar="N", help="draw at most N (default 100)")
    wrong.add_argument("--columns", type=_positive_int, default=10, metavar="N", help="digits per row (default 10)")
    _data_option(wrong)
    _backend_option(wrong)
    wrong.set_defaults(run=_misclassified, parser=wrong)

    backends = commands.add_parser("backends", help="list the backends that can run here",
                                   description="List the backends and whether the C core is built.")
    backends.set_defaults(run=_backends, parser=backends)
    return parser


def main(argv=None):
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    args.argv = argv
    try:
        return args.run(args, args.parser)
    except PurennError as e:
        print("purenn: error: {}".format(e), file=sys.stderr)
        return 2
    except MemoryError:
        print("purenn: error: out of memory; try smaller --sizes or fewer images", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        print("\npurenn: interrupted", file=sys.stderr)
        return 128 + getattr(e, "signum", signal.SIGINT)
