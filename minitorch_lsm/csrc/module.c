/* minitorch_lsm._ckernels: float32 kernels in C, each the twin of a NumPy code path that computes the
 * same formula. A kernel runs only on the arrays it was written for, aligned C-contiguous float32 NumPy
 * arrays (get_array checks them), and says whether it ran: False (or None) sends the caller to its NumPy
 * path; ops/_c.py says whether to try at all. This file has the Python functions and three
 * elementwise kernels: `a + scale * b` rounded once (ops/_scaled_add.py), relu and its gradient
 * (ops/unary.py). rows.c has the four softmax kernels of ops/softmax.py, threads.c the threads that
 * share their rows, nll.c the forward and backward of nll_loss (ops/loss.py).
 *
 * The softmax kernels work on float32 rows along the last axis of C-contiguous arrays, each fused into
 * one pass over memory per row:
 *
 *     log_softmax(out, x, n, threads)              out = (x - m) - log(sum(exp(x - m)))   m = max(x)
 *     softmax(out, x, n, threads)                  out = exp(x - m) / sum(exp(x - m))
 *     log_softmax_backward(out, g, y, n, threads)  out = g - exp(y) * sum(g)
 *     softmax_backward(out, g, y, n, threads)      out = (g - sum(g * y)) * y
 *
 * n is the row length (the arrays hold whole rows), threads how many threads may share the rows. A row
 * of up to a few thousand floats stays in the L1 cache between the kernel's loops over it, so memory is
 * read once and written once, where the NumPy kernels make four or five passes. The loops have no
 * branches, so the compiler turns them into SIMD code; `target_clones` (kernels.h) builds them for AVX2
 * and AVX-512 too and picks the best the CPU has at load time. The GIL is released while a kernel runs.
 *
 * exp is our own (NumPy's and libm's are not inlined into a loop): the argument is split as
 * x = k ln2 + r with |r| <= ln2/2, exp(r) is a degree-7 polynomial (Cephes' expf coefficients,
 * about 1 ulp), and 2^k is built from its exponent bits in two halves so that results down to
 * the smallest subnormal come out right. Sums are pairwise, as NumPy's are: blocks of 1024 terms
 * are added in 32 lanes, and the blocks' sums in a binary tree, so rounding error grows like
 * log(n), which keeps the signed sums of the backward kernels as accurate as NumPy's. Rows of up to
 * 16 floats are summed in four lanes instead (see rows.c).
 */
#include "kernels.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------ the Python functions */
/* The arrays the kernels take: aligned, C-contiguous buffers of float32 (format 'f') or, with `int64`, of
 * int64 (NumPy says 'l' or 'q'). get_array returns 1 with obj's buffer held when obj is such an array,
 * `length` bytes long unless length < 0; 0 when it is not one (nothing held, no error set: the Python
 * function then returns False or None and computes nothing, and the caller takes its NumPy path); -1 with
 * the error set when it is one of another length. */
static int get_array(PyObject *obj, Py_buffer *view, int writable, int int64, Py_ssize_t length) {
    if (!PyObject_CheckBuffer(obj)) return 0; /* a CuPy array, say */
    if (PyObject_GetBuffer(obj, view, PyBUF_STRIDES | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0)) < 0) {
        PyErr_Clear(); /* a read-only array where the kernel would write */
        return 0;
    }
    const char *format = view->format ? view->format : "B"; /* no format means unsigned bytes */
    int fits = (int64 ? (strcmp(format, "l") == 0 || strcmp(format, "q") == 0) && view->itemsize == 8
                      : strcmp(format, "f") == 0) &&
               PyBuffer_IsContiguous(view, 'C') && (uintptr_t)view->buf % (uintptr_t)view->itemsize == 0;
    if (fits && length >= 0 && view->len != length) {
        PyErr_Format(PyExc_ValueError, "expected %zd bytes of %s, got %zd", length, int64 ? "int64" : "float32",
                     view->len);
        fits = -1;
    }
    if (fits != 1) PyBuffer_Release(view);
    return fits;
}

static int get_floats(PyObject *obj, Py_buffer *view, int writable, Py_ssize_t length) {
    return get_array(obj, view, writable, 0, length);
}

