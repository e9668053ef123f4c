"""Argument checks shared by the networks, the training run and the files.

Each raises ArgumentError naming the argument and what was expected, so a
mistake is reported where it is made, not as a traceback from deep inside
the arithmetic -- or, worse, as a silently wrong answer (zip stops at the
shorter list; a NumPy float32 would quietly turn the arithmetic into single
precision).
"""

import math
import operator

from ..backends.examples import Examples
from ..errors import ArgumentError, TrainingError

# The types whose arithmetic is double precision: float and int (and
# float's subclasses, such as numpy.float64, which are checked the slow way).
_DOUBLE_TYPES = frozenset((float, int))


def is_whole_number(value, minimum):
    """An int (not a bool) of at least `minimum`."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def check_sizes(sizes):
    """`sizes` as a list: at least two layers of positive whole numbers."""
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ArgumentError("sizes: need at least two layers (input and output), got {!r}".format(sizes))
    for size in sizes:
        if not is_whole_number(size, 1):
            raise ArgumentError("sizes: {!r} is not a positive whole number of neurons".format(size))
    return sizes


def check_count(value, name, minimum):
    if not is_whole_number(value, minimum):
        raise ArgumentError("{}: {!r} is not a whole number of at least {}".format(name, value, minimum))


def is_finite_number(value):
    """An int or float (not a bool) that is neither infinite, NaN, nor too large for a float."""
    try:
        return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def check_number(value, name):
    if not is_finite_number(value):
        raise ArgumentError("{}: {!r} is not a finite number".format(name, value))


def check_numbers(values, n, name):
    """`values` is a sequence of n floats or ints."""
    try:
        length = len(values)
    except TypeError:
        raise ArgumentError("{}: expected a list of {} numbers, got {}".format(
            name, n, type(values).__name__)) from None
    if length != n:
        raise ArgumentError("{}: has {} values, expected {}".format(name, length, n))
    if getattr(values, "pixels", None) is not None:  # an mnist_loader.Image: floats by construction
        return
    if not _DOUBLE_TYPES.issuperset(map(type, values)):
        for k, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, (float, int)):
                raise ArgumentError("{}[{}]: {!r} is a {}, not a float".format(name, k, v, type(v).__name__))


def as_numbers(values, n, name):
    """`values` as a sequence of n floats: itself when it is one; converted
    when it is what the book's readers pass -- a column ((n, 1) lists, as
    the book's loader shapes x and y), an array-like (a NumPy array, read
    element by element with float(), NumPy never imported) or an iterator.
    Anything else: check_numbers' ArgumentError."""
    try:
        check_numbers(values, n, name)
        return values
    except ArgumentError:
        converted = _converted(values)
        if converted is None:
            raise
    check_numbers(converted, n, name)
    return converted


def _converted(values):
    """A list of floats from a column, an array-like or an iterator; None if it is none of those."""
    if isinstance(values, (str, bytes, bytearray, dict)):
        return None
    try:
        items = list(values)
    except TypeError:
        return None
    out = []
    for v in items:
        if not isinstance(v, (int, float, str, bytes)) and _length(v) == 1:
            v = v[0]  # a row of a column
        if isinstance(v, (bool, str, bytes)):
            return None
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            return None
    return out


def _length(value):
    try:
        return len(value)
    except TypeError:
        return None


def as_label(y):
    """A class number as an int: itself, or one that stands for an int (NumPy's
    int64 by operator.index, a 1-element list or array); None if none of those."""
    if _length(y) == 1 and not isinstance(y, (str, bytes)):
        y = y[0]
    if isinstance(y, bool):
        return None
    if isinstance(y, int):
        return y
    try:
        return operator.index(y)
    except TypeError:
        return None


def check_data(data, sizes, name, labelled):
    """Every (x, y) of `data` fits the layer sizes: x has sizes[0] numbers; y
    is a class number (labelled) or has sizes[-1] numbers.  Examples are
    checked once for a shape, not again each epoch."""
    n_in, n_out = sizes[0], sizes[-1]
    if isinstance(data, Examples):
        if data.checked == (n_in, n_out, labelled):
            return
        _check_pairs(data, n_in, n_out, name, labelled)
        data.checked = (n_in, n_out, labelled)
    else:
        _check_pairs(data, n_in, n_out, name, labelled)


