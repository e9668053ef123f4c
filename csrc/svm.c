/* svm.c -- the SVM baseline of purenn/mnist_svm.py: random Fourier features
 * (pn_rff), one epoch of one-vs-rest hinge-loss SGD (pn_svm_epoch), and
 * predictions (pn_svm_predict), built on the kernels of kernels.c.
 *
 * Each function mirrors its Python twin loop for loop: the same operations
 * in the same order, every sum added in the same order (purenn.h says more).
 */
#include "internal.h"

/* Twin of mnist_svm.features for one example: phi (D) = scale * cos(W x + b), the
 * weighted inputs computed as the networks' are (twin of
 * backends.engine.sparse_weighted_inputs, over the non-zero x[k]).  nz: scratch of n_in. */
static void rff_one(const double *WT, const double *b, double scale, const double *x, int64_t n_in,
                    int64_t D, int64_t *nz, double *phi)
{
    int64_t m = pn_nonzeros(x, n_in, nz);
    pn_weighted_inputs(WT, x, nz, m, b, D, phi);
    for (int64_t d = 0; d < D; d++) {
        phi[d] = scale * pn_cos(phi[d]);
    }
}

/* Buffers for one example in the SVM functions: nz (n_in) for pn_nonzeros, phi (D)
 * followed by the class scores (classes). */
typedef struct {
    int64_t *nz;
    double *phi;
} svm_scratch;

static int svm_scratch_init(svm_scratch *scratch, int64_t n_in, int64_t D, int64_t classes)
{
    scratch->nz = malloc(sizeof(int64_t) * (size_t)(n_in > 0 ? n_in : 1));
    scratch->phi = malloc(sizeof(double) * (size_t)(D + classes > 0 ? D + classes : 1));
    if (scratch->nz == NULL || scratch->phi == NULL) {
        free(scratch->nz);
        free(scratch->phi);
        return -1;
    }
    return 0;
}

static void svm_scratch_free(svm_scratch *scratch)
{
    free(scratch->nz);
    free(scratch->phi);
}

/* Twin of mnist_svm.features for each row of X (purenn.h). */
int pn_rff(const double *WT, const double *b, double scale, const double *X, int64_t n, int64_t n_in,
           int64_t D, double *out)
{
    svm_scratch scratch;
    if (svm_scratch_init(&scratch, n_in, 0, 0) != 0) {
        return -1;
    }
    for (int64_t i = 0; i < n; i++) {
        rff_one(WT, b, scale, X + i * n_in, n_in, D, scratch.nz, out + i * D);
    }
    svm_scratch_free(&scratch);
    return 0;
}

/* Twin of mnist_svm.LinearSVM.scores: s[c] = (w_c . phi) + bias[c], summed over d in order --
 * the row-by-row products of pn_transpose_times, with W (classes x D) in the place of wT. */
static void svm_scores(const double *W, const double *bias, const double *phi, int64_t D, int64_t classes,
                       double *s)
{
    pn_transpose_times(W, phi, D, classes, s);
    for (int64_t c = 0; c < classes; c++) {
        s[c] = s[c] + bias[c];
    }
}

/* Twin of mnist_svm.LinearSVM.train_epoch's update of one class's weights w_c (D):
 * w_c = decay * w_c + push * phi, or decay * w_c where push is 0 (no margin violated). */
WIDE static void svm_step(double *restrict w_c, const double *restrict phi, int64_t D, double decay,
                          double push)
{
    if (push != 0.0) {
        for (int64_t d = 0; d < D; d++) {
            w_c[d] = decay * w_c[d] + push * phi[d];
        }
    } else {
        for (int64_t d = 0; d < D; d++) {
            w_c[d] = decay * w_c[d];
        }
    }
}

/* Twin of mnist_svm.LinearSVM.train_epoch over the examples in order (purenn.h). */
int pn_svm_epoch(const double *WT, const double *b, double scale, const double *X, const int64_t *y,
                 const int64_t *order, int64_t m, int64_t n_in, int64_t D, int64_t classes,
                 double *W, double *bias, double eta0, double lmbda, int64_t *step)
{
    svm_scratch scratch;
    if (svm_scratch_init(&scratch, n_in, D, classes) != 0) {
        return -1;
    }
    int64_t *nz = scratch.nz;
    double *phi = scratch.phi;
    double *s = phi + D;
    for (int64_t i = 0; i < m; i++) {
        int64_t row = order[i];
        rff_one(WT, b, scale, X + row * n_in, n_in, D, nz, phi);
        svm_scores(W, bias, phi, D, classes, s);
        *step += 1;
        double eta = eta0 / (1.0 + eta0 * lmbda * (double)*step);
        double decay = 1.0 - eta * lmbda;
        for (int64_t c = 0; c < classes; c++) {
            double target = c == y[row] ? 1.0 : -1.0;
            double push = target * s[c] < 1.0 ? eta * target : 0.0;
            svm_step(W + c * D, phi, D, decay, push);
            if (push != 0.0) {
                bias[c] = bias[c] + push;
            }
        }
    }
    svm_scratch_free(&scratch);
    return 0;
}

/* Twin of mnist_svm.LinearSVM.predict for each row of X (purenn.h). */
int pn_svm_predict(const double *WT, const double *b, double scale, const double *X, int64_t n,
                   int64_t n_in, int64_t D, int64_t classes, const double *W, const double *bias,
                   int64_t *labels)
{
    svm_scratch scratch;
    if (svm_scratch_init(&scratch, n_in, D, classes) != 0) {
        return -1;
    }
    int64_t *nz = scratch.nz;
    double *phi = scratch.phi;
    for (int64_t i = 0; i < n; i++) {
        rff_one(WT, b, scale, X + i * n_in, n_in, D, nz, phi);
        svm_scores(W, bias, phi, D, classes, phi + D);
        labels[i] = pn_argmax(phi + D, classes);
    }
    svm_scratch_free(&scratch);
    return 0;
}
