/* The benchmark runner. Per input: a memstate from `pre`, one untimed
 * execution whose output and status are checked against
 * expected_outputs.json, then timed executions, each on a fresh state
 * (created and freed outside the timed region) until both BENCH_MIN_RUNS
 * and min_time are reached. The table reports the median, because these
 * machines are shared and noisy. */
#include "tools/bench.h"

#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "vm/evm.h"
#include "hexjson.h"
#include "jit/jit.h"
#include "state/memstate.h"
#include "tools/statetest.h"

#define EXPECTED_FILE "expected_outputs.json"
#define BENCH_GAS 1000000000
/* Stop collecting samples here even if min_time is not reached yet. */
#define BENCH_MAX_RUNS 1000000

/* One input of one benchmark, ready to execute. */
typedef struct {
    char key[512]; /* group/name/input */
    memstate *m;
    block_env block;
    address origin;
    u256 gas_price;
    message msg;
    bytebuf input;
} bench_input;

/* The outcome of one execution. */
typedef struct {
    enum exec_status status;
    uint64_t gas_used;
    uint64_t ns;
    bytebuf output; /* filled only when asked for */
} bench_sample;

typedef struct {
    const bench_options *opts;
    json_t **expected;    /* per loaded expected_outputs.json */
    char **expected_dirs; /* the folder each came from */
    size_t n_expected;
    bool failed;
    /* The geometric mean of the inputs' gas rates, which the precompiles
     * are compared with (a plain ratio of sums would be dominated by the
     * one benchmark with the most gas). */
    double sum_log_mgas;
    size_t n_rates;
    /* --compare: the geometric mean of interpreter time / compiled time. */
    double sum_log_speedup;
    size_t n_speedups;
} bench_runner;

/* ------------------------------------------------------------ expected */

/* The loaded expected_outputs.json of folder `dir`, loading it when it
 * exists; NULL when it does not. */
static const json_t *expected_in(bench_runner *br, const char *dir)
{
    for (size_t i = 0; i < br->n_expected; i++)
        if (strcmp(br->expected_dirs[i], dir) == 0) return br->expected[i];
    char candidate[PATH_MAX + sizeof EXPECTED_FILE + 1];
    snprintf(candidate, sizeof candidate, "%s/%s", dir, EXPECTED_FILE);
    if (access(candidate, R_OK) != 0) return NULL;
    json_error_t jerr;
    json_t *j = json_load_file(candidate, 0, &jerr);
    if (!json_is_object(j)) {
        fprintf(br->opts->out, "warning: %s: line %d: %s\n", candidate, jerr.line,
                j ? "not an object" : jerr.text);
        json_decref(j);
        j = NULL;
    }
    br->expected = xrealloc(br->expected, (br->n_expected + 1) * sizeof(json_t *));
    br->expected_dirs = xrealloc(br->expected_dirs, (br->n_expected + 1) * sizeof(char *));
    br->expected[br->n_expected] = j;
    br->expected_dirs[br->n_expected++] = strdup(dir);
    return j;
}

/* The expected_outputs.json for a benchmark file: the nearest one in its
 * folder or a folder above. NULL when there is none. */
static const json_t *expected_for(bench_runner *br, const char *file)
{
    char dir[PATH_MAX];
    if (!realpath(file, dir)) return NULL;
    for (char *slash = strrchr(dir, '/'); slash && slash != dir; slash = strrchr(dir, '/')) {
        *slash = '\0';
        const json_t *found = expected_in(br, dir);
        if (found) return found;
    }
    return NULL;
}

static bool status_matches(const char *expected, enum exec_status got)
{
    if (strcmp(expected, "success") == 0) return got == EXEC_SUCCESS;
    if (strcmp(expected, "revert") == 0) return got == EXEC_REVERT;
    return got != EXEC_SUCCESS && got != EXEC_REVERT;
}

/* ------------------------------------------------------------ executing */

/* One execution on a fresh state; only evm_execute is timed. (Compiled
 * programs are kept per code hash across executions: with the jit engine
 * the verification run compiles, the timed runs reuse.) */
static void execute_once(const bench_input *in, enum fork f, int engine, bench_sample *s, bool keep_output)
{
    state_backend backend = memstate_backend(in->m);
    state *st = state_new(&backend);
    evm *e = evm_new(st, &in->block, f);
    evm_set_engine(e, engine);
    evm_set_tx_context(e, &in->origin, &in->gas_price, NULL, 0);
    if (f >= FORK_BERLIN) { /* as a transaction would have them */
        state_warm_account(st, &in->msg.sender);
        state_warm_account(st, &in->msg.recipient);
    }
    uint64_t start = monotonic_ns();
    exec_result r = evm_execute(e, &in->msg);
    s->ns = monotonic_ns() - start;
    s->status = r.status;
    s->gas_used = (uint64_t)(BENCH_GAS - r.gas_left);
    if (keep_output) bytebuf_append(&s->output, r.output, r.output_len);
    evm_free(e);
    state_free(st);
}

