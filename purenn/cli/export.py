"""`python -m purenn export MODEL --micro DIR`: a saved network for MicroPython (purenn.micro).

DIR/model.bin holds the network (float32, or float64 with --float64: then
MicroPython's outputs are CPython's bit for bit) and DIR/purenn_micro.py
the module that runs it.  What cannot run there -- network3's layers, a
number beyond float32's range -- is refused in one line, and nothing is
written.
"""

import os

from .. import network3
from ..errors import ArgumentError
from ..micro import export
from .options import load_model, say

__all__ = ["add_parser", "run"]


def add_parser(commands):
    parser = commands.add_parser(
        "export", help="write a saved network for MicroPython: model.bin and purenn_micro.py",
        description="Write DIR/model.bin (the network in purenn_micro's binary layout) and DIR/purenn_micro.py "
                    "(a module that runs on MicroPython: `import purenn_micro as m; net = m.load('model.bin'); "
                    "net.classify(pixels)`, pixels 784 bytes in MNIST's layout).")
    parser.add_argument("model", metavar="MODEL",
                        help="a network saved by `train --save` (or the book's network2.save)")
    parser.add_argument("--micro", metavar="DIR", required=True,
                        help="the directory to write into (made if missing; its parent must exist)")
    parser.add_argument("--float64", action="store_true",
                        help="keep the weights as float64 (twice the memory; CPython's outputs bit for bit) "
                             "rather than float32")
    return parser


def run(args, parser, argv):
    directory = args.micro
    if os.path.exists(directory) and not os.path.isdir(directory):
        parser.error("argument --micro: {} is a file, not a directory".format(directory))
    parent = os.path.dirname(os.path.abspath(directory))
    if not os.path.isdir(directory) and not os.path.isdir(parent):
        parser.error("argument --micro: the directory {} does not exist".format(parent))
    net = load_model(args.model, None)
    if isinstance(net, network3.Network):
        raise ArgumentError("{}: a network3 (chapter-6) network; --micro exports the networks of train "
                            "(network.py and network2.py)".format(args.model))
    if not os.access(directory if os.path.isdir(directory) else parent, os.W_OK):
        parser.error("argument --micro: cannot write in {}".format(directory if os.path.isdir(directory) else parent))
    written = export(net, directory, float64=args.float64, name=args.model)
    say("{}: {} {}, {} hidden neurons, {} output, as {}".format(
        args.model, net.cost.__name__, net.sizes, net.activation, net.cost.output,
        "float64" if args.float64 else "float32"))
    for path, size in written:
        say("wrote {} ({:,} bytes)".format(path, size))
    say("run it: cd {} && micropython -c \"import purenn_micro as m; net = m.load('model.bin'); "
        "print(net.classify(pixels))\" -- pixels: 784 bytes, 0 to 255, MNIST's layout".format(directory))
    return 0
