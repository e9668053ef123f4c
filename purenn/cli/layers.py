"""--layers: a network3 architecture written out on the command line.

The syntax is SYNTAX below (which --help prints): layers separated by ";",
each its kind (conv:FxHxW, fc:N, softmax[:N]) and then its settings,
separated by ",".  E.g. the book's chapter-6 network with two
convolutional layers:

    >>> spec = parse_layers("conv:20x5x5,relu; conv:40x5x5,relu; fc:100,relu; softmax")
    >>> [layer["kind"] for layer in spec], spec[0]["filters"], spec[0]["pool"]
    (['conv', 'conv', 'fc', 'softmax'], (20, 5, 5), (2, 2))
    >>> [type(layer).__name__ for layer in build_layers(spec, 10, (28, 28), 10)]
    ['ConvPoolLayer', 'ConvPoolLayer', 'FullyConnectedLayer', 'SoftmaxLayer']

    parse_layers(text)     the --layers option type: the layers' settings, or
                           ArgumentTypeError naming the layer at fault
    build_layers(spec, mini_batch_size, image_shape, classes)
                           network3's layers; ArgumentError if they do not chain
    describe(net)          a network3 network written back in this syntax
"""

import argparse

from .. import network3
from ..errors import ArgumentError

__all__ = ["parse_layers", "build_layers", "describe", "ACTIVATIONS", "SYNTAX"]

#: the names --layers gives network3's activation functions
ACTIVATIONS = {"sigmoid": network3.sigmoid, "relu": network3.ReLU, "tanh": network3.tanh,
               "linear": network3.linear}

#: The syntax, for --help.
SYNTAX = """\
Layers are separated by ";", and each is its kind followed by its settings,
separated by ",":

    conv:FxHxW     F filters of H x W (a ConvPoolLayer)   pool:PHxPW (default 2x2),
                                                          an activation
    fc:N           N fully connected neurons              an activation, dropout:P,
                                                          init:n_in or init:n_out (default:
                                                          n_out, the book's code)
    softmax[:N]    the output layer (N: the classes)      dropout:P

An activation is one of sigmoid (the default), relu, tanh, linear.  The
first layer reads the images as 1 x rows x columns; each next layer reads
the previous one's output, so the input sizes are never written.  E.g. the
book's chapter-6 network with two convolutional layers:

    --layers "conv:20x5x5,relu; conv:40x5x5,relu; fc:100,relu; softmax"
"""

_EXAMPLE = "e.g. \"conv:20x5x5,pool:2x2,relu; fc:100,relu,dropout:0.5; softmax\""


def parse_layers(text):
    """The layers of `text` as dicts (kind, and its settings); ArgumentTypeError otherwise."""
    parts = [part.strip() for part in text.split(";")]
    if not any(parts):
        raise argparse.ArgumentTypeError("no layers; {}".format(_EXAMPLE))
    spec = []
    for l, part in enumerate(parts):
        try:
            spec.append(_parse_layer(part))
        except ValueError as e:
            raise argparse.ArgumentTypeError("layer {} ({!r}): {}".format(l + 1, part, e)) from None
    if spec[-1]["kind"] != "softmax":
        raise argparse.ArgumentTypeError("the last layer must be softmax (the cost is its log-likelihood); "
                                         "{}".format(_EXAMPLE))
    for l, layer in enumerate(spec[:-1]):
        if layer["kind"] == "softmax":
            raise argparse.ArgumentTypeError("layer {}: softmax can only be the last layer".format(l + 1))
        if layer["kind"] == "conv" and l > 0 and spec[l - 1]["kind"] != "conv":
            raise argparse.ArgumentTypeError("layer {}: a conv layer must come before every fc layer".format(l + 1))
    return spec


def _parse_layer(part):
    items = [item.strip() for item in part.split(",")]
    if not items[0]:
        raise ValueError("empty; {}".format(_EXAMPLE))
    kind, _, value = items[0].partition(":")
    kind = kind.lower()
    if kind == "conv":
        layer = {"kind": "conv", "filters": _dims(value, 3, "conv"), "pool": (2, 2), "activation": "sigmoid"}
    elif kind == "fc":
        layer = {"kind": "fc", "n": _count(value, "fc"), "activation": "sigmoid", "dropout": 0.0, "init": "n_out"}
    elif kind == "softmax":
        layer = {"kind": "softmax", "n": _count(value, "softmax") if value else None, "dropout": 0.0}
    else:
        raise ValueError("{!r} is not a kind of layer; start each with conv:FxHxW, fc:N or softmax".format(items[0]))
    for item in items[1:]:
        _setting(layer, item)
    return layer


