"""network.py -- the network of the book's chapter 1, in plain Python.

A module to implement the stochastic gradient descent learning algorithm
for a feedforward neural network: sigmoid neurons, the quadratic cost,
gradients calculated using backpropagation.  It follows Michael Nielsen's
network.py line for line, with Python lists where the book has NumPy arrays
(purenn.linalg has the few NumPy operations the book uses), so it can be
read beside the book.  It favours clarity over speed.

SGD calls update_mini_batch, which calls backprop, which calls
cost_derivative: edit one of them, or override it in a subclass, and that
is what is trained.  The Python engine and the C core (purenn.backends) run
the same arithmetic many times faster, bit for bit -- for a network whose
book methods are purenn's own; a network that changes one runs this code.
What a long run needs beyond the book's loop (stopping and resuming,
progress, timing, divergence checks) is purenn.training.run.

Shapes, for a layer of n_in inputs and n_out neurons:
    w   n_out x n_in    w[j][k] is the weight from neuron k to neuron j
    b   n_out           b[j] the bias of neuron j
    a   n_in            the activations coming in
    z   n_out           the weighted inputs, z[j] = w[j] . a + b[j]
"""

import random

from .backends import automatic, choose_backend, fast_backend
from .elementary import exp, gauss
from .errors import ModelFileError
from .files.modelfile import parse_network, read_json, save_network
from .linalg import add, argmax, outer, subtract_scaled, transpose_times, weighted_inputs
from .training.checks import as_numbers, check_examples, check_mini_batch, check_params, check_sizes
from .training.run import TrainingRun

__all__ = ["Network", "QuadraticCost", "sigmoid", "sigmoid_prime"]


#### The arithmetic: each function here has a twin in csrc/

def sigmoid(z):
    """The sigmoid function 1 / (1 + e^-z) of one number z."""
    # exp is purenn's own (purenn.elementary), not the platform's math.exp, so
    # that the result has the same bits everywhere.  It is only ever given a
    # non-positive number: for z < 0 we use the equal form e^z / (1 + e^z).
    # Large |z| then gives 0.0 or 1.0; NaN stays NaN.
    if z >= 0.0:
        return 1.0 / (1.0 + exp(-z))
    e = exp(z)
    return e / (1.0 + e)


def sigmoid_prime(z):
    """Derivative of the sigmoid function at z."""
    return sigmoid(z) * (1.0 - sigmoid(z))


class QuadraticCost:
    """The quadratic cost of chapter 1, C = ||a - y||^2 / 2 per example, as
    chapter 3's network2 writes a cost: fn and the output error delta.  The
    chapter-1 network's cost_derivative is its derivative dC/da = a - y."""

    output = "sigmoid"  # the output neurons this cost goes with

    @staticmethod
    def fn(a, y):
        """The cost of output a when y was desired."""
        total = 0.0
        for a_j, y_j in zip(a, y):
            total += (a_j - y_j) * (a_j - y_j)
        return 0.5 * total

    @staticmethod
    def delta(z, a, y):
        """The error delta of the output layer: (a - y) * sigmoid'(z), with sigmoid'(z) = a (1 - a)."""
        return [(a_j - y_j) * (a_j * (1.0 - a_j)) for a_j, y_j in zip(a, y)]


#### The network

def shared_rng(seed):
    """The generator a network draws from: random.Random(seed), or without a
    seed the random module's own (the one random.seed and random.shuffle use)."""
    return random.Random(seed) if seed is not None else random._inst


