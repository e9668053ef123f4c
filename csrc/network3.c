/* network3.c -- the chapter-6 network: conv-pool, fully connected and softmax
 * layers, dropout masks given by Python, the L2 term and the SGD step, and the
 * public pn3_param_count, pn3_mask_count, pn3_feedforward and pn3_train.
 * Their Python twins are in purenn/network3.py.
 *
 * Each function mirrors its Python twin: the same operations, every sum added
 * in the same order (purenn.h says more).  What differs is only where the
 * work is done, never the order of one sum:
 *
 *   phase A, layer by layer, a barrier between the stages: the conv-pool
 *     layers forward per example (threads take examples); a dense layer's
 *     weighted inputs for every example of the mini-batch (threads take
 *     outputs j, the examples in groups so that each block of wT is read
 *     once per group); then backward dC/dz (delta) down the layers -- a
 *     dense layer's delta below for every example (threads take inputs k,
 *     and step those rows' weights at once, as phase B would), a conv-pool
 *     layer's per example.  Each number is still one example's own sum,
 *     added in the reference's order;
 *   phase B, per parameter (threads take filters, the first layer's input
 *     rows if it is dense, and the dense layers' biases): each
 *     weight's dC/dw, its terms added over the examples in order and, within
 *     an example, over the pools in order -- the order in which the
 *     reference's backprop adds them into nabla one example after another --
 *     then the SGD step of that weight.
 *
 * So the numbers are the same whatever the number of threads.  A conv-pool
 * layer keeps, per example, the input patch of every convolution position
 * ("cols", in the sum's order ch, u, v) and its weights re-laid in that order
 * (wF, and wFT transposed so that the filters are side by side): the
 * convolution of a position then runs across the filters, each filter's sum
 * still over ch, u, v ascending.
 *
 * Layout of a layer's parameters (purenn.h): a conv-pool layer's w as the
 * reference's w[f][ch][u][v] row-major (F x C x fh x fw), then b (F); a dense
 * layer's w transposed, wT (n_in x n_out), as network.c keeps it, then b (n_out).
 */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"

#ifndef _WIN32
#include <pthread.h>
#define PN3_THREADS 1
#endif

#define MAX_LAYERS3 64
#define MAX_THREADS3 64
#define FIELDS3 12   /* per layer in pn_net3.layers: kind, activation, n_in, n_out, F, C, H, W, fh, fw, ph, pw */

/* One layer as read from pn_net3, with its derived sizes. */
typedef struct {
    int64_t kind, act, n_in, n_out;
    int64_t F, C, H, W, fh, fw, ph, pw, oh, ow;  /* conv-pool only */
    int64_t K, Q;      /* conv-pool: oh*ow convolution positions; C*fh*fw inputs in a patch */
    int64_t n_w;       /* its weights: F*C*fh*fw, or n_in*n_out */
    int64_t offset;    /* where its w begin in params; its b follow */
    double p;          /* p_dropout (dense layers only) */
    int64_t mask_at;   /* where its mask begins in one example's masks, or -1 */
    double *wF;        /* conv: F x Q, wF[f*Q + (ch*fh + u)*fw + v] = w[f][ch][fh-1-u][fw-1-v] */
    double *wFT;       /* conv: Q x F, wF transposed */
    double *wC;        /* conv: F x fh x fw x C, wC[f][u][v][ch] = wF[f][ch][u][v] (channels last) */
    double *gF;        /* conv, training: F x Q, the mini-batch's dC/dw laid out as wF; then F, dC/db */
    uint8_t *finite;   /* conv: F, whether each filter's weights are all finite */
} layer3;

/* One layer's part of one example's pass. */
typedef struct {
    const double *in;  /* its input as used: the layer below's a, or kept (after dropout) */
    double *kept;      /* dense: n_in, the input after dropout */
    double *cols;      /* conv: K x Q, cols[k*Q + (ch*fh + u)*fw + v] = in[ch][r + u][c + v], k = r*ow + c */
    double *z, *a;     /* n_out: weighted (or pooled) inputs and activations */
    double *delta;     /* n_out: dC/dz (training) */
    int64_t *winners;  /* conv: n_out, the conv index (f*K + k) of each pooled value */
    int64_t *nz;       /* dense: n_in, the non-zero inputs */
    int64_t m;
} slot3;

/* One example's pass: its layers' slots and its scratch. */
typedef struct {
    slot3 S[MAX_LAYERS3];
    double *conv;      /* conv_most: one convolution's output, position-major (k*F + f); or
                        * a conv layer's dC/dinput, channels last (convolve_backward_input3) */
    double *grad;      /* most: dC/d(a layer's input) */
    double *acc;       /* most: a thread's running sums in phase B */
    double *tile;      /* 16 x most (training): sixteen rows of a dense layer's wT, transposed */
    double *x;         /* n_in of the first layer: the example's input, from pixels */
    double cost;
} pass3;

typedef struct {
    int64_t n_layers, count, mask_count, most, conv_most, n_pass;
    layer3 L[MAX_LAYERS3];
    pass3 *P;          /* n_pass: one per example of a mini-batch, or one per thread */
    void *block;
} net3;

/* ---- the layers' arithmetic --------------------------------------------------- */

/* Twins of network3.linear, network3.ReLU, network.sigmoid and network2.tanh, by code. */
static double activation3(int64_t act, double z)
{
    if (act == PN3_LINEAR) {
        return z;
    }
    if (act == PN3_RELU) {
        return z > 0.0 ? z : 0.0;
    }
    if (act == PN3_SIGMOID) {
        return pn_sigmoid(z);
    }
    return pn_tanh(z);
}

/* activation3 of each of z[0 .. n-1], into a: the sigmoid four at a time (pn_sigmoids). */
static void activations3(int64_t act, const double *z, double *a, int64_t n)
{
    if (act == PN3_SIGMOID) {
        pn_sigmoids(z, a, n);
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        a[i] = activation3(act, z[i]);
    }
}

/* Twins of network3._linear_prime, network3._relu_prime, network3._sigmoid_prime and
 * network3._tanh_prime: f'(z) given z and a = f(z). */
static double prime3(int64_t act, double z, double a)
{
    if (act == PN3_LINEAR) {
        return 1.0;
    }
    if (act == PN3_RELU) {
        return z > 0.0 ? 1.0 : 0.0;
    }
    if (act == PN3_SIGMOID) {
        return a * (1.0 - a);
    }
    return 1.0 - a * a;
}

/* The patches of x (C*H*W) at every convolution position, into cols (K x Q). */
static void patches3(const layer3 *L, const double *x, double *cols)
{
    int64_t H = L->H, W = L->W, fh = L->fh, fw = L->fw;
    for (int64_t r = 0; r < L->oh; r++) {
        for (int64_t c = 0; c < L->ow; c++) {
            for (int64_t ch = 0; ch < L->C; ch++) {
                for (int64_t u = 0; u < fh; u++) {
                    const double *x_row = x + ch * H * W + (r + u) * W + c;
                    for (int64_t v = 0; v < fw; v++) {
                        *cols++ = x_row[v];
                    }
                }
            }
        }
    }
}

/* Twin of network3.convolve for KB3 positions and FB3 filters from f: x is KB3
 * patches (rows of Q), out KB3 rows of F.  Their KB3 x FB3 sums are kept side by
 * side (in registers), each over q ascending.  Zero inputs are not left out:
 * with finite weights a zero input adds 0.0 or -0.0, which leaves a sum that
 * started at +0.0 as it is (such a sum is never -0.0) -- so only layers whose
 * weights are all finite come here (convolve3). */
#define KB3 4
#define FB3 8
#ifdef PN_VECTORS  /* internal.h's pn_v4; CI builds the core without it too */

