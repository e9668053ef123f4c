/* purenn_core.c -- the C core of purenn.  See purenn_core.h for the contract.
 *
 * Each function mirrors its Python twin in purenn/network.py loop for loop.
 * Where it is faster, work is spread across independent outputs (several
 * rows of w at once, each with its own running sum), never by reordering
 * the terms of one sum.  The only other liberty: inputs that are exactly
 * zero are gathered out once per layer (`nonzeros`), which skips exactly
 * the terms the Python twins skip, in the same order.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "purenn_core.h"

/* WIDE: on x86-64 Linux with GCC or Clang, also compile the function for
 * AVX2 and let the loader pick the version the processor can run.  The
 * wider registers only run more of the independent outputs side by side;
 * every output's operations and their order are unchanged (and with
 * -ffp-contract=off no multiply-add is fused), so the bits are the same. */
#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__)) \
    && !defined(PURENN_NO_CLONES)
#define WIDE __attribute__((target_clones("avx2", "default")))
#else
#define WIDE
#endif

/* ---- single numbers and vectors ------------------------------------------ */

double pn_sigmoid(double z)
{
    /* Twin of network.sigmoid: exp never sees a positive number, so never overflows. */
    if (z >= 0.0) {
        return 1.0 / (1.0 + exp(-z));
    }
    double e = exp(z);
    return e / (1.0 + e);
}

