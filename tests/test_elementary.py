"""purenn.elementary against exact values, its C twins bit for bit, and gauss's draws.

The oracle is Python's decimal module, which depends on no C library's
libm: Decimal.exp and Decimal.ln are correctly rounded at the context's
precision (here 50 digits); sin, cos and e^x - 1 are Taylor series summed
at 60 digits after reducing by a 100-digit pi.  An error is measured in
units in the last place (ulps) of the exact value, and every function is
held to the bound purenn/elementary.py's docstring states: under 1 ulp.
A deliberately truncated polynomial shows the measurement can fail.
"""

import math
import random
import struct
from decimal import Decimal, localcontext

import pytest

from purenn import elementary


def nextafter(x, y):
    """math.nextafter (Python 3.9 on), here for 3.8 too: the double after x towards y."""
    if x != x or y != y:
        return x + y
    if x == y:
        return y
    if x == 0.0:
        return math.copysign(5e-324, y)
    bits = struct.unpack("<q", struct.pack("<d", x))[0]
    bits += 1 if (y > x) == (x > 0.0) else -1  # the magnitude's bits: up away from 0, down towards it
    return struct.unpack("<d", struct.pack("<q", bits))[0]


def ulp_of(x):
    """math.ulp (Python 3.9 on), here for 3.8 too, for finite x."""
    x = abs(x)
    up = nextafter(x, math.inf)
    return up - x if up != math.inf else x - nextafter(x, 0.0)

#### The oracle

_PI = Decimal("3.14159265358979323846264338327950288419716939937510"
              "58209749445923078164062862089986280348253421170679")


def _taylor(x, first, step):
    """sum over n of the series term, term_0 = first, term_{n+1} = term_n * step(n, x)."""
    total, term, n = Decimal(0), first, 0
    while term != 0 and abs(term) > abs(total) * Decimal("1e-62") or n < 2:
        total += term
        term = term * step(n, x)
        n += 1
    return total


def exact_exp(x):
    with localcontext() as ctx:
        ctx.prec = 50
        return Decimal(x).exp()


def exact_log(x):
    with localcontext() as ctx:
        ctx.prec = 50
        return Decimal(x).ln()


def exact_expm1(x):
    with localcontext() as ctx:
        ctx.prec = 60
        d = Decimal(x)
        if abs(d) >= 1:
            return d.exp() - 1
        return _taylor(d, d, lambda n, x: x / (n + 2))


def exact_tanh(x):
    with localcontext() as ctx:
        ctx.prec = 60
        t = exact_expm1(2 * Decimal(x)) if abs(x) < 1 else (2 * Decimal(x)).exp() - 1
        return t / (t + 2)


def _reduced(x):
    """x - 2 pi m, in [-pi, pi], at 110 digits."""
    d = Decimal(x)
    m = (d / (2 * _PI)).to_integral_value()
    return d - 2 * m * _PI


def exact_sin(x):
    with localcontext() as ctx:
        ctx.prec = 110
        r = _reduced(x)
        ctx.prec = 60
        return _taylor(r, +r, lambda n, x: -x * x / ((2 * n + 2) * (2 * n + 3)))


def exact_cos(x):
    with localcontext() as ctx:
        ctx.prec = 110
        r = _reduced(x)
        ctx.prec = 60
        return _taylor(r, Decimal(1), lambda n, x: -x * x / ((2 * n + 1) * (2 * n + 2)))


def ulp_error(got, exact):
    """|got - exact| in ulps of the exact value (the spacing of doubles in its binade)."""
    if exact == 0:
        return 0.0 if got == 0.0 else math.inf
    near = float(exact)
    if math.isinf(near) and got == near:
        return 0.0  # beyond the largest double, rounded to infinity as IEEE-754 rounds
    if math.isinf(near):
        near = math.copysign(float.fromhex("0x1.fffffffffffffp+1023"), near)
    ulp = ulp_of(near)
    if ulp > SUBNORMAL and math.frexp(abs(near))[0] == 0.5 and abs(Decimal(near)) > abs(exact):
        ulp = ulp / 2  # exact lies just below a power of two: the smaller binade's spacing
    with localcontext() as ctx:
        ctx.prec = 50
        return float(abs(Decimal(got) - exact) / Decimal(ulp))


#### The arguments

SUBNORMAL = float.fromhex("0x0.0000000000001p-1022")


def _log_uniform(rng, low_exp, high_exp, signed=True):
    x = math.ldexp(1.0 + rng.random(), rng.randint(low_exp, high_exp))
    return -x if signed and rng.random() < 0.5 else x


