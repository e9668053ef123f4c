"""`python -m purenn explain`: backpropagation's four equations for one example, with the numbers (purenn.explain)."""

import argparse
import random

from .. import network2
from ..explain import explain, render
from ..mnist_loader import find_data_dir, load_data_wrapper
from .options import add_data_option, non_negative_int, positive_float, positive_int, say, sizes
from .resume import COST_NAMES

__all__ = ["add_parser", "run"]


def add_parser(commands):
    parser = commands.add_parser(
        "explain", help="backpropagation for one example, equation by equation, with the numbers",
        description="Write out, for one training example, the forward pass neuron by neuron, the backward "
                    "pass as the book's equations BP1 and BP2, every gradient (BP3, BP4), each gradient beside "
                    "its central difference, and one step of gradient descent -- computed by network2's own "
                    "backprop.")
    parser.add_argument("--sizes", type=sizes, default=[2, 3, 2], metavar="N,N,...",
                        help="a small network to make (default 2,3,2)")
    parser.add_argument("--seed", type=non_negative_int, default=0, metavar="N",
                        help="seed for its weights and, without --input, the input (default 0)")
    parser.add_argument("--model", metavar="FILE", default=None, help="explain a saved network instead (its own sizes, cost and neurons)")
    parser.add_argument("--cost", choices=sorted(COST_NAMES), default="quadratic",
                        help="the cost (default quadratic, the chapter-2 one)")
    parser.add_argument("--activation", choices=["sigmoid", "tanh", "relu"], default="sigmoid",
                        help="the hidden neurons (default sigmoid)")
    parser.add_argument("--example", type=non_negative_int, default=None, metavar="I",
                        help="MNIST training example I as the input and target (784 inputs, 10 outputs)")
    parser.add_argument("--input", type=_numbers, default=None, metavar="X1,X2,...", help="the input")
    parser.add_argument("--target", type=_numbers, default=None, metavar="Y1,Y2,...",
                        help="the desired output (default: 1 for the first output neuron, 0 for the others)")
    parser.add_argument("--eta", type=positive_float, default=0.5, metavar="X", help="the step (default 0.5)")
    parser.add_argument("--neurons", type=positive_int, default=4, metavar="K",
                        help="write out the first K neurons of each layer and K terms of each sum (default 4)")
    parser.add_argument("--format", choices=["text", "markdown"], default="text", help="plain text or Markdown")
    add_data_option(parser)
    return parser


def _numbers(text):
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("{!r} is not a list of numbers like 0.5,1,0".format(text)) from None
    if not all(v == v and abs(v) != float("inf") for v in values):
        raise argparse.ArgumentTypeError("{!r} holds a number that is not finite".format(text))
    return values


def run(args, parser, argv):
    net = _network(args)
    x, y = _example(args, net, parser)
    say(render(explain(net, x, y, eta=args.eta, neurons=args.neurons, terms=args.neurons), args.format).rstrip("\n"))
    return 0


def _network(args):
    """The network to explain, on the reference (whose backprop is what is shown): --model's, or a new one."""
    if args.model:
        return network2.load(args.model, backend="reference")
    return network2.Network(args.sizes, network2.COSTS[COST_NAMES[args.cost]], activation=args.activation,
                            seed=args.seed, backend="reference")


def _example(args, net, parser):
    n_in, n_out = net.sizes[0], net.sizes[-1]
    if args.example is not None:
        if args.input is not None:
            parser.error("argument --example: not allowed with --input")
        training, _, _ = load_data_wrapper(find_data_dir(args.data))
        if (n_in, n_out) != (784, 10):
            parser.error("argument --example: an MNIST example needs a network of 784 inputs and 10 outputs, "
                         "not {}".format(net.sizes))
        if args.example >= len(training):
            parser.error("argument --example: {} is past the last of the {} training examples".format(
                args.example, len(training)))
        x, y = training[args.example]
        return list(x), list(y) if args.target is None else _sized(args.target, n_out, "--target", parser)
    if args.input is None:
        rng = random.Random(args.seed + 1)
        x = [round(rng.random(), 2) for _ in range(n_in)]
    else:
        x = _sized(args.input, n_in, "--input", parser)
    y = [1.0] + [0.0] * (n_out - 1) if args.target is None else _sized(args.target, n_out, "--target", parser)
    return x, y


def _sized(values, n, option, parser):
    if len(values) != n:
        parser.error("argument {}: {} numbers, but the network's layer has {}".format(option, len(values), n))
    return values
