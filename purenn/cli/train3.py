"""`python -m purenn train3` and `chapter6`: the chapter-6 network (network3) on MNIST.

    train3 --layers SPEC    any architecture, written out (purenn/cli/layers.py)
    chapter6 NAME           one of the book's chapter-6 runs by name (RUNS; --list)

Both print the book's printout (network3.SGD's), save the network with
--save (network3's JSON model file), keep a checkpoint every
--checkpoint-every minutes -- within an epoch too: an epoch of the expanded
set is hours -- and stop on Ctrl-C, SIGTERM or SIGHUP with a checkpoint
(exit status 128 + the signal: 130 for Ctrl-C) that `train3 --resume FILE`
carries on bit for bit, printing what the run would have printed.
"""

import argparse
import os
import random
import signal
import sys
import textwrap

from .. import __version__, network3
from ..backends import MAX_THREADS, choose_threads
from ..errors import ArgumentError, ModelFileError, TrainingInterrupted
from ..mnist_loader import find_data_dir, image_shape, load_data
from ..training import checkpoint
from ..training.progress import Progress
from .checkpoints import DEFAULT_CHECKPOINT, DEFAULT_MINUTES, RunCheckpoint, save_finished
from .layers import SYNTAX, build_layers, describe, parse_layers
from .options import (Parser, add_backend_option, at_most, backend_detail, check_memory_need, check_writable,
                      non_negative_float, non_negative_int, positive_float, positive_int, say)
from .resume import StopSignals, acceptable, fingerprint, save_stopped

__all__ = ["RUNS", "add_train3", "train3", "add_chapter6", "chapter6"]

#: The book's chapter-6 runs: name -> (layers, epochs, eta, lmbda, expanded, the book's test accuracy).
#: All in mini-batches of 10; the book's network3.py and its text give the figures.
RUNS = {
    "fc100": ("fc:100; softmax", 60, 0.1, 0.0, False, "97.80%"),
    "conv1": ("conv:20x5x5,pool:2x2; fc:100; softmax", 60, 0.1, 0.0, False, "98.78%"),
    "conv2": ("conv:20x5x5,pool:2x2; conv:40x5x5,pool:2x2; fc:100; softmax", 60, 0.1, 0.0, False, "99.06%"),
    "conv2-relu": ("conv:20x5x5,pool:2x2,relu; conv:40x5x5,pool:2x2,relu; fc:100,relu; softmax",
                   60, 0.03, 0.1, False, "99.23%"),
    "conv2-relu-expanded": ("conv:20x5x5,pool:2x2,relu; conv:40x5x5,pool:2x2,relu; fc:100,relu; softmax",
                            60, 0.03, 0.1, True, "99.37%"),
    "conv2-relu-fc2-expanded": ("conv:20x5x5,pool:2x2,relu; conv:40x5x5,pool:2x2,relu; fc:100,relu; "
                                "fc:100,relu; softmax", 60, 0.03, 0.1, True, "99.43%"),
    "dropout": ("conv:20x5x5,pool:2x2,relu; conv:40x5x5,pool:2x2,relu; fc:1000,relu,dropout:0.5; "
                "fc:1000,relu,dropout:0.5; softmax,dropout:0.5", 40, 0.03, 0.0, True, "99.60%"),
}

# The options a checkpoint records, and those a resumed run may change (where things go, how it runs).
RUN3_OPTIONS = ("layers", "epochs", "mini_batch_size", "eta", "lmbda", "seed", "shuffle", "train_limit",
                "test_limit", "validation_size")
RESUME_MAY_CHANGE = ("resume", "backend", "threads", "quiet", "data", "expanded", "save", "checkpoint",
                     "checkpoint_every")

# What a weight costs at the peak of training (as train's --sizes: cli/options.py), a float and its pointer
# in the layers, the gradient and the C core's packed copy.
_BYTES_PER_PARAMETER = 128

_EXPAND_HINT = "write it with `python -m purenn expand --out DIR` and give --expanded DIR"


