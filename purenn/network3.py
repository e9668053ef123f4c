"""network3.py -- the network of the book's chapter 6 (convolution, max-pooling,
softmax and dropout layers), in plain Python: no Theano, no NumPy.

The book's network3.py builds its layers as Theano expressions and lets
Theano find the gradients.  Here each layer is written out: its forward pass
and its backward pass (backpropagation, by hand) side by side, as loops with
a fixed order of sums, so that this module is the specification of the C
core's twin (csrc/network3.c).  It favours clarity over speed: the book's
first convolutional network (20 5 x 5 filters, 100 neurons, softmax) trains
at about 0.12 s an image in CPython -- well over an hour an epoch of MNIST's
50,000; the C core, bit for bit the same, at about 0.17 ms an image in SGD on
one thread (`python -m purenn bench3` measures both).

    book                                        here
    Network(layers, mini_batch_size)            the same
    ConvPoolLayer(filter_shape, image_shape,    the same; a true (flipped-kernel) valid
        poolsize=(2, 2), activation_fn=sigmoid)   convolution, max-pooling, border ignored
    FullyConnectedLayer(n_in, n_out,            the same; weights="n_in" gives the
        activation_fn=sigmoid, p_dropout=0.0)     initialisation the book meant
    SoftmaxLayer(n_in, n_out, p_dropout=0.0)    the same
    linear, ReLU, sigmoid, tanh                 functions of one number
    load_data_shared(filename)                  [(images, labels)] * 3 as plain lists
    size(data)                                  the number of examples in (images, labels)
    net.SGD(training_data, epochs,              the same loop and printout; shuffle=True
        mini_batch_size, eta, validation_data,    a documented option (the book never
        test_data, lmbda=0.0)                     shuffles); stop, resume, progress and
                                                  checkpoint hooks for long runs
    net.save(filename), load(filename)          (beyond the book) JSON model files

What the book's code does and this module does the same way:

*   Mini-batches are taken in the data's order, the remainder dropped; the
    validation and test accuracies are the mean of the accuracies of their
    full mini-batches (the remainder dropped there too).
*   The cost of a mini-batch is the mean of -ln a_y over its examples plus
    0.5 * lmbda * (the sum of every layer's squared weights, no biases) /
    num_training_batches; each step is w -> w - eta * (its gradient).
*   Dropout (FullyConnectedLayer, SoftmaxLayer): while training, a layer's
    input is multiplied by a 0/1 mask, each entry kept with probability
    1 - p_dropout, without rescaling; in use (validation, test,
    feedforward) the layer computes (1 - p_dropout) * (w . a) + b.  The
    masks come from the network's generator (the book's dropout_layer made a
    new Theano stream, seeded alike, for every layer).

Where the book leaves a choice to Theano, this module decides, and says so:

*   The convolution is a true one, as Theano's conv.conv2d (ConvOp, which
    calls scipy's convolve2d): the kernel is flipped,
        conv[f][r][c] = sum over ch, u, v of
                        x[ch][r + u][c + v] * w[f][ch][fh - 1 - u][fw - 1 - v],
    so that the book's trained weights give the book's outputs.  (Random
    weights are symmetric under the flip, so training does not notice.)
*   Max-pooling ties: the first maximum in row-major order of the pool wins,
    and it alone receives the gradient -- the gradient of the maximum that
    the forward pass chose.  (Theano's pooling gradient gives it to every
    input equal to the maximum, so on a tie -- a blank part of an image --
    the two differ.)
*   ReLU'(0) is 0 (Theano's maximum(0, z) would give 1 at exactly 0);
    ReLU(NaN) is 0.0, as in purenn.network2.
*   Parameters are drawn when the Network is made, layer by layer (w, then
    b), from random.Random(seed) -- or, without a seed, from the random
    module's generator, as the book draws from NumPy's.  A layer's w is
    stored n_out x n_in (purenn's way; the book's Theano w is n_in x n_out).

Shapes, for one example (the book's Theano tensors have a leading
mini-batch axis; here a mini-batch is a list of examples):
    FullyConnectedLayer, SoftmaxLayer
        w   n_out x n_in        w[j][k] the weight from input k to neuron j
        b   n_out
    ConvPoolLayer, filter_shape (F, C, fh, fw), image_shape (m, C, H, W),
    poolsize (ph, pw); OH = H - fh + 1, OW = W - fw + 1; PH = OH // ph, PW = OW // pw
        w      F x C x fh x fw  w[f][ch][u][v]
        b      F                one bias per filter, added after pooling
        input  C*H*W            x[ch*H*W + r*W + c]: the maps one after another, row by row
        conv   F*OH*OW          the same layout; output F*PH*PW, likewise
The first layer reads each image (a 784-list, as purenn.mnist_loader gives
it) as image_shape's C x H x W; a layer reads the previous one's output.

`backend`: "reference" runs this module as written; "c" the C core's twin
(csrc/network3.c, glue purenn/backends/cnetwork3.py), the same numbers bit
for bit -- update_mini_batch, SGD, feedforward and accuracy run there, while
gradient, cost and backprop stay this code; "auto" is "c" when the core is
built, else the reference.  None reads $PURENN_BACKEND (unset: auto), where
"python" means the reference; backend="python" (purenn's name for the
Python engine, which has no network3) is a BackendError, as is "c" where the
core is not built.  A subclass that overrides a method of BOOK_METHODS, a
layer of a class of its own, or this module changed since its twins were
checked (purenn.backends.mirrored) runs on the reference under auto, and is
refused "c" asked for by name.

    >>> net = Network([FullyConnectedLayer(n_in=4, n_out=3), SoftmaxLayer(n_in=3, n_out=2)], 1, seed=0)
    >>> [len(layer.w) for layer in net.layers], [len(layer.w[0]) for layer in net.layers]
    ([3, 2], [4, 3])
    >>> net.feedforward([0.0, 1.0, 0.5, 0.25])   # the softmax layer starts at zero
    [0.5, 0.5]
"""

