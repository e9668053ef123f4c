"""Stopping a `train` run with a checkpoint, and resuming it from one.

    StopSignals      SIGINT (Ctrl-C), SIGTERM and SIGHUP (a closed terminal) ask
                     training to stop after the current mini-batch; a second
                     one stops at once (StopNow)
    run_command      the run's options as its checkpoints record them
    save_stopped     write the checkpoint of a stopped run, say how to resume
    load_resumed     read a checkpoint and the run's options from it, checked
    fingerprint      SHA-256 of the data a run trains and measures on
"""

import argparse
import os
import shlex
import signal
import sys
import threading
from array import array

from ..errors import ArgumentError, ModelFileError
from ..training import checkpoint
from ..training.checks import is_finite_number
from .checkpoints import DEFAULT_CHECKPOINT
from .options import say

__all__ = ["StopSignals", "StopNow", "run_command", "save_stopped", "load_resumed", "fingerprint", "RUN_OPTIONS",
           "NETWORK2_OPTIONS", "DEFAULT_CHECKPOINT", "COST_NAMES", "cost_name", "asks_for_network2", "monitors",
           "acceptable"]

# Options that ask for network2 (chapter 3) rather than the chapter-1 network.
NETWORK2_OPTIONS = ("cost", "activation", "lmbda", "l1", "init", "dropout", "momentum", "schedule",
                    "early_stopping", "monitor", "monitor_training_cost", "monitor_training_accuracy",
                    "monitor_evaluation_cost", "monitor_evaluation_accuracy")
# The options a resumed run may change: where things go and how it runs, not what it computes.
RESUME_MAY_CHANGE = ("resume", "backend", "quiet", "data", "save", "plot", "checkpoint", "checkpoint_every")
# The options a checkpoint records, to run the rest of the training as it began.
RUN_OPTIONS = ("sizes", "epochs", "batch_size", "eta", "seed", "train_limit", "test_limit", "validation_size",
               "save", "plot", "validation") + NETWORK2_OPTIONS
#: --cost's choices -> network2's cost class names
COST_NAMES = {"quadratic": "QuadraticCost", "cross-entropy": "CrossEntropyCost", "log-likelihood": "LogLikelihoodCost"}


def cost_name(options):
    """The class name of the cost the options ask for (network2's default: cross-entropy)."""
    return COST_NAMES[options["cost"] or "cross-entropy"]


def asks_for_network2(options):
    """Whether these options (a dict by name) train network2 rather than the chapter-1 network."""
    return any(options[name] not in (None, False) for name in NETWORK2_OPTIONS)


def monitors(options):
    """Which of the four figures network2 measures after each epoch (by default the evaluation accuracy)."""
    chosen = {name: bool(options["monitor"] or options["monitor_" + name])
              for name in ("training_cost", "training_accuracy", "evaluation_cost", "evaluation_accuracy")}
    if not any(chosen.values()):
        chosen["evaluation_accuracy"] = True
    return chosen


#### Stopping

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class StopSignals:
    """While training: SIGINT (Ctrl-C), SIGTERM and SIGHUP (the terminal closed)
    ask training to stop after the current mini-batch; a second one stops at once.  Called, it says
    whether to stop.  Signals that were being ignored stay ignored."""

    def __init__(self):
        self.signum = None
        self._saved = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():  # only there can Python catch signals
            for signum in STOP_SIGNALS:
                if signal.getsignal(signum) is not signal.SIG_IGN:
                    self._saved[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc):
        for signum, handler in self._saved.items():
            if handler is not None:  # None: a handler not installed from Python, which cannot be put back
                signal.signal(signum, handler)

    def _handle(self, signum, frame):
        if self.signum is not None:
            raise StopNow(signum)  # asked twice: stop now (files are written atomically)
        self.signum = signum

    def __call__(self):
        return self.signum is not None


