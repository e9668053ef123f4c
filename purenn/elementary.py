"""purenn's own exp, log, tanh, sin and cos: the same bits on every platform.

math.exp, math.log, math.tanh, math.sin and math.cos are the platform C
library's, and glibc, macOS, musl, Pyodide and MicroPython disagree in the
last bit for some arguments.  These functions use only IEEE-754 operations
(+, -, *, / and comparisons, each correctly rounded), math.ldexp and
math.frexp (exact scaling), int() of a float, math.sqrt (correctly rounded
by IEEE-754) and exact constants, each operation in a fixed order -- so they
give the same bits wherever Python's floats are IEEE doubles.  Their C twins
(csrc/elementary.c, built with -ffp-contract=off) mirror them operation for
operation.

The method is fdlibm's (Sun Microsystems, 1993; the FreeBSD forms of the
sine and cosine kernels), with its coefficients -- except tanh's middle,
where fdlibm's 1 - 2/(t+2) is up to 1.3 ulp off and purenn has polynomials
of its own:

    function   method                                               max error seen
    exp(x)     x = k ln2 + r, |r| <= ln2/2 (ln2 in two parts); a    0.84 ulp
               degree-10 rational form in r; ldexp(., k)
    expm1(x)   the same reduction; a scaled rational form that      0.80 ulp
               keeps e^x - 1's small values exact
    log(x)     x = 2^k (1 + f), sqrt(1/2) < 1 + f < sqrt(2) by      0.77 ulp
               frexp; s = f/(2+f), a degree-14 polynomial in s
    tanh(x)    |x| < 9/16: x + x^3 g(x^2), g of degree 11;          0.72 ulp
               9/16 <= |x| < 3/2: c0 + d q(d) about the centre
               25/32 or 5/4, q of degree 14, c0 in two parts;
               3/2 <= |x| < 22: 1 - 2/(t+2), t = expm1(2|x|)
    sin, cos   x = n pi/2 + r, pi/2 in up to four parts (fdlibm's   0.76 ulp (sin)
               Cody-Waite steps, 151 bits, enough for |x| <= 2^20); 0.74 ulp (cos)
               polynomials of degree 13 (sin) and 14 (cos) in r,
               r's tail kept
    gauss      random.Random.gauss's Box-Muller with these log,     3 ulp from
               cos and sin (and math.sqrt, correctly rounded)       random.gauss

The errors are in units in the last place of the exact value: the largest
seen against Python's decimal module (exact to 50 digits) over 120,000
arguments per function -- random ones across the whole range (exp: -745.2
to 709.8; log: every binade from 2^-1074 to 2^1023 and near 1; tanh: 2^-60
to 23; sin and cos: up to 2^20, mostly |x| <= 100) and the hard cases (0,
-0.0, subnormals, the overflow and underflow thresholds, the branches'
edges, the doubles nearest multiples of pi/2 up to 2^20).  Every function
is held to under 1 ulp by tests/test_elementary.py: each result is one of
the two doubles either side of the exact value (not always the nearer).

Edge behaviour, the same in C (these are IEEE-754's answers, not math's
exceptions):

    exp(x)     NaN -> NaN; x > 709.782712893384 (and +inf) -> +inf, no
               OverflowError; x < -745.1332191019411 (and -inf) -> 0.0;
               results below 2^-1022 are subnormal, rounded once by ldexp
    expm1(x)   NaN -> NaN; x > 709.78... -> +inf; x < -38.8 (and -inf) -> -1.0;
               -0.0 -> -0.0
    log(x)     NaN -> NaN; +inf -> +inf; 0.0 and -0.0 -> -inf; x < 0 -> NaN
               (math.log raises ValueError for the last two); subnormal x exact by frexp
    tanh(x)    NaN -> NaN; |x| >= 22 -> +-1.0; -0.0 -> -0.0
    sin, cos   NaN and +-inf -> NaN; |x| > 2^20 = 1048576 -> NaN: the bound is
               not kept beyond (the reduction would need more of pi), so no
               answer is given rather than a wrong one; sin(-0.0) = -0.0

>>> exp(1.0)  # not e's nearest double, 2.718281828459045: 0.67 ulp off, as fdlibm's
2.7182818284590455
>>> log(2.0) == float.fromhex("0x1.62e42fefa39efp-1")  # ln 2, correctly rounded
True
>>> log(exp(2.0))
2.0
>>> exp(1000.0), exp(-1000.0), log(0.0)
(inf, 0.0, -inf)
>>> sin(0.0), cos(0.0), tanh(-0.0)
(0.0, 1.0, -0.0)

The reference favours clarity over speed: a call costs 0.3 to 0.6 us in
CPython 3.11, 9 to 22 times math's (exp 287 ns against 21, log 384 against
42, tanh 506 against 27, sin and cos 560 against 26); the C twins take 6 to
14 ns, 1.1 to 3.1 times glibc's (exp 9.1 ns against 2.9, log 6.0 against
2.8, tanh 13.9 against 7.5, sin and cos 8.6 against 8.0).
"""

