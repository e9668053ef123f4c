/* network3.c -- the chapter-6 network: conv-pool, fully connected and softmax
 * layers, dropout masks given by Python, the L2 term and the SGD step, and the
 * public pn3_param_count, pn3_mask_count, pn3_feedforward and pn3_train.
 * Their Python twins are in purenn/network3.py.
 *
 * Each function mirrors its Python twin loop for loop: the same operations in
 * the same order, every sum added in the same order (purenn.h says more).
 * A layer's parameters (purenn.h): a conv-pool layer's w as the reference's
 * w[f][ch][u][v] row-major (F x C x fh x fw), then b (F); a dense layer's w
 * transposed, wT (n_in x n_out), as network.c keeps it, then b (n_out).
 */
#include "internal.h"

#define MAX_LAYERS3 64
#define FIELDS3 12   /* per layer in pn_net3.layers: kind, activation, n_in, n_out, F, C, H, W, fh, fw, ph, pw */

/* One layer as read from pn_net3, with its derived sizes. */
typedef struct {
    int64_t kind, act, n_in, n_out;
    int64_t F, C, H, W, fh, fw, ph, pw, oh, ow;  /* conv-pool only */
    int64_t n_w;       /* its weights: F*C*fh*fw, or n_in*n_out */
    int64_t offset;    /* where its w begin in params; its b follow */
    double p;          /* p_dropout (dense layers only) */
    int64_t mask_at;   /* where its mask begins in one example's masks, or -1 */
} layer3;

/* One layer's part of one example's pass. */
typedef struct {
    const double *in;  /* its input as used: the layer below's a, or kept (after dropout) */
    double *kept;      /* n_in: the input after dropout */
    double *z, *a;     /* n_out: weighted (or pooled) inputs and activations */
    int64_t *winners;  /* n_out: conv-pool only, the conv index of each pooled value */
    int64_t *nz;       /* n_in: the non-zero inputs (dense only) */
    int64_t m;
} slot3;

