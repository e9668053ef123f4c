"""The Python engine: the reference's arithmetic, arranged for speed.

purenn.network and purenn.network2 say what is computed, one multiply at a
time.  This module computes exactly the same numbers -- the same operations
on the same operands, every sum in the same order, bit for bit -- in the
way the C core does, so that plain CPython and PyPy run it several times
faster.  It is what the "python" backend runs for SGD and for measuring a
network; the "reference" backend runs the teaching code itself.

Where the speed comes from, and why each step keeps every bit:

*   Weights are kept as the C core keeps them, by column: cols[k] holds
    w[0][k], w[1][k], ...  Adding input k's contribution to all the
    weighted inputs is then one pass over one short list, done inside
    `map` with the operator module's functions rather than a Python loop.
    Each z[j] still receives its terms in the order k = 0, 1, ...
*   Most MNIST pixels are 0.  The reference skips terms whose input is 0
    (network.dot, network.outer); here those inputs are never visited.
*   After a mini-batch, a weight whose gradient is exactly +0.0 (its input
    was 0 in every example) is left alone -- w - rate * 0.0 is w, bit for
    bit -- when the update has no weight decay, L1 step or momentum.
*   An image kept as bytes (purenn.mnist_loader.Image) gives its non-zero
    positions straight from the bytes.

Shapes: cols[l][k] is a list of n_out floats (column k of layer l's w);
b[l] a list of n_out floats; activations and deltas are lists.
"""

from functools import reduce
from itertools import compress, repeat
from operator import add, mul, sub

from .network import argmax, sigmoid
from .network2 import ACTIVATIONS, COSTS, softmax, vectorized_result, _sign

__all__ = ["EngineBackend"]


def _nonzeros(a):
    """The positions of the non-zero entries of a (bool(x) is x != 0.0, NaN included)."""
    pixels = getattr(a, "pixels", None)
    return list(compress(range(len(a)), pixels if pixels is not None else a))


class _Net:
    """A network's parameters by column, and what its layers compute."""

    def __init__(self, net):
        self.net = net
        self.sizes = list(net.sizes)
        cost = getattr(net, "cost", None)
        self.cost = cost if cost is not None else COSTS["QuadraticCost"]
        self.hidden = getattr(net, "activation", "sigmoid")
        self.softmax = self.cost.output == "softmax"
        self.dropout = getattr(net, "dropout", 0.0)
        f, prime = ACTIVATIONS[self.hidden]
        self.f, self.prime = f, prime
        self.quadratic = self.cost.__name__ == "QuadraticCost"

    def load(self):
        """Columns and biases from net.weights and net.biases."""
        self.cols = [[list(column) for column in zip(*w)] for w in self.net.weights]
        self.b = [list(b) for b in self.net.biases]

    def store(self):
        """net.weights and net.biases (nested lists, rows) from the columns."""
        self.net.weights = [[list(row) for row in zip(*cols)] for cols in self.cols]
        self.net.biases = [list(b) for b in self.b]

    def forward(self, x, mask=None):
        """Twin of the forward pass of the reference: (inputs, nonzeros, raws) per
        layer -- inputs[l] is the input to weight layer l (after dropout),
        nonzeros[l] its non-zero positions, raws[l] layer l+1's f(z) before dropout."""
        inputs, nonzeros, raws = [x], [_nonzeros(x)], []
        a = x
        last = len(self.cols) - 1
        offset = 0
        for l, (cols, b) in enumerate(zip(self.cols, self.b)):
            nz = nonzeros[l]
            z = [0.0] * len(b)
            for k in nz:
                z = list(map(add, z, map(mul, cols[k], repeat(a[k]))))
            z = list(map(add, z, b))
            if l == last:
                a = softmax(z) if self.softmax else list(map(sigmoid, z))
            else:
                a = list(map(self.f, z))
            raws.append(a)
            if mask is not None and l < last:
                scale = 1.0 / (1.0 - self.dropout)
                n = len(a)
                a = [a_j * scale if kept else 0.0 for a_j, kept in zip(a, mask[offset:offset + n])]
                offset += n
            if l < last:
                inputs.append(a)
                nonzeros.append(_nonzeros(a))
        return inputs, nonzeros, raws

    def output(self, x):
        a = x
        last = len(self.cols) - 1
        for l, (cols, b) in enumerate(zip(self.cols, self.b)):
            z = [0.0] * len(b)
            for k in _nonzeros(a):
                z = list(map(add, z, map(mul, cols[k], repeat(a[k]))))
            z = list(map(add, z, b))
            a = (softmax(z) if self.softmax else list(map(sigmoid, z))) if l == last else list(map(self.f, z))
        return a