import math

__all__ = ["exp", "expm1", "log", "tanh", "sin", "cos", "gauss", "SIN_COS_LIMIT"]

_h = float.fromhex
_INF = float("inf")
_NAN = float("nan")

#### Constants (fdlibm's, as exact hexadecimal literals)

LN2_HI = _h("0x1.62e42fee00000p-1")    # ln 2's leading 32 bits: k * LN2_HI is exact for |k| < 2^21
LN2_LO = _h("0x1.a39ef35793c76p-33")   # ln 2 - LN2_HI
INV_LN2 = _h("0x1.71547652b82fep+0")   # 1 / ln 2
EXP_OVERFLOW = _h("0x1.62e42fefa39efp+9")     # 709.78...: above it exp(x) > the largest double
EXP_UNDERFLOW = _h("-0x1.74910d52d3051p+9")   # -745.13...: below it exp(x) < 2^-1075
HALF_LN2 = _h("0x1.62e4300000000p-2")         # |x| at or above it: reduce by k ln 2
THREE_HALVES_LN2 = _h("0x1.0a2b200000000p+0")  # |x| below it (and above HALF_LN2): k = +-1

# exp: r (e^r + 1) / (e^r - 1) = 2 + P1 r^2 + P2 r^4 + ... on |r| <= ln2/2
P1 = _h("0x1.555555555553ep-3")
P2 = _h("-0x1.6c16c16bebd93p-9")
P3 = _h("0x1.1566aaf25de2cp-14")
P4 = _h("-0x1.bbd41c5d26bf1p-20")
P5 = _h("0x1.6376972bea4d0p-25")

# expm1: the scaled form's coefficients
EXPM1_BIG = _h("0x1.3687a00000000p+5")        # 38.8 = 56 ln 2: below -it, e^x - 1 rounds to -1
Q1 = _h("-0x1.11111111110f4p-5")
Q2 = _h("0x1.a01a019fe5585p-10")
Q3 = _h("-0x1.4ce199eaadbb7p-14")
Q4 = _h("0x1.0cfca86e65239p-18")
Q5 = _h("-0x1.afdb76e09c32dp-23")

# log: log(1+f) = 2s + Lg1 (2s) s^2 + ... with s = f/(2+f)
LOG_SPLIT = _h("0x1.6a09c00000000p+0")  # sqrt(2), to 20 bits: 1 + f is kept below it
Lg1 = _h("0x1.5555555555593p-1")
Lg2 = _h("0x1.999999997fa04p-2")
Lg3 = _h("0x1.2492494229359p-2")
Lg4 = _h("0x1.c71c51d8e78afp-3")
Lg5 = _h("0x1.7466496cb03dep-3")
Lg6 = _h("0x1.39a09d078c69fp-3")
Lg7 = _h("0x1.2f112df3e5244p-3")
THIRD = _h("0x1.5555555555555p-2")

# sin, cos: pi/2 in four parts; the first three of 33 bits, so n * part is exact for n < 2^20
SIN_COS_LIMIT = _h("0x1p20")  # |x| above it: NaN
INV_PIO2 = _h("0x1.45f306dc9c883p-1")
PIO2_1 = _h("0x1.921fb54400000p+0")
PIO2_1T = _h("0x1.0b4611a626331p-34")   # pi/2 - PIO2_1
PIO2_2 = _h("0x1.0b4611a600000p-34")
PIO2_2T = _h("0x1.3198a2e037073p-69")   # pi/2 - PIO2_1 - PIO2_2
PIO2_3 = _h("0x1.3198a2e000000p-69")
PIO2_3T = _h("0x1.b839a252049c1p-104")  # pi/2 - PIO2_1 - PIO2_2 - PIO2_3
S1 = _h("-0x1.5555555555549p-3")
S2 = _h("0x1.111111110f8a6p-7")
S3 = _h("-0x1.a01a019c161d5p-13")
S4 = _h("0x1.71de357b1fe7dp-19")
S5 = _h("-0x1.ae5e68a2b9cebp-26")
S6 = _h("0x1.5d93a5acfd57cp-33")
C1 = _h("0x1.555555555554cp-5")
C2 = _h("-0x1.6c16c16c15177p-10")
C3 = _h("0x1.a01a019cb1590p-16")
C4 = _h("-0x1.27e4f809c52adp-22")
C5 = _h("0x1.1ee9ebdb4b1c4p-29")
C6 = _h("-0x1.8fae9be8838d4p-37")

