"""The glue between a network3.Network and the C core's chapter-6 network (csrc/network3.c).

Importing this module imports the compiled core (ImportError where it is
not built).  A network's parameters are packed into one flat array('d')
(layout: csrc/purenn.h, pn_net3) when first needed, and again only when a
weight of its layers has changed (each number compared by identity with a
snapshot, as cache.py does for the other networks).  Training works on that
array; the weights go back into the layers' own lists, in place, when a
Trainer's epoch ends (SGD) or after each update_mini_batch call.  The
training images are packed once per run (Trainer), never per mini-batch.
Every shape, length and label is checked here before C sees a pointer.
"""

from array import array
from operator import is_

from ._core import ffi, lib
from .cbackend import check_status, pack_rows, ptr
from ..errors import ArgumentError
from ..network3 import _rows  # the innermost lists of a layer's weights, in order

__all__ = ["feedforward", "classify", "update_mini_batch", "Trainer"]

_KIND = {"ConvPoolLayer": 0, "FullyConnectedLayer": 1, "SoftmaxLayer": 2}
_ACTIVATION = {"linear": 0, "ReLU": 1, "sigmoid": 2, "tanh": 3}
_SLOT = "_purenn_c3"  # the network's attribute: (snapshot, layout, params)


class _Layout:
    """A network's layers as C sees them (a pn_net3)."""

    def __init__(self, net):
        fields, p = [], []
        for layer in net.layers:
            kind = type(layer).__name__
            act = 0 if kind == "SoftmaxLayer" else _ACTIVATION[layer.activation_fn.__name__]
            conv = (tuple(layer.filter_shape[:2]) + tuple(layer.image_shape[2:]) + tuple(layer.filter_shape[2:])
                    + tuple(layer.poolsize)) if kind == "ConvPoolLayer" else (0,) * 8
            fields.extend((_KIND[kind], act, layer.n_in, layer.n_out) + conv)
            p.append(layer.p_dropout)
        self.layers = net.layers
        self.fields, self.p = array("q", fields), array("d", p)
        self.net = ffi.new("pn_net3 *", {"n_layers": len(p), "layers": ptr("int64_t[]", self.fields),
                                         "p_dropout": ptr("double[]", self.p)})
        self.count = lib.pn3_param_count(self.net)
        self.mask_count = lib.pn3_mask_count(self.net)
        if self.count < 0:
            raise ArgumentError("layers: the C core takes networks of 1 to 64 layers, not {}".format(len(p)))

    def pack(self):
        params = array("d")
        try:
            for layer in self.layers:
                if type(layer).__name__ == "ConvPoolLayer":
                    for row in _rows(layer.w):
                        params.extend(row)
                else:
                    for column in zip(*layer.w):  # C keeps w transposed: column k is w[.][k]
                        params.extend(column)
                params.extend(layer.b)
        except TypeError as e:
            raise ArgumentError("layers' w and b: not all numbers ({})".format(e)) from None
        if len(params) != self.count:
            raise ArgumentError("layers' w and b: {} numbers, but the layers' shapes take {}".format(
                len(params), self.count))
        return params

    def unpack(self, params):
        """params back into each layer's w and b, the lists changed in place."""
        p = 0
        for layer in self.layers:
            if type(layer).__name__ == "ConvPoolLayer":
                for row in _rows(layer.w):
                    row[:] = params[p:p + len(row)].tolist()
                    p += len(row)
            else:
                n_out, end = layer.n_out, p + layer.n_in * layer.n_out
                for j, row in enumerate(layer.w):
                    row[:] = params[p + j:end:n_out].tolist()
                p = end
            layer.b[:] = params[p:p + len(layer.b)].tolist()
            p += len(layer.b)


def _snapshot(net):
    return [[list(row) for row in _rows(layer.w)] + [list(layer.b)] for layer in net.layers]


def _unchanged(snapshot, net):
    """Every number of every layer's w and b is the very object of the snapshot."""
    try:
        for rows, layer in zip(snapshot, net.layers):
            current = list(_rows(layer.w)) + [layer.b]
            if len(current) != len(rows):
                return False
            for s, r in zip(rows, current):
                if len(s) != len(r) or not all(map(is_, s, r)):
                    return False
    except (TypeError, IndexError):
        return False
    return True


def _params(net):
    """(layout, params): the network's packed parameters as they are now."""
    entry = vars(net).get(_SLOT)
    if entry is not None and _unchanged(entry[0], net):
        return entry[1], entry[2]
    layout = _Layout(net)
    params = layout.pack()
    _store(net, layout, params)
    return layout, params


def _store(net, layout, params):
    vars(net)[_SLOT] = (_snapshot(net), layout, params)


def _images(net, xs, name):
    """The inputs as C takes them, (X, X8): X8 their pixels' bytes when every one is
    an mnist_loader.Image of the right length (an eighth of the memory of
    doubles; C divides each byte by 256 as PIXEL_VALUES does), else X the numbers."""
    xs, n_in = list(xs), net.layers[0].n_in
    if xs and all(getattr(x, "pixels", None) is not None and len(x) == n_in for x in xs):
        return None, b"".join(x.pixels for x in xs)
    return pack_rows(xs, n_in, name), None


