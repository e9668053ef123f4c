"""The book's data file, mnist.pkl.gz, read without NumPy and without running its code.

The book's loader unpickles `mnist.pkl.gz` (and chapter 6's
`mnist_expanded.pkl.gz`): gzip(pickle((training, validation, test))), each an
(images, labels) pair of NumPy arrays -- images float32 of shape (n, 784),
labels int64 of shape (n,) -- pickled by Python 2's cPickle, protocol 2.
Unpickling runs whatever the file names, so this reader understands exactly
that and nothing more:

    read_book_pickle(path) -> (training, validation, test), each a BookSet:
                              pixels  bytes of n * 784 pixel values k, row by row
                              count   n
                              labels  a list of n ints
    is_book_pickle(path)   -> whether `path` is a file to read so (a regular
                              file, not a directory)

Every float of the book's images is exactly k / 256 for a byte k (the IDX
file's pixel): k / 256 needs at most 8 significant bits, so float32 holds it
exactly, and so does a Python float.  The reader turns each float back into
its k, and refuses a file with any other value: purenn's loader then makes
the very Images that the IDX files give (pixel = PIXEL_VALUES[k] = k / 256),
so nothing is rounded either way.

What is refused, each with one DataFileError naming the file:

  * a global other than the four the book's arrays need -- NumPy's
    _reconstruct, ndarray and dtype, and _codecs.encode (which Python 3's
    protocol-2 pickles use for bytes) -- e.g. "refuses to load os.system: not
    part of the book's MNIST arrays".  Those four are purenn's own stand-ins
    that only record a shape, a dtype and raw bytes: NumPy is never imported,
    and no code the file names is run;
  * any opcode the book's file does not use (a pre-scan of the opcodes,
    before anything is built), persistent ids, another protocol than 2, data
    after the pickle's end;
  * anything but a 3-tuple of (images, labels) pairs; images that are not
    float32 (either byte order) of shape (n, 784) in C order, labels that are
    not int64 or int32 (either byte order) of shape (n,) or are negative.

Limits: only regular files are read (purenn.files.reading), of at most
MAX_BYTES on disk, and the pickle is never inflated past MAX_BYTES (1 GiB;
the expanded set of 260,000 images is 850 MB).  The file is decompressed
twice -- once for the pre-scan, once to build -- so that the whole pickle is
never in memory at once: the peak is the raw arrays (4 bytes a pixel) and
the pixels made of them.
"""

import array
import codecs
import gzip
import io
import os
import pickle
import pickletools
import struct
import sys
import zlib
from collections import namedtuple

from .reading import amount, open_input
from ..errors import DataFileError

__all__ = ["BookSet", "read_book_pickle", "is_book_pickle", "MAX_BYTES", "PIXELS"]

#: The most purenn reads from a book pickle, on disk and inflated: 1 GiB.
MAX_BYTES = 2 ** 30

#: Pixels per image in the book's files: 28 x 28, flattened.
PIXELS = 784

#: One data set of the book's file.
BookSet = namedtuple("BookSet", "pixels count labels")

# The globals the book's arrays need, and the stand-ins that take their place.
_NUMPY_RECONSTRUCT = (("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"))

# The opcodes a protocol-2 pickle of tuples of NumPy arrays uses: Python 2's
# cPickle (strings as SHORT_BINSTRING/BINSTRING) and Python 3's (BINUNICODE,
# bytes through _codecs.encode).
_OPCODES = frozenset([
    "PROTO", "STOP", "MARK", "GLOBAL", "REDUCE", "BUILD",
    "BINPUT", "LONG_BINPUT", "BINGET", "LONG_BINGET",
    "BININT", "BININT1", "BININT2", "NONE", "NEWTRUE", "NEWFALSE",
    "SHORT_BINSTRING", "BINSTRING", "BINUNICODE",
    "EMPTY_TUPLE", "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3",
])

_CHUNK = 1 << 20


class _Refused(Exception):
    """What the file holds that purenn will not build (a message without the path)."""


class _Array:
    """Stands in for numpy.ndarray: records shape, dtype, order and the raw bytes."""

    def __init__(self):
        self.shape = self.dtype = self.fortran = self.raw = None

    def __setstate__(self, state):
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise _Refused("an array's state is not (version, shape, dtype, order, data)")
        self.shape, self.dtype, self.fortran, raw = state[-4:]
        if isinstance(raw, str):    # a Python 2 str read as latin-1 text
            raw = raw.encode("latin-1")
        if not (isinstance(self.shape, tuple) and all(isinstance(s, int) and s >= 0 for s in self.shape)
                and isinstance(self.dtype, _Dtype) and isinstance(raw, bytes)):
            raise _Refused("an array's state is not (version, shape, dtype, order, data)")
        self.raw = raw