# tanh: below TANH_SMALL (9/16), (tanh(x) - x) / x^3 = g(x^2), g of degree 11 interpolated at
# 12 Chebyshev nodes of [0, (9/16)^2]; from there to TANH_BIG (3/2), tanh(centre + d) = c0 + d q(d),
# q of degree 14 interpolated at 16 Chebyshev nodes on [9/16, 1] (centre 25/32) and [1, 3/2]
# (centre 5/4), c0 = tanh(centre) in two parts: solved for exactly in fractions from the
# decimal module's tanh at 60 digits, then rounded (tests/test_elementary.py's fit_tanh).
TANH_SMALL = 0.5625
TANH_BIG = 1.5
T0 = _h("-0x1.5555555555555p-2")
T1 = _h("0x1.1111111111105p-3")
T2 = _h("-0x1.ba1ba1ba19d5dp-5")
T3 = _h("0x1.664f4881ec346p-6")
T4 = _h("-0x1.226e352b6a427p-7")
T5 = _h("0x1.d6d3c26abcbe7p-9")
T6 = _h("-0x1.7da216499f72dp-10")
T7 = _h("0x1.354431e18ea6cp-11")
T8 = _h("-0x1.f3e303d937561p-13")
T9 = _h("0x1.8b6e011d560bfp-14")
T10 = _h("-0x1.1798f633d339fp-15")
T11 = _h("0x1.002b1e55e95d8p-17")
# (centre, c0's leading part, c0's tail, q's coefficients from d^0 up)
TANH_NEAR = (0.78125, _h("0x1.4e8d895b010dcp-1"), _h("0x1.a04ea5119a557p-57"), (
    _h("0x1.25652faaf8a73p-1"), _h("-0x1.7f6c3a57c4446p-2"), _h("0x1.b7866e3f99e83p-5"),
    _h("0x1.6fa1df47ca796p-4"), _h("-0x1.05508d371f209p-4"), _h("0x1.c3efdfab6c314p-9"),
    _h("0x1.372ba8f783a1cp-6"), _h("-0x1.60fd5e0ed5069p-7"), _h("-0x1.6ff7d46266680p-11"),
    _h("0x1.f98821aaaa172p-9"), _h("-0x1.c584499fb5264p-10"), _h("-0x1.8b365daf45ecdp-12"),
    _h("0x1.8aba1a4c07e40p-11"), _h("-0x1.ea1ab13b2f5d4p-13"), _h("-0x1.f173198d25176p-14")))
TANH_FAR = (1.25, _h("0x1.b2523bb6b2deep-1"), _h("0x1.3d276ab84931dp-56"), (
    _h("0x1.1f25131e3a8c0p-2"), _h("-0x1.e7291743d755dp-3"), _h("0x1.bba40cbef75acp-4"),
    _h("-0x1.9c7a02787ab6ep-7"), _h("-0x1.3a7a01205c949p-6"), _h("0x1.f1cf6c7a09f9fp-7"),
    _h("-0x1.326bd42c106a3p-8"), _h("-0x1.ca3f0a4a0d7e6p-11"), _h("0x1.be935b1ea374ap-10"),
    _h("-0x1.b8556f5798d79p-11"), _h("0x1.9c0b4f74a1385p-14"), _h("0x1.35f6ce8280c45p-13"),
    _h("-0x1.e698a06638891p-14"), _h("0x1.0c775a6feab36p-15"), _h("0x1.1a45e1440c3bep-17")))

TWOPI = _h("0x1.921fb54442d18p+2")  # random.TWOPI, 2 * math.pi


#### The functions

def _reduce_ln2(x, ax):
    """x = k ln2 + (hi - lo) with |hi - lo| <= ln2/2, for |x| >= ln2/2 (ax is |x|): (hi, lo, k)."""
    if ax < THREE_HALVES_LN2:
        if x > 0.0:
            return x - LN2_HI, LN2_LO, 1
        return x + LN2_HI, -LN2_LO, -1
    k = int(INV_LN2 * x + (0.5 if x > 0.0 else -0.5))  # int() truncates, as C's (int)
    t = float(k)
    return x - t * LN2_HI, t * LN2_LO, k  # t * LN2_HI is exact


