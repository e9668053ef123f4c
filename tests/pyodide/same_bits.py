"""The numbers tests/test_pyodide.py compares: the same seeded trainings and
elementary-function values, computed by whichever Python runs this file.

    python same_bits.py OUT.json BACKEND[,BACKEND...]     (CPython, or Pyodide via run.mjs)

writes {"python": ..., "purenn": ..., "cases": {...}, "elementary": {...},
"math": {...}} to OUT.json.  Each case is one seeded training on real MNIST
(the bundled copy, or $PURENN_DATA) on one backend, named "case/backend":
its "hexes" are every weight and bias afterwards (and what else the case
computes: monitored costs, the printout), as float.hex, in a fixed order; its
"seconds" how long it took.  "elementary" is a SHA-256 of purenn.elementary's
values over 100,000 arguments per function; "math" the same for math's
functions and random.gauss -- the platform's C library, which is what purenn
stopped using (a record, not a check: they may or may not differ).

    case       what it covers                                          backends
    network    chapter 1: [784, 30, 10], sigmoid, quadratic cost,      reference, python, c
               1 epoch of 1,000 digits, eta 3.0
    network2   chapter 3: [784, 30, 10], tanh hidden, softmax +        reference, python, c
               log-likelihood, L2, dropout 0.2, 1 epoch of 1,000
               digits; both costs monitored
    network3   chapter 6: a conv-pool layer (4 filters 5 x 5, sigmoid),  reference, c
               a fully connected layer (dropout 0.5) and a softmax
               layer; 100 digits in mini-batches of 10
    svm        the SVM baseline: 100 random Fourier features (gauss,   python, c
               cos) and 2 epochs of 300 digits

It needs only the standard library and purenn.
"""

import contextlib
import hashlib
import io
import json
import math
import random
import sys
import time

import purenn
from purenn import elementary, mnist_loader

#: Each case's backends: every backend it has.
BACKENDS = {"network": ("reference", "python", "c"), "network2": ("reference", "python", "c"),
            "network3": ("reference", "c"), "svm": ("python", "c")}

N = 100000  # arguments per elementary function


def hexes(values):
    return [float(v).hex() for v in values]


def _network_params(net):
    return ([v for w in net.weights for row in w for v in row] + [v for b in net.biases for v in b])


def _quietly(function, *args, **kwargs):
    """function's result; its printout (which tells times) is left out."""
    with contextlib.redirect_stdout(io.StringIO()):
        return function(*args, **kwargs)


#### The trainings

def _wrapped(data):
    """load_data's sets in load_data_wrapper's form: training [(x, one-hot y)], the others [(x, digit)]."""
    (images, labels), validation, test = data
    return ([(x, mnist_loader.vectorized_result(y)) for x, y in zip(images, labels)],
            list(zip(*validation)), list(zip(*test)))


def network_case(data, backend):
    from purenn import network
    training, _, test = _wrapped(data)
    net = network.Network([784, 30, 10], seed=1, backend=backend)
    _quietly(net.SGD, training[:1000], 1, 10, 3.0)
    return hexes(_network_params(net)) + [repr(net.evaluate(test[:100]))]


def network2_case(data, backend):
    from purenn import network2
    training, validation, _ = _wrapped(data)
    net = network2.Network([784, 30, 10], cost=network2.LogLikelihoodCost, activation="tanh", dropout=0.2,
                           seed=2, backend=backend)
    evaluation_cost, _, training_cost, _ = _quietly(
        net.SGD, training[:1000], 1, 10, 0.1, lmbda=5.0, evaluation_data=validation[:100],
        monitor_evaluation_cost=True, monitor_training_cost=True)
    return hexes(_network_params(net)) + hexes(evaluation_cost + training_cost)


def network3_case(data, backend):
    from purenn.network3 import ConvPoolLayer, FullyConnectedLayer, Network, SoftmaxLayer, _rows
    (images, labels), (valid_images, valid_labels), _ = data
    net = Network([ConvPoolLayer((4, 1, 5, 5), (10, 1, 28, 28), (2, 2)),       # -> 4 x 12 x 12
                   FullyConnectedLayer(4 * 12 * 12, 20, p_dropout=0.5),
                   SoftmaxLayer(20, 10)], 10, seed=3, backend=backend, threads=1)
    best = _quietly(net.SGD, (images[:100], labels[:100]), 1, 10, 0.1,
                              (valid_images[:50], valid_labels[:50]), None, lmbda=0.1)
    params = [v for layer in net.layers for row in _rows(layer.w) for v in row] + \
             [v for layer in net.layers for v in layer.b]
    return hexes(params) + [repr(best)]


