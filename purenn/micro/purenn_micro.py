"""purenn_micro: a network saved by purenn, run on MicroPython.

Written by `python -m purenn export MODEL --micro DIR` beside DIR/model.bin:

    import purenn_micro as m
    net = m.load("model.bin")
    net.classify(pixels)    # the digit: the largest output, the first on a tie
    net.outputs(pixels)     # the output layer's activations, a list of floats

`pixels` is a 28 x 28 digit in MNIST's layout: 784 bytes, row by row, 0
(paper) to 255 (ink); each becomes the input byte / 256, as purenn's loader
makes it.  net.feedforward(a) takes the inputs as numbers instead.

It uses only what MicroPython has (struct, array, math.ldexp; no gzip,
no random, no float.fromhex) and runs on CPython too.  It computes what
purenn's network.py and network2.py compute, operation for operation: w a
+ b with the terms added in index order (a zero input's term left out, as
purenn.linalg.dot does), then sigmoid, tanh or relu, and a sigmoid or
softmax output -- with exp, expm1 and tanh copied from purenn.elementary
(tests/test_micro.py checks that the copies are the same code), not the
port's math.exp.  So where MicroPython's floats are IEEE doubles (the Unix
port, and boards built with double precision), a float64 model.bin gives
CPython purenn's outputs bit for bit.  A float32 model.bin holds the
weights rounded to float32 (half the memory): the arithmetic is the same,
the answers nearly always the same digit.  A port whose floats are single
precision computes in float32 and refuses a float64 model.bin.

Memory: each row of weights is one array (float32 or float64); the inputs,
the weighted inputs and the activations of every layer are arrays made
once at load; a digit allocates only its floats' boxes and the list that
outputs() returns.  The smallest heaps (`micropython -X heapsize=...`,
measured by `python tests/test_micro.py` on the Unix port, within a few KB
from run to run) are the numbers and about 100 KB more -- MicroPython
compiles this module in the heap, and the objects it keeps split that space
into pieces too small for a row:

    network          model.bin float32   heap      model.bin float64   heap
    [784, 30, 10]     95,462 bytes       195 KB    190,902 bytes       295 KB
    [784, 100, 10]   318,062 bytes       412 KB    636,102 bytes       728 KB

model.bin, little-endian throughout:

    offset  size      field
    0       4         magic b"pnnM"
    4       1         version: 1
    5       1         bytes per number: 4 (IEEE-754 float32) or 8 (float64)
    6       1         hidden activation: 0 sigmoid, 1 tanh, 2 relu
    7       1         output layer: 0 sigmoid, 1 softmax
    8       2         L, the number of layers (2 or more), unsigned
    10      4 L       sizes[0], ..., sizes[L-1], each unsigned 32-bit
    10+4L             for each layer l = 1 .. L-1, n_in = sizes[l-1], n_out = sizes[l]:
                          biases b[j], j = 0 .. n_out-1           (n_out numbers)
                          weights w[j][k], row j after row j-1,   (n_out x n_in numbers)
                          k = 0 .. n_in-1 within a row
    end               nothing after the last weight

Like the rest of purenn it favours clarity over speed, and it leaves out
training, dropout and network3's convolutional layers.
"""

import math
import struct
import sys

try:
    import gc
except ImportError:  # a port without one
    gc = None
from array import array

__all__ = ["load", "Network", "ModelError", "exp", "expm1", "tanh", "MAGIC", "VERSION"]

MAGIC = b"pnnM"
VERSION = 1
HEADER = "<4sBBBBH"  # magic, version, bytes per number, activation, output, L
ACTIVATION_CODES = ("sigmoid", "tanh", "relu")
OUTPUT_CODES = ("sigmoid", "softmax")


class ModelError(ValueError):
    """model.bin is not one this module reads: the message says where and what."""


