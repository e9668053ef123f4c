/* elementary.c -- purenn's own exp, expm1, log, tanh, sin and cos, mirroring
 * purenn/elementary.py operation for operation: the same constants, the same
 * order of every operation, so the same bits (with -ffp-contract=off).  Only
 * +, -, *, /, comparisons, ldexp and frexp (exact scaling) and (int)
 * conversion; never libm's exp, log, tanh, sin or cos.  The method, the
 * measured errors and the edge behaviour are written down in the Python
 * module's docstring.
 */
#include "internal.h"

/* fdlibm's constants, as in purenn/elementary.py. */
static const double LN2_HI = 0x1.62e42fee00000p-1, LN2_LO = 0x1.a39ef35793c76p-33;
static const double INV_LN2 = 0x1.71547652b82fep+0;
static const double EXP_OVERFLOW = 0x1.62e42fefa39efp+9, EXP_UNDERFLOW = -0x1.74910d52d3051p+9;
static const double HALF_LN2 = 0x1.62e4300000000p-2, THREE_HALVES_LN2 = 0x1.0a2b200000000p+0;
static const double P1 = 0x1.555555555553ep-3, P2 = -0x1.6c16c16bebd93p-9, P3 = 0x1.1566aaf25de2cp-14,
                    P4 = -0x1.bbd41c5d26bf1p-20, P5 = 0x1.6376972bea4d0p-25;
static const double EXPM1_BIG = 0x1.3687a00000000p+5;
static const double Q1 = -0x1.11111111110f4p-5, Q2 = 0x1.a01a019fe5585p-10, Q3 = -0x1.4ce199eaadbb7p-14,
                    Q4 = 0x1.0cfca86e65239p-18, Q5 = -0x1.afdb76e09c32dp-23;
static const double LOG_SPLIT = 0x1.6a09c00000000p+0, THIRD = 0x1.5555555555555p-2;
static const double Lg1 = 0x1.5555555555593p-1, Lg2 = 0x1.999999997fa04p-2, Lg3 = 0x1.2492494229359p-2,
                    Lg4 = 0x1.c71c51d8e78afp-3, Lg5 = 0x1.7466496cb03dep-3, Lg6 = 0x1.39a09d078c69fp-3,
                    Lg7 = 0x1.2f112df3e5244p-3;
static const double SIN_COS_LIMIT = 0x1p20, INV_PIO2 = 0x1.45f306dc9c883p-1;
static const double PIO2_1 = 0x1.921fb54400000p+0, PIO2_1T = 0x1.0b4611a626331p-34,
                    PIO2_2 = 0x1.0b4611a600000p-34, PIO2_2T = 0x1.3198a2e037073p-69,
                    PIO2_3 = 0x1.3198a2e000000p-69, PIO2_3T = 0x1.b839a252049c1p-104;
static const double S1 = -0x1.5555555555549p-3, S2 = 0x1.111111110f8a6p-7, S3 = -0x1.a01a019c161d5p-13,
                    S4 = 0x1.71de357b1fe7dp-19, S5 = -0x1.ae5e68a2b9cebp-26, S6 = 0x1.5d93a5acfd57cp-33;
static const double C1 = 0x1.555555555554cp-5, C2 = -0x1.6c16c16c15177p-10, C3 = 0x1.a01a019cb1590p-16,
                    C4 = -0x1.27e4f809c52adp-22, C5 = 0x1.1ee9ebdb4b1c4p-29, C6 = -0x1.8fae9be8838d4p-37;
static const double TANH_SMALL = 0.5625, TANH_BIG = 1.5;
static const double T[12] = {
    -0x1.5555555555555p-2, 0x1.1111111111105p-3, -0x1.ba1ba1ba19d5dp-5, 0x1.664f4881ec346p-6,
    -0x1.226e352b6a427p-7, 0x1.d6d3c26abcbe7p-9, -0x1.7da216499f72dp-10, 0x1.354431e18ea6cp-11,
    -0x1.f3e303d937561p-13, 0x1.8b6e011d560bfp-14, -0x1.1798f633d339fp-15, 0x1.002b1e55e95d8p-17};