def arguments(name, n, seed=2026):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        pick = i % 4
        if name == "exp":
            x = (rng.uniform(-745.2, 709.8) if pick < 2 else rng.uniform(-2.0, 2.0) if pick == 2
                 else _log_uniform(rng, -60, 0))
        elif name == "expm1":
            x = (rng.uniform(-40.0, 709.8) if pick == 0 else rng.uniform(-2.0, 2.0) if pick == 1
                 else _log_uniform(rng, -60, 0))
        elif name == "log":
            x = (math.ldexp(1.0 + rng.random(), rng.randint(-1074, 1023)) if pick < 2
                 else rng.uniform(0.5, 2.0) if pick == 2 else 1.0 + _log_uniform(rng, -52, -4))
        elif name == "tanh":
            x = rng.uniform(-23.0, 23.0) if pick == 0 else _log_uniform(rng, -60, 2)
        else:  # sin, cos
            x = (rng.uniform(-100.0, 100.0) if pick < 2 else rng.uniform(-7.0, 7.0) if pick == 2
                 else _log_uniform(rng, -30, 19))
        out.append(x)
    return [x for x in out if x == x and abs(x) != math.inf and (name != "log" or x > 0.0)]


def _near_multiples_of_pio2():
    out = []
    for n in list(range(1, 70)) + [1000, 31416, 102943, 411774, 667544]:
        x = float(n * _PI / 2)
        out.extend([x, nextafter(x, 0.0), nextafter(x, math.inf), -x])
    return out


HARD = {
    "exp": [0.0, -0.0, SUBNORMAL, 1e-300, 2.0 ** -28, -(2.0 ** -28), 0.5, -0.5, 1.0, -1.0,
            elementary.HALF_LN2, elementary.THREE_HALVES_LN2, elementary.EXP_OVERFLOW,
            nextafter(elementary.EXP_OVERFLOW, 0.0), 709.0, -708.0, -708.4, -709.0, -720.0,
            -744.0, -745.0, elementary.EXP_UNDERFLOW, 0.6931471805599453, 1e-10],
    "expm1": [0.0, -0.0, SUBNORMAL, 1e-300, 2.0 ** -54, 1e-10, -1e-10, 0.25, -0.25, 0.3465, 1.0397,
              -1.0397, 38.81, -38.8, 50.0, 700.0, elementary.EXP_OVERFLOW, 20 * 0.6931471805599453],
    "log": [SUBNORMAL, 2 * SUBNORMAL, float.fromhex("0x1p-1022"), float.fromhex("0x1.fffffffffffffp+1023"),
            1.0, nextafter(1.0, 2.0), nextafter(1.0, 0.0), 1.0 + 2.0 ** -20, 1.0 - 2.0 ** -21,
            1.0 + 1e-10, 0.99999, 2.0, 0.5, math.e, 1.4142135623730951, 0.7071067811865476,
            elementary.LOG_SPLIT, nextafter(elementary.LOG_SPLIT, 0.0), 10.0, 1e300, 1e-300],
    "tanh": [0.0, -0.0, SUBNORMAL, 1e-300, 2.0 ** -55, 1e-8, 0.5, 0.55, 0.999999, 1.0, -1.0,
             nextafter(1.0, 0.0), 2.0, 10.0, 19.0, 21.9999, 22.0, -22.0, 100.0]
            + [edge for edge in (elementary.TANH_SMALL, elementary.TANH_BIG, 1.0)
               for edge in (nextafter(edge, 0.0), edge, nextafter(edge, 2.0))],
    "sin": [0.0, -0.0, SUBNORMAL, 1e-300, 2.0 ** -27, 1e-5, 0.785, 100.0, -100.0, 1048575.9,
            elementary.SIN_COS_LIMIT, 355.0, 103993.0] + _near_multiples_of_pio2(),
}
HARD["cos"] = HARD["sin"]

FUNCTIONS = {"exp": exact_exp, "expm1": exact_expm1, "log": exact_log, "tanh": exact_tanh,
             "sin": exact_sin, "cos": exact_cos}

#: The bound each function is held to, in ulps, and what the docstring reports as seen.
BOUND = 1.0


def worst(f, exact, xs):
    """(the largest error in ulps, its argument) of f over xs."""
    return max((ulp_error(f(x), exact(x)), x) for x in xs)


#### (a) The error bound

@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_each_function_is_within_one_ulp_of_the_exact_value(name):
    f, exact = getattr(elementary, name), FUNCTIONS[name]
    xs = arguments(name, 20000) + HARD[name]
    error, x = worst(f, exact, xs)
    assert error < BOUND, "{}({!r}) = {!r}: {:.3f} ulp from {}".format(name, x, f(x), error, exact(x))