static inline __attribute__((always_inline)) void convolve_block3(const double *restrict x,
                                                                  const double *restrict wFT, int64_t Q,
                                                                  int64_t F, int64_t f, double *restrict out)
{
    pn_v4 t0a = {0.0, 0.0, 0.0, 0.0}, t0b = t0a, t1a = t0a, t1b = t0a, t2a = t0a, t2b = t0a, t3a = t0a, t3b = t0a;
    for (int64_t q = 0; q < Q; q++) {
        pn_v4 wa, wb;
        memcpy(&wa, wFT + q * F + f, sizeof wa), memcpy(&wb, wFT + q * F + f + 4, sizeof wb);
        double x0 = x[q], x1 = x[Q + q], x2 = x[2 * Q + q], x3 = x[3 * Q + q];
        pn_v4 b0 = {x0, x0, x0, x0}, b1 = {x1, x1, x1, x1}, b2 = {x2, x2, x2, x2}, b3 = {x3, x3, x3, x3};
        t0a += b0 * wa, t0b += b0 * wb;
        t1a += b1 * wa, t1b += b1 * wb;
        t2a += b2 * wa, t2b += b2 * wb;
        t3a += b3 * wa, t3b += b3 * wb;
    }
    memcpy(out + f, &t0a, sizeof t0a), memcpy(out + f + 4, &t0b, sizeof t0b);
    memcpy(out + F + f, &t1a, sizeof t1a), memcpy(out + F + f + 4, &t1b, sizeof t1b);
    memcpy(out + 2 * F + f, &t2a, sizeof t2a), memcpy(out + 2 * F + f + 4, &t2b, sizeof t2b);
    memcpy(out + 3 * F + f, &t3a, sizeof t3a), memcpy(out + 3 * F + f + 4, &t3b, sizeof t3b);
}

/* The same for 4 filters from f (a layer's last few). */
static inline __attribute__((always_inline)) void convolve_block4_3(const double *restrict x,
                                                                    const double *restrict wFT, int64_t Q,
                                                                    int64_t F, int64_t f, double *restrict out)
{
    pn_v4 t0 = {0.0, 0.0, 0.0, 0.0}, t1 = t0, t2 = t0, t3 = t0;
    for (int64_t q = 0; q < Q; q++) {
        pn_v4 w;
        memcpy(&w, wFT + q * F + f, sizeof w);
        double x0 = x[q], x1 = x[Q + q], x2 = x[2 * Q + q], x3 = x[3 * Q + q];
        pn_v4 b0 = {x0, x0, x0, x0}, b1 = {x1, x1, x1, x1}, b2 = {x2, x2, x2, x2}, b3 = {x3, x3, x3, x3};
        t0 += b0 * w, t1 += b1 * w, t2 += b2 * w, t3 += b3 * w;
    }
    memcpy(out + f, &t0, sizeof t0), memcpy(out + F + f, &t1, sizeof t1);
    memcpy(out + 2 * F + f, &t2, sizeof t2), memcpy(out + 3 * F + f, &t3, sizeof t3);
}
#define BLOCKS3 1
#endif

#ifdef BLOCKS3
static int all_finite3(const uint8_t *finite, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        if (!finite[i]) {
            return 0;
        }
    }
    return 1;
}
#endif

/* Twin of network3.convolve for one position's patch x (Q) and the filters f0 .. F-1. */
static void convolve_rest3(const double *x, const double *wFT, int64_t Q, int64_t F, int64_t f0, double *out)
{
    for (int64_t f = f0; f < F; f++) {
        out[f] = 0.0;
    }
    for (int64_t q = 0; q < Q; q++) {
        double xq = x[q];
        if (xq != 0.0) {
            for (int64_t f = f0; f < F; f++) {
                out[f] += xq * wFT[q * F + f];
            }
        }
    }
}

/* Twin of network3.convolve: conv (K x F, position-major) from the patches (K x Q)
 * and wFT (Q x F); each conv[k*F + f] sums over q = (ch, u, v) ascending, zero
 * inputs left out -- computed KB3 positions and FB3 filters at a time. */
WIDE static void convolve3(const layer3 *L, const double *restrict cols, double *restrict conv)
{
    int64_t F = L->F, Q = L->Q, K = L->K, k = 0;
#ifdef BLOCKS3
    int64_t blocked = all_finite3(L->finite, F) ? F - F % 4 : 0;  /* the filters done in blocks */
    for (; k + KB3 <= K && blocked > 0; k += KB3) {
        int64_t f = 0;
        for (; f + FB3 <= blocked; f += FB3) {
            convolve_block3(cols + k * Q, L->wFT, Q, F, f, conv + k * F);
        }
        for (; f < blocked; f += 4) {
            convolve_block4_3(cols + k * Q, L->wFT, Q, F, f, conv + k * F);
        }
        for (int i = 0; i < KB3 && blocked < F; i++) {
            convolve_rest3(cols + (k + i) * Q, L->wFT, Q, F, blocked, conv + (k + i) * F);
        }
    }
#endif
    for (; k < K; k++) {
        convolve_rest3(cols + k * Q, L->wFT, Q, F, 0, conv + k * F);
    }
}

/* Twin of network3.max_pool: pooled and winners (F*PH*PW) from conv (position-major,
 * conv[k*F + f] is the reference's conv[f*K + k]); the first maximum in row-major
 * order wins; winners hold the reference's index f*K + k. */
static void max_pool3(const layer3 *L, const double *conv, double *pooled, int64_t *winners)
{
    int64_t rows = L->oh, cols = L->ow, ph = L->ph, pw = L->pw, F = L->F, PH = rows / ph, PW = cols / pw;
    for (int64_t i = 0; i < PH; i++) {
        for (int64_t j = 0; j < PW; j++) {
            for (int64_t f = 0; f < F; f++) {  /* the filters' values at a position side by side in conv */
                int64_t best = i * ph * cols + j * pw, p = (f * PH + i) * PW + j;
                double most = conv[best * F + f];
                for (int64_t u = 0; u < ph; u++) {
                    for (int64_t v = 0; v < pw; v++) {
                        int64_t k = (i * ph + u) * cols + j * pw + v;
                        double value = conv[k * F + f];
                        int larger = value > most;  /* chosen without a branch: the winners are unpredictable */
                        best = larger ? k : best;
                        most = larger ? value : most;
                    }
                }
                pooled[p] = most;
                winners[p] = f * L->K + best;
            }
        }
    }
}

/* Twin of network3.convolve_backward's dC/dinput: for each pool i in order with
 * delta[i] != 0, d * w added into grad_in (C*H*W) under the winner's window.
 * The sums are kept channel-last in by_pixel (H*W x C), so that the C channels of a
 * window's pixel sit side by side (wC holds the weights in that order); each
 * input's sum is still over the pools in order. */
WIDE static void convolve_backward_input3(const layer3 *L, const slot3 *s, double *restrict by_pixel,
                                          double *restrict grad_in)
{
    int64_t C = L->C, HW = L->H * L->W, W = L->W, fh = L->fh, fw = L->fw;
    for (int64_t p = 0; p < L->n_in; p++) {
        by_pixel[p] = 0.0;
    }
    for (int64_t i = 0; i < L->n_out; i++) {
        double d = s->delta[i];
        if (d == 0.0) {
            continue;
        }
        int64_t f = s->winners[i] / L->K, k = s->winners[i] % L->K, r = k / L->ow, c = k % L->ow;
        const double *restrict w = L->wC + f * L->Q;  /* wC[f][u][v][ch] = w[f][ch][fh - 1 - u][fw - 1 - v] */
        for (int64_t u = 0; u < fh; u++) {
            for (int64_t v = 0; v < fw; v++) {
                double *restrict g = by_pixel + ((r + u) * W + c + v) * C;
                const double *restrict w_uv = w + (u * fw + v) * C;
                for (int64_t ch = 0; ch < C; ch++) {
                    g[ch] += d * w_uv[ch];
                }
            }
        }
    }
    for (int64_t ch = 0; ch < C; ch++) {
        for (int64_t p = 0; p < HW; p++) {
            grad_in[ch * HW + p] = by_pixel[p * C + ch];
        }
    }
}

