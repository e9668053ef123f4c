"""Open a file purenn reads as input, so that reading it always ends.

Every file purenn reads -- a model or checkpoint, an IDX data file, a
picture -- is opened here.  Only a regular file is read: a FIFO would block
the open (and then the reads) until some other program writes to it, and a
device such as /dev/zero or /dev/urandom never ends.  Both are refused
before a byte is read, as are directories and sockets:

    open_input(path, error)             -> the file, open for reading in binary
    read_input(path, error, limit)      -> its bytes, at most `limit` of them
    amount(n)                           -> "1 GiB (1,073,741,824 bytes)", for messages
    available_memory()                  -> bytes of memory available, or None

`error` is the exception type to raise, DataFileError or ModelFileError:
error(path, problem), e.g. "not a regular file (a FIFO)".  Each reader sets
its own limit from what its format can need, in its module docstring.

The check is made on the open file itself (fstat), so a name that is
swapped for a FIFO between a check and the open cannot slip through; the
open does not wait for a FIFO's writer (O_NONBLOCK, where there is one).
"""

import os
import stat

__all__ = ["open_input", "read_input", "amount", "available_memory"]

# The kinds of file that are not regular, as a problem names them.
_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"))

_FLAGS = (os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
          | getattr(os, "O_NOCTTY", 0))


def _not_regular(mode):
    """What a file of this st_mode is, when it is not a regular file; else None."""
    if stat.S_ISREG(mode):
        return None
    for test, name in _KINDS:
        if test(mode):
            return "not a regular file ({})".format(name)
    return "not a regular file"


def open_input(path, error):
    """The regular file at `path`, open for reading in binary mode; error(path,
    problem) if it cannot be opened or is not a regular file."""
    path = os.fspath(path)
    try:
        fd = os.open(path, _FLAGS)
    except OSError as e:
        try:  # a socket cannot be opened at all, nor a directory on Windows: say what it is
            problem = _not_regular(os.stat(path).st_mode)
        except OSError:
            problem = None
        raise error(path, problem or "cannot open: {}".format(e.strerror or e)) from None
    try:
        problem = _not_regular(os.fstat(fd).st_mode)
        if problem is not None:
            raise error(path, problem)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_input(path, error, limit, what="a file"):
    """The bytes of the regular file at `path`; error(path, problem) if it is
    not one, or holds more than `limit` bytes (the `what` purenn reads)."""
    with open_input(path, error) as f:
        size = os.fstat(f.fileno()).st_size
        if size > limit:
            raise error(path, _too_large(size, limit, what))
        try:
            data = f.read(size + 1)
            if len(data) > size:  # it grew since: read on, to one byte past the limit
                data += f.read(limit + 1 - len(data))
        except OSError as e:
            raise error(path, "cannot read: {}".format(e.strerror or e)) from None
    if len(data) > limit:
        raise error(path, _too_large(len(data), limit, what))
    return data


def _too_large(size, limit, what):
    return "{:,} bytes, larger than the {} purenn reads as {}".format(size, amount(limit), what)


def amount(n):
    """A number of bytes for a message: "1 GiB (1,073,741,824 bytes)"."""
    if n < 2 ** 20:
        return "{:,} bytes".format(n)
    unit, name = (2 ** 30, "GiB") if n >= 2 ** 30 else (2 ** 20, "MiB")
    return "{:.3g} {} ({:,} bytes)".format(n / unit, name, n)


def available_memory():
    """Bytes of memory available (Linux's MemAvailable), or None where unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None
