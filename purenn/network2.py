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

import json
import math
import os
import random
import time

from .files.atomic import write_text
from .backends import load_core, resolve_backend
from .training.checks import (check_count, check_data, check_finite_after_epoch, check_number, check_numbers,
                     check_params, check_sizes, is_finite_number, is_whole_number)
from .training.checkpoint import make_state, resume_point
from .errors import ArgumentError, ModelFileError, TrainingInterrupted
from .network import argmax, outer, sigmoid, transpose_times, weighted_inputs

__all__ = ["QuadraticCost", "CrossEntropyCost", "LogLikelihoodCost", "Network", "load", "save_network",
           "vectorized_result", "ACTIVATIONS"]

#### Activation functions: f(z), and f'(z) written in terms of a = f(z)

def tanh(z):
    return math.tanh(z)


def relu(z):
    """max(0, z); NaN gives 0.0, as in the C core."""
    return z if z > 0.0 else 0.0


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
    e = [math.exp(z_j - most) for z_j in z]
    total = 0.0
    for e_j in e:
        total += e_j
    return [e_j / total for e_j in e]


# The smallest argument given to log: log(0) would be -inf, and the book's
# np.nan_to_num turned the resulting inf into 1.8e308; a log of 1e-300
# (about -690.8) keeps every cost finite and still enormous.
_TINY = 1e-300


def _log(x):
    return math.log(x if x > _TINY else _TINY)


#### Costs

class QuadraticCost:
    """C = ||a - y||^2 / 2, with sigmoid output neurons."""

    output = "sigmoid"

    @staticmethod
    def fn(a, y):
        """The cost of output a when y was desired."""
        total = 0.0
        for a_j, y_j in zip(a, y):
            total += (a_j - y_j) * (a_j - y_j)
        return 0.5 * total

    @staticmethod
    def delta(z, a, y):
        """The error delta of the output layer: (a - y) * sigmoid'(z)."""
        return [(a_j - y_j) * _sigmoid_prime_of(a_j) for a_j, y_j in zip(a, y)]


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
    e = [0.0] * n
    e[j] = 1.0
    return e


