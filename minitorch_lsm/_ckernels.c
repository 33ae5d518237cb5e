/* float32 kernels in C, each the twin of a NumPy code path that computes the same formula: the four
 * softmax kernels of ops/softmax.py (below), and at the end of this file three elementwise ones:
 * `a + scale * b` rounded once (ops/elementwise.py), relu and its gradient (ops/unary.py). ops/_c.py
 * decides when they are used.
 *
 * The softmax kernels work on float32 rows along the last axis of C-contiguous arrays, each fused into
 * one pass over memory per row:
 *
 *     log_softmax(out, x, n, threads)              out = (x - m) - log(sum(exp(x - m)))   m = max(x)
 *     softmax(out, x, n, threads)                  out = exp(x - m) / sum(exp(x - m))
 *     log_softmax_backward(out, g, y, n, threads)  out = g - exp(y) * sum(g)
 *     softmax_backward(out, g, y, n, threads)      out = (g - sum(g * y)) * y
 *
 * n is the row length (the arrays hold whole rows), threads how many threads may share the rows. A row of up to a few thousand floats stays in the L1
 * cache between the kernel's loops over it, so memory is read once and written once, where the NumPy
 * kernels make four or five passes. The loops have no branches, so the compiler turns them into SIMD
 * code; `target_clones` builds them for AVX2 and AVX-512 too and picks the best the CPU has at load time.
 * The GIL is released while a kernel runs, and its rows can be shared out over worker threads.
 *
 * exp is our own (NumPy's and libm's are not inlined into a loop): the argument is split as
 * x = k ln2 + r with |r| <= ln2/2, exp(r) is a degree-7 polynomial (Cephes' expf coefficients,
 * about 1 ulp), and 2^k is built from its exponent bits in two halves so that results down to
 * the smallest subnormal come out right. Sums are pairwise, as NumPy's are: blocks of 1024 terms
 * are added in 32 lanes, and the blocks' sums in a binary tree, so rounding error grows like
 * log(n), which keeps the signed sums of the backward kernels as accurate as NumPy's.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>

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

/* m = max(x) and e = exp(x - m), over a padded row; returns m. */
static inline float shifted_exp(float *e, const float *x, Py_ssize_t n) {
    float padded[SHORT], m = -INFINITY;
    pad(padded, x, n, -INFINITY);
#pragma omp simd reduction(max : m)
    for (int k = 0; k < SHORT; k++) m = padded[k] > m ? padded[k] : m;
    for (int k = 0; k < SHORT; k++) e[k] = exp_f32(padded[k] - m);
    return m;
}

CLONES static void log_softmax_short(float *out, const float *x, Py_ssize_t n) {
    float e[SHORT];
    float m = shifted_exp(e, x, n), c = logf(tree_sum(e));
    for (Py_ssize_t j = 0; j < n; j++) out[j] = (x[j] - m) - c;
}

