"""network3file.py -- the JSON model files of the chapter-6 network (purenn.network3).

    save_network3(net, filename)        write a network3.Network atomically
    network3_dict(net, filename)        the JSON object it writes
    parse_network3(filename, data)      the checked layers of such an object
    is_network3(data)                   whether a JSON object is one (its "format")

A file is one JSON object:

    {"format": "purenn-network3", "version": 1, "mini_batch_size": 10,
     "layers": [
       {"type": "ConvPoolLayer", "filter_shape": [20, 1, 5, 5],
        "image_shape": [10, 1, 28, 28], "poolsize": [2, 2],
        "activation": "sigmoid", "w": F x C x fh x fw, "b": F},
       {"type": "FullyConnectedLayer", "n_in": 2880, "n_out": 100,
        "activation": "ReLU", "p_dropout": 0.5, "weights": "n_out",
        "w": n_out x n_in, "b": n_out},
       {"type": "SoftmaxLayer", "n_in": 100, "n_out": 10, "p_dropout": 0.0,
        "w": n_out x n_in, "b": n_out}]}

Floats are written as repr writes them, so they read back bit for bit.
Anything wrong is a ModelFileError naming the file and the field
("layers[1].w[3][7] is NaN, not a finite number"); the shapes a layer
declares are checked against the lists the file holds before any network is
made, so a file that promises a huge network is refused before anything big
is allocated.  Whether the layers chain (each n_in the previous n_out) is
network3's own check, when the network is made (network3.load).  Only a
regular file of at most MAX_BYTES is read (purenn.files.modelfile.read_json).
"""

import json
import math

from ..errors import ArgumentError, ModelFileError
from ..training.checks import is_finite_number, is_whole_number
from .atomic import write_text

__all__ = ["FORMAT", "VERSION", "ACTIVATION_NAMES", "save_network3", "network3_dict", "parse_network3",
           "is_network3"]

FORMAT = "purenn-network3"
VERSION = 1

#: The activation functions a file may name (network3's functions of one number).
ACTIVATION_NAMES = ("linear", "ReLU", "sigmoid", "tanh")

_DENSE = ("FullyConnectedLayer", "SoftmaxLayer")


def is_network3(data):
    """Whether the JSON object `data` says it is a network3 model file."""
    return isinstance(data, dict) and data.get("format") == FORMAT


def save_network3(net, filename):
    """Save `net` (a network3.Network) to `filename` as JSON, atomically: an
    interrupted save leaves the old file, never half a new one."""
    write_text(filename, json.dumps(network3_dict(net, filename), separators=(",", ":")), suffix=".json")


def network3_dict(net, filename):
    """The JSON object save_network3 writes; ArgumentError naming `filename`
    if a weight or bias is not finite."""
    return {"format": FORMAT, "version": VERSION, "mini_batch_size": net.mini_batch_size,
            "layers": [_layer_dict(layer, l, filename) for l, layer in enumerate(net.layers)]}


def _layer_dict(layer, l, filename):
    kind = type(layer).__name__
    found = {"type": kind}
    if kind == "ConvPoolLayer":
        found.update(filter_shape=list(layer.filter_shape), image_shape=list(layer.image_shape),
                     poolsize=list(layer.poolsize), activation=layer.activation_fn.__name__)
    else:
        found.update(n_in=layer.n_in, n_out=layer.n_out, p_dropout=layer.p_dropout)
        if kind == "FullyConnectedLayer":
            found.update(activation=layer.activation_fn.__name__, weights=layer.weights)
    for name in ("w", "b"):
        if not _all_finite(getattr(layer, name)):
            raise ArgumentError("{}: layers[{}] has non-finite {}; not saving the network".format(
                filename, l, "weights" if name == "w" else "biases"))
    found.update(w=layer.w, b=layer.b)
    return found


def _all_finite(values):
    if isinstance(values, list):
        return all(_all_finite(v) for v in values)
    return math.isfinite(values)


#### Reading

def parse_network3(filename, data):
    """The contents of a network3 model file's JSON object `data`, checked:
    (mini_batch_size, layers), each layer a dict as in the module docstring
    with w and b as nested lists of floats.  ModelFileError naming `filename`
    and the field otherwise."""
    if not is_network3(data):
        raise ModelFileError(filename, "not a network3 model file (no \"format\": \"{}\")".format(FORMAT))
    if data.get("version") != VERSION:
        raise ModelFileError(filename, "network3 model file version {!r}; this purenn reads version {}".format(
            _short(data.get("version")), VERSION))
    m = data.get("mini_batch_size")
    if not is_whole_number(m, 1):
        raise ModelFileError(filename, "mini_batch_size {!r} is not a positive whole number".format(_short(m)))
    layers = data.get("layers")
    if not isinstance(layers, list) or not layers:
        raise ModelFileError(filename, "layers: expected a non-empty list of layers")
    return m, [_parse_layer(filename, layer, "layers[{}]".format(l)) for l, layer in enumerate(layers)]