def _h(text):
    """A double from its hexadecimal form, "-0x1.62e42fee00000p-1" (float.fromhex,
    which MicroPython lacks): exact, by int() and math.ldexp, whatever the port's
    parsing of decimal literals."""
    sign = 1.0
    if text[0] == "-":
        sign, text = -1.0, text[1:]
    mantissa, exponent = text[2:].split("p")
    whole, fraction = (mantissa.split(".") + [""])[:2]
    digits = int(whole + fraction, 16)
    return sign * math.ldexp(float(digits), int(exponent) - 4 * len(fraction))


_INF = float("inf")

#### purenn.elementary's constants, as it writes them (the test compares each)

LN2_HI = _h("0x1.62e42fee00000p-1")
LN2_LO = _h("0x1.a39ef35793c76p-33")
INV_LN2 = _h("0x1.71547652b82fep+0")
EXP_OVERFLOW = _h("0x1.62e42fefa39efp+9")
EXP_UNDERFLOW = _h("-0x1.74910d52d3051p+9")
HALF_LN2 = _h("0x1.62e4300000000p-2")
THREE_HALVES_LN2 = _h("0x1.0a2b200000000p+0")
EXP_TINY = _h("0x1p-28")     # elementary writes these three in place
EXPM1_TINY = _h("0x1p-54")
TANH_TINY = _h("0x1p-55")
P1 = _h("0x1.555555555553ep-3")
P2 = _h("-0x1.6c16c16bebd93p-9")
P3 = _h("0x1.1566aaf25de2cp-14")
P4 = _h("-0x1.bbd41c5d26bf1p-20")
P5 = _h("0x1.6376972bea4d0p-25")
EXPM1_BIG = _h("0x1.3687a00000000p+5")
Q1 = _h("-0x1.11111111110f4p-5")
Q2 = _h("0x1.a01a019fe5585p-10")
Q3 = _h("-0x1.4ce199eaadbb7p-14")
Q4 = _h("0x1.0cfca86e65239p-18")
Q5 = _h("-0x1.afdb76e09c32dp-23")
TANH_SMALL = 0.5625
TANH_BIG = 1.5
T0 = _h("-0x1.5555555555555p-2")
T1 = _h("0x1.1111111111105p-3")
T2 = _h("-0x1.ba1ba1ba19d5dp-5")
T3 = _h("0x1.664f4881ec346p-6")
T4 = _h("-0x1.226e352b6a427p-7")
T5 = _h("0x1.d6d3c26abcbe7p-9")
T6 = _h("-0x1.7da216499f72dp-10")
T7 = _h("0x1.354431e18ea6cp-11")
T8 = _h("-0x1.f3e303d937561p-13")
T9 = _h("0x1.8b6e011d560bfp-14")
T10 = _h("-0x1.1798f633d339fp-15")
T11 = _h("0x1.002b1e55e95d8p-17")
TANH_NEAR = (0.78125, _h("0x1.4e8d895b010dcp-1"), _h("0x1.a04ea5119a557p-57"), (
    _h("0x1.25652faaf8a73p-1"), _h("-0x1.7f6c3a57c4446p-2"), _h("0x1.b7866e3f99e83p-5"),
    _h("0x1.6fa1df47ca796p-4"), _h("-0x1.05508d371f209p-4"), _h("0x1.c3efdfab6c314p-9"),
    _h("0x1.372ba8f783a1cp-6"), _h("-0x1.60fd5e0ed5069p-7"), _h("-0x1.6ff7d46266680p-11"),
    _h("0x1.f98821aaaa172p-9"), _h("-0x1.c584499fb5264p-10"), _h("-0x1.8b365daf45ecdp-12"),
    _h("0x1.8aba1a4c07e40p-11"), _h("-0x1.ea1ab13b2f5d4p-13"), _h("-0x1.f173198d25176p-14")))