import math
import os

from .backends import changed_code, choose_threads, core_status, fast_backend
from .elementary import gauss, log
from .errors import ArgumentError, BackendError, ModelFileError
from .files.modelfile import read_json
from .files.network3file import parse_network3, save_network3
from .linalg import argmax, dot, one_hot, transpose_times, weighted_inputs
from .mnist_loader import load_data
from .network import shared_rng, sigmoid
from .network2 import softmax, tanh
from .training.checks import as_label, check_count, check_number, check_numbers, is_whole_number
from .training.run3 import Run3

__all__ = ["Network", "ConvPoolLayer", "FullyConnectedLayer", "SoftmaxLayer", "linear", "ReLU", "sigmoid", "tanh",
           "load_data_shared", "size", "convolve", "max_pool", "load", "network_from_dict"]


#### Activation functions for neurons (sigmoid is purenn.network's, tanh purenn.network2's)

def linear(z):
    return z


def ReLU(z):
    """max(0, z), as the book's T.maximum(0.0, z); NaN gives 0.0."""
    return z if z > 0.0 else 0.0


# Each activation's derivative, given z and a = f(z): the backward pass uses
# whichever is cheaper.
def _linear_prime(z, a):
    return 1.0


def _relu_prime(z, a):
    return 1.0 if z > 0.0 else 0.0


def _sigmoid_prime(z, a):
    return a * (1.0 - a)


def _tanh_prime(z, a):
    return 1.0 - a * a


#: activation_fn -> its derivative f'(z), as a function of (z, a = f(z))
PRIMES = {linear: _linear_prime, ReLU: _relu_prime, sigmoid: _sigmoid_prime, tanh: _tanh_prime}


#### Load the MNIST data

def load_data_shared(filename=None):
    """[training_data, validation_data, test_data], each (images, labels):
    images a list of 784-lists in [0, 1), labels a list of ints -- what SGD
    takes.  `filename` is a directory of MNIST's IDX files or the book's
    mnist.pkl.gz (purenn.mnist_loader.load_data); None, the bundled MNIST.
    The book placed them in Theano shared variables for the GPU; here they
    stay Python lists."""
    return [(list(images), list(labels)) for images, labels in load_data(filename)]


def size(data):
    "Return the size of the dataset `data`, a pair (images, labels)."
    return len(data[0])


#### The arithmetic of the convolutional layer: each function here has a twin in csrc/network3.c

def convolve(inpt, w, maps, rows, cols):
    """The valid convolution of the `maps` x `rows` x `cols` input (flat) with
    each filter of w (F x maps x fh x fw), the kernel flipped as in Theano's
    conv2d: F*OH*OW numbers, OH = rows - fh + 1, OW = cols - fw + 1.  Each
    sum starts at 0.0 and adds over ch, u, v ascending -- the input's order --
    leaving out zero inputs, as purenn.linalg.dot does."""
    fh, fw = len(w[0][0]), len(w[0][0][0])
    out = []
    for w_f in w:                                   # C x fh x fw
        for r in range(rows - fh + 1):
            for c in range(cols - fw + 1):
                total = 0.0
                for ch in range(maps):
                    for u in range(fh):
                        start = ch * rows * cols + (r + u) * cols + c   # x[ch][r + u][c]
                        w_row = w_f[ch][fh - 1 - u]                     # the flipped kernel's row
                        for v in range(fw):
                            x = inpt[start + v]
                            if x != 0.0:
                                total += x * w_row[fw - 1 - v]
                out.append(total)
    return out


