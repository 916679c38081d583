/* `jitevm serve` configuration: defaults, then environment variables
 * (JITEVM_*), then command-line flags, each overriding the one before. */
#ifndef JITEVM_CONFIG_H
#define JITEVM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "jit/jit.h"
#include "log.h"
#include "base/u256.h"

#define RPC_TOKEN_MAX 256
#define RPC_TOKEN_MIN 32 /* 128 bits as hex digits */
#define PROGRAM_KEY_HEX_LEN 64
#define REQUEST_GAS_FROM_CAP UINT64_MAX /* request_gas not given: 10 x gas_cap */

typedef struct {
    const char *db_path;
    char listen[300];          /* as given: HOST:PORT, [V6]:PORT */
    char listen_host[256];
    uint16_t listen_port;
    int http_threads;          /* libmicrohttpd's polling threads, and as many for the fast HTTP path */
    bool no_fast_http;         /* every request through libmicrohttpd */
    int workers;               /* EVM worker threads */
    bool workers_given;        /* --workers or JITEVM_WORKERS set (else a live database gets more) */
    int queue_size;            /* requests waiting for a worker, at most */
    int max_connections;
    size_t max_body;           /* bytes */
    size_t max_batch;          /* requests per batch */
    uint64_t gas_cap;          /* 0: no cap */
    uint64_t call_timeout_ms;  /* 0: none */
    uint64_t inline_budget_ms; /* how long a call may run on an HTTP thread before it moves to a worker; 0: never */
    uint64_t shutdown_timeout_ms;
    uint64_t idle_timeout_s;   /* keep-alive connections idle this long are closed */
    char cors_origin[256];     /* "" : no CORS headers */
    bool admin;
    char admin_token[RPC_TOKEN_MAX + 1];
    bool admin_token_generated;
    enum log_level log_level;
    u256 priority_fee;         /* the tip eth_maxPriorityFeePerGas suggests */
    enum engine engine;        /* how calls execute (jit.h) */
    size_t code_cache_bytes;   /* the code cache's budget (analysed + compiled code) */
    char program_key[PROGRAM_KEY_HEX_LEN + 1]; /* "" : the key file beside the database */
    /* Hostile-load limits (README "Limits and security"). */
    int max_connections_per_ip;  /* open connections from one address, at most */
    uint64_t head_timeout_ms;    /* a request's head must arrive within this */
    uint64_t body_timeout_ms;    /* a body gets this long, plus its length at min_body_rate */
    size_t min_body_rate;        /* bytes per second a body must at least arrive at */
    bool read_only;              /* the database opened read-only: admin writes refused, no program store */
    size_t max_buffered;         /* request body bytes held in memory, all connections together */
    uint64_t request_timeout_ms; /* a whole request (queue time and every call of a batch); 0: none */
    /* Live mode (README "Serve a live chain"). */
    bool follow;                 /* track the upstream's head */
    uint64_t follow_interval_ms; /* its poll interval */
    char follow_tag[16];         /* "latest" or "finalized" */
    uint64_t drift_every;        /* blocks between drift checks; 0: none */
    uint64_t health_max_lag;     /* /health is 503 past this lag in blocks; 0: never */
    bool no_forward;             /* history methods are not forwarded to the upstream */
    size_t max_call_memory;      /* EVM memory of one call, all its frames (bytes; 0: none) */
    size_t max_exec_memory;      /* EVM memory of all running calls together (bytes; 0: none) */
    uint64_t request_gas;        /* gas all the runs of one request may spend together (a batch shares it); 0: none */
} rpc_config;

/* Fills `cfg` from defaults, the environment and argv (getopt style, argv[0]
 * is the command name). On error writes a one-line reason into `err` and
 * returns false. *help is set when --help was given. */
bool rpc_config_load(rpc_config *cfg, int argc, char **argv, bool *help, char *err, size_t err_len);
/* The option list with each flag's variable and default. */
void rpc_config_usage(FILE *out);
/* Generates a random admin token (64 hex digits) when none is configured. */
void rpc_config_ensure_token(rpc_config *cfg);

/* Parsers shared with the tests. Durations: "5s", "250ms", "1.5s", "2m",
 * a bare number is seconds. Sizes: bytes, or with k/K, m/M, g/G (binary). */
bool parse_duration_ms(const char *s, uint64_t *ms);
bool parse_size(const char *s, size_t *out);
bool parse_listen(const char *s, char *host, size_t host_len, uint16_t *port);
/* A decimal integer in [min, max], nothing else (the command line's counts
 * share it). */
bool parse_long(const char *s, long min, long max, long *out);
/* Go's time.Duration formatting of a millisecond count ("5s", "500ms",
 * "1m30s"), as geth prints its timeouts. */
void format_go_duration(uint64_t ms, char *out, size_t len);

#endif
