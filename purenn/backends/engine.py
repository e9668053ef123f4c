"""The Python engine: the reference's arithmetic, arranged for speed.

purenn.network and purenn.network2 say what is computed, one multiply at a
time.  This module computes exactly the same numbers -- the same operations
on the same operands, every sum in the same order, bit for bit -- arranged
so that plain CPython and PyPy run it several times faster.  It is what the
"python" backend runs for SGD and for measuring a network; the "reference"
backend runs the teaching code itself.

Where the speed comes from, and why each step keeps every bit:

*   Most MNIST pixels are 0.  The reference skips terms whose input is 0
    (network.dot, network.outer); here the non-zero inputs of a layer are
    listed once, and the other inputs are never visited again -- not in
    the weighted inputs, not in the gradient.
*   Sums run in the innermost loop over plain local floats, which CPython
    3.11+ and PyPy both execute quickly; each still adds its terms in the
    reference's order.
*   After a mini-batch, a weight whose gradient is exactly +0.0 (its input
    was 0 in every example) is left alone -- w - rate * 0.0 is w, bit for
    bit -- when the update has no weight decay, L1 step or momentum.
*   An image kept as bytes (purenn.mnist_loader.Image) gives its non-zero
    positions straight from the bytes.

Shapes as in the reference: w[l][j] is row j of layer l's weights (n_in
floats), b[l] its n_out biases; activations and deltas are lists.
"""

from itertools import compress

from ..mnist_loader import _PIXEL
from ..network import argmax, sigmoid
from ..network2 import ACTIVATIONS, COSTS, copy_velocity, softmax, vectorized_result, _sign

__all__ = ["EngineBackend"]


def _nonzeros(a):
    """(positions, values) of the non-zero entries of a (bool(x) is x != 0.0, NaN included)."""
    pixels = getattr(a, "pixels", None)
    if pixels is not None:  # an mnist_loader.Image: read the bytes, not 784 floats
        return list(compress(range(len(pixels)), pixels)), [_PIXEL[b] for b in pixels if b]
    return list(compress(range(len(a)), a)), [a_k for a_k in a if a_k]


def _weighted_inputs(w, b, nz, values):
    """Twin of network.weighted_inputs over the non-zero inputs: values[t] is input nz[t]."""
    z = []
    for w_j, b_j in zip(w, b):
        total = 0.0
        for k, a_k in zip(nz, values):
            total += w_j[k] * a_k
        z.append(total + b_j)
    return z


class _Net:
    """A network's parameters as the engine works on them, and what its layers compute."""

    def __init__(self, net):
        self.net = net
        self.sizes = list(net.sizes)
        cost = getattr(net, "cost", None)
        self.cost = cost if cost is not None else COSTS["QuadraticCost"]
        self.softmax = self.cost.output == "softmax"
        self.quadratic = self.cost.__name__ == "QuadraticCost"
        self.dropout = getattr(net, "dropout", 0.0)
        self.f, self.prime = ACTIVATIONS[getattr(net, "activation", "sigmoid")]

    def load(self):
        """Private copies of net.weights and net.biases, as floats."""
        self.w = [[[float(v) for v in w_j] for w_j in w] for w in self.net.weights]
        self.b = [[float(v) for v in b] for b in self.net.biases]

    def store(self):
        self.net.weights, self.net.biases = self.w, self.b
        self.load()  # the network's lists and the engine's are never shared

    def forward(self, x, mask=None):
        """Twin of the reference's forward pass.  Per weight layer l: the
        non-zero positions nonzeros[l] of its input (after dropout) and their
        values[l], and raws[l], layer l+1's activations before dropout."""
        values, nonzeros, raws = [], [], []
        a = x
        last = len(self.w) - 1
        offset = 0
        for l, (w, b) in enumerate(zip(self.w, self.b)):
            nz, a_nz = _nonzeros(a)
            nonzeros.append(nz)
            values.append(a_nz)
            z = _weighted_inputs(w, b, nz, a_nz)
            if l == last:
                a = softmax(z) if self.softmax else [sigmoid(z_j) for z_j in z]
            else:
                f = self.f
                a = [f(z_j) for z_j in z]
            raws.append(a)
            if mask is not None and l < last:
                scale = 1.0 / (1.0 - self.dropout)
                n = len(a)
                a = [a_j * scale if kept else 0.0 for a_j, kept in zip(a, mask[offset:offset + n])]
                offset += n
        return values, nonzeros, raws

    def output(self, x):
        return self.forward(x)[2][-1]


