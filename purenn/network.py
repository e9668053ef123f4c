"""network.py -- the network of the book's chapter 1, in plain Python.

A module to implement the stochastic gradient descent learning algorithm
for a feedforward neural network: sigmoid neurons, the quadratic cost,
gradients calculated using backpropagation.  It follows Michael Nielsen's
network.py line for line, with Python lists where the book has NumPy arrays,
so it can be read beside the book.  It favours clarity over speed; the C
core (purenn.backends) runs the same arithmetic many times faster.

Shapes, for a layer of n_in inputs and n_out neurons:
    w   n_out x n_in    w[j][k] is the weight from neuron k to neuron j
    b   n_out           b[j] the bias of neuron j
    a   n_in            the activations coming in
    z   n_out           the weighted inputs, z[j] = w[j] . a + b[j]

Where the book writes one NumPy expression, this module calls one of the
small functions below (`weighted_inputs` for np.dot(w, a) + b, and so on).
Each of them fixes the order in which its numbers are added, because the
C core must add them in exactly that order to get exactly the same bits:

*   A sum starts from 0.0 and adds its terms from the first index up.
*   Products with an input that is exactly zero are left out of `dot` and
    `outer`: most MNIST pixels are 0, and adding w * 0.0 to a sum changes
    nothing, save that a NaN or infinite weight would poison it.  So a
    non-finite weight meets a zero pixel without harm here (NumPy would
    give NaN); the C core does the same.
"""

import math
import random
import time

from .backends import load_core, resolve_backend
from .training.checks import (check_count, check_data, check_finite_after_epoch, check_number, check_numbers,
                     check_params, check_sizes)
from .training.checkpoint import make_state, resume_point
from .errors import ArgumentError, TrainingInterrupted

__all__ = ["Network", "sigmoid", "sigmoid_prime"]


#### The arithmetic: each function here has a twin in csrc/purenn_core.c

def sigmoid(z):
    """The sigmoid function 1 / (1 + e^-z) of one number z."""
    # math.exp raises OverflowError beyond ~709.78, so exp is only ever
    # given a non-positive number: for z < 0 we use the equal form
    # e^z / (1 + e^z).  Large |z| then gives 0.0 or 1.0; NaN stays NaN.
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def sigmoid_prime(z):
    """Derivative of the sigmoid function at z."""
    return sigmoid(z) * (1.0 - sigmoid(z))


def dot(w_j, a):
    """w_j . a, the terms added in index order; terms with a[k] == 0 skipped."""
    total = 0.0
    for w_jk, a_k in zip(w_j, a):
        if a_k != 0.0:
            total += w_jk * a_k
    return total


def weighted_inputs(w, a, b):
    """z = w a + b (the book's np.dot(w, a) + b): n_out numbers."""
    return [dot(w_j, a) + b_j for w_j, b_j in zip(w, b)]


def transpose_times(w, delta):
    """w^T delta (the book's np.dot(w.transpose(), delta)): n_in numbers.

    Entry k is sum over j of w[j][k] * delta[j], added for j = 0, 1, ...
    """
    result = [0.0] * len(w[0])
    for w_j, delta_j in zip(w, delta):
        for k, w_jk in enumerate(w_j):
            result[k] += w_jk * delta_j
    return result


def outer(delta, a):
    """delta a^T (the book's np.dot(delta, a.transpose())): n_out x n_in.

    Where a[k] == 0 the entry is -0.0, not delta_j * 0: x + (-0.0) is x for
    every x, bit for bit, so adding this gradient skips those terms as `dot`
    does.
    """
    return [[delta_j * a_k if a_k != 0.0 else -0.0 for a_k in a] for delta_j in delta]


def add(u, v):
    """u + v, entry by entry."""
    return [u_i + v_i for u_i, v_i in zip(u, v)]


def descend(params, nabla, rate):
    """params - rate * nabla, entry by entry: one step of gradient descent."""
    return [p - rate * n for p, n in zip(params, nabla)]


def argmax(values):
    """The index of the largest value; the first one on a tie, as np.argmax.
    (Unlike np.argmax, a NaN wins only in first place: NaN > v is false.)"""
    best = 0
    for i, v in enumerate(values):
        if v > values[best]:
            best = i
    return best


#### The network

