"""Read and write IDX files, the format MNIST is distributed in.

An IDX file is a header followed by the elements of one n-dimensional array
in row-major order, every number big-endian:

    bytes 0-1   zero
    byte  2     element type (table below)
    byte  3     number of dimensions, d
    then        d sizes, each an unsigned 32-bit integer
    then        prod(sizes) elements

    code  name     bytes  array typecode
    0x08  ubyte    1      B
    0x09  byte     1      b
    0x0B  short    2      h
    0x0C  int      4      i (or l, whichever is 4 bytes here)
    0x0D  float    4      f
    0x0E  double   8      d

Files may be gzip-compressed; that is recognised from the first two bytes,
never from the file name.

    read_idx(path)                      -> IdxArray(dtype, shape, data)
    read_idx_header(path)               -> (dtype, shape), the header alone
    write_idx(path, data, shape, dtype) -> writes the file atomically
    IdxWriter(path, shape, dtype)       -> the same, fed in pieces

`data` is a flat `array.array` in the machine's byte order.  Anything wrong
with a file raises DataFileError naming the file and the problem.

What a file costs to read is bounded by what its header declares, and that
is checked before any data is read: the data must fit in the file (a plain
file's size is the header plus the data, exactly; a gzip file cannot expand
more than 1032 times, the most deflate can, nor be more than twice its
contents and 1 MiB), in MAX_BYTES (1 GiB) and in the memory available.  So
a file of n bytes never costs more than the least of 1032 n, 1 GiB and the
memory there is -- and the data is read in pieces of 1 MiB, never more than
one piece past what the header declares.  Only regular files are read
(purenn.files.reading): never a FIFO or a device.
"""

import array
import gzip
import os
import struct
import sys
import tempfile
import zlib
from collections import namedtuple

from .atomic import file_mode
from .reading import amount, available_memory, open_input
from ..errors import ArgumentError, DataFileError

__all__ = ["IdxArray", "IdxWriter", "read_idx", "read_idx_header", "write_idx", "DTYPES", "MAX_BYTES"]


def _typecode(size, candidates):
    """The first array typecode among `candidates` whose items have `size` bytes."""
    for code in candidates:
        if array.array(code).itemsize == size:
            return code
    raise ImportError("no array typecode of {} bytes among {}".format(size, candidates))


_Dtype = namedtuple("_Dtype", "code name size typecode")

#: The six IDX element types, by name.
DTYPES = {
    d.name: d
    for d in (
        _Dtype(0x08, "ubyte", 1, "B"),
        _Dtype(0x09, "byte", 1, "b"),
        _Dtype(0x0B, "short", 2, _typecode(2, "hil")),
        _Dtype(0x0C, "int", 4, _typecode(4, "ilh")),
        _Dtype(0x0D, "float", 4, _typecode(4, "f")),
        _Dtype(0x0E, "double", 8, _typecode(8, "d")),
    )
}
_BY_CODE = {d.code: d for d in DTYPES.values()}

#: The most data purenn reads from one IDX file: 1 GiB, five times the expanded
#: MNIST (260,000 images of 28 x 28, 204 MB).
MAX_BYTES = 2 ** 30

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20  # read in pieces: never more than a piece past what the header declares
# Deflate turns at most 2 bits into 258 bytes: no gzip file expands more than this.
_DEFLATE_RATIO = 1032


class IdxArray(namedtuple("IdxArray", "dtype shape data")):
    """One IDX array: `dtype` a name from DTYPES, `shape` a tuple of ints,
    `data` a flat array.array of prod(shape) elements in row-major order."""

    __slots__ = ()

    @property
    def count(self):
        """The number of elements, prod(shape)."""
        return _product(self.shape)


def _product(shape):
    n = 1
    for size in shape:
        n *= size
    return n


def _describe(shape, dtype):
    return "{} {}".format("x".join(str(s) for s in shape), dtype.name)


def read_idx(path):
    """Read the IDX file at `path` (plain or gzip-compressed) into an IdxArray."""
    return _reading(path, _read_data)


def read_idx_header(path):
    """(dtype, shape) of the IDX file at `path`, from its header alone."""
    return _reading(path, lambda path, stream, dtype, shape: (dtype.name, shape))


def _reading(path, then):
    """then(path, stream, dtype, shape) on the open file at `path`, its header read
    and what it declares checked against the file's size, MAX_BYTES and the memory."""
    raw = open_input(path, DataFileError)
    try:
        size = os.fstat(raw.fileno()).st_size
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
        try:
            dtype, shape = _read_header(path, stream)
            _check_declared(path, dtype, shape, size, compressed)
            return then(path, stream, dtype, shape)
        except (OSError, EOFError, zlib.error) as e:
            if not compressed:
                raise DataFileError(path, "cannot read: {}".format(e.strerror or e)) from None
            # gzip reports a damaged stream as OSError ("Not a gzipped file",
            # "CRC check failed") or EOFError (stream cut short).
            raise DataFileError(path, "corrupt or truncated gzip data: {}".format(e)) from None
        finally:
            stream.close()
    finally:
        raw.close()


