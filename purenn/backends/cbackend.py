"""The glue between a Network and the C core (purenn._core, built from csrc/).

Importing this module imports the compiled core, so it fails with
ImportError where the core is not built; purenn.backends catches that.

The C functions work on flat arrays of doubles (`array('d')`), shared with C
through `ffi.from_buffer` without copying.  Parameters are packed from the
network's nested lists before a call and unpacked after it, so
`net.weights` and `net.biases` stay plain lists whichever backend runs.
Training data is packed once per SGD call, never per example.  Every shape
and length is checked here, in Python, before C sees a pointer.
"""

import os
from array import array

from . import _core
from ._core import ffi, lib
from ..training.checks import is_whole_number
from ..errors import ArgumentError

__all__ = ["CoreBackend"]

# With a progress line or a stop request: a call into C for about this many
# examples at a time (a few milliseconds for the book's network).
_EXAMPLES_PER_CALL = 1000

# The codes of pn_net (csrc/purenn_core.h).
_ACTIVATION = {"sigmoid": 0, "tanh": 1, "relu": 2, "softmax": 3}
_COST = {"QuadraticCost": 0, "CrossEntropyCost": 1, "LogLikelihoodCost": 2}


def _ptr(ctype, buf):
    return ffi.from_buffer(ctype, buf)


def _check(status, what):
    """Turn a C status into an exception (csrc/purenn_core.h lists them)."""
    if status == -1:
        raise MemoryError("the C core could not allocate its workspace for {}".format(what))
    if status == -2:
        raise ArgumentError("the C core takes networks of 2 to 64 layers ({})".format(what))
    if status != 0:
        raise ArgumentError("the C core refused the arguments for {} (status {})".format(what, status))


class _Layout:
    """The layer sizes of a network as C sees them, and its parameter packing."""

    def __init__(self, net, n=1, lmbda=0.0, l1=0.0, momentum=0.0):
        if len(net.sizes) > 64:
            raise ArgumentError("sizes: the C core takes at most 64 layers, not {}".format(len(net.sizes)))
        self.sizes = list(net.sizes)
        self.sizes_array = array("q", self.sizes)
        self.c_sizes = _ptr("int64_t[]", self.sizes_array)
        self.n_layers = len(self.sizes)
        self.count = lib.pn_param_count(self.n_layers, self.c_sizes)
        self.hidden = lib.pn_hidden_count(self.n_layers, self.c_sizes)
        # purenn.network's Network has no cost, activation or dropout: it is
        # network2's sigmoid network with the quadratic cost and no options.
        cost = getattr(net, "cost", None)
        self.net = ffi.new("pn_net *", {
            "n_layers": self.n_layers, "sizes": self.c_sizes,
            "hidden": _ACTIVATION[getattr(net, "activation", "sigmoid")],
            "output": _ACTIVATION[cost.output if cost is not None else "sigmoid"],
            "cost": _COST[cost.__name__ if cost is not None else "QuadraticCost"],
            "lmbda": lmbda, "l1": l1, "momentum": momentum,
            "dropout": getattr(net, "dropout", 0.0), "n": n,
        })

    def pack(self, net, weights=None, biases=None, name="net"):
        """net.weights and net.biases (or the `weights` and `biases` given,
        shaped like them) as one flat array('d') (layout: purenn_core.h)."""
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
                n_in, n_out = self.sizes[l], self.sizes[l + 1]
                if len(w) != n_out or len(b) != n_out:
                    raise ArgumentError(
                        "{0}.weights[{1}] and {0}.biases[{1}] need {2} rows for sizes {3}".format(
                            name, l, n_out, self.sizes))
                for j, w_j in enumerate(w):
                    if len(w_j) != n_in:
                        raise ArgumentError("{}.weights[{}][{}] has {} entries, needs {}".format(
                            name, l, j, len(w_j), n_in))
                for column in zip(*w):  # C keeps w transposed: column k is w[.][k]
                    params.extend(column)
                params.extend(b)
        except TypeError as e:
            raise ArgumentError("{0}.weights/{0}.biases: not all numbers ({1})".format(name, e)) from None
        return params

    def unpack(self, net, params):
        """Set net.weights and net.biases, as nested lists, from a flat array('d')."""
        net.weights, net.biases = self.lists(params)

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


