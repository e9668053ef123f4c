"""A backend's own form of a network's parameters, made again only when they change.

The C core works on one flat array of doubles, the Python engine on private
copies of the lists.  Making that form (packing) costs about as much as one
feedforward in Python, so it is made once and kept beside a snapshot of
net.weights and net.biases: the row lists copied, the float objects shared.
Before each use the network's lists are compared with the snapshot (a list
comparison, done in C, that first asks whether two entries are the same
object), so a change of any weight -- a new list assigned, or one number
set in place -- makes the form again, and nothing else does.

Equality is enough: the forms are used for forward passes, whose results do
not depend on the sign of a zero weight (a sum starts from +0.0, and
+0.0 + -0.0 is +0.0), and a NaN that is not the very same object as the one
in the snapshot counts as a change.  Training writes its results back with
`store`, so the next epoch or evaluation finds its form ready.
"""

import weakref

__all__ = ["ParamsCache"]


def _snapshot(net):
    return ([[list(w_j) for w_j in w] for w in net.weights], [list(b) for b in net.biases])


class ParamsCache:
    """form = cache.get(net): make(net) when net's parameters have changed since the last call."""

    def __init__(self, make):
        self.make = make
        self._entries = weakref.WeakKeyDictionary()  # net -> (weights snapshot, biases snapshot, form)

    def get(self, net):
        entry = self._entries.get(net)
        if entry is not None and entry[1] == net.biases and entry[0] == net.weights:
            return entry[2]
        form = self.make(net)
        self.store(net, form)
        return form

    def store(self, net, form):
        """Remember `form` as the one for net's parameters as they are now."""
        weights, biases = _snapshot(net)
        self._entries[net] = (weights, biases, form)