class _Trainer:
    """SGD epochs for one run: the twin of network's and network2's loops and of
    the C core's pn_train."""

    def __init__(self, net, training_data, test_data=None, n=None, lmbda=0.0, l1=0.0, momentum=0.0):
        self.model = _Net(net)
        self.net = net
        self.training_data = training_data
        self.test_data = test_data or []
        self.n = n if n is not None else len(training_data)
        self.lmbda, self.l1, self.momentum = lmbda, l1, momentum
        self.velocity = None
        if momentum:
            sizes = net.sizes
            self.velocity = ([[[0.0] * n_out for _ in range(n_in)] for n_in, n_out in zip(sizes[:-1], sizes[1:])],
                             [[0.0] * n_out for n_out in sizes[1:]])

    def epoch(self, order, mini_batch_size, eta, progress=None, masks=None):
        model = self.model
        model.load()
        total = len(order)
        hidden = sum(model.sizes[1:-1])
        if progress is not None:
            progress(0, total)
        for start in range(0, total, mini_batch_size):
            positions = range(start, min(start + mini_batch_size, total))
            self._mini_batch([self.training_data[order[i]] for i in positions],
                             [masks[i * hidden:(i + 1) * hidden] for i in positions] if masks else None, eta)
            if progress is not None:
                progress(positions[-1] + 1, total)
        model.store()

    def _mini_batch(self, batch, masks, eta):
        model = self.model
        nabla_cols = [[None] * len(cols) for cols in model.cols]  # None: still exactly 0.0
        nabla_b = [[0.0] * len(b) for b in model.b]
        for i, (x, y) in enumerate(batch):
            self._backprop_add(x, y, masks[i] if masks else None, nabla_cols, nabla_b)
        rate = eta / len(batch)
        self._descend(nabla_cols, nabla_b, eta, rate)

    def _backprop_add(self, x, y, mask, nabla_cols, nabla_b):
        """Twin of backprop, its gradient added into nabla_cols and nabla_b."""
        model = self.model
        inputs, nonzeros, raws = model.forward(x, mask)
        a = raws[-1]
        if model.quadratic:
            delta = [(a_j - y_j) * (a_j * (1.0 - a_j)) for a_j, y_j in zip(a, y)]
        else:
            delta = list(map(sub, a, y))
        scale = 1.0 / (1.0 - model.dropout) if mask is not None else 1.0
        offset = sum(model.sizes[1:-1])
        for l in range(len(model.cols) - 1, -1, -1):
            nabla_b[l] = list(map(add, nabla_b[l], delta))
            columns, a_in = nabla_cols[l], inputs[l]
            zeros = [0.0] * len(delta)
            for k in nonzeros[l]:
                # 0.0 + p, not p: the sum starts at +0.0 in the reference too (-0.0 + ... differs)
                column = columns[k] if columns[k] is not None else zeros
                columns[k] = list(map(add, column, map(mul, delta, repeat(a_in[k]))))
            if l == 0:
                break
            # delta of the layer below: (w^T delta) * f'(z), then dropout
            below = [reduce(add, map(mul, column, delta), 0.0) for column in model.cols[l]]
            below = [t * model.prime(a_k) for t, a_k in zip(below, raws[l - 1])]
            if mask is not None:
                offset -= len(below)
                below = [d * scale if kept else 0.0 for d, kept in zip(below, mask[offset:offset + len(below)])]
            delta = below

    def _descend(self, nabla_cols, nabla_b, eta, rate):
        """Twin of the update of update_mini_batch (network) / _update (network2)."""
        model = self.model
        n = self.n
        if self.momentum == 0.0:
            decay = 1.0 - eta * (self.lmbda / n)
            shrink = eta * (self.l1 / n)
            # A column whose gradient is exactly +0.0 changes only through decay or L1.
            untouched_stay = decay == 1.0 and shrink == 0.0 and rate > 0.0
            for cols, ncols in zip(model.cols, nabla_cols):
                for k, (column, ncolumn) in enumerate(zip(cols, ncols)):
                    if ncolumn is None:
                        if untouched_stay:
                            continue
                        ncolumn = [0.0] * len(column)
                    if decay != 1.0:  # 1.0 * w is w, bit for bit
                        column = list(map(mul, repeat(decay), column))
                    if shrink != 0.0:
                        column = [w - shrink * _sign(w) for w in column]
                    cols[k] = list(map(sub, column, map(mul, repeat(rate), ncolumn)))
            model.b = [list(map(sub, b, map(mul, repeat(rate), nb))) for b, nb in zip(model.b, nabla_b)]
            return
        mu, l2, l1n = self.momentum, self.lmbda / n, self.l1 / n
        vcols, vb = self.velocity
        for cols, ncols, vl in zip(model.cols, nabla_cols, vcols):
            for k, column in enumerate(cols):
                ncolumn = ncols[k] if ncols[k] is not None else [0.0] * len(column)
                v = vl[k]
                for j, w in enumerate(column):
                    gradient = l2 * w
                    if l1n != 0.0:
                        gradient = gradient + l1n * _sign(w)
                    v[j] = mu * v[j] - eta * gradient - rate * ncolumn[j]
                    column[j] = w + v[j]
        for l, (b, nb) in enumerate(zip(model.b, nabla_b)):
            v = vb[l]
            for j, b_j in enumerate(b):
                v[j] = mu * v[j] - rate * nb[j]
                b[j] = b_j + v[j]

    def evaluate(self):
        model = self.model
        model.load()
        correct = 0
        for x, y in self.test_data:
            correct += int(argmax(model.output(x)) == y)
        return correct


