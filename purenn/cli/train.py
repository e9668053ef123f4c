"""`python -m purenn train`: the chapter-1 network, or network2 with the chapter-3 options.

The run's options are a dict (from the command line, or from the checkpoint
of a run being resumed); they are never written back into the argparse
namespace.  Ctrl-C, SIGTERM or SIGHUP stops a run with a checkpoint
(resume.py); a long run keeps one every --checkpoint-every minutes
(checkpoints.py), removed when the run is complete.
"""

import argparse
import os
import random
import signal
import sys
import time

from .. import __version__, network, network2
from ..backends import C_MAX_LAYERS, automatic, resolve_backend
from ..errors import ArgumentError, ModelFileError, TrainingInterrupted
from ..files.plot import write_svg
from ..training.progress import Progress
from .checkpoints import DEFAULT_CHECKPOINT, DEFAULT_MINUTES, RunCheckpoint, save_finished
from .resume import (COST_NAMES, StopSignals, asks_for_network2, cost_name, fingerprint, load_resumed, monitors,
                     run_command, save_stopped)
from .options import (Parser, add_backend_option, add_data_option, add_network_options, backend_detail,
                      check_memory, check_writable, load_data, non_negative_float, non_negative_int, positive_int,
                      probability, say)

__all__ = ["add_parser", "run"]


def add_parser(commands):
    train = commands.add_parser(
        "train", help="train the chapter-1 network on MNIST",
        description="Train the book's chapter-1 network (sigmoid neurons, quadratic cost, "
                    "mini-batch SGD) and print the test accuracy after each epoch. The defaults "
                    "are the book's experiment; it reaches about 95% accuracy.")
    add_arguments(train)
    return train


def add_arguments(train):
    add_network_options(train, epochs=30, epochs_help="passes over the training data")
    add_data_option(train)
    train.add_argument("--seed", type=non_negative_int, default=None, metavar="N",
                       help="seed for the initial weights and the shuffles; the same seed gives "
                            "the same run (default: a random seed, printed)")
    train.add_argument("--train-limit", type=positive_int, default=None, metavar="N",
                       help="train on only the first N training images")
    train.add_argument("--test-limit", type=positive_int, default=None, metavar="N",
                       help="test on only the first N test images")
    add_backend_option(train)
    train.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    train.add_argument("--validation-size", type=non_negative_int, default=None, metavar="N",
                       help="how many of the last training-file images to keep for validation "
                            "(default 10000, or a sixth of a smaller file)")
    train.add_argument("--validation", action="store_true",
                       help="evaluate on the validation images instead of the test images")
    train.add_argument("--save", metavar="FILE", default=None,
                       help="save the trained network as JSON (the book's network2 format)")
    train.add_argument("--plot", metavar="FILE.svg", default=None, type=svg_file,
                       help="draw the accuracy (and the costs monitored) per epoch as an SVG chart")
    train.add_argument("--checkpoint", metavar="FILE", default=None,
                       help="where Ctrl-C, SIGTERM or SIGHUP saves the run, to resume it, and where a long "
                            "run keeps its checkpoint (default: {}, or -2, -3 ... if that is another "
                            "run's; or the file resumed from)".format(DEFAULT_CHECKPOINT))
    train.add_argument("--checkpoint-every", metavar="MINUTES", default=DEFAULT_MINUTES, type=non_negative_float,
                       help="keep a checkpoint, written at the end of the first epoch after each MINUTES "
                            "(default {:g}; 0: only when stopped); it is removed when the run is "
                            "complete".format(DEFAULT_MINUTES))
    train.add_argument("--resume", metavar="FILE", default=None,
                       help="carry on a run from its checkpoint; it ends with exactly the weights of an "
                            "uninterrupted run")
    _add_chapter3_arguments(train.add_argument_group(
        "chapter 3 (network2)",
        "Any of these trains the book's network2 instead of the chapter-1 network, and prints a "
        "table of the monitored figures per epoch (by default the evaluation accuracy)."))


