"""network2.py -- the book's improved network (chapter 3), and the rest of its
toolbox for fully-connected networks, in plain Python.

It follows Michael Nielsen's network2.py: the cross-entropy cost, L2
regularisation, better weight initialisation, monitoring of cost and
accuracy, early stopping, and saving to JSON.  Beyond network2, as options
of the same network, what chapters 3 and 6 teach for fully-connected nets:

    cost=LogLikelihoodCost      a softmax output layer with the log-likelihood cost
    activation="tanh"|"relu"    hidden neurons other than sigmoid
    dropout=p                   drop each hidden neuron with probability p while training
    SGD(..., l1=...)            L1 regularisation (with or instead of L2's lmbda)
    SGD(..., momentum=mu)       momentum-based gradient descent
    SGD(..., schedule=n)        halve eta after n epochs without improvement,
                                stop when it has fallen to 1/128 of its start

Like purenn.network, it favours clarity over speed, and its arithmetic --
the order of every sum, the helper functions it shares with
purenn.network -- is what the C core (csrc/) computes bit for bit.

Shapes, as in purenn.network: w[j][k] (n_out x n_in) is the weight from
neuron k to neuron j; biases, activations and deltas are lists.
"""

import math
import os

from . import elementary
from .backends import automatic, choose_backend, fast_backend
from .errors import ArgumentError
from .files.modelfile import parse_network, read_json, save_network
from .linalg import argmax, one_hot, outer, transpose_times, weighted_inputs
from .network import QuadraticCost, shared_rng, sigmoid
from .training.checks import (as_numbers, check_count, check_examples, check_mini_batch, check_number,
                              check_params, check_sizes)
from .training.run import TrainingRun, watched_figure

__all__ = ["QuadraticCost", "CrossEntropyCost", "LogLikelihoodCost", "Network", "load", "save_network",
           "vectorized_result", "sigmoid", "sigmoid_prime", "ACTIVATIONS"]

#### Activation functions: f(z), and f'(z) written in terms of a = f(z)

def tanh(z):
    return elementary.tanh(z)


def relu(z):
    """max(0, z); NaN gives 0.0, as in the C core."""
    return z if z > 0.0 else 0.0


def sigmoid_prime(z):
    """Derivative of the sigmoid function at z (as the book's network2 has it)."""
    return _sigmoid_prime_of(sigmoid(z))


def _sigmoid_prime_of(a):
    return a * (1.0 - a)


def _tanh_prime_of(a):
    return 1.0 - a * a


def _relu_prime_of(a):
    return 1.0 if a > 0.0 else 0.0


#: Hidden activations: name -> (f(z), f'(z) as a function of a = f(z)).
ACTIVATIONS = {
    "sigmoid": (sigmoid, _sigmoid_prime_of),
    "tanh": (tanh, _tanh_prime_of),
    "relu": (relu, _relu_prime_of),
}


def softmax(z):
    """e^z_j / sum_k e^z_k, computed with z - max(z) so that exp cannot overflow."""
    most = z[0]
    for z_j in z:
        if z_j > most:
            most = z_j
    e = [elementary.exp(z_j - most) for z_j in z]
    total = 0.0
    for e_j in e:
        total += e_j
    return [e_j / total for e_j in e]


# The smallest argument given to log: log(0) would be -inf, and the book's
# np.nan_to_num turned the resulting inf into 1.8e308; a log of 1e-300
# (about -690.8) keeps every cost finite and still enormous.
_TINY = 1e-300


def _log(x):
    return elementary.log(x if x > _TINY else _TINY)


#### Costs (QuadraticCost, chapter 1's, is purenn.network's)

