"""The Python engine: the reference's arithmetic, arranged for speed.

purenn.network and purenn.network2 say what is computed, one multiply at a
time.  This module computes exactly the same numbers -- the same operations
on the same operands, every sum in the same order, bit for bit -- arranged
so that plain CPython and PyPy run it several times faster.  It is what the
"python" backend runs (the protocol: purenn.backends); the "reference"
backend runs the book's code itself.

Where the speed comes from, and why each step keeps every bit:

*   Most MNIST pixels are 0.  The reference skips terms whose input is 0
    (linalg.dot, linalg.outer); here the non-zero inputs of a layer are
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

from ..mnist_loader import PIXEL_VALUES
from ..network import sigmoid
from ..network2 import ACTIVATIONS, sign, softmax
from ..linalg import argmax
from .cache import ParamsCache

__all__ = ["EngineBackend", "nonzeros", "sparse_weighted_inputs"]


def nonzeros(a):
    """(positions, values) of the non-zero entries of a (bool(x) is x != 0.0, NaN included)."""
    pixels = getattr(a, "pixels", None)
    if pixels is not None:  # an mnist_loader.Image: read the bytes, not 784 floats
        return list(compress(range(len(pixels)), pixels)), [PIXEL_VALUES[b] for b in pixels if b]
    return list(compress(range(len(a)), a)), [a_k for a_k in a if a_k]


def sparse_weighted_inputs(w, b, nz, values):
    """Twin of linalg.weighted_inputs over the non-zero inputs: values[t] is input nz[t]."""
    z = []
    for w_j, b_j in zip(w, b):
        total = 0.0
        for k, a_k in zip(nz, values):
            total += w_j[k] * a_k
        z.append(total + b_j)
    return z


def _floats(net):
    """The engine's form of net's parameters: private lists of floats (w, b)."""
    return ([[[float(v) for v in w_j] for w_j in w] for w in net.weights],
            [[float(v) for v in b] for b in net.biases])


def _copy(params):
    """New lists holding the same floats: (w, b) that can be changed without changing `params`."""
    w, b = params
    return [[list(w_j) for w_j in w_l] for w_l in w], [list(b_l) for b_l in b]


_FORMS = ParamsCache("python", _floats)


class _Layers:
    """What a network's layers compute, on the engine's copy (w, b) of its parameters."""

    def __init__(self, net, params):
        self.w, self.b = params
        self.softmax = net.cost.output == "softmax"
        self.quadratic = net.cost.__name__ == "QuadraticCost"
        self.dropout = net.dropout
        self.f, self.prime = ACTIVATIONS[net.activation]
        self.hidden = sum(net.sizes[1:-1])

    def forward(self, x, mask=None):
        """Twin of the forward pass of network2.Network.backprop.  Per weight layer l: the
        non-zero positions nonzeros[l] of its input (after dropout) and their
        values[l], and raws[l], layer l+1's activations before dropout."""
        values, positions, raws = [], [], []
        a = x
        last = len(self.w) - 1
        offset = 0
        for l, (w, b) in enumerate(zip(self.w, self.b)):
            nz, a_nz = nonzeros(a)
            positions.append(nz)
            values.append(a_nz)
            z = sparse_weighted_inputs(w, b, nz, a_nz)
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
        return values, positions, raws

    def output(self, x):
        return self.forward(x)[2][-1]


def _layers(net):
    return _Layers(net, _FORMS.get(net))


