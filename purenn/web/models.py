"""The networks a page serves, and what the page asks of each.

    Model(name, net, source, classify)   one network that reads 28 x 28 digits
      .read(image)          -> {"digit", "outputs", "image"}: what it sees in an Image
      .inside(image)        -> the activations of each hidden layer for it
      .weights()            -> the first layer's weights of each hidden neuron
                               (each filter, for a conv net) as pictures
      .mistakes(test_data)  -> ([(index, label, predicted)] so far, digits read so far, failure):
                               worked out once, in a thread, the page polling
      .all_mistakes(test_data) -> all of them, waiting
    Models(models)          the models by name, in the order given; add() one learned

A network is not made to work for two requests at once: each model has a
lock, and requests for the same model take turns.  `classify(net, xs)` is the
command line's (the digits of many inputs in one call), passed in so that this
room need not know the kinds of network.
"""

import base64
import math
import threading

from .. import network3
from ..files.handwriting import digit_of
from ..linalg import weighted_inputs
from ..network2 import ACTIVATIONS

__all__ = ["Model", "Models", "picture", "finite", "MAX_PICTURES"]

#: The most weight pictures sent for one model (a layer of 1,000 neurons shows its first 100).
MAX_PICTURES = 100

#: Test digits classified a turn when the mistakes are worked out.
MISTAKES_CHUNK = 50


def finite(v):
    """A float as JSON can hold it: NaN and the infinities (of an overflowed network) as None."""
    return float(v) if math.isfinite(v) else None


def picture(width, height, pixels):
    """A picture as the page takes it: {"width", "height", "pixels": base64 of the bytes}."""
    return {"width": width, "height": height, "pixels": base64.b64encode(bytes(pixels)).decode("ascii")}


def _grey(values):
    """Weights as grey levels: 0 -> 128, the largest magnitude -> 0 (negative) or 255 (positive)."""
    values = [v if math.isfinite(v) else 0.0 for v in values]
    largest = max(abs(v) for v in values) or 1.0
    return bytes(min(255, max(0, int(round(128 + 127 * v / largest)))) for v in values)


def _levels(values):
    """Activations as grey levels: 0 -> 0, the largest -> 255 (negative ones 0)."""
    values = [v if math.isfinite(v) else 0.0 for v in values]
    largest = max(values) if values else 0.0
    if not largest > 0.0:
        return bytes(len(values))
    return bytes(min(255, max(0, int(round(255 * v / largest)))) for v in values)