class Network:
    """A feedforward network of sigmoid neurons trained by SGD on the quadratic cost.

    `sizes` lists the number of neurons in each layer, input first: [784, 30,
    10] is the book's chapter-1 network.  Biases and weights start Gaussian
    with mean 0 and standard deviation 1, drawn from random.Random(seed), so
    a seed fixes the whole run -- the initial weights and every shuffle --
    whichever backend computes it.  Without a seed they are drawn from the
    random module's own generator, as the book's code draws them, so that
    random.seed(n) makes a book script repeatable.  The first layer is the
    input and has no biases.

    `backend` is "reference" (this module's code, run as written),
    "python" (the Python engine), "c" or "auto"; None reads
    $PURENN_BACKEND (default "auto": the C core if it is built, else the
    Python engine).  All give the same numbers.  See purenn.backends.
    """

    #: What the fast backends do in their own code (and the network they
    #: assume).  A subclass that overrides one of these runs on the reference
    #: (purenn.backends.choose_backend).
    BOOK_METHODS = ("feedforward", "update_mini_batch", "backprop", "evaluate", "cost_derivative", "cost",
                    "activation", "dropout")

    # As the backends see every network: this one is network2's sigmoid
    # network with the quadratic cost, no dropout -- fixed, as the book's code is.
    cost = property(lambda self: QuadraticCost, doc="the quadratic cost, always")
    activation = property(lambda self: "sigmoid", doc="sigmoid neurons, always")
    dropout = property(lambda self: 0.0, doc="no dropout (purenn.network2 has it)")

    def __init__(self, sizes, *, seed=None, backend=None):
        sizes = check_sizes(sizes)
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.backend = choose_backend(backend, self)
        self.backend_automatic = automatic(backend)  # chosen by purenn: may go over to the reference
        self.seed = seed
        self.rng = shared_rng(seed)
        rng = self.rng  # gauss(rng, ...) draws as rng.gauss(...), with purenn's own log and cos
        # biases[l][j]: the bias of neuron j in layer l+1.  Drawn before the
        # weights, as the book does.
        self.biases = [[gauss(rng, 0.0, 1.0) for j in range(y)] for y in sizes[1:]]
        # weights[l][j][k]: from neuron k in layer l to neuron j in layer l+1.
        self.weights = [[[gauss(rng, 0.0, 1.0) for k in range(x)] for j in range(y)]
                        for x, y in zip(sizes[:-1], sizes[1:])]

    def feedforward(self, a):
        """Return the output of the network if `a` (a list of sizes[0] numbers) is input.
        (A column, a NumPy array or an iterator is read as that list: as_numbers.)"""
        a = as_numbers(a, self.sizes[0], "a")
        check_params(self)
        core = fast_backend(self)
        if core is not None:
            return core.feedforward(self, a)
        for b, w in zip(self.biases, self.weights):
            a = [sigmoid(z) for z in weighted_inputs(w, a, b)]
        return a

    def SGD(self, training_data, epochs, mini_batch_size, eta, test_data=None, progress=None, *,
            stop=None, resume=None, checkpoint=None, start_epoch=None, backup_dir=None, backup_every=5):
        """Train the neural network using mini-batch stochastic gradient
        descent.  The `training_data` is a list of tuples (x, y) representing
        the training inputs and the desired outputs.  If `test_data` (a list
        of (x, digit)) is provided then the network will be evaluated against
        the test data after each epoch, and partial progress printed out.
        This is useful for tracking progress, but slows things down
        substantially.  Returns the list of per-epoch evaluation results.

        Beyond the book (purenn.training.run): the caller's list is not
        shuffled in place, the positions are; `progress(done, total)` is told
        how many training examples of the epoch are done; `stop()` is asked
        between mini-batches, and when it says yes SGD raises
        TrainingInterrupted, whose state SGD(..., resume=state) carries on
        to exactly the weights of an uninterrupted run; between two epochs
        `checkpoint(snapshot)` is called, snapshot() being that
        TrainingInterrupted, for a caller that keeps periodic checkpoints.
        As the DeepLearningPython35 fork: `start_epoch=k` runs the epochs
        numbered k to `epochs` (from 1, as the fork counts them), and
        `backup_dir` keeps model files there -- initial.json, latest.json
        every `backup_every` epochs, and epoch<N>.json after the last.
        """
        run = TrainingRun(self, "network", training_data, epochs, mini_batch_size, eta,
                          evaluation_data=test_data, evaluation_name="test_data", progress=progress, stop=stop,
                          resume=resume, checkpoint=checkpoint, start_epoch=start_epoch,
                          backups=(backup_dir, backup_every))
        test_data, results = run.evaluation_data, run.history["results"]
        for j in run.epochs():
            run.shuffle()
            if run.core is not None:
                run.core_epoch()  # the same mini-batches, in the engine or the C core
            else:
                for mini_batch in run.mini_batches():
                    self.update_mini_batch(mini_batch, eta)
            if test_data:
                results.append(self.evaluate(test_data))
                print("Epoch {0}: {1} / {2}, {3:.2f}% correct, {4:.2f} s".format(
                    j, results[-1], len(test_data), 100.0 * results[-1] / len(test_data), run.seconds), flush=True)
            else:
                print("Epoch {0} complete, {1:.2f} s".format(j, run.seconds), flush=True)
        return results

    def update_mini_batch(self, mini_batch, eta):
        """Update the network's weights and biases by applying gradient
        descent using backpropagation to a single mini batch.  The
        `mini_batch` is a list of tuples (x, y), and `eta` is the learning
        rate."""
        mini_batch = check_mini_batch(self, mini_batch, eta)
        nabla_b = [[0.0] * len(b) for b in self.biases]
        nabla_w = [[[0.0] * len(w_j) for w_j in w] for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [add(nb, dnb) for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [[add(nw_j, dnw_j) for nw_j, dnw_j in zip(nw, dnw)]
                       for nw, dnw in zip(nabla_w, delta_nabla_w)]
        rate = eta / len(mini_batch)
        self.weights = [[subtract_scaled(w_j, nw_j, rate) for w_j, nw_j in zip(w, nw)]
                        for w, nw in zip(self.weights, nabla_w)]
        self.biases = [subtract_scaled(b, nb, rate) for b, nb in zip(self.biases, nabla_b)]

    def backprop(self, x, y):
        """Return a tuple (nabla_b, nabla_w) representing the gradient for
        the cost function C_x.  nabla_b and nabla_w are layer-by-layer lists,
        shaped like self.biases and self.weights."""
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
        outputs the correct result.  Note that the neural network's output
        is assumed to be the index of whichever neuron in the final layer
        has the highest activation."""
        test_data = check_examples(self, test_data, "test_data", labelled=True)
        core = fast_backend(self)
        if core is not None:  # all the inputs in one go
            predictions = core.classify(self, test_data)
            return sum(int(p == y) for p, y in zip(predictions, test_data.labels))
        test_results = [(argmax(self.feedforward(x)), y) for (x, y) in test_data]
        return sum(int(x == y) for (x, y) in test_results)

    def cost_derivative(self, output_activations, y):
        """Return the vector of partial derivatives dC_x/da for the output activations."""
        return [a_j - y_j for a_j, y_j in zip(output_activations, y)]

    #### The DeepLearningPython35 fork's additions, with purenn's model files

    def save(self, filename):
        """Save the network to `filename` as JSON, in the book's network2 format
        (QuadraticCost, sigmoid): network2.load reads it too."""
        save_network(self, filename)

    def load(self, filename):
        """Replace this network's sizes, weights and biases by those saved in
        `filename` (by save, or by network2 for a sigmoid network with the
        quadratic cost and no dropout); returns the network."""
        data = read_json(filename)
        if isinstance(data, dict) and (data.get("cost"), data.get("activation", "sigmoid")) != ("QuadraticCost",
                                                                                                 "sigmoid"):
            raise ModelFileError(filename, "a network of {!r} and {!r} neurons; the chapter-1 network has the quadratic "
                                           "cost and sigmoid neurons: load it with purenn.network2.load".format(
                                               data.get("cost"), data.get("activation", "sigmoid")))
        found = parse_network(filename, data, {"QuadraticCost": QuadraticCost}, {"sigmoid": sigmoid})
        if found["dropout"]:
            raise ModelFileError(filename, "a chapter-1 network has no dropout; load it with purenn.network2.load")
        self.sizes, self.num_layers = found["sizes"], len(found["sizes"])
        self.weights, self.biases = found["weights"], found["biases"]
        self.backend = choose_backend(None if self.backend_automatic else self.backend, self)
        return self
