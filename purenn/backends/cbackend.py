"""The glue between a network and the C core (purenn.backends._core, built from csrc/).

Importing this module imports the compiled core, so it fails with
ImportError where the core is not built; purenn.backends catches that.

The C functions work on flat arrays of doubles (`array('d')`), shared with C
through `ffi.from_buffer` without copying.  A network's parameters are
packed into one such array (csrc/purenn.h gives the layout) once, and again
only when its weights change (ParamsCache); training works on a copy and
unpacks it into net.weights and net.biases after each epoch, so they stay
plain lists whichever backend runs.  Examples are packed once per data set
(Examples.packed), never per example.  Every shape and length is checked
here, in Python, before C sees a pointer.
"""

import os
from array import array

from . import C_MAX_LAYERS, _core
from ._core import ffi, lib
from ..errors import ArgumentError
from ..training.checks import is_whole_number
from .cache import ParamsCache

__all__ = ["CoreBackend", "ptr", "pack_rows", "check_status"]

# With a progress line or a stop request: a call into C for about this many
# examples at a time (a few milliseconds for the book's network).
EXAMPLES_PER_CALL = 1000

# The codes of pn_net (csrc/purenn.h).
_ACTIVATION = {"sigmoid": 0, "tanh": 1, "relu": 2, "softmax": 3}
_COST = {"QuadraticCost": 0, "CrossEntropyCost": 1, "LogLikelihoodCost": 2}


def ptr(ctype, buf):
    """A C pointer of `ctype` into the buffer `buf`, shared, not copied."""
    return ffi.from_buffer(ctype, buf)


def check_status(status, what):
    """Turn a C status into an exception (csrc/purenn.h lists them)."""
    if status == -1:
        raise MemoryError("the C core could not allocate its workspace for {}".format(what))
    if status == -2:
        raise ArgumentError("the C core takes networks of 2 to 64 layers ({})".format(what))
    if status != 0:
        raise ArgumentError("the C core refused the arguments for {} (status {})".format(what, status))


class _Layout:
    """A network's layer sizes and codes as C sees them (a pn_net), and its parameter packing."""

    def __init__(self, net, n=1, lmbda=0.0, l1=0.0, momentum=0.0):
        if len(net.sizes) > C_MAX_LAYERS:
            raise ArgumentError("sizes: the C core takes at most {} layers, not {}".format(C_MAX_LAYERS,
                                                                                         len(net.sizes)))
        self.sizes = list(net.sizes)
        self.sizes_array = array("q", self.sizes)
        self.c_sizes = ptr("int64_t[]", self.sizes_array)
        self.n_layers = len(self.sizes)
        self.count = lib.pn_param_count(self.n_layers, self.c_sizes)
        self.hidden = lib.pn_hidden_count(self.n_layers, self.c_sizes)
        self.net = ffi.new("pn_net *", {
            "n_layers": self.n_layers, "sizes": self.c_sizes,
            "hidden": _ACTIVATION[net.activation], "output": _ACTIVATION[net.cost.output],
            "cost": _COST[net.cost.__name__], "lmbda": lmbda, "l1": l1, "momentum": momentum,
            "dropout": net.dropout, "n": n,
        })

    def pack(self, net, weights=None, biases=None, name="net"):
        """net.weights and net.biases (or the `weights` and `biases` given,
        shaped like them) as one flat array('d') (layout: csrc/purenn.h)."""
        if list(net.sizes) != self.sizes:
            raise ArgumentError("net.sizes changed from {} to {}".format(self.sizes, net.sizes))
        if weights is None:
            weights, biases = net.weights, net.biases
        if len(weights) != self.n_layers - 1 or len(biases) != self.n_layers - 1:
            raise ArgumentError("{0}.weights and {0}.biases need {1} layers for sizes {2}".format(
                name, self.n_layers - 1, self.sizes))
        params = array("d")
        try:
            for l, (w, b) in enumerate(zip(weights, biases)):
                self._check_rows(name, l, w, b)
                for column in zip(*w):  # C keeps w transposed: column k is w[.][k]
                    params.extend(column)
                params.extend(b)
        except TypeError as e:
            raise ArgumentError("{0}.weights/{0}.biases: not all numbers ({1})".format(name, e)) from None
        return params

    def _check_rows(self, name, l, w, b):
        n_in, n_out = self.sizes[l], self.sizes[l + 1]
        if len(w) != n_out or len(b) != n_out:
            raise ArgumentError("{0}.weights[{1}] and {0}.biases[{1}] need {2} rows for sizes {3}".format(
                name, l, n_out, self.sizes))
        for j, w_j in enumerate(w):
            if len(w_j) != n_in:
                raise ArgumentError("{}.weights[{}][{}] has {} entries, needs {}".format(
                    name, l, j, len(w_j), n_in))

    def lists(self, params):
        """(weights, biases) as nested lists from a flat array('d')."""
        weights, biases = [], []
        p = 0
        for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:]):
            end = p + n_in * n_out
            weights.append([params[p + j:end:n_out].tolist() for j in range(n_out)])
            p = end
            biases.append(params[p:p + n_out].tolist())
            p += n_out
        return weights, biases


def _packed_params(net):
    return _Layout(net).pack(net)


_FORMS = ParamsCache("c", _packed_params)


