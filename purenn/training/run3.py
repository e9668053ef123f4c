"""run3.py -- what network3.SGD needs beyond the book's loop: stop, progress, checkpoints, resume.

network3.SGD stays the book's loop; it asks this module three things:

    run = Run3(net, settings, epochs, num_training_batches, order,
               stop=None, progress=None, checkpoint=None, resume=None)
    run.best                       (best validation accuracy, its iteration,
                                   the test accuracy then) to start from
    for epoch in run.epochs():     the epochs still to run
        if shuffle and run.shuffles():   False for the epoch a run resumes in
            ...
        for minibatch_index in run.mini_batches(snapshot):
            ...the book's body, unchanged...

Before each mini-batch (the epoch's order already drawn) run.mini_batches
tells progress(done, total), offers checkpoint(snapshot) -- a periodic
checkpoint writes snapshot() when it is due -- and asks stop(): if it says
yes, TrainingInterrupted carries a state (purenn.training.state, kind
"network3") from which SGD(..., resume=state) goes on bit for bit.
`snapshot` is SGD's: it puts the weights back into the layers' lists (the C
core keeps its own while training) and gives the best figures so far.

A network3 state holds the RNG and the order *as they are when the run
stopped* -- after the epoch's shuffle and the dropout masks of its first
`done` examples -- not, as for network and network2, before the shuffle: a
resumed epoch is not shuffled again and no masks are drawn twice (the
expanded dropout run draws 2,000 masks an example; drawing again the masks of
250,000 examples would take minutes).
"""

from ..errors import ArgumentError, TrainingInterrupted
from .state import make_state, resume_point

__all__ = ["Run3"]


class Run3:
    """One call of network3.SGD: where it starts, and its hooks."""

    def __init__(self, net, settings, epochs, num_training_batches, order, *, stop=None, progress=None,
                 checkpoint=None, resume=None):
        for name, value in (("stop", stop), ("progress", progress), ("checkpoint", checkpoint)):
            if value is not None and not callable(value):
                raise ArgumentError("{}: {!r} is not callable (give a function, or None)".format(name, value))
        self.net, self.settings, self.epoch_count = net, dict(settings), epochs
        self.batches, self.order = num_training_batches, order
        self.stop, self.progress, self.checkpoint = stop, progress, checkpoint
        self.first, self.done, self.best = 0, 0, (0.0, None, None)
        self.resumed_epoch = None
        if resume is not None:
            self.first, self.done, order_then, history = resume_point(net, resume, "network3", self.settings, epochs)
            order[:] = order_then
            self.resumed_epoch = self.first
            self.best = (history["best_validation_accuracy"], history["best_iteration"], history["test_accuracy"])

    def epochs(self):
        """The numbers of the epochs still to run, from the one a resumed run stopped in."""
        for epoch in range(self.first, self.epoch_count):
            self.epoch = epoch
            yield epoch

    def shuffles(self):
        """Whether this epoch draws its order: not the one a run resumes in (its order is the state's)."""
        return self.epoch != self.resumed_epoch

    def mini_batches(self, snapshot):
        """The indices of the epoch's mini-batches still to run; before each,
        progress, a periodic checkpoint and stop() (see the module docstring)."""
        m = self.settings["mini_batch_size"]
        first = self.done // m if self.epoch == self.resumed_epoch else 0
        for index in range(first, self.batches):
            self.done = index * m
            self._report(self.done)
            if self.checkpoint is not None and index > first:
                self.checkpoint(lambda: self._interrupted(snapshot()))
            if self.stop is not None and self.stop():
                raise self._interrupted(snapshot())
            yield index
        self.done = 0
        self._report(self.batches * m)

    def _report(self, done):
        if self.progress is not None:
            self.progress(done, self.batches * self.settings["mini_batch_size"])

    def _interrupted(self, best):
        validation, iteration, test = best
        history = {"best_validation_accuracy": validation, "best_iteration": iteration, "test_accuracy": test}
        state = make_state(self.net, "network3", self.settings, self.epoch, self.done, self.net.rng.getstate(),
                           self.order, history)
        return TrainingInterrupted(self.net, state, self.settings["n"])
