"""Load the MNIST digits, with the API of the book's mnist_loader.

The book's loader unpickles `mnist.pkl.gz`, a NumPy repackaging of the
original files.  This one reads the original gzipped IDX files themselves
(purenn.idx) -- or, given its path, the book's mnist.pkl.gz (or
mnist_expanded.pkl.gz) without NumPy and without running any of its code
(purenn.files.bookpickle) -- and returns plain Python lists: lists, not the
one-shot `zip` iterators that Python 3 ports of the book return, so data can
be used twice.

    load_data(data_dir=None)          -> (training, validation, test),
                                         each (images, labels)
    load_data_wrapper(data_dir=None)  -> (training, validation, test) as
                                         [(x, y)] ready for a Network
    vectorized_result(j)              -> the one-hot list for digit j
    vectorToImage(v, fname)           -> writes a 784-vector as a 28 x 28 PNG
                                         (as the DeepLearningPython35 port does)
    find_data_dir(data_dir=None)      -> the directory (or book pickle) that
                                         would be read
    image_shape(data_dir=None)        -> (rows, cols) of the test images
    read_arrays(data_dir, images_name, labels_name)
                                      -> the IdxArrays of a pair of files, checked

An image is a sequence of 784 floats, pixel = byte / 256, row by row: exactly
the numbers of the book's mnist.pkl.gz (whose float32 values are exactly
these: k / 256 needs 8 significant bits; a pickle holding any other value is
refused).  It is an `Image`, which keeps the
bytes and reads like a list of floats (list(x) makes it one).  Training is the first 50,000 images of
the official training file and validation its last 10,000; test is the
10,000 images of the t10k files.  (For other data: validation is the last
10,000 or the last sixth of the training file, whichever is fewer.)  The
book's pickle keeps its own split: training, validation and test as the file
holds them (for mnist.pkl.gz the very same split); a validation_size given
re-splits its training and validation images, as if they were one training
file.

Any directory holding the four standard file names (each plain or with
".gz") can stand in for MNIST.  The directory is, in this order: the
argument, the environment variable PURENN_DATA, or the copy of MNIST that
ships with purenn.  Any of them may instead name a file: the book's pickle.
"""

import gc
import os
from collections.abc import Sequence
from contextlib import contextmanager

from .errors import DataFileError
from .errors import ArgumentError
from .files.bookpickle import PIXELS, is_book_pickle, read_book_pickle
from .files.idx import read_idx, read_idx_header
from .files.pictures import write_png

__all__ = ["load_data", "load_data_wrapper", "vectorized_result", "vectorToImage", "find_data_dir", "Image",
           "FILE_NAMES", "NUM_CLASSES"]

#: The standard MNIST file names, without ".gz".
FILE_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

#: The number of classes, digits 0 to 9.
NUM_CLASSES = 10

#: The book keeps the last 10,000 training images aside for validation.
VALIDATION_SIZE = 10000


