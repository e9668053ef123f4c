"""mnist_svm -- the book's SVM baseline, without scikit-learn.

Chapter 1 compares its network with scikit-learn's support vector machine
(an RBF-kernel SVC), which gets 9,435 of the 10,000 test images right.
purenn has no scikit-learn, so it builds the same kind of classifier from
two plain pieces:

*   random Fourier features (Rahimi and Recht): D random directions w_d
    (Gaussian, standard deviation sqrt(2 gamma)) and phases b_d (uniform in
    [0, 2 pi)) map an image x to phi(x)_d = sqrt(2/D) cos(w_d . x + b_d),
    so that phi(x) . phi(y) approximates the RBF kernel exp(-gamma |x-y|^2);
*   a linear SVM on phi: one weight vector per digit ("one versus the
    rest"), trained by stochastic gradient descent on the hinge loss with
    L2 regularisation, the rate falling as eta0 / (1 + eta0 lmbda t).

    FeatureMap(n_in, D, gamma, seed)     the random directions and phases
    features(fmap, x)                    phi(x), a list of D floats
    LinearSVM(fmap, classes)             .train_epoch(data, order), .predict(x)
    run(...)                             train and test; prints the score

All randomness is Python's random.Random(seed).  The C core computes the
same numbers, bit for bit, many times faster (backend="c"); the Python path
is practical on a few thousand images.
"""

import math
import os
import random
import time

from . import elementary
from .backends import load_core, mirrored, resolve_backend
from .errors import BackendError
from .backends.engine import nonzeros, sparse_weighted_inputs
from .linalg import argmax
from .mnist_loader import load_data

__all__ = ["FeatureMap", "features", "LinearSVM", "run"]


class FeatureMap:
    """D random directions (n_in numbers each) and phases, drawn from random.Random(seed)."""

    def __init__(self, n_in, D, gamma, seed=0):
        rng = random.Random(seed)
        sigma = math.sqrt(2.0 * gamma)
        self.n_in, self.D, self.gamma = n_in, D, gamma
        # directions[d][k]: component k of direction d
        self.directions = [[elementary.gauss(rng, 0.0, sigma) for k in range(n_in)] for d in range(D)]
        self.phases = [rng.uniform(0.0, 2.0 * math.pi) for d in range(D)]
        self.scale = math.sqrt(2.0 / D)


def features(fmap, x):
    """phi(x)_d = scale * cos(w_d . x + b_d): the directions' weighted inputs, computed as a
    layer's are (linalg.weighted_inputs; here the engine's form, over the non-zero x_k only)."""
    nz, values = nonzeros(x)
    return [fmap.scale * elementary.cos(z_d) for z_d in sparse_weighted_inputs(fmap.directions, fmap.phases, nz, values)]


class LinearSVM:
    """One-versus-rest linear SVMs on the features, trained by SGD on the hinge loss."""

    def __init__(self, fmap, classes=10, eta0=0.1, lmbda=1e-5):
        self.fmap, self.classes, self.eta0, self.lmbda = fmap, classes, eta0, lmbda
        self.weights = [[0.0] * fmap.D for _ in range(classes)]  # weights[c][d]
        self.bias = [0.0] * classes
        self.step = 0

    def scores(self, phi):
        """(w_c . phi) + bias_c for each class, the dot product summed in order."""
        out = []
        for w_c, b_c in zip(self.weights, self.bias):
            total = 0.0
            for w, p in zip(w_c, phi):
                total += w * p
            out.append(total + b_c)
        return out

    def train_epoch(self, data, order, phis=None):
        """One pass of SGD over data[i] = (x, label) for i in `order`.  For each
        class: the target is +1 for the right digit, -1 otherwise; every weight
        decays by (1 - eta lmbda), and when the margin target * score is below
        1 the weights and bias move by eta * target * phi.  `phis`, if given,
        holds features(fmap, x) of each example, computed once for all epochs."""
        for i in order:
            x, label = data[i]
            phi = phis[i] if phis is not None else features(self.fmap, x)
            s = self.scores(phi)
            self.step += 1
            eta = self.eta0 / (1.0 + self.eta0 * self.lmbda * self.step)
            decay = 1.0 - eta * self.lmbda
            for c in range(self.classes):
                target = 1.0 if c == label else -1.0
                push = eta * target if target * s[c] < 1.0 else 0.0
                if push != 0.0:
                    self.weights[c] = [decay * w + push * p for w, p in zip(self.weights[c], phi)]
                    self.bias[c] = self.bias[c] + push
                else:
                    self.weights[c] = [decay * w for w in self.weights[c]]

    def predict(self, x):
        return argmax(self.scores(features(self.fmap, x)))


