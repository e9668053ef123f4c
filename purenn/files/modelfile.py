"""modelfile.py -- the JSON model files of the book's network2.save and network2.load.

    save_network(net, filename)        write a network (either chapter's) atomically
    network_dict(net, filename)        the JSON object it writes
    read_json(filename)                a JSON document, or ModelFileError naming the file
    nested_too_deeply(text)            whether a JSON text nests deeper than MAX_DEPTH
    parse_network(filename, data, costs, activations)
                                       the checked contents of such an object

The book's keys -- sizes, weights, biases as (n, 1) columns, cost (the
class name) -- so the book's network2.load reads purenn's files and
purenn.network2.load reads the book's; plus purenn's own: format, version,
activation, dropout.  Floats are written so that they read back exactly.
Anything wrong in a file is a ModelFileError that names the file and the
field; a file whose sizes promise a huge network is refused before anything
big is allocated.  Only a regular file of at most MAX_BYTES (1 GiB) is read
(purenn.files.reading): never a FIFO or a device such as /dev/zero; and
one nested deeper than MAX_DEPTH is refused before it is parsed.
"""

import json
import math
import os
import re

from ..errors import ArgumentError, ModelFileError
from ..training.checks import is_finite_number, is_whole_number
from .atomic import write_text
from .reading import read_input

__all__ = ["save_network", "network_dict", "read_json", "json_problem", "nested_too_deeply", "parse_network",
           "MAX_BYTES", "MAX_DEPTH"]

#: The largest model or checkpoint file read: 1 GiB, some 50 million weights
#: at about 20 characters each -- far more than pure Python trains.
MAX_BYTES = 2 ** 30

#: The deepest nesting of arrays and objects read.  A model file nests 5 deep, a checkpoint 7;
#: the limit is checked before parsing, so that no JSON decoder recurses deeper: CPython's
#: stops at its recursion limit, but Pyodide's overflows the JavaScript stack first.
MAX_DEPTH = 100

_JSON_SPECIAL = re.compile(r'["\\\[\]{}]')


def save_network(net, filename):
    """Save `net` (a network2 or chapter-1 Network) to `filename` as JSON.
    The file is written beside its destination and renamed into place: an
    interrupted save leaves the old file, never half a new one."""
    write_text(filename, json.dumps(network_dict(net, filename)), suffix=".json")


def network_dict(net, filename):
    """The JSON object save_network writes; ArgumentError naming `filename`
    if a weight or bias is not finite."""
    for w in net.weights:
        for w_j in w:
            for w_jk in w_j:
                if not math.isfinite(w_jk):
                    raise ArgumentError("{}: the network has non-finite weights; not saving it".format(filename))
    for b in net.biases:
        for b_j in b:
            if not math.isfinite(b_j):
                raise ArgumentError("{}: the network has non-finite biases; not saving it".format(filename))
    return {
        "sizes": list(net.sizes),
        "weights": [[[float(v) for v in w_j] for w_j in w] for w in net.weights],
        "biases": [[[float(b_j)] for b_j in b] for b in net.biases],  # the book's (n, 1) columns
        "cost": net.cost.__name__,
        "format": "purenn-network",
        "version": 1,
        "activation": net.activation,
        "dropout": net.dropout,
    }


def read_json(filename):
    """The JSON document in `filename`; ModelFileError if it cannot be read as one,
    is not a regular file, or is larger than MAX_BYTES."""
    filename = os.fspath(filename)
    data = read_input(filename, ModelFileError, MAX_BYTES, "a model or checkpoint file")
    try:
        text = data.decode("utf-8")
        if nested_too_deeply(text):
            raise RecursionError("nested more than {} deep".format(MAX_DEPTH))
        return json.loads(text)
    except (ValueError, RecursionError) as e:
        raise ModelFileError(filename, "not JSON: {}".format(json_problem(e))) from None


def nested_too_deeply(text, limit=MAX_DEPTH):
    """True if the JSON text `text` opens more than `limit` arrays and objects
    inside one another (brackets in strings do not count).  A scan of the
    brackets, quotes and backslashes only: a tenth of a second for 35 MB."""
    if text.count("[") + text.count("{") <= limit:  # no deeper than all there are: a quick answer
        return False
    depth, in_string, skip = 0, False, -1
    for found in _JSON_SPECIAL.finditer(text):
        i = found.start()
        if i == skip:  # the character after a backslash in a string
            continue
        c = text[i]
        if in_string:
            if c == "\\":
                skip = i + 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c == "[" or c == "{":
            depth += 1
            if depth > limit:
                return True
        elif c == "]" or c == "}":
            depth -= 1
    return False