/* Twin of network3.convolve_backward's dC/dw for one pool: d * x added into g (Q,
 * laid out as wF) for the non-zero inputs x of the winner's patch.  With d
 * finite, a zero x adds 0.0 or -0.0, which leaves g as it is (g starts at +0.0
 * and such a sum is never -0.0): only an infinite or NaN d must leave them out. */
WIDE static void add_patch3(double *restrict g, double d, const double *restrict x, int64_t Q)
{
    if (isfinite(d)) {
        for (int64_t q = 0; q < Q; q++) {
            g[q] += d * x[q];
        }
        return;
    }
    for (int64_t q = 0; q < Q; q++) {
        if (x[q] != 0.0) {
            g[q] += d * x[q];
        }
    }
}

/* Twin of network3.ConvPoolLayer.forward: the patches, z and a (F*PH*PW) and the winners. */
static void conv_forward(const layer3 *L, const double *params, const double *in, slot3 *s, pass3 *P)
{
    const double *b = params + L->offset + L->n_w;
    int64_t per_filter = L->n_out / L->F;
    s->in = in;
    patches3(L, in, s->cols);
    convolve3(L, s->cols, P->conv);
    max_pool3(L, P->conv, s->z, s->winners);
    for (int64_t i = 0; i < L->n_out; i++) {
        s->z[i] = s->z[i] + b[i / per_filter];
    }
    activations3(L->act, s->z, s->a, L->n_out);
}

/* Twins of network3.FullyConnectedLayer.activate and network3.SoftmaxLayer.activate: a from z. */
static void dense_activate3(const layer3 *L, slot3 *s)
{
    if (L->kind == PN3_SOFTMAX) {
        pn_softmax(s->z, s->a, L->n_out);
        return;
    }
    activations3(L->act, s->z, s->a, L->n_out);
}

/* Twin of network3._DenseLayer.forward's input, for one example: after dropout when
 * mask (n_in bytes) is given, the book's inpt * mask; and its non-zero entries. */
static void dense_prepare3(const layer3 *L, const double *in, const uint8_t *mask, slot3 *s)
{
    if (mask != NULL) {
        for (int64_t k = 0; k < L->n_in; k++) {
            s->kept[k] = mask[k] ? in[k] : 0.0;  /* the book's inpt * mask */
        }
        in = s->kept;
    }
    s->in = in;
    s->m = pn_nonzeros(in, L->n_in, s->nz);
}

/* Twin of network3._DenseLayer.feedforward: activate((1 - p_dropout) * (w . a) + b). */
static void dense_in_use(const layer3 *L, const double *params, const double *in, slot3 *s)
{
    const double *wT = params + L->offset, *b = wT + L->n_w;
    double keep = 1.0 - L->p;
    s->in = in;
    s->m = pn_nonzeros(in, L->n_in, s->nz);
    pn_weighted_sums(wT, in, s->nz, s->m, L->n_out, s->z);
    for (int64_t j = 0; j < L->n_out; j++) {
        s->z[j] = keep * s->z[j] + b[j];
    }
    dense_activate3(L, s);
}

/* ---- a network: its layers, its workspace ------------------------------------- */

/* Carve 64-byte-aligned pieces out of one block; with base NULL, only measure. */
typedef struct {
    char *base;
    size_t used;
} carve3;

static void *take3(carve3 *c, int64_t n, size_t size)
{
    size_t at = (c->used + 63) & ~(size_t)63;
    c->used = at + (size_t)n * size;
    return c->base != NULL ? c->base + at : NULL;
}

static void lay_out3(net3 *N, carve3 *c, int with_gradient)
{
    for (int64_t l = 0; l < N->n_layers; l++) {
        layer3 *L = &N->L[l];
        int conv = L->kind == PN3_CONV;
        L->wF = conv ? take3(c, L->n_w, sizeof(double)) : NULL;
        L->wFT = conv ? take3(c, L->n_w, sizeof(double)) : NULL;
        L->wC = conv ? take3(c, L->n_w, sizeof(double)) : NULL;
        L->gF = conv && with_gradient ? take3(c, L->n_w + L->F, sizeof(double)) : NULL;
        L->finite = conv ? take3(c, L->F, 1) : NULL;
    }
    N->P = take3(c, N->n_pass, sizeof(pass3));
    for (int64_t e = 0; e < N->n_pass; e++) {
        pass3 *P = c->base != NULL ? &N->P[e] : NULL, dummy;
        P = P != NULL ? P : &dummy;
        for (int64_t l = 0; l < N->n_layers; l++) {
            const layer3 *L = &N->L[l];
            slot3 *s = &P->S[l];
            int conv = L->kind == PN3_CONV;
            s->kept = conv ? NULL : take3(c, L->n_in, sizeof(double));
            s->cols = conv ? take3(c, L->K * L->Q, sizeof(double)) : NULL;
            s->z = take3(c, L->n_out, sizeof(double));
            s->a = take3(c, L->n_out, sizeof(double));
            s->delta = take3(c, L->n_out, sizeof(double));
            s->winners = conv ? take3(c, L->n_out, sizeof(int64_t)) : NULL;
            s->nz = conv ? NULL : take3(c, L->n_in, sizeof(int64_t));
        }
        P->conv = take3(c, N->conv_most, sizeof(double));
        P->grad = take3(c, N->most, sizeof(double));
        P->acc = take3(c, N->most, sizeof(double));
        P->tile = with_gradient ? take3(c, 16 * N->most, sizeof(double)) : NULL;
        P->x = take3(c, N->L[0].n_in, sizeof(double));
    }
}

static int read_layers3(net3 *N, const pn_net3 *net)
{
    if (net->n_layers < 1 || net->n_layers > MAX_LAYERS3) {
        return -2;
    }
    int64_t count = 0, mask_count = 0, most = 1, conv_most = 1;
    N->n_layers = net->n_layers;
    for (int64_t l = 0; l < net->n_layers; l++) {
        const int64_t *f = net->layers + l * FIELDS3;
        layer3 *L = &N->L[l];
        L->kind = f[0], L->act = f[1], L->n_in = f[2], L->n_out = f[3];
        L->F = f[4], L->C = f[5], L->H = f[6], L->W = f[7], L->fh = f[8], L->fw = f[9], L->ph = f[10], L->pw = f[11];
        L->p = net->p_dropout[l];
        L->offset = count;
        if (L->kind == PN3_CONV) {
            L->oh = L->H - L->fh + 1, L->ow = L->W - L->fw + 1;
            L->K = L->oh * L->ow, L->Q = L->C * L->fh * L->fw;
            L->n_w = L->F * L->Q;
            count += L->n_w + L->F;
            conv_most = L->F * L->K > conv_most ? L->F * L->K : conv_most;
            conv_most = L->n_in > conv_most ? L->n_in : conv_most;
        } else {
            L->K = L->Q = 0;
            L->n_w = L->n_in * L->n_out;
            count += L->n_w + L->n_out;
        }
        L->mask_at = L->kind != PN3_CONV && L->p > 0.0 ? mask_count : -1;
        mask_count += L->mask_at >= 0 ? L->n_in : 0;
        most = L->n_in > most ? L->n_in : most;
        most = L->n_out > most ? L->n_out : most;
    }
    N->count = count, N->mask_count = mask_count, N->most = most, N->conv_most = conv_most;
    return 0;
}

