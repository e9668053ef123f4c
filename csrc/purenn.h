/* purenn.h -- the C core of purenn: what Python calls, for the three subjects
 * kernels.c (vector kernels), elementary.c (exp, log, tanh, sin, cos), network.c
 * (whole networks) and svm.c (the SVM baseline).  Each function mirrors
 * arithmetic in purenn/linalg.py, purenn/elementary.py, purenn/network.py,
 * purenn/network2.py or purenn/mnist_svm.py.
 *
 * Every function gives the same IEEE-754 bits as its Python twin: the same
 * operations, the same order of every sum, no contraction into fused
 * multiply-adds (build with -ffp-contract=off, never -ffast-math).  Its comment
 * names that twin, as module.function or module.Class.method with the module
 * relative to purenn (Twin of linalg.argmax, say, or for several, Twins of
 * linalg.outer and linalg.add); tests/test_twins.py checks that every name so
 * given is real.
 *
 * A network's parameters live in one flat array of doubles.  For each layer
 * l = 0 .. n_layers-2, with n_in = sizes[l] and n_out = sizes[l+1]:
 *     weights  n_in x n_out: transposed, wT[k*n_out + j] is the book's w[j][k],
 *              the weight from neuron k to neuron j; inner loops then run
 *              across the independent outputs j
 *     biases   n_out
 * Examples are rows of flat arrays: X is n x sizes[0], Y is n x sizes[n_layers-1].
 * The callers (purenn/backends/cbackend.py, purenn/backends/csvm.py) check every
 * shape and length first.
 *
 * This header is also the cffi declaration of the module: plain C, no macros.
 */

/* ---- kernels.c: numbers and vectors ---------------------------------------- */

/* Twin of network.sigmoid: 1 / (1 + e^-z), exp only ever of a non-positive number. */
double pn_sigmoid(double z);
/* Twin of network.sigmoid for each of z[0 .. n-1], into a (a may be z): four at a time where it can. */
void pn_sigmoids(const double *z, double *a, int64_t n);
/* Twin of network.sigmoid_prime: sigmoid(z) * (1 - sigmoid(z)). */
double pn_sigmoid_prime(double z);
/* Twin of backends.engine.nonzeros: the positions k of the non-zero a[k] (n), in
 * order, into nz (n); returns how many (m). */
int64_t pn_nonzeros(const double *a, int64_t n, int64_t *nz);
/* Twin of linalg.weighted_inputs: z (n_out) = w a + b, given wT (n_in x n_out) and
 * a's nz/m from pn_nonzeros. */
void pn_weighted_inputs(const double *wT, const double *a, const int64_t *nz, int64_t m,
                        const double *b, int64_t n_out, double *z);
/* Twin of linalg.transpose_times: out (n_in) = w^T delta (n_out), given wT (n_in x n_out). */
void pn_transpose_times(const double *wT, const double *delta, int64_t n_out, int64_t n_in,
                        double *out);
/* Twins of linalg.outer and linalg.add: the gradient held transposed, nwT (n_in x n_out),
 * plus outer(delta, a); a's nz/m from pn_nonzeros. */
void pn_outer_add(double *nwT, const double *delta, const double *a, const int64_t *nz, int64_t m,
                  int64_t n_out);
/* Twin of linalg.argmax: index of the largest of v[0..n-1], the first on a tie. */
int64_t pn_argmax(const double *v, int64_t n);
/* Twin of mnist_loader.PIXEL_VALUES, the values of an mnist_loader.Image:
 * out[i] = bytes[i] / 256 (exact) for n bytes. */
void pn_pixels_to_doubles(const uint8_t *bytes, int64_t n, double *out);

/* ---- elementary.c: the elementary functions, the same bits on every platform -- */

/* Twin of elementary.exp: e^x within 1 ulp; +inf above 709.78, 0.0 below -745.13. */
double pn_exp(double x);
/* Twin of elementary.expm1: e^x - 1 within 1 ulp; -1.0 below -38.8. */
double pn_expm1(double x);
/* Twin of elementary.log: ln x within 1 ulp; -inf at +-0.0, NaN below. */
double pn_log(double x);
/* Twin of elementary.tanh: within 1 ulp; +-1.0 from |x| = 22. */
double pn_tanh(double x);
/* Twin of elementary.sin: within 1 ulp for |x| <= 2^20, NaN beyond. */
double pn_sin(double x);
/* Twin of elementary.cos: within 1 ulp for |x| <= 2^20, NaN beyond. */
double pn_cos(double x);
/* Not a twin: y (n) = f(x (n)) by purenn's own f (libm 0) or the C library's (libm 1),
 * f by which: 0 exp, 1 log, 2 tanh, 3 sin, 4 cos -- for the benchmark. */