/* TANH_NEAR and TANH_FAR: centre, c0's two parts, then q's 15 coefficients from d^0 up. */
static const double TANH_NEAR[18] = {
    0.78125, 0x1.4e8d895b010dcp-1, 0x1.a04ea5119a557p-57,
    0x1.25652faaf8a73p-1, -0x1.7f6c3a57c4446p-2, 0x1.b7866e3f99e83p-5,
    0x1.6fa1df47ca796p-4, -0x1.05508d371f209p-4, 0x1.c3efdfab6c314p-9,
    0x1.372ba8f783a1cp-6, -0x1.60fd5e0ed5069p-7, -0x1.6ff7d46266680p-11,
    0x1.f98821aaaa172p-9, -0x1.c584499fb5264p-10, -0x1.8b365daf45ecdp-12,
    0x1.8aba1a4c07e40p-11, -0x1.ea1ab13b2f5d4p-13, -0x1.f173198d25176p-14};
static const double TANH_FAR[18] = {
    1.25, 0x1.b2523bb6b2deep-1, 0x1.3d276ab84931dp-56,
    0x1.1f25131e3a8c0p-2, -0x1.e7291743d755dp-3, 0x1.bba40cbef75acp-4,
    -0x1.9c7a02787ab6ep-7, -0x1.3a7a01205c949p-6, 0x1.f1cf6c7a09f9fp-7,
    -0x1.326bd42c106a3p-8, -0x1.ca3f0a4a0d7e6p-11, 0x1.be935b1ea374ap-10,
    -0x1.b8556f5798d79p-11, 0x1.9c0b4f74a1385p-14, 0x1.35f6ce8280c45p-13,
    -0x1.e698a06638891p-14, 0x1.0c775a6feab36p-15, 0x1.1a45e1440c3bep-17};

/* ldexp(y, k): for -1022 <= k <= 1023 a product with 2^k, built from its bits --
 * one correctly rounded operation, so the same double as ldexp gives (which also
 * rounds y * 2^k once), without the library call; other k through ldexp. */
static double scale2(double y, int k)
{
    if (k < -1022 || k > 1023) {
        return ldexp(y, k);
    }
    uint64_t bits = (uint64_t)(k + 1023) << 52;
    double p;
    memcpy(&p, &bits, sizeof p);
    return y * p;
}

/* Twin of elementary._reduce_ln2: x = k ln2 + (*hi - *lo) for |x| >= ln2/2 (ax is |x|); returns k. */
static int reduce_ln2(double x, double ax, double *hi, double *lo)
{
    if (ax < THREE_HALVES_LN2) {
        if (x > 0.0) {
            *hi = x - LN2_HI; *lo = LN2_LO;
            return 1;
        }
        *hi = x + LN2_HI; *lo = -LN2_LO;
        return -1;
    }
    int k = (int)(INV_LN2 * x + (x > 0.0 ? 0.5 : -0.5));
    double t = (double)k;
    *hi = x - t * LN2_HI;
    *lo = t * LN2_LO;
    return k;
}

double pn_exp(double x)
{
    /* Twin of elementary.exp. */
    double hi, lo, r, t, c, y;
    int k;
    if (x != x) {
        return x;
    }
    if (x > EXP_OVERFLOW) {
        return INFINITY;
    }
    if (x < EXP_UNDERFLOW) {
        return 0.0;
    }
    double ax = x < 0.0 ? -x : x;
    if (ax >= HALF_LN2) {
        k = reduce_ln2(x, ax, &hi, &lo);
        r = hi - lo;
    } else if (ax < 0x1p-28) {
        return 1.0 + x;
    } else {
        hi = x; lo = 0.0; k = 0;
        r = x;
    }
    t = r * r;
    c = r - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
    if (k == 0) {
        return 1.0 - ((r * c) / (c - 2.0) - r);
    }
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    return scale2(y, k);
}

