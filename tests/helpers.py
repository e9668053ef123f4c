"""Small helpers the test modules share."""

import contextlib
import io


def flat_hexes(net):
    """Every weight and bias of `net`, in order, as float.hex: equal lists mean equal bits."""
    return [float(v).hex() for w in net.weights for row in w for v in row] + \
        [float(v).hex() for b in net.biases for v in b]


def quiet(function, *args, **kwargs):
    """function(*args, **kwargs) with its printout captured: (result, printout)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = function(*args, **kwargs)
    return result, out.getvalue()
