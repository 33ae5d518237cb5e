/* nll_loss's two kernels (ops/loss.py), on float32 rows of class scores x (n rows of c floats), int64
 * targets t (n) and optional class weights w (c):
 *
 *     nll_forward:   loss_i = -(x[i, t_i] * w[t_i])   (0 where t_i == ignore); their sum and sum_i w[t_i]
 *     nll_backward:  out[i, t_i] = -(w[t_i] * (s_i / d)), 0 elsewhere   (s: one scale for all rows, or one
 *                    per row; d: 'mean''s divisor, the total weight, or 1)
 *
 * Both return the first row whose target is neither `ignore` nor in [0, c), or -1: ops/loss.py raises
 * PyTorch's IndexError for it, and nothing is read or written out of bounds.
 *
 * The sums are PyTorch's own, bit for bit: its CPU kernel adds the terms in eight float32 partial sums, a
 * cascade. Term i goes into partial sum 0; after a row i that is a multiple of step**(j + 1) (step = 16 up
 * to 2**40 rows), partial sum j is added into j + 1 and restarts from 0, so each partial sum adds at most
 * 16 numbers of similar size before passing them on. The result adds the eight in order. Ignored rows are
 * skipped entirely (their row number does not move a partial sum on). Every product is rounded before it
 * is added: the pragma stops GCC from fusing the two into one multiply-add, which PyTorch's build of this
 * loop does not do either (clang fuses only within one expression, and these are two). */
#include "kernels.h"

#include <string.h>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#endif

#define LEVELS 8

/* ceil(log2(n)), and 1 for n <= 2, as PyTorch's CeilLog2 */
static int ceil_log2(Py_ssize_t n) {
    int bits = 1;
    while (bits < 63 && ((Py_ssize_t)1 << bits) < n) bits++;
    return bits;
}

Py_ssize_t nll_forward(float *losses, const float *x, const int64_t *t, const float *w, int64_t ignore,
                       Py_ssize_t n, Py_ssize_t c, float *sum, float *total_weight) {
    int power = ceil_log2(n) / LEVELS;
    if (power < 4) power = 4;
    int64_t mask = ((int64_t)1 << power) - 1;
    float loss_sums[LEVELS] = {0}, weight_sums[LEVELS] = {0};
    Py_ssize_t ignored = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t target = t[i];
        if (target == ignore) {
            ignored++;
            if (losses) losses[i] = 0.0f;
            continue;
        }
        if (target < 0 || target >= c) return i;
        float weight = w ? w[target] : 1.0f;
        float term = x[i * c + target] * weight; /* exact when there are no weights */
        if (losses) losses[i] = -term;
        loss_sums[0] -= term;
        weight_sums[0] += weight;
        for (int j = 0; j + 1 < LEVELS; j++) {
            if ((int64_t)i & (mask << (j * power))) break;
            loss_sums[j + 1] += loss_sums[j];
            weight_sums[j + 1] += weight_sums[j];
            loss_sums[j] = weight_sums[j] = 0.0f;
        }
    }
    float loss = 0.0f, weight = 0.0f;
    for (int j = 0; j < LEVELS; j++) {
        loss += loss_sums[j];
        weight += weight_sums[j];
    }
    *sum = loss;
    *total_weight = w ? weight : (float)(n - ignored); /* without weights: the count of targets kept */
    return -1;
}

Py_ssize_t nll_backward(float *out, const int64_t *t, const float *w, int64_t ignore, Py_ssize_t n,
                        Py_ssize_t c, const float *scale, int scale_per_row, float divisor) {
    float s = scale_per_row ? 0.0f : scale[0] / divisor; /* rounded once, as torch divides grad_output by total_weight */
    for (Py_ssize_t i = 0; i < n; i++) {
        float *row = out + i * c;
        memset(row, 0, (size_t)c * sizeof *row); /* (while the row is in the cache; +0 in every float) */
        int64_t target = t[i];
        if (target == ignore) continue;
        if (target < 0 || target >= c) return i;
        if (scale_per_row) s = scale[i] / divisor;
        row[target] = -((w ? w[target] : 1.0f) * s);
    }
    return -1;
}
