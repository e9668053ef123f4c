"""run.py -- the one training run that every network's SGD shares.

The book's SGD is a short loop: shuffle, slice the mini-batches, call
update_mini_batch on each, evaluate, print.  purenn's SGD methods are that
loop, written beside the book's; everything a long run needs beyond it is
here, once:

    TrainingRun(net, kind, training_data, epochs, mini_batch_size, eta, ...)
        the argument checks; the data wrapped once as Examples (so that a fast
        backend packs it once); the backend (run.core: None on the reference)
        and its Trainer; where to start (the beginning, or a stopped run's state)
    run.epochs()          the epochs still to run; stop() is asked before each,
                          and checkpoint(snapshot) between two (see below)
    run.shuffle()         the book's random.shuffle(training_data), on the
                          positions, with the network's RNG; dropout masks
    run.mini_batches()    the book's mini-batches, from where a resumed run
                          stopped; progress is told and stop() asked after each
    run.core_epoch()      the same mini-batches run by the engine or the C core
    run.seconds           how long the epoch's training took
    run.end_epoch(say)    network2: the epoch's record for on_epoch, the
                          divergence check of the training cost, early stopping
                          and the learning-rate schedule; True to stop

After the last mini-batch of an epoch the weights are checked (TrainingError
if any became NaN or infinite).  When stop() says yes, the run raises
TrainingInterrupted with a state from which SGD(..., resume=state) carries
on bit for bit (purenn.training.state).  Between two epochs, checkpoint(snapshot)
is called: snapshot() is the TrainingInterrupted a stop there would raise,
for a caller that keeps periodic checkpoints (training goes on).
"""

import os
import time

from ..backends import Examples, fast_backend
from ..errors import ArgumentError, TrainingInterrupted
from ..files.modelfile import save_network
from .checks import check_count, check_data, check_finite_after_epoch, check_number, check_params
from .state import make_state, resume_point

__all__ = ["TrainingRun"]