TANH_FAR = (1.25, _h("0x1.b2523bb6b2deep-1"), _h("0x1.3d276ab84931dp-56"), (
    _h("0x1.1f25131e3a8c0p-2"), _h("-0x1.e7291743d755dp-3"), _h("0x1.bba40cbef75acp-4"),
    _h("-0x1.9c7a02787ab6ep-7"), _h("-0x1.3a7a01205c949p-6"), _h("0x1.f1cf6c7a09f9fp-7"),
    _h("-0x1.326bd42c106a3p-8"), _h("-0x1.ca3f0a4a0d7e6p-11"), _h("0x1.be935b1ea374ap-10"),
    _h("-0x1.b8556f5798d79p-11"), _h("0x1.9c0b4f74a1385p-14"), _h("0x1.35f6ce8280c45p-13"),
    _h("-0x1.e698a06638891p-14"), _h("0x1.0c775a6feab36p-15"), _h("0x1.1a45e1440c3bep-17")))


#### purenn.elementary's _reduce_ln2, exp, expm1 and tanh, statement for statement

def _reduce_ln2(x, ax):
    """x = k ln2 + (hi - lo) with |hi - lo| <= ln2/2, for |x| >= ln2/2 (ax is |x|): (hi, lo, k)."""
    if ax < THREE_HALVES_LN2:
        if x > 0.0:
            return x - LN2_HI, LN2_LO, 1
        return x + LN2_HI, -LN2_LO, -1
    k = int(INV_LN2 * x + (0.5 if x > 0.0 else -0.5))  # int() truncates, as C's (int)
    t = float(k)
    return x - t * LN2_HI, t * LN2_LO, k  # t * LN2_HI is exact


def exp(x):
    """e^x, within 1 ulp."""
    if x != x:
        return x
    if x > EXP_OVERFLOW:
        return _INF
    if x < EXP_UNDERFLOW:
        return 0.0
    ax = -x if x < 0.0 else x
    if ax >= HALF_LN2:
        hi, lo, k = _reduce_ln2(x, ax)
        r = hi - lo
    elif ax < EXP_TINY:
        return 1.0 + x
    else:
        hi, lo, k = x, 0.0, 0
        r = x
    t = r * r
    c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))))
    if k == 0:
        return 1.0 - ((r * c) / (c - 2.0) - r)
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    return math.ldexp(y, k)


def expm1(x):
    """e^x - 1, within 1 ulp, exact in its small values (tanh's building block)."""
    if x != x:
        return x
    ax = -x if x < 0.0 else x
    if ax >= EXPM1_BIG:
        if x > EXP_OVERFLOW:
            return _INF
        if x < 0.0:
            return -1.0
    c = 0.0
    if ax >= HALF_LN2:
        hi, lo, k = _reduce_ln2(x, ax)
        x = hi - lo
        c = (hi - x) - lo
    elif ax < EXPM1_TINY:
        return x
    else:
        k = 0
    hfx = 0.5 * x
    hxs = x * hfx
    r1 = 1.0 + hxs * (Q1 + hxs * (Q2 + hxs * (Q3 + hxs * (Q4 + hxs * Q5))))
    t = 3.0 - r1 * hfx
    e = hxs * ((r1 - t) / (6.0 - x * t))
    if k == 0:
        return x - (x * e - hxs)
    e = x * (e - c) - c
    e = e - hxs
    if k == -1:
        return 0.5 * (x - e) - 0.5
    if k == 1:
        if x < -0.25:
            return -2.0 * (e - (x + 0.5))
        return 1.0 + 2.0 * (x - e)
    if k <= -2 or k > 56:
        y = 1.0 - (e - x)
        return math.ldexp(y, k) - 1.0
    if k < 20:
        y = (1.0 - math.ldexp(1.0, -k)) - (e - x)
    else:
        y = x - (e + math.ldexp(1.0, -k))
        y = y + 1.0
    return math.ldexp(y, k)