CLONES static void softmax_short(float *out, const float *x, Py_ssize_t n) {
    float e[SHORT], total[SHORT];
    shifted_exp(e, x, n);
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

static void log_softmax_row(float *out, const float *x, const float *unused, Py_ssize_t n) {
    (void)unused;
    if (n <= SHORT) {
        log_softmax_short(out, x, n);
        return;
    }
    float m = row_max(x, n);
    subtract_two(out, x, m, logf(pairwise(sum_exp_leaf, x, NULL, m, n)), n);
}

static void softmax_row(float *out, const float *x, const float *unused, Py_ssize_t n) {
    (void)unused;
    if (n <= SHORT) {
        softmax_short(out, x, n);
        return;
    }
    exp_shifted(out, x, row_max(x, n), n);
    divide(out, pairwise(sum_leaf, out, NULL, 0.0f, n), n);
}

static void log_softmax_backward_row(float *out, const float *g, const float *y, Py_ssize_t n) {
    if (n <= SHORT) {
        log_softmax_backward_short(out, g, y, n);
        return;
    }
    minus_exp_times(out, g, y, pairwise(sum_leaf, g, NULL, 0.0f, n), n);
}

static void softmax_backward_row(float *out, const float *g, const float *y, Py_ssize_t n) {
    if (n <= SHORT) {
        softmax_backward_short(out, g, y, n);
        return;
    }
    minus_times(out, g, y, pairwise(sum_product_leaf, g, y, 0.0f, n), n);
}

typedef void (*row_kernel)(float *, const float *, const float *, Py_ssize_t);

/* ------------------------------------------------------------------ threads
 * A call with threads > 1 opens a job: its rows, in chunks of about CHUNK floats, go to whichever thread
 * takes them first, the calling thread and workers 1 .. threads - 1 (started on first use, kept for later
 * calls). Each row is computed as on one thread, so the result does not depend on who computes it. Chunks
 * rather than one equal part per thread, because a worker can be slow to wake (100 us and more on the
 * shared machines here): the caller does not wait for it, only for the chunk it is in the middle of.
 *
 * The caller closes the job once every chunk is taken, then waits until no worker is attached to it. A
 * worker attaches (counts itself in `attached`) before it looks whether a job is open, so the caller never
 * rewrites a job that a worker is reading (all atomics here are sequentially consistent). A worker that
 * took part in a job spins for up to SPIN_NS before it sleeps, since a loop usually calls again within
 * microseconds; the caller wakes, with a system call, only the sleeping workers its job needs. Only one
 * call at a time uses the workers; another Python thread's call runs on its own thread. */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define MAX_WORKERS 63
#define CHUNK 16384 /* floats per chunk of rows: from this size two threads beat one (docs/performance.md) */
#define SPIN_NS 100000L

typedef struct {
    row_kernel kernel;
    float *out;
    const float *a, *b;
    Py_ssize_t n, rows, rows_per_chunk;
    int threads;
    atomic_ptrdiff_t next_row; /* the first row no thread has taken yet */
} job_t;

typedef struct { /* what the caller needs to wake one worker */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_int asleep; /* set under `lock` before the worker checks `generation` and waits */
} worker_slot;

static job_t job;              /* written by the caller only while `job_open` is 0 and no worker is attached */
static atomic_int job_open;    /* 1 while `job` may be worked on */
static atomic_int attached;    /* workers between attaching and detaching */
static atomic_uint generation; /* bumped once per job */
static int workers;            /* threads started (0 in a forked child: it has none of them) */
static int fork_safe = -1;     /* whether the fork handler is registered (-1: not tried yet) */
static worker_slot slots[MAX_WORKERS + 1];
static pthread_mutex_t pool_busy = PTHREAD_MUTEX_INITIALIZER; /* held by the call that owns the job */

static inline void pause_briefly(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static long elapsed_ns(const struct timespec *since) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000000000L + (now.tv_nsec - since->tv_nsec);
}

static void run_rows_of(const job_t *work, Py_ssize_t lo, Py_ssize_t hi) {
    Py_ssize_t n = work->n;
    for (Py_ssize_t i = lo; i < hi; i++)
        work->kernel(work->out + i * n, work->a + i * n, work->b ? work->b + i * n : NULL, n);
}

/* Take chunks of the job's rows and compute them until none is left. */
static void take_chunks(job_t *work) {
    for (;;) {
        Py_ssize_t lo = atomic_fetch_add(&work->next_row, work->rows_per_chunk);
        if (lo >= work->rows) return;
        run_rows_of(work, lo, lo + work->rows_per_chunk < work->rows ? lo + work->rows_per_chunk : work->rows);
    }
}

/* Wait until `generation` differs from `seen` and return it: spinning first if `spin`, then asleep. */
static unsigned wait_for_new_job(worker_slot *slot, unsigned seen, int spin) {
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int spins = 1; spin; spins++) {
        unsigned now = atomic_load(&generation);
        if (now != seen) return now;
        if (spins % 256 == 0 && elapsed_ns(&start) > SPIN_NS) break;
        pause_briefly();
    }
    pthread_mutex_lock(&slot->lock);
    atomic_store(&slot->asleep, 1);
    unsigned now;
    while ((now = atomic_load(&generation)) == seen) pthread_cond_wait(&slot->wake, &slot->lock);
    atomic_store(&slot->asleep, 0);
    pthread_mutex_unlock(&slot->lock);
    return now;
}

