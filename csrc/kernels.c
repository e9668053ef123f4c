/* kernels.c -- the vector kernels every subject builds on: the sigmoid, the
 * non-zero inputs of a layer, the weighted inputs w a + b, w^T delta, adding
 * delta a^T into a gradient, argmax, and pixel bytes to doubles.  Their
 * Python twins are in purenn/linalg.py (and the sigmoid in purenn/network.py).
 *
 * Where it is faster, work is spread across independent outputs (several
 * rows of w at once, each with its own running sum), never by reordering
 * the terms of one sum.  The only other liberty: inputs that are exactly
 * zero are gathered out once per layer (`pn_nonzeros`), which skips exactly
 * the terms the Python twins skip, in the same order.
 */
#include "internal.h"

double pn_sigmoid(double z)
{
    /* Twin of network.sigmoid: exp never sees a positive number, so never overflows. */
    if (z >= 0.0) {
        return 1.0 / (1.0 + pn_exp(-z));
    }
    double e = pn_exp(z);
    return e / (1.0 + e);
}

void pn_sigmoids(const double *z, double *a, int64_t n)
{
    /* Twin of network.sigmoid, for each of n: four at a time where pn_sigmoid4 can. */
    int64_t i = 0;
#ifdef PN_VECTORS
    for (; i + 4 <= n; i += 4) {
        if (!pn_sigmoid4(z + i, a + i)) {
            for (int j = 0; j < 4; j++) {
                a[i + j] = pn_sigmoid(z[i + j]);
            }
        }
    }
#endif
    for (; i < n; i++) {
        a[i] = pn_sigmoid(z[i]);
    }
}

double pn_sigmoid_prime(double z)
{
    /* Twin of network.sigmoid_prime. */
    return pn_sigmoid(z) * (1.0 - pn_sigmoid(z));
}

/* a[k] != 0.0 read from the bits: true for NaN, false for both zeros. */
static uint64_t nonzero_bits(double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits & 0x7FFFFFFFFFFFFFFFull;
}

int64_t pn_nonzeros(const double *a, int64_t n, int64_t *nz)
{
    /* Twin of backends.engine.nonzeros: the inputs linalg.dot and linalg.outer do not skip. */
    int64_t m = 0, k = 0;
    /* Most MNIST pixels come in long runs of zeros: pass over four at a time. */
    for (; k + 4 <= n; k += 4) {
        if ((nonzero_bits(a[k]) | nonzero_bits(a[k + 1]) | nonzero_bits(a[k + 2])
             | nonzero_bits(a[k + 3])) == 0) {
            continue;
        }
        for (int64_t i = k; i < k + 4; i++) {
            nz[m] = i;          /* always written, kept only if a[i] != 0: no branch to mispredict */
            m += (a[i] != 0.0);
        }
    }
    for (; k < n; k++) {
        nz[m] = k;
        m += (a[k] != 0.0);
    }
    return m;
}

WIDE void pn_weighted_sums(const double *restrict wT, const double *restrict a, const int64_t *restrict nz,
                           int64_t m, int64_t n_out, double *restrict z)
{
    /* Twin of linalg.dot for every output j at once: z[j] = dot(w_j, a).  With w
     * stored transposed, the inner loop runs across the outputs j, each z[j]
     * still adding its terms in the order k = 0, 1, ... of the non-zero a[k]. */
    for (int64_t j = 0; j < n_out; j++) {
        z[j] = 0.0;
    }
    for (int64_t t = 0; t < m; t++) {
        const double *wT_k = wT + nz[t] * n_out;
        double a_k = a[nz[t]];
        for (int64_t j = 0; j < n_out; j++) {
            z[j] += wT_k[j] * a_k;
        }
    }
}

void pn_weighted_inputs(const double *wT, const double *a, const int64_t *nz, int64_t m, const double *b,
                        int64_t n_out, double *z)
{
    /* Twin of linalg.weighted_inputs: z[j] = dot(w_j, a) + b[j]. */
    pn_weighted_sums(wT, a, nz, m, n_out, z);
    for (int64_t j = 0; j < n_out; j++) {
        z[j] = z[j] + b[j];
    }
}

void pn_softmax(const double *z, double *a, int64_t n)
{
    /* Twin of network2.softmax: a (n) from z (n); a may be z. */
    double most = z[0], total = 0.0;
    for (int64_t j = 0; j < n; j++) {
        if (z[j] > most) {
            most = z[j];
        }
    }
    for (int64_t j = 0; j < n; j++) {
        a[j] = pn_exp(z[j] - most);
    }
    for (int64_t j = 0; j < n; j++) {
        total += a[j];
    }
    for (int64_t j = 0; j < n; j++) {
        a[j] = a[j] / total;
    }
}

#ifdef PN_VECTORS
/* pn_transpose_times for the 16 outputs out[0..15] (rows wT[0..15] of n_out): four
 * rows at a time, read four weights along each and turned (in registers) into
 * four columns, so that each lane of acc[g] is one output's sum, its terms added
 * j = 0, 1, ... as the plain loop adds them -- four chains of four lanes. */