def _reconstruct(cls, shape, typecode):
    """Stands in for numpy.core.multiarray._reconstruct(ndarray, (0,), 'b')."""
    if cls is not _Array:
        raise _Refused("_reconstruct of something other than an ndarray")
    return _Array()


class _Dtype:
    """Stands in for numpy.dtype: records the type ('f4', 'i8', 'i4') and the byte order."""

    def __init__(self, spec, align=False, copy=True):
        if isinstance(spec, bytes):
            spec = spec.decode("latin-1")
        if spec not in ("f4", "i8", "i4"):
            raise _Refused("dtype {!r}, expected f4 images and i8 (or i4) labels".format(spec))
        self.spec = spec
        self.order = None

    def __setstate__(self, state):
        if not isinstance(state, tuple) or len(state) < 2:
            raise _Refused("a dtype's state is not (version, byte order, ...)")
        order = state[1].decode("latin-1") if isinstance(state[1], bytes) else state[1]
        if order not in ("<", ">"):
            raise _Refused("dtype {} of byte order {!r}, expected '<' or '>'".format(self.spec, order))
        if any(part is not None for part in state[2:5]):
            raise _Refused("dtype {} with fields or a subarray".format(self.spec))
        self.order = order


def _latin1(text, encoding):
    """Stands in for _codecs.encode(text, 'latin1'), which Python 3 pickles bytes with."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise _Refused("_codecs.encode of something other than latin-1 text")
    return text.encode("latin-1")


class _Function:
    """A stand-in function that a pickle's BUILD cannot change (a function's __dict__ could be)."""

    __slots__ = ("function",)

    def __init__(self, function):
        self.function = function

    def __call__(self, *args):
        return self.function(*args)

    def __setstate__(self, state):
        raise _Refused("refuses to change {}: not part of the book's MNIST arrays".format(self.function.__name__))


_STAND_INS = dict([(name, _Function(_reconstruct)) for name in _NUMPY_RECONSTRUCT]
                  + [(("numpy", "ndarray"), _Array), (("numpy", "dtype"), _Dtype),
                     (("_codecs", "encode"), _Function(_latin1))])


class _Unpickler(pickle.Unpickler):
    """An unpickler that finds only the stand-ins and refuses persistent ids."""

    def find_class(self, module, name):
        stand_in = _STAND_INS.get((module, name))
        if stand_in is None:
            raise _Refused(_refusal(module, name))
        return stand_in

    def persistent_load(self, pid):
        raise _Refused("refuses a persistent id: not part of the book's MNIST arrays")


def _refusal(module, name):
    return "refuses to load {}.{}: not part of the book's MNIST arrays".format(module, name)


class _Capped:
    """A stream that refuses to give more than MAX_BYTES (a gzip bomb ends there)."""

    def __init__(self, stream):
        self.stream = stream
        self.given = 0

    def _count(self, data):
        self.given += len(data)
        if self.given > MAX_BYTES:
            raise _Refused("inflates to more than the {} purenn reads from a pickle".format(amount(MAX_BYTES)))
        return data

    def read(self, n=-1):
        if n is None or n < 0 or n > MAX_BYTES - self.given:
            n = MAX_BYTES + 1 - self.given  # a length past the cap: read to it, and refuse
        if n <= _CHUNK:
            return self._count(self.stream.read(n))
        out = io.BytesIO()  # in pieces: a length a damaged file declares is never allocated at once
        while n > 0:
            piece = self._count(self.stream.read(min(n, _CHUNK)))
            if not piece:
                break
            out.write(piece)
            n -= len(piece)
        return out.getvalue()

    def tell(self):
        return self.given

    def readline(self, limit=-1):
        return self._count(self.stream.readline(limit if limit and limit > 0 else 4096))


def is_book_pickle(path):
    """Whether the loader should read `path` as the book's pickle: it names something that is not a directory."""
    return path is not None and os.path.lexists(os.fspath(path)) and not os.path.isdir(os.fspath(path))