def check_mini_batch(net, mini_batch, eta):
    """The arguments of update_mini_batch checked: a non-empty sequence of
    (x, y) that fit the network (returned as a list), and a finite eta."""
    try:
        mini_batch = list(mini_batch)
    except TypeError:
        raise ArgumentError("mini_batch: expected a list of (x, y), got {}".format(
            type(mini_batch).__name__)) from None
    if not mini_batch:
        raise ArgumentError("mini_batch: empty")
    check_params(net)
    check_data(mini_batch, net.sizes, "mini_batch", labelled=False)
    check_number(eta, "eta")
    return mini_batch


def check_examples(net, data, name, labelled):
    """`data` as Examples (a list, made once) that fit `net`: x has sizes[0]
    numbers, y is a class (labelled) or sizes[-1] numbers."""
    check_params(net)
    try:
        data = Examples.of(data, labelled, net.sizes[-1])
    except TypeError:
        raise ArgumentError("{}: expected a list of (x, y), got {}".format(name, type(data).__name__)) from None
    check_data(data, net.sizes, name, labelled=labelled)
    return data


def _check_pairs(data, n_in, n_out, name, labelled):
    """Each (x, y) of the list `data` fits; one the book's readers would pass
    (see as_numbers, as_label) is replaced by its converted pair."""
    for i, example in enumerate(data):
        try:
            x, y = example
        except (TypeError, ValueError):
            raise ArgumentError("{}[{}]: expected a pair (x, y), got {}".format(
                name, i, type(example).__name__)) from None
        x2 = as_numbers(x, n_in, "{}[{}] x".format(name, i))
        if labelled:
            y2 = as_label(y)
            if y2 is None or not 0 <= y2 < n_out:
                raise ArgumentError("{}[{}]: label {!r} is not a class from 0 to {}".format(
                    name, i, y, n_out - 1))
        else:
            y2 = as_numbers(y, n_out, "{}[{}] y".format(name, i))
        if x2 is not x or y2 is not y:
            data[i] = (x2, y2)


def check_params(net):
    """net.weights and net.biases have the shapes net.sizes says."""
    sizes = net.sizes
    if len(net.weights) != len(sizes) - 1 or len(net.biases) != len(sizes) - 1:
        raise ArgumentError("net.weights and net.biases need {} layers for sizes {}".format(
            len(sizes) - 1, sizes))
    for l, (w, b) in enumerate(zip(net.weights, net.biases)):
        n_in, n_out = sizes[l], sizes[l + 1]
        if len(w) != n_out or len(b) != n_out:
            raise ArgumentError("net.weights[{0}] and net.biases[{0}] need {1} rows for sizes {2}".format(
                l, n_out, sizes))
        for j, w_j in enumerate(w):
            if len(w_j) != n_in:
                raise ArgumentError("net.weights[{}][{}] has {} entries, needs {}".format(l, j, len(w_j), n_in))


def check_finite_after_epoch(net, epoch, eta, cost=None, lmbda=0.0, n=1):
    """TrainingError if training has made a weight, a bias or the cost NaN or
    infinite; it says which of eta and lmbda (over n training examples) to lower."""
    bad = cost is not None and not math.isfinite(cost)
    if not bad:
        for layer in net.biases:
            if not all(map(math.isfinite, layer)):
                bad = True
                break
    if not bad:
        for w in net.weights:
            if not all(math.isfinite(v) for row in w for v in row):
                bad = True
                break
    if bad:
        what = "cost" if cost is not None and not math.isfinite(cost) else "weights"
        decay = 1.0 - eta * lmbda / n  # what L2 regularisation multiplies each weight by, each step:
        # below -1, that alone makes the weights grow without bound
        hint = ("try a smaller lmbda than {}: each step multiplies the weights by 1 - eta*lmbda/n = {:.3g}".format(
            lmbda, decay) if decay < -1.0 else "try a smaller eta than {}".format(eta))
        raise TrainingError("training diverged in epoch {}: the {} became NaN or infinite; {}".format(
            epoch, what, hint))
