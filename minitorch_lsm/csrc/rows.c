/* The softmax family's row kernels (see module.c for the formulas), and the exp and sums they use. */
#include "kernels.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define LANES 32 /* partial sums kept side by side: four AVX2 registers, two AVX-512 ones */
#define LEAF 1024 /* terms per block of the pairwise sum: 32 per lane; 256 was 25% slower */

static inline float from_bits(uint32_t u) { float f; memcpy(&f, &u, sizeof f); return f; }
static inline uint32_t to_bits(float f) { uint32_t u; memcpy(&u, &f, sizeof u); return u; }

/* exp(x) for every float: 0 below -104, inf above log(FLT_MAX), nan for nan. */
static inline float exp_f32(float x) {
    const float shifter = 12582912.0f; /* 1.5 * 2^23: adding it rounds to the nearest integer */
    float xc = x < -104.0f ? -104.0f : (x > 88.72283935546875f ? 88.72283935546875f : x); /* nan stays nan */
    float t = xc * 1.44269504088896341f + shifter;
    float k = t - shifter;
    int32_t ki = (int32_t)(to_bits(t) - to_bits(shifter)); /* k as an integer, read off t's low bits */
    float r = xc - k * 0.693359375f;                        /* ln2 in two parts (Cody and Waite): */
    r = r - k * -2.12194440e-4f;                            /* k times the first is exact         */
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t k1 = ki >> 1, k2 = ki - k1; /* 2^k = 2^k1 * 2^k2, each a normal float for k in [-150, 128] */
    float e = p * from_bits((uint32_t)(k1 + 127) << 23) * from_bits((uint32_t)(k2 + 127) << 23);
    return x > 88.72283935546875f ? INFINITY : e;
}

CLONES static float row_max(const float *x, Py_ssize_t n) {
    float m = -INFINITY;
#pragma omp simd reduction(max : m)
    for (Py_ssize_t j = 0; j < n; j++) m = x[j] > m ? x[j] : m;
    return m; /* a nan is skipped here, and comes back through exp(nan - m) in the sum */
}

static inline float add_lanes(float *lanes) {
    for (int width = LANES / 2; width > 0; width /= 2)
        for (int k = 0; k < width; k++) lanes[k] += lanes[k + width];
    return lanes[0];
}

/* One leaf of a pairwise sum, n <= LEAF terms: what it adds is TERM(j), written as a macro so that
 * the compiler inlines it into the vector loop. */
#define LEAF_SUM(name, TERM)                                                              \
    CLONES static float name(const float *a, const float *b, float m, Py_ssize_t n) {     \
        float lanes[LANES];                                                               \
        Py_ssize_t j = 0;                                                                 \
        (void)b; (void)m;                                                                 \
        for (int k = 0; k < LANES; k++) lanes[k] = -0.0f; /* -0 + x == x, also for x = -0 */ \
        for (; j + LANES <= n; j += LANES)                                                \
            for (int k = 0; k < LANES; k++) lanes[k] += TERM(j + k);                      \
        for (int k = 0; j + k < n; k++) lanes[k] += TERM(j + k); /* the last few terms */ \
        return add_lanes(lanes);                                                          \
    }
#define EXP_TERM(j) exp_f32(a[j] - m)
#define PLAIN_TERM(j) a[j]
#define PRODUCT_TERM(j) (a[j] * b[j])
LEAF_SUM(sum_exp_leaf, EXP_TERM)
LEAF_SUM(sum_leaf, PLAIN_TERM)
LEAF_SUM(sum_product_leaf, PRODUCT_TERM)

typedef float (*leaf_sum)(const float *, const float *, float, Py_ssize_t);

/* The sum of a leaf's terms over [0, n): halves of a multiple of LANES terms, down to leaves. */
static float pairwise(leaf_sum leaf, const float *a, const float *b, float m, Py_ssize_t n) {
    if (n <= LEAF) return leaf(a, b, m, n);
    Py_ssize_t half = n / 2 / LANES * LANES;
    return pairwise(leaf, a, b, m, half) + pairwise(leaf, a + half, b ? b + half : NULL, m, n - half);
}

CLONES static void subtract_two(float *out, const float *x, float m, float c, Py_ssize_t n) {
    for (Py_ssize_t j = 0; j < n; j++) out[j] = (x[j] - m) - c;
}

CLONES static void exp_shifted(float *out, const float *x, float m, Py_ssize_t n) {
    for (Py_ssize_t j = 0; j < n; j++) out[j] = exp_f32(x[j] - m);
}

CLONES static void divide(float *out, float s, Py_ssize_t n) {
    for (Py_ssize_t j = 0; j < n; j++) out[j] = out[j] / s;
}

