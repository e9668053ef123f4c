"""figure: one of the book's figures, redrawn by purenn (purenn.figures), as SVG with its numbers in JSON beside it."""

import json
import sys
import time

from ..backends import resolve_backend
from ..figures import FIGURES
from ..figures.common import FigureData, seconds_per_example
from ..files.atomic import write_text
from ..files.plot import render_figure
from ..mnist_loader import find_data_dir, load_data_wrapper
from .options import (add_backend_option, add_data_option, backend_detail, check_writable, non_negative_float,
                      non_negative_int, positive_float, positive_int, say, sizes)

__all__ = ["add_parser", "run"]


def _floats(text):
    return [positive_float(part) for part in text.split(",")]


def _hidden(text):
    return sizes("784," + text + ",10")[1:-1]


#: option -> (type, help); the setting each changes is the figure's (purenn.figures.common.KNOBS)
OPTIONS = {
    "epochs": (positive_int, "epochs (for more-data: examples a size, the book's 1,500,000)"),
    "eta": (_floats, "the learning rate (multiple-eta: a comma-separated list)"),
    "lmbda": (non_negative_float, "the L2 regularisation parameter"),
    "hidden": (_hidden, "hidden layers, e.g. 30 or 30,30 (vanishing-gradient: their width)"),
    "images": (positive_int, "training images (more-data: the largest size drawn)"),
    "seed": (non_negative_int, "the seed (the book's scripts: 12345678)"),
}


def add_parser(commands):
    command = commands.add_parser(
        "figure", help="redraw one of the book's figures as SVG (and its numbers as JSON)",
        description="Make one of the book's figures the way the book's own script does -- the same network, data, "
                    "epochs, eta and lmbda -- and draw it as SVG, its numbers in a JSON file beside it. --quick "
                    "shrinks the run to seconds. Figures: " + ", ".join(FIGURES) + ".")
    command.add_argument("name", metavar="NAME", nargs="?", help="the figure (--list: what each is)")
    command.add_argument("--list", action="store_true", help="list the figures and the book's settings of each")
    command.add_argument("--out", metavar="FILE.svg", default=None, help="the picture (default NAME.svg); the "
                         "numbers go beside it as FILE.json")
    command.add_argument("--quick", action="store_true", help="a run of seconds instead of the book's")
    for option, (kind, text) in OPTIONS.items():
        command.add_argument("--" + option, type=kind, default=None, metavar="X", help=text)
    add_data_option(command)
    add_backend_option(command)
    return command


def _changes(args, figure, parser):
    changes = {}
    for option in OPTIONS:
        value = getattr(args, option)
        if value is None:
            continue
        try:
            setting, value = figure.knob(option, value)
        except KeyError:
            parser.error("argument --{}: the figure {} has no such knob; its settings are {}".format(
                option, figure.name, ", ".join(sorted(figure.defaults))))
        except ValueError as e:
            parser.error("argument --{}: {} {}".format(option, figure.name, e))
        changes[setting] = value
    return changes


def _list():
    for figure in FIGURES.values():
        say("{:22} {} ({})".format(figure.name, figure.what, figure.book))
        say("{:22} the book's: {}".format("", json.dumps(figure.defaults)))
    return 0


def _estimate(figure, settings, backend, data):
    examples, epochs = figure.work(settings)
    if not examples:
        return None
    sizes_ = [784] + list(settings.get("hidden", [settings.get("width", 30)] * 2)) + [10]
    per_example, per_epoch = seconds_per_example(backend, sizes_, data)
    return examples * per_example + epochs * per_epoch


def _clock(seconds):
    if seconds < 1:
        return "under a second"
    return "{:.0f} s".format(seconds) if seconds < 120 else "{:.0f} min".format(seconds / 60)


def run(args, parser, argv):
    if args.list:
        return _list()
    if args.name is None or args.name not in FIGURES:
        parser.error("argument NAME: {} a figure; the figures are {}".format(
            "give" if args.name is None else "{!r} is not".format(args.name), ", ".join(FIGURES)))
    figure = FIGURES[args.name]
    settings = figure.settings(args.quick, **_changes(args, figure, parser))
    out = args.out or figure.name + ".svg"
    if not out.endswith(".svg"):
        parser.error("argument --out: {} does not end in .svg".format(out))
    numbers = out[:-len(".svg")] + ".json"
    check_writable(out, "--out", parser)
    data_dir = find_data_dir(args.data)
    data = FigureData(*load_data_wrapper(data_dir), data_dir)
    estimate = _estimate(figure, settings, args.backend, data)
    say("figure {} ({}){}: {}".format(figure.name, figure.book, ", quick" if args.quick else ", the book's run",
                                      json.dumps(settings)))
    if estimate is not None:
        backend = resolve_backend(args.backend)
        say("estimated: {} of CPU on backend {} ({}; measured on a few examples here{})".format(
            _clock(estimate), backend, backend_detail(backend),
            "; the SVM baseline not counted" if figure.name == "more-data" else ""))
    started = time.process_time()
    progress = _FigureProgress()
    results = figure.run(settings, data, progress, args.backend)
    progress.clear()
    drawn = figure.draw(results)
    svg = drawn if isinstance(drawn, str) else render_figure(drawn[1], drawn[0], drawn[2])
    seconds = time.process_time() - started
    write_text(out, svg, suffix=".svg")
    write_text(numbers, json.dumps({"figure": figure.name, "book": figure.book, "quick": args.quick,
                                    "seconds": round(seconds, 1), "results": results}, indent=1) + "\n")
    say("drew {} in {} and wrote its numbers to {} ({:.1f} s CPU)".format(figure.name, out, numbers, seconds))
    return 0


class _FigureProgress:
    """progress(done, total, label) for a figure's runs: one line on a terminal (nothing elsewhere)."""

    def __init__(self, stream=None):
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = bool(isatty and isatty())
        self.started, self.width = time.monotonic(), 0

    def __call__(self, done, total, label=""):
        if not self.enabled:
            return
        text = "{}{} of {} ({:.0f}%), {} so far".format(label or "step ", done, total, 100.0 * done / total,
                                                       _clock(time.monotonic() - self.started))
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = len(text)

    def clear(self):
        if self.enabled and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