def _add_chapter3_arguments(ch3):
    ch3.add_argument("--cost", choices=sorted(COST_NAMES), default=None,
                     help="the cost (default cross-entropy); log-likelihood puts a softmax on the output")
    ch3.add_argument("--activation", choices=["sigmoid", "tanh", "relu"], default=None,
                     help="the hidden neurons (default sigmoid)")
    ch3.add_argument("--lmbda", type=non_negative_float, default=None, metavar="X",
                     help="L2 regularisation parameter (default 0)")
    ch3.add_argument("--l1", type=non_negative_float, default=None, metavar="X",
                     help="L1 regularisation parameter (default 0)")
    ch3.add_argument("--init", choices=["default", "large"], default=None,
                     help="initial weights: default N(0, 1/n_in), or large N(0, 1) as in chapter 1")
    ch3.add_argument("--dropout", type=probability, default=None, metavar="P",
                     help="drop each hidden neuron with probability P while training (default 0)")
    ch3.add_argument("--momentum", type=probability, default=None, metavar="MU",
                     help="momentum coefficient, 0 <= MU < 1 (default 0: plain gradient descent)")
    ch3.add_argument("--schedule", type=positive_int, default=None, metavar="N",
                     help="halve eta after N epochs without improvement; stop when it has fallen to 1/128")
    ch3.add_argument("--early-stopping", type=positive_int, default=None, metavar="N",
                     help="stop after N epochs without improvement")
    ch3.add_argument("--monitor", action="store_true", help="monitor all four figures below")
    ch3.add_argument("--monitor-training-cost", action="store_true", help="the cost on the training data")
    ch3.add_argument("--monitor-training-accuracy", action="store_true", help="the accuracy on the training data")
    ch3.add_argument("--monitor-evaluation-cost", action="store_true", help="the cost on the evaluation data")
    ch3.add_argument("--monitor-evaluation-accuracy", action="store_true",
                     help="the accuracy on the evaluation data")


def svg_file(text):
    """--plot's file: the chart is SVG, and its name says so."""
    if not text.lower().endswith(".svg"):
        raise argparse.ArgumentTypeError("{}: the chart is drawn as SVG; give a name ending in .svg".format(text))
    return text


def options_given(argv):
    """The names of the train options written out on this command line."""
    parser = Parser(prog="purenn train")
    add_arguments(parser)
    for action in parser._actions:
        action.default = argparse.SUPPRESS
    return set(vars(parser.parse_args(argv[argv.index("train") + 1:])))


class _Job:
    """One `train` run: its options, checkpoint (when resumed), backend, data and records."""

    def __init__(self, options, parser, argv):
        resolve_backend(options["backend"])  # a backend that cannot run is refused before anything else
        # The networks are given the name asked for (None: $PURENN_BACKEND, else auto), so that under
        # auto purenn may choose for each (a network the C core cannot take runs in Python).
        self.backend = options["backend"]
        self.resumed = None
        if options["resume"]:
            self.resumed, options = load_resumed(options, options_given(argv), self.backend, parser)
        if options["seed"] is None:
            options = dict(options, seed=random.SystemRandom().randrange(2 ** 32))
        self.options, self.seed = options, options["seed"]
        self.chapter3 = (self.resumed.state["kind"] == "network2" if self.resumed is not None
                         else asks_for_network2(options))
        self.records = list(self.resumed.command["records"]) if self.resumed is not None else []
        self.state = self.resumed.state if self.resumed is not None else None

    def load(self, parser):
        """Read the data (checked against the checkpoint's) and check where the files go."""
        options = self.options
        check_memory(options["sizes"], parser)
        if options["backend"] is not None and resolve_backend(options["backend"]) == "c" \
                and not automatic(options["backend"]) and len(options["sizes"]) > C_MAX_LAYERS:
            parser.error("argument --backend: the C core takes networks of at most {} layers, not {}; choose "
                         "python (or auto)".format(C_MAX_LAYERS, len(options["sizes"])))
        self.data_dir, training, validation, test, self.load_seconds = load_data(options, parser)
        self.training_data, self.validation_data, self.test_data = training, validation, test
        if self.resumed is not None and fingerprint(*self.datasets()) != self.resumed.command["data_sha256"]:
            raise ModelFileError(options["resume"], "the images in {} are not the ones this run started with; "
                                                    "give the run's data with --data".format(self.data_dir))
        for key, option in (("save", "--save"), ("plot", "--plot"), ("checkpoint", "--checkpoint")):
            if options[key]:
                check_writable(options[key], option, parser)
        checkpoint_file = options["checkpoint"] or options["resume"]
        for key in ("save", "plot"):
            if (checkpoint_file and options[key]
                    and os.path.realpath(options[key]) == os.path.realpath(checkpoint_file)):
                parser.error("argument --{}: {} is the run's checkpoint; give another file".format(
                    key, options[key]))

        self.evaluation_name = "validation" if options["validation"] else "test"
        self.evaluation_data = self.validation_data if options["validation"] else self.test_data

    def datasets(self):
        return self.training_data, self.validation_data, self.test_data

    def chart_records(self):
        """What --plot draws: network2's records, or the chapter-1 network's accuracy per epoch."""
        if self.chapter3:
            return self.records
        first = self.options["epochs"] - len(self.results)  # (a run resumed from SGD without test data)
        return [{"epoch": first + j, "evaluation_accuracy": right / len(self.evaluation_data)}
                for j, right in enumerate(self.results)]

    def chart_title(self, net):
        options = self.options
        return "{} {} on {} images, eta {}, lmbda {}{}".format(
            net.cost.__name__ if self.chapter3 else "QuadraticCost", options["sizes"], len(self.training_data),
            options["eta"], options["lmbda"] or 0.0, "" if self.chapter3 else " (the chapter-1 network)")

    def say_resuming(self):
        if self.resumed is not None:
            say("resuming {}: epoch {}, {} of {} training examples done".format(
                self.options["resume"], self.state["epoch"], self.state["done"], len(self.training_data)))