static void *worker(void *arg) {
    int index = (int)(intptr_t)arg; /* worker 1, 2, ...: it helps jobs of more than `index` threads */
    unsigned seen = atomic_load(&generation);
    int took_part = 1;
    for (;;) {
        seen = wait_for_new_job(&slots[index], seen, took_part);
        atomic_fetch_add(&attached, 1);
        took_part = atomic_load(&job_open) && index < job.threads;
        if (took_part) take_chunks(&job);
        atomic_fetch_sub(&attached, 1);
    }
    return NULL;
}

static void forget_workers_in_child(void) {
    workers = 0; /* the child has only the thread that forked: start new workers when needed */
    atomic_store(&job_open, 0);
    atomic_store(&attached, 0);
    pthread_mutex_init(&pool_busy, NULL);
}

/* Start workers up to `wanted` (called with pool_busy held); returns how many there are. A worker that
 * misses the job it was started for costs nothing: the caller takes its chunks. No worker starts if the
 * fork handler could not be registered: a forked child would wait for workers it does not have. */
static int start_workers(int wanted) {
    if (fork_safe < 0) fork_safe = pthread_atfork(NULL, NULL, forget_workers_in_child) == 0;
    while (fork_safe && workers < wanted) {
        worker_slot *slot = &slots[workers + 1];
        pthread_mutex_init(&slot->lock, NULL);
        pthread_cond_init(&slot->wake, NULL);
        atomic_store(&slot->asleep, 0);
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&thread, &attr, worker, (void *)(intptr_t)(workers + 1));
        pthread_attr_destroy(&attr);
        if (failed) break;
        workers++;
    }
    return workers;
}

static void run_job(row_kernel kernel, float *out, const float *a, const float *b, Py_ssize_t n,
                    Py_ssize_t rows, int threads) {
    Py_ssize_t rows_per_chunk = CHUNK / n > 0 ? CHUNK / n : 1;
    if (threads <= 1 || rows <= rows_per_chunk || pthread_mutex_trylock(&pool_busy) != 0) {
        job_t alone = {kernel, out, a, b, n, rows, rows, 1, 0};
        run_rows_of(&alone, 0, rows);
        return;
    }
    int wanted = threads - 1 < MAX_WORKERS ? threads - 1 : MAX_WORKERS;
    int helpers = start_workers(wanted) < wanted ? workers : wanted;
    job.kernel = kernel, job.out = out, job.a = a, job.b = b, job.n = n, job.rows = rows;
    job.rows_per_chunk = rows_per_chunk, job.threads = helpers + 1;
    atomic_store(&job.next_row, 0);
    atomic_store(&job_open, 1);
    atomic_fetch_add(&generation, 1);
    for (int i = 1; i <= helpers; i++) { /* a spinning worker sees the new generation by itself */
        if (atomic_load(&slots[i].asleep)) {
            pthread_mutex_lock(&slots[i].lock);
            pthread_cond_signal(&slots[i].wake);
            pthread_mutex_unlock(&slots[i].lock);
        }
    }
    take_chunks(&job);
    atomic_store(&job_open, 0);
    for (long spins = 0; atomic_load(&attached) > 0; spins++) /* a worker finishing its last chunk */
        if (spins < 100000) pause_briefly(); else sched_yield(); /* ... unless it is not running */
    pthread_mutex_unlock(&pool_busy);
}

/* ------------------------------------------------------------------ the Python functions */
static int get_floats(PyObject *obj, Py_buffer *view, int writable, Py_ssize_t length) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0)) < 0)
        return -1;
    const char *format = view->format ? view->format : "B"; /* no format means unsigned bytes */
    if (strcmp(format, "f") != 0) {
        PyErr_Format(PyExc_ValueError, "expected aligned float32 (format 'f'), got format '%s'", format);
    } else if (length >= 0 && view->len != length) {
        PyErr_Format(PyExc_ValueError, "expected %zd bytes of float32, got %zd", length, view->len);
    } else {
        return 0;
    }
    PyBuffer_Release(view);
    return -1;
}

/* kernel(out, x, [y,] n, threads): check the arguments, then run the row kernel over every row, on
 * `threads` threads, without the GIL. */