def _sign(w):
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
        self.backend = resolve_backend(backend)
        self.seed = seed
        self.rng = random.Random(seed)
        self.default_weight_initializer()

    def default_weight_initializer(self):
        """Weights Gaussian with mean 0 and standard deviation 1/sqrt(n_in),
        biases Gaussian with mean 0 and standard deviation 1 (chapter 3)."""
        gauss = self.rng.gauss
        self.biases = [[gauss(0.0, 1.0) for j in range(y)] for y in self.sizes[1:]]
        self.weights = [[[gauss(0.0, 1.0) / math.sqrt(x) for k in range(x)] for j in range(y)]
                        for x, y in zip(self.sizes[:-1], self.sizes[1:])]

    def large_weight_initializer(self):
        """Weights and biases Gaussian with mean 0 and standard deviation 1, as in chapter 1."""
        gauss = self.rng.gauss
        self.biases = [[gauss(0.0, 1.0) for j in range(y)] for y in self.sizes[1:]]
        self.weights = [[[gauss(0.0, 1.0) for k in range(x)] for j in range(y)]
                        for x, y in zip(self.sizes[:-1], self.sizes[1:])]

    #### Using the network

    def _activate(self, l, z):
        """The activations of layer l+1 (l counts weight layers from 0) from its weighted inputs z."""
        if l == self.num_layers - 2:
            return softmax(z) if self.cost.output == "softmax" else [sigmoid(z_j) for z_j in z]
        f = ACTIVATIONS[self.activation][0]
        return [f(z_j) for z_j in z]

    def feedforward(self, a):
        """Return the output of the network if `a` is input (no dropout)."""
        check_numbers(a, self.sizes[0], "a")
        check_params(self)
        if self.backend != "reference":
            return load_core(self.backend).feedforward(self, a)
        for l, (b, w) in enumerate(zip(self.biases, self.weights)):
            a = self._activate(l, weighted_inputs(w, a, b))
        return a

    def accuracy(self, data, convert=False):
        """The number of inputs in `data` for which the network's output (the
        index of its most active output neuron) is right.  `convert` is True
        for training data, whose y is a one-hot list, False for validation
        and test data, whose y is the digit."""
        data = list(data)
        check_params(self)
        check_data(data, self.sizes, "data", labelled=not convert)
        return self._examples(data, labelled=not convert).accuracy()

    def total_cost(self, data, lmbda, convert=False):
        """The cost over `data` with its L2 term: (1/n) sum of C_x + (lmbda/2n) sum of w^2.
        `convert` is False for training data (y one-hot), True for
        validation and test data (y the digit), as in the book."""
        data = list(data)
        check_params(self)
        check_data(data, self.sizes, "data", labelled=convert)
        return self._total_cost(self._examples(data, labelled=convert), lmbda)

    def _total_cost(self, examples, lmbda):
        n = examples.n
        total = 0.0
        for c in examples.costs():
            total += c / n
        if lmbda == 0.0:
            return total  # no L2 term -- not 0 * (a sum of squares that may have overflowed)
        squares = 0.0
        for w in self.weights:
            for w_j in w:
                for w_jk in w_j:
                    squares += w_jk * w_jk
        return total + 0.5 * (lmbda / n) * squares

    def _examples(self, data, labelled):
        """`data` ready to be measured again and again: an object with
        accuracy() and costs() (cost.fn per example).  The C core packs
        the data once, here."""
        if self.backend != "reference":
            return load_core(self.backend).examples(self, data, labelled)
        return _PythonExamples(self, data, labelled)

    #### Learning

    def SGD(self, training_data, epochs, mini_batch_size, eta, lmbda=0.0, evaluation_data=None,
            monitor_evaluation_cost=False, monitor_evaluation_accuracy=False,
            monitor_training_cost=False, monitor_training_accuracy=False, early_stopping_n=0,
            *, l1=0.0, momentum=0.0, schedule=0, progress=None, on_epoch=None, verbose=True,
            stop=None, resume=None):
        """Train by mini-batch stochastic gradient descent.

        As in the book: `lmbda` is the L2 regularisation parameter; the
        evaluation data (validation or test, y the digit) and the training
        data can be monitored for cost and accuracy after each epoch, and the
        per-epoch lists are returned as (evaluation_cost,
        evaluation_accuracy, training_cost, training_accuracy).
        `early_stopping_n` > 0 stops when the watched figure has not improved
        for that many epochs.  Beyond the book: `l1`, `momentum`, and
        `schedule` = n (halve eta after n epochs without improvement, stop
        when eta is 1/128 of its start).  The figure watched by early
        stopping and the schedule is the first monitored of: evaluation
        accuracy, evaluation cost, training accuracy, training cost.
        `on_epoch(record)`, if given, is called after each epoch with a
        dict of that epoch's figures; `verbose=False` leaves out the book's
        printout.  `stop` and `resume`: as in purenn.network.Network.SGD --
        stop() is asked between mini-batches, TrainingInterrupted carries
        the state, resume=state carries on bit for bit (purenn.checkpoint).
        """
        training_data = list(training_data)
        evaluation_data = list(evaluation_data) if evaluation_data else None
        check_count(epochs, "epochs", minimum=0)
        check_count(mini_batch_size, "mini_batch_size", minimum=1)
        check_count(early_stopping_n, "early_stopping_n", minimum=0)
        check_count(schedule, "schedule", minimum=0)
        for value, name in ((eta, "eta"), (lmbda, "lmbda"), (l1, "l1"), (momentum, "momentum")):
            check_number(value, name)
        if not 0.0 <= momentum < 1.0:
            raise ArgumentError("momentum: {!r} is not from 0 up to (not including) 1".format(momentum))
        if not training_data:
            raise ArgumentError("training_data: empty")
        check_params(self)
        check_data(training_data, self.sizes, "training_data", labelled=False)
        if evaluation_data:
            check_data(evaluation_data, self.sizes, "evaluation_data", labelled=True)
        if (monitor_evaluation_cost or monitor_evaluation_accuracy) and not evaluation_data:
            raise ArgumentError("evaluation_data: monitoring it was asked for, but none was given")
        watched = _watched(monitor_evaluation_accuracy, monitor_evaluation_cost,
                           monitor_training_accuracy, monitor_training_cost)
        if (early_stopping_n or schedule) and watched is None:
            raise ArgumentError("{}: needs a figure to watch; turn on a monitor (evaluation or "
                                "training accuracy or cost)".format(
                                    "early_stopping_n" if early_stopping_n else "schedule"))

        def say(text):
            if verbose:
                print(text, flush=True)

        n = len(training_data)
        eta, start_eta = float(eta), float(eta)
        run = self._trainer(training_data, n, float(lmbda), float(l1), float(momentum))
        # The data to measure after each epoch, prepared (for C: packed) once.
        measured_training = (self._examples(training_data, labelled=False)
                             if monitor_training_cost or monitor_training_accuracy else None)
        measured_evaluation = (self._examples(evaluation_data, labelled=True)
                               if monitor_evaluation_cost or monitor_evaluation_accuracy else None)
        order = list(range(n))
        evaluation_cost, evaluation_accuracy = [], []
        training_cost, training_accuracy = [], []
        best, best_epoch, since_schedule = None, 0, 0
        # Where to start: the beginning, or where an interrupted run stopped.
        settings = {"n": n, "mini_batch_size": mini_batch_size, "eta": start_eta, "lmbda": lmbda, "l1": l1,
                    "momentum": momentum, "schedule": schedule, "early_stopping_n": early_stopping_n,
                    "monitor_evaluation_cost": bool(monitor_evaluation_cost),
                    "monitor_evaluation_accuracy": bool(monitor_evaluation_accuracy),
                    "monitor_training_cost": bool(monitor_training_cost),
                    "monitor_training_accuracy": bool(monitor_training_accuracy)}
        first, done = 0, 0
        if resume is not None:
            first, done, order, history = resume_point(self, resume, "network2", settings, epochs)
            evaluation_cost, evaluation_accuracy = list(history["evaluation_cost"]), list(history["evaluation_accuracy"])
            training_cost, training_accuracy = list(history["training_cost"]), list(history["training_accuracy"])
            eta, best = float(history["eta"]), history["best"]
            best_epoch, since_schedule = history["best_epoch"], history["since_schedule"]
            if resume["velocity"] is not None:
                run.set_velocity(resume["velocity"]["weights"], resume["velocity"]["biases"])

        def interrupted(epoch, done, rng_state, order):
            history = {"evaluation_cost": list(evaluation_cost), "evaluation_accuracy": list(evaluation_accuracy),
                       "training_cost": list(training_cost), "training_accuracy": list(training_accuracy),
                       "eta": eta, "start_eta": start_eta, "best": best, "best_epoch": best_epoch,
                       "since_schedule": since_schedule}
            velocity = run.get_velocity()
            if velocity is not None:
                velocity = {"weights": velocity[0], "biases": velocity[1]}
            state = make_state(self, "network2", settings, epoch, done, rng_state, order, history, velocity)
            return TrainingInterrupted(self, state, n)

        for j in range(first, epochs):
            if stop is not None and done == 0 and stop():
                raise interrupted(j, 0, self.rng.getstate(), order)
            started = time.perf_counter()
            rng_state, unshuffled = self.rng.getstate(), list(order)
            self.rng.shuffle(order)
            masks = self._dropout_masks(n)
            done = run.epoch(order, mini_batch_size, eta, progress, masks, start=done, stop=stop)
            if done < n:
                raise interrupted(j, done, rng_state, unshuffled)
            done = 0
            seconds = time.perf_counter() - started
            check_finite_after_epoch(self, j, eta)
            record = {"epoch": j, "seconds": seconds, "eta": eta}
            say("Epoch {} training complete".format(j))
            if monitor_training_cost:
                cost = self._total_cost(measured_training, lmbda)
                check_finite_after_epoch(self, j, eta, cost)
                training_cost.append(cost)
                record["training_cost"] = cost
                say("Cost on training data: {}".format(cost))
            if monitor_training_accuracy:
                accuracy = measured_training.accuracy()
                training_accuracy.append(accuracy)
                record["training_accuracy"] = accuracy / n
                say("Accuracy on training data: {} / {}".format(accuracy, n))
            if monitor_evaluation_cost:
                cost = self._total_cost(measured_evaluation, lmbda)
                evaluation_cost.append(cost)
                record["evaluation_cost"] = cost
                say("Cost on evaluation data: {}".format(cost))
            if monitor_evaluation_accuracy:
                accuracy = measured_evaluation.accuracy()
                evaluation_accuracy.append(accuracy)
                record["evaluation_accuracy"] = accuracy / len(evaluation_data)
                say("Accuracy on evaluation data: {} / {}".format(accuracy, len(evaluation_data)))
            if on_epoch is not None:
                on_epoch(record)
            if watched is None:
                continue
            # Accuracies should rise and costs fall: compare them all as "higher is better".
            figure = record[watched] if watched.endswith("accuracy") else -record[watched]
            if best is None or figure > best:
                best, best_epoch, since_schedule = figure, j, j
            if early_stopping_n and j - best_epoch >= early_stopping_n:
                say("Early stopping: no improvement in {} epochs".format(early_stopping_n))
                break
            if schedule and j - since_schedule >= schedule:
                eta /= 2.0
                since_schedule = j
                if eta <= start_eta / 128.0:
                    say("Learning-rate schedule: eta has fallen to 1/128 of its start; stopping")
                    break
                say("Learning-rate schedule: eta halved to {}".format(eta))
        return evaluation_cost, evaluation_accuracy, training_cost, training_accuracy

    def _dropout_masks(self, n):
        """For dropout: one byte per hidden neuron per example, 1 if kept,
        drawn from the network's RNG -- or None without dropout."""
        if not self.dropout:
            return None
        hidden = sum(self.sizes[1:-1])
        draw, p = self.rng.random, self.dropout
        return bytes(int(draw() >= p) for _ in range(n * hidden))

    def update_mini_batch(self, mini_batch, eta, lmbda, n, *, l1=0.0, momentum=0.0, masks=None):
        """One step of gradient descent on one mini-batch, with backpropagation.
        `n` is the size of the whole training set (it scales the
        regularisation); `masks`, with dropout, a bytes of one 0/1 per hidden
        neuron per example."""
        mini_batch = list(mini_batch)
        if not mini_batch:
            raise ArgumentError("mini_batch: empty")
        check_params(self)
        check_data(mini_batch, self.sizes, "mini_batch", labelled=False)
        for value, name in ((eta, "eta"), (lmbda, "lmbda"), (l1, "l1"), (momentum, "momentum")):
            check_number(value, name)
        check_count(n, "n", minimum=1)
        run = self._trainer(mini_batch, n, float(lmbda), float(l1), float(momentum))
        run.epoch(list(range(len(mini_batch))), len(mini_batch), float(eta), None, masks)

    def _update(self, mini_batch, masks, eta, lmbda, l1, momentum, n, velocities):
        """The Python twin of the C core's pn_train2 for one mini-batch:
        `masks` is a list (per example) of per-hidden-layer masks or None."""
        nabla_b = [[0.0] * len(b) for b in self.biases]
        nabla_w = [[[0.0] * len(w_j) for w_j in w] for w in self.weights]
        for (x, y), mask in zip(mini_batch, masks):
            delta_nabla_b, delta_nabla_w = self.backprop(x, y, mask)
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
            return
        # Momentum: v -> mu v - eta * (gradient of the regularised cost); w -> w + v.
        vw, vb = velocities
        l2, l1n = lmbda / n, l1 / n
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
        """Return (nabla_b, nabla_w), the gradient of the cost C_x for one
        example, layer by layer.  `mask` (dropout) lists, for each hidden
        layer, which neurons are kept (1) or dropped (0)."""
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

    def save(self, filename):
        """Save the network to `filename` as JSON the book's network2.load reads
        (see save_network)."""
        save_network(self, filename)

    #### Helpers

    def _trainer(self, training_data, n, lmbda, l1, momentum):
        if self.backend != "reference":
            return load_core(self.backend).trainer2(self, training_data, n, lmbda, l1, momentum)
        return _PythonTrainer(self, training_data, n, lmbda, l1, momentum)