def json_problem(e):
    """What json.load said was wrong, as plain ASCII text.  Never the error
    object itself: PyPy 3.9's decoder can cut a non-ASCII character in half in
    its message, and formatting that string crashes the interpreter."""
    if isinstance(e, RecursionError):
        return "nested too deeply"
    if isinstance(e, UnicodeDecodeError):
        return "not UTF-8 text (byte {} of the file)".format(e.start)
    if isinstance(e, json.JSONDecodeError):
        return "{} (line {}, column {})".format(ascii(e.msg)[1:-1], e.lineno, e.colno)
    return ascii(str(e))[1:-1]


def parse_network(filename, data, costs, activations):
    """The contents of a model file's JSON object `data`, checked: a dict with
    sizes, weights, biases (nested lists of floats), cost (one of the names in
    `costs`), activation (one of `activations`) and dropout.  ModelFileError
    naming `filename` and the field otherwise."""
    if not isinstance(data, dict):
        raise ModelFileError(filename, "expected a JSON object with sizes, weights, biases, cost")
    for key in ("sizes", "weights", "biases", "cost"):
        if key not in data:
            raise ModelFileError(filename, "missing the key {!r}".format(key))
    if not isinstance(data["cost"], str) or data["cost"] not in costs:
        raise ModelFileError(filename, "unknown cost {!r}; expected one of {}".format(
            data["cost"], ", ".join(costs)))
    activation = data.get("activation", "sigmoid")
    if not isinstance(activation, str) or activation not in activations:
        raise ModelFileError(filename, "unknown activation {!r}; expected one of {}".format(
            activation, ", ".join(activations)))
    sizes = data["sizes"]
    if (not isinstance(sizes, list) or len(sizes) < 2
            or not all(is_whole_number(s, 1) for s in sizes)):
        raise ModelFileError(filename, "sizes must be a list of at least two positive whole numbers")
    dropout = data.get("dropout", 0.0)
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
        raise ModelFileError(filename, "dropout {!r} is not a probability from 0 up to (not including) 1".format(
            dropout))
    # The shapes first: they are checked against what the file holds, so that
    # sizes promising a huge network in a small file fail before anything big
    # is allocated.
    return {"sizes": sizes, "weights": _matrices(filename, data["weights"], sizes),
            "biases": _columns(filename, data["biases"], sizes), "cost": data["cost"],
            "activation": activation, "dropout": float(dropout)}


def _number(filename, value, where):
    if not is_finite_number(value):
        text = repr(value) if len(repr(value)) < 40 else repr(value)[:30] + "..."
        raise ModelFileError(filename, "{} is {}, not a finite number".format(where, text))
    return float(value)


def _matrices(filename, weights, sizes):
    if not isinstance(weights, list) or len(weights) != len(sizes) - 1:
        raise ModelFileError(filename, "weights: expected {} matrices for sizes {}".format(len(sizes) - 1, sizes))
    out = []
    for l, (w, n_in, n_out) in enumerate(zip(weights, sizes[:-1], sizes[1:])):
        if not isinstance(w, list) or len(w) != n_out or not all(
                isinstance(row, list) and len(row) == n_in for row in w):
            raise ModelFileError(filename, "weights[{}]: expected {} x {} for sizes {}".format(l, n_out, n_in, sizes))
        out.append([[_number(filename, v, "weights[{}][{}][{}]".format(l, j, k)) for k, v in enumerate(row)]
                    for j, row in enumerate(w)])
    return out


def _columns(filename, biases, sizes):
    if not isinstance(biases, list) or len(biases) != len(sizes) - 1:
        raise ModelFileError(filename, "biases: expected {} vectors for sizes {}".format(len(sizes) - 1, sizes))
    out = []
    for l, (b, n_out) in enumerate(zip(biases, sizes[1:])):
        if not isinstance(b, list) or len(b) != n_out:
            raise ModelFileError(filename, "biases[{}]: expected {} entries for sizes {}".format(l, n_out, sizes))
        column = []
        for j, entry in enumerate(b):
            # The book writes each bias vector as an (n, 1) column: [[b0], [b1], ...].
            if isinstance(entry, list) and len(entry) == 1:
                entry = entry[0]
            column.append(_number(filename, entry, "biases[{}][{}]".format(l, j)))
        out.append(column)
    return out