def run(data_dir=None, D=2000, gamma=0.02, epochs=5, eta0=0.1, lmbda=1e-5, train_limit=None,
        test_limit=None, seed=0, backend=None, out=print, progress=None, score_on="test"):
    """Train the SVM on the training images and score it on the test images
    (or, score_on="validation", the validation images, as the book's
    more_data.py does); returns (correct, total, seconds).  `progress(what,
    done, total)`, if given, is told how far each stage ("features",
    "training", "testing") is."""
    backend = _svm_backend(backend)
    report = progress if progress is not None else _silent
    training, validation, test = load_data(data_dir)
    test = validation if score_on == "validation" else test
    train_images, train_labels = training[0][:train_limit], training[1][:train_limit]
    test_images, test_labels = test[0][:test_limit], test[1][:test_limit]
    started = time.perf_counter()
    fmap = FeatureMap(len(train_images[0]), D, gamma, seed)
    svm = LinearSVM(fmap, 10, eta0, lmbda)
    rng = random.Random(seed)
    order = list(range(len(train_images)))
    if backend == "c":
        core = load_core("c").svm(svm, train_images)  # BackendError if the C core is not built
        for j in range(epochs):
            rng.shuffle(order)
            core.train_epoch(train_labels, order)
            report("training", j + 1, epochs)
        predictions = core.predict_all(test_images)
    else:
        data = list(zip(train_images, train_labels))
        phis = []  # the slow part, done once
        for i, x in enumerate(train_images):
            phis.append(features(fmap, x))
            report("features", i + 1, len(train_images))
        for j in range(epochs):
            rng.shuffle(order)
            svm.train_epoch(data, order, phis)
            report("training", j + 1, epochs)
        predictions = []
        for i, x in enumerate(test_images):
            predictions.append(svm.predict(x))
            report("testing", i + 1, len(test_images))
    correct = 0
    for p, label in zip(predictions, test_labels):
        correct += int(p == label)
    seconds = time.perf_counter() - started
    out("Baseline classifier using an SVM (random Fourier features, D={}, gamma={}; {} epochs on {} "
        "images; {} backend).".format(D, gamma, epochs, len(train_images), "C" if backend == "c" else "Python"))
    out("{} of {} values correct.".format(correct, len(test_labels)))
    out("{:.1f} s".format(seconds))
    return correct, len(test_labels), seconds


def _silent(what, done, total):
    pass


def _svm_backend(name):
    """"c" or "python" (this module's code): resolve_backend(name), except that
    the C core, which mirrors features and LinearSVM, does not run them once
    they have been changed -- "auto" then runs this module, "c" by name is refused."""
    backend = resolve_backend(name)
    if backend != "c":
        return backend
    edited = mirrored.changed(LinearSVM)
    if not edited:
        return backend
    if (name if name is not None else os.environ.get("PURENN_BACKEND", "auto")).strip().lower() in ("", "auto"):
        return "python"
    raise BackendError("backend: the reference's {} changed since the C core's twins were checked; the c backend "
                       "does not run the change; use backend=\"python\" or \"auto\"".format(", ".join(edited)))