def _step(w, nw, decay, shrink, rate):
    """One weight's plain update (no momentum): decay w, step towards 0 for L1, descend."""
    w = decay * w
    if shrink != 0.0:
        w = w - shrink * _sign(w)
    return w - rate * nw


def _velocity(v, w, nw, momentum, eta, rate, l2, l1n):
    """One weight's new velocity: mu v - eta (lmbda/n) w - eta (l1/n) sgn(w) - (eta/m) nabla_w."""
    gradient = l2 * w
    if l1n != 0.0:
        gradient = gradient + l1n * _sign(w)
    return momentum * v - eta * gradient - rate * nw


class _PythonTrainer:
    """SGD's epochs in Python, for one training run."""

    def __init__(self, net, training_data, n, lmbda, l1, momentum):
        self.net = net
        self.training_data = training_data
        self.n, self.lmbda, self.l1, self.momentum = n, lmbda, l1, momentum
        self.velocities = None
        if momentum:
            self.velocities = ([[[0.0] * len(w_j) for w_j in w] for w in net.weights],
                               [[0.0] * len(b) for b in net.biases])

    def epoch(self, order, mini_batch_size, eta, progress=None, masks=None, start=0, stop=None):
        """One pass over the training data in mini-batches taken in `order`,
        from position `start`; `masks` (dropout) holds one byte per hidden
        neuron per position.  Returns the positions done: all of them, or
        fewer when stop() said to stop after a mini-batch."""
        net = self.net
        hidden = net.sizes[1:-1]
        size = sum(hidden)
        total = len(order)
        if progress is not None:
            progress(start, total)
        for k in range(start, total, mini_batch_size):
            positions = range(k, min(k + mini_batch_size, total))
            mini_batch = [self.training_data[order[i]] for i in positions]
            batch_masks = [_split_mask(masks[i * size:(i + 1) * size], hidden) if masks else None
                           for i in positions]
            net._update(mini_batch, batch_masks, eta, self.lmbda, self.l1, self.momentum, self.n,
                        self.velocities)
            if progress is not None:
                progress(positions[-1] + 1, total)
            if stop is not None and positions[-1] + 1 < total and stop():
                return positions[-1] + 1
        return total

    def get_velocity(self):
        """The momentum velocities (weights, biases) as nested lists, or None."""
        return copy_velocity(self.velocities)

    def set_velocity(self, weights, biases):
        self.velocities = copy_velocity((weights, biases))


