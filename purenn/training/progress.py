"""A one-line progress report for training, redrawn in place on a terminal.

    progress = Progress(sys.stderr)
    net.SGD(..., progress=progress)    # SGD calls progress(done, total)

The line shows the epoch, how far it is, examples per second and the time
left in the epoch.  Progress(stream, what="expanding") reports work that
has no epochs: "expanding: 5000 / 50000 (10%), ...".  It is drawn only when the stream is a terminal, at most
ten times a second, and is wiped when the epoch ends so that the epoch's
result line can take its place.
"""

import sys
import time

__all__ = ["Progress"]


def _clock(seconds):
    seconds = int(seconds + 0.5)
    return "{}:{:02d}".format(seconds // 60, seconds % 60)


class Progress:
    """Callable as progress(done, total) with the examples done in the current epoch."""

    def __init__(self, stream=None, interval=0.1, clock=time.monotonic, what=None, unit="examples"):
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = bool(isatty and isatty())
        self.interval, self.what, self.unit = interval, what, unit
        self.clock = clock
        self.epoch = 0
        self._started = None
        self._since = 0
        self._last_drawn = None
        self._width = 0

    def line(self, done, total, elapsed, since=0):
        """The text of the progress line, `elapsed` seconds after `since` examples were done."""
        rate = (done - since) / elapsed if elapsed > 0 else 0.0
        left = (total - done) / rate if rate > 0 else 0.0
        return "{}: {:>{w}} / {} ({:3.0f}%), {:,.0f} {}/s, {} left".format(
            "epoch {}".format(self.epoch) if self.what is None else self.what, done, total,
            100.0 * done / total if total else 100.0, rate, self.unit, _clock(left), w=len(str(total)))

    def __call__(self, done, total):
        now = self.clock()
        if self._started is None:
            self._started, self._since = now, done  # a resumed epoch starts part-way
        if done >= total:
            self._clear()
            self.epoch += 1
            self._started = None
            self._last_drawn = None
            return
        if not self.enabled or (self._last_drawn is not None and now - self._last_drawn < self.interval):
            return
        self._last_drawn = now
        text = self.line(done, total, now - self._started, self._since)
        self.stream.write("\r" + text.ljust(self._width))
        self.stream.flush()
        self._width = len(text)

    def clear(self):
        """Wipe the line (before printing something else mid-epoch)."""
        self._clear()

    def _clear(self):
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
        self._width = 0
