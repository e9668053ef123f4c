"""Examples: a data set prepared once for a backend to train on or measure.

The book keeps two kinds of data: training data, whose y is the desired
output (a one-hot list), and validation or test data, whose y is the digit.
`Examples(data, labelled)` is such a list of (x, y) pairs -- it is a list,
so the book's code iterates it as it is -- that also knows, computed once
when first asked for:

    ys       the desired outputs: y itself, or vectorized_result(y) for labelled data
    labels   the class of each example: y itself, or argmax(y)
    packed   each backend's own form of the data (the C core: flat arrays of
             doubles), made once by that backend, keyed by its name

SGD wraps its data in Examples once, so that a fast backend packs the
training data once per run and the evaluation data once, not every epoch.
Do not change an Examples' pairs after a backend has packed them.
"""

from ..linalg import argmax, one_hot

__all__ = ["Examples"]


class Examples(list):
    """A list of (x, y) pairs; `labelled`: y is a class number, else the desired
    output; `n_out`: the number of outputs (of classes)."""

    def __init__(self, data, labelled, n_out):
        super().__init__(data)
        self.labelled = labelled
        self.n_out = n_out
        self.packed = {}
        self.checked = None  # the (n_in, n_out, labelled) check_data has found them to fit
        self._ys = self._labels = None

    @classmethod
    def of(cls, data, labelled, n_out):
        """`data` itself if it is already Examples of that kind, else Examples(data, labelled)."""
        if isinstance(data, cls) and data.labelled == labelled and data.n_out == n_out:
            return data
        return cls(data, labelled, n_out)

    @property
    def ys(self):
        if self._ys is None:
            if self.labelled:
                self._ys = [one_hot(y, self.n_out) for _, y in self]
            else:
                self._ys = [y for _, y in self]
        return self._ys

    @property
    def labels(self):
        if self._labels is None:
            self._labels = [y for _, y in self] if self.labelled else [argmax(y) for _, y in self]
        return self._labels

    def xs(self):
        return [x for x, _ in self]
