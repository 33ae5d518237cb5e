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

/* Rows of up to SHORT floats: a vector loop over so short a row is mostly its scalar tail. So the exps of
 * a block of such rows are one flat loop over the block (BLOCK floats), and the rest is done row by row
 * with plain loops: the maximum, the sum (in four lanes), the result. At (64, 10) a log_softmax call took
 * 2.9 us with rows padded to 16 lanes, and about 2.1 us this way (timeit, a 2-core AMD EPYC with AVX2). */
#define SHORT 16
#define BLOCK 256 /* floats per block: whole rows, at least SHORT of them */

CLONES static void exp_all(float *e, const float *s, Py_ssize_t count) {
    for (Py_ssize_t i = 0; i < count; i++) e[i] = exp_f32(s[i]);
}

static inline float short_max(const float *x, Py_ssize_t n) {
    float m = -INFINITY;
    for (Py_ssize_t j = 0; j < n; j++) m = x[j] > m ? x[j] : m; /* a nan is skipped, as in row_max */
    return m;
}

/* A sum of up to SHORT terms TERM(j) (the TERMs of LEAF_SUM above) in four lanes, added as a tree at the
 * end (-0 + x == x, also for x = -0). Summed in order instead, the kernels were faster (log_softmax at
 * (64, 10): 1.7 against 2.1 us) but nearer torch's error than the tests allow for a margin: softmax at rows
 * of 10 had 1.18x torch's mean error (the tests allow 1.25x), its backward at 16 1.27x. */
#define SHORT_SUM(name, TERM)                                                        \
    static inline float name(const float *a, const float *b, Py_ssize_t n) {         \
        float lanes[4] = {-0.0f, -0.0f, -0.0f, -0.0f};                               \
        (void)b;                                                                     \
        for (Py_ssize_t j = 0; j < n; j++) lanes[j % 4] += TERM(j);                  \
        return (lanes[0] + lanes[2]) + (lanes[1] + lanes[3]);                        \
    }
SHORT_SUM(short_sum, PLAIN_TERM)
SHORT_SUM(short_dot, PRODUCT_TERM)

/* For each of `rows` rows of n <= SHORT floats: shifted = x - max(x), written to `shifted`. */
static inline void shift_by_max(float *shifted, const float *x, Py_ssize_t n, Py_ssize_t rows) {
    for (Py_ssize_t r = 0; r < rows; r++, x += n, shifted += n) {
        float m = short_max(x, n);
        for (Py_ssize_t j = 0; j < n; j++) shifted[j] = x[j] - m;
    }
}

CLONES static void log_softmax_short(float *out, const float *x, Py_ssize_t n, Py_ssize_t rows) {
    float shifted[BLOCK], e[BLOCK];
    for (Py_ssize_t done = 0, per_block = BLOCK / n; done < rows; done += per_block) {
        Py_ssize_t count = rows - done < per_block ? rows - done : per_block;
        shift_by_max(shifted, x + done * n, n, count);
        exp_all(e, shifted, count * n);
        float *o = out + done * n;
        for (Py_ssize_t r = 0; r < count; r++, o += n) {
            float c = logf(short_sum(e + r * n, NULL, n));
            for (Py_ssize_t j = 0; j < n; j++) o[j] = shifted[r * n + j] - c;
        }
    }
}

CLONES static void softmax_short(float *out, const float *x, Py_ssize_t n, Py_ssize_t rows) {
    float shifted[BLOCK];
    for (Py_ssize_t done = 0, per_block = BLOCK / n; done < rows; done += per_block) {
        Py_ssize_t count = rows - done < per_block ? rows - done : per_block;
        float *o = out + done * n;
        shift_by_max(shifted, x + done * n, n, count);
        exp_all(o, shifted, count * n);
        for (Py_ssize_t r = 0; r < count; r++, o += n) {
            float s = short_sum(o, NULL, n);
            for (Py_ssize_t j = 0; j < n; j++) o[j] = o[j] / s;
        }
    }
}

CLONES static void log_softmax_backward_short(float *out, const float *g, const float *y, Py_ssize_t n,
                                              Py_ssize_t rows) {
    float e[BLOCK]; /* exp(y) of the block, kept apart so that out may be g or y, as in the other kernels */
    for (Py_ssize_t done = 0, per_block = BLOCK / n; done < rows; done += per_block) {
        Py_ssize_t count = rows - done < per_block ? rows - done : per_block;
        exp_all(e, y + done * n, count * n);
        const float *gr = g + done * n;
        float *o = out + done * n;
        for (Py_ssize_t r = 0; r < count; r++, gr += n, o += n) {
            float s = short_sum(gr, NULL, n);
            for (Py_ssize_t j = 0; j < n; j++) o[j] = gr[j] - e[r * n + j] * s;
        }
    }
}

CLONES static void softmax_backward_short(float *out, const float *g, const float *y, Py_ssize_t n,
                                          Py_ssize_t rows) {
    for (Py_ssize_t r = 0; r < rows; r++, out += n, g += n, y += n) {
        float s = short_dot(g, y, n);
        for (Py_ssize_t j = 0; j < n; j++) out[j] = (g[j] - s) * y[j];
    }
}

/* The four kernels on `rows` rows of n floats (see module.c for the formulas). */
void log_softmax_rows(float *out, const float *x, const float *unused, Py_ssize_t n, Py_ssize_t rows) {
    (void)unused;
    if (n <= SHORT) {
        log_softmax_short(out, x, n, rows);
        return;
    }
    for (Py_ssize_t r = 0; r < rows; r++, out += n, x += n) {
        float m = row_max(x, n);
        subtract_two(out, x, m, logf(pairwise(sum_exp_leaf, x, NULL, m, n)), n);
    }
}

void softmax_rows(float *out, const float *x, const float *unused, Py_ssize_t n, Py_ssize_t rows) {
    (void)unused;
    if (n <= SHORT) {
        softmax_short(out, x, n, rows);
        return;
    }
    for (Py_ssize_t r = 0; r < rows; r++, out += n, x += n) {
        exp_shifted(out, x, row_max(x, n), n);
        divide(out, pairwise(sum_leaf, out, NULL, 0.0f, n), n);
    }
}

void log_softmax_backward_rows(float *out, const float *g, const float *y, Py_ssize_t n, Py_ssize_t rows) {
    if (n <= SHORT) {
        log_softmax_backward_short(out, g, y, n, rows);
        return;
    }
    for (Py_ssize_t r = 0; r < rows; r++, out += n, g += n, y += n)
        minus_exp_times(out, g, y, pairwise(sum_leaf, g, NULL, 0.0f, n), n);
}

void softmax_backward_rows(float *out, const float *g, const float *y, Py_ssize_t n, Py_ssize_t rows) {
    if (n <= SHORT) {
        softmax_backward_short(out, g, y, n, rows);
        return;
    }
    for (Py_ssize_t r = 0; r < rows; r++, out += n, g += n, y += n)
        minus_times(out, g, y, pairwise(sum_product_leaf, g, y, 0.0f, n), n);
}