class _Trainer:
    """SGD epochs for one run: the twin of network's and network2's loops and of
    the C core's pn_train."""

    def __init__(self, net, training_data, test_data=None, n=None, lmbda=0.0, l1=0.0, momentum=0.0):
        self.model = _Net(net)
        self.training_data = training_data
        self.test_data = test_data or []
        self.n = n if n is not None else len(training_data)
        self.lmbda, self.l1, self.momentum = lmbda, l1, momentum
        self.velocity = None
        if momentum:
            sizes = net.sizes
            self.velocity = ([[[0.0] * n_in for _ in range(n_out)] for n_in, n_out in zip(sizes[:-1], sizes[1:])],
                             [[0.0] * n_out for n_out in sizes[1:]])

    def epoch(self, order, mini_batch_size, eta, progress=None, masks=None, start=0, stop=None):
        """One epoch from position `start`; the positions done (see network2._PythonTrainer.epoch)."""
        model = self.model
        model.load()
        sizes = model.sizes
        # The gradient, kept between mini-batches and set back to +0.0 where used.
        self.nabla_w = [[[0.0] * n_in for _ in range(n_out)] for n_in, n_out in zip(sizes[:-1], sizes[1:])]
        total = done = len(order)
        hidden = sum(sizes[1:-1])
        if progress is not None:
            progress(start, total)
        for k in range(start, total, mini_batch_size):
            positions = range(k, min(k + mini_batch_size, total))
            self._mini_batch([self.training_data[order[i]] for i in positions],
                             [masks[i * hidden:(i + 1) * hidden] for i in positions] if masks else None, eta)
            if progress is not None:
                progress(positions[-1] + 1, total)
            if stop is not None and positions[-1] + 1 < total and stop():
                done = positions[-1] + 1
                break
        model.store()
        return done

    def get_velocity(self):
        """The momentum velocities (weights, biases) as nested lists, or None."""
        return copy_velocity(self.velocity)

    def set_velocity(self, weights, biases):
        self.velocity = copy_velocity((weights, biases))

    def _mini_batch(self, batch, masks, eta):
        model = self.model
        nabla_b = [[0.0] * len(b) for b in model.b]
        touched = [set() for _ in model.w]  # per layer: the inputs whose gradient may not be +0.0
        for i, (x, y) in enumerate(batch):
            self._backprop_add(x, y, masks[i] if masks else None, nabla_b, touched)
        self._descend(nabla_b, touched, eta, eta / len(batch))

    def _backprop_add(self, x, y, mask, nabla_b, touched):
        """Twin of backprop, its gradient added into self.nabla_w and nabla_b."""
        model = self.model
        values, nonzeros, raws = model.forward(x, mask)
        a = raws[-1]
        if model.quadratic:
            delta = [(a_j - y_j) * (a_j * (1.0 - a_j)) for a_j, y_j in zip(a, y)]
        else:
            delta = [a_j - y_j for a_j, y_j in zip(a, y)]
        scale = 1.0 / (1.0 - model.dropout) if mask is not None else 1.0
        offset = sum(model.sizes[1:-1])
        prime = model.prime
        for l in range(len(model.w) - 1, -1, -1):
            nabla_b[l] = [nb + d for nb, d in zip(nabla_b[l], delta)]
            nz, a_nz = nonzeros[l], values[l]
            touched[l].update(nz)
            for nw_j, delta_j in zip(self.nabla_w[l], delta):
                for k, a_k in zip(nz, a_nz):
                    nw_j[k] += delta_j * a_k
            if l == 0:
                break
            # delta of the layer below: (w^T delta) * f'(z), then dropout; w^T delta adds over j in order
            below = [0.0] * len(raws[l - 1])
            for w_j, delta_j in zip(model.w[l], delta):
                below = [t + w_jk * delta_j for t, w_jk in zip(below, w_j)]
            below = [t * prime(a_k) for t, a_k in zip(below, raws[l - 1])]
            if mask is not None:
                offset -= len(below)
                below = [d * scale if kept else 0.0 for d, kept in zip(below, mask[offset:offset + len(below)])]
            delta = below

    def _descend(self, nabla_b, touched, eta, rate):
        """Twin of the update of update_mini_batch (network) / _update (network2);
        sets the gradient back to +0.0."""
        model = self.model
        n = self.n
        if self.momentum == 0.0:
            decay = 1.0 - eta * (self.lmbda / n)
            shrink = eta * (self.l1 / n)
            # A weight whose gradient is exactly +0.0 changes only through decay or L1.
            only_touched = decay == 1.0 and shrink == 0.0 and rate > 0.0
            for w, nw, used in zip(model.w, self.nabla_w, touched):
                if only_touched:  # the common case, in its own loop
                    columns = sorted(used)
                    for w_j, nw_j in zip(w, nw):
                        for k in columns:
                            w_j[k] = w_j[k] - rate * nw_j[k]
                            nw_j[k] = 0.0
                    continue
                for w_j, nw_j in zip(w, nw):
                    for k, w_jk in enumerate(w_j):
                        if decay != 1.0:  # 1.0 * w is w, bit for bit
                            w_jk = decay * w_jk
                        if shrink != 0.0:
                            w_jk = w_jk - shrink * _sign(w_jk)
                        w_j[k] = w_jk - rate * nw_j[k]
                        nw_j[k] = 0.0
            model.b = [[b_j - rate * nb_j for b_j, nb_j in zip(b, nb)] for b, nb in zip(model.b, nabla_b)]
            return
        mu, l2, l1n = self.momentum, self.lmbda / n, self.l1 / n
        vw, vb = self.velocity
        for w, nw, v in zip(model.w, self.nabla_w, vw):
            for w_j, nw_j, v_j in zip(w, nw, v):
                for k, w_jk in enumerate(w_j):
                    gradient = l2 * w_jk
                    if l1n != 0.0:
                        gradient = gradient + l1n * _sign(w_jk)
                    v_j[k] = mu * v_j[k] - eta * gradient - rate * nw_j[k]
                    w_j[k] = w_jk + v_j[k]
                    nw_j[k] = 0.0
        for b, nb, v in zip(model.b, nabla_b, vb):
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
