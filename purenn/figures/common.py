"""What every figure shares: its settings, the book's training runs with their monitors, the time they take.

    Figure(name, book, what, defaults, quick, run, draw, work)
        defaults / quick   the settings of the book's own run, and of a run that takes seconds
        run(settings, data, progress, backend) -> results (JSON-ready numbers)
        draw(results)      -> (title, [plot.Panel], columns)
        work(settings)     -> (examples the run passes forward or back, epochs), for its time estimate
        knob(option, value) -> (setting, value): what a command-line knob changes (KNOBS, or the figure's own)
    monitored_run(net, training, epochs, eta, lmbda, evaluation, monitors, progress, label)
                       -> the per-epoch records of network2's SGD (accuracies as fractions)
    seconds_per_example(backend, sizes, data) -> (a second an example, a second an epoch), measured here

`data` is a FigureData: (training, validation, test) as mnist_loader.load_data_wrapper gives
them, and the directory they came from (for what reads it itself, as the SVM baseline does).
"""

import collections
import time

from .. import network2

__all__ = ["Figure", "FigureData", "KNOBS", "one_value", "monitored_run", "seconds_per_example", "BOOK_SEED"]

FigureData = collections.namedtuple("FigureData", "training validation test directory")

#: The seed every one of the book's figure scripts sets (random.seed(12345678)).
BOOK_SEED = 12345678


def one_value(values):
    """A knob given as a list (as --eta is) that takes one value: that value."""
    if len(values) > 1:
        raise ValueError("takes one learning rate, not {}".format(len(values)))
    return values[0]


#: The command line's knobs: option -> (the setting it changes, how its value becomes the setting's
#: or None); a figure whose settings are named otherwise says so in its own `knobs`.
KNOBS = {"epochs": ("epochs", None), "eta": ("eta", one_value), "lmbda": ("lmbda", None),
         "hidden": ("hidden", None), "images": ("images", None), "seed": ("seed", None)}


class Figure:
    def __init__(self, name, book, what, defaults, quick, run, draw, work, knobs=None):
        self.name, self.book, self.what = name, book, what
        self.defaults, self.quick = defaults, quick
        self.run, self.draw, self.work = run, draw, work
        self.knobs = dict(KNOBS, **(knobs or {}))

    def knob(self, option, value):
        """(setting, value) that the command line's --option value changes; KeyError if this figure has
        no setting for it, ValueError (saying why) if the value does not fit."""
        setting, convert = self.knobs[option]
        if setting not in self.defaults:
            raise KeyError(option)
        return setting, value if convert is None else convert(value)

    def settings(self, quick=False, **changes):
        """The book's settings (or the quick ones) with `changes` made; a change this figure has no knob
        for is a KeyError naming it."""
        settings = dict(self.quick if quick else self.defaults)
        for name, value in changes.items():
            if name not in settings:
                raise KeyError(name)
            settings[name] = value
        return settings


def monitored_run(net, training, epochs, eta, lmbda, evaluation, monitors, progress=None, label="", batch=10):
    """network2's SGD, `monitors` a subset of ("training_cost", "training_accuracy", "evaluation_cost",
    "evaluation_accuracy"); returns its per-epoch records.  `progress(done, total, label)` hears of each epoch."""
    records = []

    def on_epoch(record):
        records.append(record)
        if progress is not None:
            progress(len(records), epochs, label)

    net.SGD(training, epochs, batch, eta, lmbda=lmbda, evaluation_data=evaluation,
            on_epoch=on_epoch, verbose=False, **{"monitor_" + m: True for m in monitors})
    return records


def seconds_per_example(backend, sizes, data):
    """(CPU seconds to train on and to evaluate one example with `sizes`, CPU seconds an epoch costs
    besides), measured here: the slope and the intercept of a run on 300 examples and one on 600, the
    best of three."""
    def once(n):
        net = network2.Network(sizes, seed=0, backend=backend)
        started = time.process_time()
        net.SGD(data.training[:n], 1, 10, 0.1, evaluation_data=data.validation[:n], monitor_evaluation_accuracy=True,
                monitor_evaluation_cost=True, verbose=False)
        return time.process_time() - started
    runs = [(once(300), once(600)) for _ in range(3)]
    small, large = min(r[0] for r in runs), min(r[1] for r in runs)
    slope = max(large - small, 0.0) / (3 * 300)
    return slope, max(small - 3 * 300 * slope, 0.0)