def run(args, parser, argv):
    job = _Job(dict(vars(args)), parser, argv)
    job.load(parser)
    progress = None if job.options["quiet"] else Progress(sys.stderr)
    if progress is not None and job.resumed is not None:
        progress.epoch = job.state["epoch"]
    keeper = RunCheckpoint(job.options["checkpoint"] or job.options["resume"], job.options["checkpoint_every"],
                           run_command(job.options, job.records, job.data_dir, job.datasets()))
    with StopSignals() as stop:
        try:
            net = (_train_network2 if job.chapter3 else _train_chapter1)(job, progress, stop, keeper)
        except TrainingInterrupted as e:
            if progress is not None:
                progress.clear()
            return save_stopped(keeper, e, stop.signum)
        # A signal from here on comes too late to stop training: the network is saved all the same.
        if stop.signum is not None:
            print("purenn: {} came after the last epoch; finishing".format(signal.Signals(stop.signum).name),
                  file=sys.stderr)
        return _finish(job, net, keeper)


def _finish(job, net, keeper):
    """Save the network and draw the chart; once both are written, the run's
    checkpoints go.  Files that cannot be written are one line, status 2, and
    the network is saved elsewhere (checkpoints.save_finished)."""
    options, problems = job.options, []
    if options["save"]:
        written, failed = save_finished(net, options["save"])
        if failed is None:
            say("saved the network to {}".format(written))
        else:
            problems.append("{}: {}; {}".format(
                options["save"], failed.strerror or failed,
                "saved the trained network to {} instead".format(written) if written else
                "nor could the network be saved in the current or the temporary directory"))
    if options["plot"]:
        try:
            write_svg(options["plot"], job.chart_records(), title=job.chart_title(net))
            say("plotted the curves to {}".format(options["plot"]))
        except OSError as e:
            problems.append("{}: {}".format(options["plot"], e.strerror or e))
    if not problems:
        removed = keeper.remove(options["resume"], keep=(options["save"], options["plot"]))
        if removed:
            say("the run is complete; removed its checkpoint {}".format(", ".join(removed)))
        return 0
    kept = sorted(keeper.written | ({options["resume"]} if options["resume"] else set()))
    if kept:
        problems.append("kept the checkpoint {}".format(", ".join(kept)))
    print("purenn: error: {}".format("; ".join(problems)), file=sys.stderr)
    return 2


def _train_chapter1(job, progress, stop, keeper):
    options, evaluation_data = job.options, job.evaluation_data
    net = job.resumed.net if job.resumed is not None else network.Network(options["sizes"], seed=job.seed,
                                                                          backend=job.backend)
    say("purenn {}: the chapter-1 network {}, backend {} ({})".format(
        __version__, options["sizes"], net.backend, backend_detail(net.backend)))
    say("data {} (loaded in {:.2f} s): training on {}, {} on {}".format(
        job.data_dir, job.load_seconds, len(job.training_data),
        "testing" if job.evaluation_name == "test" else "validating", len(evaluation_data)))
    say("epochs {}, mini-batch size {}, eta {}, seed {}".format(
        options["epochs"], options["batch_size"], options["eta"], job.seed))
    job.say_resuming()
    started = time.perf_counter()
    if options["plot"] and not evaluation_data:
        raise ArgumentError("the {} data is empty: nothing to plot".format(job.evaluation_name))
    job.results = results = net.SGD(job.training_data, options["epochs"], options["batch_size"], options["eta"],
                                    test_data=evaluation_data, progress=progress, stop=stop, resume=job.state,
                                    checkpoint=keeper)
    seconds = time.perf_counter() - started
    if results:
        best = max(range(len(results)), key=lambda j: (results[j], -j))
        say("best: epoch {}, {} / {} ({:.2f}%); {:.1f} s {}".format(
            best, results[best], len(evaluation_data), 100.0 * results[best] / len(evaluation_data), seconds,
            "for {}".format(_epochs(options["epochs"])) if job.resumed is None else "since resuming"))
    return net


