"""expand_mnist -- the book's expanded training set: every training image
and its four one-pixel shifts.

Chapter 6 grows MNIST's 50,000 training images to 250,000 by adding, for
each image, copies moved one pixel up, down, left and right; the row or
column moved in from the edge is blank.  The 250,000 are shuffled (with a
seed, here) and written as gzipped IDX files in MNIST's own layout, so the
loader and `python -m purenn train --data DIR` read them like any data set:

    DIR/train-images-idx3-ubyte.gz   the 250,000 shuffled images, then the
                                     10,000 validation images unchanged
    DIR/train-labels-idx1-ubyte.gz   their labels
    DIR/t10k-*.gz                    the test files, unchanged

so that the loader's usual split keeps the validation images apart.

The work streams: images are made one at a time, in the shuffled order,
straight into the output files; nothing holds 250,000 images at once.

    shift(pixels, rows, cols, which)    -> one of the five versions of an image, as bytes
    shifts(pixels, rows, cols)          -> all five
    expand(out_dir, data_dir=None, seed=0) -> (training images, validation images) written
"""

import os
import random

from .errors import ArgumentError, DataFileError
from .files.atomic import write_bytes
from .files.idx import MAX_BYTES, IdxWriter
from .files.reading import read_input
from .mnist_loader import FILE_NAMES, file_in, find_data_dir, default_validation_size, read_arrays

__all__ = ["SHIFTS", "shift", "shifts", "expand"]


#: The five versions of an image, in the order shift() numbers them.
SHIFTS = ("unchanged", "down", "up", "right", "left")


def shift(pixels, rows, cols, which):
    """One version of an image (rows x cols bytes): SHIFTS[which]; the row or
    column moved in from the edge is blank (0)."""
    if which == 0:
        return bytes(pixels)
    if which == 1:
        return bytes(cols) + pixels[:-cols]
    if which == 2:
        return pixels[cols:] + bytes(cols)
    lines = (pixels[r * cols:(r + 1) * cols] for r in range(rows))
    if which == 3:
        return b"".join(b"\0" + line[:-1] for line in lines)
    return b"".join(line[1:] + b"\0" for line in lines)


def shifts(pixels, rows, cols):
    """The image and its four one-pixel shifts, as bytes, in the order of SHIFTS."""
    return [shift(pixels, rows, cols, which) for which in range(len(SHIFTS))]


def _check_out_dir(out_dir, data_dir):
    """out_dir is not the data directory (nor a link to it), and holds no file
    that the loader would find beside the ones written (name and name.gz)."""
    if os.path.realpath(out_dir) == os.path.realpath(data_dir):
        raise ArgumentError("out_dir: {} is the data directory {} itself; choose another".format(out_dir, data_dir))
    if os.path.lexists(out_dir) and not os.path.isdir(out_dir):
        raise ArgumentError("out_dir: {} is a file, not a directory".format(out_dir))
    if not os.path.isdir(out_dir):
        return
    for name in FILE_NAMES:
        written = os.path.basename(file_in(data_dir, name)) if name in FILE_NAMES[2:] else name + ".gz"
        other = name if written.endswith(".gz") else name + ".gz"
        if os.path.lexists(os.path.join(out_dir, other)):
            raise ArgumentError("out_dir: {} holds {}, which the loader would find beside the {} written; remove "
                                "it or choose another directory".format(out_dir, other, written))


def expand(out_dir, data_dir=None, seed=0, progress=None):
    """Write the expanded training set (and copies of the test files) into out_dir;
    return (the number of expanded training images, the number of validation images).

    For MNIST the loader's usual split keeps the 10,000 validation images apart
    again; for a smaller data set pass validation_size (--validation-size) to it."""
    data_dir = find_data_dir(data_dir)
    _check_out_dir(out_dir, data_dir)
    images, labels = read_arrays(data_dir, FILE_NAMES[0], FILE_NAMES[1])
    read_arrays(data_dir, FILE_NAMES[2], FILE_NAMES[3])  # checked before they are copied
    os.makedirs(out_dir, exist_ok=True)
    n, rows, cols = images.shape
    size = rows * cols
    pixels = images.data.tobytes()
    del images
    split = n - default_validation_size(n)
    count = 5 * split
    order = list(range(count))  # 5 * i + s: shift s of training image i
    random.Random(seed).shuffle(order)

    images_out = os.path.join(out_dir, FILE_NAMES[0] + ".gz")
    labels_out = os.path.join(out_dir, FILE_NAMES[1] + ".gz")
    total = count + (n - split)
    with IdxWriter(images_out, (total, rows, cols), "ubyte", compresslevel=6) as image_file, \
            IdxWriter(labels_out, (total,), "ubyte", compresslevel=6) as label_file:
        label_bytes = labels.data.tobytes()
        for done, position in enumerate(order):
            i, s = divmod(position, 5)
            image_file.write(shift(pixels[i * size:(i + 1) * size], rows, cols, s))
            label_file.write(label_bytes[i:i + 1])
            if progress is not None and done % 5000 == 0:
                progress(done, count)
        # the validation images, unchanged, at the end where the loader looks for them
        image_file.write(pixels[split * size:])
        label_file.write(label_bytes[split:])
    if progress is not None:
        progress(count, count)
    for name in FILE_NAMES[2:]:
        source = file_in(data_dir, name)
        target = os.path.join(out_dir, os.path.basename(source))
        write_bytes(target, read_input(source, DataFileError, 2 * MAX_BYTES, "an IDX file"))
    return count, n - split