class _Trainer:
    """One SGD run in the engine (the protocol's Trainer): the twin of the
    book's update_mini_batch, mini-batch by mini-batch."""

    def __init__(self, net, examples, n, lmbda, l1, momentum, velocities):
        self.net, self.examples = net, examples
        self.n, self.lmbda, self.l1, self.momentum = n, lmbda, l1, momentum
        self.velocity = None
        if momentum:
            self.velocity = _copy(velocities) if velocities is not None else (
                [[[0.0] * n_in for _ in range(n_out)] for n_in, n_out in zip(net.sizes[:-1], net.sizes[1:])],
                [[0.0] * n_out for n_out in net.sizes[1:]])

    def examples_per_call(self, batch, interruptible):
        return batch  # one mini-batch: stop() can be asked after every one

    def begin_epoch(self, order, masks):
        net = self.net
        self.order, self.masks = order, masks
        self.layers = _Layers(net, _copy(_FORMS.get(net, exact=True)))
        # The gradient, kept between mini-batches and set back to +0.0 where used.
        self.nabla_w = [[[0.0] * n_in for _ in range(n_out)] for n_in, n_out in zip(net.sizes[:-1], net.sizes[1:])]

    def train(self, begin, end, batch, eta):
        data, order, masks, hidden = self.examples, self.order, self.masks, self.layers.hidden
        for k in range(begin, end, batch):
            positions = range(k, min(k + batch, end))
            self._mini_batch([data[order[i]] for i in positions],
                             [masks[i * hidden:(i + 1) * hidden] for i in positions] if masks else None, eta)

    def end_epoch(self):
        layers = self.layers
        self.net.weights, self.net.biases = layers.w, layers.b
        _FORMS.store(self.net, _copy((layers.w, layers.b)))

    def velocities(self):
        return None if self.velocity is None else _copy(self.velocity)

    def _mini_batch(self, batch, masks, eta):
        layers = self.layers
        nabla_b = [[0.0] * len(b) for b in layers.b]
        touched = [set() for _ in layers.w]  # per layer: the inputs whose gradient may not be +0.0
        for i, (x, y) in enumerate(batch):
            self._backprop_add(x, y, masks[i] if masks else None, nabla_b, touched)
        self._update(nabla_b, touched, eta, eta / len(batch))

    def _backprop_add(self, x, y, mask, nabla_b, touched):
        """Twin of network.Network.backprop and network2.Network.backprop, its gradient added
        into self.nabla_w and nabla_b."""
        layers = self.layers
        values, positions, raws = layers.forward(x, mask)
        a = raws[-1]
        if layers.quadratic:
            delta = [(a_j - y_j) * (a_j * (1.0 - a_j)) for a_j, y_j in zip(a, y)]
        else:
            delta = [a_j - y_j for a_j, y_j in zip(a, y)]
        scale = 1.0 / (1.0 - layers.dropout) if mask is not None else 1.0
        offset = layers.hidden
        prime = layers.prime
        for l in range(len(layers.w) - 1, -1, -1):
            nabla_b[l] = [nb + d for nb, d in zip(nabla_b[l], delta)]
            nz, a_nz = positions[l], values[l]
            touched[l].update(nz)
            for nw_j, delta_j in zip(self.nabla_w[l], delta):
                for k, a_k in zip(nz, a_nz):
                    nw_j[k] += delta_j * a_k
            if l == 0:
                break
            # delta of the layer below: (w^T delta) * f'(z), then dropout; w^T delta adds over j in order
            below = [0.0] * len(raws[l - 1])
            for w_j, delta_j in zip(layers.w[l], delta):
                below = [t + w_jk * delta_j for t, w_jk in zip(below, w_j)]
            below = [t * prime(a_k) for t, a_k in zip(below, raws[l - 1])]
            if mask is not None:
                offset -= len(below)
                below = [d * scale if kept else 0.0 for d, kept in zip(below, mask[offset:offset + len(below)])]
            delta = below

    def _update(self, nabla_b, touched, eta, rate):
        """Twin of the step at the end of update_mini_batch (both networks);
        sets the gradient back to +0.0."""
        if self.momentum != 0.0:
            return self._update_with_momentum(nabla_b, eta, rate)
        layers, n = self.layers, self.n
        decay = 1.0 - eta * (self.lmbda / n)
        shrink = eta * (self.l1 / n)
        # A weight whose gradient is exactly +0.0 changes only through decay or L1.
        only_touched = decay == 1.0 and shrink == 0.0 and rate > 0.0
        for w, nw, used in zip(layers.w, self.nabla_w, touched):
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
                        w_jk = w_jk - shrink * sign(w_jk)
                    w_j[k] = w_jk - rate * nw_j[k]
                    nw_j[k] = 0.0
        layers.b = [[b_j - rate * nb_j for b_j, nb_j in zip(b, nb)] for b, nb in zip(layers.b, nabla_b)]

    def _update_with_momentum(self, nabla_b, eta, rate):
        layers, n = self.layers, self.n
        mu, l2, l1n = self.momentum, self.lmbda / n, self.l1 / n
        vw, vb = self.velocity
        for w, nw, v in zip(layers.w, self.nabla_w, vw):
            for w_j, nw_j, v_j in zip(w, nw, v):
                for k, w_jk in enumerate(w_j):
                    gradient = l2 * w_jk
                    if l1n != 0.0:
                        gradient = gradient + l1n * sign(w_jk)
                    v_j[k] = mu * v_j[k] - eta * gradient - rate * nw_j[k]
                    w_j[k] = w_jk + v_j[k]
                    nw_j[k] = 0.0
        for b, nb, v in zip(layers.b, nabla_b, vb):
            for j, b_j in enumerate(b):
                v[j] = mu * v[j] - rate * nb[j]
                b[j] = b_j + v[j]


class EngineBackend:
    """The Python engine behind the backend protocol (purenn.backends)."""

    name = "python"

    def describe(self):
        return "pure-Python engine"

    def feedforward(self, net, x):
        return _layers(net).output(x)

    def _outputs(self, net, examples):
        layers = _layers(net)
        return [layers.output(x) for x, _ in examples]

    def classify(self, net, examples):
        return [argmax(a) for a in self._outputs(net, examples)]

    def costs(self, net, examples):
        fn = net.cost.fn
        return [fn(a, y) for a, y in zip(self._outputs(net, examples), examples.ys)]

    def trainer(self, net, examples, n, lmbda, l1, momentum, velocities):
        return _Trainer(net, examples, n, lmbda, l1, momentum, velocities)