void pn_apply_elementary(int which, int libm, const double *x, int64_t n, double *y);

/* ---- network.c: whole networks ----------------------------------------------- */

/* A network as the core sees it.  Codes: hidden and output 0 sigmoid, 1 tanh, 2 relu,
 * 3 softmax (output only); cost 0 quadratic, 1 cross-entropy, 2 log-likelihood.
 * purenn.network's networks are sigmoid/sigmoid/quadratic with every option 0. */
typedef struct {
    int64_t n_layers;       /* layers, input included: 2 .. 64 */
    const int64_t *sizes;   /* n_layers: neurons per layer, input first */
    int hidden;             /* the hidden neurons' activation */
    int output;             /* the output neurons' activation */
    int cost;               /* the cost, which also fixes the output layer's delta */
    double lmbda;           /* L2 regularisation (network2's lmbda); 0 for none */
    double l1;              /* L1 regularisation; 0 for none */
    double momentum;        /* momentum coefficient mu; 0 for plain gradient descent */
    double dropout;         /* probability of dropping a hidden neuron; 0 for none */
    int64_t n;              /* size of the whole training set, which scales lmbda and l1 */
} pn_net;

/* The length of the parameter array for these layer sizes. */
int64_t pn_param_count(int64_t n_layers, const int64_t *sizes);
/* The number of hidden neurons: one dropout mask byte each per example. */
int64_t pn_hidden_count(int64_t n_layers, const int64_t *sizes);
/* Twins of network.Network.feedforward and network2.Network.feedforward for n examples:
 * out (n x sizes[-1]) from X (n x sizes[0]).  0, -1 out of memory, -2 bad layer count. */
int pn_feedforward(const pn_net *net, const double *params, const double *X, int64_t n, double *out);
/* Twins of network.Network.evaluate and network2.Network.accuracy, their predictions:
 * labels[i] = the argmax of the output for row i of X.  0, -1 or -2. */
int pn_classify(const pn_net *net, const double *params, const double *X, int64_t n, int64_t *labels);
/* Twins of network.QuadraticCost.fn, network2.CrossEntropyCost.fn and
 * network2.LogLikelihoodCost.fn of each row's output and y, the terms that
 * network2.Network.total_cost adds: costs (n) from X (n x sizes[0]), Y (n x sizes[-1]).
 * 0, -1 or -2. */
int pn_costs(const pn_net *net, const double *params, const double *X, const double *Y, int64_t n,
             double *costs);
/* Twins of network.Network.update_mini_batch and network2.Network.update_mini_batch,
 * called on each mini-batch in turn as training.run.TrainingRun.mini_batches gives them:
 * mini-batches of `batch` over rows order[0..n_order-1] of X and Y (the last may be
 * shorter); velocity (param_count) with momentum, else NULL; masks (n_order x hidden
 * count, one per position in order, as network2.Network.dropout_masks draws them) with
 * dropout, else NULL.  0; -1 out of memory; -2 bad layer count; -3 batch < 1 or
 * n_order < 0. */
int pn_train(const pn_net *net, double *params, double *velocity, const double *X, const double *Y,
             const int64_t *order, int64_t n_order, const uint8_t *masks, int64_t batch, double eta);

/* ---- network3.c: the chapter-6 network ---------------------------------------- */

/* A network3.Network as the core sees it.  Per layer, 12 numbers in `layers`:
 * kind (0 ConvPoolLayer, 1 FullyConnectedLayer, 2 SoftmaxLayer), activation
 * (0 linear, 1 ReLU, 2 sigmoid, 3 tanh; 0 for softmax), n_in, n_out, then for a
 * ConvPoolLayer F, C, H, W, fh, fw, ph, pw (filter_shape, image_shape's maps and
 * size, poolsize), 0 otherwise.  Parameters, layer by layer: a ConvPoolLayer's
 * w[f][ch][u][v] row-major (F*C*fh*fw) then b (F); a dense layer's w transposed,
 * wT[k*n_out + j] = w[j][k] (n_in x n_out), then b (n_out).  Masks: per example,
 * for each dense layer with p_dropout > 0 in order, its n_in bytes (1 kept). */
