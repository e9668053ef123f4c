"""serve: the page in the browser (purenn.web) -- draw a digit, look inside, see mistakes, watch one learn."""

import argparse
import errno
import os
import signal
import socket
import time

from .. import network2
from ..mnist_loader import find_data_dir, load_data_wrapper
from .options import add_backend_option, add_data_option, classify, load_model, non_negative_int, say

__all__ = ["add_parser", "run", "QUICK"]

#: The network trained on start when no model is given: (sizes, epochs, images, eta, seed).
QUICK = ([784, 30, 10], 1, 10000, 0.5, 0)


def port_number(text):
    value = non_negative_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError("{} is not a port number from 0 to 65535 (0: any free port)".format(value))
    return value


def add_parser(commands):
    command = commands.add_parser(
        "serve", help="a page in the browser: draw a digit, look inside, see mistakes, watch one learn",
        description="Serve a page, from this machine only unless --host says otherwise: draw a digit and see the "
                    "network's answer, its hidden layers and its weights, the test digits it gets wrong, and "
                    "train a small network in the page. With no MODEL, a quick one is trained on start.")
    command.add_argument("models", nargs="*", metavar="MODEL",
                         help="saved networks to choose among (train --save, train3 --save); 784 inputs")
    command.add_argument("--host", default="127.0.0.1",
                         help="the address to listen on (default 127.0.0.1: this machine only)")
    command.add_argument("--port", type=port_number, default=8000, metavar="N",
                         help="the port (default 8000; 0: any free port)")
    command.add_argument("--verbose", action="store_true", help="log every request on stderr")
    add_data_option(command)
    add_backend_option(command)
    return command


def _names(paths):
    """A short, distinct name per model file: its file name without .json."""
    names = []
    for path in paths:
        base = os.path.basename(path)
        base = base[:-5] if base.endswith(".json") else base
        name, n = base, 2
        while name in names or name in ("quick", "learned"):
            name, n = "{}-{}".format(base, n), n + 1
        names.append(name)
    return names


def _quick_model(training, backend):
    sizes, epochs, images, eta, seed = QUICK
    started = time.process_time()
    net = network2.Network(sizes, seed=seed, backend=backend)
    net.SGD(training[:images], epochs, 10, eta, verbose=False)
    return net, time.process_time() - started


def _interrupted(signum, frame):
    error = KeyboardInterrupt()
    error.signum = signum
    raise error


def run(args, parser, argv):
    """Until it serves, SIGTERM is what Ctrl-C is (the command ends with 128 + the signal); once it
    serves, either stops it cleanly, with status 0."""
    signal.signal(signal.SIGTERM, _interrupted)
    # The page's room only when serving: http.server brings in ssl (and, on PyPy, cffi through hashlib).
    from ..web.api import App
    from ..web.learn import Learning
    from ..web.models import Model, Models
    from ..web.server import make_server, serve
    models = [Model(name, load_model(path, args.backend), path, classify)
              for name, path in zip(_names(args.models), args.models)]
    try:
        server = make_server(None, args.host, args.port, args.verbose)
    except OSError as e:  # a name that is no address, or one not on this machine, is --host's fault
        host_fault = isinstance(e, socket.gaierror) or e.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT)
        parser.error("argument {}: cannot listen on {}:{}: {}".format(
            "--host" if host_fault else "--port", args.host, args.port, e.strerror or e))
    try:
        data_dir = find_data_dir(args.data)
        training, validation, test = load_data_wrapper(data_dir)
        if not models:
            net, seconds = _quick_model(training, args.backend)
            model = Model("quick", net, "trained on start", classify)
            wrong = len(model.all_mistakes(test))
            sizes, epochs, images, eta, seed = QUICK
            say("no model given: trained a quick one, 'quick' ({}, {} epoch on {:,} digits, eta {}, seed {}; "
                "{:.1f} s CPU): {:.2%} of the {:,} test digits right".format(
                    sizes, epochs, images, eta, seed, seconds, 1 - wrong / len(test), len(test)))
            models.append(model)
        served = Models(models)

        def learned(net, settings):
            served.add(Model("learned", net, "learned in the page", classify))
            return "learned"

        learning = Learning(training, validation, learned, args.backend)
        server.app = App(served, test, learning)
    except BaseException:
        server.server_close()
        raise
    say("purenn serve: {} model{} ({}); open {} (Ctrl-C stops)".format(
        len(models), "" if len(models) == 1 else "s", ", ".join(m.name for m in models), server.url))

    def stop():
        learning.stop()
        learning.join(10)

    serve(server, on_stop=stop)
    say("purenn serve: stopped")
    return 0