class TrainingRun:
    """One call of SGD: its data, backend, position, history and stopping.

    `kind` is "network" or "network2" (it names the state's kind);
    `evaluation_name` what SGD calls its evaluation data; `settings`
    the further SGD arguments that a resumed run must share (network2's lmbda,
    l1, momentum, schedule, early_stopping_n, monitor_* flags), checked by
    `check_settings(settings)` after the run's own checks; `history` the
    names of the lists the run measures into (kept in the state).
    """

    def __init__(self, net, kind, training_data, epochs, mini_batch_size, eta, *, evaluation_data=None,
                 evaluation_name="evaluation_data", settings=(), check_settings=None, history=("results",),
                 progress=None, stop=None, resume=None, on_epoch=None, checkpoint=None, start_epoch=None,
                 backups=(None, 5)):
        n_out = net.sizes[-1]
        self.offset, epochs = _numbering(start_epoch, epochs)
        self.training_data = Examples(training_data, labelled=False, n_out=n_out)
        self.evaluation_data = (Examples(evaluation_data, labelled=True, n_out=n_out)
                                if evaluation_data is not None else None) or None
        self._check(net, epochs, mini_batch_size, eta, evaluation_name)
        for name, value in (("progress", progress), ("stop", stop), ("on_epoch", on_epoch),
                            ("checkpoint", checkpoint)):
            if value is not None and not callable(value):
                raise ArgumentError("{}: {!r} is not callable (give a function, or None)".format(name, value))
        if check_settings is not None:
            check_settings(dict(settings))
        if (dict(settings).get("monitor_evaluation_cost") or dict(settings).get("monitor_evaluation_accuracy")) \
                and not self.evaluation_data:
            raise ArgumentError("{}: monitoring it was asked for, but none was given".format(evaluation_name))
        self.net, self.kind, self.n = net, kind, len(self.training_data)
        self.epoch_count, self.mini_batch_size = epochs, mini_batch_size
        self.eta = self.start_eta = float(eta)
        self.settings = dict({"n": self.n, "mini_batch_size": mini_batch_size, "eta": self.eta}, **dict(settings))
        self.history = {name: [] for name in history}
        self.progress, self.stop, self.on_epoch, self.checkpoint = progress, stop, on_epoch, checkpoint
        self.best, self.best_epoch, self.since_schedule = None, 0, 0
        self.order, self.first, self.done = list(range(self.n)), 0, 0
        self.velocities = _zeros(net) if self.settings.get("momentum") else None
        self.masks, self.seconds = None, 0.0
        if resume is not None:
            self._resume(resume)
        self.backups = Backups(net, *backups) if backups[0] is not None else None
        if self.backups is not None and resume is None and start_epoch in (None, 1):
            self.backups.save("initial")
        self.core = fast_backend(net)
        self.trainer = None if self.core is None else self.core.trainer(
            net, self.training_data, self.n, float(self.settings.get("lmbda", 0.0)),
            float(self.settings.get("l1", 0.0)), float(self.settings.get("momentum", 0.0)), self.velocities)

    def _check(self, net, epochs, mini_batch_size, eta, evaluation_name):
        check_count(epochs, "epochs", minimum=0)
        check_count(mini_batch_size, "mini_batch_size", minimum=1)
        check_number(eta, "eta")
        if not self.training_data:
            raise ArgumentError("training_data: empty")
        check_params(net)
        check_data(self.training_data, net.sizes, "training_data", labelled=False)
        if self.evaluation_data:
            check_data(self.evaluation_data, net.sizes, evaluation_name, labelled=True)

    def _resume(self, state):
        self.first, self.done, self.order, history = resume_point(
            self.net, state, self.kind, self.settings, self.epoch_count)
        for name in self.history:
            self.history[name] = list(history[name])
        if self.kind == "network2":
            self.eta, self.best = float(history["eta"]), history["best"]
            self.best_epoch, self.since_schedule = history["best_epoch"], history["since_schedule"]
        if state["velocity"] is not None:
            self.velocities = (_copy_floats(state["velocity"]["weights"]), _copy_floats(state["velocity"]["biases"]))

    #### The loop

    def epochs(self):
        """The numbers of the epochs still to run (from start_epoch, if given),
        from where a resumed run stopped; before an epoch is begun, stop() is
        asked, and after one checkpoint(snapshot) and the backups."""
        for j in range(self.first, self.epoch_count):
            if j > self.first and self.backups is not None:
                self.backups.after_epoch(self.epoch + self.offset)
            self.epoch = j
            if self.done == 0 and self.stop is not None and self.stop():
                raise self._interrupted(self.net.rng.getstate(), self.order)
            if self.done == 0 and self.checkpoint is not None and j > self.first:
                self.checkpoint(lambda: self._interrupted(self.net.rng.getstate(), self.order))
            yield j + self.offset
        if self.backups is not None and self.epoch_count > self.first:
            self.backups.after_epoch(self.epoch + self.offset)
            self.backups.save("epoch{}".format(self.epoch + self.offset))

    def shuffle(self):
        """The book's random.shuffle(training_data): the positions are
        shuffled with the network's RNG (the caller's list stays as it is).
        With dropout, the masks are drawn next: for a fast backend all the
        epoch's at once; for the reference those of the examples a stopped
        run had done, drawn again and left unused, so that update_mini_batch
        draws the rest exactly as an uninterrupted run would."""
        self.started = time.perf_counter()
        self.before_shuffle = (self.net.rng.getstate(), list(self.order))
        self.net.rng.shuffle(self.order)
        self.masks = None
        if self.net.dropout and self.core is not None:
            self.masks = self.net.dropout_masks(self.n)
        elif self.net.dropout and self.done:
            self.net.dropout_masks(self.done)

    def mini_batches(self):
        """The epoch's mini-batches, the book's training_data[k:k+mini_batch_size]
        taken over the shuffled positions; after each, progress and stop()."""
        n, size = self.n, self.mini_batch_size
        self._report(self.done)
        for k in range(self.done, n, size):
            yield [self.training_data[i] for i in self.order[k:k + size]]
            self.done = min(k + size, n)
            self._report(self.done)
            if self._should_stop():
                break
        self._end_training()

    def core_epoch(self):
        """The epoch's mini-batches run by the engine or the C core: as many
        per call as the backend asks for, progress and stop() between calls."""
        trainer, n, size = self.trainer, self.n, self.mini_batch_size
        trainer.begin_epoch(self.order, self.masks)
        step = trainer.examples_per_call(size, self.progress is not None or self.stop is not None)
        self._report(self.done)
        for begin in range(self.done, n, step):
            trainer.train(begin, min(begin + step, n), size, self.eta)
            self.done = min(begin + step, n)
            self._report(self.done)
            if self._should_stop():
                break
        trainer.end_epoch()
        self.velocities = trainer.velocities()
        self._end_training()

    def _report(self, done):
        if self.progress is not None:
            self.progress(done, self.n)

    def _should_stop(self):
        return self.done < self.n and self.stop is not None and self.stop()

    def _end_training(self):
        if self.done < self.n:
            if self.net.dropout and self.core is None:
                # The rest of the epoch's masks, drawn and left unused: the RNG then stands
                # where a fast backend, which draws the epoch's masks at once, leaves it.
                self.net.dropout_masks(self.n - self.done)
            raise self._interrupted(*self.before_shuffle)
        self.done = 0
        self.seconds = time.perf_counter() - self.started
        check_finite_after_epoch(self.net, self.epoch, self.eta, lmbda=self.settings.get("lmbda", 0.0), n=self.n)

    def _interrupted(self, rng_state, order):
        history = {name: list(values) for name, values in self.history.items()}
        if self.kind == "network2":
            history.update(eta=self.eta, start_eta=self.start_eta, best=self.best, best_epoch=self.best_epoch,
                           since_schedule=self.since_schedule)
        velocity = None
        if self.velocities is not None:
            velocity = {"weights": _copy_floats(self.velocities[0]), "biases": _copy_floats(self.velocities[1])}
        state = make_state(self.net, self.kind, self.settings, self.epoch, self.done, rng_state, order, history,
                           velocity)
        return TrainingInterrupted(self.net, state, self.n)

    #### network2: monitoring, early stopping and the schedule

    def end_epoch(self, say):
        """After the epoch's monitors: its record (epoch, seconds, eta and each
        figure monitored, accuracies as fractions) goes to on_epoch; then early
        stopping and the schedule look at the watched figure -- the first
        monitored of evaluation accuracy, evaluation cost, training accuracy,
        training cost.  True when training should stop."""
        record = self._record()
        if "training_cost" in record:
            check_finite_after_epoch(self.net, self.epoch, self.eta, record["training_cost"],
                                     lmbda=self.settings.get("lmbda", 0.0), n=self.n)
        if self.on_epoch is not None:
            self.on_epoch(record)
        watched = watched_figure(self.settings)
        if watched is None:
            return False
        # Accuracies should rise and costs fall: compare them all as "higher is better".
        figure = record[watched] if watched.endswith("accuracy") else -record[watched]
        j = self.epoch
        if self.best is None or figure > self.best:
            self.best, self.best_epoch, self.since_schedule = figure, j, j
        early_stopping_n, schedule = self.settings["early_stopping_n"], self.settings["schedule"]
        if early_stopping_n and j - self.best_epoch >= early_stopping_n:
            say("Early stopping: no improvement in {} epochs".format(early_stopping_n))
            return True
        if schedule and j - self.since_schedule >= schedule:
            self.eta /= 2.0
            self.since_schedule = j
            if self.eta <= self.start_eta / 128.0:
                say("Learning-rate schedule: eta has fallen to 1/128 of its start; stopping")
                return True
            say("Learning-rate schedule: eta halved to {}".format(self.eta))
        return False

    def _record(self):
        record = {"epoch": self.epoch, "seconds": self.seconds, "eta": self.eta}
        sizes = {"training": self.n, "evaluation": len(self.evaluation_data or ())}
        for name in ("training_cost", "training_accuracy", "evaluation_cost", "evaluation_accuracy"):
            if self.settings.get("monitor_" + name):
                value = self.history[name][-1]
                record[name] = value / sizes[name.split("_")[0]] if name.endswith("accuracy") else value
        return record


