/* What the four files of the C kernels share (setup.py builds them into minitorch_lsm._ckernels):
 * rows.c, the softmax family's row kernels; nll.c, nll_loss's two; threads.c, the pool that shares rows
 * over threads; module.c, the elementwise kernels and the Python functions. See module.c for what each
 * kernel computes. */
#ifndef MINITORCH_LSM_KERNELS_H
#define MINITORCH_LSM_KERNELS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* Builds for AVX2 + FMA and for AVX-512, dispatched at load time by glibc's ifunc (which musl lacks). GCC 12
 * names them by the x86-64-v3/v4 levels, whose dispatch tests CPU features; older GCC only has single
 * features (an arch= name there tests the CPU model, which an AMD CPU fails). */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12 && defined(__x86_64__) && defined(__GLIBC__)
#define CLONES __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#elif defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 6 && defined(__x86_64__) && defined(__GLIBC__)
#define CLONES __attribute__((target_clones("default", "avx2", "avx512f")))
#else
#define CLONES
#endif

/* A kernel on n floats of a flat array: out from a (and b, where it takes two). */
typedef void (*flat_kernel)(float *out, const float *a, const float *b, Py_ssize_t n);
/* A kernel on `rows` consecutive rows of n floats: out from a (and b, where it takes two). */
typedef void (*rows_kernel)(float *out, const float *a, const float *b, Py_ssize_t n, Py_ssize_t rows);

void log_softmax_rows(float *out, const float *x, const float *unused, Py_ssize_t n, Py_ssize_t rows);
void softmax_rows(float *out, const float *x, const float *unused, Py_ssize_t n, Py_ssize_t rows);
void log_softmax_backward_rows(float *out, const float *g, const float *y, Py_ssize_t n, Py_ssize_t rows);
void softmax_backward_rows(float *out, const float *g, const float *y, Py_ssize_t n, Py_ssize_t rows);

/* nll_loss's forward and backward (nll.c); each returns the first row with a target out of bounds, or -1. */
Py_ssize_t nll_forward(float *losses, const float *x, const int64_t *t, const float *w, int64_t ignore,
                       Py_ssize_t n, Py_ssize_t c, float *sum, float *total_weight);
Py_ssize_t nll_backward(float *out, const int64_t *t, const float *w, int64_t ignore, Py_ssize_t n,
                        Py_ssize_t c, const float *scale, int scale_per_row, float divisor);

#define MAX_WORKERS 63 /* worker threads at most: a call asks for up to MAX_WORKERS + 1 threads */

/* kernel on `rows` rows of n floats, shared over up to `threads` threads (threads.c). Call it
 * without the GIL. */
void run_job(rows_kernel kernel, float *out, const float *a, const float *b, Py_ssize_t n, Py_ssize_t rows,
             int threads);

#endif