/* The layers read, and a workspace of n_pass passes allocated. */
static int net3_init(net3 *N, const pn_net3 *net, int64_t n_pass, int with_gradient)
{
    int status = read_layers3(N, net);
    if (status != 0) {
        return status;
    }
    N->n_pass = n_pass;
    carve3 c = {NULL, 0};
    lay_out3(N, &c, with_gradient);
    N->block = malloc(c.used + 64);
    if (N->block == NULL) {
        return -1;
    }
    c.base = (char *)(((uintptr_t)N->block + 63) & ~(uintptr_t)63), c.used = 0;
    lay_out3(N, &c, with_gradient);
    return 0;
}

/* A conv layer's wF, wFT, wC and finite for filters f0 .. f1 - 1, from its w in params. */
static void refresh_filters3(layer3 *L, const double *params, int64_t f0, int64_t f1)
{
    const double *w = params + L->offset;
    int64_t fh = L->fh, fw = L->fw, Q = L->Q;
    for (int64_t f = f0; f < f1; f++) {
        int finite = 1;
        for (int64_t ch = 0; ch < L->C; ch++) {
            for (int64_t u = 0; u < fh; u++) {
                for (int64_t v = 0; v < fw; v++) {
                    int64_t q = (ch * fh + u) * fw + v;
                    L->wF[f * Q + q] = w[f * Q + (ch * fh + (fh - 1 - u)) * fw + (fw - 1 - v)];
                    L->wFT[q * L->F + f] = L->wF[f * Q + q];
                    L->wC[f * Q + (u * fw + v) * L->C + ch] = L->wF[f * Q + q];
                    finite = finite && isfinite(L->wF[f * Q + q]);
                }
            }
        }
        L->finite[f] = (uint8_t)finite;
    }
}

static void refresh_all3(net3 *N, const double *params)
{
    for (int64_t l = 0; l < N->n_layers; l++) {
        if (N->L[l].kind == PN3_CONV) {
            refresh_filters3(&N->L[l], params, 0, N->L[l].F);
        }
    }
}

int64_t pn3_param_count(const pn_net3 *net)
{
    net3 N;
    return read_layers3(&N, net) != 0 ? -1 : N.count;
}

int64_t pn3_mask_count(const pn_net3 *net)
{
    net3 N;
    return read_layers3(&N, net) != 0 ? -1 : N.mask_count;
}

/* ---- threads: a few workers that meet at a barrier ---------------------------- */

typedef struct {
#ifdef PN3_THREADS
    pthread_mutex_t mu;
    pthread_cond_t cv;
#endif
    int64_t parties, arrived, generation;
} barrier3;

static void barrier_wait3(barrier3 *b)
{
#ifdef PN3_THREADS
    if (b->parties <= 1) {
        return;
    }
    pthread_mutex_lock(&b->mu);
    int64_t generation = b->generation;
    if (++b->arrived == b->parties) {
        b->arrived = 0;
        b->generation++;
        pthread_cond_broadcast(&b->cv);
    } else {
        while (generation == b->generation) {
            pthread_cond_wait(&b->cv, &b->mu);
        }
    }
    pthread_mutex_unlock(&b->mu);
#else
    (void)b;
#endif
}

/* What a job's workers share: the work (run(job, t) for t in 0 .. T-1) and the barrier. */
typedef struct job3 {
    void (*run)(struct job3 *job, int64_t t);
    int64_t T;
    barrier3 barrier;
    net3 *N;
    double *params;
    const double *X;   /* n x n_in inputs, or NULL when X8 holds them */
    const uint8_t *X8; /* n x n_in pixels (input = byte / 256), or NULL */
    const int64_t *Y, *order;
    const uint8_t *masks;
    int64_t n, n_batches, batch, num_training_batches;
    double eta, lmbda, *out, *costs;
    int64_t *labels;
} job3;

typedef struct {
    job3 *job;
    int64_t t;
} worker3;

#ifdef PN3_THREADS
static void *work3(void *arg)
{
    worker3 *w = arg;
    barrier_wait3(&w->job->barrier);  /* until job->T is final */
    w->job->run(w->job, w->t);
    return NULL;
}
#endif

/* Run job->run on `threads` threads (this one included), fewer if some cannot start. */
static void run_job3(job3 *job, int64_t threads)
{
    threads = threads < 1 ? 1 : threads > MAX_THREADS3 ? MAX_THREADS3 : threads;
    job->T = 1;
#ifdef PN3_THREADS
    pthread_t ids[MAX_THREADS3];
    worker3 workers[MAX_THREADS3];
    job->barrier.parties = threads, job->barrier.arrived = 0, job->barrier.generation = 0;
    pthread_mutex_init(&job->barrier.mu, NULL);
    pthread_cond_init(&job->barrier.cv, NULL);
    for (int64_t t = 1; t < threads; t++) {
        workers[t].job = job, workers[t].t = t;
        if (pthread_create(&ids[t], NULL, work3, &workers[t]) != 0) {
            break;
        }
        job->T = t + 1;
    }
    pthread_mutex_lock(&job->barrier.mu);
    job->barrier.parties = job->T;  /* the threads that started; none has passed the first wait */
    pthread_mutex_unlock(&job->barrier.mu);
    barrier_wait3(&job->barrier);
    job->run(job, 0);
    for (int64_t t = 1; t < job->T; t++) {
        pthread_join(ids[t], NULL);
    }
    pthread_cond_destroy(&job->barrier.cv);
    pthread_mutex_destroy(&job->barrier.mu);
#else
    (void)threads;
    job->barrier.parties = 1;
    job->run(job, 0);
#endif
}

/* The share [*lo, *hi) of 0 .. n that thread t of T takes. */
static void share3(int64_t n, int64_t t, int64_t T, int64_t *lo, int64_t *hi)
{
    *lo = n * t / T;
    *hi = n * (t + 1) / T;
}

/* Example `row`'s input: a row of X, or its pixels as doubles in P->x. */
static const double *input3(const job3 *J, pass3 *P, int64_t row)
{
    int64_t n_in = J->N->L[0].n_in;
    if (J->X8 == NULL) {
        return J->X + row * n_in;
    }
    pn_pixels_to_doubles(J->X8 + row * n_in, n_in, P->x);
    return P->x;
}

/* ---- feedforward ---------------------------------------------------------------- */

/* Twin of network3.Network.feedforward: the output (the last layer's a) in use. */
static const double *feedforward3(net3 *N, pass3 *P, const double *params, const double *x)
{
    const double *a = x;
    for (int64_t l = 0; l < N->n_layers; l++) {
        if (N->L[l].kind == PN3_CONV) {
            conv_forward(&N->L[l], params, a, &P->S[l], P);
        } else {
            dense_in_use(&N->L[l], params, a, &P->S[l]);
        }
        a = P->S[l].a;
    }
    return a;
}

static void feedforward_job3(job3 *J, int64_t t)
{
    net3 *N = J->N;
    int64_t n_out = N->L[N->n_layers - 1].n_out, lo, hi;
    share3(J->n, t, J->T, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) {
        const double *a = feedforward3(N, &N->P[t], J->params, input3(J, &N->P[t], i));
        if (J->out != NULL) {
            memcpy(J->out + i * n_out, a, sizeof(double) * (size_t)n_out);
        }
        if (J->labels != NULL) {
            J->labels[i] = pn_argmax(a, n_out);
        }
    }
}