def _numbering(start_epoch, epochs):
    """(what to add to an epoch's index for its number, how many epochs to run):
    (0, epochs), or for the fork's start_epoch=k the epochs k..epochs."""
    if start_epoch is None:
        return 0, epochs
    check_count(start_epoch, "start_epoch", minimum=1)
    check_count(epochs, "epochs", minimum=start_epoch - 1)
    return start_epoch, epochs - start_epoch + 1


class Backups:
    """The DeepLearningPython35 fork's backups, as model files in `directory`."""

    def __init__(self, net, directory, every):
        check_count(every, "backup_every", minimum=1)
        self.net, self.directory, self.every = net, os.fspath(directory), every

    def save(self, name):
        os.makedirs(self.directory, exist_ok=True)
        save_network(self.net, os.path.join(self.directory, name + ".json"))

    def after_epoch(self, number):
        if number % self.every == 0:
            self.save("latest")


def watched_figure(settings):
    """The figure early stopping and the schedule watch: the first monitored
    of evaluation accuracy, evaluation cost, training accuracy, training cost."""
    for name in ("evaluation_accuracy", "evaluation_cost", "training_accuracy", "training_cost"):
        if settings.get("monitor_" + name):
            return name
    return None


def _zeros(net):
    """Velocities of zero, shaped like (net.weights, net.biases)."""
    return ([[[0.0] * len(w_j) for w_j in w] for w in net.weights], [[0.0] * len(b) for b in net.biases])


def _copy_floats(values):
    """Nested lists of numbers copied as floats."""
    return [_copy_floats(v) for v in values] if isinstance(values, list) else float(values)
