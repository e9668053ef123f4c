/* network.c -- whole fully-connected networks: activations and costs, the
 * workspace of one example, the forward pass, backpropagation, the update
 * of each layer after a mini-batch, and the public pn_feedforward,
 * pn_classify, pn_costs, pn_train, pn_param_count and pn_hidden_count.
 * Their Python twins are in purenn/network.py and purenn/network2.py.
 *
 * Each function mirrors its Python twin loop for loop: the same operations
 * in the same order, every sum added in the same order (purenn.h says more).
 *
 * Layer numbers.  Here l counts weight layers from 0: weight layer l takes the
 * activations of layer l (layer 0 being the input x) to the neurons of layer l+1.
 *     the book            numbers layers of neurons from 1, the input being layer 1:
 *                         weight layer l feeds the book's layer l+2, and its weights
 *                         and biases are the book's w^{l+2} and b^{l+2}; acts_of[l],
 *                         the input to weight layer l, is the book's a^{l+1}
 *     Python's lists      weights[l] and biases[l] are weight layer l, as here, and
 *                         backprop's activations[l] is acts_of[l]
 *     Python's backprop   (network.Network.backprop, network2.Network.backprop) counts
 *                         back from the last layer: its own l, written l' here, is
 *                         used as the negative index [-l'], which is weight layer
 *                         l = n_layers - 1 - l' here; so [-1] is the last weight
 *                         layer, n_layers - 2, and its loop's l' = 2 the one below
 */
#include "internal.h"

/* ---- activations and costs ------------------------------------------------- */

/* Twin of network2.Network._activate: layer l+1's activations f(z), in place over
 * z (n), kind being pn_net's hidden or output code.  Per code, twins of
 * network.sigmoid, network2.tanh, network2.relu and network2.softmax. */
static void activate(int kind, double *z, int64_t n)
{
    if (kind == PN_SOFTMAX) {
        pn_softmax(z, z, n);
        return;
    }
    if (kind == PN_SIGMOID) {
        for (int64_t j = 0; j < n; j++) {
            z[j] = pn_sigmoid(z[j]);
        }
    } else if (kind == PN_TANH) {
        for (int64_t j = 0; j < n; j++) {
            z[j] = pn_tanh(z[j]);
        }
    } else {
        for (int64_t j = 0; j < n; j++) {
            z[j] = z[j] > 0.0 ? z[j] : 0.0;  /* relu */
        }
    }
}

/* Twins of network2._sigmoid_prime_of, network2._tanh_prime_of and
 * network2._relu_prime_of: f'(z) from a = f(z). */
static double derivative(int kind, double a)
{
    if (kind == PN_SIGMOID) {
        return a * (1.0 - a);
    }
    if (kind == PN_TANH) {
        return 1.0 - a * a;
    }
    return a > 0.0 ? 1.0 : 0.0;
}

/* Twin of network2._log: log, never of anything below 1e-300. */
static double clamped_log(double x)
{
    return pn_log(x > 1e-300 ? x : 1e-300);
}

/* The cost of output a (n) when y was desired.  Twins of network.QuadraticCost.fn,
 * network2.CrossEntropyCost.fn and network2.LogLikelihoodCost.fn. */