def exp(x):
    """e^x, within 1 ulp."""
    if x != x:
        return x
    if x > EXP_OVERFLOW:
        return _INF
    if x < EXP_UNDERFLOW:
        return 0.0
    ax = -x if x < 0.0 else x
    if ax >= HALF_LN2:
        hi, lo, k = _reduce_ln2(x, ax)
        r = hi - lo
    elif ax < _h("0x1p-28"):
        return 1.0 + x
    else:
        hi, lo, k = x, 0.0, 0
        r = x
    # e^r = 1 + 2r / (R(r) - r), R the rational form above; c = r - (R(r) - 2)
    t = r * r
    c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))))
    if k == 0:
        return 1.0 - ((r * c) / (c - 2.0) - r)
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    return math.ldexp(y, k)


def expm1(x):
    """e^x - 1, within 1 ulp, exact in its small values (tanh's building block)."""
    if x != x:
        return x
    ax = -x if x < 0.0 else x
    if ax >= EXPM1_BIG:
        if x > EXP_OVERFLOW:
            return _INF
        if x < 0.0:
            return -1.0
    c = 0.0
    if ax >= HALF_LN2:
        hi, lo, k = _reduce_ln2(x, ax)
        x = hi - lo
        c = (hi - x) - lo  # the rounding error of x = hi - lo
    elif ax < _h("0x1p-54"):
        return x
    else:
        k = 0
    hfx = 0.5 * x
    hxs = x * hfx
    r1 = 1.0 + hxs * (Q1 + hxs * (Q2 + hxs * (Q3 + hxs * (Q4 + hxs * Q5))))
    t = 3.0 - r1 * hfx
    e = hxs * ((r1 - t) / (6.0 - x * t))
    if k == 0:
        return x - (x * e - hxs)
    e = x * (e - c) - c
    e = e - hxs
    if k == -1:
        return 0.5 * (x - e) - 0.5
    if k == 1:
        if x < -0.25:
            return -2.0 * (e - (x + 0.5))
        return 1.0 + 2.0 * (x - e)
    if k <= -2 or k > 56:
        y = 1.0 - (e - x)
        return math.ldexp(y, k) - 1.0
    if k < 20:
        y = (1.0 - math.ldexp(1.0, -k)) - (e - x)  # 1 - 2^-k is exact
    else:
        y = x - (e + math.ldexp(1.0, -k))
        y = y + 1.0
    return math.ldexp(y, k)


def log(x):
    """The natural logarithm of x, within 1 ulp."""
    if x != x or x == _INF:
        return x
    if x <= 0.0:
        return -_INF if x == 0.0 else _NAN
    m, k = math.frexp(x)  # x = m 2^k, 1/2 <= m < 1, exact (subnormals too)
    # 1 + f in [sqrt(1/2), sqrt(2)): f = 2m - 1 or m - 1, exact either way
    if m + m < LOG_SPLIT:
        f = (m + m) - 1.0
        k = k - 1
    else:
        f = m - 1.0
    dk = float(k)
    if -_h("0x1p-20") <= f < _h("0x1p-20"):
        if f == 0.0:
            if k == 0:
                return 0.0
            return dk * LN2_HI + dk * LN2_LO
        R = f * f * (0.5 - THIRD * f)
        if k == 0:
            return f - R
        return dk * LN2_HI - ((R - dk * LN2_LO) - f)
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (Lg2 + w * (Lg4 + w * Lg6))
    t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)))
    R = t2 + t1
    hfsq = 0.5 * f * f
    if k == 0:
        return f - (hfsq - s * (hfsq + R))
    return dk * LN2_HI - ((hfsq - (s * (hfsq + R) + dk * LN2_LO)) - f)


def tanh(x):
    """The hyperbolic tangent of x, within 1 ulp."""
    if x != x:
        return x
    ax = -x if x < 0.0 else x
    if ax >= 22.0:
        z = 1.0
    elif ax < _h("0x1p-55"):
        return x
    elif ax >= TANH_BIG:
        t = expm1(ax + ax)
        z = 1.0 - 2.0 / (t + 2.0)
    elif ax >= TANH_SMALL:
        centre, c0, c0_tail, q = TANH_NEAR if ax < 1.0 else TANH_FAR
        d = ax - centre  # exact (Sterbenz)
        p = q[14]
        for i in range(13, -1, -1):
            p = q[i] + d * p
        z = c0 + (c0_tail + d * p)
    else:
        # the correction x^3 g(x^2) is at most a tenth of x, so its roundings barely show
        u = ax * ax
        g = T0 + u * (T1 + u * (T2 + u * (T3 + u * (T4 + u * (T5 + u * (T6 + u * (T7 + u * (T8 + u * (
            T9 + u * (T10 + u * T11))))))))))
        z = ax + ax * (u * g)
    return z if x >= 0.0 else -z