def _read_exactly(stream, n):
    """Up to n bytes from stream, read in bounded pieces."""
    pieces = []
    while n > 0:
        piece = stream.read(min(n, _CHUNK))
        if not piece:
            break
        pieces.append(piece)
        n -= len(piece)
    return b"".join(pieces)


def _read_header(path, stream):
    """(dtype, shape) from the header at the start of `stream`."""
    head = _read_exactly(stream, 4)
    if not head:
        raise DataFileError(path, "empty file, expected an IDX header")
    if len(head) < 4:
        raise DataFileError(path, "truncated header: {} bytes, expected at least 4".format(len(head)))
    if head[0] != 0 or head[1] != 0:
        raise DataFileError(
            path,
            "not an IDX file: first bytes are 0x{:02x} 0x{:02x}, expected 0x00 0x00".format(
                head[0], head[1]),
        )
    dtype = _BY_CODE.get(head[2])
    if dtype is None:
        raise DataFileError(
            path,
            "unknown IDX element type 0x{:02x}, expected one of {}".format(
                head[2], ", ".join("0x{:02X} ({})".format(d.code, d.name) for d in DTYPES.values())),
        )
    ndim = head[3]
    if ndim == 0:
        raise DataFileError(path, "the header declares 0 dimensions, expected at least 1")
    dims = _read_exactly(stream, 4 * ndim)
    if len(dims) < 4 * ndim:
        raise DataFileError(
            path,
            "truncated header: {} dimensions declared, but only {} of their {} bytes present".format(
                ndim, len(dims), 4 * ndim),
        )
    return dtype, struct.unpack(">{}I".format(ndim), dims)


def _check_declared(path, dtype, shape, size, compressed):
    """Refuse, before reading any of it, data the header declares that the file
    (`size` bytes on disk) cannot hold, or that is more than MAX_BYTES or than
    the memory available."""
    header = 4 + 4 * len(shape)
    nbytes = _product(shape) * dtype.size
    declared = "the header declares {} = {} bytes of data".format(_describe(shape, dtype), nbytes)
    if size > 0:  # 0: not a size the system knows (a file in /proc); the reading finds out
        if compressed and header + nbytes > _DEFLATE_RATIO * size:
            raise DataFileError(path, "truncated or damaged: {}, more than a gzip file of {} bytes can "
                                      "hold (deflate expands at most {}:1)".format(declared, size, _DEFLATE_RATIO))
        if compressed and size > 2 * (header + nbytes) + _CHUNK:
            # gzip's worst case is the data stored as it is, plus 5 bytes in 16 KiB:
            # the rest is padding or trailing data, which gzip reads a byte at a time
            raise DataFileError(path, "a gzip file of {} bytes, far more than the {} bytes of IDX its header "
                                      "declares need: trailing data or padding".format(size, header + nbytes))
        if not compressed and size - header < nbytes:
            raise DataFileError(path, "truncated: {}, the file holds {}".format(declared, size - header))
        if not compressed and size - header > nbytes:
            raise DataFileError(path, "{} bytes after the {} data the header declares".format(
                size - header - nbytes, _describe(shape, dtype)))
    if nbytes > MAX_BYTES:
        raise DataFileError(path, "{}, more than the {} purenn reads from an IDX file".format(
            declared, amount(MAX_BYTES)))
    available = available_memory()
    if available is not None and nbytes > available:
        raise DataFileError(path, "{}, more than the {} of memory available".format(declared, amount(available)))


def _read_data(path, stream, dtype, shape):
    """The IdxArray of the data after the header: exactly what the header declares,
    read in pieces, with no more than _CHUNK bytes read past it."""
    nbytes = _product(shape) * dtype.size
    data = array.array(dtype.typecode)
    got, pending = 0, b""
    while got < nbytes:
        piece = stream.read(min(nbytes - got, _CHUNK))
        if not piece:
            raise DataFileError(
                path,
                "truncated: the header declares {} = {} bytes of data, the file holds {}".format(
                    _describe(shape, dtype), nbytes, got),
            )
        got += len(piece)
        # a read may end inside an element: keep the part of it for the next piece
        piece = pending + piece
        whole = len(piece) - len(piece) % dtype.size
        data.frombytes(piece[:whole])
        pending = piece[whole:]
    extra = len(_read_exactly(stream, _CHUNK))
    if extra:
        raise DataFileError(
            path,
            "{}{} bytes after the {} data the header declares".format(
                "more than " if extra == _CHUNK else "", extra, _describe(shape, dtype)),
        )
    if dtype.size > 1 and sys.byteorder == "little":
        data.byteswap()
    return IdxArray(dtype.name, tuple(shape), data)