def tanh(x):
    """The hyperbolic tangent of x, within 1 ulp."""
    if x != x:
        return x
    ax = -x if x < 0.0 else x
    if ax >= 22.0:
        z = 1.0
    elif ax < TANH_TINY:
        return x
    elif ax >= TANH_BIG:
        t = expm1(ax + ax)
        z = 1.0 - 2.0 / (t + 2.0)
    elif ax >= TANH_SMALL:
        centre, c0, c0_tail, q = TANH_NEAR if ax < 1.0 else TANH_FAR
        d = ax - centre
        p = q[14]
        for i in range(13, -1, -1):
            p = q[i] + d * p
        z = c0 + (c0_tail + d * p)
    else:
        u = ax * ax
        g = T0 + u * (T1 + u * (T2 + u * (T3 + u * (T4 + u * (T5 + u * (T6 + u * (T7 + u * (T8 + u * (
            T9 + u * (T10 + u * T11))))))))))
        z = ax + ax * (u * g)
    return z if x >= 0.0 else -z


#### The neurons: purenn.network's sigmoid, network2's relu

def sigmoid(z):
    """The sigmoid function 1 / (1 + e^-z) of one number z."""
    if z >= 0.0:
        return 1.0 / (1.0 + exp(-z))
    e = exp(z)
    return e / (1.0 + e)


def relu(z):
    """max(0, z); NaN gives 0.0."""
    return z if z > 0.0 else 0.0


_SIZES = {"f": 4, "d": 8, "I": 4}  # bytes per number of each array typecode used
HIDDEN = {"sigmoid": sigmoid, "tanh": tanh, "relu": relu}
_DOUBLE = 1.0 + _h("0x1p-52") != 1.0  # False on a port whose floats are float32


#### The network

class Network:
    """A loaded network: sizes, activation ("sigmoid", "tanh" or "relu"), output
    ("sigmoid" or "softmax"), and per layer its biases (array, n_out) and weights
    (a list of n_out arrays of n_in)."""

    def __init__(self, sizes, activation, output, typecode):
        self.sizes, self.activation, self.output = sizes, activation, output
        self.typecode = typecode  # "f" (float32) or "d" (float64): how the weights are kept
        self.biases, self.weights = [], []  # biases[l]: n_out numbers; weights[l][j]: n_in numbers
        # the work space, made once: the activations of every layer (a[0] the inputs),
        # and the positions of one layer's non-zero activations
        self._a = [_zeros("d", n) for n in sizes]
        self._nonzero = _zeros("I", max(sizes))
        self._f = HIDDEN[activation]

    def outputs(self, pixels):
        """The output layer's activations for a digit of sizes[0] bytes (byte / 256 each)."""
        a = self._a[0]
        if len(pixels) != len(a):
            raise ValueError("pixels: {} bytes, not the network's {} inputs".format(len(pixels), len(a)))
        for k in range(len(a)):
            a[k] = pixels[k] / 256
        return self._forward()

    def feedforward(self, inputs):
        """The output layer's activations for sizes[0] input numbers."""
        a = self._a[0]
        if len(inputs) != len(a):
            raise ValueError("inputs: {} numbers, not the network's {}".format(len(inputs), len(a)))
        for k in range(len(a)):
            a[k] = inputs[k]
        return self._forward()

    def classify(self, pixels):
        """The digit: the index of the largest output, the first on a tie (purenn.linalg.argmax)."""
        values = self.outputs(pixels)
        best = 0
        for i in range(len(values)):
            if values[i] > values[best]:
                best = i
        return best

    def _forward(self):
        last = len(self.weights) - 1
        for l in range(last + 1):
            z = self._a[l + 1]
            self._weighted_inputs(self.weights[l], self._a[l], self.biases[l], z)
            if l < last:
                f = self._f
                for j in range(len(z)):
                    z[j] = f(z[j])
            elif self.output == "softmax":
                _softmax(z)
            else:
                for j in range(len(z)):
                    z[j] = sigmoid(z[j])
        return list(self._a[-1])

    def _weighted_inputs(self, w, a, b, z):
        """z = w a + b: z[j] = (sum over k of w[j][k] a[k], added for k = 0, 1, ...) + b[j],
        the terms where a[k] == 0 left out (purenn.linalg.weighted_inputs and dot)."""
        nonzero = self._nonzero
        count = 0
        for k in range(len(a)):
            if a[k] != 0.0:
                nonzero[count] = k
                count += 1
        for j in range(len(z)):
            w_j = w[j]
            total = 0.0
            for i in range(count):
                k = nonzero[i]
                total += w_j[k] * a[k]
            z[j] = total + b[j]