/* Get the buffers of args[0] (out, writable) and args[1..arrays-1], all float32 of out's length, as
 * get_array: 1 with all of them held, else 0 or -1 with none held. */
static int get_flat_floats(PyObject *const *args, int arrays, Py_buffer *views) {
    int got = get_floats(args[0], &views[0], 1, -1);
    for (int i = 1; i < arrays && got == 1; i++) {
        got = get_floats(args[i], &views[i], 0, views[0].len);
        if (got != 1)
            while (i-- > 0) PyBuffer_Release(&views[i]);
    }
    return got;
}

static int check_count(Py_ssize_t nargs, Py_ssize_t expected) {
    if (nargs == expected) return 0;
    PyErr_Format(PyExc_TypeError, "expected %zd arguments, got %zd", expected, nargs);
    return -1;
}

/* kernel(out, x, [y,] n, threads) -> bool: check the arguments, then run the row kernel over every row, on
 * `threads` threads, without the GIL, and return True; False where an array is not one the kernels take. */
static PyObject *run_rows(rows_kernel kernel, int inputs, PyObject *const *args, Py_ssize_t nargs) {
    if (check_count(nargs, inputs + 3) < 0) return NULL;
    Py_ssize_t n = PyLong_AsSsize_t(args[nargs - 2]);
    if (n == -1 && PyErr_Occurred()) return NULL;
    long threads = PyLong_AsLong(args[nargs - 1]);
    if (threads == -1 && PyErr_Occurred()) return NULL;
    Py_buffer views[3];
    int got = get_flat_floats(args, inputs + 1, views);
    if (got < 0) return NULL;
    if (got == 0) Py_RETURN_FALSE;
    Py_ssize_t count = views[0].len / (Py_ssize_t)sizeof(float);
    if (n <= 0 || count % n != 0) {
        PyErr_Format(PyExc_ValueError, "%zd floats are not whole rows of %zd", count, n);
    } else if (threads < 1) {
        PyErr_Format(PyExc_ValueError, "threads must be positive, got %ld", threads);
    } else {
        float *out = views[0].buf;
        const float *a = views[1].buf, *b = inputs > 1 ? views[2].buf : NULL;
        int wanted = threads > MAX_WORKERS + 1 ? MAX_WORKERS + 1 : (int)threads;
        Py_BEGIN_ALLOW_THREADS
        run_job(kernel, out, a, b, n, count / n, wanted);
        Py_END_ALLOW_THREADS
    }
    for (int i = 0; i <= inputs; i++) PyBuffer_Release(&views[i]);
    if (PyErr_Occurred()) return NULL;
    Py_RETURN_TRUE;
}

#define PY_KERNEL(name, inputs)                                                       \
    static PyObject *py_##name(PyObject *self, PyObject *const *args, Py_ssize_t n) { \
        (void)self;                                                                   \
        return run_rows(name##_rows, inputs, args, n);                                 \
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
 *     ops/_scaled_add.py makes about ten.
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
    int got = get_flat_floats(args, 3, v);
    if (got < 0) return NULL;
    if (got == 0) Py_RETURN_FALSE;
    Py_BEGIN_ALLOW_THREADS
    add_scaled_loop(v[0].buf, v[1].buf, v[2].buf, (float)scale, v[0].len / (Py_ssize_t)sizeof(float));
    Py_END_ALLOW_THREADS
    for (int i = 0; i < 3; i++) PyBuffer_Release(&v[i]);
    Py_RETURN_TRUE;
}

/* relu(out, x) and threshold_backward(out, g, y) -> bool: check the arguments, then run the loop over them
 * (True), or return False where an array is not one the kernels take. */
static PyObject *run_flat(flat_kernel loop, int arrays, PyObject *const *args, Py_ssize_t nargs) {
    Py_buffer v[3];
    if (check_count(nargs, arrays) < 0) return NULL;
    int got = get_flat_floats(args, arrays, v);
    if (got < 0) return NULL;
    if (got == 0) Py_RETURN_FALSE;
    loop(v[0].buf, v[1].buf, arrays > 2 ? v[2].buf : NULL, v[0].len / (Py_ssize_t)sizeof(float));
    for (int i = 0; i < arrays; i++) PyBuffer_Release(&v[i]);
    Py_RETURN_TRUE;
}