int pn3_feedforward(const pn_net3 *net, const double *params, const double *X, const uint8_t *X8, int64_t n,
                    double *out, int64_t *labels, int64_t threads)
{
    net3 N;
    threads = threads < 1 ? 1 : threads > MAX_THREADS3 ? MAX_THREADS3 : threads;
    int status = net3_init(&N, net, threads, 0);
    if (status != 0) {
        return status;
    }
    refresh_all3(&N, params);
    job3 job = {.run = feedforward_job3, .N = &N, .params = (double *)params, .X = X, .X8 = X8, .n = n, .out = out,
                .labels = labels};
    run_job3(&job, threads);
    free(N.block);
    return 0;
}

/* ---- training: phase A, layer by layer over the mini-batch's examples --------- */

/* Phase A is network3.Network.backprop for every example of the mini-batch, done a
 * layer at a time so that a dense layer's weights are read from memory once per
 * mini-batch, not once per example: a conv-pool layer's work is split among the
 * threads by examples, a dense layer's weighted inputs by outputs j, its
 * dC/d(input) (and the step of those inputs' weights) by inputs k.  Each number is still computed by the operations, in
 * the order, of the reference's backprop of its example alone. */

/* Twins of network3.SoftmaxLayer.output_delta (a - e_y) and network3.SoftmaxLayer.cost. */
static void output_delta3(net3 *N, pass3 *P, int64_t y)
{
    int64_t last = N->n_layers - 1;
    const double *a = P->S[last].a;
    for (int64_t j = 0; j < N->L[last].n_out; j++) {
        P->S[last].delta[j] = a[j] - (j == y ? 1.0 : 0.0);
    }
    P->cost = a[y] > 1e-300 ? -pn_log(a[y]) : -pn_log(1e-300);
}

/* The forward pass's per-example part, for thread t's examples of mini-batch mb:
 * layer l - 1's activation if it is dense (dense_sums3 gave its z), the conv-pool
 * layers from l on, then the next dense layer's input (dense_prepare3) -- or,
 * past the last layer, the output's delta and the cost.  Returns that dense
 * layer's index (n_layers when there is none). */
static int64_t forward_examples3(job3 *J, int64_t mb, int64_t t, int64_t l)
{
    net3 *N = J->N;
    int64_t next = l, last = N->n_layers - 1;
    while (next <= last && N->L[next].kind == PN3_CONV) {
        next++;
    }
    for (int64_t e = t; e < J->batch; e += J->T) {
        pass3 *P = &N->P[e];
        int64_t row = J->order[mb * J->batch + e];
        const uint8_t *mask = J->masks == NULL ? NULL : J->masks + (mb * J->batch + e) * N->mask_count;
        if (l > 0 && N->L[l - 1].kind != PN3_CONV) {
            dense_activate3(&N->L[l - 1], &P->S[l - 1]);
        }
        const double *a = l == 0 ? input3(J, P, row) : P->S[l - 1].a;
        for (int64_t c = l; c < next; c++) {
            conv_forward(&N->L[c], J->params, a, &P->S[c], P);
            a = P->S[c].a;
        }
        if (next <= last) {
            const layer3 *D = &N->L[next];
            dense_prepare3(D, a, mask != NULL && D->mask_at >= 0 ? mask + D->mask_at : NULL, &P->S[next]);
        } else {
            output_delta3(N, P, J->Y[row]);
        }
    }
    return next;
}

#ifdef PN_VECTORS
/* dense_sums3's sums for sixteen outputs side by side: z[i] += wT[k*n_out + i] * in[k]
 * for the m inputs k in nz, in that order. */
static inline __attribute__((always_inline)) void sums16_3(const double *restrict wT, int64_t n_out,
                                                           const double *restrict in, const int64_t *restrict nz,
                                                           int64_t m, double *restrict z)
{
    pn_v4 t0, t1, t2, t3;
    memcpy(&t0, z, sizeof t0), memcpy(&t1, z + 4, sizeof t1), memcpy(&t2, z + 8, sizeof t2), memcpy(&t3, z + 12, sizeof t3);
    for (int64_t u = 0; u < m; u++) {
        const double *w = wT + nz[u] * n_out;
        pn_v4 w0, w1, w2, w3, a = {in[nz[u]], in[nz[u]], in[nz[u]], in[nz[u]]};
        memcpy(&w0, w, sizeof w0), memcpy(&w1, w + 4, sizeof w1), memcpy(&w2, w + 8, sizeof w2), memcpy(&w3, w + 12, sizeof w3);
        t0 += w0 * a, t1 += w1 * a, t2 += w2 * a, t3 += w3 * a;
    }
    memcpy(z, &t0, sizeof t0), memcpy(z + 4, &t1, sizeof t1), memcpy(z + 8, &t2, sizeof t2), memcpy(z + 12, &t3, sizeof t3);
}

/* dense_sums3's sums for sixteen outputs of two examples at once, over the full
 * inputs k = 0 .. m - 1 of a block (wT from its first row): z[i] += wT[k*n_out + i] * in[k]. */
static inline __attribute__((always_inline)) void sums16x2_3(const double *restrict wT, int64_t n_out,
                                                             const double *restrict in, const double *restrict in2,
                                                             int64_t m, double *restrict z, double *restrict z2)
{
    pn_v4 t0, t1, t2, t3, r0, r1, r2, r3;
    memcpy(&t0, z, sizeof t0), memcpy(&t1, z + 4, sizeof t1), memcpy(&t2, z + 8, sizeof t2), memcpy(&t3, z + 12, sizeof t3);
    memcpy(&r0, z2, sizeof r0), memcpy(&r1, z2 + 4, sizeof r1), memcpy(&r2, z2 + 8, sizeof r2), memcpy(&r3, z2 + 12, sizeof r3);
    for (int64_t k = 0; k < m; k++) {
        const double *w = wT + k * n_out;
        pn_v4 w0, w1, w2, w3, a = {in[k], in[k], in[k], in[k]}, c = {in2[k], in2[k], in2[k], in2[k]};
        memcpy(&w0, w, sizeof w0), memcpy(&w1, w + 4, sizeof w1), memcpy(&w2, w + 8, sizeof w2), memcpy(&w3, w + 12, sizeof w3);
        t0 += w0 * a, t1 += w1 * a, t2 += w2 * a, t3 += w3 * a;
        r0 += w0 * c, r1 += w1 * c, r2 += w2 * c, r3 += w3 * c;
    }
    memcpy(z, &t0, sizeof t0), memcpy(z + 4, &t1, sizeof t1), memcpy(z + 8, &t2, sizeof t2), memcpy(z + 12, &t3, sizeof t3);
    memcpy(z2, &r0, sizeof r0), memcpy(z2 + 4, &r1, sizeof r1), memcpy(z2 + 8, &r2, sizeof r2), memcpy(z2 + 12, &r3, sizeof r3);
}

/* The same for four outputs of one example, over the m inputs in nz. */
static inline __attribute__((always_inline)) void sums4_3(const double *restrict wT, int64_t n_out,
                                                          const double *restrict in, const int64_t *restrict nz,
                                                          int64_t m, double *restrict z)
{
    pn_v4 t;
    memcpy(&t, z, sizeof t);
    for (int64_t u = 0; u < m; u++) {
        pn_v4 w, a = {in[nz[u]], in[nz[u]], in[nz[u]], in[nz[u]]};
        memcpy(&w, wT + nz[u] * n_out, sizeof w);
        t += w * a;
    }
    memcpy(z, &t, sizeof t);
}
#endif

