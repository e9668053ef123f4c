"""A network for MicroPython: model.bin written, and purenn_micro.py beside it.

    model_bin(net, float64)       model.bin's bytes (the layout: purenn_micro's docstring)
    export(net, directory, ...)   DIR/model.bin and DIR/purenn_micro.py, each written atomically
    MODULE                        the path of purenn_micro.py, the module that reads and runs model.bin

Only what purenn_micro can run is written: network.py's and network2.py's
networks (sigmoid, tanh or relu hidden neurons; a sigmoid or softmax
output), every number within float32's range unless float64.  Anything
else is an ArgumentError naming the model and what is wrong.
"""

import os
import struct

from ..errors import ArgumentError
from ..files.atomic import write_bytes
from . import purenn_micro

__all__ = ["MODULE", "model_bin", "export", "FLOAT32_MAX"]

MODULE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "purenn_micro.py")

#: The largest float32; a number at or beyond its halfway point to 2^128 would be stored as infinity.
FLOAT32_MAX = float.fromhex("0x1.fffffep+127")
_FLOAT32_OVERFLOW = float.fromhex("0x1.ffffffp+127")


def model_bin(net, float64=False, name="the network"):
    """model.bin's bytes for a network of purenn.network or purenn.network2 (`name` for errors)."""
    activation = getattr(net, "activation", "sigmoid")
    if activation not in purenn_micro.ACTIVATION_CODES:
        raise ArgumentError("{}: {} hidden neurons; purenn_micro runs {}".format(
            name, activation, ", ".join(purenn_micro.ACTIVATION_CODES)))
    output = getattr(net.cost, "output", "sigmoid")
    if output not in purenn_micro.OUTPUT_CODES:
        raise ArgumentError("{}: a {} output layer; purenn_micro runs {}".format(
            name, output, ", ".join(purenn_micro.OUTPUT_CODES)))
    sizes = list(net.sizes)
    if len(sizes) > 0xFFFF or max(sizes) > 0xFFFFFFFF:
        raise ArgumentError("{}: sizes {} beyond model.bin's fields".format(name, sizes))
    size, code = (8, "d") if float64 else (4, "f")
    parts = [struct.pack(purenn_micro.HEADER, purenn_micro.MAGIC, purenn_micro.VERSION, size,
                         purenn_micro.ACTIVATION_CODES.index(activation), purenn_micro.OUTPUT_CODES.index(output),
                         len(sizes)),
             struct.pack("<{}I".format(len(sizes)), *sizes)]
    for l, (b, w) in enumerate(zip(net.biases, net.weights)):
        parts.append(_pack(code, b, name, "biases[{}]".format(l)))
        for j, w_j in enumerate(w):
            parts.append(_pack(code, w_j, name, "weights[{}][{}]".format(l, j)))
    return b"".join(parts)


def _pack(code, numbers, name, where):
    if code == "f":
        for k, x in enumerate(numbers):
            if not abs(x) < _FLOAT32_OVERFLOW:  # NaN too (a model file refuses those already)
                raise ArgumentError("{}: {}[{}] is {!r}, beyond float32's range (largest {:.7g}); export with "
                                    "--float64".format(name, where, k, x, FLOAT32_MAX))
    return struct.pack("<{}{}".format(len(numbers), code), *numbers)


def export(net, directory, float64=False, name="the network"):
    """Write directory/model.bin and directory/purenn_micro.py (the directory made if
    missing); [(path, bytes written)].  If the second file cannot be written, the first
    is taken away again (and the directory, if this made it)."""
    with open(MODULE, "rb") as f:
        module = f.read()
    model = model_bin(net, float64, name)  # refused before anything is made
    made = not os.path.isdir(directory)
    if made:
        os.mkdir(directory)
    written = []
    try:
        for filename, data in (("model.bin", model), ("purenn_micro.py", module)):
            path = os.path.join(directory, filename)
            write_bytes(path, data)
            written.append((path, len(data)))
    except BaseException:
        try:
            for path, _ in written:
                os.remove(path)
            if made:
                os.rmdir(directory)
        except OSError:
            pass
        raise
    return written