class _PythonExamples:
    """Examples to measure a network on, in Python.  `labelled`: y is the
    class number (validation, test); otherwise y is the desired output."""

    def __init__(self, net, data, labelled):
        self.net, self.data, self.n = net, data, len(data)
        n_out = net.sizes[-1]
        self.ys = [vectorized_result(y, n_out) for _, y in data] if labelled else [y for _, y in data]
        self.labels = [y for _, y in data] if labelled else [argmax(y) for _, y in data]

    def accuracy(self):
        correct = 0
        for (x, _), label in zip(self.data, self.labels):
            correct += int(argmax(self.net.feedforward(x)) == label)
        return correct

    def costs(self):
        return [self.net.cost.fn(self.net.feedforward(x), y) for (x, _), y in zip(self.data, self.ys)]


def copy_velocity(velocity):
    """A copy, as floats, of velocities (weights, biases) shaped like the parameters; None stays None."""
    if velocity is None:
        return None
    vw, vb = velocity
    return [[[float(x) for x in v_j] for v_j in v] for v in vw], [[float(x) for x in v] for v in vb]


def _split_mask(flat, hidden):
    """One example's mask bytes as a list of per-hidden-layer lists."""
    out, start = [], 0
    for size in hidden:
        out.append(flat[start:start + size])
        start += size
    return out


