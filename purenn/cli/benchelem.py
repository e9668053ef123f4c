"""`python -m purenn bench --elementary`: what purenn's own exp, log, tanh, sin and cos cost.

purenn.elementary's functions (and their C twins in csrc/elementary.c) give
the same bits on every platform, where math's (the C library's) do not.
This times each against its platform peer, in the same run, on the same
arguments -- 100,000 of them, spread as the networks meet them:

    in Python   elementary.f over the arguments against math.f
    in C        pn_f against the C library's f, over an array (no Python in
                the loop), when the C core is built

and prints nanoseconds a call and the ratio.  Times are CPU seconds
(time.process_time), the best of --epochs repeats (at least 3).
"""

import math
import random
import sys
import time

from .. import elementary
from ..backends import core_status

__all__ = ["run_elementary_bench", "ARGUMENTS"]

_clock = time.process_time


def _uniform(low, high):
    return lambda rng: rng.uniform(low, high)


#: name -> how its arguments are drawn: the ranges training meets (weighted inputs of a
#: sigmoid or tanh layer, softmax's z - max(z) <= 0, log of an output in (0, 1], the SVM's
#: cos of a weighted input)
ARGUMENTS = {
    "exp": _uniform(-30.0, 0.0),
    "log": lambda rng: rng.uniform(0.0, 1.0) or 1.0,
    "tanh": _uniform(-8.0, 8.0),
    "sin": _uniform(-50.0, 50.0),
    "cos": _uniform(-50.0, 50.0),
}
_ORDER = ("exp", "log", "tanh", "sin", "cos")  # pn_apply_elementary's `which`


def _best(repeats, work):
    best = None
    for r in range(repeats):
        start = _clock()
        work()
        seconds = _clock() - start
        best = seconds if best is None or seconds < best else best
    return best


def _time_python(f, xs, repeats):
    def work():
        for x in xs:
            f(x)
    return _best(repeats, work)


def _time_c(which, libm, xs, repeats):
    from ..backends._core import ffi, lib  # built: core_status() said so
    x = ffi.new("double[]", xs)
    y = ffi.new("double[]", len(xs))
    return _best(repeats, lambda: lib.pn_apply_elementary(which, libm, x, len(xs), y))


def _ratio(own, platform):
    return "{:.2f}x".format(own / platform) if platform > 0.0 else "-"


def run_elementary_bench(n=100000, repeats=3, seed=0, out=None):
    """Time purenn's elementary functions against the platform's; print a table; return the rows
    (name, python ns, math ns, c ns or None, libm ns or None)."""
    out = out or sys.stdout
    say = lambda text="": print(text, file=out, flush=True)  # noqa: E731
    repeats = max(3, repeats)
    core = core_status()[0]
    say("purenn bench --elementary: {:,} arguments a function, best of {}; python {} ({})".format(
        n, repeats, sys.version.split()[0], sys.implementation.name))
    if not core:
        say("the C core is not built: Python only")
    rows = []
    for which, name in enumerate(_ORDER):
        rng = random.Random(seed)
        xs = [ARGUMENTS[name](rng) for i in range(n)]
        own = _time_python(getattr(elementary, name), xs, repeats) / n * 1e9
        platform = _time_python(getattr(math, name), xs, repeats) / n * 1e9
        c_own = c_platform = None
        if core:
            c_own = _time_c(which, 0, xs, repeats) / n * 1e9
            c_platform = _time_c(which, 1, xs, repeats) / n * 1e9
        rows.append((name, own, platform, c_own, c_platform))
    say()
    say("{:<6} {:>14} {:>10} {:>8}   {:>10} {:>10} {:>8}".format(
        "", "purenn (ns)", "math (ns)", "ratio", "C pn_ (ns)", "libm (ns)", "ratio"))
    for name, own, platform, c_own, c_platform in rows:
        c = ("{:>10.1f} {:>10.1f} {:>8}".format(c_own, c_platform, _ratio(c_own, c_platform))
             if c_own is not None else "{:>10} {:>10} {:>8}".format("-", "-", "-"))
        say("{:<6} {:>14.1f} {:>10.1f} {:>8}   {}".format(name, own, platform, _ratio(own, platform), c))
    say("ns a call, CPU time; the Python columns include the interpreter's call of each function")
    return rows