CLONES static void minus_exp_times(float *out, const float *g, const float *y, float s, Py_ssize_t n) {
    for (Py_ssize_t j = 0; j < n; j++) out[j] = g[j] - exp_f32(y[j]) * s;
}

CLONES static void minus_times(float *out, const float *g, const float *y, float s, Py_ssize_t n) {
    for (Py_ssize_t j = 0; j < n; j++) out[j] = (g[j] - s) * y[j];
}

/* Rows of up to SHORT floats are copied into buffers of exactly SHORT, padded with terms that change
 * nothing (-inf before exp, -0.0 in a sum), so that every loop has a fixed length and the compiler makes
 * each one a few vector instructions: at (64, 10) the general loops spent most of their time in scalar
 * tails (log_softmax 4.2 -> 1.5 us). Their sums are trees over the SHORT lanes. */
#define SHORT 16

static inline float tree_sum(float *v) {
    for (int width = SHORT / 2; width > 0; width /= 2)
        for (int k = 0; k < width; k++) v[k] += v[k + width];
    return v[0];
}

static inline void pad(float *to, const float *from, Py_ssize_t n, float filler) {
    for (int k = 0; k < SHORT; k++) to[k] = k < n ? from[k] : filler;
}

/* m = max(x) and e = exp(x - m) over the row padded to SHORT (e is 0 past the row); returns m. */
static inline float padded_shifted_exp(float *e, const float *x, Py_ssize_t n) {
    float padded[SHORT], m = -INFINITY;
    pad(padded, x, n, -INFINITY);
#pragma omp simd reduction(max : m)
    for (int k = 0; k < SHORT; k++) m = padded[k] > m ? padded[k] : m;
    for (int k = 0; k < SHORT; k++) e[k] = exp_f32(padded[k] - m);
    return m;
}

CLONES static void log_softmax_short(float *out, const float *x, Py_ssize_t n) {
    float e[SHORT];
    float m = padded_shifted_exp(e, x, n), c = logf(tree_sum(e));
    for (Py_ssize_t j = 0; j < n; j++) out[j] = (x[j] - m) - c;
}

CLONES static void softmax_short(float *out, const float *x, Py_ssize_t n) {
    float e[SHORT], total[SHORT];
    padded_shifted_exp(e, x, n);
    memcpy(total, e, sizeof total);
    float s = tree_sum(total);
    for (Py_ssize_t j = 0; j < n; j++) out[j] = e[j] / s;
}

CLONES static void log_softmax_backward_short(float *out, const float *g, const float *y, Py_ssize_t n) {
    float padded_g[SHORT], padded_y[SHORT], result[SHORT];
    pad(padded_g, g, n, -0.0f);
    pad(padded_y, y, n, 0.0f);
    float total[SHORT];
    memcpy(total, padded_g, sizeof total);
    float s = tree_sum(total);
    for (int k = 0; k < SHORT; k++) result[k] = padded_g[k] - exp_f32(padded_y[k]) * s;
    memcpy(out, result, (size_t)n * sizeof(float));
}

CLONES static void softmax_backward_short(float *out, const float *g, const float *y, Py_ssize_t n) {
    float padded_g[SHORT], padded_y[SHORT], products[SHORT];
    pad(padded_g, g, n, -0.0f);
    pad(padded_y, y, n, 0.0f);
    for (int k = 0; k < SHORT; k++) products[k] = padded_g[k] * padded_y[k]; /* pads: -0 * 0 = -0 */
    float s = tree_sum(products);
    for (Py_ssize_t j = 0; j < n; j++) out[j] = (g[j] - s) * y[j];
}

void log_softmax_row(float *out, const float *x, const float *unused, Py_ssize_t n) {
    (void)unused;
    if (n <= SHORT) {
        log_softmax_short(out, x, n);
        return;
    }
    float m = row_max(x, n);
    subtract_two(out, x, m, logf(pairwise(sum_exp_leaf, x, NULL, m, n)), n);
}

void softmax_row(float *out, const float *x, const float *unused, Py_ssize_t n) {
    (void)unused;
    if (n <= SHORT) {
        softmax_short(out, x, n);
        return;
    }
    exp_shifted(out, x, row_max(x, n), n);
    divide(out, pairwise(sum_leaf, out, NULL, 0.0f, n), n);
}

void log_softmax_backward_row(float *out, const float *g, const float *y, Py_ssize_t n) {
    if (n <= SHORT) {
        log_softmax_backward_short(out, g, y, n);
        return;
    }
    minus_exp_times(out, g, y, pairwise(sum_leaf, g, NULL, 0.0f, n), n);
}

void softmax_backward_row(float *out, const float *g, const float *y, Py_ssize_t n) {
    if (n <= SHORT) {
        softmax_backward_short(out, g, y, n);
        return;
    }
    minus_times(out, g, y, pairwise(sum_product_leaf, g, y, 0.0f, n), n);
}
