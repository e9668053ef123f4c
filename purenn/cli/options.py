"""What the commands share: option types, option definitions, data and model loading.

An option type turns a string into a value or raises ArgumentTypeError
saying what is wrong; argparse prints that as one line with exit status 2.
"""

import argparse
import math
import os
import time

from .. import network2, network3
from ..backends import BACKENDS, core_status, fast_backend, predictions
from ..errors import ArgumentError
from ..files.modelfile import read_json
from ..files.network3file import is_network3
from ..files.reading import available_memory as _available_memory
from ..linalg import argmax
from ..mnist_loader import find_data_dir, load_data_wrapper

__all__ = ["say", "Parser", "sizes", "whole_number", "positive_int", "at_most", "non_negative_int",
           "positive_float", "non_negative_float", "probability", "backend_name", "backend_list", "add_data_option",
           "add_backend_option", "add_network_options", "backend_detail", "load_data", "check_memory",
           "check_memory_need", "check_writable", "load_model", "read_model", "model_shape", "classify"]


def say(text):
    print(text, flush=True)


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, exit status 2 (argparse's own
    put a usage block of many lines before the one that says what is wrong)."""

    def error(self, message):
        self.exit(2, "{0}: error: {1} (see {0} --help)\n".format(self.prog, message))

    def _parse_optional(self, arg_string):
        # Any number -- "-inf", "-nan", "-1e5" -- is a value (which the option types then refuse,
        # saying why), not an option: argparse takes only -1 and -.5 for values.
        try:
            float(arg_string)
            return None
        except ValueError:
            return super()._parse_optional(arg_string)


#### Option types

def sizes(text):
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            "{!r} is not a comma-separated list of whole numbers, e.g. 784,30,10".format(text)) from None
    if len(values) < 2:
        raise argparse.ArgumentTypeError(
            "{!r} has {} layer; give at least an input and an output layer, e.g. 784,30,10".format(
                text, len(values)))
    if any(size < 1 for size in values):
        raise argparse.ArgumentTypeError("{!r}: every layer needs at least one neuron".format(text))
    return values


def whole_number(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("{!r} is not a whole number".format(text)) from None


def _number(text, expected):
    """float(text); "TEXT is not EXPECTED" if it is not a number or not finite."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("{!r} is not a number".format(text)) from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError("{} is not {}".format(text, expected))
    return value


def positive_int(text):
    value = whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError("{} is not positive; give 1 or more".format(value))
    return value


def at_most(highest):
    """An option type: a whole number from 1 to `highest`."""
    def bounded(text):
        value = positive_int(text)
        if value > highest:
            raise argparse.ArgumentTypeError("{} is more than {}; give 1 to {}".format(value, highest, highest))
        return value
    return bounded


def non_negative_int(text):
    value = whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError("{} is negative; give 0 or more".format(value))
    return value


def positive_float(text):
    value = _number(text, "a positive finite number")
    if value <= 0:
        raise argparse.ArgumentTypeError("{} is not a positive finite number".format(text))
    return value


def non_negative_float(text):
    value = _number(text, "a finite number of 0 or more")
    if value < 0:
        raise argparse.ArgumentTypeError("{} is not a finite number of 0 or more".format(text))
    return value


def probability(text):
    value = non_negative_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError("{} is not below 1".format(text))
    return value


def backend_name(text):
    if text.lower() not in BACKENDS + ("auto",):
        raise argparse.ArgumentTypeError("{!r} is not a backend; choose auto, c, python or reference".format(text))
    return text.lower()


def backend_list(text):
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    for name in names:
        if name not in BACKENDS:
            raise argparse.ArgumentTypeError("{!r} is not a backend; choose from c, python, reference".format(name))
    return names


#### Options more than one command takes

def add_data_option(command):
    command.add_argument("--data", metavar="DIR", default=None,
                         help="directory with the four MNIST-format files, each plain or .gz "
                              "(default: $PURENN_DATA, else the MNIST bundled with purenn)")


def add_backend_option(command):
    command.add_argument("--backend", type=backend_name, default=None, metavar="NAME",
                         help="auto, c, python (the pure-Python engine) or reference (the teaching code "
                              "as written) (default: $PURENN_BACKEND, else auto: the C core when it is "
                              "built, else python)")


def add_network_options(command, epochs, epochs_help):
    """--sizes, --epochs, --batch-size and --eta, the book's chapter-1 values by default."""
    command.add_argument("--sizes", type=sizes, default=[784, 30, 10], metavar="N,N,...",
                         help="neurons per layer, input first (default 784,30,10)")
    command.add_argument("--epochs", type=positive_int, default=epochs, metavar="N",
                         help="{} (default {})".format(epochs_help, epochs))
    command.add_argument("--batch-size", type=positive_int, default=10, metavar="N",
                         help="examples per mini-batch (default 10)")
    command.add_argument("--eta", type=positive_float, default=3.0, metavar="X",
                         help="learning rate (default 3.0)")