def pack_rows(rows, width, name):
    """A list of `width`-long number lists as one flat array('d'), len(rows) x width."""
    flat = array("d", [0.0]) * (width * len(rows))  # allocated once: growing it is slower
    if rows and all(getattr(row, "pixels", None) is not None and len(row) == width for row in rows):
        # mnist_loader.Image rows: their bytes, divided by 256 in C (exactly as in Python)
        pixels = b"".join(row.pixels for row in rows)
        lib.pn_pixels_to_doubles(ptr("uint8_t[]", pixels), len(pixels), ptr("double[]", flat))
        return flat
    try:
        for i, row in enumerate(rows):
            if len(row) != width:
                raise ArgumentError("{}[{}]: has {} numbers, expected {}".format(name, i, len(row), width))
            flat[i * width:(i + 1) * width] = array("d", row)
    except TypeError as e:
        raise ArgumentError("{}: not all numbers ({})".format(name, e)) from None
    return flat


def _packed_examples(net, examples):
    """(X, Y): the examples' inputs (n x sizes[0]) and desired outputs (n x sizes[-1]), packed once."""
    key = ("c", net.sizes[0], net.sizes[-1])
    if key not in examples.packed:
        examples.packed[key] = (pack_rows(examples.xs(), net.sizes[0], "x"),
                                pack_rows(examples.ys, net.sizes[-1], "y"))
    return examples.packed[key]


class _Trainer:
    """One SGD run under the C core (the protocol's Trainer): the data packed
    once, the mini-batches run in C -- the twin of update_mini_batch."""

    def __init__(self, net, examples, n, lmbda, l1, momentum, velocities):
        self.net, self.n = net, len(examples)
        self.layout = _Layout(net, n, lmbda, l1, momentum)
        self.X, self.Y = _packed_examples(net, examples)
        self.velocity = None
        if momentum:
            self.velocity = (array("d", [0.0]) * self.layout.count if velocities is None
                             else self.layout.pack(net, *velocities, name="velocity"))

    def examples_per_call(self, batch, interruptible):
        # Whole mini-batches per call, so that batches fall where Python's would.
        return max(1, EXAMPLES_PER_CALL // batch) * batch if interruptible else self.n

    def begin_epoch(self, order, masks):
        if len(order) != self.n or (order and (min(order) < 0 or max(order) >= self.n)):
            raise ArgumentError("order: not positions 0..{} of the training data".format(self.n - 1))
        if masks is not None and len(masks) != self.n * self.layout.hidden:
            raise ArgumentError("masks: {} bytes, expected {} (one per hidden neuron per example)".format(
                len(masks), self.n * self.layout.hidden))
        self.params = array("d", _FORMS.get(self.net, exact=True))  # a copy: the cached form stays as it is
        self.order = array("q", order)
        self.masks = masks

    def train(self, begin, end, batch, eta):
        if not is_whole_number(batch, 1):
            raise ArgumentError("batch: {!r} is not a positive whole number".format(batch))
        if not is_whole_number(begin, 0) or begin > self.n or (begin % batch and begin != self.n):
            raise ArgumentError("begin: {!r} is not a whole number of mini-batches into the epoch".format(begin))
        if not is_whole_number(end, begin) or end > self.n:
            raise ArgumentError("end: {!r} is not a position from {} to {}".format(end, begin, self.n))
        hidden = self.layout.hidden
        masks = ptr("uint8_t[]", self.masks) + begin * hidden if self.masks is not None else ffi.NULL
        velocity = ptr("double[]", self.velocity) if self.velocity is not None else ffi.NULL
        check_status(lib.pn_train(self.layout.net, ptr("double[]", self.params), velocity, ptr("double[]", self.X),
                                  ptr("double[]", self.Y), ptr("int64_t[]", self.order) + begin, end - begin,
                                  masks, batch, float(eta)), "training")

    def end_epoch(self):
        self.net.weights, self.net.biases = self.layout.lists(self.params)
        _FORMS.store(self.net, self.params)

    def velocities(self):
        return None if self.velocity is None else self.layout.lists(self.velocity)


class CoreBackend:
    """The C core behind the backend protocol (purenn.backends)."""

    name = "c"

    def describe(self):
        return "C core {}".format(os.path.basename(_core.__file__))

    def feedforward(self, net, x):
        return self._forward(net, pack_rows([x], net.sizes[0], "a"), 1)

    def classify(self, net, examples):
        labels = array("q", [0]) * len(examples)
        if examples:
            X, layout = _packed_examples(net, examples)[0], _Layout(net)  # layout.net points into layout
            check_status(lib.pn_classify(layout.net, ptr("double[]", _FORMS.get(net)), ptr("double[]", X),
                                         len(examples), ptr("int64_t[]", labels)), "classify")
        return labels.tolist()

    def costs(self, net, examples):
        costs = array("d", [0.0]) * len(examples)
        if examples:
            (X, Y), layout = _packed_examples(net, examples), _Layout(net)
            check_status(lib.pn_costs(layout.net, ptr("double[]", _FORMS.get(net)), ptr("double[]", X),
                                      ptr("double[]", Y), len(examples), ptr("double[]", costs)), "costs")
        return costs.tolist()

    def trainer(self, net, examples, n, lmbda, l1, momentum, velocities):
        return _Trainer(net, examples, n, lmbda, l1, momentum, velocities)

    def svm(self, svm, images):
        """The SVM baseline's C twin (csvm.CoreSVM) for mnist_svm.LinearSVM `svm`."""
        from .csvm import CoreSVM  # loaded on demand, as the core itself is
        return CoreSVM(svm, images)

    def _forward(self, net, X, n):
        out = array("d", [0.0]) * (n * net.sizes[-1])
        if n:
            layout = _Layout(net)
            check_status(lib.pn_feedforward(layout.net, ptr("double[]", _FORMS.get(net)), ptr("double[]", X),
                                            n, ptr("double[]", out)), "feedforward")
        return out.tolist()