def read_book_pickle(path):
    """(training, validation, test) of the book's pickle at `path`, each a BookSet."""
    path = os.fspath(path)
    name = path
    with open_input(path, DataFileError) as raw:
        size = os.fstat(raw.fileno()).st_size
        if size > MAX_BYTES:
            raise DataFileError(name, "{:,} bytes, larger than the {} purenn reads as a pickle".format(
                size, amount(MAX_BYTES)))
        if raw.read(2) != b"\x1f\x8b":
            raise DataFileError(name, "not a gzip file (the book's mnist.pkl.gz is gzip of a pickle)")
        try:
            _scan(raw)
            sets = _build(raw)
        except _Refused as e:
            raise DataFileError(name, str(e)) from None
        except (OSError, EOFError, zlib.error) as e:
            raise DataFileError(name, "corrupt or truncated gzip data: {}".format(e)) from None
    return sets


def _inflated(raw):
    raw.seek(0)
    return _Capped(gzip.GzipFile(fileobj=raw, mode="rb"))


# What follows each opcode allowed, by its code: a fixed number of bytes,
# a little-endian length of 1 or 4 bytes and that many bytes ("1+", "4+"), or
# two lines (GLOBAL's module and name).
_ARGUMENTS = {"PROTO": 1, "BINPUT": 1, "LONG_BINPUT": 4, "BINGET": 1, "LONG_BINGET": 4, "BININT": 4,
              "BININT1": 1, "BININT2": 2, "SHORT_BINSTRING": "1+", "BINSTRING": "4+", "BINUNICODE": "4+",
              "GLOBAL": "lines"}
_ALLOWED = {op.code.encode("latin-1"): op.name for op in pickletools.opcodes if op.name in _OPCODES}


def _scan(raw):
    """Refuse any opcode, global or memo index the book's file would not hold, before building
    anything.  A walk of the opcodes like pickletools.genops, which would also copy and decode the
    157 MB string of the training images: this skips strings, a piece at a time."""
    stream = _inflated(raw)
    puts = 0
    while True:
        position = stream.given
        code = stream.read(1)
        if not code:
            raise _Refused("not a pickle of the book's arrays: it ends before its STOP opcode")
        name = _ALLOWED.get(code)
        if name is None:
            op = pickletools.code2op.get(code.decode("latin-1"))
            raise _Refused("refuses {} (at byte {:,} of the pickle): not part of the book's MNIST arrays".format(
                "opcode " + op.name if op else "byte 0x{:02x}, not an opcode".format(code[0]), position))
        if name == "STOP":
            break
        argument = _ARGUMENTS.get(name, 0)
        if argument == "lines":
            module, attribute = (stream.readline().rstrip(b"\n").decode("latin-1") for _ in range(2))
            if (module, attribute) not in _STAND_INS:
                raise _Refused(_refusal(module, attribute))
        elif isinstance(argument, str):
            size = int(argument[0])
            length = int.from_bytes(_exactly(stream, size), "little", signed=name == "BINSTRING")
            if length < 0:
                raise _Refused("not a pickle of the book's arrays: a string of {} bytes".format(length))
            while length > 0:
                length -= len(_exactly(stream, min(length, _CHUNK)))
        elif argument:
            value = int.from_bytes(_exactly(stream, argument), "little")
            if name == "PROTO" and value != 2:
                raise _Refused("pickle protocol {}, expected 2 (the book's cPickle)".format(value))
            if name.endswith("PUT"):
                puts += 1
                if value > puts:  # the memo is a list as long as its largest index: keep it small
                    raise _Refused("memo index {:,} (at byte {:,} of the pickle), far past the {} stored".format(
                        value, position, puts))
    if stream.read(1):
        raise _Refused("data after the end of the pickle")


def _exactly(stream, n):
    data = stream.read(n)
    if len(data) < n:
        raise _Refused("not a pickle of the book's arrays: it ends before its STOP opcode")
    return data


def _build(raw):
    """Unpickle with the stand-ins, check the structure, and turn the arrays into BookSets."""
    unpickler = _Unpickler(_inflated(raw), encoding="bytes")
    try:
        data = unpickler.load()
    except _Refused:
        raise
    except (pickle.UnpicklingError, TypeError, ValueError, IndexError, KeyError, AttributeError,
            struct.error, RecursionError) as e:
        raise _Refused("not a pickle of the book's arrays: {}".format(e)) from None
    del unpickler  # its memo holds every raw array: let each go once converted
    if not (isinstance(data, tuple) and len(data) == 3
            and all(isinstance(pair, tuple) and len(pair) == 2 for pair in data)):
        raise _Refused("expected (training, validation, test), each (images, labels); found {}".format(
            _sketch(data)))
    sets = []
    for name, (images, labels) in zip(("training", "validation", "test"), data):
        sets.append(_book_set(name, images, labels))
        images.raw = labels.raw = None
    return tuple(sets)