static PyObject *run_rows(row_kernel kernel, int inputs, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != inputs + 3) {
        PyErr_Format(PyExc_TypeError, "expected %d arguments, got %zd", inputs + 3, nargs);
        return NULL;
    }
    Py_ssize_t n = PyLong_AsSsize_t(args[nargs - 2]);
    if (n == -1 && PyErr_Occurred()) return NULL;
    long threads = PyLong_AsLong(args[nargs - 1]);
    if (threads == -1 && PyErr_Occurred()) return NULL;
    Py_buffer views[3];
    if (get_floats(args[0], &views[0], 1, -1) < 0) return NULL;
    int got = 1;
    while (got <= inputs && get_floats(args[got], &views[got], 0, views[0].len) == 0) got++;
    Py_ssize_t count = views[0].len / (Py_ssize_t)sizeof(float);
    if (got > inputs && (n <= 0 || count % n != 0)) {
        PyErr_Format(PyExc_ValueError, "%zd floats are not whole rows of %zd", count, n);
    } else if (got > inputs && threads < 1) {
        PyErr_Format(PyExc_ValueError, "threads must be positive, got %ld", threads);
    } else if (got > inputs) {
        float *out = views[0].buf;
        const float *a = views[1].buf, *b = inputs > 1 ? views[2].buf : NULL;
        int wanted = threads > MAX_WORKERS + 1 ? MAX_WORKERS + 1 : (int)threads;
        Py_BEGIN_ALLOW_THREADS
        run_job(kernel, out, a, b, n, count / n, wanted);
        Py_END_ALLOW_THREADS
    }
    for (int i = 0; i < got; i++) PyBuffer_Release(&views[i]);
    if (PyErr_Occurred()) return NULL;
    Py_RETURN_NONE;
}

#define PY_KERNEL(name, inputs)                                                       \
    static PyObject *py_##name(PyObject *self, PyObject *const *args, Py_ssize_t n) { \
        (void)self;                                                                   \
        return run_rows(name##_row, inputs, args, n);                                 \
    }
PY_KERNEL(log_softmax, 1)
PY_KERNEL(softmax, 1)
PY_KERNEL(log_softmax_backward, 2)
PY_KERNEL(softmax_backward, 2)

/* ------------------------------------------------------------------ elementwise kernels
 * Flat float32 arrays of one length; out may be one of the inputs.
 *
 * add_scaled(out, a, b, scale): out = fmaf(scale, b, a), a + scale * b rounded once, as PyTorch's add(alpha=)
 *     kernel fuses the multiply-add (scale is a float32 value). One pass, where the NumPy path in
 *     ops/elementwise.py makes about ten.
 * relu(out, x): out = x < 0 ? 0 : x, which keeps -0.0 and nan as PyTorch's relu does.
 * threshold_backward(out, g, y): out = y <= 0 ? 0 : g, relu's gradient from its output y (a nan y passes
 *     g, a nan g does not leak where y <= 0: a select, not a product with a mask). */
CLONES static void add_scaled_loop(float *out, const float *a, const float *b, float scale, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) out[i] = fmaf(scale, b[i], a[i]);
}

CLONES static void relu_loop(float *out, const float *x, const float *unused, Py_ssize_t n) {
    (void)unused;
    for (Py_ssize_t i = 0; i < n; i++) out[i] = x[i] < 0.0f ? 0.0f : x[i];
}

CLONES static void threshold_backward_loop(float *out, const float *g, const float *y, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) out[i] = y[i] <= 0.0f ? 0.0f : g[i];
}

/* Get the buffers of args[0] (out, writable) and args[1..arrays-1], all float32 of out's length; on
 * failure release what was got and return -1 with the error set. */
static int get_flat_floats(PyObject *const *args, int arrays, Py_buffer *views) {
    if (get_floats(args[0], &views[0], 1, -1) < 0) return -1;
    for (int got = 1; got < arrays; got++) {
        if (get_floats(args[got], &views[got], 0, views[0].len) < 0) {
            while (got-- > 0) PyBuffer_Release(&views[got]);
            return -1;
        }
    }
    return 0;
}