typedef struct {
    int64_t n_layers, count, mask_count, most, conv_most;
    layer3 L[MAX_LAYERS3];
    slot3 S[MAX_LAYERS3];
    void *block;
    double *conv;      /* conv_most: one convolution's output */
    double *delta, *grad;  /* most each */
    double *nabla;     /* count: the mini-batch's gradient, laid out as params */
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
    return tanh(z);
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

/* Twin of network2.softmax: a (n) from z (n). */
static void softmax3(const double *z, double *a, int64_t n)
{
    double most = z[0], total = 0.0;
    for (int64_t j = 0; j < n; j++) {
        if (z[j] > most) {
            most = z[j];
        }
    }
    for (int64_t j = 0; j < n; j++) {
        a[j] = exp(z[j] - most);
    }
    for (int64_t j = 0; j < n; j++) {
        total += a[j];
    }
    for (int64_t j = 0; j < n; j++) {
        a[j] = a[j] / total;
    }
}

/* Twin of network3.convolve: out (F*OH*OW) from x (C*H*W) and w (F x C x fh x fw),
 * the kernel flipped, zero inputs left out. */
static void convolve3(const layer3 *L, const double *x, const double *w, double *out)
{
    int64_t C = L->C, H = L->H, W = L->W, fh = L->fh, fw = L->fw;
    for (int64_t f = 0; f < L->F; f++) {
        const double *w_f = w + f * C * fh * fw;
        for (int64_t r = 0; r < L->oh; r++) {
            for (int64_t c = 0; c < L->ow; c++) {
                double total = 0.0;
                for (int64_t ch = 0; ch < C; ch++) {
                    for (int64_t u = 0; u < fh; u++) {
                        const double *x_row = x + ch * H * W + (r + u) * W + c;
                        const double *w_row = w_f + (ch * fh + (fh - 1 - u)) * fw;  /* the flipped row */
                        for (int64_t v = 0; v < fw; v++) {
                            double xv = x_row[v];
                            if (xv != 0.0) {
                                total += xv * w_row[fw - 1 - v];
                            }
                        }
                    }
                }
                *out++ = total;
            }
        }
    }
}

/* Twin of network3.max_pool: pooled and winners (F*PH*PW) from conv (F*OH*OW);
 * the first maximum in row-major order wins. */
static void max_pool3(const layer3 *L, const double *conv, double *pooled, int64_t *winners)
{
    int64_t rows = L->oh, cols = L->ow, ph = L->ph, pw = L->pw, p = 0;
    for (int64_t f = 0; f < L->F; f++) {
        for (int64_t i = 0; i < rows / ph; i++) {
            for (int64_t j = 0; j < cols / pw; j++) {
                int64_t best = f * rows * cols + i * ph * cols + j * pw;
                for (int64_t u = 0; u < ph; u++) {
                    for (int64_t v = 0; v < pw; v++) {
                        int64_t k = f * rows * cols + (i * ph + u) * cols + j * pw + v;
                        if (conv[k] > conv[best]) {
                            best = k;
                        }
                    }
                }
                pooled[p] = conv[best];
                winners[p] = best;
                p++;
            }
        }
    }
}

/* Twin of network3.convolve_backward for one entry (k, d) of delta_conv: d * x into
 * nabla_w (F x C x fh x fw), and d * w into grad_in (C*H*W) unless it is NULL. */
static void convolve_backward3(const layer3 *L, const double *x, const double *w, int64_t k, double d,
                               double *nabla_w, double *grad_in)
{
    int64_t C = L->C, H = L->H, W = L->W, fh = L->fh, fw = L->fw, oh = L->oh, ow = L->ow;
    int64_t f = k / (oh * ow), r = (k / ow) % oh, c = k % ow;
    for (int64_t ch = 0; ch < C; ch++) {
        for (int64_t u = 0; u < fh; u++) {
            int64_t start = ch * H * W + (r + u) * W + c;
            double *nw_row = nabla_w + ((f * C + ch) * fh + (fh - 1 - u)) * fw;
            for (int64_t v = 0; v < fw; v++) {
                double xv = x[start + v];
                if (xv != 0.0) {
                    nw_row[fw - 1 - v] += d * xv;
                }
            }
            if (grad_in != NULL) {
                const double *w_row = w + ((f * C + ch) * fh + (fh - 1 - u)) * fw;
                for (int64_t v = 0; v < fw; v++) {
                    grad_in[start + v] += d * w_row[fw - 1 - v];
                }
            }
        }
    }
}

/* Twin of network3.ConvPoolLayer.forward: z and a (F*PH*PW) and the winners. */
static void conv_forward(const net3 *N, const layer3 *L, const double *params, const double *in, slot3 *s)
{
    const double *w = params + L->offset, *b = w + L->n_w;
    int64_t per_filter = L->n_out / L->F;
    s->in = in;
    convolve3(L, in, w, N->conv);
    max_pool3(L, N->conv, s->z, s->winners);
    for (int64_t i = 0; i < L->n_out; i++) {
        s->z[i] = s->z[i] + b[i / per_filter];
        s->a[i] = activation3(L->act, s->z[i]);
    }
}

/* Twin of network3._DenseLayer.forward (with FullyConnectedLayer.activate or
 * SoftmaxLayer.activate): mask (n_in bytes) or NULL. */
static void dense_forward(const layer3 *L, const double *params, const double *in, const uint8_t *mask,
                          slot3 *s)
{
    const double *wT = params + L->offset, *b = wT + L->n_w;
    if (mask != NULL) {
        for (int64_t k = 0; k < L->n_in; k++) {
            s->kept[k] = mask[k] ? in[k] : 0.0;  /* the book's inpt * mask */
        }
        in = s->kept;
    }
    s->in = in;
    s->m = pn_nonzeros(in, L->n_in, s->nz);
    pn_weighted_inputs(wT, in, s->nz, s->m, b, L->n_out, s->z);
    if (L->kind == PN3_SOFTMAX) {
        softmax3(s->z, s->a, L->n_out);
    } else {
        for (int64_t j = 0; j < L->n_out; j++) {
            s->a[j] = activation3(L->act, s->z[j]);
        }
    }
}

/* Twin of network3._DenseLayer.feedforward: activate((1 - p_dropout) * (w . a) + b). */
static void dense_in_use(const layer3 *L, const double *params, const double *in, slot3 *s)
{
    const double *wT = params + L->offset, *b = wT + L->n_w;
    double keep = 1.0 - L->p;
    int64_t n_out = L->n_out;
    s->in = in;
    s->m = pn_nonzeros(in, L->n_in, s->nz);
    for (int64_t j = 0; j < n_out; j++) {
        s->z[j] = 0.0;
    }
    for (int64_t t = 0; t < s->m; t++) {  /* linalg.dot, across the outputs j */
        const double *wT_k = wT + s->nz[t] * n_out;
        double a_k = in[s->nz[t]];
        for (int64_t j = 0; j < n_out; j++) {
            s->z[j] += wT_k[j] * a_k;
        }
    }
    for (int64_t j = 0; j < n_out; j++) {
        s->z[j] = keep * s->z[j] + b[j];
    }
    if (L->kind == PN3_SOFTMAX) {
        softmax3(s->z, s->a, n_out);
    } else {
        for (int64_t j = 0; j < n_out; j++) {
            s->a[j] = activation3(L->act, s->z[j]);
        }
    }
}

/* ---- a network: its layers, its workspace ------------------------------------- */

static int net3_init(net3 *N, const pn_net3 *net, int with_gradient)
{
    if (net->n_layers < 1 || net->n_layers > MAX_LAYERS3) {
        return -2;
    }
    int64_t count = 0, mask_count = 0, most = 0, conv_most = 1, n_doubles = 0, n_ints = 0;
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
            L->n_w = L->F * L->C * L->fh * L->fw;
            count += L->n_w + L->F;
            conv_most = L->F * L->oh * L->ow > conv_most ? L->F * L->oh * L->ow : conv_most;
        } else {
            L->n_w = L->n_in * L->n_out;
            count += L->n_w + L->n_out;
        }
        L->mask_at = L->kind != PN3_CONV && L->p > 0.0 ? mask_count : -1;
        mask_count += L->mask_at >= 0 ? L->n_in : 0;
        most = L->n_in > most ? L->n_in : most;
        most = L->n_out > most ? L->n_out : most;
        n_doubles += L->n_in + 2 * L->n_out;
        n_ints += L->n_in + L->n_out;
    }
    N->count = count, N->mask_count = mask_count, N->most = most, N->conv_most = conv_most;
    n_doubles += conv_most + 2 * most + (with_gradient ? count : 0);
    N->block = malloc(sizeof(double) * (size_t)n_doubles + sizeof(int64_t) * (size_t)n_ints);
    if (N->block == NULL) {
        return -1;
    }
    double *d = N->block;
    int64_t *i = (int64_t *)(d + n_doubles);
    for (int64_t l = 0; l < net->n_layers; l++) {
        slot3 *s = &N->S[l];
        s->kept = d, d += N->L[l].n_in;
        s->z = d, d += N->L[l].n_out;
        s->a = d, d += N->L[l].n_out;
        s->nz = i, i += N->L[l].n_in;
        s->winners = i, i += N->L[l].n_out;
    }
    N->conv = d, d += conv_most;
    N->delta = d, d += most;
    N->grad = d, d += most;
    N->nabla = with_gradient ? d : NULL;
    return 0;
}

