/* internal.h -- what the core's .c files share and Python never sees: the
 * public header, the codes of pn_net's fields, and WIDE.  Each of kernels.c,
 * network.c and svm.c includes this file and nothing else of the core's; a
 * further subject (convolutional layers, say, in conv.c) would do the same,
 * build on the kernels of kernels.c, and be added to build_core.py's sources.
 * Not part of the cffi declaration (purenn.h is): macros are allowed here.
 */
#ifndef PURENN_INTERNAL_H
#define PURENN_INTERNAL_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "purenn.h"

/* The codes of pn_net's hidden/output activations and its cost (purenn.h). */
enum { PN_SIGMOID = 0, PN_TANH = 1, PN_RELU = 2, PN_SOFTMAX = 3 };
enum { PN_QUADRATIC = 0, PN_CROSS_ENTROPY = 1, PN_LOG_LIKELIHOOD = 2 };
/* The codes of pn_net3's layer kinds and activations (purenn.h). */
enum { PN3_CONV = 0, PN3_FULL = 1, PN3_SOFTMAX = 2 };
enum { PN3_LINEAR = 0, PN3_RELU = 1, PN3_SIGMOID = 2, PN3_TANH = 3 };

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

/* pn_v4: four doubles side by side (GCC's and Clang's vector extension), each lane
 * computed as a double alone -- the blocked kernels hold independent outputs in
 * its lanes, never the terms of one sum.  PN_SHUFFLE picks lanes of two of them
 * (indices 0-3 from a, 4-7 from b): it moves values and rounds nothing.  CI also
 * builds the core without them (PURENN_NO_VECTORS), on the plain loops alone; GCC 9
 * or later (for __builtin_convertvector) or Clang. */
#if (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 9)) && !defined(PURENN_NO_VECTORS)
#define PN_VECTORS 1
typedef double pn_v4 __attribute__((vector_size(32)));
#if defined(__clang__) || __GNUC__ >= 12
#define PN_SHUFFLE(a, b, i, j, k, l) __builtin_shufflevector(a, b, i, j, k, l)
#else
typedef int64_t pn_v4i __attribute__((vector_size(32)));
#define PN_SHUFFLE(a, b, i, j, k, l) __builtin_shuffle(a, b, (pn_v4i){i, j, k, l})
#endif
#endif

/* Kernels of kernels.c that only the core's .c files call (the others are in purenn.h). */
/* Twin of linalg.dot for each output: z (n_out) = w a without b, given wT (n_in x n_out)
 * and a's nz/m from pn_nonzeros. */
void pn_weighted_sums(const double *wT, const double *a, const int64_t *nz, int64_t m, int64_t n_out, double *z);
/* Twin of network2.softmax: a (n) from z (n); a may be z. */
void pn_softmax(const double *z, double *a, int64_t n);
#ifdef PN_VECTORS
/* elementary.c: four sigmoids side by side, or 0 when a lane needs pn_exp's special cases. */
int pn_sigmoid4(const double *z, double *a);
#endif

#endif