static int check_count(Py_ssize_t nargs, Py_ssize_t expected) {
    if (nargs == expected) return 0;
    PyErr_Format(PyExc_TypeError, "expected %zd arguments, got %zd", expected, nargs);
    return -1;
}

static PyObject *py_add_scaled(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    Py_buffer v[3];
    if (check_count(nargs, 4) < 0) return NULL;
    double scale = PyFloat_AsDouble(args[3]);
    if (scale == -1.0 && PyErr_Occurred()) return NULL;
    if ((double)(float)scale != scale && !isnan(scale)) {
        PyErr_Format(PyExc_ValueError, "scale must be a float32 value, got %R", args[3]);
        return NULL;
    }
    if (get_flat_floats(args, 3, v) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    add_scaled_loop(v[0].buf, v[1].buf, v[2].buf, (float)scale, v[0].len / (Py_ssize_t)sizeof(float));
    Py_END_ALLOW_THREADS
    for (int i = 0; i < 3; i++) PyBuffer_Release(&v[i]);
    Py_RETURN_NONE;
}

/* relu(out, x) and threshold_backward(out, g, y): check the arguments, then run the loop over them. */
typedef void (*flat_kernel)(float *, const float *, const float *, Py_ssize_t);

static PyObject *run_flat(flat_kernel loop, int arrays, PyObject *const *args, Py_ssize_t nargs) {
    Py_buffer v[3];
    if (check_count(nargs, arrays) < 0 || get_flat_floats(args, arrays, v) < 0) return NULL;
    loop(v[0].buf, v[1].buf, arrays > 2 ? v[2].buf : NULL, v[0].len / (Py_ssize_t)sizeof(float));
    for (int i = 0; i < arrays; i++) PyBuffer_Release(&v[i]);
    Py_RETURN_NONE;
}

static PyObject *py_relu(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    return run_flat(relu_loop, 2, args, nargs);
}

static PyObject *py_threshold_backward(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    return run_flat(threshold_backward_loop, 3, args, nargs);
}

static PyMethodDef methods[] = {
    {"add_scaled", (PyCFunction)(void (*)(void))py_add_scaled, METH_FASTCALL,
     "add_scaled(out, a, b, scale): out = a + scale * b for float32 arrays, rounded once"},
    {"relu", (PyCFunction)(void (*)(void))py_relu, METH_FASTCALL, "relu(out, x): out = x < 0 ? 0 : x"},
    {"threshold_backward", (PyCFunction)(void (*)(void))py_threshold_backward, METH_FASTCALL,
     "threshold_backward(out, g, y): out = y <= 0 ? 0 : g"},
    {"log_softmax", (PyCFunction)(void (*)(void))py_log_softmax, METH_FASTCALL,
     "log_softmax(out, x, n, threads): out = (x - m) - log(sum(exp(x - m))) for each row of n floats"},
    {"softmax", (PyCFunction)(void (*)(void))py_softmax, METH_FASTCALL,
     "softmax(out, x, n, threads): out = exp(x - m) / sum(exp(x - m)) for each row of n floats"},
    {"log_softmax_backward", (PyCFunction)(void (*)(void))py_log_softmax_backward, METH_FASTCALL,
     "log_softmax_backward(out, g, y, n, threads): out = g - exp(y) * sum(g) for each row of n floats"},
    {"softmax_backward", (PyCFunction)(void (*)(void))py_softmax_backward, METH_FASTCALL,
     "softmax_backward(out, g, y, n, threads): out = (g - sum(g * y)) * y for each row of n floats"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {.m_base = PyModuleDef_HEAD_INIT, .m_name = "_ckernels", .m_size = -1, .m_methods = methods,
                                    .m_doc = "float32 kernels in C: the softmax family's rows, a + scale * b, relu."};

/* ops/_c.py uses the kernels only if this matches its own number: an editable install keeps an old build
 * when the source changes, and the two would no longer agree on what the functions are. */
#define API_VERSION 2

PyMODINIT_FUNC PyInit__ckernels(void) {
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddIntConstant(m, "API_VERSION", API_VERSION) < 0) Py_CLEAR(m);
    return m;
}