static PyObject *py_relu(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    return run_flat(relu_loop, 2, args, nargs);
}

static PyObject *py_threshold_backward(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    return run_flat(threshold_backward_loop, 3, args, nargs);
}

/* ------------------------------------------------------------------ nll_loss (nll.c)
 * nll_loss(losses, x, target, weight, ignore_index, classes) -> (sum, total_weight, mean, bad_row) or None
 *     x: n rows of `classes` floats, target: n int64, weight: None or `classes` floats, losses: None or n
 *     floats to receive each row's loss; mean = sum / total_weight, divided in float32 (as Python floats).
 * nll_loss_backward(out, target, weight, ignore_index, classes, scale, divisor) -> bad_row or None
 *     out: n rows of `classes` floats, every one written; scale: 1 or n floats, each divided by divisor
 *     (a float32 value) before use.
 * bad_row is -1, or the first row whose target is out of bounds (then the results are incomplete). None:
 * an array is not one the kernels take (see get_array), and nothing was computed. */
static int get_optional_floats(PyObject *obj, Py_buffer *view, int writable, Py_ssize_t length) {
    if (obj == Py_None) {
        view->obj = NULL;
        view->buf = NULL;
        return 1;
    }
    return get_floats(obj, view, writable, length);
}

static void release_all(Py_buffer *views, int count) {
    for (int i = 0; i < count; i++)
        if (views[i].obj) PyBuffer_Release(&views[i]);
}

/* The arguments both functions share: the target (views[0]), the weights (views[1]), ignore_index and
 * classes; n is the number of targets. Returns as get_array. */
static int get_targets(PyObject *const *args, Py_buffer *views, int64_t *ignore, Py_ssize_t *classes,
                       Py_ssize_t *n) {
    *ignore = PyLong_AsLongLong(args[2]);
    if (*ignore == -1 && PyErr_Occurred()) return -1;
    *classes = PyLong_AsSsize_t(args[3]);
    if (*classes == -1 && PyErr_Occurred()) return -1;
    if (*classes < 0) {
        PyErr_Format(PyExc_ValueError, "classes must not be negative, got %zd", *classes);
        return -1;
    }
    int got = get_array(args[0], &views[0], 0, 1, -1);
    if (got != 1) return got;
    *n = views[0].len / 8;
    if (*classes > PY_SSIZE_T_MAX / (Py_ssize_t)sizeof(float) / (*n > 0 ? *n : 1)) { /* byte counts below must not overflow */
        PyErr_Format(PyExc_ValueError, "%zd rows of %zd classes do not fit in memory", *n, *classes);
        got = -1;
    } else {
        got = get_optional_floats(args[1], &views[1], 0, *classes * (Py_ssize_t)sizeof(float));
    }
    if (got != 1) PyBuffer_Release(&views[0]);
    return got;
}

static PyObject *py_nll_loss(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    Py_buffer v[4] = {{0}}; /* target, weight, x, losses */
    int64_t ignore;
    Py_ssize_t classes, n, bad = -1;
    float sum = 0.0f, total = 0.0f;
    if (check_count(nargs, 6) < 0) return NULL;
    int got = get_targets(args + 2, v, &ignore, &classes, &n);
    if (got == 1) got = get_floats(args[1], &v[2], 0, n * classes * (Py_ssize_t)sizeof(float));
    if (got == 1) got = get_optional_floats(args[0], &v[3], 1, n * (Py_ssize_t)sizeof(float));
    if (got != 1) {
        release_all(v, 4);
        if (got < 0) return NULL;
        Py_RETURN_NONE;
    }
    Py_BEGIN_ALLOW_THREADS
    bad = nll_forward(v[3].buf, v[2].buf, v[0].buf, v[1].buf, ignore, n, classes, &sum, &total);
    Py_END_ALLOW_THREADS
    release_all(v, 4);
    return Py_BuildValue("dddn", (double)sum, (double)total, (double)(sum / total), bad);
}

