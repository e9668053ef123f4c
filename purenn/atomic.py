"""Write a file so that it is never seen half-written.

The text goes to a temporary file beside the destination, is flushed to
disk, and is renamed over the destination in one step (os.replace is atomic
on POSIX and Windows).  If anything fails or interrupts the write, the old
file is untouched and the temporary file is removed.
"""

import os
import tempfile

__all__ = ["write_text"]


def write_text(path, text, suffix=".tmp"):
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