#ifdef PN_VECTORS
typedef int64_t pn_v4l __attribute__((vector_size(32)));  /* a pn_v4's lanes as bits, or a comparison's masks */

/* Four of network.sigmoid at once: each lane's exp(-|z|) by pn_exp's operations
 * in pn_exp's order, the branches of pn_exp taken per lane by its k -- k = 0
 * for |x| < ln2/2 (where hi = x and lo = +0.0 give pn_exp's k == 0 formula
 * exactly: 0.0 - q is -q, and (r*c)/(c - 2) is -((r*c)/(2 - c))), k = +/-1
 * below 3/2 ln2 (x -/+ LN2_HI is x - t*LN2_HI for t = +/-1), else rounded --
 * then y * 2^k, which is ldexp here (-1022 <= k).  Returns 0 and writes
 * nothing when a lane is outside 2^-28 <= |z| <= 708 (NaN too): the caller
 * then takes pn_sigmoid one by one. */
WIDE int pn_sigmoid4(const double *z, double *a)
{
    pn_v4 zv, one = {1.0, 1.0, 1.0, 1.0}, two = {2.0, 2.0, 2.0, 2.0};
    memcpy(&zv, z, sizeof zv);
    pn_v4l magnitude = {0x7FFFFFFFFFFFFFFF, 0x7FFFFFFFFFFFFFFF, 0x7FFFFFFFFFFFFFFF, 0x7FFFFFFFFFFFFFFF};
    pn_v4 ax = (pn_v4)((pn_v4l)zv & magnitude);  /* |z|, its sign bit cleared */
    pn_v4l usual = (ax >= 0x1p-28) & (ax <= 708.0);  /* false for NaN */
    if (!(usual[0] & usual[1] & usual[2] & usual[3])) {
        return 0;
    }
    pn_v4 x = -ax;
    /* k: 0 below ln2/2, -1 below 3/2 ln2, else (int)(INV_LN2 * x - 0.5) (truncated, as the cast does) */
    pn_v4 rounded = __builtin_convertvector(__builtin_convertvector(INV_LN2 * x + -0.5, pn_v4l), pn_v4);
    pn_v4l small = ax < HALF_LN2, middle = (ax < THREE_HALVES_LN2) & ~small;
    pn_v4 minus_one = {-1.0, -1.0, -1.0, -1.0};
    pn_v4 t = (pn_v4)(((pn_v4l)rounded & ~(small | middle)) | ((pn_v4l)minus_one & middle));  /* +0.0 where small */
    pn_v4 p2k = (pn_v4)((__builtin_convertvector(t, pn_v4l) + 1023) << 52);
    pn_v4 hi = x - t * LN2_HI, lo = t * LN2_LO;
    pn_v4 r = hi - lo, rr = r * r;
    pn_v4 c = r - rr * (P1 + rr * (P2 + rr * (P3 + rr * (P4 + rr * P5))));
    pn_v4 y = one - ((lo - (r * c) / (two - c)) - hi);
    pn_v4 e = y * p2k;
    pn_v4 up = one / (one + e), down = e / (one + e);
    pn_v4l upward = zv >= 0.0;
    pn_v4 out = (pn_v4)(((pn_v4l)up & upward) | ((pn_v4l)down & ~upward));
    memcpy(a, &out, sizeof out);
    return 1;
}
#endif

