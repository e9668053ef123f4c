"""Where a `train` run keeps itself: its checkpoint file and its saved network.

    RunCheckpoint    the run's checkpoint: written when a signal stops the run
                     and, in a long run, every --checkpoint-every minutes at
                     the end of an epoch; removed when the run is complete
    save_finished    --save, and where the network goes if --save cannot be written

A run that names no --checkpoint takes a free name beside the default,
purenn-checkpoint.json, -2.json, -3.json ... (exclusively, so two runs in one
directory never write over each other's), when it first writes one.
A checkpoint that cannot be written goes to the temporary directory instead.
"""

import os
import sys
import tempfile
import time

from ..errors import ArgumentError
from ..files.modelfile import save_network
from ..training import checkpoint

__all__ = ["RunCheckpoint", "save_finished", "write_new", "DEFAULT_CHECKPOINT", "DEFAULT_MINUTES"]

DEFAULT_CHECKPOINT = "purenn-checkpoint.json"
DEFAULT_MINUTES = 10.0  # --checkpoint-every: a run shorter than this writes no checkpoint unless stopped


class RunCheckpoint:
    """The checkpoint of one run.  `path` is --checkpoint or the file resumed
    from (None: a default name is claimed when one is first written); `every`
    minutes between periodic checkpoints (0: none); `command()` the run's
    options as the checkpoint records them.  Called with snapshot (TrainingRun's
    checkpoint hook), it writes snapshot() when `every` minutes have passed."""

    def __init__(self, path, every, command):
        self.path = path
        self.every, self.command = every * 60.0, command
        self.last, self.written = time.monotonic(), set()
        self.announced, self.failing = False, False

    def __call__(self, snapshot):
        if not self.every or time.monotonic() - self.last < self.every:
            return
        try:
            path = self.write(snapshot())
        except ArgumentError as e:  # training goes on; said once, and again once it works again
            if not self.failing:
                print("purenn: warning: {}; training goes on".format(e), file=sys.stderr)
            self.failing = True
        else:
            if not self.announced or self.failing:
                print("purenn: {} every {:g} minutes to {} (resume with --resume)".format(
                    "a checkpoint" if not self.failing else "the checkpoint can be written again:",
                    self.every / 60.0, path), file=sys.stderr)
            self.announced, self.failing = True, False
        self.last = time.monotonic()

    def write(self, interrupted):
        """Write the stopped run's checkpoint: to its path, or else to the
        temporary directory (where later ones then go too); the path written.
        ArgumentError if neither can be written."""
        try:
            return self._write(interrupted)
        except OSError as e:
            failed, reason = self.path or DEFAULT_CHECKPOINT, e.strerror or str(e)
        try:
            path = self._write_new(os.path.join(tempfile.gettempdir(), DEFAULT_CHECKPOINT), interrupted)
        except OSError as e:
            raise ArgumentError("cannot write the checkpoint to {} ({}) nor to the temporary directory "
                                "{} ({})".format(failed, reason, tempfile.gettempdir(), e.strerror or e)) from None
        print("purenn: cannot write {} ({}); wrote the checkpoint to {} instead".format(failed, reason, path),
              file=sys.stderr)
        return path

    def _write(self, interrupted):
        if self.path is None:
            return self._write_new(DEFAULT_CHECKPOINT, interrupted)
        checkpoint.save(self.path, interrupted.net, interrupted.state, self.command())
        self.written.add(self.path)
        return self.path

    def _write_new(self, wanted, interrupted):
        """Write the checkpoint under `wanted`, or the first free of wanted-2,
        -3 ... (before the extension): written whole to a temporary file first,
        then linked to the free name, exclusively -- so that no other run's
        file is replaced, and the name never holds a part of a file."""
        self.path = write_new(wanted, lambda path: checkpoint.save(path, interrupted.net, interrupted.state,
                                                                   self.command()))
        self.written.add(self.path)
        return self.path

    def remove(self, resumed_from=None, keep=()):
        """The run is complete: remove the checkpoints it wrote and the one it
        resumed from (but for any file in `keep`: --save and --plot); the
        paths removed."""
        kept = {os.path.realpath(path) for path in keep if path}
        removed = []
        for path in sorted(self.written | ({resumed_from} if resumed_from else set())):
            if os.path.realpath(path) in kept:
                continue
            try:
                os.remove(path)
                removed.append(path)
            except FileNotFoundError:
                pass
            except OSError as e:
                print("purenn: warning: cannot remove the checkpoint {} ({})".format(path, e.strerror or e),
                      file=sys.stderr)
        return removed


def _candidates(path):
    """path, then path-2, path-3 ... before the extension."""
    base, extension = os.path.splitext(path)
    yield path
    n = 2
    while True:
        yield "{}-{}{}".format(base, n, extension)
        n += 1


def _link_free(source, wanted):
    """Give the file `source` the first free name of _candidates(wanted), as
    a hard link (exclusive and atomic); where the file system has none, by
    claiming the name with an empty file and renaming `source` onto it."""
    for candidate in _candidates(wanted):
        try:
            os.link(source, candidate)
            return candidate
        except FileExistsError:
            continue
        except OSError:  # no hard links here (some network and FAT file systems)
            break
    for candidate in _candidates(wanted):
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        except FileExistsError:
            continue
        os.replace(source, candidate)
        return candidate


def write_new(wanted, write):
    """write(path) a new file, named `wanted` or the first free of wanted-2, -3
    ...: written whole to a temporary file beside it first, then given the
    free name exclusively, so that no other file is replaced and the name
    never holds a part of a file.  The name given."""
    directory = os.path.dirname(os.path.abspath(wanted))
    fd, staging = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(wanted)[1], dir=directory)
    os.close(fd)
    try:
        write(staging)
        return _link_free(staging, wanted)
    finally:
        try:
            os.unlink(staging)
        except OSError:
            pass


def save_finished(net, path, save=save_network):
    """Save the trained network to `path` (--save) with save(net, path); if
    that cannot be written, to a new file in the current directory or else the
    temporary directory, so that the trained network is never lost.  (path
    written, the OSError that stopped `path`, or None)."""
    try:
        save(net, path)
        return path, None
    except OSError as e:
        failed = e
    for directory in (os.getcwd(), tempfile.gettempdir()):
        try:
            return write_new(os.path.join(directory, "purenn-unsaved-network.json"),
                             lambda path: save(net, path)), failed
        except OSError:
            continue
    return None, failed