/* dense_sums3's sums of example slot s for outputs j .. j1 - 1 over its inputs nz[u0 .. u1 - 1]. */
static inline __attribute__((always_inline)) void sums_rest3(const double *restrict wT, int64_t n_out,
                                                             const slot3 *s, int64_t u0, int64_t u1,
                                                             int64_t j, int64_t j1)
{
    double *restrict z = s->z;
#ifdef PN_VECTORS
    for (; j + 4 <= j1; j += 4) {
        sums4_3(wT + j, n_out, s->in, s->nz + u0, u1 - u0, z + j);
    }
#endif
    for (int64_t u = u0; u < u1; u++) {
        const double *restrict wT_k = wT + s->nz[u] * n_out;
        double a_k = s->in[s->nz[u]];
        for (int64_t i = j; i < j1; i++) {
            z[i] += wT_k[i] * a_k;
        }
    }
}

#define GROUP3 16         /* examples that one pass over a dense layer's weights serves */
#define BLOCK_BYTES3 24576 /* a block of weight rows, kept in the L1 cache while those examples use it */

/* Twin of network3._DenseLayer.forward's weighted inputs (linalg.weighted_inputs:
 * z[j] = dot(w_j, inpt) + b[j]) for outputs j0 .. j1 - 1 of layer l, for every
 * example of the mini-batch: each z[j] the sum over that example's non-zero
 * inputs k ascending (as pn_weighted_inputs adds it), then + b[j].  The rows of
 * wT are taken a block at a time, and each block serves GROUP3 examples. */
WIDE static void dense_sums3(net3 *N, const double *params, int64_t l, int64_t batch, int64_t j0, int64_t j1)
{
    const layer3 *L = &N->L[l];
    const double *wT = params + L->offset, *b = wT + L->n_w;
    int64_t n_out = L->n_out, rows = j1 > j0 ? BLOCK_BYTES3 / ((j1 - j0) * (int64_t)sizeof(double)) : 1;
    rows = rows < 1 ? 1 : rows;
    for (int64_t e0 = 0; e0 < batch; e0 += GROUP3) {
        int64_t e1 = e0 + GROUP3 < batch ? e0 + GROUP3 : batch, cursor[GROUP3];
        for (int64_t e = e0; e < e1; e++) {
            double *z = N->P[e].S[l].z;
            for (int64_t j = j0; j < j1; j++) {
                z[j] = 0.0;
            }
            cursor[e - e0] = 0;
        }
        for (int64_t k0 = 0; k0 < L->n_in; k0 += rows) {
            for (int64_t e = e0; e < e1; e++) {
                const slot3 *s = &N->P[e].S[l];
                int64_t u0 = cursor[e - e0], u1 = u0, j = j0;
                while (u1 < s->m && s->nz[u1] < k0 + rows) {
                    u1++;
                }
                cursor[e - e0] = u1;
#ifdef PN_VECTORS
                const slot3 *s2 = e + 1 < e1 ? &N->P[e + 1].S[l] : NULL;
                int64_t full = k0 + rows < L->n_in ? rows : L->n_in - k0;
                int64_t v0 = s2 != NULL ? cursor[e + 1 - e0] : 0;
                if (u1 - u0 == full && s2 != NULL && v0 + full <= s2->m && s2->nz[v0 + full - 1] == k0 + full - 1) {
                    /* the block's inputs k0 .. k0 + full - 1 all non-zero in examples e and e + 1 */
                    for (; j + 16 <= j1; j += 16) {
                        sums16x2_3(wT + k0 * n_out + j, n_out, s->in + k0, s2->in + k0, full, s->z + j, s2->z + j);
                    }
                    sums_rest3(wT, n_out, s2, v0, v0 + full, j, j1);
                    cursor[e + 1 - e0] = v0 + full;
                    sums_rest3(wT, n_out, s, u0, u1, j, j1);
                    e++;
                    continue;
                }
                for (; j + 16 <= j1; j += 16) {
                    sums16_3(wT + j, n_out, s->in, s->nz + u0, u1 - u0, s->z + j);
                }
#endif
                sums_rest3(wT, n_out, s, u0, u1, j, j1);
            }
        }
        for (int64_t e = e0; e < e1; e++) {
            double *z = N->P[e].S[l].z;
            for (int64_t j = j0; j < j1; j++) {
                z[j] = z[j] + b[j];
            }
        }
    }
}

/* Twins of network3.FullyConnectedLayer.delta and network3.ConvPoolLayer.delta for
 * the outputs i0 .. i1 - 1 of layer B (slot t): grad * f'(z). */
static void delta_below3(const layer3 *B, slot3 *t, const double *grad, int64_t i0, int64_t i1)
{
    for (int64_t i = i0; i < i1; i++) {
        t->delta[i] = grad[i] * prime3(B->act, t->z[i], t->a[i]);
    }
}

#ifdef PN_VECTORS
/* tile[j*16 + i] = wT_rows[i*n_out + j]: sixteen rows of wT, transposed. */
static void tile_rows3(const double *wT_rows, int64_t n_out, double *restrict tile)
{
    for (int64_t j = 0; j < n_out; j++) {
        for (int64_t i = 0; i < 16; i++) {
            tile[j * 16 + i] = wT_rows[i * n_out + j];
        }
    }
}

/* Twin of network3._DenseLayer.backward's grad_in (linalg.transpose_times) for the
 * sixteen rows in tile and two examples' deltas d0, d1: each g[i] the sum over j
 * ascending of w[j][k] * delta[j], as pn_transpose_times adds it -- the sixteen
 * sums side by side in the lanes. */
WIDE static void tile_times3(const double *restrict tile, const double *restrict d0, const double *restrict d1,
                             int64_t n_out, double *restrict g0, double *restrict g1)
{
    pn_v4 a0 = {0.0, 0.0, 0.0, 0.0}, a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    for (int64_t j = 0; j < n_out; j++) {
        pn_v4 c0, c1, c2, c3;
        const double *c = tile + 16 * j;
        memcpy(&c0, c, sizeof c0), memcpy(&c1, c + 4, sizeof c1);
        memcpy(&c2, c + 8, sizeof c2), memcpy(&c3, c + 12, sizeof c3);
        pn_v4 x = {d0[j], d0[j], d0[j], d0[j]}, y = {d1[j], d1[j], d1[j], d1[j]};
        a0 += c0 * x, a1 += c1 * x, a2 += c2 * x, a3 += c3 * x;
        b0 += c0 * y, b1 += c1 * y, b2 += c2 * y, b3 += c3 * y;
    }
    memcpy(g0, &a0, sizeof a0), memcpy(g0 + 4, &a1, sizeof a1);
    memcpy(g0 + 8, &a2, sizeof a2), memcpy(g0 + 12, &a3, sizeof a3);
    memcpy(g1, &b0, sizeof b0), memcpy(g1 + 4, &b1, sizeof b1);
    memcpy(g1 + 8, &b2, sizeof b2), memcpy(g1 + 12, &b3, sizeof b3);
}
#endif

WIDE static void dense_step3(job3 *J, int64_t l, int64_t k0, int64_t k1, int64_t j0, int64_t j1, double *acc);

/* The backward pass at layer l > 0: dC/d(its input), each example's in its pass's
 * grad, and from it layer l - 1's delta.  A conv-pool layer: thread t's examples;
 * a dense layer: thread t's share of the inputs k, for every example, sixteen
 * rows of wT at a time -- then those rows' step (dense_step3), while they are
 * in the cache. */
