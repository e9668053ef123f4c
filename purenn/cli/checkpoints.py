"""Where a `train` run keeps itself: its checkpoint file and its saved network.

    RunCheckpoint    the run's checkpoint: written when a signal stops the run
                     and, in a long run, every --checkpoint-every minutes at
                     the end of an epoch; removed when the run is complete
    save_finished    --save, and where the network goes if --save cannot be written

A run that names no --checkpoint claims a free name beside the default,
purenn-checkpoint.json, -2.json, -3.json ... (created exclusively, so two runs
in one directory never write over each other's), when it first writes one.
A checkpoint that cannot be written goes to the temporary directory instead.
"""

import os
import sys
import tempfile
import time

from ..errors import ArgumentError
from ..files.modelfile import save_network
from ..training import checkpoint

__all__ = ["RunCheckpoint", "save_finished", "DEFAULT_CHECKPOINT", "DEFAULT_MINUTES"]

DEFAULT_CHECKPOINT = "purenn-checkpoint.json"
DEFAULT_MINUTES = 10.0  # --checkpoint-every: a run shorter than this writes no checkpoint unless stopped


class RunCheckpoint:
    """The checkpoint of one run.  `path` is --checkpoint or the file resumed
    from (None: claim a default name when first written); `every` minutes
    between periodic checkpoints (0: none); `command()` the run's options as
    the checkpoint records them.  Called with snapshot (TrainingRun's
    checkpoint hook), it writes snapshot() when `every` minutes have passed."""

    def __init__(self, path, every, command):
        self.path, self.claimed = path, path is not None
        self.every, self.command = every * 60.0, command
        self.last, self.written, self.warned = time.monotonic(), set(), False

    def __call__(self, snapshot):
        if not self.every or time.monotonic() - self.last < self.every:
            return
        try:
            path = self.write(snapshot())
        except ArgumentError as e:  # a checkpoint failed: training goes on, it is said once
            if not self.warned:
                print("purenn: warning: {}; training goes on".format(e), file=sys.stderr)
                self.warned = True
        else:
            if len(self.written) == 1 and not self.warned:
                print("purenn: a checkpoint every {:g} minutes to {} (resume with --resume)".format(
                    self.every / 60.0, path), file=sys.stderr)
                self.warned = True
        self.last = time.monotonic()

    def write(self, interrupted):
        """Write the stopped run's checkpoint: to its path, or else to the
        temporary directory (where later ones then go too); the path written.
        ArgumentError if neither can be written."""
        try:
            if not self.claimed:
                self.path, self.claimed = claim(DEFAULT_CHECKPOINT), True
            return self._write_to(self.path, interrupted)
        except OSError as e:
            failed, reason = self.path or DEFAULT_CHECKPOINT, e.strerror or str(e)
        try:
            fallback = claim(os.path.join(tempfile.gettempdir(), DEFAULT_CHECKPOINT))
            print("purenn: cannot write {} ({}); writing the checkpoint to {} instead".format(
                failed, reason, fallback), file=sys.stderr)
            self.path = self._write_to(fallback, interrupted)
            return self.path
        except OSError as e:
            raise ArgumentError("cannot write the checkpoint to {} ({}) nor to the temporary directory "
                                "{} ({})".format(failed, reason, tempfile.gettempdir(), e.strerror or e)) from None

    def _write_to(self, path, interrupted):
        try:
            checkpoint.save(path, interrupted.net, interrupted.state, self.command())
        except BaseException:  # a full disk, or a second signal: no empty file claimed for it is left
            if path not in self.written:
                _remove_empty(path)
            raise
        self.written.add(path)
        return path

    def remove(self, resumed_from=None):
        """The run is complete: remove the checkpoints it wrote and the one it
        resumed from; the paths removed."""
        removed = []
        for path in sorted(self.written | ({resumed_from} if resumed_from else set())):
            try:
                os.remove(path)
                removed.append(path)
            except FileNotFoundError:
                pass
            except OSError as e:
                print("purenn: warning: cannot remove the checkpoint {} ({})".format(path, e.strerror or e),
                      file=sys.stderr)
        return removed


def claim(path):
    """`path`, or the first of path-2, path-3 ... (before the extension) that
    does not exist, created empty and exclusively: the caller's to write."""
    base, extension = os.path.splitext(path)
    candidate, n = path, 1
    while True:
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            return candidate
        except FileExistsError:
            n += 1
            candidate = "{}-{}{}".format(base, n, extension)


def _remove_empty(path):
    try:
        if os.path.getsize(path) == 0:
            os.remove(path)
    except OSError:
        pass


def save_finished(net, path):
    """Save the trained network to `path` (--save); if that cannot be written,
    to a new file in the current directory or else the temporary directory,
    so that the trained network is never lost.  (path written, the OSError
    that stopped `path`, or None)."""
    try:
        save_network(net, path)
        return path, None
    except OSError as e:
        failed = e
    for directory in (os.getcwd(), tempfile.gettempdir()):
        fallback = None
        try:
            fallback = claim(os.path.join(directory, "purenn-unsaved-network.json"))
            save_network(net, fallback)
            return fallback, failed
        except OSError:
            if fallback is not None:
                _remove_empty(fallback)
    return None, failed