static PyObject *py_nll_loss_backward(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    Py_buffer v[4] = {{0}}; /* target, weight, out, scale */
    int64_t ignore;
    Py_ssize_t classes, n, bad = -1;
    if (check_count(nargs, 7) < 0) return NULL;
    float divisor = (float)PyFloat_AsDouble(args[6]);
    if (divisor == -1.0f && PyErr_Occurred()) return NULL;
    int got = get_targets(args + 1, v, &ignore, &classes, &n);
    if (got == 1) got = get_floats(args[0], &v[2], 1, n * classes * (Py_ssize_t)sizeof(float));
    if (got == 1) got = get_floats(args[5], &v[3], 0, -1);
    if (got != 1) {
        release_all(v, 4);
        if (got < 0) return NULL;
        Py_RETURN_NONE;
    }
    Py_ssize_t scales = v[3].len / (Py_ssize_t)sizeof(float);
    if (scales != 1 && scales != n) {
        PyErr_Format(PyExc_ValueError, "expected 1 or %zd scales, got %zd", n, scales);
    } else {
        Py_BEGIN_ALLOW_THREADS
        bad = nll_backward(v[2].buf, v[0].buf, v[1].buf, ignore, n, classes, v[3].buf, scales != 1, divisor);
        Py_END_ALLOW_THREADS
    }
    release_all(v, 4);
    if (PyErr_Occurred()) return NULL;
    return PyLong_FromSsize_t(bad);
}

static PyMethodDef methods[] = {
    {"add_scaled", (PyCFunction)(void (*)(void))py_add_scaled, METH_FASTCALL,
     "add_scaled(out, a, b, scale) -> bool: out = a + scale * b for float32 arrays, rounded once"},
    {"relu", (PyCFunction)(void (*)(void))py_relu, METH_FASTCALL, "relu(out, x) -> bool: out = x < 0 ? 0 : x"},
    {"threshold_backward", (PyCFunction)(void (*)(void))py_threshold_backward, METH_FASTCALL,
     "threshold_backward(out, g, y) -> bool: out = y <= 0 ? 0 : g"},
    {"nll_loss", (PyCFunction)(void (*)(void))py_nll_loss, METH_FASTCALL,
     "nll_loss(losses, x, target, weight, ignore_index, classes) -> (sum, total_weight, mean, bad_row) or None"},
    {"nll_loss_backward", (PyCFunction)(void (*)(void))py_nll_loss_backward, METH_FASTCALL,
     "nll_loss_backward(out, target, weight, ignore_index, classes, scale, divisor) -> bad_row or None"},
    {"log_softmax", (PyCFunction)(void (*)(void))py_log_softmax, METH_FASTCALL,
     "log_softmax(out, x, n, threads) -> bool: out = (x - m) - log(sum(exp(x - m))) for each row of n floats"},
    {"softmax", (PyCFunction)(void (*)(void))py_softmax, METH_FASTCALL,
     "softmax(out, x, n, threads) -> bool: out = exp(x - m) / sum(exp(x - m)) for each row of n floats"},
    {"log_softmax_backward", (PyCFunction)(void (*)(void))py_log_softmax_backward, METH_FASTCALL,
     "log_softmax_backward(out, g, y, n, threads) -> bool: out = g - exp(y) * sum(g) for each row of n floats"},
    {"softmax_backward", (PyCFunction)(void (*)(void))py_softmax_backward, METH_FASTCALL,
     "softmax_backward(out, g, y, n, threads) -> bool: out = (g - sum(g * y)) * y for each row of n floats"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {.m_base = PyModuleDef_HEAD_INIT, .m_name = "_ckernels", .m_size = -1, .m_methods = methods,
                                    .m_doc = "float32 kernels in C: the softmax family's rows, nll_loss, a + scale * b, relu."};

/* ops/_c.py uses the kernels only if this matches its own number: an editable install keeps an old build
 * when the source changes, and the two would no longer agree on what the functions are. */
#define API_VERSION 5

PyMODINIT_FUNC PyInit__ckernels(void) {
    PyObject *m = PyModule_Create(&module);
    if (m && PyModule_AddIntConstant(m, "API_VERSION", API_VERSION) < 0) Py_CLEAR(m);
    return m;
}