def test_the_edges_are_ieee_754s_answers():
    inf, nan = math.inf, math.nan
    e = elementary
    assert e.exp(1000.0) == inf and e.exp(inf) == inf and e.exp(-inf) == 0.0 and e.exp(-1000.0) == 0.0
    assert e.exp(0.0) == 1.0 and e.exp(-0.0) == 1.0 and math.isnan(e.exp(nan))
    assert e.exp(-745.0) == SUBNORMAL * 1  # the least subnormal, rounded once
    assert e.expm1(1000.0) == inf and e.expm1(-inf) == -1.0 and e.expm1(-50.0) == -1.0
    assert math.copysign(1.0, e.expm1(-0.0)) == -1.0
    assert e.log(0.0) == -inf and e.log(-0.0) == -inf and math.isnan(e.log(-1.0)) and e.log(inf) == inf
    assert math.isnan(e.log(nan)) and math.isnan(e.log(-inf)) and e.log(1.0) == 0.0
    assert e.tanh(inf) == 1.0 and e.tanh(-inf) == -1.0 and e.tanh(30.0) == 1.0 and math.isnan(e.tanh(nan))
    assert math.copysign(1.0, e.tanh(-0.0)) == -1.0 and math.copysign(1.0, e.sin(-0.0)) == -1.0
    for f in (e.sin, e.cos):
        for x in (inf, -inf, nan, nextafter(e.SIN_COS_LIMIT, inf), -1e300):
            assert math.isnan(f(x))
    assert e.cos(-0.0) == 1.0 and e.sin(e.SIN_COS_LIMIT) == e.sin(e.SIN_COS_LIMIT)


#### (d) The measurement can fail

def _truncated_exp(x):
    """exp with its rational form cut to two terms: about 2^-40 wrong near |r| = ln2/2."""
    k = int(elementary.INV_LN2 * x + (0.5 if x > 0.0 else -0.5))
    hi = x - k * elementary.LN2_HI
    lo = k * elementary.LN2_LO
    r = hi - lo
    t = r * r
    c = r - t * (elementary.P1 + t * elementary.P2)
    return math.ldexp(1.0 - ((lo - (r * c) / (2.0 - c)) - hi), k)


def test_a_truncated_polynomial_fails_the_bound():
    error, _ = worst(_truncated_exp, exact_exp, arguments("exp", 2000))
    assert error > 100 * BOUND
    error, _ = worst(lambda x: nextafter(elementary.log(x), math.inf), exact_log, arguments("log", 2000))
    assert error > BOUND  # one ulp off everywhere is caught too


#### (b) The C twins give the same bits

C_NAMES = {"exp": "pn_exp", "expm1": "pn_expm1", "log": "pn_log", "tanh": "pn_tanh", "sin": "pn_sin",
           "cos": "pn_cos"}
SPECIAL = [0.0, -0.0, math.inf, -math.inf, math.nan, SUBNORMAL, -SUBNORMAL, 1e308, -1e308, 1e-310, 22.0,
           -22.0, 1048576.0, -1048576.0, 1048577.0, 710.0, -746.0]


@pytest.mark.parametrize("name", sorted(C_NAMES))
def test_the_c_twin_gives_the_same_bits(name, core):
    f, twin = getattr(elementary, name), getattr(core.lib, C_NAMES[name])
    xs = arguments(name, 100000, seed=7) + HARD[name] + SPECIAL + [-x for x in HARD[name]]
    differ = [x for x in xs if f(x).hex() != twin(x).hex()]
    assert differ == [], "{}: {} differ, first {!r}: {} against C {}".format(
        name, len(differ), differ[0], f(differ[0]).hex(), twin(differ[0]).hex())


#### (c) gauss draws as random.Random.gauss does

def test_gauss_consumes_the_generator_as_random_gauss_does():
    ours, theirs = random.Random(12345), random.Random(12345)
    worst_ulps = 0.0
    for i in range(20001):  # odd: the last call leaves a normal cached
        mu, sigma = (0.0, 1.0) if i % 3 else (2.5, 0.1)
        a, b = elementary.gauss(ours, mu, sigma), theirs.gauss(mu, sigma)
        worst_ulps = max(worst_ulps, abs(a - b) / ulp_of(max(abs(a), abs(b), 1e-300)))
    assert ours.getstate()[1] == theirs.getstate()[1]  # the same draws, the same Mersenne Twister state
    assert ours.gauss_next is not None and abs(ours.gauss_next - theirs.gauss_next) <= 4 * ulp_of(theirs.gauss_next)
    assert worst_ulps <= 4  # 3 seen over 100,000 draws


