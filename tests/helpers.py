"""Small helpers the test modules share."""

import contextlib
import io
import random


def flat_hexes(net):
    """Every weight and bias of `net`, in order, as float.hex: equal lists mean equal bits."""
    return [float(v).hex() for w in net.weights for row in w for v in row] + \
        [float(v).hex() for b in net.biases for v in b]


def layer_hexes(net):
    """Every weight and bias of a network3 network's layers, in order, as float.hex."""
    from purenn.network3 import _rows
    return ([float(v).hex() for layer in net.layers for row in _rows(layer.w) for v in row]
            + [float(v).hex() for layer in net.layers for v in layer.b])


def randomise_layers(net, seed, biases):
    """Every weight of a network3 network's layers drawn afresh from U(-1, 1), in
    place, and every bias from U(*biases) (a zero softmax layer passes no gradient back)."""
    from purenn.network3 import _rows
    rng = random.Random(seed)
    for layer in net.layers:
        for row in _rows(layer.w):
            for k in range(len(row)):
                row[k] = rng.uniform(-1.0, 1.0)
        for j in range(len(layer.b)):
            layer.b[j] = rng.uniform(*biases)


def quiet(function, *args, **kwargs):
    """function(*args, **kwargs) with its printout captured: (result, printout)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = function(*args, **kwargs)
    return result, out.getvalue()
