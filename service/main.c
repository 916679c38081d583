/* The jitevm command: a table of subcommands, each parsing its own options.
 * Usage errors exit with status 2. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/bench.h"
#include "cli.h"
#include "cmd_compile.h"
#include "cmd_store.h"
#include "config.h"
#include "cpus.h"
#include "base/fork.h"
#include "jit/jit.h"
#include "rpc/rpc_server.h"
#include "tools/statetest.h"

#ifndef JITEVM_VERSION
#define JITEVM_VERSION "0.1.0"
#endif

#define DEFAULT_PENDING_FILE "tests/pending-precompiles.txt"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
    const char *usage; /* options and arguments, after "jitevm NAME" */
} command;

static const command *find_command(const char *name);

/* ------------------------------------------------------------- helpers */

static void print_command_usage(FILE *out, const command *c)
{
    fprintf(out, "Usage: jitevm %s %s\n", c->name, c->usage);
}

static bool parse_seconds(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0) || v > 3600) return false;
    *out = v;
    return true;
}

static int parse_fork(const char *cmd, const char *name, int *out)
{
    *out = fork_from_name(name);
    if (*out >= 0) return 0;
    fprintf(stderr, "jitevm %s: unknown fork '%s'; known forks:", cmd, name);
    for (int f = 0; f < FORK_COUNT; f++) fprintf(stderr, " %s", fork_name((enum fork)f));
    fprintf(stderr, "\n");
    return EXIT_USAGE;
}

static int parse_engine(const char *cmd, const char *name, int *out)
{
    enum engine e;
    if (!engine_parse(name, &e)) return cli_usage_error(cmd, "unknown engine '%s' (known: %s)", name, ENGINE_NAMES);
    *out = (int)e;
    return 0;
}

/* What the compiler tier did, on stderr (stdout keeps its format), after a
 * run on an engine that compiles. */
static void print_engine_stats(const char *cmd, int engine)
{
    if (engine == ENGINE_INTERP) return;
    if (!jit_supported()) {
        fprintf(stderr, "jitevm %s: engine %s: this machine cannot run compiled code; everything ran interpreted\n",
                cmd, engine_name((enum engine)engine));
        return;
    }
    jit_stats s = jit_get_stats();
    fprintf(stderr,
            "engine %s: %llu programs compiled (%llu refused) in %.3f s, %llu bytes of native code; "
            "%llu frames compiled, %llu interpreted, %llu deopts\n",
            engine_name((enum engine)engine), (unsigned long long)s.compiled, (unsigned long long)s.compile_failed,
            (double)s.compile_ns / 1e9, (unsigned long long)s.native_bytes, (unsigned long long)s.frames_compiled,
            (unsigned long long)s.frames_interp, (unsigned long long)s.deopts);
}

/* ----------------------------------------------------------- statetest */

enum {
    OPT_FORK = 256,
    OPT_FILTER,
    OPT_JSON,
    OPT_TRACE,
    OPT_JOBS,
    OPT_PENDING,
    OPT_NO_PENDING,
    OPT_DIFF,
    OPT_ENGINE,
    OPT_MIN_TIME,
    OPT_COMPARE,
    OPT_CPU_TIME,
    OPT_WARM,
    OPT_HELP
};

static int statetest_option(int opt, statetest_options *o, char **argv)
{
    long jobs;
    switch (opt) {
    case OPT_FORK: return parse_fork("statetest", optarg, &o->fork);
    case OPT_FILTER: o->filter = optarg; return 0;
    case OPT_JSON: o->json = true; return 0;
    case OPT_TRACE: o->trace = true; return 0;
    case OPT_DIFF: o->diff = true; return 0;
    case OPT_ENGINE: return parse_engine("statetest", optarg, &o->engine);
    case OPT_PENDING: o->pending_file = optarg; return 0;
    case OPT_NO_PENDING: o->pending_file = NULL; return 0;
    case OPT_JOBS:
        if (!parse_long(optarg, 1, 1024, &jobs))
            return cli_usage_error("statetest", "--jobs: expected 1..1024, got '%s'", optarg);
        o->jobs = (int)jobs;
        return 0;
    default: return cli_option_error("statetest", opt, argv);
    }
}