int64_t pn3_param_count(const pn_net3 *net)
{
    net3 N;
    if (net3_init(&N, net, 0) != 0) {
        return -1;
    }
    free(N.block);
    return N.count;
}

int64_t pn3_mask_count(const pn_net3 *net)
{
    net3 N;
    if (net3_init(&N, net, 0) != 0) {
        return -1;
    }
    free(N.block);
    return N.mask_count;
}

/* Twin of network3.Network.feedforward: the output (the last layer's a) in use. */
static const double *feedforward3(net3 *N, const double *params, const double *x)
{
    const double *a = x;
    for (int64_t l = 0; l < N->n_layers; l++) {
        if (N->L[l].kind == PN3_CONV) {
            conv_forward(N, &N->L[l], params, a, &N->S[l]);
        } else {
            dense_in_use(&N->L[l], params, a, &N->S[l]);
        }
        a = N->S[l].a;
    }
    return a;
}

int pn3_feedforward(const pn_net3 *net, const double *params, const double *X, int64_t n, double *out,
                    int64_t *labels)
{
    net3 N;
    int status = net3_init(&N, net, 0);
    if (status != 0) {
        return status;
    }
    int64_t n_in = N.L[0].n_in, n_out = N.L[N.n_layers - 1].n_out;
    for (int64_t i = 0; i < n; i++) {
        const double *a = feedforward3(&N, params, X + i * n_in);
        if (out != NULL) {
            memcpy(out + i * n_out, a, sizeof(double) * (size_t)n_out);
        }
        if (labels != NULL) {
            labels[i] = pn_argmax(a, n_out);
        }
    }
    free(N.block);
    return 0;
}

/* Twin of network3.Network.backprop: this example's gradient added into N->nabla;
 * returns its cost (twin of network3.SoftmaxLayer.cost).  mask: this example's
 * masks (mask_count bytes) or NULL. */