def _watched(evaluation_accuracy, evaluation_cost, training_accuracy, training_cost):
    for on, name in ((evaluation_accuracy, "evaluation_accuracy"), (evaluation_cost, "evaluation_cost"),
                     (training_accuracy, "training_accuracy"), (training_cost, "training_cost")):
        if on:
            return name
    return None


#### Model files

def save_network(net, filename):
    """Save `net` (a network2 or chapter-1 Network) to `filename` as JSON.

    The book's keys -- sizes, weights, biases as (n, 1) columns, cost -- so
    the book's network2.load reads it, plus purenn's own (format, version,
    activation, dropout).  Floats are written so that they read back
    exactly.  The file is written beside its destination and renamed into
    place: an interrupted save leaves the old file, never half a new one.
    """
    write_text(filename, json.dumps(network_dict(net, filename)), suffix=".json")


def network_dict(net, filename):
    """The JSON object save_network writes; ArgumentError naming `filename`
    if a weight or bias is not finite."""
    for w in net.weights:
        for w_j in w:
            for w_jk in w_j:
                if not math.isfinite(w_jk):
                    raise ArgumentError("{}: the network has non-finite weights; not saving it".format(filename))
    for b in net.biases:
        for b_j in b:
            if not math.isfinite(b_j):
                raise ArgumentError("{}: the network has non-finite biases; not saving it".format(filename))
    cost = getattr(net, "cost", QuadraticCost)  # the chapter-1 network's cost is quadratic
    return {
        "sizes": list(net.sizes),
        "weights": [[[float(v) for v in w_j] for w_j in w] for w in net.weights],
        "biases": [[[float(b_j)] for b_j in b] for b in net.biases],  # the book's (n, 1) columns
        "cost": cost.__name__,
        "format": "purenn-network",
        "version": 1,
        "activation": getattr(net, "activation", "sigmoid"),
        "dropout": getattr(net, "dropout", 0.0),
    }

#### Loading a network

def load(filename, *, backend=None):
    """Load a network saved by `Network.save` -- or by the book's network2.save."""
    filename = os.fspath(filename)
    return network_from_dict(filename, read_json(filename), backend)