static void backward_layer3(job3 *J, int64_t mb, int64_t t, int64_t l)
{
    net3 *N = J->N;
    const layer3 *L = &N->L[l], *B = &N->L[l - 1];
    if (L->kind == PN3_CONV) {
        for (int64_t e = t; e < J->batch; e += J->T) {
            pass3 *P = &N->P[e];
            convolve_backward_input3(L, &P->S[l], P->conv, P->grad);  /* twin of network3.ConvPoolLayer.backward's grad_in */
            delta_below3(B, &P->S[l - 1], P->grad, 0, B->n_out);
        }
        return;
    }
    int64_t k0, k1;
    share3(L->n_in, t, J->T, &k0, &k1);
    const double *wT = J->params + L->offset;
    for (int64_t kb = k0; kb < k1; kb += 16) {
        int64_t rows = k1 - kb < 16 ? k1 - kb : 16;
        int64_t e = 0;
#ifdef PN_VECTORS
        if (rows == 16) {
            tile_rows3(wT + kb * L->n_out, L->n_out, N->P[t].tile);
            for (int64_t i = 0; kb + 16 < k1 && i < 16 * L->n_out; i += 8) {  /* the next rows, while these are used */
                __builtin_prefetch(wT + (kb + 16) * L->n_out + i, 0, 3);
            }
            for (; e < J->batch; e += 2) {
                double spare[16];
                pass3 *P = &N->P[e], *Q = e + 1 < J->batch ? &N->P[e + 1] : P;
                tile_times3(N->P[t].tile, P->S[l].delta, Q->S[l].delta, L->n_out, P->grad + kb,
                            Q != P ? Q->grad + kb : spare);
            }
        }
#endif
        for (; e < J->batch; e++) {
            pass3 *P = &N->P[e];
            /* Twin of network3._DenseLayer.backward's grad_in, rows kb .. kb + rows - 1 */
            pn_transpose_times(wT + kb * L->n_out, P->S[l].delta, L->n_out, rows, P->grad + kb);
        }
        /* these rows read, their step now, while they are in the cache (phase B does the biases) */
        dense_step3(J, l, kb, kb + rows, 0, 0, N->P[t].acc);
    }
    for (int64_t e = 0; e < J->batch; e++) {
        pass3 *P = &N->P[e];
        if (J->masks != NULL && L->mask_at >= 0) {
            const uint8_t *m = J->masks + (mb * J->batch + e) * N->mask_count + L->mask_at;
            for (int64_t k = k0; k < k1; k++) {
                P->grad[k] = m[k] ? P->grad[k] : 0.0;
            }
        }
        delta_below3(B, &P->S[l - 1], P->grad, k0, k1);
    }
}

/* Twin of network3.Network._l2_term: 0.5 * lmbda * (every weight squared, in the
 * reference's order) / num_training_batches. */
static double l2_term3(const net3 *N, const double *params, double lmbda, int64_t num_training_batches)
{
    if (lmbda == 0.0) {
        return 0.0;
    }
    double squares = 0.0;
    for (int64_t l = 0; l < N->n_layers; l++) {
        const layer3 *L = &N->L[l];
        const double *w = params + L->offset;
        if (L->kind == PN3_CONV) {
            for (int64_t p = 0; p < L->n_w; p++) {
                squares += w[p] * w[p];
            }
        } else {
            for (int64_t j = 0; j < L->n_out; j++) {      /* w[j][k] is wT[k*n_out + j] */
                for (int64_t k = 0; k < L->n_in; k++) {
                    squares += w[k * L->n_out + j] * w[k * L->n_out + j];
                }
            }
        }
    }
    return 0.5 * lmbda * squares / (double)num_training_batches;
}

/* ---- training: phase B, each parameter's gradient and step ---------------------- */

/* Twins of network3.ConvPoolLayer.backward (its nabla_w, nabla_b), network3.Network.gradient
 * and network3.Network.update_mini_batch for filters f0 .. f1 - 1 of conv layer l. */
static void conv_step3(job3 *J, int64_t l, int64_t f0, int64_t f1)
{
    net3 *N = J->N;
    layer3 *L = &N->L[l];
    int64_t Q = L->Q, per_filter = L->n_out / L->F, fh = L->fh, fw = L->fw;
    double m = (double)J->batch, l2 = J->lmbda / (double)J->num_training_batches;
    double *w = J->params + L->offset, *b = w + L->n_w;
    double *nb = L->gF + L->n_w;  /* F: the biases' sums */
    for (int64_t f = f0; f < f1; f++) {
        for (int64_t q = 0; q < Q; q++) {
            L->gF[f * Q + q] = 0.0;
        }
        nb[f] = 0.0;
    }
    /* The examples in order; each one's pools in order (a weight is one filter's:
     * taking the filters inside the examples leaves each weight's order as it is,
     * and keeps the example's patches in the cache). */
    for (int64_t e = 0; e < J->batch; e++) {
        const slot3 *s = &N->P[e].S[l];
        for (int64_t f = f0; f < f1; f++) {
            double *g = L->gF + f * Q;
            for (int64_t i = f * per_filter; i < (f + 1) * per_filter; i++) {
                double d = s->delta[i];
                nb[f] += d;
                if (d != 0.0) {
                    add_patch3(g, d, s->cols + (s->winners[i] - f * L->K) * Q, Q);
                }
            }
        }
    }
    for (int64_t f = f0; f < f1; f++) {
        const double *g = L->gF + f * Q;
        for (int64_t ch = 0; ch < L->C; ch++) {
            for (int64_t u = 0; u < fh; u++) {
                for (int64_t v = 0; v < fw; v++) {  /* w[f][ch][u][v]'s gradient is g at (ch, fh-1-u, fw-1-v) */
                    double *w_p = w + f * Q + (ch * fh + u) * fw + v;
                    double grad = g[(ch * fh + (fh - 1 - u)) * fw + (fw - 1 - v)] / m + l2 * *w_p;
                    *w_p = *w_p - J->eta * grad;
                }
            }
        }
        double grad_b = nb[f] / m;
        b[f] = b[f] - J->eta * grad_b;
    }
    refresh_filters3(L, J->params, f0, f1);
}

#ifdef PN_VECTORS
/* dense_step3 for row k's weights j .. j + 15 side by side: the terms d_j * a_k over
 * the examples in order, zero inputs left out, then the step. */
static inline __attribute__((always_inline)) void step16_3(const net3 *N, int64_t batch, int64_t l, int64_t k,
                                                           int64_t j, double m, double l2, double eta,
                                                           double *restrict w)
{
    pn_v4 t0 = {0.0, 0.0, 0.0, 0.0}, t1 = t0, t2 = t0, t3 = t0;
    for (int64_t e = 0; e < batch; e++) {
        const slot3 *s = &N->P[e].S[l];
        double a_k = s->in[k];
        if (a_k != 0.0) {
            pn_v4 d0, d1, d2, d3, a = {a_k, a_k, a_k, a_k};
            const double *d = s->delta + j;
            memcpy(&d0, d, sizeof d0), memcpy(&d1, d + 4, sizeof d1), memcpy(&d2, d + 8, sizeof d2), memcpy(&d3, d + 12, sizeof d3);
            t0 += d0 * a, t1 += d1 * a, t2 += d2 * a, t3 += d3 * a;
        }
    }
    pn_v4 mv = {m, m, m, m}, l2v = {l2, l2, l2, l2}, etav = {eta, eta, eta, eta}, total[4] = {t0, t1, t2, t3};
    for (int i = 0; i < 4; i++) {
        pn_v4 wi;
        memcpy(&wi, w + 4 * i, sizeof wi);
        pn_v4 grad = total[i] / mv + l2v * wi;
        wi = wi - etav * grad;
        memcpy(w + 4 * i, &wi, sizeof wi);
    }
}

