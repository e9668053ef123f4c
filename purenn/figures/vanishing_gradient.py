"""vanishing-gradient (chapter 5, the book's fig/generate_gradient.py): the speed of learning of each hidden layer.

The book's run: [784, 30, 30, 10], [784, 30, 30, 30, 10] and [784, 30, 30, 30, 30, 10]
(network2's defaults: cross-entropy, new initial weights), the first 1,000 training images, 500
epochs, each one full-batch step (a mini-batch of 1,000, eta 0.1, lmbda 5.0); before each epoch
the speed of learning of each hidden layer: the length of the average over the 1,000 images of
dC/db for its neurons.  Drawn per depth on a log axis, and the speeds before training, layer by
layer: the first hidden layer learns far more slowly than the last.

The average gradient is read off one full-batch step of eta 1 and lmbda 0 taken by a copy of the
network (biases are not regularised, so the copy's b - b' is the mean of backprop's nabla_b): the
network's own SGD does the arithmetic, on whichever backend runs, and the figure needs no
backpropagation of its own.  The difference b - b' is exact (Sterbenz: b' is within a factor of
2 of b), so the mean is off only by the rounding of b' -- under 1e-16 |b|, far below the
gradients drawn (tests/test_figures.py compares it with the mean of network2.backprop).
"""

import math

from .. import network2
from ..files.plot import Panel, Series
from .common import BOOK_SEED, Figure

__all__ = ["VANISHING_GRADIENT", "average_bias_gradient"]


def average_bias_gradient(net, training):
    """The mean over `training` of dC/db, per layer (a list per layer), as one full-batch step shows it."""
    twin = network2.Network(net.sizes, net.cost, activation=net.activation, backend=net.backend)
    twin.weights = [[list(row) for row in w] for w in net.weights]
    twin.biases = [list(b) for b in net.biases]
    twin.SGD(training, 1, len(training), 1.0, lmbda=0.0, verbose=False)
    return [[b - b_new for b, b_new in zip(before, after)] for before, after in zip(net.biases, twin.biases)]


def _norm(values):
    total = 0.0
    for v in values:
        total += v * v
    return math.sqrt(total)


def run(settings, data, progress=None, backend=None):
    training = data[0][:settings["images"]]
    depths = {}
    for n, hidden in enumerate(settings["depths"]):
        net = network2.Network([784] + [settings["width"]] * hidden + [10], seed=settings["seed"], backend=backend)
        speeds = []
        for epoch in range(settings["epochs"]):
            speeds.append([_norm(g) for g in average_bias_gradient(net, training)[:-1]])  # the hidden layers
            net.SGD(training, 1, len(training), settings["eta"], lmbda=settings["lmbda"], verbose=False)
            if progress is not None:
                progress(n * settings["epochs"] + epoch + 1, len(settings["depths"]) * settings["epochs"],
                         "{} hidden layers: ".format(hidden))
        depths[str(hidden)] = speeds
    return {"settings": settings, "speeds": depths}


def draw(results):
    s = results["settings"]
    panels = []
    for hidden, speeds in results["speeds"].items():
        series = [Series("hidden layer {}".format(j + 1), [(e, v[j]) for e, v in enumerate(speeds)], markers=False)
                  for j in range(int(hidden))]
        panels.append(Panel("Speed of learning: {} hidden layers".format(hidden), series,
                            xlabel="number of epochs of training", ylog=True))
    initial = [Series("{} hidden layers".format(hidden), [(j + 1, v) for j, v in enumerate(speeds[0])])
               for hidden, speeds in results["speeds"].items()]
    panels.append(Panel("Before training: the speed of each hidden layer", initial, xlabel="hidden layer",
                        ylog=True, xintegers=True))
    title = "The vanishing gradient: {:,} images, full-batch steps of eta {}, lmbda {}".format(
        s["images"], s["eta"], s["lmbda"])
    return title, panels, 2


VANISHING_GRADIENT = Figure(
    "vanishing-gradient", "chapter 5, fig/generate_gradient.py",
    "the speed of learning of each hidden layer with 2, 3 and 4 hidden layers, and before training",
    defaults={"depths": [2, 3, 4], "width": 30, "images": 1000, "epochs": 500, "eta": 0.1, "lmbda": 5.0,
              "seed": BOOK_SEED},
    quick={"depths": [2, 3, 4], "width": 30, "images": 1000, "epochs": 40, "eta": 0.1, "lmbda": 5.0,
           "seed": BOOK_SEED},
    run=run, draw=draw, work=lambda s: (len(s["depths"]) * s["epochs"] * s["images"] * 4, 2 * len(s["depths"]) * s["epochs"]),
    knobs={"hidden": ("width", lambda sizes: sizes[0])})  # --hidden N: the width of every hidden layer