def layers_option(text):
    """--layers: parse_layers, keeping the text (a checkpoint records it as given)."""
    parse_layers(text)
    return text


def _parameters(layers):
    """How many weights and biases the layers (not yet drawn) will hold."""
    count = 0
    for layer in layers:
        if isinstance(layer, network3.ConvPoolLayer):
            n_filters, maps, fh, fw = layer.filter_shape
            count += n_filters * maps * fh * fw + n_filters
        else:
            count += layer.n_in * layer.n_out + layer.n_out
    return count


#### The options

def add_train3(commands):
    train3 = commands.add_parser(
        "train3", help="train the chapter-6 network (conv-pool, fully connected, softmax) of any architecture",
        description="Train the book's chapter-6 network (network3) with the layers written out in --layers, "
                    "and print the book's printout: the validation accuracy after each epoch, the test "
                    "accuracy at the best of them.",
        epilog=SYNTAX,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    train3.add_argument("--layers", type=layers_option, default=None, metavar="SPEC",
                        help="the layers, e.g. \"conv:20x5x5,pool:2x2,relu; fc:100,relu,dropout:0.5; softmax\" "
                             "(see below)")
    add_run_options(train3, epochs=60, eta=0.1, lmbda=0.0)
    train3.add_argument("--resume", metavar="FILE", default=None,
                        help="carry on a stopped train3 or chapter6 run from its checkpoint, bit for bit")
    return train3


def add_chapter6(commands):
    lines = ["  {:<24} {} epochs, eta {}, lmbda {}{}; the book: {}\n    {}".format(
        name, epochs, eta, lmbda, ", expanded" if expanded else "", book, layers)
        for name, (layers, epochs, eta, lmbda, expanded, book) in RUNS.items()]
    chapter6 = commands.add_parser(
        "chapter6", help="one of the book's chapter-6 runs by name (--list)",
        description=textwrap.fill("Run one of the book's chapter-6 experiments (mini-batches of 10) as its "
                                  "network3.py does; --epochs, --eta and the other options override its settings; "
                                  "a stopped run goes on with `train3 --resume FILE`.", 78)
        + "\n\nThe runs:\n" + "\n".join(lines),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    chapter6.add_argument("name", metavar="NAME", nargs="?", choices=sorted(RUNS), help="which run (see --list)")
    chapter6.add_argument("--list", action="store_true", help="list the runs and exit")
    add_run_options(chapter6, epochs=None, eta=None, lmbda=None)
    return chapter6


def add_run_options(command, epochs, eta, lmbda):
    """The options train3 and chapter6 share (None: the run's own default)."""
    add = command.add_argument
    add("--epochs", type=positive_int, default=epochs, metavar="N",
        help="passes over the training data (default {})".format(epochs or "the run's"))
    add("--mini-batch-size", type=positive_int, default=10, metavar="N", help="examples per mini-batch (default 10)")
    add("--eta", type=positive_float, default=eta, metavar="X", help="learning rate (default {})".format(
        eta or "the run's"))
    add("--lmbda", type=non_negative_float, default=lmbda, metavar="X",
        help="L2 regularisation parameter (default {})".format(lmbda if lmbda is not None else "the run's"))
    add("--seed", type=non_negative_int, default=None, metavar="N",
        help="seed for the initial weights, the dropout masks and --shuffle (default: a random seed, printed)")
    add("--shuffle", action="store_true", help="shuffle the training data before each epoch (the book does not)")
    add("--data", metavar="DIR", default=None,
        help="directory with the four MNIST-format files (default: $PURENN_DATA, else the bundled MNIST)")
    add("--expanded", metavar="DIR", default=None,
        help="train on the expanded set written by `purenn expand --out DIR` (in place of --data)")
    add("--train-limit", type=positive_int, default=None, metavar="N", help="train on the first N images only")
    add("--test-limit", type=positive_int, default=None, metavar="N",
        help="validate and test on the first N images of each only")
    add("--validation-size", type=non_negative_int, default=None, metavar="N",
        help="how many of the last training-file images are the validation data (default 10000, or a sixth "
             "of a smaller file)")
    add_backend_option(command)
    add("--threads", type=at_most(MAX_THREADS), default=None, metavar="N",
        help="threads the C core runs on, 1 to {} (default: $PURENN_THREADS, else every processor); the "
             "numbers are the same whatever it is".format(MAX_THREADS))
    add("--quiet", action="store_true", help="no progress line on stderr")
    add("--save", metavar="FILE", default=None, help="save the trained network as JSON (network3's model file)")
    add("--checkpoint", metavar="FILE", default=None,
        help="where a stop (Ctrl-C, SIGTERM, SIGHUP) and a long run keep the run's checkpoint (default: {}, "
             "or -2, -3 ... if that is another run's; or the file resumed from)".format(DEFAULT_CHECKPOINT))
    add("--checkpoint-every", metavar="MINUTES", default=DEFAULT_MINUTES, type=non_negative_float,
        help="keep a checkpoint every MINUTES, between two mini-batches (default {:g}; 0: only when stopped); "
             "removed when the run is complete".format(DEFAULT_MINUTES))


#### The commands

def train3(args, parser, argv):
    options = dict(vars(args))
    if options["resume"]:
        return _resume(options, parser, argv)
    if options["layers"] is None:
        parser.error("argument --layers: give the layers, e.g. --layers \"conv:20x5x5,relu; fc:100,relu; softmax\" "
                     "(or --resume FILE)")
    return _Run3Job(options, parser).run()


def chapter6(args, parser, argv):
    if args.list:
        for name, (layers, epochs, eta, lmbda, expanded, book) in RUNS.items():
            say("{:<24} {} epochs, eta {}, lmbda {}{}; the book: {} test accuracy\n    --layers \"{}\"".format(
                name, epochs, eta, lmbda, ", on the expanded training set" if expanded else "", book, layers))
        return 0
    if args.name is None:
        parser.error("give the run's NAME: one of {} (see --list)".format(", ".join(RUNS)))
    layers, epochs, eta, lmbda, expanded, _ = RUNS[args.name]
    options = dict(vars(args), layers=layers, resume=None)
    for name, value in (("epochs", epochs), ("eta", eta), ("lmbda", lmbda)):
        if options[name] is None:
            options[name] = value
    if expanded and options["expanded"] is None and options["data"] is None:
        parser.error("argument --expanded: the run {} trains on the expanded training set; {}".format(
            args.name, _EXPAND_HINT))
    say("chapter 6, {}: --layers \"{}\"".format(args.name, layers))
    return _Run3Job(options, parser).run()


def _resume(options, parser, argv):
    given = _options_given(argv, parser)
    for name in sorted(given - set(RESUME_MAY_CHANGE)):
        parser.error("argument --{}: not allowed with --resume; a resumed run keeps the settings it started "
                     "with".format(name.replace("_", "-")))
    path = options["resume"]
    resumed = checkpoint.load(path, backend=options["backend"])
    if resumed.state["kind"] != "network3":
        raise ModelFileError(path, "a checkpoint of `purenn train`; resume it with python -m purenn train --resume")
    command = resumed.command
    if not isinstance(command, dict) or command.get("command") != "train3" or not isinstance(
            command.get("options"), dict) or not isinstance(command.get("data_sha256"), str):
        raise ModelFileError(path, "not a checkpoint of `purenn train3` (its options are missing)")
    actions = {action.dest: action for action in parser._actions}
    for name in RUN3_OPTIONS:
        value = command["options"].get(name, argparse.SUPPRESS)
        if value is argparse.SUPPRESS or not acceptable(value, actions[name]):
            raise ModelFileError(path, "its options have --{} {!r}, which train3 does not take".format(
                name.replace("_", "-"), None if value is argparse.SUPPRESS else value))
        options[name] = command["options"][name]
    if "data" not in given and "expanded" not in given:
        options["data"] = command.get("data") if isinstance(command.get("data"), str) else None
    if "save" not in given:
        save = command.get("save")
        if save is not None and not isinstance(save, str):
            raise ModelFileError(path, "its options have --save {!r}, not a file name".format(save))
        options["save"] = save
    return _Run3Job(options, parser, resumed).run()


def _options_given(argv, parser):
    """The names of the options written out on this command line."""
    given = Parser(prog=parser.prog)
    add_train3(_Only(given))
    for action in given._actions:
        action.default = argparse.SUPPRESS
    return set(vars(given.parse_args(argv[argv.index("train3") + 1:])))


class _Only:
    """Stands in for the commands' subparsers: add_parser gives back `parser` itself."""

    def __init__(self, parser):
        self.parser = parser

    def add_parser(self, *args, **kwargs):
        return self.parser


class _ProgressWiped:
    """While training: standard output that wipes the progress line before
    each write, since the book's SGD prints in the middle of an epoch
    ("Training mini-batch number 1000"); the line is drawn again after it."""

    def __init__(self, progress):
        self.progress, self.stream = progress, None

    def __enter__(self):
        if self.progress is not None:
            self.stream, sys.stdout = sys.stdout, self
        return self

    def __exit__(self, *exc):
        if self.progress is not None:
            sys.stdout = self.stream
            self.progress.clear()

    def write(self, text):
        self.progress.clear()
        return self.stream.write(text)

    def __getattr__(self, name):
        return getattr(self.stream, name)


class _Run3Job:
    """One train3 or chapter6 run: options, data, network, the run and its files."""

    def __init__(self, options, parser, resumed=None):
        self.options, self.parser, self.resumed = options, parser, resumed
        if options["data"] is not None and options["expanded"] is not None and resumed is None:
            parser.error("argument --expanded: give --expanded DIR or --data DIR, not both")
        if options["seed"] is None:
            options["seed"] = random.SystemRandom().randrange(2 ** 32)
        for key, option in (("save", "--save"), ("checkpoint", "--checkpoint")):
            if options[key]:
                check_writable(options[key], option, parser)
        run_file = options["checkpoint"] or options["resume"]
        if options["save"] and run_file and os.path.realpath(options["save"]) == os.path.realpath(run_file):
            parser.error("argument --save: {} is the run's checkpoint; give another file".format(options["save"]))

    def run(self):
        self._load()
        net = self._network()
        self._say_what(net)
        keeper = RunCheckpoint(self.options["checkpoint"] or self.options["resume"],
                               self.options["checkpoint_every"], self._command)
        progress = None if self.options["quiet"] else Progress(sys.stderr)
        if progress is not None and self.resumed is not None:
            progress.epoch = self.resumed.state["epoch"]
        with StopSignals() as stop:
            try:
                with _ProgressWiped(progress):
                    self._train(net, stop, progress, keeper)
            except TrainingInterrupted as e:
                return save_stopped(keeper, e, stop.signum, command="train3")
            if stop.signum is not None:
                print("purenn: {} came after the last mini-batch; finishing".format(
                    signal.Signals(stop.signum).name), file=sys.stderr)
            return self._finish(net, keeper)

    def _load(self):
        options = self.options
        self.data_dir = find_data_dir(options["expanded"] or options["data"])
        training, validation, test = load_data(self.data_dir, options["validation_size"])
        self.image_shape = tuple(image_shape(self.data_dir))
        self.training = (training[0][:options["train_limit"]], training[1][:options["train_limit"]])
        self.validation, self.test = ((images[:options["test_limit"]], labels[:options["test_limit"]])
                                      for images, labels in (validation, test))
        m = options["mini_batch_size"]
        for data, name, option in ((self.training, "training", "--train-limit"),
                                   (self.validation, "validation", "--validation-size"),
                                   (self.test, "test", "--test-limit")):
            if len(data[0]) < m:
                self.parser.error("argument {}: {} {} images in {}, fewer than one mini-batch of {}".format(
                    option, len(data[0]), name, self.data_dir, m))
        self.digest = None
        if self.resumed is not None and self._fingerprint() != self.resumed.command["data_sha256"]:
            raise ModelFileError(options["resume"], "the images in {} are not the ones this run started with; "
                                                    "give the run's data with --data".format(self.data_dir))

    def _fingerprint(self):
        if self.digest is None:
            self.digest = fingerprint(*(list(zip(*data)) for data in (self.training, self.validation, self.test)))
        return self.digest

    def _network(self):
        options, classes = self.options, max(self.training[1] + self.validation[1] + self.test[1]) + 1
        try:
            layers = build_layers(parse_layers(options["layers"]), options["mini_batch_size"], self.image_shape,
                                  max(classes, 10))
        except ArgumentError as e:
            self.parser.error("argument --layers: {}".format(e))
        check_memory_need(_parameters(layers) * _BYTES_PER_PARAMETER, "argument --layers: {:,} weights and "
                          "biases".format(_parameters(layers)), "give smaller layers", self.parser)
        if self.resumed is None:
            return network3.Network(layers, options["mini_batch_size"], seed=options["seed"],
                                    backend=options["backend"], threads=options["threads"])
        net = self.resumed.net
        net.threads = choose_threads(options["threads"])
        if describe(net) != describe(network3.Network(layers, options["mini_batch_size"], seed=0,
                                                      backend="reference")):
            raise ModelFileError(options["resume"], "the network is \"{}\", the options say \"{}\"".format(
                describe(net), options["layers"]))
        return net

    def _say_what(self, net):
        options = self.options
        say("purenn {}: network3 \"{}\", backend {} ({})".format(__version__, describe(net), net.backend,
                                                                backend_detail(net.backend)))
        say("data {}: training on {}, validating on {}, testing on {}".format(
            self.data_dir, len(self.training[0]), len(self.validation[0]), len(self.test[0])))
        say("epochs {}, mini-batch size {}, eta {}, lmbda {}, seed {}{}".format(
            options["epochs"], options["mini_batch_size"], options["eta"], options["lmbda"], options["seed"],
            ", shuffled" if options["shuffle"] else ""))
        if self.resumed is not None:
            state = self.resumed.state
            say("resuming {}: epoch {}, {} of {} training examples done".format(
                options["resume"], state["epoch"], state["done"], len(self.training[0])))

    def _train(self, net, stop, progress, keeper):
        options = self.options
        net.SGD(self.training, options["epochs"], options["mini_batch_size"], options["eta"], self.validation,
                self.test, options["lmbda"], shuffle=options["shuffle"], stop=stop, progress=progress,
                checkpoint=keeper, resume=self.resumed.state if self.resumed is not None else None)

    def _command(self):
        """The run's options as its checkpoints record them."""
        return {"command": "train3", "options": {name: self.options[name] for name in RUN3_OPTIONS},
                "data": os.path.abspath(self.data_dir), "data_sha256": self._fingerprint(),
                "save": self.options["save"] and os.path.abspath(self.options["save"])}

    def _finish(self, net, keeper):
        options = self.options
        if options["save"]:
            written, failed = save_finished(net, options["save"], save=lambda net, path: net.save(path))
            if failed is not None:
                kept = sorted(keeper.written | ({options["resume"]} if options["resume"] else set()))
                print("purenn: error: {}: {}; {}{}".format(
                    options["save"], failed.strerror or failed,
                    "saved the trained network to {} instead".format(written) if written else
                    "nor could the network be saved in the current or the temporary directory",
                    "; kept the checkpoint {}".format(", ".join(kept)) if kept else ""), file=sys.stderr)
                return 2
            say("saved the network to {}".format(written))
        removed = keeper.remove(options["resume"], keep=(options["save"],))
        if removed:
            say("the run is complete; removed its checkpoint {}".format(", ".join(removed)))
        return 0