def _network2(job):
    """The network2 a run trains: the checkpoint's, or a new one as the options say."""
    options = job.options
    if job.resumed is not None:
        return job.resumed.net
    net = network2.Network(options["sizes"], network2.COSTS[cost_name(options)],
                           activation=options["activation"] or "sigmoid", dropout=options["dropout"] or 0.0,
                           seed=job.seed, backend=job.backend)
    if options["init"] == "large":
        net.large_weight_initializer()
    return net


def _train_network2(job, progress, stop, keeper):
    options = job.options
    net = _network2(job)
    chosen = monitors(options)
    evaluation_name, evaluation_data = job.evaluation_name, job.evaluation_data
    if (chosen["evaluation_cost"] or chosen["evaluation_accuracy"]) and not evaluation_data:
        raise ArgumentError("the {} data is empty: nothing to evaluate on".format(evaluation_name))
    _say_network2(job, net, evaluation_name, len(evaluation_data))
    table = _Table(chosen, evaluation_name, job.records)
    started = time.perf_counter()
    net.SGD(job.training_data, options["epochs"], options["batch_size"], options["eta"],
            lmbda=options["lmbda"] or 0.0, evaluation_data=evaluation_data,
            monitor_evaluation_cost=chosen["evaluation_cost"],
            monitor_evaluation_accuracy=chosen["evaluation_accuracy"],
            monitor_training_cost=chosen["training_cost"],
            monitor_training_accuracy=chosen["training_accuracy"],
            early_stopping_n=options["early_stopping"] or 0, l1=options["l1"] or 0.0,
            momentum=options["momentum"] or 0.0, schedule=options["schedule"] or 0, progress=progress,
            on_epoch=table.row, verbose=False, stop=stop, resume=job.state, checkpoint=keeper)
    _say_network2_end(job, chosen, evaluation_name, time.perf_counter() - started)
    return net


def _say_network2(job, net, evaluation_name, n_evaluation):
    options = job.options
    say("purenn {}: network2 {}, {}, {} hidden neurons, backend {} ({})".format(
        __version__, options["sizes"], net.cost.__name__, net.activation, net.backend,
        backend_detail(net.backend)))
    say("data {} (loaded in {:.2f} s): training on {}, evaluating on {} {} images".format(
        job.data_dir, job.load_seconds, len(job.training_data), n_evaluation, evaluation_name))
    say("epochs {}, mini-batch size {}, eta {}, lmbda {}, l1 {}, momentum {}, dropout {}, init {}, "
        "schedule {}, early stopping {}, seed {}".format(
            options["epochs"], options["batch_size"], options["eta"], options["lmbda"] or 0.0,
            options["l1"] or 0.0, options["momentum"] or 0.0, options["dropout"] or 0.0,
            options["init"] or "default", options["schedule"] or "off", options["early_stopping"] or "off",
            job.seed))
    job.say_resuming()


def _say_network2_end(job, monitors, evaluation_name, seconds):
    records = job.records
    if len(records) < job.options["epochs"]:
        say("stopped after {} of {} ({})".format(
            len(records), _epochs(job.options["epochs"]),
            "early stopping" if job.options["early_stopping"] else "the learning-rate schedule"))
    if monitors["evaluation_accuracy"] and records:
        best = max(records, key=lambda r: (r["evaluation_accuracy"], -r["epoch"]))
        say("best {} accuracy: {:.2%} at epoch {}; final {:.2%}; {:.1f} s".format(
            evaluation_name, best["evaluation_accuracy"], best["epoch"], records[-1]["evaluation_accuracy"],
            seconds))


def _epochs(n):
    return "1 epoch" if n == 1 else "{} epochs".format(n)


_SHORT = {"test": "test", "validation": "valid"}  # the evaluation data's name in a column title


class _Table:
    """The table network2's run prints, a row per epoch, and the records it keeps for the chart."""

    def __init__(self, monitors, evaluation_name, records):
        self.records = records
        self.columns = [("epoch", 5, "epoch", "{:d}"), ("eta", 9, "eta", "{:.4g}")]
        for name, title, form in (("training_cost", "train cost", "{:.4f}"),
                                  ("training_accuracy", "train acc", "{:.2%}"),
                                  ("evaluation_cost", _SHORT[evaluation_name] + " cost", "{:.4f}"),
                                  ("evaluation_accuracy", _SHORT[evaluation_name] + " acc", "{:.2%}")):
            if monitors[name]:
                self.columns.append((name, 10, title, form))
        self.columns.append(("seconds", 7, "s", "{:.2f}"))
        say("  ".join(title.rjust(width) for _, width, title, _ in self.columns))

    def row(self, record):
        self.records.append(record)
        say("  ".join(form.format(record[key]).rjust(width) for key, width, _, form in self.columns))
