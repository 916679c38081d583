/* The benchmark runner: the standard EVM benchmarks (state-test files whose
 * `transaction.data` entries are the inputs), executed as a message call
 * straight into the contract under test, checked against the recorded
 * outputs, then timed. */
#ifndef JITEVM_BENCH_H
#define JITEVM_BENCH_H

#include <stdbool.h>
#include <stdio.h>

typedef struct {
    int engine;         /* enum engine (jit.h) */
    bool compare;       /* each input on the interpreter and compiled, side by side */
    int fork;           /* the fork whose rules apply */
    const char *filter; /* run only inputs whose "group/name/input" contains this; NULL: all */
    double min_time;    /* seconds of timed execution per input, at least */
    bool cpu_time;      /* time the thread's CPU time instead of the monotonic clock */
    /* Time executions back to back on one state (each one's changes
     * reverted), BENCH_WARM_BATCH per sample, as evmone-bench's
     * baseline/execute rows do, instead of one execution on a fresh state
     * per sample: caches and predictors stay warm from one to the next. */
    bool warm;
    FILE *out;
} bench_options;

/* The minimum number of timed executions per input, however long they take. */
#define BENCH_MIN_RUNS 5
/* Executions per sample with `warm`: the clock read twice per sample is
 * then a few ns of a short input's execution (swap_math: under 1 us). */
#define BENCH_WARM_BATCH 8

/* Runs every benchmark file under `paths`. Returns 0 when every output
 * matched, 1 when one did not (or a file could not be run), 2 when a path
 * cannot be read. */
int bench_run(char *const *paths, size_t n_paths, const bench_options *opts);

/* Times the cryptographic precompiles (bn254 and BLS12-381 2-pair pairings,
 * ecrecover, bn254 mul) and prints their gas per second next to the
 * engine's `engine_mgas`. Returns 0 when each ran successfully. */
int bench_precompiles(const bench_options *opts, double engine_mgas);

#endif