static inline __attribute__((always_inline)) void transpose_times16(const double *restrict wT,
                                                                    const double *restrict delta,
                                                                    int64_t n_out, double *restrict out)
{
    pn_v4 acc[4] = {{0.0, 0.0, 0.0, 0.0}, {0.0, 0.0, 0.0, 0.0}, {0.0, 0.0, 0.0, 0.0}, {0.0, 0.0, 0.0, 0.0}};
    int64_t j = 0;
    for (; j + 4 <= n_out; j += 4) {
        pn_v4 d0 = {delta[j], delta[j], delta[j], delta[j]}, d1 = {delta[j + 1], delta[j + 1], delta[j + 1], delta[j + 1]};
        pn_v4 d2 = {delta[j + 2], delta[j + 2], delta[j + 2], delta[j + 2]};
        pn_v4 d3 = {delta[j + 3], delta[j + 3], delta[j + 3], delta[j + 3]};
        for (int g = 0; g < 4; g++) {
            const double *r = wT + 4 * g * n_out + j;
            pn_v4 a0, a1, a2, a3;  /* rows 4g .. 4g+3, weights j .. j+3 */
            memcpy(&a0, r, sizeof a0), memcpy(&a1, r + n_out, sizeof a1);
            memcpy(&a2, r + 2 * n_out, sizeof a2), memcpy(&a3, r + 3 * n_out, sizeof a3);
            pn_v4 t0 = PN_SHUFFLE(a0, a1, 0, 4, 2, 6), t1 = PN_SHUFFLE(a0, a1, 1, 5, 3, 7);
            pn_v4 t2 = PN_SHUFFLE(a2, a3, 0, 4, 2, 6), t3 = PN_SHUFFLE(a2, a3, 1, 5, 3, 7);
            acc[g] = acc[g] + PN_SHUFFLE(t0, t2, 0, 1, 4, 5) * d0;  /* column j */
            acc[g] = acc[g] + PN_SHUFFLE(t1, t3, 0, 1, 4, 5) * d1;  /* column j + 1 */
            acc[g] = acc[g] + PN_SHUFFLE(t0, t2, 2, 3, 6, 7) * d2;
            acc[g] = acc[g] + PN_SHUFFLE(t1, t3, 2, 3, 6, 7) * d3;
        }
    }
    for (; j < n_out; j++) {
        pn_v4 d = {delta[j], delta[j], delta[j], delta[j]};
        for (int g = 0; g < 4; g++) {
            const double *r = wT + 4 * g * n_out + j;
            pn_v4 column = {r[0], r[n_out], r[2 * n_out], r[3 * n_out]};
            acc[g] = acc[g] + column * d;
        }
    }
    memcpy(out, acc, sizeof acc);
}
#endif

WIDE void pn_transpose_times(const double *restrict wT, const double *restrict delta, int64_t n_out, int64_t n_in,
                             double *restrict out)
{
    /* Twin of linalg.transpose_times: out[k] = sum over j = 0, 1, ... of w[j][k] * delta[j].
     * Sixteen outputs k at a time (transpose_times16), then four, each its own
     * sum in that order: chains of additions that the processor runs side by side. */
    int64_t k = 0;
#ifdef PN_VECTORS
    for (; k + 16 <= n_in; k += 16) {
        transpose_times16(wT + k * n_out, delta, n_out, out + k);
    }
#endif
    for (; k + 4 <= n_in; k += 4) {
        const double *w0 = wT + k * n_out, *w1 = w0 + n_out, *w2 = w1 + n_out, *w3 = w2 + n_out;
        double t0 = 0.0, t1 = 0.0, t2 = 0.0, t3 = 0.0;
        for (int64_t j = 0; j < n_out; j++) {
            double d = delta[j];
            t0 += w0[j] * d;
            t1 += w1[j] * d;
            t2 += w2[j] * d;
            t3 += w3[j] * d;
        }
        out[k] = t0, out[k + 1] = t1, out[k + 2] = t2, out[k + 3] = t3;
    }
    for (; k < n_in; k++) {
        const double *wT_k = wT + k * n_out;
        double total = 0.0;
        for (int64_t j = 0; j < n_out; j++) {
            total += wT_k[j] * delta[j];
        }
        out[k] = total;
    }
}

WIDE void pn_outer_add(double *restrict nwT, const double *restrict delta, const double *restrict a,
                  const int64_t *restrict nz, int64_t m, int64_t n_out)
{
    /* Twins of linalg.outer and linalg.add, outer(delta, a) added into a gradient: the -0.0
     * that linalg.outer gives where a[k] == 0 adds nothing, so those rows are skipped. */
    for (int64_t t = 0; t < m; t++) {
        double *nwT_k = nwT + nz[t] * n_out;
        double a_k = a[nz[t]];
        for (int64_t j = 0; j < n_out; j++) {
            nwT_k[j] += delta[j] * a_k;
        }
    }
}

int64_t pn_argmax(const double *v, int64_t n)
{
    /* Twin of linalg.argmax: the first of equal values wins, and a NaN only in first place. */
    int64_t best = 0;
    for (int64_t i = 0; i < n; i++) {
        if (v[i] > v[best]) {
            best = i;
        }
    }
    return best;
}

void pn_pixels_to_doubles(const uint8_t *bytes, int64_t n, double *out)
{
    /* Twin of mnist_loader.PIXEL_VALUES: byte / 256, exact for every byte. */
    for (int64_t i = 0; i < n; i++) {
        out[i] = (double)bytes[i] / 256.0;
    }
}