static int cmd_statetest(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"fork", required_argument, NULL, OPT_FORK},
        {"filter", required_argument, NULL, OPT_FILTER},
        {"json", no_argument, NULL, OPT_JSON},
        {"trace", no_argument, NULL, OPT_TRACE},
        {"jobs", required_argument, NULL, OPT_JOBS},
        {"pending", required_argument, NULL, OPT_PENDING},
        {"no-pending", no_argument, NULL, OPT_NO_PENDING},
        {"diff", no_argument, NULL, OPT_DIFF},
        {"engine", required_argument, NULL, OPT_ENGINE},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    statetest_options o = {.fork = -1, .jobs = cpus_usable(), .engine = ENGINE_INTERP, .out = stdout};
    if (access(DEFAULT_PENDING_FILE, R_OK) == 0) o.pending_file = DEFAULT_PENDING_FILE;
    int opt;
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (opt == OPT_HELP) {
            print_command_usage(stdout, find_command("statetest"));
            return 0;
        }
        int status = statetest_option(opt, &o, argv);
        if (status) return status;
    }
    if (optind >= argc) return cli_usage_error("statetest", "no PATH given");
    int status = statetest_run(argv + optind, (size_t)(argc - optind), &o);
    print_engine_stats("statetest", o.engine);
    return status;
}

/* --------------------------------------------------------------- bench */

static int bench_option(int opt, bench_options *o, char **argv)
{
    switch (opt) {
    case OPT_FORK: return parse_fork("bench", optarg, &o->fork);
    case OPT_FILTER: o->filter = optarg; return 0;
    case OPT_ENGINE: return parse_engine("bench", optarg, &o->engine);
    case OPT_COMPARE: o->compare = true; return 0;
    case OPT_CPU_TIME: o->cpu_time = true; return 0;
    case OPT_WARM: o->warm = true; return 0;
    case OPT_MIN_TIME:
        if (!parse_seconds(optarg, &o->min_time))
            return cli_usage_error("bench", "--min-time: expected seconds (0..3600), got '%s'", optarg);
        return 0;
    default: return cli_option_error("bench", opt, argv);
    }
}

static int cmd_bench(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"engine", required_argument, NULL, OPT_ENGINE}, {"fork", required_argument, NULL, OPT_FORK},
        {"filter", required_argument, NULL, OPT_FILTER}, {"min-time", required_argument, NULL, OPT_MIN_TIME},
        {"compare", no_argument, NULL, OPT_COMPARE},     {"help", no_argument, NULL, OPT_HELP},
        {"cpu-time", no_argument, NULL, OPT_CPU_TIME},   {"warm", no_argument, NULL, OPT_WARM},
        {NULL, 0, NULL, 0},
    };
    bench_options o = {.engine = ENGINE_INTERP, .fork = FORK_ISTANBUL, .min_time = 0.5, .out = stdout};
    int opt;
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (opt == OPT_HELP) {
            print_command_usage(stdout, find_command("bench"));
            return 0;
        }
        int status = bench_option(opt, &o, argv);
        if (status) return status;
    }
    if (optind >= argc) return cli_usage_error("bench", "no PATH given");
    int status = bench_run(argv + optind, (size_t)(argc - optind), &o);
    print_engine_stats("bench", o.engine);
    return status;
}

/* ------------------------------------------------------ version, help */

static int cmd_version(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) return cli_usage_error("version", "takes no arguments");
    printf("jitevm %s\n", JITEVM_VERSION);
    return 0;
}

static void print_help(FILE *out);

static int cmd_help(int argc, char **argv)
{
    if (argc > 2) return cli_usage_error("help", "takes at most one COMMAND");
    if (argc == 1) {
        print_help(stdout);
        return 0;
    }
    const command *c = find_command(argv[1]);
    if (!c) return cli_usage_error("help", "unknown command '%s'", argv[1]);
    print_command_usage(stdout, c);
    return 0;
}