class CrossEntropyCost:
    """C = -sum_j [y_j ln a_j + (1 - y_j) ln(1 - a_j)], with sigmoid output neurons."""

    output = "sigmoid"

    @staticmethod
    def fn(a, y):
        """The cost of output a when y was desired; finite even at a = 0 or 1."""
        total = 0.0
        for a_j, y_j in zip(a, y):
            # 0 * ln 0 counts as 0, and ln is never given 0 (see _log).
            if y_j != 0.0:
                total -= y_j * _log(a_j)
            if y_j != 1.0:
                total -= (1.0 - y_j) * _log(1.0 - a_j)
        return total

    @staticmethod
    def delta(z, a, y):
        """The error delta of the output layer: a - y (sigma'(z) cancels out)."""
        return [a_j - y_j for a_j, y_j in zip(a, y)]


class LogLikelihoodCost:
    """C = -ln a_y, with a softmax output layer (chapter 3)."""

    output = "softmax"

    @staticmethod
    def fn(a, y):
        """-sum_j y_j ln a_j: for a one-hot y, minus the log of the right output."""
        total = 0.0
        for a_j, y_j in zip(a, y):
            if y_j != 0.0:
                total -= y_j * _log(a_j)
        return total

    @staticmethod
    def delta(z, a, y):
        """The error delta of the softmax output layer: a - y."""
        return [a_j - y_j for a_j, y_j in zip(a, y)]


COSTS = {cls.__name__: cls for cls in (QuadraticCost, CrossEntropyCost, LogLikelihoodCost)}


def vectorized_result(j, n=10):
    """The n-element one-hot list with 1.0 at position j."""
    return one_hot(j, n)


def sign(w):
    """The sign of w: 1.0, -1.0, or 0.0 for either zero (and for NaN)."""
    return 1.0 if w > 0.0 else -1.0 if w < 0.0 else 0.0


#### The network