class StopNow(KeyboardInterrupt):
    """A second stop signal: the run ends at once, with status 128 + signum."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def run_command(options, records, data_dir, datasets):
    """The run's options as its checkpoints record them: a function of no
    arguments (the data's fingerprint is taken once, when first needed)."""
    digest = []

    def command():
        if not digest:
            digest.append(fingerprint(*datasets))
        recorded = {name: options[name] for name in RUN_OPTIONS}
        recorded.update(data=os.path.abspath(data_dir), save=options["save"] and os.path.abspath(options["save"]),
                        plot=options["plot"] and os.path.abspath(options["plot"]), records=list(records),
                        data_sha256=digest[0])
        return recorded
    return command


def save_stopped(keeper, interrupted, signum, command="train"):
    """Save the checkpoint of the run stopped by `signum` (with `keeper`, its
    RunCheckpoint), say how to resume it (with `command`); the exit status."""
    path = keeper.write(interrupted)
    name = signal.Signals(signum).name  # training stops only when a signal asked it to
    where = ("before epoch {}".format(interrupted.epoch) if not interrupted.done else
             "in epoch {} after {} of {} training examples".format(interrupted.epoch, interrupted.done,
                                                                    interrupted.n))
    say("stopped by {} {}; saved a checkpoint to {}".format(name, where, path))
    print("purenn: stopped; resume with: python -m purenn {} --resume {}".format(command, shlex.quote(path)),
          file=sys.stderr)
    return 128 + signum


#### Resuming

def load_resumed(options, given, backend, parser):
    """Load the checkpoint options["resume"]: the Checkpoint, and the run's
    options -- those of the checkpoint, but for the ones `given` on this
    command line (which may change only what RESUME_MAY_CHANGE lists).
    `parser` is the train command's, whose option types check the options."""
    path = options["resume"]
    for name in sorted(given - set(RESUME_MAY_CHANGE)):
        parser.error("argument --{}: not allowed with --resume; a resumed run keeps the settings it "
                     "started with".format(name.replace("_", "-")))
    resumed = checkpoint.load(path, backend=backend)
    command = resumed.command
    keys = set(RUN_OPTIONS) | {"data", "records", "data_sha256"}
    if not isinstance(command, dict) or not keys <= set(command):
        raise ModelFileError(path, "not a checkpoint of `purenn train` (its options are missing)")
    _check_options(command, path, {action.dest: action for action in parser._actions})
    options = dict(options)
    for name in RUN_OPTIONS + ("data",):
        if name not in given:
            options[name] = command[name]
    _check_run(resumed, options, command)
    return resumed, options


def _check_options(command, path, actions):
    """Each option a checkpoint records is one `train` would accept: checked by
    the very option types of the command line."""
    for name in RUN_OPTIONS:
        if not acceptable(command[name], actions[name]):
            raise ModelFileError(path, "its options have --{} {!r}, which train does not take".format(
                name.replace("_", "-"), command[name]))
    for name in ("data", "data_sha256"):
        if not isinstance(command[name], str):
            raise ModelFileError(path, "its options have {} {!r}, not a string".format(name, command[name]))


def acceptable(value, action):
    """Whether `value`, recorded in a checkpoint, is one the option `action` (argparse's) would give."""
    if value is None and action.default is None:
        return True
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
    return ok and (action.choices is None or value in action.choices)


def _check_run(resumed, options, command):
    """The checkpoint's network, state and options describe one run."""
    path, net, state, records = options["resume"], resumed.net, resumed.state, command["records"]
    if list(net.sizes) != options["sizes"]:
        raise ModelFileError(path, "the network is {}, the options say --sizes {}".format(net.sizes, options["sizes"]))
    chapter3 = state["kind"] == "network2"
    # (an older purenn trained network2 for --plot or --validation alone)
    options_say_network2 = asks_for_network2(command) or (chapter3 and bool(command["plot"] or command["validation"]))
    if chapter3 != options_say_network2:
        raise ModelFileError(path, "the options are for {}, the network is {}".format(
            "network2" if options_say_network2 else "the chapter-1 network", state["kind"]))
    if chapter3:
        expected = (cost_name(options), options["activation"] or "sigmoid",
                    options["dropout"] or 0.0)
        if (net.cost.__name__, net.activation, net.dropout) != expected:
            raise ModelFileError(path, "the network is {}, {}, dropout {}; the options say {}, {}, dropout {}".format(
                net.cost.__name__, net.activation, net.dropout, *expected))
    # One record per finished epoch (network2), each with the figures the table and chart show.
    needed = {"epoch", "eta", "seconds"} | {name for name, on in monitors(options).items() if on}
    if (not isinstance(records, list) or len(records) != (state["epoch"] if chapter3 else 0)
            or not all(isinstance(r, dict) and needed <= set(r) and all(
                is_finite_number(v) for v in r.values()) for r in records)):
        raise ModelFileError(path, "its records of the finished epochs do not fit the run")


def fingerprint(*datasets):
    """SHA-256 of the examples of each dataset, to check that a resumed run
    trains -- and measures, schedules and stops early -- on the same images."""
    import hashlib  # here: PyPy's hashlib loads cffi (see training.state.params_digest)
    digest = hashlib.sha256()
    for data in datasets:
        digest.update(len(data).to_bytes(8, "little"))
        for x, y in data:
            pixels = getattr(x, "pixels", None)
            digest.update(pixels if pixels is not None else array("d", x).tobytes())
            digest.update(array("d", [y] if isinstance(y, int) else y).tobytes())
    return digest.hexdigest()