double pn_sigmoid_prime(double z)
{
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

WIDE void pn_weighted_inputs(const double *restrict wT, const double *restrict a,
                        const int64_t *restrict nz, int64_t m, const double *restrict b,
                        int64_t n_out, double *restrict z)
{
    /* Twin of network.weighted_inputs: z[j] = dot(w_j, a) + b[j].  With w
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
    for (int64_t j = 0; j < n_out; j++) {
        z[j] = z[j] + b[j];
    }
}

void pn_transpose_times(const double *wT, const double *delta, int64_t n_out, int64_t n_in,
                        double *out)
{
    /* Twin of network.transpose_times: out[k] = sum over j = 0, 1, ... of w[j][k] * delta[j]. */
    for (int64_t k = 0; k < n_in; k++) {
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
    /* Twin of adding network.outer(delta, a) into a gradient: rows where a[k] == 0 add nothing. */
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
    int64_t best = 0;
    for (int64_t i = 0; i < n; i++) {
        if (v[i] > v[best]) {
            best = i;
        }
    }
    return best;
}

/* ---- whole networks --------------------------------------------------------- */

int64_t pn_param_count(int64_t n_layers, const int64_t *sizes)
{
    int64_t count = 0;
    for (int64_t l = 0; l + 1 < n_layers; l++) {
        count += sizes[l] * sizes[l + 1] + sizes[l + 1];
    }
    return count;
}

/* Room for networks of up to this many layers (purenn/_cbackend.py checks). */
#define MAX_LAYERS 64

/* Buffers for one example's forward and backward pass, in one allocation. */
typedef struct {
    void *block;
    double *acts;        /* sizes[1] + ... + sizes[L]: each layer's activations after the input */
    int64_t *nz;         /* sizes[0] + ... + sizes[L-1]: each layer's non-zero inputs */
    double *nabla;       /* param_count: the mini-batch gradient, laid out as params */
    double *delta;       /* largest size: delta of the current layer */
    double *delta_below; /* largest size: delta of the layer below */
} workspace;

/* Where one example's activations are: layer l's in acts_of[l] (acts_of[0] is x),
 * the positions of its non-zero entries in nz_of[l][0 .. m_of[l]-1]. */
typedef struct {
    const double *acts_of[MAX_LAYERS];
    int64_t *nz_of[MAX_LAYERS];
    int64_t m_of[MAX_LAYERS];
} layers;

static int workspace_init(workspace *ws, int64_t n_layers, const int64_t *sizes, int with_gradient)
{
    int64_t n_acts = 0, n_nz = 0, most = 0;
    if (n_layers > MAX_LAYERS) {
        return -2;
    }
    for (int64_t l = 0; l < n_layers; l++) {
        n_acts += l > 0 ? sizes[l] : 0;
        n_nz += l + 1 < n_layers ? sizes[l] : 0;
        most = sizes[l] > most ? sizes[l] : most;
    }
    int64_t count = with_gradient ? pn_param_count(n_layers, sizes) : 0;
    int64_t n_doubles = n_acts + (with_gradient ? count + 2 * most : 0);
    ws->block = malloc(sizeof(double) * (size_t)n_doubles + sizeof(int64_t) * (size_t)n_nz);
    if (ws->block == NULL) {
        return -1;
    }
    ws->acts = ws->block;
    ws->nabla = with_gradient ? ws->acts + n_acts : NULL;
    ws->delta = with_gradient ? ws->nabla + count : NULL;
    ws->delta_below = with_gradient ? ws->delta + most : NULL;
    ws->nz = (int64_t *)(ws->acts + n_doubles);
    return 0;
}

/* Twin of the loop in Network.feedforward (and of backprop's forward pass):
 * x (sizes[0]) through every layer, each layer's activations recorded in *ls. */
static void forward(int64_t n_layers, const int64_t *sizes, const double *params,
                    const double *x, const workspace *ws, layers *ls)
{
    const double *p = params;
    double *acts = ws->acts;
    int64_t *nz = ws->nz;
    ls->acts_of[0] = x;
    for (int64_t l = 0; l + 1 < n_layers; l++) {
        int64_t n_in = sizes[l], n_out = sizes[l + 1];
        const double *wT = p, *b = p + n_in * n_out;
        ls->nz_of[l] = nz;
        ls->m_of[l] = pn_nonzeros(ls->acts_of[l], n_in, nz);
        pn_weighted_inputs(wT, ls->acts_of[l], nz, ls->m_of[l], b, n_out, acts);
        for (int64_t j = 0; j < n_out; j++) {
            acts[j] = pn_sigmoid(acts[j]);
        }
        ls->acts_of[l + 1] = acts;
        acts += n_out;
        nz += n_in;
        p = b + n_out;
    }
}

static int run_forward(int64_t n_layers, const int64_t *sizes, const double *params,
                       const double *X, int64_t n, double *out, int64_t *labels)
{
    workspace ws;
    layers ls;
    int status = workspace_init(&ws, n_layers, sizes, 0);
    if (status != 0) {
        return status;
    }
    int64_t n_in = sizes[0], n_out = sizes[n_layers - 1];
    for (int64_t i = 0; i < n; i++) {
        forward(n_layers, sizes, params, X + i * n_in, &ws, &ls);
        const double *a = ls.acts_of[n_layers - 1];
        if (out != NULL) {
            memcpy(out + i * n_out, a, sizeof(double) * (size_t)n_out);
        }
        if (labels != NULL) {
            labels[i] = pn_argmax(a, n_out);
        }
    }
    free(ws.block);
    return 0;
}

int pn_feedforward(int64_t n_layers, const int64_t *sizes, const double *params,
                   const double *X, int64_t n, double *out)
{
    return run_forward(n_layers, sizes, params, X, n, out, NULL);
}

int pn_classify(int64_t n_layers, const int64_t *sizes, const double *params,
                const double *X, int64_t n, int64_t *labels)
{
    return run_forward(n_layers, sizes, params, X, n, NULL, labels);
}

/* Twin of Network.backprop, its result added straight into ws->nabla (the sum
 * update_mini_batch forms) for the example x, y. */
static void backprop_add(int64_t n_layers, const int64_t *sizes, const double *params,
                         const double *x, const double *y, workspace *ws)
{
    layers ls;
    forward(n_layers, sizes, params, x, ws, &ls);

    int64_t l = n_layers - 2;  /* the last layer of weights: from layer l to l+1 */
    int64_t n_in = sizes[l], n_out = sizes[l + 1];
    int64_t offset = pn_param_count(n_layers, sizes) - (n_in * n_out + n_out);

    /* delta = cost_derivative(a, y) * sigmoid_prime(z), where sigmoid(z) is a itself. */
    const double *a = ls.acts_of[l + 1];
    double *delta = ws->delta, *below = ws->delta_below;
    for (int64_t j = 0; j < n_out; j++) {
        delta[j] = (a[j] - y[j]) * (a[j] * (1.0 - a[j]));
    }
    for (;;) {
        /* nabla_b += delta; nabla_w += outer(delta, activations[l]) */
        double *nwT = ws->nabla + offset, *nb = nwT + n_in * n_out;
        for (int64_t j = 0; j < n_out; j++) {
            nb[j] += delta[j];
        }
        pn_outer_add(nwT, delta, ls.acts_of[l], ls.nz_of[l], ls.m_of[l], n_out);
        if (l == 0) {
            break;
        }
        /* delta of the layer below = (w^T delta) * sigmoid_prime(z) */
        pn_transpose_times(params + offset, delta, n_out, n_in, below);
        a = ls.acts_of[l];
        for (int64_t k = 0; k < n_in; k++) {
            below[k] = below[k] * (a[k] * (1.0 - a[k]));
        }
        double *swap = delta;
        delta = below;
        below = swap;
        l--;
        n_out = n_in;
        n_in = sizes[l];
        offset -= n_in * n_out + n_out;
    }
}

/* Twin of the last two lines of Network.update_mini_batch: p = p - rate * nabla. */
WIDE static void descend(double *restrict params, const double *restrict nabla, double rate, int64_t count)
{
    for (int64_t p = 0; p < count; p++) {
        params[p] = params[p] - rate * nabla[p];
    }
}

/* Ask for the next example's inputs while this one is worked on: the rows come
 * in shuffled order, which no hardware prefetcher can guess.  No effect on results. */
static void prefetch_row(const double *row, int64_t n)
{
#if defined(__GNUC__) || defined(__clang__)
    for (int64_t k = 0; k < n; k += 8) {  /* 8 doubles: one 64-byte cache line */
        __builtin_prefetch(row + k);
    }
#else
    (void)row;
    (void)n;
#endif
}

int pn_train(int64_t n_layers, const int64_t *sizes, double *params,
             const double *X, const double *Y, const int64_t *order, int64_t n_order,
             int64_t batch, double eta)
{
    workspace ws;
    int status = workspace_init(&ws, n_layers, sizes, 1);
    if (status != 0) {
        return status;
    }
    int64_t n_in = sizes[0], n_out = sizes[n_layers - 1];
    int64_t count = pn_param_count(n_layers, sizes);
    for (int64_t start = 0; start < n_order; start += batch) {
        int64_t m = n_order - start < batch ? n_order - start : batch;
        memset(ws.nabla, 0, sizeof(double) * (size_t)count);
        for (int64_t i = start; i < start + m; i++) {
            if (i + 1 < n_order) {
                prefetch_row(X + order[i + 1] * n_in, n_in);
            }
            int64_t row = order[i];
            backprop_add(n_layers, sizes, params, X + row * n_in, Y + row * n_out, &ws);
        }
        /* w - (eta / len(mini_batch)) * nw, for every weight and bias alike. */
        descend(params, ws.nabla, eta / (double)m, count);
    }
    free(ws.block);
    return 0;
}
