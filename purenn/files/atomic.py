"""Write a file so that it is never seen half-written.

The text goes to a temporary file beside the destination, is flushed to
disk, and is renamed over the destination in one step (os.replace is atomic
on POSIX and Windows), and the directory is flushed after it.  If anything
fails or interrupts the write, the old file is untouched and the temporary
file is removed -- except after SIGKILL or a power cut, which can leave a
temporary file named .tmp-* beside the destination (never the destination
half-written).
"""

import errno
import os
import tempfile

__all__ = ["write_text", "write_bytes", "file_mode"]


def write_text(path, text, suffix=".tmp"):
    """Write `text` (UTF-8) to `path` atomically."""
    write_bytes(path, text.encode("utf-8"), suffix)


def file_mode():
    """The permissions a new file gets here (0o666 less the umask); mkstemp's are 0o600."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_bytes(path, data, suffix=".tmp"):
    """Write `data` to `path` atomically.  An OSError names `path` (not the
    temporary file) and says what is wrong with it."""
    path = os.fspath(path)
    try:
        if os.path.isdir(path):
            raise IsADirectoryError(errno.EISDIR, "is a directory; give a file name", path)
        _write_bytes(path, data, suffix)
    except OSError as e:
        raise OSError(e.errno, e.strerror or str(e), path) from None


def _write_bytes(path, data, suffix):
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _sync_directory(directory)


def _sync_directory(directory):
    """Flush the rename to disk too (POSIX), so a power cut cannot undo it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # Windows cannot open a directory; its rename is flushed with the file
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