def max_pool(conv, maps, rows, cols, ph, pw):
    """Max-pooling of the `maps` x `rows` x `cols` maps (flat) in ph x pw
    pools, the border that does not fill a pool ignored: (pooled, winners),
    each maps*(rows // ph)*(cols // pw) long, winners[p] the index into conv
    of pooled[p].  On a tie the first maximum in row-major order wins (a
    later value must be greater)."""
    pooled, winners = [], []
    for f in range(maps):
        for i in range(rows // ph):
            for j in range(cols // pw):
                best = f * rows * cols + i * ph * cols + j * pw   # the pool's top-left corner
                for u in range(ph):
                    for v in range(pw):
                        k = f * rows * cols + (i * ph + u) * cols + j * pw + v
                        if conv[k] > conv[best]:
                            best = k
                pooled.append(conv[best])
                winners.append(best)
    return pooled, winners


def convolve_backward(inpt, w, maps, rows, cols, delta_conv, nabla_w, grad_in):
    """The backward pass of `convolve`, for dC/dconv given only where it is
    not zero: `delta_conv` lists (k, d), k an index into conv (F*OH*OW), in
    the order of the pools.  Adds d * x into nabla_w (F x maps x fh x fw, the flipped
    position), and -- if grad_in (maps*rows*cols) is not None -- d * w into
    grad_in, dC/dinput.  Zero inputs are left out, as in convolve."""
    fh, fw = len(w[0][0]), len(w[0][0][0])
    oh, ow = rows - fh + 1, cols - fw + 1
    for k, d in delta_conv:
        f, r, c = k // (oh * ow), (k // ow) % oh, k % ow
        for ch in range(maps):
            for u in range(fh):
                start = ch * rows * cols + (r + u) * cols + c
                nw_row = nabla_w[f][ch][fh - 1 - u]
                for v in range(fw):
                    x = inpt[start + v]
                    if x != 0.0:
                        nw_row[fw - 1 - v] += d * x
                if grad_in is not None:
                    w_row = w[f][ch][fh - 1 - u]
                    for v in range(fw):
                        grad_in[start + v] += d * w_row[fw - 1 - v]


#### Define layer types

class ConvPoolLayer:
    """A convolutional layer and a max-pooling layer, used together (as the
    book: it simplifies the code).  `filter_shape` is (number of filters,
    number of input feature maps, filter height, filter width);
    `image_shape` (mini-batch size, input feature maps, image height, image
    width); `poolsize` (rows, columns) of a pool.  Output: activation_fn(the
    pooled convolution + the filter's bias).  No dropout."""

    p_dropout = 0.0

    def __init__(self, filter_shape, image_shape, poolsize=(2, 2), activation_fn=sigmoid):
        self.filter_shape = _whole_numbers(filter_shape, 4, "filter_shape")
        self.image_shape = _whole_numbers(image_shape, 4, "image_shape")
        self.poolsize = _whole_numbers(poolsize, 2, "poolsize")
        self.activation_fn = _activation(activation_fn)
        n_filters, maps, fh, fw = self.filter_shape
        _, image_maps, rows, cols = self.image_shape
        if maps != image_maps:
            raise ArgumentError("filter_shape: filters of {} input maps, but image_shape has {}".format(
                maps, image_maps))
        if fh > rows or fw > cols:
            raise ArgumentError("filter_shape: a {} x {} filter does not fit in a {} x {} image".format(
                fh, fw, rows, cols))
        self.conv_shape = (rows - fh + 1, cols - fw + 1)                           # OH, OW
        self.pooled_shape = (self.conv_shape[0] // self.poolsize[0], self.conv_shape[1] // self.poolsize[1])
        if 0 in self.pooled_shape:
            raise ArgumentError("poolsize: {!r} is larger than the {} x {} convolution".format(
                self.poolsize, *self.conv_shape))
        self.n_in = maps * rows * cols
        self.n_out = n_filters * self.pooled_shape[0] * self.pooled_shape[1]
        self.w = self.b = None  # drawn by the Network (init_params)

    def __repr__(self):
        return "ConvPoolLayer(filter_shape={}, image_shape={}, poolsize={}, activation_fn={})".format(
            self.filter_shape, self.image_shape, self.poolsize, self.activation_fn.__name__)

    @property
    def params(self):
        return [self.w, self.b]

    def init_params(self, rng):
        """Weights Gaussian, mean 0, standard deviation sqrt(1/n_out) with
        n_out = filters * fh * fw / (pool area), as the book; biases N(0, 1)."""
        n_filters, maps, fh, fw = self.filter_shape
        n_out = n_filters * fh * fw / (self.poolsize[0] * self.poolsize[1])
        scale = math.sqrt(1.0 / n_out)
        self.w = [[[[gauss(rng, 0.0, scale) for v in range(fw)] for u in range(fh)] for ch in range(maps)]
                  for f in range(n_filters)]
        self.b = [gauss(rng, 0.0, 1.0) for f in range(n_filters)]

    def zero_gradient(self):
        n_filters, maps, fh, fw = self.filter_shape
        return ([[[[0.0] * fw for u in range(fh)] for ch in range(maps)] for f in range(n_filters)],
                [0.0] * n_filters)

    def forward(self, inpt, mask=None):
        """(output, cache) for one example: inpt n_in, output n_out = F*PH*PW."""
        n_filters, maps, fh, fw = self.filter_shape
        rows, cols = self.image_shape[2:]
        conv = convolve(inpt, self.w, maps, rows, cols)                     # F*OH*OW
        pooled, winners = max_pool(conv, n_filters, self.conv_shape[0], self.conv_shape[1], *self.poolsize)
        per_filter = self.pooled_shape[0] * self.pooled_shape[1]
        z = [p + self.b[i // per_filter] for i, p in enumerate(pooled)]   # F*PH*PW
        a = [self.activation_fn(z_i) for z_i in z]
        return a, (inpt, z, a, winners)

    def feedforward(self, inpt):
        return self.forward(inpt)[0]

    def delta(self, cache, grad):
        """dC/dz from dC/da = grad: grad * f'(z)."""
        _, z, a, _ = cache
        prime = PRIMES[self.activation_fn]
        return [g * prime(z_i, a_i) for g, z_i, a_i in zip(grad, z, a)]

    def backward(self, cache, delta, nabla_w, nabla_b, want_grad_in):
        """Add this example's dC/dw and dC/db (delta = dC/dz, F*PH*PW) into
        nabla_w and nabla_b; return dC/dinput (n_in), or None if not wanted."""
        inpt, _, _, winners = cache
        per_filter = self.pooled_shape[0] * self.pooled_shape[1]
        for i, d in enumerate(delta):
            nabla_b[i // per_filter] += d      # z = pooled + b[f]: every pooled value of filter f
        # dC/dconv is delta at each pool's winner and 0 elsewhere (each conv
        # value is in one pool at most, so no two entries share a k).
        delta_conv = [(k, d) for k, d in zip(winners, delta) if d != 0.0]
        grad_in = [0.0] * self.n_in if want_grad_in else None
        maps, rows, cols = self.image_shape[1:]
        convolve_backward(inpt, self.w, maps, rows, cols, delta_conv, nabla_w, grad_in)
        return grad_in


class _DenseLayer:
    """What FullyConnectedLayer and SoftmaxLayer share: z = w a + b, with dropout on the input a."""

    def __init__(self, n_in, n_out, p_dropout):
        check_count(n_in, "n_in", minimum=1)
        check_count(n_out, "n_out", minimum=1)
        if isinstance(p_dropout, bool) or not isinstance(p_dropout, (int, float)) or not 0.0 <= p_dropout < 1.0:
            raise ArgumentError("p_dropout: {!r} is not a probability from 0 up to (not including) 1".format(
                p_dropout))
        self.n_in, self.n_out, self.p_dropout = n_in, n_out, float(p_dropout)
        self.w = self.b = None  # drawn by the Network (init_params)

    @property
    def params(self):
        return [self.w, self.b]

    def zero_gradient(self):
        return [[0.0] * self.n_in for j in range(self.n_out)], [0.0] * self.n_out

    def forward(self, inpt, mask=None):
        """(output, cache) while training: inpt n_in; mask None, or n_in 0/1 (dropout)."""
        if mask is not None:
            inpt = [a_k if kept else 0.0 for a_k, kept in zip(inpt, mask)]   # the book's inpt * mask
        z = weighted_inputs(self.w, inpt, self.b)                               # n_out
        a = self.activate(z)
        return a, (inpt, z, a, mask)

    def feedforward(self, inpt):
        """The output in use: (1 - p_dropout) * (w . a) + b, as the book (exactly w . a + b without dropout)."""
        keep = 1.0 - self.p_dropout
        return self.activate([keep * dot(w_j, inpt) + b_j for w_j, b_j in zip(self.w, self.b)])

    def backward(self, cache, delta, nabla_w, nabla_b, want_grad_in):
        """Add this example's dC/dw = delta a^T and dC/db = delta (delta =
        dC/dz, n_out) into nabla_w and nabla_b; return dC/dinput (n_in, zero
        where the mask dropped the input), or None if not wanted."""
        inpt, _, _, mask = cache
        for j, d in enumerate(delta):
            nabla_b[j] += d
            nw_j = nabla_w[j]
            for k, a_k in enumerate(inpt):
                if a_k != 0.0:          # adds nothing, as purenn.linalg.outer's -0.0
                    nw_j[k] += d * a_k
        if not want_grad_in:
            return None
        grad_in = transpose_times(self.w, delta)
        if mask is not None:
            grad_in = [g if kept else 0.0 for g, kept in zip(grad_in, mask)]
        return grad_in


class FullyConnectedLayer(_DenseLayer):
    """n_out neurons, each taking all n_in inputs: activation_fn(w a + b).

    Weights Gaussian with mean 0 and standard deviation sqrt(1/n_out), as the
    book's code has it; its note of 2016 says sqrt(1/n_in) was meant:
    weights="n_in" gives that.  Biases N(0, 1)."""

    def __init__(self, n_in, n_out, activation_fn=sigmoid, p_dropout=0.0, *, weights="n_out"):
        super().__init__(n_in, n_out, p_dropout)
        self.activation_fn = _activation(activation_fn)
        if weights not in ("n_out", "n_in"):
            raise ArgumentError('weights: {!r} is not "n_out" (the book\'s code) or "n_in" (its note)'.format(
                weights))
        self.weights = weights

    def __repr__(self):
        return "FullyConnectedLayer(n_in={}, n_out={}, activation_fn={}, p_dropout={})".format(
            self.n_in, self.n_out, self.activation_fn.__name__, self.p_dropout)

    def init_params(self, rng):
        scale = math.sqrt(1.0 / (self.n_out if self.weights == "n_out" else self.n_in))
        self.w = [[gauss(rng, 0.0, scale) for k in range(self.n_in)] for j in range(self.n_out)]
        self.b = [gauss(rng, 0.0, 1.0) for j in range(self.n_out)]

    def activate(self, z):
        return [self.activation_fn(z_j) for z_j in z]

    def delta(self, cache, grad):
        """dC/dz from dC/da = grad: grad * f'(z)."""
        _, z, a, _ = cache
        prime = PRIMES[self.activation_fn]
        return [g * prime(z_j, a_j) for g, z_j, a_j in zip(grad, z, a)]


class SoftmaxLayer(_DenseLayer):
    """The output layer: softmax(w a + b), with the log-likelihood cost
    -ln a_y.  Weights and biases start at zero, as the book."""

    def __repr__(self):
        return "SoftmaxLayer(n_in={}, n_out={}, p_dropout={})".format(self.n_in, self.n_out, self.p_dropout)

    def __init__(self, n_in, n_out, p_dropout=0.0):
        super().__init__(n_in, n_out, p_dropout)

    def init_params(self, rng):
        self.w = [[0.0] * self.n_in for j in range(self.n_out)]
        self.b = [0.0] * self.n_out

    def activate(self, z):
        return softmax(z)

    def cost(self, a, y):
        """The log-likelihood cost -ln a_y of output a for the digit y."""
        return -log(a[y]) if a[y] > _TINY else -log(_TINY)

    def output_delta(self, a, y):
        """dC/dz for C = -ln a_y of a = softmax(z): a - e_y."""
        return [a_j - e_j for a_j, e_j in zip(a, one_hot(y, self.n_out))]


# The smallest argument given to log (as purenn.network2: a cost stays finite).
_TINY = 1e-300

LAYER_TYPES = (ConvPoolLayer, FullyConnectedLayer, SoftmaxLayer)


#### Main class used to construct and train networks

class Network:
    """A network of `layers` (ConvPoolLayer, FullyConnectedLayer, and a
    SoftmaxLayer last), trained by SGD in mini-batches of `mini_batch_size`.

    Each layer's n_in must be the previous layer's n_out (a ConvPoolLayer's
    are maps x rows x cols in, filters x pooled rows x pooled columns out).
    The parameters are drawn now from random.Random(seed), layer by layer,
    or without a seed from the random module's generator; the dropout masks
    and shuffle=True draw from the same generator.  `backend`: see the module
    docstring.  `threads`: how many the C core runs on (None: $PURENN_THREADS,
    else every processor this process may use); the reference runs on one,
    and the numbers are the same bit for bit whatever it is."""

    #: What the C core does in its own code.  A subclass that overrides one of
    #: these runs on the reference (see the module docstring).
    #: (SGD is not one: the C core runs its mini-batches only where update_mini_batch is purenn's.)
    BOOK_METHODS = ("feedforward", "update_mini_batch", "gradient", "backprop", "dropout_masks", "accuracy",
                    "_l2_term")

    def __init__(self, layers, mini_batch_size, *, seed=None, backend=None, threads=None):
        check_count(mini_batch_size, "mini_batch_size", minimum=1)
        self.layers = _check_layers(layers, mini_batch_size)
        self.mini_batch_size = mini_batch_size
        self.backend, self.backend_automatic = _choose_backend(backend, self)
        self.threads = choose_threads(threads)  # the C core's; the numbers are the same whatever it is
        self.seed = seed
        self.rng = shared_rng(seed)
        for layer in self.layers:
            layer.init_params(self.rng)

    @property
    def params(self):
        """[w, b] of every layer, in order (the book's net.params)."""
        return [param for layer in self.layers for param in layer.params]

    def feedforward(self, x):
        """The output (n_out of the last layer) for the input x, in use: no dropout masks."""
        core = self._core()
        if core is not None:
            return core.feedforward(self, x)
        a = x
        for layer in self.layers:
            a = layer.feedforward(a)
        return a

    def SGD(self, training_data, epochs, mini_batch_size, eta, validation_data, test_data=None, lmbda=0.0, *,
            shuffle=False, stop=None, progress=None, checkpoint=None, resume=None):
        """Train the network using mini-batch stochastic gradient descent.

        Each data set is a pair (images, labels), as load_data_shared gives
        them; test_data may be None.  Prints as the book does; returns
        (best validation accuracy, its iteration, the test accuracy then --
        None without test_data).  shuffle=True (beyond the book) shuffles the
        order of the training examples before each epoch, with the network's
        generator.  Beyond the book too, for long runs (purenn.training.run3):
        before each mini-batch, progress(done, total) is told, checkpoint(snapshot)
        offered a snapshot and stop() asked -- if it says yes, TrainingInterrupted
        carries the state from which SGD(..., resume=state) ends bit for bit
        where an uninterrupted run would, printing what it would have printed."""
        (training_x, training_y), validation_data, test_data = self._check_sgd(
            training_data, epochs, mini_batch_size, eta, validation_data, test_data, lmbda)

        # compute number of minibatches for training (the remainder is dropped)
        num_training_batches = size(training_data) // mini_batch_size
        order = list(range(size(training_data)))
        settings = {"n": size(training_data), "mini_batch_size": mini_batch_size, "eta": float(eta),
                    "lmbda": float(lmbda), "shuffle": bool(shuffle)}
        run = Run3(self, settings, epochs, num_training_batches, order, stop=stop, progress=progress,
                   checkpoint=checkpoint, resume=resume)

        # Do the actual training (on the C core: the data packed once, a call per mini-batch)
        core = self._core()
        trainer = core.Trainer(self, training_x, training_y) if core is not None else None
        best_validation_accuracy, best_iteration, test_accuracy = run.best

        def snapshot():  # for a stop or a checkpoint: the weights in the layers' lists, the best so far
            if trainer is not None:
                trainer.end_epoch()
            return best_validation_accuracy, best_iteration, test_accuracy

        for epoch in run.epochs():  # from the epoch a resumed run stopped in
            if shuffle and run.shuffles():
                self.rng.shuffle(order)
            for minibatch_index in run.mini_batches(snapshot):
                iteration = num_training_batches * epoch + minibatch_index
                if iteration % 1000 == 0:
                    print("Training mini-batch number {0}".format(iteration), flush=True)
                batch = order[minibatch_index * mini_batch_size:(minibatch_index + 1) * mini_batch_size]
                if trainer is not None:
                    masks = [self.dropout_masks() for i in batch] if self.dropout else None
                    trainer.update_mini_batch(batch, eta, lmbda, num_training_batches, masks)
                else:
                    self.update_mini_batch([training_x[i] for i in batch], [training_y[i] for i in batch], eta,
                                           lmbda, num_training_batches)
                if (iteration + 1) % num_training_batches == 0:
                    if trainer is not None:
                        trainer.end_epoch()  # the weights back into the layers' lists
                    validation_accuracy = self.accuracy(validation_data)
                    print("Epoch {0}: validation accuracy {1:.2%}".format(epoch, validation_accuracy), flush=True)
                    if validation_accuracy >= best_validation_accuracy:
                        print("This is the best validation accuracy to date.")
                        best_validation_accuracy = validation_accuracy
                        best_iteration = iteration
                        if test_data is not None:
                            test_accuracy = self.accuracy(test_data)
                            print("The corresponding test accuracy is {0:.2%}".format(test_accuracy), flush=True)
        print("Finished training network.")
        print("Best validation accuracy of {0:.2%} obtained at iteration {1}".format(
            best_validation_accuracy, best_iteration))
        if test_data is not None:
            print("Corresponding test accuracy of {0:.2%}".format(test_accuracy), flush=True)
        return best_validation_accuracy, best_iteration, test_accuracy

    def _check_sgd(self, training_data, epochs, mini_batch_size, eta, validation_data, test_data, lmbda):
        """SGD's arguments checked: the three data sets as _data gives them (test_data may be None)."""
        data = [self._data(training_data, "training_data"), self._data(validation_data, "validation_data"),
                self._data(test_data, "test_data") if test_data is not None else None]
        check_count(epochs, "epochs", minimum=1)
        check_number(eta, "eta")
        check_number(lmbda, "lmbda")
        if lmbda < 0:
            raise ArgumentError("lmbda: {!r} is negative; regularisation takes 0 or more".format(lmbda))
        if mini_batch_size != self.mini_batch_size:
            raise ArgumentError("mini_batch_size: {!r}, but the network was made for mini-batches of {}".format(
                mini_batch_size, self.mini_batch_size))
        return data

    def save(self, filename):
        """Save the network -- its layers, weights and mini-batch size -- to
        `filename` as JSON (purenn.files.network3file), atomically."""
        save_network3(self, filename)

    def update_mini_batch(self, xs, ys, eta, lmbda=0.0, num_training_batches=1):
        """One step of gradient descent on the mini-batch xs, ys (the book's
        train_mb): w -> w - eta * dC/dw for every weight and bias, with C the
        regularised cost (see gradient).  Dropout masks are drawn from the
        network's generator.  Returns the mini-batch's cost (the book's cost_ij)."""
        masks = [self.dropout_masks() for x in xs] if self.dropout else None
        core = self._core()
        if core is not None:
            return core.update_mini_batch(self, xs, ys, eta, lmbda, num_training_batches, masks)
        cost, nabla = self.gradient(xs, ys, lmbda, num_training_batches, masks)
        for layer, (nabla_w, nabla_b) in zip(self.layers, nabla):
            for w_row, nw_row in zip(_rows(layer.w), _rows(nabla_w)):
                for k, nw in enumerate(nw_row):
                    w_row[k] = w_row[k] - eta * nw
            for j, nb in enumerate(nabla_b):
                layer.b[j] = layer.b[j] - eta * nb
        return cost

    def gradient(self, xs, ys, lmbda=0.0, num_training_batches=1, masks=None):
        """(cost, nabla) for the mini-batch xs, ys: the cost
            C = (1/m) sum of -ln a_y + 0.5 * lmbda * sum of w^2 / num_training_batches
        and nabla, per layer (nabla_w, nabla_b) shaped as (w, b), its
        gradient.  `masks`: None, or for each example dropout_masks()'s list."""
        m = len(xs)
        nabla = [layer.zero_gradient() for layer in self.layers]
        total = 0.0
        for e, (x, y) in enumerate(zip(xs, ys)):
            total += self.backprop(x, y, nabla, masks[e] if masks is not None else None)
        l2 = lmbda / num_training_batches
        for layer, (nabla_w, nabla_b) in zip(self.layers, nabla):
            for w_row, nw_row in zip(_rows(layer.w), _rows(nabla_w)):
                for k, nw in enumerate(nw_row):
                    nw_row[k] = nw / m + l2 * w_row[k]
            for j, nb in enumerate(nabla_b):
                nabla_b[j] = nb / m
        return total / m + self._l2_term(lmbda, num_training_batches), nabla

    def cost(self, xs, ys, lmbda=0.0, num_training_batches=1, masks=None):
        """The cost C that gradient differentiates, by forward passes only."""
        total = 0.0
        for e, (x, y) in enumerate(zip(xs, ys)):
            a = x
            for l, layer in enumerate(self.layers):
                a = layer.forward(a, masks[e][l] if masks is not None else None)[0]
            total += self.layers[-1].cost(a, y)
        return total / len(xs) + self._l2_term(lmbda, num_training_batches)

    def backprop(self, x, y, nabla, masks=None):
        """Add the gradient of C_x = -ln a_y (for the input x, the digit y) into
        nabla (per layer (nabla_w, nabla_b)); return C_x.  `masks` is None or
        one mask (or None) per layer."""
        # forward, keeping what each layer's backward pass needs
        caches = []
        a = x
        for l, layer in enumerate(self.layers):
            a, cache = layer.forward(a, masks[l] if masks is not None else None)
            caches.append(cache)
        # backward: delta is dC/dz of layer l, grad dC/d(its input)
        delta = self.layers[-1].output_delta(a, y)
        for l in range(len(self.layers) - 1, -1, -1):
            nabla_w, nabla_b = nabla[l]
            grad = self.layers[l].backward(caches[l], delta, nabla_w, nabla_b, want_grad_in=l > 0)
            if l > 0:
                delta = self.layers[l - 1].delta(caches[l - 1], grad)
        return self.layers[-1].cost(a, y)

    @property
    def dropout(self):
        """Whether some layer drops inputs while training."""
        return any(layer.p_dropout for layer in self.layers)

    def dropout_masks(self):
        """One example's masks: per layer None (no dropout) or n_in 0/1, each
        1 (kept) with probability 1 - p_dropout, drawn in order from the
        network's generator."""
        draw = self.rng.random
        return [[1 if draw() >= layer.p_dropout else 0 for k in range(layer.n_in)] if layer.p_dropout else None
                for layer in self.layers]

    def accuracy(self, data):
        """The book's accuracy on data = (images, labels): the mean of the
        accuracies of its full mini-batches (the remainder dropped), each the
        fraction of images whose most active output (the first, on a tie) is
        the label."""
        xs, ys = self._data(data, "data")
        m = self.mini_batch_size
        batches = len(xs) // m
        core = self._core()
        predicted = core.classify(self, xs[:batches * m]) if core is not None else None  # in one call
        total = 0.0
        for j in range(batches):
            correct = 0
            for i in range(j * m, (j + 1) * m):
                if (predicted[i] if predicted is not None else argmax(self.feedforward(xs[i]))) == ys[i]:
                    correct += 1
            total += correct / m
        return total / batches

    def _core(self):
        """The C core's glue (purenn.backends.cnetwork3) when this network runs on it, else None."""
        if fast_backend(self) is None:
            return None
        from .backends import cnetwork3  # on demand: it loads the compiled core
        return cnetwork3

    def _l2_term(self, lmbda, num_training_batches):
        if lmbda == 0.0:
            return 0.0
        squares = 0.0
        for layer in self.layers:
            for w_row in _rows(layer.w):
                for w in w_row:
                    squares += w * w
        return 0.5 * lmbda * squares / num_training_batches

    def _data(self, data, name):
        """(images, labels) checked: as many of each, at least one mini-batch,
        each image the first layer's n_in numbers, each label a class."""
        try:
            xs, ys = data
            xs, ys = list(xs), list(ys)
        except (TypeError, ValueError):
            raise ArgumentError("{}: expected a pair (images, labels), as load_data_shared gives, got {}".format(
                name, type(data).__name__)) from None
        if len(xs) != len(ys):
            raise ArgumentError("{}: {} images but {} labels".format(name, len(xs), len(ys)))
        if len(xs) < self.mini_batch_size:
            raise ArgumentError("{}: {} examples, fewer than one mini-batch of {}".format(
                name, len(xs), self.mini_batch_size))
        n_in, n_out = self.layers[0].n_in, self.layers[-1].n_out
        for i, x in enumerate(xs):
            check_numbers(x, n_in, "{} images[{}]".format(name, i))
        for i, y in enumerate(ys):
            label = as_label(y)
            if label is None or not 0 <= label < n_out:
                raise ArgumentError("{} labels[{}]: {!r} is not a class from 0 to {}".format(name, i, y, n_out - 1))
            ys[i] = label
        return xs, ys


#### Loading a network

def load(filename, *, backend=None):
    """Load a network saved by Network.save; ModelFileError naming the file
    and the field if anything in it is wrong (purenn.files.network3file)."""
    filename = os.fspath(filename)
    return network_from_dict(filename, read_json(filename), backend)


def network_from_dict(filename, data, backend=None):
    """The Network a network3 model file's JSON object describes (`filename` for errors)."""
    mini_batch_size, found = parse_network3(filename, data)
    layers = []
    for l, layer in enumerate(found):
        try:
            layers.append(_layer(layer))
        except ArgumentError as e:
            raise ModelFileError(filename, "layers[{}]: {}".format(l, e)) from None
    try:
        net = Network(layers, mini_batch_size, seed=0, backend=backend)
    except ArgumentError as e:
        raise ModelFileError(filename, str(e)) from None
    for layer, described in zip(net.layers, found):
        layer.w, layer.b = described["w"], described["b"]
    return net


def _layer(found):
    """A layer made from the checked description parse_network3 gives."""
    functions = {f.__name__: f for f in PRIMES}
    if found["type"] == "ConvPoolLayer":
        return ConvPoolLayer(found["filter_shape"], found["image_shape"], found["poolsize"],
                             functions[found["activation"]])
    if found["type"] == "FullyConnectedLayer":
        return FullyConnectedLayer(found["n_in"], found["n_out"], functions[found["activation"]],
                                   found["p_dropout"], weights=found["weights"])
    return SoftmaxLayer(found["n_in"], found["n_out"], found["p_dropout"])


#### Miscellanea

def _rows(w):
    """The innermost lists of w (a layer's weights, or their gradient), in order."""
    if w and isinstance(w[0][0], list):
        for inner in w:
            yield from _rows(inner)
    else:
        yield from w


def _whole_numbers(values, n, name):
    try:
        values = tuple(values)
    except TypeError:
        raise ArgumentError("{}: expected {} whole numbers, got {!r}".format(name, n, values)) from None
    if len(values) != n or not all(is_whole_number(v, 1) for v in values):
        raise ArgumentError("{}: expected {} positive whole numbers, got {!r}".format(name, n, values))
    return values


def _activation(activation_fn):
    if activation_fn not in PRIMES:
        raise ArgumentError("activation_fn: {!r} is not one of network3's linear, ReLU, sigmoid, tanh".format(
            activation_fn))
    return activation_fn


def _check_layers(layers, mini_batch_size):
    try:
        layers = list(layers)
    except TypeError:
        raise ArgumentError("layers: expected a list of layers, got {}".format(type(layers).__name__)) from None
    if not layers:
        raise ArgumentError("layers: empty; a network needs at least a SoftmaxLayer")
    for l, layer in enumerate(layers):
        if not isinstance(layer, LAYER_TYPES):
            raise ArgumentError("layers[{}]: {!r} is not a ConvPoolLayer, FullyConnectedLayer or SoftmaxLayer".format(
                l, layer))
        if isinstance(layer, SoftmaxLayer) and l != len(layers) - 1:
            raise ArgumentError("layers[{}]: a SoftmaxLayer can only be the last layer".format(l))
        if isinstance(layer, ConvPoolLayer) and layer.image_shape[0] != mini_batch_size:
            raise ArgumentError("layers[{}]: image_shape[0] is {}, but mini_batch_size is {}".format(
                l, layer.image_shape[0], mini_batch_size))
        if l > 0 and layer.n_in != layers[l - 1].n_out:
            raise ArgumentError("layers[{}]: {} takes {} inputs, but layers[{}] ({}) gives {}".format(
                l, type(layer).__name__, layer.n_in, l - 1, type(layers[l - 1]).__name__, layers[l - 1].n_out))
    if not isinstance(layers[-1], SoftmaxLayer):
        raise ArgumentError("layers[{}]: the last layer must be a SoftmaxLayer (the cost is its log-likelihood), "
                            "not a {}".format(len(layers) - 1, type(layers[-1]).__name__))
    if len(set(map(id, layers))) != len(layers):
        raise ArgumentError("layers: the same layer object appears twice")
    return layers


def _choose_backend(backend, net):
    """(backend, chosen by purenn): see the module docstring."""
    name, source = backend, "backend"
    if backend is None:
        name, source = os.environ.get("PURENN_BACKEND", "").strip() or "auto", "PURENN_BACKEND"
        if name.lower() == "python":
            name = "reference"
    if not isinstance(name, str) or name.strip().lower() not in ("auto", "c", "python", "reference"):
        raise BackendError("{}: unknown backend {!r}; choose one of auto, c, python, reference".format(source, name))
    name = name.strip().lower()
    if name == "python":
        raise BackendError("{}: {!r} has no network3 -- the Python engine does not run it; choose c, reference or "
                           "auto".format(source, backend))
    if name == "reference":
        return "reference", False
    built, detail = core_status()
    if not built:
        if name == "auto":
            return "reference", True
        raise BackendError("{}: the C backend was asked for but is not built ({}); choose reference".format(
            source, detail))
    changed = changed_code(net) + ["layers[{}]".format(l) for l, layer in enumerate(net.layers)
                                   if type(layer) not in LAYER_TYPES]
    if changed and name == "auto":
        return "reference", True
    if changed:
        raise BackendError("{}: {} changed from purenn's network3, which the C core does not run; use "
                           "backend=\"reference\" (or \"auto\", which chooses it)".format(source, ", ".join(changed)))
    return "c", name == "auto"