static double cost_fn(int cost, const double *a, const double *y, int64_t n)
{
    double total = 0.0;
    for (int64_t j = 0; j < n; j++) {
        if (cost == PN_QUADRATIC) {
            total += (a[j] - y[j]) * (a[j] - y[j]);
        } else {
            if (y[j] != 0.0) {
                total -= y[j] * clamped_log(a[j]);
            }
            if (cost == PN_CROSS_ENTROPY && y[j] != 1.0) {
                total -= (1.0 - y[j]) * clamped_log(1.0 - a[j]);
            }
        }
    }
    return cost == PN_QUADRATIC ? 0.5 * total : total;
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

int64_t pn_hidden_count(int64_t n_layers, const int64_t *sizes)
{
    int64_t count = 0;
    for (int64_t l = 1; l + 1 < n_layers; l++) {
        count += sizes[l];
    }
    return count;
}

/* Room for networks of up to this many layers (purenn/backends/cbackend.py checks). */
#define MAX_LAYERS 64

/* Buffers for one example's forward and backward pass, in one allocation. */
typedef struct {
    void *block;
    double *raw;         /* sizes[1] + ... : each layer's activations f(z), before dropout */
    double *kept;        /* the same after dropout (only with dropout) */
    int64_t *nz;         /* sizes[0] + ... + sizes[L-1]: each layer's non-zero inputs */
    double *nabla;       /* param_count: the mini-batch gradient, laid out as params */
    double *delta;       /* largest size: delta of the current layer */
    double *delta_below; /* largest size: delta of the layer below */
} workspace;

/* Where one example's activations are: the input to weight layer l is acts_of[l]
 * (acts_of[0] is x), its non-zero entries nz_of[l][0 .. m_of[l]-1]; raw_of[l+1]
 * are layer l+1's activations before dropout. */
typedef struct {
    const double *acts_of[MAX_LAYERS];
    const double *raw_of[MAX_LAYERS];
    int64_t *nz_of[MAX_LAYERS];
    int64_t m_of[MAX_LAYERS];
} layers;

static int workspace_init(workspace *ws, const pn_net *net, int with_gradient)
{
    int64_t n_layers = net->n_layers, n_acts = 0, n_nz = 0, most = 0;
    const int64_t *sizes = net->sizes;
    if (n_layers < 2 || n_layers > MAX_LAYERS) {
        return -2;
    }
    for (int64_t l = 0; l < n_layers; l++) {
        n_acts += l > 0 ? sizes[l] : 0;
        n_nz += l + 1 < n_layers ? sizes[l] : 0;
        most = sizes[l] > most ? sizes[l] : most;
    }
    int64_t count = with_gradient ? pn_param_count(n_layers, sizes) : 0;
    int64_t n_doubles = 2 * n_acts + (with_gradient ? count + 2 * most : 0);
    ws->block = malloc(sizeof(double) * (size_t)n_doubles + sizeof(int64_t) * (size_t)n_nz);
    if (ws->block == NULL) {
        return -1;
    }
    ws->raw = ws->block;
    ws->kept = ws->raw + n_acts;
    ws->nabla = with_gradient ? ws->kept + n_acts : NULL;
    ws->delta = with_gradient ? ws->nabla + count : NULL;
    ws->delta_below = with_gradient ? ws->delta + most : NULL;
    ws->nz = (int64_t *)(ws->raw + n_doubles);
    return 0;
}

/* The forward pass: x through every layer, into ws and ls.  mask (one byte per hidden
 * neuron, 1 kept, 0 dropped) is NULL without dropout.  Twins of
 * network.Network.feedforward and network2.Network.feedforward; with the activations
 * kept (and dropout), twins also of network.Network.backprop and
 * network2.Network.backprop, their first loop ("feedforward"). */
static void forward(const pn_net *net, const double *params, const double *x, const uint8_t *mask,
                    const workspace *ws, layers *ls)
{
    int64_t n_layers = net->n_layers;
    const int64_t *sizes = net->sizes;
    const double *p = params;
    double *raw = ws->raw, *kept = ws->kept;
    int64_t *nz = ws->nz;
    double scale = 1.0 / (1.0 - net->dropout);
    ls->acts_of[0] = x;
    for (int64_t l = 0; l + 1 < n_layers; l++) {
        int64_t n_in = sizes[l], n_out = sizes[l + 1];
        const double *wT = p, *b = p + n_in * n_out;
        int last = l + 2 == n_layers;
        ls->nz_of[l] = nz;
        ls->m_of[l] = pn_nonzeros(ls->acts_of[l], n_in, nz);
        pn_weighted_inputs(wT, ls->acts_of[l], nz, ls->m_of[l], b, n_out, raw);
        activate(last ? net->output : net->hidden, raw, n_out);
        ls->raw_of[l + 1] = raw;
        ls->acts_of[l + 1] = raw;
        if (mask != NULL && !last) {
            /* dropout: a dropped neuron gives 0.0, a kept one a * 1/(1-p) */
            for (int64_t j = 0; j < n_out; j++) {
                kept[j] = mask[j] ? raw[j] * scale : 0.0;
            }
            ls->acts_of[l + 1] = kept;
            mask += n_out;
        }
        raw += n_out;
        kept += n_out;
        nz += n_in;
        p = b + n_out;
    }
}

/* The forward pass of each row of X, and from its output what is asked for (the rest
 * NULL): out for pn_feedforward, labels for pn_classify, costs (with Y) for pn_costs. */
static int run_forward(const pn_net *net, const double *params, const double *X, int64_t n,
                       double *out, int64_t *labels, const double *Y, double *costs)
{
    workspace ws;
    layers ls;
    int status = workspace_init(&ws, net, 0);
    if (status != 0) {
        return status;
    }
    int64_t n_in = net->sizes[0], n_out = net->sizes[net->n_layers - 1];
    for (int64_t i = 0; i < n; i++) {
        forward(net, params, X + i * n_in, NULL, &ws, &ls);
        const double *a = ls.acts_of[net->n_layers - 1];
        if (out != NULL) {
            memcpy(out + i * n_out, a, sizeof(double) * (size_t)n_out);
        }
        if (labels != NULL) {
            labels[i] = pn_argmax(a, n_out);
        }
        if (costs != NULL) {
            costs[i] = cost_fn(net->cost, a, Y + i * n_out, n_out);
        }
    }
    free(ws.block);
    return 0;
}

int pn_feedforward(const pn_net *net, const double *params, const double *X, int64_t n, double *out)
{
    return run_forward(net, params, X, n, out, NULL, NULL, NULL);
}

int pn_classify(const pn_net *net, const double *params, const double *X, int64_t n, int64_t *labels)
{
    return run_forward(net, params, X, n, NULL, labels, NULL, NULL);
}

int pn_costs(const pn_net *net, const double *params, const double *X, const double *Y, int64_t n,
             double *costs)
{
    return run_forward(net, params, X, n, NULL, NULL, Y, costs);
}

/* Twins of network.Network.backprop and network2.Network.backprop for the example
 * x, y (with dropout, its mask), the gradient added straight into ws->nabla (the sum
 * that update_mini_batch forms).  The output layer's delta: twins of
 * network.QuadraticCost.delta, network2.CrossEntropyCost.delta and
 * network2.LogLikelihoodCost.delta (network.Network.backprop's cost_derivative times
 * sigmoid_prime is QuadraticCost's delta, bit for bit). */
static void backprop_add(const pn_net *net, const double *params, const double *x, const double *y,
                         const uint8_t *mask, workspace *ws)
{
    layers ls;
    const int64_t *sizes = net->sizes;
    forward(net, params, x, mask, ws, &ls);
    double scale = 1.0 / (1.0 - net->dropout);

    int64_t l = net->n_layers - 2;  /* the last weight layer, Python's [-1]: layer l to l+1 */
    int64_t n_in = sizes[l], n_out = sizes[l + 1];
    int64_t offset = pn_param_count(net->n_layers, sizes) - (n_in * n_out + n_out);
    const uint8_t *mask_l = mask == NULL ? NULL : mask + pn_hidden_count(net->n_layers, sizes);

    /* the cost's delta(z, a, y) */
    const double *a = ls.acts_of[l + 1];
    double *delta = ws->delta, *below = ws->delta_below;
    for (int64_t j = 0; j < n_out; j++) {
        delta[j] = net->cost == PN_QUADRATIC ? (a[j] - y[j]) * (a[j] * (1.0 - a[j])) : a[j] - y[j];
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
        /* delta of the layer below = (w^T delta) * f'(z), f'(z) from the activation before dropout */
        pn_transpose_times(params + offset, delta, n_out, n_in, below);
        a = ls.raw_of[l];
        if (net->hidden == PN_SIGMOID) {  /* the common case, without a call per neuron */
            for (int64_t k = 0; k < n_in; k++) {
                below[k] = below[k] * (a[k] * (1.0 - a[k]));
            }
        } else {
            for (int64_t k = 0; k < n_in; k++) {
                below[k] = below[k] * derivative(net->hidden, a[k]);
            }
        }
        if (mask_l != NULL) {
            mask_l -= n_in;
            for (int64_t k = 0; k < n_in; k++) {
                below[k] = mask_l[k] ? below[k] * scale : 0.0;
            }
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

/* Twin of network2.sign. */
static double sign_of(double w)
{
    return w > 0.0 ? 1.0 : w < 0.0 ? -1.0 : 0.0;
}

/* Applies one mini-batch's update to one layer's weights wT (n_weights) and
 * biases b (n_biases), given their gradient summed over the mini-batch, nwT and nb,
 * and rate = eta / (the mini-batch's size).  Without momentum: each weight decays
 * (L2), steps towards 0 (L1), then takes the gradient step; with momentum, the
 * velocities vw, vb are updated first and added to w and b.
 * Twins of network.Network.update_mini_batch and network2.Network.update_mini_batch,
 * the step at their end: without momentum, per weight, twin of network2._step;
 * with it, twins of network2.Network._momentum_step and network2._velocity (its
 * per-weight part).
 * The chapter-1 network's step is this with lmbda = l1 = momentum = 0: decay is
 * then exactly 1.0, and 1.0 * w is w. */
WIDE static void update_layer(const pn_net *net, double *restrict wT, double *restrict b,
                              double *restrict vw, double *restrict vb,
                              const double *restrict nwT, const double *restrict nb,
                              int64_t n_weights, int64_t n_biases, double eta, double rate)
{
    if (net->momentum == 0.0) {
        double decay = 1.0 - eta * (net->lmbda / (double)net->n);
        double shrink = eta * (net->l1 / (double)net->n);
        if (shrink == 0.0) {  /* no L1: a loop the vectoriser can take whole */
            for (int64_t p = 0; p < n_weights; p++) {
                wT[p] = decay * wT[p] - rate * nwT[p];
            }
        } else {
            for (int64_t p = 0; p < n_weights; p++) {
                double w = decay * wT[p];
                w = w - shrink * sign_of(w);
                wT[p] = w - rate * nwT[p];
            }
        }
        for (int64_t j = 0; j < n_biases; j++) {
            b[j] = b[j] - rate * nb[j];
        }
        return;
    }
    double mu = net->momentum, l2 = net->lmbda / (double)net->n, l1n = net->l1 / (double)net->n;
    for (int64_t p = 0; p < n_weights; p++) {
        double gradient = l2 * wT[p];
        if (l1n != 0.0) {
            gradient = gradient + l1n * sign_of(wT[p]);
        }
        vw[p] = mu * vw[p] - eta * gradient - rate * nwT[p];
        wT[p] = wT[p] + vw[p];
    }
    for (int64_t j = 0; j < n_biases; j++) {
        vb[j] = mu * vb[j] - rate * nb[j];
        b[j] = b[j] + vb[j];
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

/* Twins of network.Network.update_mini_batch and network2.Network.update_mini_batch,
 * once per mini-batch of the examples in order (purenn.h): backprop_add for each
 * example, then update_layer for each weight layer. */
int pn_train(const pn_net *net, double *params, double *velocity, const double *X, const double *Y,
             const int64_t *order, int64_t n_order, const uint8_t *masks, int64_t batch, double eta)
{
    workspace ws;
    if (batch < 1 || n_order < 0) {
        return -3;
    }
    int status = workspace_init(&ws, net, 1);
    if (status != 0) {
        return status;
    }
    const int64_t *sizes = net->sizes;
    int64_t n_in = sizes[0], n_out = sizes[net->n_layers - 1];
    int64_t count = pn_param_count(net->n_layers, sizes);
    int64_t hidden = pn_hidden_count(net->n_layers, sizes);
    for (int64_t start = 0; start < n_order; start += batch) {
        int64_t m = n_order - start < batch ? n_order - start : batch;
        memset(ws.nabla, 0, sizeof(double) * (size_t)count);
        for (int64_t i = start; i < start + m; i++) {
            if (i + 1 < n_order) {
                prefetch_row(X + order[i + 1] * n_in, n_in);
            }
            int64_t row = order[i];
            backprop_add(net, params, X + row * n_in, Y + row * n_out,
                         masks == NULL ? NULL : masks + i * hidden, &ws);
        }
        double rate = eta / (double)m;
        int64_t offset = 0;
        for (int64_t l = 0; l + 1 < net->n_layers; l++) {
            int64_t n_weights = sizes[l] * sizes[l + 1], n_biases = sizes[l + 1];
            double *v = velocity == NULL ? NULL : velocity + offset;
            update_layer(net, params + offset, params + offset + n_weights, v,
                         v == NULL ? NULL : v + n_weights, ws.nabla + offset,
                         ws.nabla + offset + n_weights, n_weights, n_biases, eta, rate);
            offset += n_weights + n_biases;
        }
    }
    free(ws.block);
    return 0;
}