def test_gauss_and_random_gauss_can_be_mixed():
    rng = random.Random(1)
    first = elementary.gauss(rng)
    cached = rng.gauss_next
    assert rng.gauss(0.0, 1.0) == cached and rng.gauss_next is None  # random.gauss takes ours from the cache
    rng.seed(1)
    assert rng.gauss_next is None and elementary.gauss(rng) == first


#### Where tanh's coefficients come from

def _solve(rows):
    """The solution of the square linear system `rows` (each coefficients then the right side), in fractions."""
    n = len(rows)
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(rows[r][col]))
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(n):
            if r != col and rows[r][col] != 0:
                f = rows[r][col] / rows[col][col]
                rows[r] = [a - f * b for a, b in zip(rows[r], rows[col])]
    return [rows[i][n] / rows[i][i] for i in range(n)]


def _chebyshev_nodes(low, high, n):
    """n Chebyshev nodes of [low, high] as Decimals (their cosines purenn's own, so the same everywhere)."""
    centre, half = (low + high) / 2, (high - low) / 2
    return [centre - half * Decimal(elementary.cos((2 * i + 1) * math.pi / (2 * n))) for i in range(n)]


def fit_tanh():
    """(T0..T11, TANH_NEAR, TANH_FAR) as purenn/elementary.py holds them: interpolants of the
    decimal module's tanh at Chebyshev nodes, solved for exactly and rounded to doubles."""
    from fractions import Fraction

    with localcontext() as ctx:
        ctx.prec = 60
        small = []
        for u in _chebyshev_nodes(Decimal(0), Decimal("0.31640625"), 12):  # (9/16)^2
            x = u.sqrt()
            small.append([Fraction(u) ** k for k in range(12)] + [Fraction((exact_tanh(x) - x) / (u * x))])
        tables = []
        for low, high in ((Decimal("0.5625"), Decimal(1)), (Decimal(1), Decimal("1.5"))):
            centre = (low + high) / 2
            rows = [[Fraction(u - centre) ** k for k in range(16)] + [Fraction(exact_tanh(u))]
                    for u in _chebyshev_nodes(low, high, 16)]
            c = _solve(rows)
            c0 = float(c[0])
            tables.append((float(centre), c0, float(c[0] - Fraction(c0)), tuple(float(v) for v in c[1:])))
    return tuple(float(v) for v in _solve(small)), tables[0], tables[1]


def test_tanhs_coefficients_are_the_fitted_ones():
    small, near, far = fit_tanh()
    assert small == tuple(getattr(elementary, "T{}".format(i)) for i in range(12))
    assert near == elementary.TANH_NEAR and far == elementary.TANH_FAR


def test_the_benchmark_times_every_function_against_the_platforms():
    import io
    from purenn.backends import core_status
    from purenn.cli.benchelem import run_elementary_bench
    out = io.StringIO()
    rows = run_elementary_bench(n=2000, repeats=1, out=out)
    assert [row[0] for row in rows] == ["exp", "log", "tanh", "sin", "cos"]
    built = core_status()[0]
    for name, own, platform, c_own, c_platform in rows:
        assert own > 0.0 and platform > 0.0
        assert (c_own is not None and c_own > 0.0 and c_platform > 0.0) if built else c_own is None
    lines = out.getvalue().splitlines()
    assert sum(1 for line in lines if line.split()[:1] in (["exp"], ["log"], ["tanh"], ["sin"], ["cos"])) == 5
    assert all(line.count("x") >= (2 if built else 1) for line in lines if line.startswith(("exp ", "cos ")))


def test_the_c_benchmark_loop_computes_purenns_functions_and_the_platforms(core):
    ffi, lib = core.ffi, core.lib
    xs = [-3.5, -0.25, 0.5, 2.0, 7.75]
    x, y = ffi.new("double[]", xs), ffi.new("double[]", len(xs))
    for which, name in enumerate(["exp", "log", "tanh", "sin", "cos"]):
        args = [abs(v) for v in xs] if name == "log" else xs
        x = ffi.new("double[]", args)
        lib.pn_apply_elementary(which, 0, x, len(args), y)
        assert [y[i] for i in range(len(args))] == [getattr(elementary, name)(v) for v in args]
        lib.pn_apply_elementary(which, 1, x, len(args), y)
        assert [y[i] for i in range(len(args))] == [getattr(math, name)(v) for v in args]