class Model:
    def __init__(self, name, net, source, classify):
        self.name, self.net, self.source = name, net, source
        self.lock = threading.Lock()
        self._classify = classify
        self._mistakes_lock = threading.Lock()
        self._mistakes_thread, self._wrong, self._read, self._failed = None, [], 0, None
        self.conv = isinstance(net, network3.Network)

    def describe(self):
        """What the page lists: name, where it came from, its layers."""
        if self.conv:
            layers = [repr(layer) for layer in self.net.layers]
        else:
            layers = [str(n) for n in self.net.sizes]
        return {"name": self.name, "source": self.source, "kind": "network3" if self.conv else "network2",
                "layers": layers}

    def read(self, image):
        """What the network sees in an Image: its digit, its outputs, the image."""
        with self.lock:
            digit, outputs = digit_of(self.net, image)
        return {"model": self.name, "digit": digit, "outputs": [finite(v) for v in outputs],
                "image": list(image.pixels)}

    def inside(self, image):
        """The activations of each hidden layer for the Image, in order: for a
        fully connected layer {"kind": "neurons", "values"}, for a conv-pool
        layer {"kind": "maps", "maps", "rows", "cols", "values", "pictures"}."""
        with self.lock:
            return self._conv_inside(image) if self.conv else self._dense_inside(image)

    def _dense_inside(self, image):
        net, a, layers = self.net, list(image), []
        f = ACTIVATIONS[net.activation][0]
        for w, b in zip(net.weights[:-1], net.biases[:-1]):  # the hidden layers: all but the output
            a = [f(z) for z in weighted_inputs(w, a, b)]
            layers.append({"kind": "neurons", "values": [finite(v) for v in a]})
        return layers

    def _conv_inside(self, image):
        a, layers = list(image), []
        for layer in self.net.layers[:-1]:
            a = layer.feedforward(a)
            if isinstance(layer, network3.ConvPoolLayer):
                maps, (rows, cols) = layer.filter_shape[0], layer.pooled_shape
                size = rows * cols
                layers.append({"kind": "maps", "maps": maps, "rows": rows, "cols": cols,
                               "values": [finite(v) for v in a],
                               "pictures": [picture(cols, rows, _levels(a[m * size:(m + 1) * size]))
                                            for m in range(min(maps, MAX_PICTURES))]})
            else:
                layers.append({"kind": "neurons", "values": [finite(v) for v in a]})
        return layers

    def weights(self):
        """The first layer's weights as pictures, grey 128 for 0: each hidden
        neuron's 784 weights as 28 x 28, or each filter of a first conv layer."""
        first = self.net.layers[0] if self.conv else None
        if isinstance(first, network3.ConvPoolLayer):
            n_filters, maps, fh, fw = first.filter_shape
            rows = [[v for channel in f for row in channel for v in row] for f in first.w]
            shape, what = (fw, fh * maps), "filter"
        else:
            rows = first.w if first is not None else self.net.weights[0]
            shape, what = (28, 28), "hidden neuron"
        shown = rows[:MAX_PICTURES]
        return {"model": self.name, "what": what, "total": len(rows),
                "pictures": [picture(shape[0], shape[1], _grey(row)) for row in shown]}

    def mistakes(self, test_data):
        """(the test digits the network gets wrong so far as [(index, label, predicted)], how many of
        test_data it has read, None or why the work failed): worked out once, in a thread of its own, MISTAKES_CHUNK digits a turn
        of the lock, so that reading a drawing never waits long for it (a conv net on the reference
        reads about 15 digits a second)."""
        with self._mistakes_lock:
            if self._mistakes_thread is None:
                self._mistakes_thread = threading.Thread(target=self._find_mistakes, args=(test_data,),
                                                         name="purenn-mistakes-" + self.name, daemon=True)
                self._mistakes_thread.start()
            return list(self._wrong), self._read, self._failed

    def all_mistakes(self, test_data):
        """The mistakes over all of test_data, waiting for them."""
        self.mistakes(test_data)
        self._mistakes_thread.join()
        wrong, read, failed = self.mistakes(test_data)
        if failed is not None:
            raise RuntimeError("working out the mistakes of {} failed: {}".format(self.name, failed))
        return wrong

    def _find_mistakes(self, test_data):
        try:
            for begin in range(0, len(test_data), MISTAKES_CHUNK):
                chunk = test_data[begin:begin + MISTAKES_CHUNK]
                with self.lock:
                    guesses = self._classify(self.net, [x for x, _ in chunk])
                wrong = [(begin + i, y, guess) for i, ((_, y), guess) in enumerate(zip(chunk, guesses)) if guess != y]
                with self._mistakes_lock:
                    self._wrong += wrong
                    self._read = begin + len(chunk)
        except Exception as e:  # noqa: BLE001 -- said to the page (a 500) and by all_mistakes
            with self._mistakes_lock:
                self._failed = "{}: {}".format(type(e).__name__, e)


class Models:
    """The models by name (the order given kept); add() for one learned in the page."""

    def __init__(self, models):
        self._lock = threading.Lock()
        self._models = {}
        for model in models:
            self._models[model.name] = model

    def get(self, name):
        with self._lock:
            return self._models.get(name)

    def names(self):
        with self._lock:
            return list(self._models)

    def all(self):
        with self._lock:
            return list(self._models.values())

    def add(self, model):
        """Add a model, replacing one of the same name."""
        with self._lock:
            self._models.pop(model.name, None)
            self._models[model.name] = model