typedef struct {
    int64_t n_layers;        /* 1 .. 64 */
    const int64_t *layers;   /* n_layers x 12, as above */
    const double *p_dropout; /* n_layers: each layer's p_dropout (0 for a ConvPoolLayer) */
} pn_net3;

/* The length of the parameter array; -1 for a bad layer count. */
int64_t pn3_param_count(const pn_net3 *net);
/* The mask bytes of one example; -1 for a bad layer count. */
int64_t pn3_mask_count(const pn_net3 *net);
/* Twins of network3.Network.feedforward and (its predictions) network3.Network.accuracy
 * for n examples X (n x n_in of the first layer) -- or, X NULL, X8 (n x n_in pixels,
 * each input byte / 256, as mnist_loader.PIXEL_VALUES): out (n x n_out of the last) unless
 * NULL, labels (n, the argmax) unless NULL; on `threads` threads (1 .. 64; one where
 * the build has none), each taking a block of the examples.  0, -1 out of memory,
 * -2 bad layer count. */
int pn3_feedforward(const pn_net3 *net, const double *params, const double *X, const uint8_t *X8, int64_t n,
                    double *out, int64_t *labels, int64_t threads);
/* Twins of network3.Network.update_mini_batch and network3.Network.gradient, for
 * n_batches mini-batches of `batch` examples: positions order[0 .. n_batches*batch-1]
 * of X (rows; or, X NULL, of X8 as in pn3_feedforward) and Y (labels); masks
 * (n_batches*batch x mask count, one per position, as
 * network3.Network.dropout_masks draws them) or NULL; costs (n_batches) the
 * mini-batches' costs, or NULL (then not computed); on `threads` threads (1 .. 64,
 * at most batch), the same numbers whatever their number (network3.c says why).
 * 0; -1; -2; -3 batch < 1, n_batches < 0 or num_training_batches < 1. */
int pn3_train(const pn_net3 *net, double *params, const double *X, const uint8_t *X8, const int64_t *Y,
              const int64_t *order, int64_t n_batches, int64_t batch, const uint8_t *masks, double eta, double lmbda,
              int64_t num_training_batches, double *costs, int64_t threads);
/* A training workspace for pn3_work_train: the layers read and every buffer of a
 * mini-batch of `batch` examples on `threads` threads allocated, once for a run.
 * NULL when out of memory, or for a bad layer count or batch < 1. */
typedef struct pn3_work pn3_work;
pn3_work *pn3_work_new(const pn_net3 *net, int64_t batch, int64_t threads);
/* Frees a workspace (NULL: nothing). */
void pn3_work_free(pn3_work *work);
/* pn3_train's work with the workspace's network, batch and threads. */
int pn3_work_train(pn3_work *work, double *params, const double *X, const uint8_t *X8, const int64_t *Y,
                   const int64_t *order, int64_t n_batches, const uint8_t *masks, double eta, double lmbda,
                   int64_t num_training_batches, double *costs);

/* ---- svm.c: the SVM baseline -------------------------------------------------- */

/* Twin of mnist_svm.features for n examples: out (n x D) = scale * cos(W x + b), with WT
 * the random directions held transposed (n_in x D), b (D); sums over the non-zero inputs
 * in order.  0 or -1. */
int pn_rff(const double *WT, const double *b, double scale, const double *X, int64_t n, int64_t n_in,
           int64_t D, double *out);
/* Twin of mnist_svm.LinearSVM.train_epoch: one-vs-rest hinge-loss SGD over examples
 * order[0..m-1] of X (computing their features with pn_rff's arithmetic), labels y;
 * W (classes x D) and bias (classes) updated; *step counts the updates.  0 or -1. */
int pn_svm_epoch(const double *WT, const double *b, double scale, const double *X, const int64_t *y,
                 const int64_t *order, int64_t m, int64_t n_in, int64_t D, int64_t classes,
                 double *W, double *bias, double eta0, double lmbda, int64_t *step);
/* Twin of mnist_svm.LinearSVM.predict for n examples: labels (n).  0 or -1. */
int pn_svm_predict(const double *WT, const double *b, double scale, const double *X, int64_t n,
                   int64_t n_in, int64_t D, int64_t classes, const double *W, const double *bias,
                   int64_t *labels);