def read_json(filename):
    """The JSON document in `filename`; ModelFileError if it cannot be read as one."""
    try:
        with open(filename) as f:
            return json.load(f)
    except OSError as e:
        raise ModelFileError(filename, "cannot open: {}".format(e.strerror or e)) from None
    except (ValueError, RecursionError) as e:
        raise ModelFileError(filename, "not JSON: {}".format(json_problem(e))) from None


def json_problem(e):
    """What json.load said was wrong, as plain ASCII text.  Never the error
    object itself: PyPy 3.9's decoder can cut a non-ASCII character in half in
    its message, and formatting that string crashes the interpreter."""
    if isinstance(e, RecursionError):
        return "nested too deeply"
    if isinstance(e, UnicodeDecodeError):
        return "not UTF-8 text (byte {} of the file)".format(e.start)
    if isinstance(e, json.JSONDecodeError):
        return "{} (line {}, column {})".format(ascii(e.msg)[1:-1], e.lineno, e.colno)
    return ascii(str(e))[1:-1]


def network_from_dict(filename, data, backend=None):
    """The Network a JSON object from a model file describes (`filename` for errors)."""
    if not isinstance(data, dict):
        raise ModelFileError(filename, "expected a JSON object with sizes, weights, biases, cost")
    for key in ("sizes", "weights", "biases", "cost"):
        if key not in data:
            raise ModelFileError(filename, "missing the key {!r}".format(key))
    if not isinstance(data["cost"], str) or data["cost"] not in COSTS:
        raise ModelFileError(filename, "unknown cost {!r}; expected one of {}".format(
            data["cost"], ", ".join(COSTS)))
    activation = data.get("activation", "sigmoid")
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ModelFileError(filename, "unknown activation {!r}; expected one of {}".format(
            activation, ", ".join(ACTIVATIONS)))
    sizes = data["sizes"]
    if (not isinstance(sizes, list) or len(sizes) < 2
            or not all(is_whole_number(s, 1) for s in sizes)):
        raise ModelFileError(filename, "sizes must be a list of at least two positive whole numbers")
    dropout = data.get("dropout", 0.0)
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
        raise ModelFileError(filename, "dropout {!r} is not a probability from 0 up to (not including) 1".format(
            dropout))
    # The shapes first: they are checked against what the file holds, so that
    # sizes promising a huge network in a small file fail before anything big
    # is allocated.
    weights = _matrices(filename, data["weights"], sizes)
    biases = _columns(filename, data["biases"], sizes)
    net = Network(sizes, cost=COSTS[data["cost"]], activation=activation, seed=0, backend=backend,
                  dropout=float(dropout))
    net.weights, net.biases = weights, biases
    return net


def _number(filename, value, where):
    if not is_finite_number(value):
        text = repr(value) if len(repr(value)) < 40 else repr(value)[:30] + "..."
        raise ModelFileError(filename, "{} is {}, not a finite number".format(where, text))
    return float(value)


def _matrices(filename, weights, sizes):
    if not isinstance(weights, list) or len(weights) != len(sizes) - 1:
        raise ModelFileError(filename, "weights: expected {} matrices for sizes {}".format(len(sizes) - 1, sizes))
    out = []
    for l, (w, n_in, n_out) in enumerate(zip(weights, sizes[:-1], sizes[1:])):
        if not isinstance(w, list) or len(w) != n_out or not all(
                isinstance(row, list) and len(row) == n_in for row in w):
            raise ModelFileError(filename, "weights[{}]: expected {} x {} for sizes {}".format(l, n_out, n_in, sizes))
        out.append([[_number(filename, v, "weights[{}][{}][{}]".format(l, j, k)) for k, v in enumerate(row)]
                    for j, row in enumerate(w)])
    return out


def _columns(filename, biases, sizes):
    if not isinstance(biases, list) or len(biases) != len(sizes) - 1:
        raise ModelFileError(filename, "biases: expected {} vectors for sizes {}".format(len(sizes) - 1, sizes))
    out = []
    for l, (b, n_out) in enumerate(zip(biases, sizes[1:])):
        if not isinstance(b, list) or len(b) != n_out:
            raise ModelFileError(filename, "biases[{}]: expected {} entries for sizes {}".format(l, n_out, sizes))
        column = []
        for j, entry in enumerate(b):
            # The book writes each bias vector as an (n, 1) column: [[b0], [b1], ...].
            if isinstance(entry, list) and len(entry) == 1:
                entry = entry[0]
            column.append(_number(filename, entry, "biases[{}][{}]".format(l, j)))
        out.append(column)
    return out