def sin(x):
    """The sine of x (radians), within 1 ulp for |x| <= SIN_COS_LIMIT; NaN beyond."""
    ax = -x if x < 0.0 else x
    if not ax <= SIN_COS_LIMIT:  # NaN too
        return _NAN
    if ax < _h("0x1p-27"):
        return x
    n, y0, y1 = _reduce(x)
    q = n & 3  # Python's & of a negative int is two's complement's, as C's
    if q == 0:
        return _sin_kernel(y0, y1)
    if q == 1:
        return _cos_kernel(y0, y1)
    if q == 2:
        return -_sin_kernel(y0, y1)
    return -_cos_kernel(y0, y1)


def cos(x):
    """The cosine of x (radians), within 1 ulp for |x| <= SIN_COS_LIMIT; NaN beyond."""
    ax = -x if x < 0.0 else x
    if not ax <= SIN_COS_LIMIT:
        return _NAN
    if ax < _h("0x1p-27"):
        return 1.0
    n, y0, y1 = _reduce(x)
    q = n & 3
    if q == 0:
        return _cos_kernel(y0, y1)
    if q == 1:
        return -_sin_kernel(y0, y1)
    if q == 2:
        return -_cos_kernel(y0, y1)
    return _sin_kernel(y0, y1)


def gauss(rng, mu=0.0, sigma=1.0):
    """A normal deviate from rng (a random.Random), as rng.gauss(mu, sigma) gives it:
    the same draws of rng.random() and the same cache, rng.gauss_next -- so the
    two can be mixed -- but with this module's log, cos and sin."""
    random = rng.random
    z = rng.gauss_next
    rng.gauss_next = None
    if z is None:
        x2pi = random() * TWOPI
        g2rad = math.sqrt(-2.0 * log(1.0 - random()))
        z = cos(x2pi) * g2rad
        rng.gauss_next = sin(x2pi) * g2rad
    return mu + z * sigma


#### Private helpers: sin and cos's reduction and kernels

def _reduce(x):
    """(n, y0, y1) with x = n pi/2 + y0 + y1, |y0 + y1| <= pi/4 (about), for |x| <= 2^20:
    Cody and Waite's reduction, pi/2 taken in four parts, each step's rounding error kept."""
    t = -x if x < 0.0 else x
    n = int(t * INV_PIO2 + 0.5)
    fn = float(n)
    r = t - fn * PIO2_1  # exact: fn * PIO2_1 is, and r is within a factor 2 of t (Sterbenz)
    w = fn * PIO2_1T
    y0 = r - w
    # Where r - w cancels many bits, pi/2 - PIO2_1 is taken further (fdlibm's test:
    # the exponents of t and y0 differ by more than 16, then 49)
    top = math.frexp(t)[1]
    if top - math.frexp(y0)[1] > 16:
        t = r  # PIO2_1T = PIO2_2 + PIO2_2T: r - fn * PIO2_2, its rounding error carried in w
        w = fn * PIO2_2
        r = t - w
        w = fn * PIO2_2T - ((t - r) - w)
        y0 = r - w
        if top - math.frexp(y0)[1] > 49:
            t = r  # PIO2_2T = PIO2_3 + PIO2_3T
            w = fn * PIO2_3
            r = t - w
            w = fn * PIO2_3T - ((t - r) - w)
            y0 = r - w
    y1 = (r - y0) - w
    if x < 0.0:
        return -n, -y0, -y1
    return n, y0, y1


def _sin_kernel(x, y):
    """sin(x + y) for |x| <= pi/4 and |y| below half an ulp of x (FreeBSD's k_sin)."""
    z = x * x
    w = z * z
    r = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6)
    v = z * x
    return x - ((z * (0.5 * y - v * r) - y) - v * S1)


def _cos_kernel(x, y):
    """cos(x + y) for |x| <= pi/4 and |y| below half an ulp of x (FreeBSD's k_cos)."""
    z = x * x
    w = z * z
    r = z * (C1 + z * (C2 + z * C3)) + w * w * (C4 + z * (C5 + z * C6))
    hz = 0.5 * z
    w = 1.0 - hz
    return w + (((1.0 - w) - hz) + (z * r - x * y))