static double backprop3(net3 *N, const double *params, const double *x, int64_t y, const uint8_t *mask)
{
    int64_t last = N->n_layers - 1;
    const double *a = x;
    for (int64_t l = 0; l <= last; l++) {
        const layer3 *L = &N->L[l];
        if (L->kind == PN3_CONV) {
            conv_forward(N, L, params, a, &N->S[l]);
        } else {
            dense_forward(L, params, a, mask != NULL && L->mask_at >= 0 ? mask + L->mask_at : NULL, &N->S[l]);
        }
        a = N->S[l].a;
    }
    /* Twin of network3.SoftmaxLayer.output_delta: a - e_y */
    double *delta = N->delta, *grad = N->grad;
    for (int64_t j = 0; j < N->L[last].n_out; j++) {
        delta[j] = a[j] - (j == y ? 1.0 : 0.0);
    }
    for (int64_t l = last; l >= 0; l--) {
        const layer3 *L = &N->L[l];
        slot3 *s = &N->S[l];
        const double *w = params + L->offset;
        double *nw = N->nabla + L->offset, *nb = nw + L->n_w;
        int want = l > 0;
        if (L->kind == PN3_CONV) {
            /* Twin of network3.ConvPoolLayer.backward */
            int64_t per_filter = L->n_out / L->F;
            for (int64_t i = 0; i < L->n_out; i++) {
                nb[i / per_filter] += delta[i];
            }
            if (want) {
                for (int64_t k = 0; k < L->n_in; k++) {
                    grad[k] = 0.0;
                }
            }
            for (int64_t i = 0; i < L->n_out; i++) {
                if (delta[i] != 0.0) {
                    convolve_backward3(L, s->in, w, s->winners[i], delta[i], nw, want ? grad : NULL);
                }
            }
        } else {
            /* Twin of network3._DenseLayer.backward */
            for (int64_t j = 0; j < L->n_out; j++) {
                nb[j] += delta[j];
            }
            pn_outer_add(nw, delta, s->in, s->nz, s->m, L->n_out);
            if (want) {
                pn_transpose_times(w, delta, L->n_out, L->n_in, grad);
                if (mask != NULL && L->mask_at >= 0) {
                    const uint8_t *m = mask + L->mask_at;
                    for (int64_t k = 0; k < L->n_in; k++) {
                        grad[k] = m[k] ? grad[k] : 0.0;
                    }
                }
            }
        }
        if (want) {
            /* Twins of network3.FullyConnectedLayer.delta and network3.ConvPoolLayer.delta: grad * f'(z) */
            const layer3 *B = &N->L[l - 1];
            const slot3 *t = &N->S[l - 1];
            for (int64_t i = 0; i < B->n_out; i++) {
                delta[i] = grad[i] * prime3(B->act, t->z[i], t->a[i]);
            }
        }
    }
    /* Twin of network3.SoftmaxLayer.cost */
    return a[y] > 1e-300 ? -log(a[y]) : -log(1e-300);
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

/* Twins of network3.Network.update_mini_batch and network3.Network.gradient, once
 * per mini-batch (purenn.h). */
int pn3_train(const pn_net3 *net, double *params, const double *X, const int64_t *Y, const int64_t *order,
              int64_t n_batches, int64_t batch, const uint8_t *masks, double eta, double lmbda,
              int64_t num_training_batches, double *costs)
{
    net3 N;
    if (batch < 1 || n_batches < 0 || num_training_batches < 1) {
        return -3;
    }
    int status = net3_init(&N, net, 1);
    if (status != 0) {
        return status;
    }
    int64_t n_in = N.L[0].n_in;
    double m = (double)batch, l2 = lmbda / (double)num_training_batches;
    for (int64_t mb = 0; mb < n_batches; mb++) {
        memset(N.nabla, 0, sizeof(double) * (size_t)N.count);
        double total = 0.0;
        for (int64_t e = mb * batch; e < (mb + 1) * batch; e++) {
            int64_t row = order[e];
            total += backprop3(&N, params, X + row * n_in, Y[row],
                               masks == NULL ? NULL : masks + e * N.mask_count);
        }
        costs[mb] = total / m + l2_term3(&N, params, lmbda, num_training_batches);
        for (int64_t l = 0; l < N.n_layers; l++) {
            const layer3 *L = &N.L[l];
            double *w = params + L->offset, *b = w + L->n_w;
            const double *nw = N.nabla + L->offset, *nb = nw + L->n_w;
            int64_t n_b = L->kind == PN3_CONV ? L->F : L->n_out;
            for (int64_t p = 0; p < L->n_w; p++) {
                double g = nw[p] / m + l2 * w[p];
                w[p] = w[p] - eta * g;
            }
            for (int64_t j = 0; j < n_b; j++) {
                double g = nb[j] / m;
                b[j] = b[j] - eta * g;
            }
        }
    }
    free(N.block);
    return 0;
}