class IdxWriter:
    """Write one IDX array in pieces, atomically.

        with IdxWriter("images.gz", (n, 28, 28), "ubyte") as out:
            for image in images:
                out.write(image)        # any iterable of numbers, or bytes

    The file appears under its name only when the `with` block ends without
    an error and exactly prod(shape) elements were written; until then it is
    a temporary file beside it, removed on failure.  `compress` chooses gzip;
    by default a name ending in ".gz" is compressed, at `compresslevel`.
    """

    def __init__(self, path, shape, dtype="ubyte", compress=None, compresslevel=9):
        if dtype not in DTYPES:
            raise ArgumentError("dtype: {!r} is not an IDX element type; expected one of {}".format(
                dtype, ", ".join(DTYPES)))
        shape = tuple(shape)
        if not shape or len(shape) > 255:
            raise ArgumentError("shape: an IDX array has 1 to 255 dimensions, not {}".format(len(shape)))
        for size in shape:
            if not isinstance(size, int) or not 0 <= size < 2 ** 32:
                raise ArgumentError("shape: {!r} is not a size from 0 to 2**32-1".format(size))
        self.path = os.fspath(path)
        self.shape = shape
        self.dtype = DTYPES[dtype]
        self.compress = self.path.endswith(".gz") if compress is None else compress
        self.compresslevel = compresslevel
        self.expected = _product(shape)
        self.written = 0
        self._tmp = None
        self._raw = None
        self._out = None

    def __enter__(self):
        directory = os.path.dirname(os.path.abspath(self.path))
        fd, self._tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".idx", dir=directory)
        self._raw = os.fdopen(fd, "wb")
        # mtime=0 and no file name in the gzip header: the same array always
        # gives the same bytes.
        self._out = (gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0,
                                   compresslevel=self.compresslevel)
                     if self.compress else self._raw)
        self._out.write(bytes([0, 0, self.dtype.code, len(self.shape)]))
        self._out.write(struct.pack(">{}I".format(len(self.shape)), *self.shape))
        return self

    def write(self, values):
        """Append elements (an iterable of numbers, an array.array, or bytes for ubyte)."""
        if isinstance(values, array.array) and values.typecode == self.dtype.typecode:
            piece = array.array(self.dtype.typecode, values)
        elif isinstance(values, (bytes, bytearray)) and self.dtype.name == "ubyte":
            piece = array.array("B", values)
        else:
            if isinstance(values, (bytes, bytearray)):
                values = list(values)  # bytes are element values, not raw memory
            try:
                piece = array.array(self.dtype.typecode, values)
            except (OverflowError, TypeError) as e:
                raise ArgumentError("{}: a value does not fit IDX type {}: {}".format(
                    self.path, self.dtype.name, e)) from None
        if self.written + len(piece) > self.expected:
            raise ArgumentError("{}: more than the {} elements of shape {}".format(
                self.path, self.expected, "x".join(map(str, self.shape))))
        if self.dtype.size > 1 and sys.byteorder == "little":
            piece.byteswap()
        try:
            self._out.write(piece.tobytes())
        except OSError as e:
            raise OSError(e.errno, e.strerror or str(e), self.path) from None
        self.written += len(piece)

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self._discard()
            return False
        try:
            if self.written != self.expected:
                raise ArgumentError("{}: {} elements written, shape {} needs {}".format(
                    self.path, self.written, "x".join(map(str, self.shape)), self.expected))
            if self._out is not self._raw:
                self._out.close()
            self._raw.flush()
            os.fsync(self._raw.fileno())
            self._raw.close()
            os.chmod(self._tmp, file_mode())
            os.replace(self._tmp, self.path)
            self._tmp = None
        except OSError as e:  # a full disk: named by the file being written, and nothing left behind
            self._discard()
            raise OSError(e.errno, e.strerror or str(e), self.path) from None
        except BaseException:
            self._discard()
            raise
        return False

    def _discard(self):
        """Close and remove the temporary file, whatever state a failure left it in."""
        for stream in (self._out, self._raw):
            try:
                stream.close()
            except (OSError, ValueError):
                pass
        try:
            os.unlink(self._tmp)
        except OSError:
            pass
        self._tmp = None


def write_idx(path, data, shape, dtype="ubyte", compress=None):
    """Write `data` (a flat sequence of prod(shape) numbers) as one IDX file."""
    with IdxWriter(path, shape, dtype, compress) as out:
        out.write(data)