class Network:
    """A feedforward network of sigmoid neurons trained by SGD on the quadratic cost.

    `sizes` lists the number of neurons in each layer, input first: [784, 30,
    10] is the book's chapter-1 network.  Biases and weights start Gaussian
    with mean 0 and standard deviation 1, drawn from random.Random(seed), so
    a seed fixes the whole run -- the initial weights and every shuffle --
    whichever backend computes it.  The first layer is the input and has no
    biases.

    `backend` is "reference" (this module's code, run as written),
    "python" (the Python engine), "c" or "auto"; None reads
    $PURENN_BACKEND (default "auto": the C core if it is built, else the
    Python engine).  All give the same numbers.  See purenn.backends.
    """

    def __init__(self, sizes, *, seed=None, backend=None):
        sizes = check_sizes(sizes)
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.backend = resolve_backend(backend)
        self.seed = seed
        self.rng = random.Random(seed)
        gauss = self.rng.gauss
        # biases[l][j]: the bias of neuron j in layer l+1.  Drawn before the
        # weights, as the book does.
        self.biases = [[gauss(0.0, 1.0) for j in range(y)] for y in sizes[1:]]
        # weights[l][j][k]: from neuron k in layer l to neuron j in layer l+1.
        self.weights = [[[gauss(0.0, 1.0) for k in range(x)] for j in range(y)]
                        for x, y in zip(sizes[:-1], sizes[1:])]

    def feedforward(self, a):
        """Return the output of the network if `a` (a list of sizes[0] numbers) is input."""
        check_numbers(a, self.sizes[0], "a")
        check_params(self)
        if self.backend != "reference":
            return load_core(self.backend).feedforward(self, a)
        for b, w in zip(self.biases, self.weights):
            a = [sigmoid(z) for z in weighted_inputs(w, a, b)]
        return a

    def SGD(self, training_data, epochs, mini_batch_size, eta, test_data=None, progress=None, *,
            stop=None, resume=None):
        """Train the network using mini-batch stochastic gradient descent.

        `training_data` is a list of tuples (x, y): the inputs and the
        desired outputs.  If `test_data` (a list of (x, digit)) is given, the
        network is evaluated against it after each epoch and the result
        printed -- useful for tracking progress, but it slows things down.
        `progress`, if given, is called as progress(done, total) with the
        number of training examples done in the epoch.

        Unlike the book, the caller's list is not shuffled in place: the
        positions are.  Returns the list of per-epoch evaluation results.

        `stop`, if given, is called between mini-batches and between epochs;
        when it returns true, SGD raises TrainingInterrupted, and
        SGD(..., resume=that exception's state) later carries on to exactly
        the weights of an uninterrupted run (see purenn.checkpoint).
        """
        training_data = list(training_data)
        test_data = list(test_data) if test_data else None
        check_count(epochs, "epochs", minimum=0)
        check_count(mini_batch_size, "mini_batch_size", minimum=1)
        check_number(eta, "eta")
        if not training_data:
            raise ArgumentError("training_data: empty")
        check_params(self)
        check_data(training_data, self.sizes, "training_data", labelled=False)
        if test_data:
            check_data(test_data, self.sizes, "test_data", labelled=True)
        n = len(training_data)
        eta = float(eta)
        # The engine or the C core is handed the data once, here, not per mini-batch;
        # the "reference" backend runs the book's loop below as written.
        core = (load_core(self.backend).trainer(self, training_data, test_data)
                if self.backend != "reference" else None)
        order = list(range(n))  # we shuffle the positions, not the caller's list
        results = []
        # Where to start: the beginning, or where an interrupted run stopped.
        settings = {"n": n, "mini_batch_size": mini_batch_size, "eta": eta}
        first, done = 0, 0
        if resume is not None:
            first, done, order, history = resume_point(self, resume, "network", settings, epochs)
            results = list(history["results"])

        def interrupted(epoch, done, rng_state, order):
            state = make_state(self, "network", settings, epoch, done, rng_state, order, {"results": list(results)})
            return TrainingInterrupted(self, state, n)

        for j in range(first, epochs):
            if stop is not None and done == 0 and stop():
                raise interrupted(j, 0, self.rng.getstate(), order)
            started = time.perf_counter()
            rng_state, unshuffled = self.rng.getstate(), list(order)
            self.rng.shuffle(order)
            if core is not None:
                done = core.epoch(order, mini_batch_size, eta, progress, start=done, stop=stop)
            else:
                if progress is not None:
                    progress(done, n)
                for k in range(done, n, mini_batch_size):
                    mini_batch = [training_data[i] for i in order[k:k + mini_batch_size]]
                    self._update_mini_batch(mini_batch, eta)
                    done = min(k + mini_batch_size, n)
                    if progress is not None:
                        progress(done, n)
                    if stop is not None and done < n and stop():
                        break
            if done < n:
                raise interrupted(j, done, rng_state, unshuffled)
            done = 0
            seconds = time.perf_counter() - started
            check_finite_after_epoch(self, j, eta)
            if test_data:
                correct = core.evaluate() if core is not None else self._count_correct(test_data)
                results.append(correct)
                print("Epoch {0}: {1} / {2}, {3:.2f}% correct, {4:.2f} s".format(
                    j, correct, len(test_data), 100.0 * correct / len(test_data), seconds), flush=True)
            else:
                print("Epoch {0} complete, {1:.2f} s".format(j, seconds), flush=True)
        return results

    def update_mini_batch(self, mini_batch, eta):
        """Update the weights and biases by one step of gradient descent,
        using backpropagation on a single mini batch: a list of (x, y)."""
        mini_batch = list(mini_batch)
        if not mini_batch:
            raise ArgumentError("mini_batch: empty")
        check_params(self)
        check_data(mini_batch, self.sizes, "mini_batch", labelled=False)
        check_number(eta, "eta")
        if self.backend != "reference":
            return load_core(self.backend).update_mini_batch(self, mini_batch, float(eta))
        self._update_mini_batch(mini_batch, float(eta))

    def _update_mini_batch(self, mini_batch, eta):
        # update_mini_batch without the checks, which SGD has made once for all
        nabla_b = [[0.0] * len(b) for b in self.biases]
        nabla_w = [[[0.0] * len(w_j) for w_j in w] for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [add(nb, dnb) for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [[add(nw_j, dnw_j) for nw_j, dnw_j in zip(nw, dnw)]
                       for nw, dnw in zip(nabla_w, delta_nabla_w)]
        rate = eta / len(mini_batch)
        self.weights = [[descend(w_j, nw_j, rate) for w_j, nw_j in zip(w, nw)]
                        for w, nw in zip(self.weights, nabla_w)]
        self.biases = [descend(b, nb, rate) for b, nb in zip(self.biases, nabla_b)]

    def backprop(self, x, y):
        """Return a tuple (nabla_b, nabla_w) representing the gradient of the
        cost function C_x for one example.  nabla_b and nabla_w are
        layer-by-layer lists shaped like self.biases and self.weights.

        This is the reference computation; it runs in Python on every backend.
        """
        nabla_b = [None] * len(self.biases)
        nabla_w = [None] * len(self.weights)
        # feedforward
        activation = x
        activations = [x]  # list to store all the activations, layer by layer
        zs = []  # list to store all the z vectors, layer by layer
        for b, w in zip(self.biases, self.weights):
            z = weighted_inputs(w, activation, b)
            zs.append(z)
            activation = [sigmoid(z_j) for z_j in z]
            activations.append(activation)
        # backward pass
        delta = [c * sigmoid_prime(z_j)
                 for c, z_j in zip(self.cost_derivative(activations[-1], y), zs[-1])]
        nabla_b[-1] = delta
        nabla_w[-1] = outer(delta, activations[-2])
        # Note that the variable l in the loop below is used a little
        # differently to the notation in Chapter 2 of the book.  Here,
        # l = 1 means the last layer of neurons, l = 2 is the
        # second-last layer, and so on.  It's a renumbering of the
        # scheme in the book, used here to take advantage of the fact
        # that Python can use negative indices in lists.
        for l in range(2, self.num_layers):
            z = zs[-l]
            sp = [sigmoid_prime(z_j) for z_j in z]
            delta = [t * sp_j for t, sp_j in zip(transpose_times(self.weights[-l + 1], delta), sp)]
            nabla_b[-l] = delta
            nabla_w[-l] = outer(delta, activations[-l - 1])
        return (nabla_b, nabla_w)

    def evaluate(self, test_data):
        """Return the number of test inputs for which the neural network
        outputs the correct result.  The network's output is the index of
        whichever neuron in the final layer has the highest activation."""
        test_data = list(test_data)
        check_params(self)
        check_data(test_data, self.sizes, "test_data", labelled=True)
        return self._count_correct(test_data)

    def cost_derivative(self, output_activations, y):
        """Return the vector of partial derivatives dC_x/da for the output activations."""
        return [a_j - y_j for a_j, y_j in zip(output_activations, y)]

    #### Helpers

    def _count_correct(self, test_data):
        if self.backend != "reference":
            predictions = load_core(self.backend).classify(self, [x for x, _ in test_data])
        else:
            predictions = [argmax(self.feedforward(x)) for x, _ in test_data]
        return sum(int(p == y) for p, (_, y) in zip(predictions, test_data))