def _setting(layer, item):
    name, _, value = item.partition(":")
    name = name.lower()
    if name in ACTIVATIONS and not value and layer["kind"] != "softmax":
        layer["activation"] = name
    elif name == "pool" and layer["kind"] == "conv":
        layer["pool"] = _dims(value, 2, "pool")
    elif name == "dropout" and layer["kind"] != "conv":
        layer["dropout"] = _probability(value)
    elif name == "init" and layer["kind"] == "fc" and value in ("n_in", "n_out"):
        layer["init"] = value
    else:
        raise ValueError("{!r} is not a setting of a {} layer ({})".format(
            item, layer["kind"], _SETTINGS[layer["kind"]]))


_SETTINGS = {"conv": "pool:PHxPW, sigmoid, relu, tanh, linear",
             "fc": "sigmoid, relu, tanh, linear, dropout:P, init:n_in, init:n_out",
             "softmax": "dropout:P"}


def _dims(value, n, name):
    try:
        dims = tuple(int(v) for v in value.lower().split("x"))
    except ValueError:
        dims = ()
    if len(dims) != n or min(dims) < 1:
        raise ValueError("{}:{} is not {} positive whole numbers joined by x, e.g. {}:{}".format(
            name, value, n, name, "x".join(["5"] * n) if n == 2 else "20x5x5"))
    return dims


def _count(value, name):
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError("{}:{} is not a positive whole number of neurons, e.g. {}:100".format(name, value, name))
    return n


def _probability(value):
    try:
        p = float(value)
    except ValueError:
        raise ValueError("dropout:{} is not a number".format(value)) from None
    if not 0.0 <= p < 1.0:
        raise ValueError("dropout:{} is not a probability from 0 up to (not including) 1".format(value))
    return p


def build_layers(spec, mini_batch_size, image_shape, classes):
    """network3's layers for `spec` (parse_layers), reading images of
    `image_shape` (rows, columns) in mini-batches of mini_batch_size, with
    `classes` outputs unless the softmax layer says otherwise.  ArgumentError
    ("layer 2 (conv): ...") if a filter or pool does not fit."""
    layers, maps, (rows, cols), n_in = [], 1, image_shape, image_shape[0] * image_shape[1]
    for l, layer in enumerate(spec):
        try:
            if layer["kind"] == "conv":
                filters, fh, fw = layer["filters"]
                made = network3.ConvPoolLayer((filters, maps, fh, fw), (mini_batch_size, maps, rows, cols),
                                              layer["pool"], ACTIVATIONS[layer["activation"]])
                maps, (rows, cols) = filters, made.pooled_shape
            elif layer["kind"] == "fc":
                made = network3.FullyConnectedLayer(n_in, layer["n"], ACTIVATIONS[layer["activation"]],
                                                    layer["dropout"], weights=layer["init"])
            else:
                made = network3.SoftmaxLayer(n_in, layer["n"] or classes, layer["dropout"])
        except ArgumentError as e:
            raise ArgumentError("layer {} ({}): {}".format(l + 1, layer["kind"], e)) from None
        layers.append(made)
        n_in = made.n_out
    return layers


def describe(net):
    """The layers of a network3 network in --layers' syntax (written out in full)."""
    names = {f: name for name, f in ACTIVATIONS.items()}
    parts = []
    for layer in net.layers:
        if isinstance(layer, network3.ConvPoolLayer):
            n_filters, _, fh, fw = layer.filter_shape
            parts.append("conv:{}x{}x{},pool:{}x{},{}".format(n_filters, fh, fw, layer.poolsize[0],
                                                              layer.poolsize[1], names[layer.activation_fn]))
        elif isinstance(layer, network3.FullyConnectedLayer):
            parts.append("fc:{},{}{}{}".format(layer.n_out, names[layer.activation_fn],
                                               ",dropout:{:g}".format(layer.p_dropout) if layer.p_dropout else "",
                                               ",init:n_in" if layer.weights == "n_in" else ""))
        else:
            parts.append("softmax:{}{}".format(layer.n_out, ",dropout:{:g}".format(layer.p_dropout)
                                               if layer.p_dropout else ""))
    return "; ".join(parts)