_BACKEND_DETAIL = {"python": "the pure-Python engine", "reference": "the teaching code, as written"}


def backend_detail(backend):
    return core_status()[1] if backend == "c" else _BACKEND_DETAIL[backend]


#### Data, memory, files and models

def load_data(options, parser):
    """(data_dir, training, validation, test, seconds) for the options data,
    train_limit, test_limit and validation_size, checked against sizes."""
    data_dir = find_data_dir(options["data"])
    started = time.perf_counter()
    training_data, validation_data, test_data = load_data_wrapper(data_dir, options.get("validation_size"))
    seconds = time.perf_counter() - started
    training_data = training_data[:options["train_limit"]]
    validation_data = validation_data[:options["test_limit"]]
    test_data = test_data[:options["test_limit"]]
    if not training_data:
        parser.error("the data in {} has no training images".format(data_dir))
    n_in, n_out = len(training_data[0][0]), len(training_data[0][1])
    layers = options["sizes"]
    if layers[0] != n_in:
        parser.error("argument --sizes: the input layer has {} neurons but the images in {} have {} "
                     "pixels; start --sizes with {}".format(layers[0], data_dir, n_in, n_in))
    if layers[-1] < n_out:
        parser.error("argument --sizes: the output layer has {} neurons, fewer than the {} classes; "
                     "end --sizes with {}".format(layers[-1], n_out, n_out))
    if layers[-1] > n_out:
        pad = [0.0] * (layers[-1] - n_out)  # extra outputs are taught to stay at 0
        training_data = [(x, y + pad) for x, y in training_data]
    return data_dir, training_data, validation_data, test_data, seconds


# What training costs per weight at its peak: a float object and a list's pointer to it
# (32 bytes) in the weights, their gradients and the new weights an update makes, and
# the C core's packed copy.  Measured (peak RSS less that of a tiny network, one epoch
# of `train --sizes 784,10000,10`): 93 bytes (c), 99 (python), 128 (reference).
_BYTES_PER_PARAMETER = 128


def check_memory(layers, parser):
    """Refuse --sizes whose weights alone would not fit in the memory there is,
    before trying (and being killed by the system, rather than told why)."""
    count = 0
    for n_in, n_out in zip(layers[:-1], layers[1:]):
        count += n_in * n_out + n_out
    check_memory_need(count * _BYTES_PER_PARAMETER, "argument --sizes: {:,} weights and biases".format(count),
                      "give smaller layers", parser)


def check_memory_need(need, what, advice, parser):
    """Refuse, before trying, what needs `need` bytes when less memory is available."""
    available = _available_memory()
    if available is not None and need > available:
        parser.error("{} need about {:,.1f} GB, more than the {:,.1f} GB of memory available; {}".format(
            what, need / 1e9, available / 1e9, advice))


def check_writable(path, option, parser):
    if os.path.isdir(path):
        parser.error("argument {}: {} is a directory; give a file name".format(option, path))
    directory = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(directory):
        parser.error("argument {}: the directory {} does not exist".format(option, directory))
    if not os.access(directory, os.W_OK):
        parser.error("argument {}: cannot write in {}".format(option, directory))


def load_model(path, backend):
    """A saved network that reads 28 x 28 digits: 784 inputs, at least 10 outputs."""
    net = read_model(path, backend)
    inputs, outputs = model_shape(net)
    if inputs != 784:
        raise ArgumentError("{}: the network takes {} inputs, not the 784 pixels of a 28 x 28 digit".format(
            path, inputs))
    if outputs < 10:
        raise ArgumentError("{}: the network has {} outputs, fewer than the 10 digits".format(path, outputs))
    return net


def read_model(path, backend):
    """A saved network, of whichever kind its file says: network3's ("format":
    "purenn-network3"), else network2's (or the chapter-1 network's, or the book's)."""
    data = read_json(path)
    if is_network3(data):
        return network3.network_from_dict(path, data, backend)
    return network2.network_from_dict(path, data, backend)


def model_shape(net):
    """(inputs, outputs) of a saved network of either kind."""
    if isinstance(net, network3.Network):
        return net.layers[0].n_in, net.layers[-1].n_out
    return net.sizes[0], net.sizes[-1]


def classify(net, xs):
    """The digit `net` (of either kind) sees in each input of xs: its largest output, the first on a tie
    (network3 on the C core: all in one call, as network3's accuracy does)."""
    if not isinstance(net, network3.Network):
        return predictions(net, xs)
    if fast_backend(net) is None:
        return [argmax(net.feedforward(x)) for x in xs]
    from ..backends import cnetwork3  # on demand: it loads the compiled core
    return cnetwork3.classify(net, xs)