def default_validation_size(n):
    """How many of n training images are kept for validation unless told: 10,000 of
    MNIST's 60,000, as in the book, and at most a sixth of a smaller set."""
    return min(VALIDATION_SIZE, n // 6)

# Every pixel is one of 256 values, so every image can share these 256 float
# objects instead of making 784 new ones: a quarter of the memory, and faster.
PIXEL_VALUES = [byte / 256 for byte in range(256)]


class Image(Sequence):
    """One image as a read-only sequence of floats, pixel = byte / 256, kept
    as its bytes: 784 bytes rather than 784 floats (a list of them takes
    6 KB), so all of MNIST fits in a tenth of the memory.

    It reads like the list it stands for -- len(x), x[k], iteration,
    x == [...], list(x) -- and every value is exactly the float the book's
    mnist.pkl.gz holds.  `x.pixels` is the bytes.
    """

    __slots__ = ("pixels",)

    def __init__(self, pixels):
        self.pixels = bytes(pixels)

    def __len__(self):
        return len(self.pixels)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [PIXEL_VALUES[b] for b in self.pixels[index]]
        return PIXEL_VALUES[self.pixels[index]]

    def __iter__(self):
        return map(PIXEL_VALUES.__getitem__, self.pixels)

    def __eq__(self, other):
        if isinstance(other, Image):
            return self.pixels == other.pixels
        if isinstance(other, (list, tuple)):
            return len(other) == len(self.pixels) and list(self) == list(other)
        return NotImplemented

    def __hash__(self):
        return hash(self.pixels)

    def __repr__(self):
        return "Image({} pixels, {} non-zero)".format(len(self.pixels), len(self.pixels) - self.pixels.count(0))

    def tolist(self):
        """The pixels as a list of floats."""
        return list(self)


def _bundled_dirs():
    here = os.path.dirname(os.path.abspath(__file__))
    yield os.path.join(here, "data")                 # installed: purenn/data
    yield os.path.join(os.path.dirname(here), "data")  # a checkout: ./data


def file_in(directory, name):
    """The path of `name` or `name`.gz in `directory`, or None.  Both there is
    a DataFileError: which one is meant cannot be told (an old plain file
    beside a new .gz from `expand`, say).  Not only regular files count: a FIFO
    or a directory of the name is returned, so that reading it says what it is
    rather than calling it missing."""
    if is_book_pickle(directory):
        raise DataFileError(directory, "a file (the book's pickle?), not a directory holding {}: this needs "
                                       "the MNIST IDX files".format(name))
    found = [path for path in (os.path.join(directory, name), os.path.join(directory, name + ".gz"))
             if os.path.exists(path)]
    if len(found) == 2:
        raise DataFileError(directory, "holds both {0} and {0}.gz; remove or rename the one not meant".format(name))
    return found[0] if found else None


def find_data_dir(data_dir=None):
    """The directory the loader reads: `data_dir`, else $PURENN_DATA, else the bundled MNIST;
    or the book's pickle, when the one chosen names a file.

    Raises DataFileError when the chosen directory lacks one of the four files.
    """
    source = "data directory"
    if data_dir is None:
        data_dir = os.environ.get("PURENN_DATA") or None
        source = "PURENN_DATA"
    if data_dir is None:
        for candidate in _bundled_dirs():
            if all(file_in(candidate, name) for name in FILE_NAMES):
                return candidate
        raise DataFileError(
            next(_bundled_dirs()),
            "the bundled MNIST files are missing; pass a data directory or set PURENN_DATA",
        )
    data_dir = os.fspath(data_dir)
    if is_book_pickle(data_dir):
        return data_dir
    if not os.path.isdir(data_dir):
        raise DataFileError(repr(data_dir) if not data_dir else data_dir,
                            "not a directory (the {}: expected one holding the MNIST files)".format(source))
    missing = [name for name in FILE_NAMES if file_in(data_dir, name) is None]
    if missing:
        raise DataFileError(
            data_dir,
            "missing {} (each may also end in .gz)".format(", ".join(missing)),
        )
    return data_dir


@contextmanager
def _collector_paused():
    """Pause the cyclic garbage collector while tens of thousands of lists are made.

    Lists of floats cannot form reference cycles, yet each new batch of them
    would set off a collection that walks all the lists made before: that
    alone took longer than reading and decoding the files.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_arrays(data_dir, images_name, labels_name):
    """(images, labels): the IdxArrays of a pair of files in `data_dir`, checked --
    images ubyte n x rows x cols of at least one pixel, n labels ubyte of one
    dimension -- or DataFileError naming the file at fault."""
    images_path = file_in(data_dir, images_name)
    labels_path = file_in(data_dir, labels_name)
    labels = read_idx(labels_path)
    if labels.dtype != "ubyte" or len(labels.shape) != 1:
        raise DataFileError(
            labels_path,
            "expected labels as ubyte of one dimension, found {} of shape {}".format(
                labels.dtype, "x".join(map(str, labels.shape))),
        )
    images = read_idx(images_path)
    if images.dtype != "ubyte" or len(images.shape) != 3:
        raise DataFileError(
            images_path,
            "expected images as ubyte n x rows x cols, found {} of shape {}".format(
                images.dtype, "x".join(map(str, images.shape))),
        )
    n, rows, cols = images.shape
    if rows * cols == 0:
        raise DataFileError(images_path, "images of {} x {} pixels hold nothing".format(rows, cols))
    if labels.count != n:
        raise DataFileError(labels_path, "{} labels for the {} images of {}".format(labels.count, n, images_path))
    return images, labels


def _read_pair(data_dir, images_name, labels_name):
    """(a list of Image, a list of int labels, the images' path, the labels' path)."""
    idx, labels = read_arrays(data_dir, images_name, labels_name)
    n, rows, cols = idx.shape
    size = rows * cols
    pixels = idx.data.tobytes()
    del idx
    with _collector_paused():
        images = [Image(pixels[i * size:(i + 1) * size]) for i in range(n)]
    del pixels
    # On PyPy the decoded file would otherwise linger until a later collection,
    # doubling the peak memory; on CPython it is already gone and this is quick.
    gc.collect()
    return images, labels.data.tolist(), file_in(data_dir, images_name), file_in(data_dir, labels_name)


def image_shape(data_dir=None):
    """(rows, cols) of the test images in `data_dir` (found as load_data finds it), from
    the file's header; (28, 28) for the book's pickle, whose images are 784 pixels in a row."""
    data_dir = find_data_dir(data_dir)
    if is_book_pickle(data_dir):
        return 28, 28
    path = file_in(data_dir, FILE_NAMES[2])
    dtype, shape = read_idx_header(path)
    if dtype != "ubyte" or len(shape) != 3:
        raise DataFileError(path, "expected images as ubyte n x rows x cols, found {} of shape {}".format(
            dtype, "x".join(map(str, shape))))
    return shape[1:]


def load_data(data_dir=None, validation_size=None):
    """Return (training_data, validation_data, test_data), each (images, labels).

    `images` is a list of n Images (sequences of 784 floats in [0, 1)), `labels` a list of
    n ints.  The last `validation_size` images of the training file are the
    validation data (by default 10,000: the book's split of MNIST's 60,000;
    see default_validation_size).
    """
    data_dir = find_data_dir(data_dir)
    if is_book_pickle(data_dir):
        return _load_book_pickle(data_dir, validation_size)
    images, labels, _, labels_path = _read_pair(data_dir, FILE_NAMES[0], FILE_NAMES[1])
    if validation_size is None:
        validation_size = default_validation_size(len(images))
    if not 0 <= validation_size < len(images):
        raise DataFileError(
            labels_path,
            "{} training images cannot spare {} for validation".format(len(images), validation_size),
        )
    training, validation = _split(images, labels, validation_size)
    test_images, test_labels, test_path, _ = _read_pair(data_dir, FILE_NAMES[2], FILE_NAMES[3])
    if images and test_images and len(images[0]) != len(test_images[0]):
        raise DataFileError(test_path, "images of {} pixels, but the training images have {}".format(
            len(test_images[0]), len(images[0])))
    return training, validation, (test_images, test_labels)


def _split(images, labels, validation_size):
    """(training, validation): the last validation_size images are the validation data."""
    split = len(images) - validation_size
    return (images[:split], labels[:split]), (images[split:], labels[split:])


def _load_book_pickle(path, validation_size):
    """load_data of the book's pickle at `path`: its own split, or re-split at validation_size."""
    sets = []
    for book_set in read_book_pickle(path):
        pixels = book_set.pixels
        with _collector_paused():
            images = [Image(pixels[i * PIXELS:(i + 1) * PIXELS]) for i in range(book_set.count)]
        sets.append((images, book_set.labels))
        del pixels, book_set
    gc.collect()
    training, validation, test = sets
    if validation_size is not None:
        images, labels = training[0] + validation[0], training[1] + validation[1]
        if not 0 <= validation_size < len(images):
            raise DataFileError(path, "{} training and validation images cannot spare {} for validation".format(
                len(images), validation_size))
        training, validation = _split(images, labels, validation_size)
    return training, validation, test


def vectorized_result(j):
    """The 10-element one-hot list with 1.0 at position j: the desired output for digit j."""
    if not (isinstance(j, int) and 0 <= j < NUM_CLASSES):
        raise ValueError("vectorized_result: {!r} is not a digit from 0 to 9".format(j))
    e = [0.0] * NUM_CLASSES
    e[j] = 1.0
    return e


def load_data_wrapper(data_dir=None, validation_size=None):
    """Return (training_data, validation_data, test_data) in the form a Network trains on.

    training_data is a list of (x, y): x an Image of 784 floats, y the one-hot
    list of 10 floats.  validation_data and test_data are lists of (x, label)
    with label an int -- as in the book, the two forms differ because
    training needs the vector and evaluation only the digit.
    """
    data_dir = find_data_dir(data_dir)
    training, validation, test = load_data(data_dir, validation_size)
    if is_book_pickle(data_dir):
        for name, (_, labels) in zip(("training", "validation", "test"), (training, validation, test)):
            _check_labels(data_dir, labels, name + " ")
    else:
        for name, (_, labels) in zip(FILE_NAMES[1::2], (training, test)):
            _check_labels(file_in(data_dir, name), labels)
        _check_labels(file_in(data_dir, FILE_NAMES[1]), validation[1], offset=len(training[1]))
    with _collector_paused():
        training_data = [(x, vectorized_result(y)) for x, y in zip(*training)]
        validation_data = list(zip(*validation))
        test_data = list(zip(*test))
    return training_data, validation_data, test_data


def _check_labels(path, labels, which="", offset=0):
    for i, label in enumerate(labels):
        if label >= NUM_CLASSES:
            raise DataFileError(
                path,
                "label {} of {}item {} is not a digit from 0 to {}".format(label, which, offset + i, NUM_CLASSES - 1),
            )


def vectorToImage(v, fname):
    """Write the 784-vector `v` (a flat sequence or the book's 784 x 1 column, values 0 to 1)
    as a 28 x 28 greyscale PNG at `fname`, pixel = round(256 v) at most 255, 0 black -- so an
    MNIST image gives back its IDX bytes.  ArgumentError if `v` is not such a vector."""
    try:
        values = list(v)
    except TypeError:
        raise ArgumentError("vectorToImage: {} is not a vector of 784 values".format(type(v).__name__)) from None
    if len(values) != PIXELS:
        raise ArgumentError("vectorToImage: {} values, expected 784 (28 x 28) as a list or a 784 x 1 column".format(
            len(values)))
    pixels = bytearray(PIXELS)
    for i, value in enumerate(values):
        if not isinstance(value, (int, float)):
            try:  # a row of the book's column: [value]
                (value,) = value
            except (TypeError, ValueError):
                raise ArgumentError("vectorToImage: item {} is {!r}, not a number or a row of one".format(
                    i, value)) from None
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ArgumentError("vectorToImage: item {} is {!r}, not a number".format(i, value)) from None
        if not 0.0 <= value <= 1.0:
            raise ArgumentError("vectorToImage: item {} is {!r}, outside 0 to 1".format(i, value))
        pixels[i] = min(255, round(value * 256))
    write_png(os.fspath(fname), 28, 28, bytes(pixels))