class Network:
    """A fully-connected feedforward network trained by mini-batch SGD.

    `sizes` lists the neurons per layer, input first.  `cost` is one of the
    cost classes above; it also decides the output neurons (sigmoid, or
    softmax for LogLikelihoodCost).  `activation` names the hidden neurons'
    function.  `dropout` is the probability that a hidden neuron is left out
    of an example while training (inverted dropout: the neurons kept are
    scaled by 1/(1-p), so a trained network is used as it is).  `seed` and
    `backend` as in purenn.network.Network: "reference" runs this module's
    code as written, "python" the Python engine, "c" the C core.
    """

    #: What the fast backends do in their own code.  A subclass that overrides
    #: one of these runs on the reference (purenn.backends.choose_backend).
    BOOK_METHODS = ("feedforward", "update_mini_batch", "backprop", "accuracy", "total_cost", "_activate",
                    "_momentum_step", "dropout_mask")

    def __init__(self, sizes, cost=CrossEntropyCost, *, activation="sigmoid", dropout=0.0,
                 seed=None, backend=None):
        sizes = check_sizes(sizes)
        if cost not in COSTS.values():
            raise ArgumentError("cost: {!r} is not one of {}".format(cost, ", ".join(COSTS)))
        if activation not in ACTIVATIONS:
            raise ArgumentError("activation: {!r} is not one of {}".format(activation, ", ".join(ACTIVATIONS)))
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
            raise ArgumentError("dropout: {!r} is not a probability from 0 up to (not including) 1".format(dropout))
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.cost = cost
        self.activation = activation
        self.dropout = float(dropout)
        self.backend = choose_backend(backend, self)
        self.backend_automatic = automatic(backend)  # chosen by purenn: may go over to the reference
        self.seed = seed
        self.rng = shared_rng(seed)  # without a seed, the random module's generator (see purenn.network)
        self.default_weight_initializer()

    def default_weight_initializer(self):
        """Weights Gaussian with mean 0 and standard deviation 1/sqrt(n_in),
        biases Gaussian with mean 0 and standard deviation 1 (chapter 3)."""
        rng, gauss = self.rng, elementary.gauss  # gauss(rng, ...) draws as rng.gauss(...)
        self.biases = [[gauss(rng, 0.0, 1.0) for j in range(y)] for y in self.sizes[1:]]
        self.weights = [[[gauss(rng, 0.0, 1.0) / math.sqrt(x) for k in range(x)] for j in range(y)]
                        for x, y in zip(self.sizes[:-1], self.sizes[1:])]

    def large_weight_initializer(self):
        """Weights and biases Gaussian with mean 0 and standard deviation 1, as in chapter 1."""
        rng, gauss = self.rng, elementary.gauss
        self.biases = [[gauss(rng, 0.0, 1.0) for j in range(y)] for y in self.sizes[1:]]
        self.weights = [[[gauss(rng, 0.0, 1.0) for k in range(x)] for j in range(y)]
                        for x, y in zip(self.sizes[:-1], self.sizes[1:])]

    def feedforward(self, a):
        """Return the output of the network if `a` is input (no dropout).  (A
        column, a NumPy array or an iterator is read as a list: as_numbers.)"""
        a = as_numbers(a, self.sizes[0], "a")
        check_params(self)
        core = fast_backend(self)
        if core is not None:
            return core.feedforward(self, a)
        for l, (b, w) in enumerate(zip(self.biases, self.weights)):
            a = self._activate(l, weighted_inputs(w, a, b))
        return a

    def _activate(self, l, z):
        """The activations of layer l+1 (l counts weight layers from 0) from its weighted inputs z."""
        if l == self.num_layers - 2:
            return softmax(z) if self.cost.output == "softmax" else [sigmoid(z_j) for z_j in z]
        f = ACTIVATIONS[self.activation][0]
        return [f(z_j) for z_j in z]

    #### Learning

    def SGD(self, training_data, epochs, mini_batch_size, eta, lmbda=0.0, evaluation_data=None,
            monitor_evaluation_cost=False, monitor_evaluation_accuracy=False,
            monitor_training_cost=False, monitor_training_accuracy=False, early_stopping_n=0,
            *, l1=0.0, momentum=0.0, schedule=0, progress=None, on_epoch=None, verbose=True,
            stop=None, resume=None, checkpoint=None):
        """Train the neural network using mini-batch stochastic gradient descent.

        As in the book: `lmbda` is the L2 regularisation parameter; the
        evaluation data (validation or test, y the digit) and the training
        data can be monitored for cost and accuracy after each epoch; returns
        the per-epoch lists (evaluation_cost, evaluation_accuracy,
        training_cost, training_accuracy).  `early_stopping_n` > 0 stops when
        the watched figure (the first monitored of evaluation accuracy,
        evaluation cost, training accuracy, training cost) has not improved
        for that many epochs.  Beyond the book: `l1`, `momentum`, `schedule` =
        n (halve eta after n epochs without improvement, stop at 1/128 of it),
        `on_epoch(record)`, `verbose=False`, and `progress`, `stop`, `resume`,
        `checkpoint` as in purenn.network.Network.SGD (purenn.training.run does them)."""
        settings = {"lmbda": lmbda, "l1": l1, "momentum": momentum, "schedule": schedule,
                    "early_stopping_n": early_stopping_n, "monitor_evaluation_cost": bool(monitor_evaluation_cost),
                    "monitor_evaluation_accuracy": bool(monitor_evaluation_accuracy),
                    "monitor_training_cost": bool(monitor_training_cost),
                    "monitor_training_accuracy": bool(monitor_training_accuracy)}
        run = TrainingRun(self, "network2", training_data, epochs, mini_batch_size, eta,
                          evaluation_data=evaluation_data, settings=settings, check_settings=_check_settings,
                          history=_MONITORED, progress=progress, stop=stop, resume=resume, on_epoch=on_epoch,
                          checkpoint=checkpoint)
        training_data, evaluation_data, n = run.training_data, run.evaluation_data, run.n
        evaluation_cost, evaluation_accuracy, training_cost, training_accuracy = (
            run.history[name] for name in _MONITORED)
        say = _say if verbose else _silent
        beyond_the_book = _update_options(l1, momentum, run)
        for j in run.epochs():
            eta = run.eta  # the learning-rate schedule may have lowered it
            run.shuffle()
            if run.core is not None:
                run.core_epoch()  # the same mini-batches, in the engine or the C core
            else:
                for mini_batch in run.mini_batches():
                    self.update_mini_batch(mini_batch, eta, lmbda, n, **beyond_the_book)
            say("Epoch {} training complete".format(j))
            if monitor_training_cost:
                cost = self.total_cost(training_data, lmbda)
                training_cost.append(cost)
                say("Cost on training data: {}".format(cost))
            if monitor_training_accuracy:
                accuracy = self.accuracy(training_data, convert=True)
                training_accuracy.append(accuracy)
                say("Accuracy on training data: {} / {}".format(accuracy, n))
            if monitor_evaluation_cost:
                cost = self.total_cost(evaluation_data, lmbda, convert=True)
                evaluation_cost.append(cost)
                say("Cost on evaluation data: {}".format(cost))
            if monitor_evaluation_accuracy:
                accuracy = self.accuracy(evaluation_data)
                evaluation_accuracy.append(accuracy)
                say("Accuracy on evaluation data: {} / {}".format(accuracy, len(evaluation_data)))
            if run.end_epoch(say):  # on_epoch, early stopping and the schedule (purenn.training.run)
                break
        return evaluation_cost, evaluation_accuracy, training_cost, training_accuracy

    def update_mini_batch(self, mini_batch, eta, lmbda, n, *, l1=0.0, momentum=0.0, velocities=None):
        """Update the network's weights and biases by applying gradient
        descent using backpropagation to a single mini batch.  The
        `mini_batch` is a list of tuples (x, y), `eta` is the learning rate,
        `lmbda` is the regularization parameter, and `n` is the total size of
        the training data set.  Beyond the book: `l1` (L1 regularisation),
        and `momentum` with its `velocities` (shaped like (weights, biases),
        changed in place; None starts from zero).  With dropout, each
        example's mask is drawn from the network's RNG."""
        mini_batch = check_mini_batch(self, mini_batch, eta)
        for value, name in ((lmbda, "lmbda"), (l1, "l1"), (momentum, "momentum")):
            check_number(value, name)
        check_count(n, "n", minimum=1)
        nabla_b = [[0.0] * len(b) for b in self.biases]
        nabla_w = [[[0.0] * len(w_j) for w_j in w] for w in self.weights]
        for x, y in mini_batch:
            if self.dropout:  # beyond the book: this example's dropout mask
                delta_nabla_b, delta_nabla_w = self.backprop(x, y, self.dropout_mask())
            else:
                delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [[nb + dnb for nb, dnb in zip(nb_l, dnb_l)] for nb_l, dnb_l in zip(nabla_b, delta_nabla_b)]
            nabla_w = [[[nw + dnw for nw, dnw in zip(nw_j, dnw_j)] for nw_j, dnw_j in zip(nw_l, dnw_l)]
                       for nw_l, dnw_l in zip(nabla_w, delta_nabla_w)]
        rate = eta / len(mini_batch)
        if momentum == 0.0:
            # The book's rule, w -> (1 - eta*lmbda/n) w - (eta/m) nabla_w, and
            # for L1 a further step of eta*l1/n towards zero.
            decay = 1.0 - eta * (lmbda / n)
            shrink = eta * (l1 / n)
            self.weights = [[[_step(w_jk, nw_jk, decay, shrink, rate) for w_jk, nw_jk in zip(w_j, nw_j)]
                             for w_j, nw_j in zip(w, nw)] for w, nw in zip(self.weights, nabla_w)]
            self.biases = [[b_j - rate * nb_j for b_j, nb_j in zip(b, nb)]
                           for b, nb in zip(self.biases, nabla_b)]
        else:
            self._momentum_step(nabla_b, nabla_w, eta, rate, lmbda / n, l1 / n, momentum, velocities)

    def _momentum_step(self, nabla_b, nabla_w, eta, rate, l2, l1n, momentum, velocities):
        """Momentum: v -> mu v - eta * (gradient of the regularised cost); w -> w + v."""
        if velocities is None:
            velocities = ([[[0.0] * len(w_j) for w_j in w] for w in self.weights],
                          [[0.0] * len(b) for b in self.biases])
        vw, vb = velocities
        for w, nw, v in zip(self.weights, nabla_w, vw):
            for w_j, nw_j, v_j in zip(w, nw, v):
                for k, (w_jk, nw_jk) in enumerate(zip(w_j, nw_j)):
                    v_j[k] = _velocity(v_j[k], w_jk, nw_jk, momentum, eta, rate, l2, l1n)
                    w_j[k] = w_jk + v_j[k]
        for b, nb, v in zip(self.biases, nabla_b, vb):
            for j, (b_j, nb_j) in enumerate(zip(b, nb)):
                v[j] = momentum * v[j] - rate * nb_j
                b[j] = b_j + v[j]

    def backprop(self, x, y, mask=None):
        """Return a tuple (nabla_b, nabla_w) representing the gradient for
        the cost function C_x, layer by layer.  `mask` (dropout) lists, for
        each hidden layer, which neurons are kept (1) or dropped (0)."""
        nabla_b = [None] * len(self.biases)
        nabla_w = [None] * len(self.weights)
        scale = 1.0 / (1.0 - self.dropout) if mask is not None else 1.0
        # feedforward
        activation = x
        activations = [x]  # list to store all the activations, layer by layer
        raws = [x]  # the same before dropout, for the derivatives
        zs = []  # list to store all the z vectors, layer by layer
        for l, (b, w) in enumerate(zip(self.biases, self.weights)):
            z = weighted_inputs(w, activation, b)
            zs.append(z)
            activation = self._activate(l, z)
            raws.append(activation)
            if mask is not None and l < len(mask):
                # Dropout: a dropped neuron gives 0.0; a kept one is scaled by 1/(1-p).
                activation = [a_j * scale if kept else 0.0 for a_j, kept in zip(activation, mask[l])]
            activations.append(activation)
        # backward pass
        delta = self.cost.delta(zs[-1], activations[-1], y)
        nabla_b[-1] = delta
        nabla_w[-1] = outer(delta, activations[-2])
        # l counts back from the last layer, as in purenn.network.backprop.
        prime = ACTIVATIONS[self.activation][1]
        for l in range(2, self.num_layers):
            # f'(z), written in terms of the activation f(z) before dropout
            sp = [prime(a_j) for a_j in raws[-l]]
            delta = [t * sp_j for t, sp_j in zip(transpose_times(self.weights[-l + 1], delta), sp)]
            if mask is not None:
                delta = [d * scale if kept else 0.0 for d, kept in zip(delta, mask[-l + 1])]
            nabla_b[-l] = delta
            nabla_w[-l] = outer(delta, activations[-l - 1])
        return (nabla_b, nabla_w)

    def dropout_masks(self, count):
        """For dropout: one byte per hidden neuron for each of `count`
        examples, 1 if kept, drawn from the network's RNG in order -- example
        by example, layer by layer."""
        hidden = sum(self.sizes[1:-1])
        draw, p = self.rng.random, self.dropout
        return bytes(int(draw() >= p) for _ in range(count * hidden))

    def dropout_mask(self):
        """One example's mask (dropout_masks(1)) as a list per hidden layer."""
        flat, out, start = self.dropout_masks(1), [], 0
        for size in self.sizes[1:-1]:
            out.append(flat[start:start + size])
            start += size
        return out

    #### Measuring

    def accuracy(self, data, convert=False):
        """Return the number of inputs in `data` for which the neural network
        outputs the correct result (the index of its most active output
        neuron).  `convert` is False for validation and test data, whose y
        is the digit (the usual case), True for training data, whose y is a
        one-hot list."""
        data = check_examples(self, data, "data", labelled=not convert)
        core = fast_backend(self)
        if core is not None:  # all the inputs in one go
            return sum(int(p == y) for p, y in zip(core.classify(self, data), data.labels))
        if convert:
            results = [(argmax(self.feedforward(x)), argmax(y)) for (x, y) in data]
        else:
            results = [(argmax(self.feedforward(x)), y) for (x, y) in data]
        return sum(int(x == y) for (x, y) in results)

    def total_cost(self, data, lmbda, convert=False):
        """Return the total cost for the data set `data`: (1/n) sum of C_x +
        (lmbda/2n) sum of w^2.  `convert` is False for training data (y
        one-hot, the usual case), True for validation and test data (y the
        digit), as in the book."""
        data = check_examples(self, data, "data", labelled=convert)
        core = fast_backend(self)
        costs = core.costs(self, data) if core is not None else [
            self.cost.fn(self.feedforward(x), y) for x, y in zip(data.xs(), data.ys)]
        cost = 0.0
        for c in costs:
            cost += c / len(data)
        if lmbda == 0.0:
            return cost  # no L2 term -- not 0 * (a sum of squares that may have overflowed)
        squares = 0.0
        for w in self.weights:
            for w_j in w:
                for w_jk in w_j:
                    squares += w_jk * w_jk
        return cost + 0.5 * (lmbda / len(data)) * squares

    def save(self, filename):
        """Save the neural network to the file `filename` (purenn.files.modelfile)."""
        save_network(self, filename)


