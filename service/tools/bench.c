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
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/hex.h"
#include "vm/evm.h"
#include "hexjson.h"
#include "jit/jit_internal.h"
#include "program_store.h"
#include "state/memstate.h"
#include "store.h"
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
    /* Executions timed together as one sample (a short call is shorter
     * than the clock's resolution and overhead): 1 for the benchmark files. */
    size_t batch;
    /* A synthetic call (call/...): left out of the geometric means. */
    bool synthetic;
    /* A call/.../execute row: the state and evm are created once per
     * sample, and each of the batch's calls executes the message against
     * the same state, its changes reverted after it (execute only, as
     * evmone-bench's baseline/execute times it). */
    bool execute_only;
} bench_input;

/* A contract of the benchmark files, for the per-program costs. */
typedef struct {
    char name[256]; /* group/name */
    hash32 hash;
    bytebuf code;
} bench_contract;

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
    bench_contract *contracts; /* each distinct code once */
    size_t n_contracts;
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

/* The clock samples are taken with: the monotonic clock, or with
 * --cpu-time the thread's CPU time (on a loaded machine, time spent
 * preempted is not the engine's). */
static bool sample_cpu_time;

static uint64_t sample_clock_ns(void)
{
    if (!sample_cpu_time) return monotonic_ns();
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A fresh evm over `st`, set up as the transaction around the message
 * would leave it. */
static evm *prepare_evm(const bench_input *in, enum fork f, int engine, state *st)
{
    evm *e = evm_new(st, &in->block, f);
    evm_set_engine(e, engine);
    evm_set_tx_context(e, &in->origin, &in->gas_price, NULL, 0);
    if (f >= FORK_BERLIN) { /* as a transaction would have them */
        state_warm_account(st, &in->msg.sender);
        state_warm_account(st, &in->msg.recipient);
    }
    return e;
}

/* A call/.../execute sample: n executions of the message on one state and
 * evm, each reverted to the snapshot taken before the first; s->ns is the
 * time per execution, evm_execute and the revert. Prepared once, outside
 * the clock, by one untimed execution: the accounts read, the code found,
 * the frame buffers allocated. (Not inlined: callgrind separates its
 * instructions from the whole calls' by function.) */
static __attribute__((noinline)) exec_result execute_prepared(const bench_input *in, enum fork f, int engine,
                                                              size_t n, bench_sample *s, bool keep_output)
{
    state_backend backend = memstate_backend(in->m);
    state *st = state_new(&backend);
    evm *e = prepare_evm(in, f, engine, st);
    state_snapshot snap = state_snapshot_take(st);
    exec_result r = evm_execute(e, &in->msg);
    state_revert(st, snap);
    uint64_t start = sample_clock_ns();
    for (size_t i = 0; i < n; i++) {
        r = evm_execute(e, &in->msg);
        if (keep_output && i == n - 1) bytebuf_append(&s->output, r.output, r.output_len);
        state_revert(st, snap);
    }
    s->ns = (sample_clock_ns() - start) / n;
    evm_free(e);
    state_free(st);
    return r;
}

/* One execution on a fresh state; only evm_execute is timed. (Analysis
 * and compiled programs are kept per code hash across executions: with the
 * jit engine the verification run compiles, the timed runs reuse.)
 * With n > 1 (the synthetic calls), n whole calls are timed together, each
 * creating its state and evm, executing and freeing them, as a request
 * does: s->ns is the time per call. The output is kept, when asked, of
 * the last. */
static void execute_batch(const bench_input *in, enum fork f, int engine, size_t n, bench_sample *s,
                          bool keep_output)
{
    state_backend backend = memstate_backend(in->m);
    exec_result r = {0};
    if (in->execute_only) {
        r = execute_prepared(in, f, engine, n, s, keep_output);
    } else if (n == 1) {
        state *st = state_new(&backend);
        evm *e = prepare_evm(in, f, engine, st);
        uint64_t start = sample_clock_ns();
        r = evm_execute(e, &in->msg);
        s->ns = sample_clock_ns() - start;
        if (keep_output) bytebuf_append(&s->output, r.output, r.output_len);
        evm_free(e);
        state_free(st);
    } else {
        uint64_t start = sample_clock_ns();
        for (size_t i = 0; i < n; i++) {
            state *st = state_new(&backend);
            evm *e = prepare_evm(in, f, engine, st);
            r = evm_execute(e, &in->msg);
            if (keep_output && i == n - 1) bytebuf_append(&s->output, r.output, r.output_len);
            evm_free(e);
            state_free(st);
        }
        s->ns = (sample_clock_ns() - start) / n;
    }
    s->status = r.status;
    s->gas_used = (uint64_t)(BENCH_GAS - r.gas_left);
}

static void execute_once(const bench_input *in, enum fork f, int engine, bench_sample *s, bool keep_output)
{
    execute_batch(in, f, engine, 1, s, keep_output);
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
        execute_batch(in, (enum fork)br->opts->fork, engine, in->batch, &s, false);
        if (runs == cap) times = xrealloc(times, (cap *= 2) * sizeof(uint64_t));
        times[runs++] = s.ns;
        spent += s.ns * in->batch;
    }
    double median = br->opts->compare ? median_of(times, runs) : print_row(br->opts->out, in->key, gas, times, runs);
    if (median > 0 && gas > 0 && engine == br->opts->engine && !in->synthetic) {
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
    if (speedup > 0 && was_compiled && !in->synthetic) {
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

/* Remembers the code of the contract under test of a benchmark file (each
 * distinct code once), for the per-program costs. */
static void note_contract(bench_runner *br, const char *group, const char *name, const bench_input *in)
{
    state_backend backend = memstate_backend(in->m);
    account_info info;
    const uint8_t *code;
    size_t len;
    if (!backend.get_account(backend.ctx, &in->msg.recipient, &info) ||
        !backend.get_code(backend.ctx, &info.code_hash, &code, &len) || len == 0)
        return;
    for (size_t i = 0; i < br->n_contracts; i++)
        if (memcmp(br->contracts[i].hash.b, info.code_hash.b, 32) == 0) return;
    br->contracts = xrealloc(br->contracts, (br->n_contracts + 1) * sizeof *br->contracts);
    bench_contract *c = &br->contracts[br->n_contracts++];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s/%s", group, name);
    c->hash = info.code_hash;
    bytebuf_append(&c->code, code, len);
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
    bench_input in = {.batch = br->opts->warm ? BENCH_WARM_BATCH : 1, .execute_only = br->opts->warm};
    hj_error err;
    json_t *data = json_object_get(json_object_get(tc, "transaction"), "data");
    if (!load_common(tc, (enum fork)br->opts->fork, &in, &err)) {
        fprintf(br->opts->out, "error: %s %s: %s\n", file, name, err.msg);
        br->failed = true;
    } else {
        note_contract(br, group, name, &in);
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

/* ------------------------------------------------- the synthetic calls */

/* The fixed cost of a call: a message call into a contract that does
 * nothing, and into one of ten instructions, each a whole call (state and
 * evm created, the message executed, both freed: what a request pays
 * besides its JSON), timed CALL_BATCH at a time so that the clock's own
 * cost is shared out. Each also has a row keyed KEY/execute that times
 * evm_execute alone, with state and evm created once and the call's state
 * changes reverted after each execution (the snapshot's revert is timed
 * with it): what evmone-bench's baseline/execute measures with its mocked
 * host and cached analysis. */
#define CALL_BATCH 64
static const struct {
    const char *key;
    const char *code;   /* hex */
    const char *output; /* hex: the expected output */
    uint64_t gas;       /* the expected gas */
} call_benchmarks[] = {
    {"call/empty", "00", "", 0}, /* STOP */
    /* PUSH1 1, PUSH1 2, ADD, PUSH1 3, MUL, PUSH1 0, MSTORE, PUSH1 32,
     * PUSH1 0, RETURN: the word 9; six PUSH1 (18), ADD (3), MUL (5),
     * MSTORE (3) and its first memory word (3). */
    {"call/10-instructions", "600160020160030260005260206000f3",
     "0000000000000000000000000000000000000000000000000000000000000009", 32},
};

static bool load_call_input(const char *code_hex, enum fork f, bench_input *in, hj_error *err)
{
    bytebuf code = {0};
    if (hex_parse_bytes(code_hex, strlen(code_hex), HEX_PREFIX_OPTIONAL, &code, NULL) != HEX_OK) {
        bytebuf_free(&code);
        return hj_fail(err, "bad code");
    }
    in->m = memstate_new();
    address contract = {.b = {[18] = 0xc0, [19] = 0xde}}, sender = {.b = {[19] = 0x5e}};
    u256 zero = u256_zero();
    memstate_put_account(in->m, &contract, 1, &zero, code.data, code.len);
    memstate_put_account(in->m, &sender, 0, &zero, NULL, 0);
    bytebuf_free(&code);
    in->block.number = 1;
    in->block.timestamp = 1;
    in->block.gas_limit = BENCH_GAS;
    in->block.chain_id = u256_from_u64(1);
    block_env_default_blob_schedule(&in->block, f);
    in->origin = sender;
    in->gas_price = u256_zero();
    in->msg.kind = CALL_CALL;
    in->msg.gas = BENCH_GAS;
    in->msg.sender = sender;
    in->msg.recipient = contract;
    in->msg.code_address = contract;
    in->msg.transfers_value = true;
    in->batch = CALL_BATCH;
    in->synthetic = true;
    return true;
}

static void run_calls(bench_runner *br)
{
    for (size_t i = 0; i < sizeof call_benchmarks / sizeof call_benchmarks[0]; i++) {
        char execute_key[sizeof ((bench_input *)0)->key];
        snprintf(execute_key, sizeof execute_key, "%s/execute", call_benchmarks[i].key);
        bool whole = selected(br, call_benchmarks[i].key), execute = selected(br, execute_key);
        if (!whole && !execute) continue;
        bench_input in = {0};
        hj_error err;
        snprintf(in.key, sizeof in.key, "%s", call_benchmarks[i].key);
        if (!load_call_input(call_benchmarks[i].code, (enum fork)br->opts->fork, &in, &err)) {
            fprintf(br->opts->out, "error: %s: %s\n", in.key, err.msg);
            br->failed = true;
            continue;
        }
        /* The expectation, in the recordings' form, checked like them:
         * the whole call, then its execute-only row. */
        for (int row = 0; row < 2; row++) {
            if (!(row == 0 ? whole : execute)) continue;
            if (row == 1) snprintf(in.key, sizeof in.key, "%s", execute_key);
            in.execute_only = row == 1;
            json_t *want = json_pack("{s:s, s:s+, s:I}", "status", "success", "output", "0x",
                                     call_benchmarks[i].output, "gas_used", (json_int_t)call_benchmarks[i].gas);
            json_t *expected = json_pack("{s:o}", in.key, want);
            run_input(br, &in, expected);
            json_decref(expected);
        }
        memstate_free(in.m);
    }
}

/* -------------------------------------------------- per-program costs */

/* Timed repetitions of one per-program operation: at least this many, and
 * at least PROGRAM_MIN_NS of them in all. */
#define PROGRAM_MIN_RUNS 5
#define PROGRAM_MIN_NS 20000000ull

typedef struct {
    uint64_t *times;
    size_t runs, cap;
    uint64_t spent;
} timing;

static bool timing_more(const timing *t) { return t->runs < PROGRAM_MIN_RUNS || t->spent < PROGRAM_MIN_NS; }

static void timing_add(timing *t, uint64_t ns)
{
    if (t->runs == t->cap) t->times = xrealloc(t->times, (t->cap = t->cap ? 2 * t->cap : 64) * sizeof(uint64_t));
    t->times[t->runs++] = ns;
    t->spent += ns;
}

static double timing_median(timing *t)
{
    double m = t->runs ? median_of(t->times, t->runs) : 0;
    free(t->times);
    memset(t, 0, sizeof *t);
    return m;
}

/* Compilation as a frame waiting for it pays: jit_compile and the mapping
 * of its code. NULL (and no time) when the compiler declines the code. */
static jit_program *compile_timed(const code_info *ci, enum fork f, uint64_t *ns)
{
    jit_image img;
    uint64_t t0 = sample_clock_ns();
    if (!jit_compile(ci, f, &img)) return NULL;
    jit_program *p = jit_mcode_map(&img);
    *ns = sample_clock_ns() - t0;
    jit_image_free(&img);
    return p;
}

/* What a code-cache miss costs in the service: the code read from SQLite
 * and analysed (interp), and for the compiled tier also its program read
 * (the tag checked) and mapped. NULL *program when not asked or absent. */
static code_info *load_timed(state_backend *db, const jit_store *programs, const hash32 *hash, enum fork f,
                             jit_program **program, uint64_t *ns)
{
    uint64_t t0 = sample_clock_ns();
    const uint8_t *code;
    size_t len;
    if (!db->get_code(db->ctx, hash, &code, &len)) return NULL;
    code_info *ci = code_info_new(code, len, hash);
    if (program) {
        bool found;
        *program = jit_program_load(programs, ci, f, &found); /* as jit_tier.c loads */
    }
    *ns = sample_clock_ns() - t0;
    return ci;
}

/* A scratch database holding the contracts' code and compiled programs. */
typedef struct {
    char dir[PATH_MAX], path[PATH_MAX + 16];
    store *db;
    store_conn *conn;
    program_store programs;
    bool programs_open;
} scratch_db;

static bool scratch_open(scratch_db *sd, bench_runner *br, char *err, size_t errlen)
{
    memset(sd, 0, sizeof *sd);
    const char *tmp = getenv("TMPDIR");
    snprintf(sd->dir, sizeof sd->dir, "%s/jitevm-bench.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(sd->dir)) {
        snprintf(err, errlen, "a temporary folder (mkdtemp): %s", strerror(errno));
        return false;
    }
    snprintf(sd->path, sizeof sd->path, "%s/bench.db", sd->dir);
    store_error se;
    sd->db = store_open(sd->path, STORE_OPEN_CREATE, &se);
    if (sd->db) sd->conn = store_connect(sd->db, &se);
    if (!sd->conn) {
        snprintf(err, errlen, "%s", se.msg);
        return false;
    }
    for (size_t i = 0; i < br->n_contracts; i++) {
        address a = {.b = {[0] = 0xbe, [18] = (uint8_t)(i >> 8), [19] = (uint8_t)i}};
        if (!store_set_code(sd->conn, &a, br->contracts[i].code.data, br->contracts[i].code.len, &se)) {
            snprintf(err, errlen, "%s", se.msg);
            return false;
        }
    }
    /* No key given: the store makes its key file beside the database, as
     * the service does on first use (removed with it by scratch_close). */
    sd->programs_open = program_store_open(&sd->programs, sd->db, sd->path, NULL, err, errlen);
    return sd->programs_open;
}

static void scratch_close(scratch_db *sd)
{
    if (sd->programs_open) program_store_close(&sd->programs);
    if (sd->conn) store_disconnect(sd->conn);
    if (sd->db) store_close(sd->db);
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal", PROGRAM_KEY_SUFFIX};
    for (size_t i = 0; sd->dir[0] && i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char f[PATH_MAX + 32];
        snprintf(f, sizeof f, "%s%s", sd->path, suffixes[i]);
        unlink(f);
    }
    if (sd->dir[0]) rmdir(sd->dir);
}

/* Per contract of the benchmark files: its compile time, and the time to
 * load it from SQLite for either tier. */
static void print_program_costs(bench_runner *br)
{
    FILE *out = br->opts->out;
    enum fork f = (enum fork)br->opts->fork;
    scratch_db sd;
    char err[512] = "";
    if (!scratch_open(&sd, br, err, sizeof err)) {
        fprintf(out, "error: per-program costs: scratch database: %s\n", err);
        br->failed = true;
        scratch_close(&sd);
        return;
    }
    const jit_store *programs = program_store_hooks(&sd.programs);
    state_backend db = store_backend(sd.conn);
    fprintf(out, "\nper program, medians: compile = jit_compile and mapping; load = a code-cache miss: the code read\n"
                 "from SQLite and analysed, for the compiled tier also its program read, tag-checked and mapped (into\n"
                 "a freed program's mapping; new map: into a new one)\n");
    fprintf(out, "%-44s %9s %10s %10s %12s %14s %10s\n", "program", "size", "compile", "per 10 KB", "load interp",
            "load compiled", "(new map)");
    double compile_ns_sum = 0, load_interp_max = 0, load_compiled_max = 0, load_new_max = 0;
    size_t compiled_bytes = 0, n_compiled = 0;
    for (size_t i = 0; i < br->n_contracts; i++) {
        const bench_contract *c = &br->contracts[i];
        code_info *ci = code_info_new(c->code.data, c->code.len, &c->hash);
        timing t = {0};
        jit_program *p = NULL;
        do {
            uint64_t ns = 0;
            p = compile_timed(ci, f, &ns);
            if (!p) break;
            timing_add(&t, ns);
            jit_mcode_free(p);
        } while (timing_more(&t));
        double compile_ns = timing_median(&t);
        bool compiled = compile_ns > 0;
        if (compiled) { /* into the store, as the background compiler saves it */
            jit_image img;
            if (jit_compile(ci, f, &img)) {
                size_t blob_len;
                uint8_t *blob = jit_blob_from_image(&img, f, &blob_len);
                programs->save(programs->ctx, &c->hash, JIT_VERSION, jit_target(f), blob, blob_len);
                free(blob);
                jit_image_free(&img);
            }
        }
        code_info_free(ci);

        /* load_ns: interp, compiled (into a freed program's mapping, as a
         * service reloading programs its code cache let go mostly does), and
         * compiled into a new mapping (the pool emptied first, untimed: a
         * process's first loads). */
        double load_ns[3] = {0, 0, 0};
        bool load_ok = true;
        store_error se;
        if (!store_read_begin(sd.conn, &se)) load_ok = false;
        for (int kind = 0; load_ok && kind < (compiled ? 3 : 1); kind++) {
            do {
                uint64_t ns = 0;
                jit_program *loaded = NULL;
                if (kind == 2) jit_mcode_pool_drain();
                code_info *lci = load_timed(&db, programs, &c->hash, f, kind ? &loaded : NULL, &ns);
                if (!lci || (kind && !loaded)) load_ok = false;
                code_info_free(lci);
                jit_mcode_free(loaded);
                timing_add(&t, ns);
            } while (load_ok && timing_more(&t));
            load_ns[kind] = timing_median(&t);
        }
        store_read_end(sd.conn);
        if (!load_ok) {
            fprintf(out, "error: %s: could not be loaded back from the scratch database\n", c->name);
            br->failed = true;
            continue;
        }
        char tc[32] = "declined", tpk[32] = "-", tli[32], tlc[32] = "-", tln[32] = "-";
        if (compiled) {
            format_duration(compile_ns, tc, sizeof tc);
            format_duration(compile_ns * 10240 / (double)c->code.len, tpk, sizeof tpk);
            format_duration(load_ns[1], tlc, sizeof tlc);
            format_duration(load_ns[2], tln, sizeof tln);
            if (load_ns[2] > load_new_max) load_new_max = load_ns[2];
            compile_ns_sum += compile_ns;
            compiled_bytes += c->code.len;
            n_compiled++;
            if (load_ns[1] > load_compiled_max) load_compiled_max = load_ns[1];
        }
        format_duration(load_ns[0], tli, sizeof tli);
        if (load_ns[0] > load_interp_max) load_interp_max = load_ns[0];
        fprintf(out, "%-44s %6.1f KB %10s %10s %12s %14s %10s\n", c->name, (double)c->code.len / 1024, tc, tpk, tli, tlc,
                tln);
        fflush(out);
    }
    if (n_compiled) {
        char per[32], li[32], lc[32], ln[32];
        format_duration(compile_ns_sum * 10240 / (double)compiled_bytes, per, sizeof per);
        format_duration(load_interp_max, li, sizeof li);
        format_duration(load_compiled_max, lc, sizeof lc);
        format_duration(load_new_max, ln, sizeof ln);
        fprintf(out,
                "compile: %.1f KB in %zu programs, %s per 10 KB; load, slowest: %s interp, %s compiled (%s into a new "
                "mapping)\n",
                (double)compiled_bytes / 1024, n_compiled, per, li, lc, ln);
    }
    scratch_close(&sd);
}

/* -------------------------------------------------------------- the run */

int bench_run(char *const *paths, size_t n_paths, const bench_options *opts)
{
    bench_runner br = {.opts = opts};
    sample_cpu_time = opts->cpu_time;
    file_list files;
    hj_error err;
    if (!collect_json_files(paths, n_paths, EXPECTED_FILE, &files, &err)) {
        fprintf(stderr, "jitevm bench: %s\n", err.msg);
        file_list_free(&files);
        return 2;
    }
    fprintf(opts->out, "engine %s, fork %s, at least %d runs and %.2f s per input%s%s\n", engine_name((enum engine)opts->engine),
            fork_name((enum fork)opts->fork), BENCH_MIN_RUNS, opts->min_time, opts->cpu_time ? ", CPU time" : "",
            opts->warm ? ", warm (one state, executions back to back)" : "");
    if (opts->compare)
        fprintf(opts->out, "%-44s %12s %10s %10s %10s\n", "benchmark", "gas used", "interp", "compiled", "speedup");
    else
        fprintf(opts->out, "%-44s %12s %10s %10s   %-18s %8s\n", "benchmark", "gas used", "median", "Mgas/s",
                "spread p10..p90", "runs");
    for (size_t i = 0; i < files.count; i++) run_file(&br, files.paths[i]);
    run_calls(&br);
    if (br.n_speedups)
        fprintf(opts->out, "compiled vs interpreter, geometric mean over the %zu compiled inputs: %.2fx (medians, same run)\n",
                br.n_speedups, exp(br.sum_log_speedup / (double)br.n_speedups));
    double engine_mgas = br.n_rates ? exp(br.sum_log_mgas / (double)br.n_rates) : 0;
    if (!opts->compare && bench_precompiles(opts, engine_mgas) != 0) br.failed = true; /* once per make bench */
    /* Compile and load times: with --compare (both tiers), over the whole set. */
    if (opts->compare && !opts->filter && jit_supported()) print_program_costs(&br);
    for (size_t i = 0; i < br.n_contracts; i++) bytebuf_free(&br.contracts[i].code);
    free(br.contracts);
    for (size_t i = 0; i < br.n_expected; i++) {
        json_decref(br.expected[i]);
        free(br.expected_dirs[i]);
    }
    free(br.expected);
    free(br.expected_dirs);
    file_list_free(&files);
    return br.failed ? 1 : 0;
}