def svm_case(data, backend):
    from purenn.mnist_svm import FeatureMap, LinearSVM
    (images, labels), _, _ = data
    images, labels = images[:300], labels[:300]
    svm = LinearSVM(FeatureMap(784, 100, 0.02, seed=4), 10, 0.1, 1e-4)
    order = list(range(len(images)))
    random.Random(5).shuffle(order)
    if backend == "c":
        from purenn.backends.csvm import CoreSVM
        core = CoreSVM(svm, images)
        core.train_epoch(labels, order)
        core.train_epoch(labels, order[::-1])
    else:
        examples = list(zip(images, labels))
        svm.train_epoch(examples, order)
        svm.train_epoch(examples, order[::-1])
    fmap = svm.fmap
    return hexes([v for row in fmap.directions for v in row] + fmap.phases
                 + [v for row in svm.weights for v in row] + svm.bias)


CASES = {"network": network_case, "network2": network2_case, "network3": network3_case, "svm": svm_case}


#### The elementary functions

def arguments(seed):
    """{function name: N arguments}, from random.Random(seed) (the Mersenne Twister and
    uniform's a + (b - a) random() are the same bits everywhere)."""
    rng = random.Random(seed)
    half = N // 2
    wide = [math.ldexp(0.5 + rng.random() / 2, rng.randint(-1073, 1024)) for _ in range(half)]
    return {
        "exp": [rng.uniform(-30.0, 30.0) for _ in range(half)] + [rng.uniform(-745.0, 709.0) for _ in range(half)],
        "log": [rng.uniform(0.25, 4.0) for _ in range(half)] + wide,
        "tanh": [rng.uniform(-4.0, 4.0) for _ in range(half)] + [rng.uniform(-25.0, 25.0) for _ in range(half)],
        "sin": [rng.uniform(-10.0, 10.0) for _ in range(half)] + [rng.uniform(-2.0 ** 20, 2.0 ** 20) for _ in range(half)],
        "cos": [rng.uniform(-10.0, 10.0) for _ in range(half)] + [rng.uniform(-2.0 ** 20, 2.0 ** 20) for _ in range(half)],
    }


def digest(values):
    return hashlib.sha256(" ".join(float(v).hex() for v in values).encode()).hexdigest()


def elementary_digests(module, gauss):
    """{name: digest}: module's five functions over arguments(1), and N draws of gauss(rng, 0, 1)."""
    digests = {name: digest([getattr(module, name)(x) for x in xs]) for name, xs in arguments(1).items()}
    rng = random.Random(2)
    digests["gauss"] = digest([gauss(rng, 0.0, 1.0) for _ in range(N)])
    return digests


def main(argv):
    if len(argv) != 3 or not argv[2]:
        print("usage: same_bits.py OUT.json BACKEND[,BACKEND...]", file=sys.stderr)
        return 2
    backends = argv[2].split(",")
    unknown = [b for b in backends if b not in ("reference", "python", "c")]
    if unknown:
        print("same_bits.py: {!r} is not a backend (reference, python, c)".format(unknown[0]), file=sys.stderr)
        return 2
    started = time.perf_counter()
    data = mnist_loader.load_data()
    result = {"python": sys.version, "platform": sys.platform, "purenn": purenn.__file__,
              "backends": purenn.available_backends(), "load_seconds": time.perf_counter() - started, "cases": {}}
    for name, case in CASES.items():
        for backend in backends:
            if backend in BACKENDS[name]:
                began = time.perf_counter()
                values = case(data, backend)
                result["cases"][name + "/" + backend] = {"hexes": values, "seconds": time.perf_counter() - began}
    began = time.perf_counter()
    result["elementary"] = elementary_digests(elementary, elementary.gauss)
    result["math"] = elementary_digests(math, lambda rng, mu, sigma: rng.gauss(mu, sigma))
    result["elementary_seconds"] = time.perf_counter() - began
    with open(argv[1], "w") as f:
        json.dump(result, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