def _softmax(z):
    """z becomes e^z_j / sum_k e^z_k, with z - max(z) (purenn.network2.softmax)."""
    most = z[0]
    for j in range(len(z)):
        if z[j] > most:
            most = z[j]
    for j in range(len(z)):
        z[j] = exp(z[j] - most)
    total = 0.0
    for j in range(len(z)):
        total += z[j]
    for j in range(len(z)):
        z[j] = z[j] / total


#### Reading model.bin

def load(path):
    """The Network in model.bin at `path` (the layout above); ModelError if it is not one."""
    if sys.byteorder != "little":
        raise ModelError("{}: this port is big-endian; purenn_micro reads model.bin on little-endian ones".format(
            path))
    with open(path, "rb") as f:
        head = _read(f, path, 10, "the header")
        magic, version, size, activation, output, layers = struct.unpack(HEADER, head)
        if magic != MAGIC:
            raise ModelError("{}: starts with {!r}, not {!r}: not a purenn model.bin".format(path, magic, MAGIC))
        if version != VERSION:
            raise ModelError("{}: version {}; this purenn_micro reads version {}".format(path, version, VERSION))
        if size not in (4, 8):
            raise ModelError("{}: byte 5 is {}, not 4 (float32) or 8 (float64)".format(path, size))
        if size == 8 and not _DOUBLE:
            raise ModelError("{}: float64 numbers, but this port's floats are float32: export without "
                             "--float64".format(path))
        if activation >= len(ACTIVATION_CODES) or output >= len(OUTPUT_CODES):
            raise ModelError("{}: activation {} and output {}: unknown codes".format(path, activation, output))
        if layers < 2:
            raise ModelError("{}: {} layers, fewer than 2".format(path, layers))
        sizes = list(struct.unpack("<" + "I" * layers, _read(f, path, 4 * layers, "the sizes")))
        if 0 in sizes:
            raise ModelError("{}: a layer of 0 neurons in {}".format(path, sizes))
        if gc is not None:
            gc.collect()  # what importing this module left: the big arrays then find room
        net = Network(sizes, ACTIVATION_CODES[activation], OUTPUT_CODES[output], "f" if size == 4 else "d")
        _read_layers(f, path, net)
        if f.read(1):
            raise ModelError("{}: bytes after the last weight".format(path))
    return net


def _read_layers(f, path, net):
    """Each layer's biases and weights, row by row, read from f straight into their arrays."""
    code = net.typecode
    size = _SIZES[code]
    for n_in, n_out in zip(net.sizes[:-1], net.sizes[1:]):
        b = _zeros(code, n_out)
        _fill(f, path, b, size, "biases")
        row = bytes(n_in * size)  # each row's array a copy of its bytes: one allocation, no garbage
        w = []
        for j in range(n_out):
            w_j = array(code, row)
            _fill(f, path, w_j, size, "weights")
            w.append(w_j)
        net.biases.append(b)
        net.weights.append(w)


def _zeros(code, n):
    return array(code, bytes(n * _SIZES[code]))


def _fill(f, path, numbers, size, what):
    if f.readinto(numbers) != len(numbers) * size:
        raise ModelError("{}: ends in the {}".format(path, what))


def _read(f, path, n, what):
    data = f.read(n)
    if len(data) != n:
        raise ModelError("{}: ends in {}".format(path, what))
    return data