def _parse_layer(filename, layer, where):
    if not isinstance(layer, dict):
        raise ModelFileError(filename, "{}: expected a JSON object, got {}".format(where, _json_type(layer)))
    kind = layer.get("type")
    if kind == "ConvPoolLayer":
        found = _conv_fields(filename, layer, where)
        n_filters, maps, fh, fw = found["filter_shape"]
        w_shape, b_shape = [n_filters, maps, fh, fw], [n_filters]
    elif kind in _DENSE:
        found = _dense_fields(filename, layer, where, kind)
        w_shape, b_shape = [found["n_out"], found["n_in"]], [found["n_out"]]
    else:
        raise ModelFileError(filename, "{}.type: {!r} is not one of ConvPoolLayer, FullyConnectedLayer, "
                                       "SoftmaxLayer".format(where, _short(kind)))
    found["type"] = kind
    # The lists first, their shapes against the declared ones: nothing is allocated for a size the file
    # only promises.
    found["w"] = _numbers(filename, layer.get("w"), w_shape, where + ".w")
    found["b"] = _numbers(filename, layer.get("b"), b_shape, where + ".b")
    return found


def _conv_fields(filename, layer, where):
    found = {}
    for name, n in (("filter_shape", 4), ("image_shape", 4), ("poolsize", 2)):
        value = layer.get(name)
        if not isinstance(value, list) or len(value) != n or not all(is_whole_number(v, 1) for v in value):
            raise ModelFileError(filename, "{}.{}: expected {} positive whole numbers, got {!r}".format(
                where, name, n, _short(value)))
        found[name] = tuple(value)
    found["activation"] = _activation(filename, layer, where)
    return found


def _dense_fields(filename, layer, where, kind):
    found = {}
    for name in ("n_in", "n_out"):
        if not is_whole_number(layer.get(name), 1):
            raise ModelFileError(filename, "{}.{}: {!r} is not a positive whole number".format(
                where, name, _short(layer.get(name))))
        found[name] = layer[name]
    p = layer.get("p_dropout", 0.0)
    if not is_finite_number(p) or not 0.0 <= p < 1.0:
        raise ModelFileError(filename, "{}.p_dropout: {!r} is not a probability from 0 up to (not including) "
                                       "1".format(where, _short(p)))
    found["p_dropout"] = float(p)
    if kind == "FullyConnectedLayer":
        found["activation"] = _activation(filename, layer, where)
        weights = layer.get("weights", "n_out")
        if weights not in ("n_out", "n_in"):
            raise ModelFileError(filename, "{}.weights: {!r} is not \"n_out\" or \"n_in\"".format(
                where, _short(weights)))
        found["weights"] = weights
    return found


def _activation(filename, layer, where):
    name = layer.get("activation")
    if not isinstance(name, str) or name not in ACTIVATION_NAMES:
        raise ModelFileError(filename, "{}.activation: {!r} is not one of {}".format(
            where, _short(name), ", ".join(ACTIVATION_NAMES)))
    return name


def _numbers(filename, values, shape, where):
    """values, lists nested as `shape` (a list of lengths) of finite numbers, as floats."""
    if len(shape) > 1:
        if not isinstance(values, list) or len(values) != shape[0]:
            raise ModelFileError(filename, "{}: expected {} lists (shape {}), got {}".format(
                where, shape[0], " x ".join(map(str, shape)), _length(values)))
        return [_numbers(filename, v, shape[1:], "{}[{}]".format(where, i)) for i, v in enumerate(values)]
    if not isinstance(values, list) or len(values) != shape[0]:
        raise ModelFileError(filename, "{}: expected {} numbers, got {}".format(where, shape[0], _length(values)))
    for i, v in enumerate(values):
        if not is_finite_number(v):
            raise ModelFileError(filename, "{}[{}] is {!r}, not a finite number".format(where, i, _short(v)))
    return [float(v) for v in values]


def _length(values):
    return "a list of {}".format(len(values)) if isinstance(values, list) else _json_type(values)


def _json_type(value):
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")


def _short(value):
    """value for a message's {!r}: itself, or if its repr is long a stand-in whose repr is cut to 33 characters."""
    text = repr(value)
    return value if len(text) < 40 else _Cut(text[:30] + "...")


class _Cut:
    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text
