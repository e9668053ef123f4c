"""multiple-eta (chapter 3, the book's fig/multiple_eta.py): the training cost over 30 epochs for three learning rates.

The book's run: [784, 30, 10], cross-entropy, the new (N(0, 1/n_in)) initial weights, all 50,000
training images, mini-batches of 10, lmbda 5.0, eta 0.025, 0.25 and 2.5, each from the same
seed, the training cost monitored after each epoch.  With eta 2.5 the steps overshoot and the
cost stays high; with 0.025 it falls slowly; 0.25 does best.
"""

from .. import network2
from ..files.plot import Panel, Series
from .common import BOOK_SEED, Figure, monitored_run

__all__ = ["MULTIPLE_ETA"]


def run(settings, data, progress=None, backend=None):
    curves = []
    for eta in settings["etas"]:
        net = network2.Network([784] + settings["hidden"] + [10], seed=settings["seed"], backend=backend)
        records = monitored_run(net, data[0][:settings["images"]], settings["epochs"], eta, settings["lmbda"],
                                None, ("training_cost",), progress, "eta {}: ".format(eta))
        curves.append({"eta": eta, "training_cost": [r["training_cost"] for r in records]})
    return {"settings": settings, "curves": curves}


def draw(results):
    s = results["settings"]
    series = [Series("eta = {}".format(c["eta"]), list(enumerate(c["training_cost"]))) for c in results["curves"]]
    title = "Learning rates: [784, 30, 10], {:,} images, lmbda {}".format(s["images"], s["lmbda"])
    return title, [Panel("Cost on the training data", series, ylabel="cost")], 1


MULTIPLE_ETA = Figure(
    "multiple-eta", "chapter 3, fig/multiple_eta.py", "the training cost over 30 epochs for eta 0.025, 0.25, 2.5",
    defaults={"etas": [0.025, 0.25, 2.5], "epochs": 30, "images": 50000, "lmbda": 5.0, "hidden": [30],
              "seed": BOOK_SEED},
    quick={"etas": [0.025, 0.25, 2.5], "epochs": 8, "images": 5000, "lmbda": 5.0, "hidden": [30], "seed": BOOK_SEED},
    run=run, draw=draw, work=lambda s: (len(s["etas"]) * s["epochs"] * s["images"] * 2, len(s["etas"]) * s["epochs"]),
    knobs={"eta": ("etas", None)})  # --eta 0.025,0.25,2.5: the list of rates
