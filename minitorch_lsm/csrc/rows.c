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

/* s = log(s) for each of `count` sums of a row's exps: each is at least 1 (the row's largest term is
 * exp(0) = 1) or nan. A loop that vectorizes over the short rows of a block, where glibc's logf is a call
 * of about 7 ns per row. With s = 2^k m, m in [sqrt(1/2), sqrt(2)), log(s) = k ln 2 + log(m), and with
 * t = (m - 1) / (m + 1), |t| < 0.172, log(m) = 2 (t + t^3/3 + t^5/5 + ...). Computed in double up to the
 * t^13/13 term, the error before the one rounding to float is about 1e-12 of the result, where a float's
 * spacing is 6e-8 of it: of the 2^25 floats in [1, 16], 18 come out one unit off the correctly rounded
 * log (glibc's logf: 127,685). */
CLONES static void log_of_sums(float *s, Py_ssize_t count) {
    for (Py_ssize_t i = 0; i < count; i++) {
        uint32_t bits = to_bits(s[i]);
        float m = from_bits((bits & 0x7fffffu) | 0x3f800000u); /* s's significand, in [1, 2) */
        int big = m > 1.41421356f;
        double k = (double)((int32_t)(bits >> 23) - 127 + big), md = big ? 0.5 * m : m;
        double t = (md - 1.0) / (md + 1.0), t2 = t * t;
        double p = 1.0 / 13;
        p = p * t2 + 1.0 / 11;
        p = p * t2 + 1.0 / 9;
        p = p * t2 + 1.0 / 7;
        p = p * t2 + 1.0 / 5;
        p = p * t2 + 1.0 / 3;
        p = p * t2 + 1.0;
        float log_s = (float)(k * 0.6931471805599453 + 2.0 * t * p);
        s[i] = s[i] == s[i] ? log_s : s[i]; /* nan stays nan */
    }
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
 * a block of such rows are one flat loop over the block (BLOCK floats), their logs another, and the rest
 * is done row by row: the maximum, the sum (in four lanes), the result. Each kernel is compiled for every
 * row length (BY_ROW_LENGTH, below), so that the compiler unrolls the loops over a row completely. A
 * log_softmax call at (64, 10) took 2.9 us with rows padded to 16 lanes, 2.1-3.1 us with blocks and logf,
 * and 1.3 us now (timeit, a 2-core AMD EPYC with AVX2; docs/performance.md). */
#define SHORT 16
#define ALWAYS_INLINE static inline __attribute__((always_inline)) /* into each clone of its caller */
#define BLOCK 256 /* floats per block: whole rows, at least SHORT of them */

CLONES static void exp_all(float *e, const float *s, Py_ssize_t count) {
    for (Py_ssize_t i = 0; i < count; i++) e[i] = exp_f32(s[i]);
}

/* A reduction of up to SHORT terms TERM(j) (the TERMs of LEAF_SUM above) in four lanes, lane j % 4, each
 * lane's terms in order, the lanes then joined as (l0 . l2) . (l1 . l3). Written out lane by lane: as
 * `lanes[j % 4] += a[j]` the compiler kept the lanes in memory, at 90 instructions for a sum of 10. */
#define SHORT_REDUCE(name, START, STEP, TERM)                                          \
    ALWAYS_INLINE float name(const float *a, const float *b, Py_ssize_t n) {           \
        float l0 = START, l1 = START, l2 = START, l3 = START;                          \
        Py_ssize_t j = 0;                                                              \
        (void)b;                                                                       \
        for (; j + 4 <= n; j += 4) {                                                   \
            l0 = STEP(l0, TERM(j)); l1 = STEP(l1, TERM(j + 1));                        \
            l2 = STEP(l2, TERM(j + 2)); l3 = STEP(l3, TERM(j + 3));                    \
        }                                                                              \
        if (j < n) l0 = STEP(l0, TERM(j));                                             \
        if (j + 1 < n) l1 = STEP(l1, TERM(j + 1));                                     \
        if (j + 2 < n) l2 = STEP(l2, TERM(j + 2));                                     \
        return STEP(STEP(l0, l2), STEP(l1, l3));                                       \
    }
#define LANE_ADD(s, t) ((s) + (t))
#define LANE_MAX(m, t) ((t) > (m) ? (t) : (m)) /* a nan t is skipped, as in row_max (a lane is never nan) */
/* Sums start from -0 (-0 + x == x, also for x = -0); where the CPU has FMA, short_dot's multiply-adds
 * are fused, as in the long rows' sum_product_leaf. Summed in order instead, the sums were faster but
 * nearer torch's error than the tests allow for a margin: softmax at rows of 10 had 1.18x torch's mean
 * error (the tests allow 1.25x), its backward at 16 1.27x. */
SHORT_REDUCE(short_sum, -0.0f, LANE_ADD, PLAIN_TERM)
SHORT_REDUCE(short_dot, -0.0f, LANE_ADD, PRODUCT_TERM)
SHORT_REDUCE(short_max, -INFINITY, LANE_MAX, PLAIN_TERM)

/* For each of `rows` rows of n <= SHORT floats: shifted = x - max(x), written to `shifted`. */
ALWAYS_INLINE void shift_by_max(float *shifted, const float *x, Py_ssize_t n, Py_ssize_t rows) {
    for (Py_ssize_t r = 0; r < rows; r++, x += n, shifted += n) {
        float m = short_max(x, NULL, n);
        for (Py_ssize_t j = 0; j < n; j++) shifted[j] = x[j] - m;
    }
}

/* The short rows' kernels, (out, a, b, n, rows) as a rows_kernel: each is inlined into BY_ROW_LENGTH's
 * switch once for every n from 1 to SHORT, with n a constant there. */

ALWAYS_INLINE void log_softmax_short(float *out, const float *x, const float *unused, Py_ssize_t n, Py_ssize_t rows) {
    float shifted[BLOCK], e[BLOCK], logs[BLOCK]; /* (n >= 1: at most BLOCK rows a block) */
    (void)unused;
    for (Py_ssize_t done = 0, per_block = BLOCK / n; done < rows; done += per_block) {
        Py_ssize_t count = rows - done < per_block ? rows - done : per_block;
        shift_by_max(shifted, x + done * n, n, count);
        exp_all(e, shifted, count * n);
        float *o = out + done * n;
        for (Py_ssize_t r = 0; r < count; r++) logs[r] = short_sum(e + r * n, NULL, n);
        log_of_sums(logs, count);
        for (Py_ssize_t r = 0; r < count; r++, o += n)
            for (Py_ssize_t j = 0; j < n; j++) o[j] = shifted[r * n + j] - logs[r];
    }
}

ALWAYS_INLINE void softmax_short(float *out, const float *x, const float *unused, Py_ssize_t n, Py_ssize_t rows) {
    float shifted[BLOCK];
    (void)unused;
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

ALWAYS_INLINE void log_softmax_backward_short(float *out, const float *g, const float *y, Py_ssize_t n, Py_ssize_t rows) {
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

ALWAYS_INLINE void softmax_backward_short(float *out, const float *g, const float *y, Py_ssize_t n, Py_ssize_t rows) {
    for (Py_ssize_t r = 0; r < rows; r++, out += n, g += n, y += n) {
        float s = short_dot(g, y, n);
        for (Py_ssize_t j = 0; j < n; j++) out[j] = (g[j] - s) * y[j];
    }
}

#define LENGTH_CASE(body, k) case k: body(out, a, b, k, rows); return;
#define BY_ROW_LENGTH(name, body)                                                                            \
    CLONES static void name(float *out, const float *a, const float *b, Py_ssize_t n, Py_ssize_t rows) {    \
        switch (n) {                                                                                         \
            LENGTH_CASE(body, 1) LENGTH_CASE(body, 2) LENGTH_CASE(body, 3) LENGTH_CASE(body, 4)              \
            LENGTH_CASE(body, 5) LENGTH_CASE(body, 6) LENGTH_CASE(body, 7) LENGTH_CASE(body, 8)              \
            LENGTH_CASE(body, 9) LENGTH_CASE(body, 10) LENGTH_CASE(body, 11) LENGTH_CASE(body, 12)           \
            LENGTH_CASE(body, 13) LENGTH_CASE(body, 14) LENGTH_CASE(body, 15) LENGTH_CASE(body, 16)          \
        }                                                                                                    \
    }
BY_ROW_LENGTH(log_softmax_by_length, log_softmax_short)
BY_ROW_LENGTH(softmax_by_length, softmax_short)
BY_ROW_LENGTH(log_softmax_backward_by_length, log_softmax_backward_short)
BY_ROW_LENGTH(softmax_backward_by_length, softmax_backward_short)

/* The four kernels on `rows` rows of n floats (see module.c for the formulas). */
void log_softmax_rows(float *out, const float *x, const float *unused, Py_ssize_t n, Py_ssize_t rows) {
    (void)unused;
    if (n <= SHORT) {
        log_softmax_by_length(out, x, NULL, n, rows);
        return;
    }
    for (Py_ssize_t r = 0; r < rows; r++, out += n, x += n) {
        float m = row_max(x, n);
        float c = pairwise(sum_exp_leaf, x, NULL, m, n);
        log_of_sums(&c, 1);
        subtract_two(out, x, m, c, n);
    }
}

void softmax_rows(float *out, const float *x, const float *unused, Py_ssize_t n, Py_ssize_t rows) {
    (void)unused;
    if (n <= SHORT) {
        softmax_by_length(out, x, NULL, n, rows);
        return;
    }
    for (Py_ssize_t r = 0; r < rows; r++, out += n, x += n) {
        exp_shifted(out, x, row_max(x, n), n);
        divide(out, pairwise(sum_leaf, out, NULL, 0.0f, n), n);
    }
}

void log_softmax_backward_rows(float *out, const float *g, const float *y, Py_ssize_t n, Py_ssize_t rows) {
    if (n <= SHORT) {
        log_softmax_backward_by_length(out, g, y, n, rows);
        return;
    }
    for (Py_ssize_t r = 0; r < rows; r++, out += n, g += n, y += n)
        minus_exp_times(out, g, y, pairwise(sum_leaf, g, NULL, 0.0f, n), n);
}

void softmax_backward_rows(float *out, const float *g, const float *y, Py_ssize_t n, Py_ssize_t rows) {
    if (n <= SHORT) {
        softmax_backward_by_length(out, g, y, n, rows);
        return;
    }
    for (Py_ssize_t r = 0; r < rows; r++, out += n, g += n, y += n)
        minus_times(out, g, y, pairwise(sum_product_leaf, g, y, 0.0f, n), n);
}