_MONITORED = ("evaluation_cost", "evaluation_accuracy", "training_cost", "training_accuracy")


def _say(text):
    print(text, flush=True)


def _silent(text):
    pass


def _check_settings(settings):
    """network2's SGD arguments beyond the chapter-1 network's (what a resumed
    run must share, purenn.training.state), checked after the run's own."""
    check_count(settings["early_stopping_n"], "early_stopping_n", minimum=0)
    check_count(settings["schedule"], "schedule", minimum=0)
    for name in ("lmbda", "l1", "momentum"):
        check_number(settings[name], name)
    for name in ("lmbda", "l1"):
        if settings[name] < 0:
            raise ArgumentError("{}: {!r} is negative; regularisation takes 0 or more".format(name, settings[name]))
    if not 0.0 <= settings["momentum"] < 1.0:
        raise ArgumentError("momentum: {!r} is not from 0 up to (not including) 1".format(settings["momentum"]))
    if (settings["early_stopping_n"] or settings["schedule"]) and watched_figure(settings) is None:
        raise ArgumentError("{}: needs a figure to watch; turn on a monitor (evaluation or training accuracy "
                            "or cost)".format("early_stopping_n" if settings["early_stopping_n"] else "schedule"))


def _update_options(l1, momentum, run):
    """The keyword arguments of update_mini_batch beyond the book's, given only
    when asked for, so that a subclass written with the book's signature works."""
    options = {"l1": l1} if l1 else {}
    if momentum:
        options.update(momentum=momentum, velocities=run.velocities)
    return options


def _step(w, nw, decay, shrink, rate):
    """One weight's plain update (no momentum): decay w, step towards 0 for L1, descend."""
    w = decay * w
    if shrink != 0.0:
        w = w - shrink * sign(w)
    return w - rate * nw


def _velocity(v, w, nw, momentum, eta, rate, l2, l1n):
    """One weight's new velocity: mu v - eta (lmbda/n) w - eta (l1/n) sgn(w) - (eta/m) nabla_w."""
    gradient = l2 * w
    if l1n != 0.0:
        gradient = gradient + l1n * sign(w)
    return momentum * v - eta * gradient - rate * nw


#### Loading a network

def load(filename, *, backend=None):
    """Load a network saved by `Network.save` -- or by the book's network2.save."""
    filename = os.fspath(filename)
    return network_from_dict(filename, read_json(filename), backend)


def network_from_dict(filename, data, backend=None):
    """The Network a JSON object from a model file describes (`filename` for errors)."""
    found = parse_network(filename, data, COSTS, ACTIVATIONS)
    net = Network(found["sizes"], cost=COSTS[found["cost"]], activation=found["activation"], seed=0,
                  backend=backend, dropout=found["dropout"])
    net.weights, net.biases = found["weights"], found["biases"]
    return net
