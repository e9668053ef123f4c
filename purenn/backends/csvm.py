"""The glue between purenn.mnist_svm and the C core's SVM (csrc/svm.c).

The same training and prediction as mnist_svm.LinearSVM, run in C over flat
arrays: the random directions held transposed (n_in x D), the images packed
once, the SVM's weights (classes x D) packed for each call and unpacked
after it.  Reached as load_core("c").svm(...), so that a missing core is the
usual BackendError.
"""

from array import array

from ._core import ffi, lib
from .cbackend import pack_rows, ptr

__all__ = ["CoreSVM"]


class CoreSVM:
    """mnist_svm.LinearSVM `svm`'s epochs and predictions in C, for the training `images`."""

    def __init__(self, svm, images):
        self.svm = svm
        fmap = svm.fmap
        self.WT = array("d", [fmap.directions[d][k] for k in range(fmap.n_in) for d in range(fmap.D)])
        self.b = array("d", fmap.phases)
        self.X = pack_rows(images, fmap.n_in, "images")

    def _weights(self):
        return array("d", [w for w_c in self.svm.weights for w in w_c]), array("d", self.svm.bias)

    def train_epoch(self, labels, order):
        """Twin of mnist_svm.LinearSVM.train_epoch over the training images in `order`."""
        svm, fmap = self.svm, self.svm.fmap
        W, bias = self._weights()
        step = ffi.new("int64_t *", svm.step)
        status = lib.pn_svm_epoch(ptr("double[]", self.WT), ptr("double[]", self.b), fmap.scale,
                                  ptr("double[]", self.X), ptr("int64_t[]", array("q", labels)),
                                  ptr("int64_t[]", array("q", order)), len(order), fmap.n_in, fmap.D,
                                  svm.classes, ptr("double[]", W), ptr("double[]", bias),
                                  svm.eta0, svm.lmbda, step)
        if status != 0:
            raise MemoryError("the C core could not allocate its workspace for the SVM")
        svm.weights = [W[c * fmap.D:(c + 1) * fmap.D].tolist() for c in range(svm.classes)]
        svm.bias = bias.tolist()
        svm.step = step[0]

    def predict_all(self, images):
        """Twin of [mnist_svm.LinearSVM.predict(x) for x in images]."""
        svm, fmap = self.svm, self.svm.fmap
        W, bias = self._weights()
        X = pack_rows(images, fmap.n_in, "images")
        labels = array("q", [0]) * len(images)
        status = lib.pn_svm_predict(ptr("double[]", self.WT), ptr("double[]", self.b), fmap.scale,
                                    ptr("double[]", X), len(images), fmap.n_in, fmap.D, svm.classes,
                                    ptr("double[]", W), ptr("double[]", bias), ptr("int64_t[]", labels))
        if status != 0:
            raise MemoryError("the C core could not allocate its workspace for the SVM")
        return labels.tolist()
