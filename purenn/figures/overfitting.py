"""overfitting and regularization (chapter 3, the book's fig/overfitting.py).

The book's run: [784, 30, 10], cross-entropy, the old (large, N(0, 1)) initial weights, the
first 1,000 training images, mini-batches of 10, eta 0.5, 400 epochs, the 10,000 test images as
evaluation data, all four monitors.  `overfitting` draws its four panels as the book does (the
training cost and the test accuracy from epoch 200, the test cost and the training accuracy from
0); `regularization` makes the same run twice, without and with lmbda (0.1, the book's chapter-3
figures), and draws them against each other: the test accuracies, the training accuracies, and
the regularised run's training cost.
"""

from .. import network2
from ..files.plot import Panel, Series
from .common import BOOK_SEED, Figure, monitored_run

__all__ = ["OVERFITTING", "REGULARIZATION"]

MONITORS = ("training_cost", "training_accuracy", "evaluation_cost", "evaluation_accuracy")

BOOK = {"images": 1000, "epochs": 400, "eta": 0.5, "lmbda": 0.0, "hidden": [30], "seed": BOOK_SEED,
        "evaluation": 10000}
QUICK = {"images": 1000, "epochs": 60, "eta": 0.5, "lmbda": 0.0, "hidden": [30], "seed": BOOK_SEED,
         "evaluation": 2000}


def _run_one(settings, data, lmbda, progress, label, backend):
    training, test = data.training, data.test
    net = network2.Network([784] + settings["hidden"] + [10], seed=settings["seed"], backend=backend)
    net.large_weight_initializer()
    return monitored_run(net, training[:settings["images"]], settings["epochs"], settings["eta"], lmbda,
                         test[:settings["evaluation"]], MONITORS, progress, label)


def _curves(records):
    return {m: [r[m] for r in records] for m in MONITORS}


def run_overfitting(settings, data, progress=None, backend=None):
    return {"settings": settings,
            "curves": _curves(_run_one(settings, data, settings["lmbda"], progress, "", backend))}


def run_regularization(settings, data, progress=None, backend=None):
    plain = _run_one(settings, data, 0.0, progress, "lmbda 0: ", backend)
    regular = _run_one(settings, data, settings["lmbda"], progress, "lmbda {}: ".format(settings["lmbda"]), backend)
    return {"settings": settings, "unregularised": _curves(plain), "regularised": _curves(regular)}


def _from(values, start):
    start = min(start, max(0, len(values) - 2))
    return [(e, v) for e, v in enumerate(values) if e >= start]


def draw_overfitting(results):
    c, s = results["curves"], results["settings"]
    late = s["epochs"] // 2  # the book: from epoch 200 of 400
    panels = [
        Panel("Cost on the training data", [Series("training cost", _from(c["training_cost"], late), markers=False)]),
        Panel("Accuracy (%) on the test data", [Series("test accuracy", _from(c["evaluation_accuracy"], late),
                                                       markers=False)], percent=True),
        Panel("Cost on the test data", [Series("test cost", _from(c["evaluation_cost"], 0), markers=False)]),
        Panel("Accuracy (%) on the training data", [Series("training accuracy", _from(c["training_accuracy"], 0),
                                                           markers=False)], percent=True),
    ]
    title = "Overfitting: [784, 30, 10] on {:,} training images, eta {}, {} epochs".format(
        s["images"], s["eta"], s["epochs"])
    return title, panels, 2


def draw_regularization(results):
    plain, regular, s = results["unregularised"], results["regularised"], results["settings"]
    tag = "lmbda = {}".format(s["lmbda"])
    panels = [
        Panel("Accuracy (%) on the test data", [
            Series("lmbda = 0", _from(plain["evaluation_accuracy"], 0), markers=False),
            Series(tag, _from(regular["evaluation_accuracy"], 0), markers=False)], percent=True),
        Panel("Accuracy (%) on the training data", [
            Series("lmbda = 0", _from(plain["training_accuracy"], 0), markers=False),
            Series(tag, _from(regular["training_accuracy"], 0), markers=False)], percent=True),
        Panel("Cost on the training data, " + tag, [
            Series("training cost", _from(regular["training_cost"], s["epochs"] // 2), markers=False)]),
        Panel("Training accuracy - test accuracy", [
            Series("lmbda = 0", [(e, a - b) for e, (a, b) in enumerate(zip(plain["training_accuracy"],
                                                                            plain["evaluation_accuracy"]))],
                   markers=False),
            Series(tag, [(e, a - b) for e, (a, b) in enumerate(zip(regular["training_accuracy"],
                                                                   regular["evaluation_accuracy"]))],
                   markers=False)], percent=True),
    ]
    title = "Regularization: the overfitting run ({:,} images, eta {}, {} epochs) with and without L2".format(
        s["images"], s["eta"], s["epochs"])
    return title, panels, 2


def _work(settings, runs):
    per_epoch = settings["images"] * 3 + settings["evaluation"] * 2  # train, its two monitors, the test's two
    return runs * settings["epochs"] * per_epoch, runs * settings["epochs"]


OVERFITTING = Figure(
    "overfitting", "chapter 3, fig/overfitting.py", "[784,30,10] on 1,000 images for 400 epochs: the four monitors",
    defaults=BOOK, quick=QUICK, run=run_overfitting, draw=draw_overfitting, work=lambda s: _work(s, 1))

REGULARIZATION = Figure(
    "regularization", "chapter 3, fig/overfitting.py with lmbda 0.1", "the same run with L2 regularisation, "
    "against the unregularised one",
    defaults=dict(BOOK, lmbda=0.1), quick=dict(QUICK, lmbda=0.1), run=run_regularization, draw=draw_regularization,
    work=lambda s: _work(s, 2))