/* The first execution, checked against the recording. False on a
 * mismatch (reported). */
static bool verify(bench_runner *br, const bench_input *in, const json_t *want, bench_sample *first)
{
    FILE *out = br->opts->out;
    execute_once(in, (enum fork)br->opts->fork, br->opts->engine, first, true);
    if (!want) {
        fprintf(out, "warning: %s: no recorded output; not checked\n", in->key);
        return true;
    }
    const char *status = json_string_value(json_object_get(want, "status"));
    bytebuf output = {0};
    hj_error err;
    uint64_t gas;
    bool ok =
        status && hj_get_bytes(want, "output", &output, &err) && hj_get_u64(want, "gas_used", &gas, &err);
    if (!ok) {
        fprintf(out, "error: %s: unreadable recording: %s\n", in->key, status ? err.msg : "status missing");
    } else if (!status_matches(status, first->status)) {
        fprintf(out, "error: %s: status %s, recorded %s\n", in->key, exec_status_name(first->status), status);
        ok = false;
    } else if (output.len != first->output.len ||
               (output.len && memcmp(output.data, first->output.data, output.len))) {
        char *got = hex_from_bytes(first->output.data, first->output.len < 64 ? first->output.len : 64);
        fprintf(out, "error: %s: output %s%s (%zu bytes) differs from the recorded one (%zu bytes)\n",
                in->key, got, first->output.len > 64 ? "..." : "", first->output.len, output.len);
        free(got);
        ok = false;
    } else if (gas != first->gas_used) {
        fprintf(out,
                "warning: %s: gas used %" PRIu64 ", recorded %" PRIu64
                " (under Istanbul rules; running %s)\n",
                in->key, first->gas_used, gas, fork_name((enum fork)br->opts->fork));
    }
    bytebuf_free(&output);
    return ok;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* "12.3 ms" style, three significant digits. */
static void format_duration(double ns, char *buf, size_t n)
{
    static const char *const units[] = {"ns", "us", "ms", "s"};
    int u = 0;
    while (ns >= 1000 && u < 3) {
        ns /= 1000;
        u++;
    }
    snprintf(buf, n, "%.*f %s", ns >= 100 ? 0 : ns >= 10 ? 1 : 2, ns, units[u]);
}

static double print_row(FILE *out, const char *key, uint64_t gas, uint64_t *times, size_t runs)
{
    qsort(times, runs, sizeof(uint64_t), compare_u64);
    double median = runs % 2 ? (double)times[runs / 2] : ((double)times[runs / 2 - 1] + times[runs / 2]) / 2;
    double p10 = (double)times[runs / 10], p90 = (double)times[runs - 1 - runs / 10];
    char med[32];
    format_duration(median, med, sizeof med);
    double mgas = median > 0 ? (double)gas / median * 1e3 : 0; /* gas per ns = Ggas/s; * 1e3 = Mgas/s */
    fprintf(out, "%-44s %12" PRIu64 " %10s %10.1f   %+6.1f%% .. %+6.1f%% %8zu\n", key, gas, med, mgas,
            (p10 / median - 1) * 100, (p90 / median - 1) * 100, runs);
    fflush(out);
    return median;
}

static double median_of(uint64_t *times, size_t runs)
{
    qsort(times, runs, sizeof(uint64_t), compare_u64);
    return runs % 2 ? (double)times[runs / 2] : ((double)times[runs / 2 - 1] + times[runs / 2]) / 2;
}

/* Timed executions until both the run count and the time are reached;
 * prints the row unless comparing. Returns the median in ns. */
static double measure(bench_runner *br, const bench_input *in, uint64_t gas, int engine)
{
    uint64_t budget = (uint64_t)(br->opts->min_time * 1e9), spent = 0;
    size_t runs = 0, cap = 64;
    uint64_t *times = xmalloc(cap * sizeof(uint64_t));
    while ((runs < BENCH_MIN_RUNS || spent < budget) && runs < BENCH_MAX_RUNS) {
        bench_sample s = {0};
        execute_once(in, (enum fork)br->opts->fork, engine, &s, false);
        if (runs == cap) times = xrealloc(times, (cap *= 2) * sizeof(uint64_t));
        times[runs++] = s.ns;
        spent += s.ns;
    }
    double median = br->opts->compare ? median_of(times, runs) : print_row(br->opts->out, in->key, gas, times, runs);
    if (median > 0 && gas > 0 && engine == br->opts->engine) {
        br->sum_log_mgas += log((double)gas / median * 1e3);
        br->n_rates++;
    }
    free(times);
    return median;
}

/* --compare: the compiled run must give the interpreter's answer, then both
 * are timed, one after the other, and printed on one row. */
static void compare_engines(bench_runner *br, const bench_input *in, const bench_sample *first)
{
    FILE *out = br->opts->out;
    bench_sample compiled = {0};
    uint64_t frames_before = jit_get_stats().frames_compiled;
    execute_once(in, (enum fork)br->opts->fork, ENGINE_JIT, &compiled, true);
    /* The compiler declines some code (long, without jumps): its "compiled"
     * runs are the interpreter's, and say so. */
    bool was_compiled = jit_get_stats().frames_compiled > frames_before;
    if (compiled.status != first->status || compiled.gas_used != first->gas_used ||
        compiled.output.len != first->output.len ||
        (compiled.output.len && memcmp(compiled.output.data, first->output.data, compiled.output.len))) {
        fprintf(out, "error: %s: compiled run differs from the interpreter (%s, gas %" PRIu64 " vs %s, gas %" PRIu64 ")\n",
                in->key, exec_status_name(compiled.status), compiled.gas_used, exec_status_name(first->status),
                first->gas_used);
        br->failed = true;
        bytebuf_free(&compiled.output);
        return;
    }
    bytebuf_free(&compiled.output);
    double interp = measure(br, in, first->gas_used, ENGINE_INTERP);
    double jit = measure(br, in, first->gas_used, ENGINE_JIT);
    char ti[32], tj[32];
    format_duration(interp, ti, sizeof ti);
    format_duration(jit, tj, sizeof tj);
    double speedup = jit > 0 ? interp / jit : 0;
    fprintf(out, "%-44s %12" PRIu64 " %10s %10s %9.2fx%s\n", in->key, first->gas_used, ti, tj, speedup,
            was_compiled ? "" : "  (not compiled: runs interpreted)");
    fflush(out);
    if (speedup > 0 && was_compiled) {
        br->sum_log_speedup += log(speedup);
        br->n_speedups++;
    }
}

static void run_input(bench_runner *br, const bench_input *in, const json_t *expected)
{
    bench_sample first = {0};
    const json_t *want = expected ? json_object_get(expected, in->key) : NULL;
    if (verify(br, in, want, &first)) {
        /* Tiered: time the steady state, once the background compiler has
         * finished what the verification run queued. */
        if (br->opts->engine == ENGINE_TIERED) jit_wait_idle();
        if (br->opts->compare)
            compare_engines(br, in, &first);
        else
            measure(br, in, first.gas_used, br->opts->engine);
    } else {
        br->failed = true;
    }
    bytebuf_free(&first.output);
}

/* -------------------------------------------------------------- loading */

static const char *group_of(const char *file, char *buf, size_t n)
{
    snprintf(buf, n, "%s", file);
    char *dir = dirname(buf);
    char *slash = strrchr(dir, '/');
    return slash ? slash + 1 : dir;
}

static void input_label(const json_t *tc, size_t i, char *buf, size_t n)
{
    char index[24];
    snprintf(index, sizeof index, "%zu", i);
    const json_t *labels = json_object_get(json_object_get(tc, "_info"), "labels");
    const char *label = json_string_value(json_object_get(labels, index));
    snprintf(buf, n, "%s", label ? label : index);
}

/* Everything but the input bytes, which differ per input. */
static bool load_common(const json_t *tc, enum fork f, bench_input *in, hj_error *err)
{
    const json_t *txj = json_object_get(tc, "transaction");
    in->m = memstate_new();
    if (!st_load_pre(json_object_get(tc, "pre"), in->m, err) ||
        !st_load_block_env(json_object_get(tc, "env"), json_object_get(tc, "config"), f, fork_name(f),
                           &in->block, err))
        return false;
    st_set_block_hashes(in->m, in->block.number);
    if (!json_is_object(txj)) return hj_fail(err, "transaction: expected an object");
    if (!hj_get_address(txj, "sender", &in->origin, err) ||
        !hj_get_address(txj, "to", &in->msg.recipient, err))
        return false;
    in->gas_price = u256_zero();
    if (!hj_opt_u256(txj, "gasPrice", &in->gas_price, err)) return false;
    in->msg.kind = CALL_CALL;
    in->msg.gas = BENCH_GAS;
    in->msg.sender = in->origin;
    in->msg.code_address = in->msg.recipient;
    in->msg.transfers_value = true;
    return true;
}

static bool load_input(const json_t *tc, size_t i, bench_input *in, hj_error *err)
{
    json_t *data;
    in->input.len = 0;
    if (!hj_get_array(json_object_get(tc, "transaction"), "data", &data, err) ||
        !hj_bytes(json_array_get(data, i), "data", &in->input, err))
        return false;
    in->msg.input = in->input.data;
    in->msg.input_len = in->input.len;
    return true;
}

static bool selected(const bench_runner *br, const char *key)
{
    return !br->opts->filter || strstr(key, br->opts->filter);
}

static void run_case(bench_runner *br, const char *file, const char *name, const json_t *tc,
                     const json_t *expected)
{
    char group_buf[4096], label[128];
    const char *group = group_of(file, group_buf, sizeof group_buf);
    bench_input in = {0};
    hj_error err;
    json_t *data = json_object_get(json_object_get(tc, "transaction"), "data");
    if (!load_common(tc, (enum fork)br->opts->fork, &in, &err)) {
        fprintf(br->opts->out, "error: %s %s: %s\n", file, name, err.msg);
        br->failed = true;
    } else {
        for (size_t i = 0; i < json_array_size(data); i++) {
            input_label(tc, i, label, sizeof label);
            snprintf(in.key, sizeof in.key, "%s/%s/%s", group, name, label);
            if (!selected(br, in.key)) continue;
            if (load_input(tc, i, &in, &err)) {
                run_input(br, &in, expected);
            } else {
                fprintf(br->opts->out, "error: %s: %s\n", in.key, err.msg);
                br->failed = true;
            }
        }
    }
    memstate_free(in.m);
    bytebuf_free(&in.input);
}

static void run_file(bench_runner *br, const char *file)
{
    json_error_t jerr;
    json_t *root = json_load_file(file, 0, &jerr);
    if (!json_is_object(root)) {
        if (root)
            fprintf(br->opts->out, "error: %s: not a JSON object of benchmarks\n", file);
        else
            fprintf(br->opts->out, "error: %s: line %d column %d: %s\n", file, jerr.line, jerr.column,
                    jerr.text);
        br->failed = true;
        json_decref(root);
        return;
    }
    const json_t *expected = expected_for(br, file);
    const char *name;
    json_t *tc;
    json_object_foreach(root, name, tc) run_case(br, file, name, tc, expected);
    json_decref(root);
}

int bench_run(char *const *paths, size_t n_paths, const bench_options *opts)
{
    bench_runner br = {.opts = opts};
    file_list files;
    hj_error err;
    if (!collect_json_files(paths, n_paths, EXPECTED_FILE, &files, &err)) {
        fprintf(stderr, "jitevm bench: %s\n", err.msg);
        file_list_free(&files);
        return 2;
    }
    fprintf(opts->out, "engine %s, fork %s, at least %d runs and %.2f s per input\n", engine_name((enum engine)opts->engine),
            fork_name((enum fork)opts->fork), BENCH_MIN_RUNS, opts->min_time);
    if (opts->compare)
        fprintf(opts->out, "%-44s %12s %10s %10s %10s\n", "benchmark", "gas used", "interp", "compiled", "speedup");
    else
        fprintf(opts->out, "%-44s %12s %10s %10s   %-18s %8s\n", "benchmark", "gas used", "median", "Mgas/s",
                "spread p10..p90", "runs");
    for (size_t i = 0; i < files.count; i++) run_file(&br, files.paths[i]);
    if (br.n_speedups)
        fprintf(opts->out, "compiled vs interpreter, geometric mean over the %zu compiled inputs: %.2fx (medians, same run)\n",
                br.n_speedups, exp(br.sum_log_speedup / (double)br.n_speedups));
    double engine_mgas = br.n_rates ? exp(br.sum_log_mgas / (double)br.n_rates) : 0;
    if (!opts->compare && bench_precompiles(opts, engine_mgas) != 0) br.failed = true; /* once per make bench */
    for (size_t i = 0; i < br.n_expected; i++) {
        json_decref(br.expected[i]);
        free(br.expected_dirs[i]);
    }
    free(br.expected);
    free(br.expected_dirs);
    file_list_free(&files);
    return br.failed ? 1 : 0;
}
