"""weight-initialization (chapter 3, the book's fig/weight_initialization.py): old against new initial weights.

The book's run: [784, 30, 10], cross-entropy, all 50,000 training images, mini-batches of 10,
eta 0.1, lmbda 5.0, 30 epochs, the validation accuracy after each; once with the new initial
weights (N(0, 1/n_in)) and once with the old (N(0, 1)), from the same seed.  The new ones start
ahead and stay there for a while; both end near the same accuracy.
"""

from .. import network2
from ..files.plot import Panel, Series
from .common import BOOK_SEED, Figure, monitored_run

__all__ = ["WEIGHT_INITIALIZATION"]


def run(settings, data, progress=None, backend=None):
    training, validation = data.training, data.validation
    curves = {}
    for name in ("new", "old"):
        net = network2.Network([784] + settings["hidden"] + [10], seed=settings["seed"], backend=backend)
        if name == "old":
            net.large_weight_initializer()
        records = monitored_run(net, training[:settings["images"]], settings["epochs"], settings["eta"],
                                settings["lmbda"], validation[:settings["evaluation"]], ("evaluation_accuracy",),
                                progress, "{} initialisation: ".format(name))
        curves[name] = [r["evaluation_accuracy"] for r in records]
    return {"settings": settings, "curves": curves}


def draw(results):
    s, c = results["settings"], results["curves"]
    series = [Series("Old approach to weight initialization", list(enumerate(c["old"]))),
              Series("New approach to weight initialization", list(enumerate(c["new"])))]
    title = "Weight initialization: [784, 30, 10], {:,} images, eta {}, lmbda {}".format(
        s["images"], s["eta"], s["lmbda"])
    return title, [Panel("Classification accuracy on the validation data", series, percent=True)], 1


WEIGHT_INITIALIZATION = Figure(
    "weight-initialization", "chapter 3, fig/weight_initialization.py",
    "the validation accuracy over 30 epochs, old against new initial weights",
    defaults={"epochs": 30, "images": 50000, "eta": 0.1, "lmbda": 5.0, "hidden": [30], "seed": BOOK_SEED,
              "evaluation": 10000},
    quick={"epochs": 6, "images": 5000, "eta": 0.1, "lmbda": 5.0, "hidden": [30], "seed": BOOK_SEED,
           "evaluation": 2000},
    run=run, draw=draw, work=lambda s: (2 * s["epochs"] * (s["images"] + s["evaluation"]), 2 * s["epochs"]))