/* The same for row k's weights j .. j + 3. */
static inline __attribute__((always_inline)) void step4_3(const net3 *N, int64_t batch, int64_t l, int64_t k,
                                                          int64_t j, double m, double l2, double eta,
                                                          double *restrict w)
{
    pn_v4 total = {0.0, 0.0, 0.0, 0.0};
    for (int64_t e = 0; e < batch; e++) {
        const slot3 *s = &N->P[e].S[l];
        double a_k = s->in[k];
        if (a_k != 0.0) {
            pn_v4 d, a = {a_k, a_k, a_k, a_k};
            memcpy(&d, s->delta + j, sizeof d);
            total += d * a;
        }
    }
    pn_v4 mv = {m, m, m, m}, l2v = {l2, l2, l2, l2}, etav = {eta, eta, eta, eta}, wi;
    memcpy(&wi, w, sizeof wi);
    pn_v4 grad = total / mv + l2v * wi;
    wi = wi - etav * grad;
    memcpy(w, &wi, sizeof wi);
}
#endif

/* Twins of network3._DenseLayer.backward (its nabla_w, nabla_b), network3.Network.gradient
 * and network3.Network.update_mini_batch for the input rows k0 .. k1 - 1 (and the
 * biases j0 .. j1 - 1) of dense layer l: each weight's terms d * a_k over the
 * examples in order, zero inputs left out, the outputs j side by side. */
WIDE static void dense_step3(job3 *J, int64_t l, int64_t k0, int64_t k1, int64_t j0, int64_t j1, double *acc)
{
    net3 *N = J->N;
    const layer3 *L = &N->L[l];
    int64_t n_out = L->n_out;
    double m = (double)J->batch, l2 = J->lmbda / (double)J->num_training_batches, eta = J->eta;
    double *wT = J->params + L->offset, *b = wT + L->n_w;
    for (int64_t k = k0; k < k1; k++) {
        double *restrict total = acc, *restrict wT_k = wT + k * n_out;
        int64_t j0v = 0;
#ifdef PN_VECTORS
        for (; j0v + 16 <= n_out; j0v += 16) {
            step16_3(N, J->batch, l, k, j0v, m, l2, eta, wT_k + j0v);
        }
        for (; j0v + 4 <= n_out; j0v += 4) {
            step4_3(N, J->batch, l, k, j0v, m, l2, eta, wT_k + j0v);
        }
#endif
        for (int64_t j = j0v; j < n_out; j++) {
            total[j] = 0.0;
        }
        for (int64_t e = 0; e < J->batch; e++) {
            const slot3 *s = &N->P[e].S[l];
            double a_k = s->in[k];
            if (a_k != 0.0) {
                const double *restrict d = s->delta;
                for (int64_t j = j0v; j < n_out; j++) {
                    total[j] += d[j] * a_k;
                }
            }
        }
        for (int64_t j = j0v; j < n_out; j++) {
            double grad = total[j] / m + l2 * wT_k[j];
            wT_k[j] = wT_k[j] - eta * grad;
        }
    }
    for (int64_t j = j0; j < j1; j++) {
        double nb = 0.0;
        for (int64_t e = 0; e < J->batch; e++) {
            nb += N->P[e].S[l].delta[j];
        }
        double grad = nb / m;
        b[j] = b[j] - eta * grad;
    }
}

/* Twins of network3.Network.update_mini_batch and network3.Network.gradient, for
 * thread t: per mini-batch, its share of each layer's forward and backward pass
 * (phase A), then its share of every layer's parameters (phase B). */
static void train_job3(job3 *J, int64_t t)
{
    net3 *N = J->N;
    for (int64_t mb = 0; mb < J->n_batches; mb++) {
        for (int64_t l = 0;;) {  /* forward: the examples' part, then a dense layer's weighted inputs */
            int64_t d = forward_examples3(J, mb, t, l);
            barrier_wait3(&J->barrier);
            if (d >= N->n_layers) {
                break;
            }
            int64_t j0, j1;
            share3(N->L[d].n_out, t, J->T, &j0, &j1);
            dense_sums3(N, J->params, d, J->batch, j0, j1);
            barrier_wait3(&J->barrier);
            l = d + 1;
        }
        if (J->costs != NULL) {  /* the weights before this step */
            if (t == 0) {
                J->costs[mb] = l2_term3(N, J->params, J->lmbda, J->num_training_batches);
            }
            barrier_wait3(&J->barrier);
        }
        for (int64_t l = N->n_layers - 1; l > 0; l--) {  /* backward: the deltas down the layers */
            backward_layer3(J, mb, t, l);
            barrier_wait3(&J->barrier);
        }
        for (int64_t l = 0; l < N->n_layers; l++) {
            int64_t lo, hi, j0, j1;
            if (N->L[l].kind == PN3_CONV) {
                share3(N->L[l].F, t, J->T, &lo, &hi);
                conv_step3(J, l, lo, hi);
            } else {  /* the weights of a dense layer l > 0 were stepped in its backward_layer3 */
                share3(N->L[l].n_in, t, J->T, &lo, &hi);
                share3(N->L[l].n_out, t, J->T, &j0, &j1);
                dense_step3(J, l, lo, l > 0 ? lo : hi, j0, j1, N->P[t].acc);
            }
        }
        if (t == 0 && J->costs != NULL) {
            double total = 0.0;
            for (int64_t e = 0; e < J->batch; e++) {
                total += N->P[e].cost;
            }
            J->costs[mb] = total / (double)J->batch + J->costs[mb];
        }
        barrier_wait3(&J->barrier);
    }
}

/* A network's training workspace, made once for a run of SGD (pn3_work_new). */
struct pn3_work {
    net3 N;
    int64_t batch, threads;
};

pn3_work *pn3_work_new(const pn_net3 *net, int64_t batch, int64_t threads)
{
    if (batch < 1) {
        return NULL;
    }
    pn3_work *work = malloc(sizeof *work);
    if (work == NULL) {
        return NULL;
    }
    threads = threads < 1 ? 1 : threads > batch ? batch : threads > MAX_THREADS3 ? MAX_THREADS3 : threads;
    work->batch = batch, work->threads = threads;
    if (net3_init(&work->N, net, batch > threads ? batch : threads, 1) != 0) {
        free(work);
        return NULL;
    }
    return work;
}

void pn3_work_free(pn3_work *work)
{
    if (work != NULL) {
        free(work->N.block);
        free(work);
    }
}

int pn3_work_train(pn3_work *work, double *params, const double *X, const uint8_t *X8, const int64_t *Y,
                   const int64_t *order, int64_t n_batches, const uint8_t *masks, double eta, double lmbda,
                   int64_t num_training_batches, double *costs)
{
    if (n_batches < 0 || num_training_batches < 1) {
        return -3;
    }
    refresh_all3(&work->N, params);
    job3 job = {.run = train_job3, .N = &work->N, .params = params, .X = X, .X8 = X8, .Y = Y, .order = order,
                .masks = masks, .n_batches = n_batches, .batch = work->batch,
                .num_training_batches = num_training_batches, .eta = eta, .lmbda = lmbda, .costs = costs};
    run_job3(&job, work->threads);
    return 0;
}

int pn3_train(const pn_net3 *net, double *params, const double *X, const uint8_t *X8, const int64_t *Y,
              const int64_t *order, int64_t n_batches, int64_t batch, const uint8_t *masks, double eta, double lmbda,
              int64_t num_training_batches, double *costs, int64_t threads)
{
    if (batch < 1 || n_batches < 0 || num_training_batches < 1) {
        return -3;
    }
    int status = read_layers3(&(net3){0}, net);
    if (status != 0) {
        return status;
    }
    pn3_work *work = pn3_work_new(net, batch, threads);
    if (work == NULL) {
        return -1;
    }
    status = pn3_work_train(work, params, X, X8, Y, order, n_batches, masks, eta, lmbda, num_training_batches,
                            costs);
    pn3_work_free(work);
    return status;
}