class _Examples:
    """Twin of network2._PythonExamples, on the engine's forward pass."""

    def __init__(self, net, data, labelled):
        self.net, self.data, self.n = net, data, len(data)
        n_out = net.sizes[-1]
        self.ys = [vectorized_result(y, n_out) for _, y in data] if labelled else [y for _, y in data]
        self.labels = [y for _, y in data] if labelled else [argmax(y) for _, y in data]

    def _outputs(self):
        model = _Net(self.net)
        model.load()
        return [model.output(x) for x, _ in self.data]

    def accuracy(self):
        correct = 0
        for a, label in zip(self._outputs(), self.labels):
            correct += int(argmax(a) == label)
        return correct

    def costs(self):
        fn = _Net(self.net).cost.fn
        return [fn(a, y) for a, y in zip(self._outputs(), self.ys)]


class EngineBackend:
    """The Python engine behind the interface the networks use (as purenn._cbackend)."""

    name = "python"

    def describe(self):
        return "pure-Python engine"

    def trainer(self, net, training_data, test_data):
        return _Trainer(net, training_data, test_data)

    def trainer2(self, net, training_data, n, lmbda, l1, momentum):
        return _Trainer(net, training_data, None, n, lmbda, l1, momentum)

    def feedforward(self, net, a):
        model = _Net(net)
        model.load()
        return model.output(a)

    def classify(self, net, xs):
        model = _Net(net)
        model.load()
        return [argmax(model.output(x)) for x in xs]

    def examples(self, net, data, labelled):
        return _Examples(net, data, labelled)

    def update_mini_batch(self, net, mini_batch, eta):
        trainer = _Trainer(net, mini_batch)
        trainer.epoch(list(range(len(mini_batch))), len(mini_batch), eta)