static const command commands[] = {
    {"statetest", cmd_statetest, "run state-test fixtures and compare roots, logs and exceptions",
     "[--fork F] [--filter TEXT] [--json] [--trace] [--diff] [--jobs N]\n"
     "                        [--engine E] [--pending FILE | --no-pending] PATH...\n"
     "  Runs every case of every .json file under each PATH, for every supported fork.\n"
     "  --engine E      interp (default), jit (every frame compiled first) or tiered\n"
     "  --fork F        only this fork (e.g. Cancun, Prague)\n"
     "  --filter TEXT   only cases whose file path or name contains TEXT\n"
     "  --json          one JSON object per case result\n"
     "  --trace         EIP-3155 trace of every step to stderr (one thread)\n"
     "  --diff          after a root mismatch, list the accounts that differ from post.state\n"
     "  --jobs N        worker threads (default: usable CPUs)\n"
     "  --pending FILE  skip files whose path contains a line of FILE\n"
     "                  (default: " DEFAULT_PENDING_FILE " when present)\n"
     "  --no-pending    run every file\n"
     "  Ends with 'N passed, N failed, N skipped'; exit status 1 when any failed."},
    {"bench", cmd_bench, "run the EVM benchmarks and report time and gas per second",
     "[--engine E | --compare] [--fork F] [--filter TEXT] [--min-time SECONDS] [--cpu-time]\n"
     "                        [--warm] PATH...\n"
     "  Checks every input's output against expected_outputs.json, then times it.\n"
     "  --engine E         interp (default), jit (compiled by the checking run, so\n"
     "                     the timed runs are compiled code) or tiered\n"
     "  --compare          each input on the interpreter and compiled (checked to\n"
     "                     agree), timed in turn: one row with both and the speedup\n"
     "  --fork F           the gas rules (default Istanbul, as the recorded gas)\n"
     "  --filter TEXT      only inputs whose group/name/input contains TEXT\n"
     "  --min-time SECONDS timed execution per input, at least (default 0.5)\n"
     "  --cpu-time         time the thread's CPU time, not the wall clock (a loaded\n"
     "                     machine: time preempted is not counted)\n"
     "  --warm             time executions back to back on one state, its changes\n"
     "                     reverted, 8 per sample, as evmone-bench does (default:\n"
     "                     one execution on a fresh state per sample)"},
    {"init", cmd_init, "create a state database for a chain (mainnet, sepolia, holesky, dev, genesis file)",
     CMD_INIT_USAGE},
    {"import", cmd_import, "import accounts from a genesis/alloc file or a state-test fixture", CMD_IMPORT_USAGE},
    {"dump", cmd_dump, "write the state (or one account) as alloc JSON", CMD_DUMP_USAGE},
    {"root", cmd_root, "print the state root of a database", CMD_ROOT_USAGE},
    {"bench-store", cmd_bench_store, "benchmark the state database: import speed and read latency",
     CMD_BENCH_STORE_USAGE},
    {"compile", cmd_compile, "compile every code of a database ahead of time and store the programs",
     CMD_COMPILE_USAGE},
    {"serve", cmd_serve, "answer Ethereum JSON-RPC over HTTP (eth_call, eth_estimateGas, ...)", CMD_SERVE_USAGE},
    {"version", cmd_version, "print the version", ""},
    {"help", cmd_help, "show the commands, or one command's options", "[COMMAND]"},
};

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0) return &commands[i];
    return NULL;
}

static void print_help(FILE *out)
{
    fprintf(out, "Usage: jitevm COMMAND [OPTIONS]\n\nCommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'jitevm help COMMAND' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return EXIT_USAGE;
    }
    const command *c = find_command(argv[1]);
    if (!c) {
        fprintf(stderr, "jitevm: unknown command '%s'\nTry 'jitevm help'.\n", argv[1]);
        return EXIT_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