def _pack_rows(rows, width, name):
    """A list of `width`-long number lists as one flat array('d'), len(rows) x width."""
    flat = array("d", [0.0]) * (width * len(rows))  # allocated once: growing it is slower
    if rows and all(getattr(row, "pixels", None) is not None and len(row) == width for row in rows):
        # mnist_loader.Image rows: their bytes, divided by 256 in C (exactly as in Python)
        pixels = b"".join(row.pixels for row in rows)
        lib.pn_pixels_to_doubles(_ptr("uint8_t[]", pixels), len(pixels), _ptr("double[]", flat))
        return flat
    try:
        for i, row in enumerate(rows):
            if len(row) != width:
                raise ArgumentError("{}[{}]: has {} numbers, expected {}".format(name, i, len(row), width))
            flat[i * width:(i + 1) * width] = array("d", row)
    except TypeError as e:
        raise ArgumentError("{}: not all numbers ({})".format(name, e)) from None
    return flat


class _Trainer:
    """One SGD run under the C core: the data packed once, epochs run in C.
    The twin of the mini-batch loop in network.Network.SGD and of
    network2._PythonTrainer."""

    def __init__(self, net, training_data, test_data=None, n=None, lmbda=0.0, l1=0.0, momentum=0.0):
        self.net = net
        self.n = len(training_data)
        self.layout = _Layout(net, n if n is not None else self.n, lmbda, l1, momentum)
        n_in, n_out = net.sizes[0], net.sizes[-1]
        self.X = _pack_rows([x for x, _ in training_data], n_in, "training_data x")
        self.Y = _pack_rows([y for _, y in training_data], n_out, "training_data y")
        self.velocity = array("d", [0.0]) * self.layout.count if momentum else None
        self.test_X, self.test_labels = None, []
        if test_data:
            self.test_X = _pack_rows([x for x, _ in test_data], n_in, "test_data x")
            self.test_labels = [y for _, y in test_data]

    def epoch(self, order, mini_batch_size, eta, progress=None, masks=None, start=0, stop=None):
        """One epoch from position `start`: the same mini-batches as the Python
        loop, in C.  Returns the positions done; with `progress` or `stop`,
        C is called for about _EXAMPLES_PER_CALL examples at a time and
        stop() is asked after each call."""
        if not is_whole_number(mini_batch_size, 1):
            raise ArgumentError("mini_batch_size: {!r} is not a positive whole number".format(mini_batch_size))
        if len(order) != self.n or (order and (min(order) < 0 or max(order) >= self.n)):
            raise ArgumentError("order: not positions 0..{} of the training data".format(self.n - 1))
        layout = self.layout
        if not is_whole_number(start, 0) or start > self.n or (start % mini_batch_size and start != self.n):
            raise ArgumentError("start: {!r} is not a whole number of mini-batches into the epoch".format(start))
        if masks is not None and len(masks) != self.n * layout.hidden:
            raise ArgumentError("masks: {} bytes, expected {} (one per hidden neuron per example)".format(
                len(masks), self.n * layout.hidden))
        if progress is not None:
            progress(start, self.n)
        params = layout.pack(self.net)
        order = array("q", order)
        c_params, c_order = _ptr("double[]", params), _ptr("int64_t[]", order)
        c_X, c_Y = _ptr("double[]", self.X), _ptr("double[]", self.Y)
        c_velocity = _ptr("double[]", self.velocity) if self.velocity is not None else ffi.NULL
        c_masks = _ptr("uint8_t[]", masks) if masks is not None else ffi.NULL
        # Whole mini-batches per call, so batches fall where Python's would.
        step = (self.n if progress is None and stop is None
                else max(1, _EXAMPLES_PER_CALL // mini_batch_size) * mini_batch_size)
        done = self.n
        for begin in range(start, self.n, step):
            count = min(step, self.n - begin)
            masks_here = c_masks + begin * layout.hidden if masks is not None else ffi.NULL
            _check(lib.pn_train(layout.net, c_params, c_velocity, c_X, c_Y, c_order + begin, count,
                                masks_here, mini_batch_size, float(eta)), "training")
            if progress is not None:
                progress(begin + count, self.n)
            if stop is not None and begin + count < self.n and stop():
                done = begin + count
                break
        del c_params, c_order
        layout.unpack(self.net, params)
        return done

    def get_velocity(self):
        """The momentum velocities (weights, biases) as nested lists, or None."""
        return None if self.velocity is None else self.layout.lists(self.velocity)

    def set_velocity(self, weights, biases):
        self.velocity = self.layout.pack(self.net, weights, biases, name="velocity")

    def evaluate(self):
        if not self.test_labels:
            return 0
        predictions = _classify(self.layout, self.layout.pack(self.net), self.test_X, len(self.test_labels))
        return sum(int(p == y) for p, y in zip(predictions, self.test_labels))


def _classify(layout, params, X, n):
    labels = array("q", [0]) * n
    _check(lib.pn_classify(layout.net, _ptr("double[]", params), _ptr("double[]", X), n,
                           _ptr("int64_t[]", labels)), "classify")
    return labels.tolist()


class _Examples:
    """Twin of network2._PythonExamples: the data packed once, measured in C."""

    def __init__(self, net, data, labelled):
        self.net, self.n = net, len(data)
        n_in, n_out = net.sizes[0], net.sizes[-1]
        self.X = _pack_rows([x for x, _ in data], n_in, "data x")
        if labelled:
            self.labels = [y for _, y in data]
            self.Y = array("d", [0.0]) * (self.n * n_out)
            for i, y in enumerate(self.labels):
                self.Y[i * n_out + y] = 1.0  # vectorized_result(y)
        else:
            self.Y = _pack_rows([y for _, y in data], n_out, "data y")
            self.labels = [_argmax(y) for _, y in data]

    def accuracy(self):
        if not self.n:
            return 0
        layout = _Layout(self.net)
        predictions = _classify(layout, layout.pack(self.net), self.X, self.n)
        return sum(int(p == label) for p, label in zip(predictions, self.labels))

    def costs(self):
        layout = _Layout(self.net)
        costs = array("d", [0.0]) * self.n
        if self.n:
            _check(lib.pn_costs(layout.net, _ptr("double[]", layout.pack(self.net)), _ptr("double[]", self.X),
                                _ptr("double[]", self.Y), self.n, _ptr("double[]", costs)), "costs")
        return costs.tolist()


def _argmax(values):
    from ..network import argmax
    return argmax(values)


class CoreBackend:
    """The C core behind the interface purenn.network and purenn.network2 use."""

    name = "c"

    def describe(self):
        return "C core {}".format(os.path.basename(_core.__file__))

    def trainer(self, net, training_data, test_data):
        return _Trainer(net, training_data, test_data)

    def trainer2(self, net, training_data, n, lmbda, l1, momentum):
        return _Trainer(net, training_data, None, n, lmbda, l1, momentum)

    def feedforward(self, net, a):
        layout = _Layout(net)
        X = _pack_rows([a], net.sizes[0], "a")
        out = array("d", [0.0]) * net.sizes[-1]
        _check(lib.pn_feedforward(layout.net, _ptr("double[]", layout.pack(net)), _ptr("double[]", X), 1,
                                  _ptr("double[]", out)), "feedforward")
        return out.tolist()

    def classify(self, net, xs):
        layout = _Layout(net)
        return _classify(layout, layout.pack(net), _pack_rows(xs, net.sizes[0], "x"), len(xs))

    def examples(self, net, data, labelled):
        return _Examples(net, data, labelled)

    def update_mini_batch(self, net, mini_batch, eta):
        trainer = _Trainer(net, mini_batch)
        trainer.epoch(list(range(len(mini_batch))), len(mini_batch), eta)