def _sketch(value, depth=0):
    if isinstance(value, tuple) and depth < 2:
        return "({})".format(", ".join(_sketch(v, depth + 1) for v in value[:4]) + (", ..." if len(value) > 4 else ""))
    if isinstance(value, _Array):
        return "an array"
    return type(value).__name__


def _book_set(name, images, labels):
    if not isinstance(images, _Array) or not isinstance(labels, _Array):
        raise _Refused("the {} set is not (images, labels) as two arrays".format(name))
    if images.dtype.spec != "f4" or len(images.shape) != 2 or images.shape[1] != PIXELS or images.fortran:
        raise _Refused("the {} images are {}, expected float32 of shape (n, {}) in C order".format(
            name, _describe(images), PIXELS))
    n = images.shape[0]
    if labels.dtype.spec not in ("i8", "i4") or len(labels.shape) != 1:
        raise _Refused("the {} labels are {}, expected int64 of shape (n,)".format(name, _describe(labels)))
    if labels.shape[0] != n:
        raise _Refused("{} {} labels for {} images".format(labels.shape[0], name, n))
    for part in (images, labels):
        if part.dtype.order is None:
            raise _Refused("the {} {} have a dtype without its byte order".format(name, part.dtype.spec))
        expected = _count(part.shape) * int(part.dtype.spec[1])
        if len(part.raw) != expected:
            raise _Refused("the {} array {} holds {:,} bytes, not the {:,} its shape needs".format(
                name, _describe(part), len(part.raw), expected))
    return BookSet(_pixels(name, images), n, _labels(name, labels))


def _describe(array):
    return "{}{} of shape {}".format(array.dtype.order or "", array.dtype.spec, array.shape)


def _count(shape):
    n = 1
    for size in shape:
        n *= size
    return n


# k / 256 in float32 has its low 16 bits zero; its high 16 bits, as a character,
# are mapped back to k by a charmap codec -- a C loop that refuses any other value.
_HIGH_HALVES = "".join(chr(struct.unpack(">H", struct.pack(">f", k / 256)[:2])[0]) for k in range(256))
_TO_PIXEL = codecs.charmap_build(_HIGH_HALVES)
_STEP = 4 * PIXELS * 1024  # raw bytes converted at a time: 1,024 images


def _pixels(name, images):
    """The bytes k of every float k / 256 in the images, or _Refused naming the first other value."""
    raw, pieces = images.raw, []
    big = images.dtype.order == ">"
    for start in range(0, len(raw), _STEP):
        piece = raw[start:start + _STEP]
        low = piece[2::4] + piece[3::4] if big else piece[0::4] + piece[1::4]
        high = bytearray(len(piece) // 2)  # each float's high 16 bits, big-endian
        high[0::2], high[1::2] = (piece[0::4], piece[1::4]) if big else (piece[3::4], piece[2::4])
        try:
            if low.count(0) != len(low):
                raise ValueError
            pieces.append(codecs.charmap_encode(high.decode("utf-16-be"), "strict", _TO_PIXEL)[0])
        except ValueError:  # UnicodeError too: a surrogate, or a value not in the table
            raise _Refused(_not_a_pixel(name, raw, start, big)) from None
    return b"".join(pieces)


def _not_a_pixel(name, raw, start, big):
    fmt = ">f" if big else "<f"
    for at in range(start, len(raw), 4):
        value = struct.unpack(fmt, raw[at:at + 4])[0]
        k = value * 256
        if not (0 <= k < 256 and k == int(k)):
            return ("pixel {} of {} image {} is {!r}, not k/256 for a byte k as in the book's file".format(
                at // 4 % PIXELS, name, at // 4 // PIXELS, value))
    return "the {} images hold a value that is not k/256".format(name)


def _labels(name, labels):
    code = next(c for c in "bhilq" if array.array(c).itemsize == int(labels.dtype.spec[1]))
    values = array.array(code, labels.raw)
    if (labels.dtype.order == "<") != (sys.byteorder == "little"):
        values.byteswap()
    values = values.tolist()
    for i, label in enumerate(values):
        if label < 0:
            raise _Refused("label {} of {} item {} is negative".format(label, name, i))
    return values