def _inputs(images):
    X, X8 = images
    return (ptr("double[]", X) if X is not None else ffi.NULL), (ptr("uint8_t[]", X8) if X8 is not None else ffi.NULL)


def _labels(net, ys, name):
    n_out = net.layers[-1].n_out
    for i, y in enumerate(ys):
        if isinstance(y, bool) or not isinstance(y, int) or not 0 <= y < n_out:
            raise ArgumentError("{}[{}]: {!r} is not a class from 0 to {}".format(name, i, y, n_out - 1))
    return array("q", ys)


def _forward(net, X, n, want_out):
    layout, params = _params(net)
    n_out = net.layers[-1].n_out
    out = array("d", [0.0]) * (n * n_out) if want_out else None
    labels = array("q", [0]) * n
    if n:
        check_status(lib.pn3_feedforward(layout.net, ptr("double[]", params), *_inputs(X), n,
                                         ptr("double[]", out) if want_out else ffi.NULL,
                                         ptr("int64_t[]", labels), net.threads), "feedforward")
    return out, labels


def feedforward(net, x):
    """Twin of Network.feedforward: the last layer's n_out outputs for one input."""
    out, _ = _forward(net, _images(net, [x], "x"), 1, True)
    return out.tolist()


def classify(net, xs):
    """The index of the largest output (the first on a tie) for each input of xs, in one call."""
    return _forward(net, _images(net, xs, "xs"), len(xs), False)[1].tolist()


def _masks(net, layout, masks, n):
    """masks (per example dropout_masks()'s list) as bytes, mask_count per example."""
    if masks is None:
        return None
    out = bytearray()
    for e in range(n):
        for l, layer in enumerate(net.layers):
            if layer.p_dropout:
                out.extend(masks[e][l])
    if len(out) != n * layout.mask_count:
        raise ArgumentError("masks: {} bytes, expected {}".format(len(out), n * layout.mask_count))
    return bytes(out)


def _train(layout, params, X, Y, order, batch, masks, eta, lmbda, num_training_batches, threads, want_costs=True):
    n_batches = len(order) // batch
    costs = array("d", [0.0]) * n_batches if want_costs else None
    check_status(lib.pn3_train(layout.net, ptr("double[]", params), *_inputs(X), ptr("int64_t[]", Y),
                               ptr("int64_t[]", order), n_batches, batch,
                               ptr("uint8_t[]", masks) if masks is not None else ffi.NULL,
                               float(eta), float(lmbda), num_training_batches,
                               ptr("double[]", costs) if want_costs else ffi.NULL, threads), "training")
    return costs


def update_mini_batch(net, xs, ys, eta, lmbda, num_training_batches, masks):
    """Twin of Network.update_mini_batch, the masks already drawn: the mini-batch's cost."""
    if not xs:
        raise ArgumentError("xs: an empty mini-batch")
    if len(xs) != len(ys):
        raise ArgumentError("xs, ys: {} images but {} labels".format(len(xs), len(ys)))
    layout, params = _params(net)
    params = array("d", params)  # a copy: the cached form stays that of the layers' lists until stored
    X, Y = _images(net, xs, "xs"), _labels(net, list(ys), "ys")
    cost = _train(layout, params, X, Y, array("q", range(len(xs))), len(xs), _masks(net, layout, masks, len(xs)),
                  eta, lmbda, num_training_batches, net.threads)[0]
    layout.unpack(params)
    _store(net, layout, params)
    return cost


class Trainer:
    """One SGD run in C: the training images and labels packed once, and a
    workspace for its mini-batches made once (pn3_work_new); each mini-batch a
    call on them; the weights put back into the layers by end_epoch()."""

    def __init__(self, net, xs, ys):
        self.net = net
        self.images = _images(net, xs, "training_data images")
        self.Y = _labels(net, ys, "training_data labels")
        self.layout, params = _params(net)
        self.params = array("d", params)  # a copy: the cached form stays that of the layers' lists
        work = lib.pn3_work_new(self.layout.net, net.mini_batch_size, net.threads)
        if work == ffi.NULL:
            raise MemoryError("the C core's workspace for network3's training")
        self.work = ffi.gc(work, lib.pn3_work_free)
        self.pointers = (ptr("double[]", self.params),) + _inputs(self.images) + (ptr("int64_t[]", self.Y),)

    def update_mini_batch(self, batch, eta, lmbda, num_training_batches, masks):
        """The SGD step of the mini-batch of the positions `batch` into the
        training data (SGD does not use its cost, so it is not computed)."""
        order = array("q", batch)
        masks = _masks(self.net, self.layout, masks, len(order))
        if len(order) != self.net.mini_batch_size:
            _train(self.layout, self.params, self.images, self.Y, order, len(order), masks, eta, lmbda,
                   num_training_batches, self.net.threads, want_costs=False)
            return
        check_status(lib.pn3_work_train(self.work, *self.pointers, ptr("int64_t[]", order), 1,
                                        ptr("uint8_t[]", masks) if masks is not None else ffi.NULL,
                                        float(eta), float(lmbda), num_training_batches, ffi.NULL), "training")

    def end_epoch(self):
        self.layout.unpack(self.params)
        _store(self.net, self.layout, self.params)
