/* Threads for the row kernels: run_job.
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
#include "kernels.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#define CHUNK 16384 /* floats per chunk of rows: from this size two threads beat one (docs/performance.md) */
#define SPIN_NS 100000L

typedef struct {
    rows_kernel kernel;
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
    work->kernel(work->out + lo * n, work->a + lo * n, work->b ? work->b + lo * n : NULL, n, hi - lo);
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

void run_job(rows_kernel kernel, float *out, const float *a, const float *b, Py_ssize_t n, Py_ssize_t rows,
             int threads) {
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