double pn_expm1(double x)
{
    /* Twin of elementary.expm1. */
    double hi, lo, t, c = 0.0, y, hfx, hxs, r1, e;
    int k;
    if (x != x) {
        return x;
    }
    double ax = x < 0.0 ? -x : x;
    if (ax >= EXPM1_BIG) {
        if (x > EXP_OVERFLOW) {
            return INFINITY;
        }
        if (x < 0.0) {
            return -1.0;
        }
    }
    if (ax >= HALF_LN2) {
        k = reduce_ln2(x, ax, &hi, &lo);
        x = hi - lo;
        c = (hi - x) - lo;
    } else if (ax < 0x1p-54) {
        return x;
    } else {
        k = 0;
    }
    hfx = 0.5 * x;
    hxs = x * hfx;
    r1 = 1.0 + hxs * (Q1 + hxs * (Q2 + hxs * (Q3 + hxs * (Q4 + hxs * Q5))));
    t = 3.0 - r1 * hfx;
    e = hxs * ((r1 - t) / (6.0 - x * t));
    if (k == 0) {
        return x - (x * e - hxs);
    }
    e = x * (e - c) - c;
    e = e - hxs;
    if (k == -1) {
        return 0.5 * (x - e) - 0.5;
    }
    if (k == 1) {
        if (x < -0.25) {
            return -2.0 * (e - (x + 0.5));
        }
        return 1.0 + 2.0 * (x - e);
    }
    if (k <= -2 || k > 56) {
        y = 1.0 - (e - x);
        return ldexp(y, k) - 1.0;
    }
    if (k < 20) {
        y = (1.0 - ldexp(1.0, -k)) - (e - x);
    } else {
        y = x - (e + ldexp(1.0, -k));
        y = y + 1.0;
    }
    return ldexp(y, k);
}

double pn_log(double x)
{
    /* Twin of elementary.log. */
    int k;
    double m, f, dk, R, s, z, w, t1, t2, hfsq;
    if (x != x || x == INFINITY) {
        return x;
    }
    if (x <= 0.0) {
        return x == 0.0 ? -INFINITY : NAN;
    }
    m = frexp(x, &k);
    if (m + m < LOG_SPLIT) {
        f = (m + m) - 1.0;
        k = k - 1;
    } else {
        f = m - 1.0;
    }
    dk = (double)k;
    if (-0x1p-20 <= f && f < 0x1p-20) {
        if (f == 0.0) {
            if (k == 0) {
                return 0.0;
            }
            return dk * LN2_HI + dk * LN2_LO;
        }
        R = f * f * (0.5 - THIRD * f);
        if (k == 0) {
            return f - R;
        }
        return dk * LN2_HI - ((R - dk * LN2_LO) - f);
    }
    s = f / (2.0 + f);
    z = s * s;
    w = z * z;
    t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
    t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
    R = t2 + t1;
    hfsq = 0.5 * f * f;
    if (k == 0) {
        return f - (hfsq - s * (hfsq + R));
    }
    return dk * LN2_HI - ((hfsq - (s * (hfsq + R) + dk * LN2_LO)) - f);
}

double pn_tanh(double x)
{
    /* Twin of elementary.tanh. */
    double z;
    if (x != x) {
        return x;
    }
    double ax = x < 0.0 ? -x : x;
    if (ax >= 22.0) {
        z = 1.0;
    } else if (ax < 0x1p-55) {
        return x;
    } else if (ax >= TANH_BIG) {
        double t = pn_expm1(ax + ax);
        z = 1.0 - 2.0 / (t + 2.0);
    } else if (ax >= TANH_SMALL) {
        const double *table = ax < 1.0 ? TANH_NEAR : TANH_FAR;   /* centre, c0, c0's tail, q[0..14] */
        const double *q = table + 3;
        double d = ax - table[0];
        double p = q[14];
        for (int i = 13; i >= 0; i--) {
            p = q[i] + d * p;
        }
        z = table[1] + (table[2] + d * p);
    } else {
        double u = ax * ax;
        double g = T[0] + u * (T[1] + u * (T[2] + u * (T[3] + u * (T[4] + u * (T[5] + u * (T[6] + u * (T[7]
                   + u * (T[8] + u * (T[9] + u * (T[10] + u * T[11]))))))))));
        z = ax + ax * (u * g);
    }
    return x >= 0.0 ? z : -z;
}

