"""more-data (chapter 3, the book's fig/more_data.py): accuracy against the size of the training set.

The book's run: one [784, 30, 10] network, cross-entropy, re-initialised with the old (N(0, 1))
weights for each training-set size of 100, 200, 500, ..., 50,000 images, trained for
1,500,000 / size epochs (the same number of examples each time) with mini-batches of 10, eta 0.5
and lmbda = size / 10,000, then scored on the 10,000 validation images; and, as the book compares
it with scikit-learn's SVC, purenn's SVM baseline (random Fourier features + a linear SVM,
mnist_svm) trained on the same images and scored on the same validation images.  Drawn on a
linear axis, on a log axis, and the two classifiers together, as the book does.
"""

from .. import mnist_svm, network2
from ..files.plot import Panel, Series
from .common import BOOK_SEED, Figure

__all__ = ["MORE_DATA"]

BOOK_SIZES = [100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000]


def run(settings, data, progress=None, backend=None):
    training, validation = data.training, data.validation
    net = network2.Network([784] + settings["hidden"] + [10], seed=settings["seed"], backend=backend)
    network, svm = [], []
    steps = 2 * len(settings["sizes"])
    for n, size in enumerate(settings["sizes"]):
        net.large_weight_initializer()
        epochs = max(1, settings["examples"] // size)
        net.SGD(training[:size], epochs, 10, settings["eta"], lmbda=size * settings["lmbda_per_image"], verbose=False)
        network.append(net.accuracy(validation) / len(validation))
        if progress is not None:
            progress(2 * n + 1, steps, "network on {:,} images: ".format(size))
        correct, total, _ = mnist_svm.run(data.directory, D=settings["svm_features"], train_limit=size,
                                          seed=settings["seed"] % 2 ** 31, backend=backend, out=_quiet,
                                          score_on="validation")
        svm.append(correct / total)
        if progress is not None:
            progress(2 * n + 2, steps, "SVM on {:,} images: ".format(size))
    return {"settings": settings, "sizes": settings["sizes"], "network": network, "svm": svm}


def _quiet(*args):
    pass


def draw(results):
    sizes = results["sizes"]
    net = list(zip(sizes, results["network"]))
    svm = list(zip(sizes, results["svm"]))
    span = (sizes[0], sizes[-1])
    panels = [
        Panel("Accuracy (%) on the validation data", [Series("neural network", net)], xlabel="training set size",
              xrange=(0, sizes[-1]), percent=True),
        Panel("The same, on a log scale", [Series("neural network", net)], xlabel="training set size", xlog=True,
              xrange=span, percent=True),
        Panel("Neural network against SVM", [Series("neural network", net), Series("SVM (purenn's baseline)", svm)],
              xlabel="training set size", xlog=True, xrange=span, percent=True),
    ]
    s = results["settings"]
    title = "More training data: [784, 30, 10], {:,} examples a size, eta {}, lmbda = size x {}".format(
        s["examples"], s["eta"], s["lmbda_per_image"])
    return title, panels, 3


MORE_DATA = Figure(
    "more-data", "chapter 3, fig/more_data.py", "accuracy against the training-set size, 100 to 50,000 images, "
    "the network against the SVM baseline",
    defaults={"sizes": BOOK_SIZES, "examples": 1500000, "eta": 0.5,
              "lmbda_per_image": 0.0001, "hidden": [30], "seed": BOOK_SEED, "svm_features": 2000},
    quick={"sizes": [100, 300, 1000, 3000, 10000], "examples": 100000, "eta": 0.5, "lmbda_per_image": 0.0001,
           "hidden": [30], "seed": BOOK_SEED, "svm_features": 500},
    run=run, draw=draw,
    work=lambda s: (sum(max(1, s["examples"] // n) * n + 10000 for n in s["sizes"]),
                    sum(max(1, s["examples"] // n) for n in s["sizes"])),
    # --epochs: the examples a size (the book's 1,500,000); --images N: the book's sizes below N, then N
    knobs={"epochs": ("examples", None), "images": ("sizes", lambda n: [m for m in BOOK_SIZES if m < n] + [n])})