/* Twin of elementary._reduce: x = n pi/2 + y[0] + y[1]; returns n.  |x| <= 2^20. */
static int reduce(double x, double *y)
{
    int top, e;
    double t = x < 0.0 ? -x : x;
    int n = (int)(t * INV_PIO2 + 0.5);
    double fn = (double)n;
    double r = t - fn * PIO2_1;
    double w = fn * PIO2_1T;
    double y0 = r - w;
    frexp(t, &top);
    frexp(y0, &e);
    if (top - e > 16) {
        t = r;
        w = fn * PIO2_2;
        r = t - w;
        w = fn * PIO2_2T - ((t - r) - w);
        y0 = r - w;
        frexp(y0, &e);
        if (top - e > 49) {
            t = r;
            w = fn * PIO2_3;
            r = t - w;
            w = fn * PIO2_3T - ((t - r) - w);
            y0 = r - w;
        }
    }
    double y1 = (r - y0) - w;
    if (x < 0.0) {
        y[0] = -y0; y[1] = -y1;
        return -n;
    }
    y[0] = y0; y[1] = y1;
    return n;
}

/* Twin of elementary._sin_kernel. */
static double sin_kernel(double x, double y)
{
    double z = x * x;
    double w = z * z;
    double r = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6);
    double v = z * x;
    return x - ((z * (0.5 * y - v * r) - y) - v * S1);
}

/* Twin of elementary._cos_kernel. */
static double cos_kernel(double x, double y)
{
    double z = x * x;
    double w = z * z;
    double r = z * (C1 + z * (C2 + z * C3)) + w * w * (C4 + z * (C5 + z * C6));
    double hz = 0.5 * z;
    w = 1.0 - hz;
    return w + (((1.0 - w) - hz) + (z * r - x * y));
}

double pn_sin(double x)
{
    /* Twin of elementary.sin. */
    double y[2];
    double ax = x < 0.0 ? -x : x;
    if (!(ax <= SIN_COS_LIMIT)) {
        return NAN;
    }
    if (ax < 0x1p-27) {
        return x;
    }
    switch (reduce(x, y) & 3) {
    case 0: return sin_kernel(y[0], y[1]);
    case 1: return cos_kernel(y[0], y[1]);
    case 2: return -sin_kernel(y[0], y[1]);
    default: return -cos_kernel(y[0], y[1]);
    }
}

double pn_cos(double x)
{
    /* Twin of elementary.cos. */
    double y[2];
    double ax = x < 0.0 ? -x : x;
    if (!(ax <= SIN_COS_LIMIT)) {
        return NAN;
    }
    if (ax < 0x1p-27) {
        return 1.0;
    }
    switch (reduce(x, y) & 3) {
    case 0: return cos_kernel(y[0], y[1]);
    case 1: return -sin_kernel(y[0], y[1]);
    case 2: return -cos_kernel(y[0], y[1]);
    default: return sin_kernel(y[0], y[1]);
    }
}

/* Not a twin: for `purenn bench --elementary`, which times these functions against the C
 * library's.  y (n) = f(x (n)), f by `which` (0 exp, 1 log, 2 tanh, 3 sin, 4 cos): purenn's
 * own when libm is 0, the platform's exp, log, tanh, sin or cos when it is 1. */
void pn_apply_elementary(int which, int libm, const double *x, int64_t n, double *y)
{
    static double (*const own[5])(double) = {pn_exp, pn_log, pn_tanh, pn_sin, pn_cos};
    static double (*const platform[5])(double) = {exp, log, tanh, sin, cos};
    double (*f)(double) = (libm ? platform : own)[which < 0 || which > 4 ? 0 : which];
    for (int64_t i = 0; i < n; i++) {
        y[i] = f(x[i]);
    }
}
