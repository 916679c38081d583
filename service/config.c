#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cpus.h"
#include "hexjson.h"

/* One row per setting: the flag, its environment variable, the value's
 * name in the usage text, and what it does. */
enum {
    OPT_DB = 1000, OPT_LISTEN, OPT_THREADS, OPT_WORKERS, OPT_QUEUE, OPT_MAX_CONNECTIONS, OPT_MAX_BODY,
    OPT_MAX_BATCH, OPT_GAS_CAP, OPT_CALL_TIMEOUT, OPT_INLINE_BUDGET, OPT_SHUTDOWN_TIMEOUT, OPT_IDLE_TIMEOUT, OPT_CORS_ORIGIN,
    OPT_ADMIN, OPT_ADMIN_TOKEN, OPT_ADMIN_TOKEN_FILE, OPT_LOG_LEVEL, OPT_PRIORITY_FEE, OPT_ENGINE, OPT_PROGRAM_KEY,
    OPT_CODE_CACHE, OPT_MAX_CONNECTIONS_PER_IP, OPT_HEAD_TIMEOUT, OPT_BODY_TIMEOUT, OPT_MIN_BODY_RATE,
    OPT_REQUEST_TIMEOUT, OPT_MAX_BUFFERED, OPT_READ_ONLY, OPT_REQUEST_GAS, OPT_MAX_CALL_MEMORY, OPT_MAX_EXEC_MEMORY,
    OPT_FOLLOW, OPT_FOLLOW_INTERVAL, OPT_FOLLOW_TAG, OPT_DRIFT_EVERY, OPT_HEALTH_MAX_LAG, OPT_NO_FORWARD, OPT_NO_FAST_HTTP, OPT_HELP,
};

typedef struct {
    int id;
    const char *flag;
    const char *env;
    const char *arg; /* NULL: a switch */
    const char *help;
} option_row;

static const option_row option_rows[] = {
    {OPT_DB, "db", "JITEVM_DB", "FILE", "the database (made by 'jitevm init'); required"},
    {OPT_LISTEN, "listen", "JITEVM_LISTEN", "HOST:PORT", "where to listen (default 127.0.0.1:8545; port 0 picks a free one)"},
    {OPT_THREADS, "threads", "JITEVM_THREADS", "N", "HTTP threads, which also run calls up to the inline budget (default: 2 x usable CPUs, at least 4, at most 64)"},
    {OPT_WORKERS, "workers", "JITEVM_WORKERS", "N", "EVM worker threads (default: usable CPUs; a live database: at least 16)"},
    {OPT_QUEUE, "queue", "JITEVM_QUEUE", "N", "requests waiting for a worker, at most; more get HTTP 503 (default 1024)"},
    {OPT_MAX_CONNECTIONS, "max-connections", "JITEVM_MAX_CONNECTIONS", "N", "open connections, at most (default 1024)"},
    {OPT_MAX_BODY, "max-body", "JITEVM_MAX_BODY", "BYTES", "request body limit, k/M suffixes allowed (default 5M)"},
    {OPT_MAX_BATCH, "max-batch", "JITEVM_MAX_BATCH", "N", "requests per batch, at most (default 1000)"},
    {OPT_GAS_CAP, "gas-cap", "JITEVM_GAS_CAP", "GAS", "gas limit of eth_call/eth_estimateGas, at most; 0 = none (default 50000000)"},
    {OPT_CALL_TIMEOUT, "call-timeout", "JITEVM_CALL_TIMEOUT", "DURATION", "time limit of one call (5s, 250ms; 0 = none; default 5s)"},
    {OPT_INLINE_BUDGET, "inline-budget", "JITEVM_INLINE_BUDGET", "DURATION", "a call first runs on the HTTP thread for this long, then moves to a worker (0 = always a worker; default 1ms)"},
    {OPT_SHUTDOWN_TIMEOUT, "shutdown-timeout", "JITEVM_SHUTDOWN_TIMEOUT", "DURATION", "on SIGTERM/SIGINT, wait this long for requests in flight (default 10s)"},
    {OPT_IDLE_TIMEOUT, "idle-timeout", "JITEVM_IDLE_TIMEOUT", "DURATION", "close keep-alive connections idle this long (default 60s)"},
    {OPT_CORS_ORIGIN, "cors-origin", "JITEVM_CORS_ORIGIN", "ORIGIN", "Access-Control-Allow-Origin value; empty = no CORS headers (default *)"},
    {OPT_ADMIN, "admin", "JITEVM_ADMIN", NULL, "enable the state-writing methods (anvil_*, hardhat_*, jitevm_setBlock)"},
    {OPT_ADMIN_TOKEN, "admin-token", "JITEVM_ADMIN_TOKEN", "TOKEN", "bearer token for them, at least 32 characters (default: generated into DB.admin-token, mode 0600)"},
    {OPT_ADMIN_TOKEN_FILE, "admin-token-file", "JITEVM_ADMIN_TOKEN_FILE", "FILE", "read the bearer token from FILE (first line)"},
    {OPT_LOG_LEVEL, "log-level", "JITEVM_LOG_LEVEL", "LEVEL", "debug, info, warn, error or off (default info)"},
    {OPT_PRIORITY_FEE, "priority-fee", "JITEVM_PRIORITY_FEE", "WEI", "tip suggested by eth_maxPriorityFeePerGas (default 1000000000)"},
    {OPT_ENGINE, "engine", "JITEVM_ENGINE", "ENGINE", "interp, jit or tiered: how calls execute (default tiered: interpreted until compiled)"},
    {OPT_PROGRAM_KEY, "program-key", "JITEVM_PROGRAM_KEY", "HEX", "key of the stored compiled programs' tags, 64 hex digits (default: DB.program-key, made on first use)"},
    {OPT_CODE_CACHE, "code-cache", "JITEVM_CODE_CACHE", "BYTES", "memory for analysed and compiled contracts, k/M/G suffixes allowed (default 256M)"},
    {OPT_MAX_CONNECTIONS_PER_IP, "max-connections-per-ip", "JITEVM_MAX_CONNECTIONS_PER_IP", "N", "open connections from one client address, at most; more are closed at once (default 64)"},
    {OPT_HEAD_TIMEOUT, "head-timeout", "JITEVM_HEAD_TIMEOUT", "DURATION", "a request's line and headers must arrive within this (default 10s)"},
    {OPT_BODY_TIMEOUT, "body-timeout", "JITEVM_BODY_TIMEOUT", "DURATION", "a request body gets this long plus its length at --min-body-rate (default 10s)"},
    {OPT_MIN_BODY_RATE, "min-body-rate", "JITEVM_MIN_BODY_RATE", "BYTES", "bytes per second a body must at least arrive at, k/M suffixes allowed (default 64k)"},
    {OPT_REQUEST_TIMEOUT, "request-timeout", "JITEVM_REQUEST_TIMEOUT", "DURATION", "time limit of a whole request, queue time and every call of a batch (0 = none; default 30s)"},
    {OPT_MAX_BUFFERED, "max-buffered", "JITEVM_MAX_BUFFERED", "BYTES", "request body bytes held in memory by all connections together; more get HTTP 503 (default 256M)"},
    {OPT_REQUEST_GAS, "request-gas", "JITEVM_REQUEST_GAS", "GAS", "gas all the calls of one request may spend together, a batch's calls and eth_estimateGas's runs included; 0 = none (default 10 x --gas-cap, 500000000)"},
    {OPT_MAX_CALL_MEMORY, "max-call-memory", "JITEVM_MAX_CALL_MEMORY", "BYTES", "EVM memory one call may allocate, all its frames together, whatever its gas; 0 = none (default 64M)"},
    {OPT_MAX_EXEC_MEMORY, "max-exec-memory", "JITEVM_MAX_EXEC_MEMORY", "BYTES", "EVM memory all running calls may hold together; 0 = none (default 1G)"},
    {OPT_NO_FAST_HTTP, "no-fast-http", "JITEVM_NO_FAST_HTTP", NULL, "serve every request through libmicrohttpd (default: plain JSON-RPC POSTs take a leaner path of their own)"},
    {OPT_READ_ONLY, "read-only", "JITEVM_READ_ONLY", NULL, "open the database read-only: admin writes refused, compiled programs not stored (chosen by itself when the database cannot be written)"},
    /* Live mode (a database made by init --fork-url). */
    {OPT_FOLLOW, "follow", "JITEVM_FOLLOW", NULL, "live mode: follow the upstream's head (needs debug_traceBlockByNumber there)"},
    {OPT_FOLLOW_INTERVAL, "follow-interval", "JITEVM_FOLLOW_INTERVAL", "DURATION", "how often --follow polls the upstream (default 1s)"},
    {OPT_FOLLOW_TAG, "follow-tag", "JITEVM_FOLLOW_TAG", "TAG", "the head --follow tracks: latest or finalized (default latest)"},
    {OPT_DRIFT_EVERY, "drift-check", "JITEVM_DRIFT_CHECK", "N", "with --follow, compare a sample of the cache with the upstream every N blocks; 0 = never (default 32)"},
    {OPT_HEALTH_MAX_LAG, "health-max-lag", "JITEVM_HEALTH_MAX_LAG", "N", "with --follow, /health answers 503 when the head lags the upstream by more than N blocks; 0 = never (default 5)"},
    {OPT_NO_FORWARD, "no-forward", "JITEVM_NO_FORWARD", NULL, "live mode: do not forward history methods (old blocks, transactions, receipts, logs, sendRawTransaction, filters) to the upstream"},
};
#define N_OPTIONS (sizeof option_rows / sizeof option_rows[0])

void rpc_config_usage(FILE *out)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const option_row *r = &option_rows[i];
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", r->flag, r->arg ? " " : "", r->arg ? r->arg : "");
        fprintf(out, "  %-29s %s\n  %-29s   env %s\n", left, r->help, "", r->env);
    }
}

static bool fail(char *err, size_t err_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return false;
}

bool parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) return false;
    *out = v;
    return true;
}

static bool parse_u64_dec(const char *s, uint64_t *out)
{
    if (!isdigit((unsigned char)s[0])) return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

bool parse_duration_ms(const char *s, uint64_t *ms)
{
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)s[0]) && s[0] != '.') return false;
    double v = strtod(s, &end);
    if (errno || end == s || !(v >= 0)) return false;
    double scale;
    if (*end == '\0' || strcmp(end, "s") == 0) scale = 1000;
    else if (strcmp(end, "ms") == 0) scale = 1;
    else if (strcmp(end, "m") == 0) scale = 60000;
    else if (strcmp(end, "h") == 0) scale = 3600000;
    else return false;
    double r = v * scale;
    if (r > 1e15) return false;
    *ms = (uint64_t)llround(r);
    return true;
}

bool parse_size(const char *s, size_t *out)
{
    if (!isdigit((unsigned char)s[0])) return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno) return false;
    unsigned shift = 0;
    if (*end == 'k' || *end == 'K') shift = 10, end++;
    else if (*end == 'm' || *end == 'M') shift = 20, end++;
    else if (*end == 'g' || *end == 'G') shift = 30, end++;
    if (*end == 'i' && shift) end++;       /* "KiB", "MiB" */
    if (*end == 'B' && shift) end++;
    if (*end) return false;
    if (v > (SIZE_MAX >> shift)) return false;
    *out = (size_t)(v << shift);
    return true;
}

bool parse_listen(const char *s, char *host, size_t host_len, uint16_t *port)
{
    const char *colon;
    const char *h = s;
    size_t hl;
    if (s[0] == '[') { /* [v6]:port */
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':') return false;
        h = s + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon) return false;
        hl = (size_t)(colon - s);
    }
    if (hl == 0 || hl >= host_len) return false;
    long p;
    if (!parse_long(colon + 1, 0, 65535, &p)) return false;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (uint16_t)p;
    return true;
}

void format_go_duration(uint64_t ms, char *out, size_t len)
{
    if (ms == 0) {
        snprintf(out, len, "0s");
        return;
    }
    if (ms < 1000) {
        snprintf(out, len, "%" PRIu64 "ms", ms);
        return;
    }
    uint64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, frac = ms % 1000;
    char sec[32];
    if (frac) {
        char digits[4];
        snprintf(digits, sizeof digits, "%03" PRIu64, frac);
        for (int i = 2; i > 0 && digits[i] == '0'; i--) digits[i] = '\0';
        snprintf(sec, sizeof sec, "%" PRIu64 ".%ss", s, digits);
    } else {
        snprintf(sec, sizeof sec, "%" PRIu64 "s", s);
    }
    if (h) snprintf(out, len, "%" PRIu64 "h%" PRIu64 "m%s", h, m, sec);
    else if (m) snprintf(out, len, "%" PRIu64 "m%s", m, sec);
    else snprintf(out, len, "%s", sec);
}

static bool parse_bool_env(const char *s, bool *out)
{
    if (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on")) *out = true;
    else if (!strcmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off") || !*s)
        *out = false;
    else return false;
    return true;
}

static bool read_token_file(const char *path, char *token, char *err, size_t err_len)
{
    FILE *f = fopen(path, "r");
    if (!f) return fail(err, err_len, "--admin-token-file: cannot open '%s': %s", path, strerror(errno));
    char line[RPC_TOKEN_MAX + 2];
    bool ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (!ok) return fail(err, err_len, "--admin-token-file: '%s' is empty", path);
    line[strcspn(line, "\r\n")] = '\0';
    if (!*line) return fail(err, err_len, "--admin-token-file: '%s' has an empty first line", path);
    if (strlen(line) > RPC_TOKEN_MAX) return fail(err, err_len, "--admin-token-file: token longer than %d characters", RPC_TOKEN_MAX);
    if (strlen(line) < RPC_TOKEN_MIN)
        return fail(err, err_len, "--admin-token-file: token shorter than %d characters (at least 128 bits: e.g. 32 hex digits)",
                    RPC_TOKEN_MIN);
    strcpy(token, line);
    return true;
}

/* Applies one setting, from a flag (`source` "--x") or a variable. */
static bool apply(rpc_config *cfg, const option_row *r, const char *v, const char *source, char *err, size_t err_len)
{
    long n;
    uint64_t u;
    switch (r->id) {
    case OPT_DB:
        if (!*v) return fail(err, err_len, "%s: empty path", source);
        cfg->db_path = v;
        return true;
    case OPT_LISTEN:
        if (strlen(v) >= sizeof cfg->listen ||
            !parse_listen(v, cfg->listen_host, sizeof cfg->listen_host, &cfg->listen_port))
            return fail(err, err_len, "%s: expected HOST:PORT (e.g. 127.0.0.1:8545, [::1]:8545), got '%s'", source, v);
        strcpy(cfg->listen, v);
        return true;
    case OPT_THREADS:
        if (!parse_long(v, 1, 256, &n)) return fail(err, err_len, "%s: expected 1..256, got '%s'", source, v);
        cfg->http_threads = (int)n;
        return true;
    case OPT_WORKERS:
        if (!parse_long(v, 1, 1024, &n)) return fail(err, err_len, "%s: expected 1..1024, got '%s'", source, v);
        cfg->workers = (int)n;
        cfg->workers_given = true;
        return true;
    case OPT_QUEUE:
        if (!parse_long(v, 1, 1 << 20, &n)) return fail(err, err_len, "%s: expected 1..1048576, got '%s'", source, v);
        cfg->queue_size = (int)n;
        return true;
    case OPT_MAX_CONNECTIONS:
        if (!parse_long(v, 1, 1 << 20, &n)) return fail(err, err_len, "%s: expected 1..1048576, got '%s'", source, v);
        cfg->max_connections = (int)n;
        return true;
    case OPT_MAX_BODY:
        if (!parse_size(v, &cfg->max_body) || cfg->max_body < 64 || cfg->max_body > ((size_t)1 << 30))
            return fail(err, err_len, "%s: expected a size from 64 bytes to 1G (e.g. 5M), got '%s'", source, v);
        return true;
    case OPT_CODE_CACHE:
        if (!parse_size(v, &cfg->code_cache_bytes) || cfg->code_cache_bytes < (1u << 20) ||
            cfg->code_cache_bytes > ((size_t)64 << 30))
            return fail(err, err_len, "%s: expected a size from 1M to 64G (e.g. 256M), got '%s'", source, v);
        return true;
    case OPT_MAX_BATCH:
        if (!parse_long(v, 1, 1000000, &n)) return fail(err, err_len, "%s: expected 1..1000000, got '%s'", source, v);
        cfg->max_batch = (size_t)n;
        return true;
    case OPT_GAS_CAP:
        if (!parse_u64_dec(v, &u)) return fail(err, err_len, "%s: expected a gas amount, got '%s'", source, v);
        cfg->gas_cap = u;
        return true;
    case OPT_CALL_TIMEOUT:
        if (!parse_duration_ms(v, &cfg->call_timeout_ms)) return fail(err, err_len, "%s: expected a duration (5s, 250ms), got '%s'", source, v);
        return true;
    case OPT_INLINE_BUDGET:
        if (!parse_duration_ms(v, &cfg->inline_budget_ms)) return fail(err, err_len, "%s: expected a duration (1ms, 0), got '%s'", source, v);
        return true;
    case OPT_SHUTDOWN_TIMEOUT:
        if (!parse_duration_ms(v, &cfg->shutdown_timeout_ms)) return fail(err, err_len, "%s: expected a duration (10s), got '%s'", source, v);
        return true;
    case OPT_IDLE_TIMEOUT:
        if (!parse_duration_ms(v, &u) || u < 1000) return fail(err, err_len, "%s: expected a duration of at least 1s, got '%s'", source, v);
        cfg->idle_timeout_s = u / 1000;
        return true;
    case OPT_CORS_ORIGIN:
        if (strlen(v) >= sizeof cfg->cors_origin || strpbrk(v, "\r\n")) return fail(err, err_len, "%s: invalid origin", source);
        strcpy(cfg->cors_origin, v);
        return true;
    case OPT_ADMIN:
        if (!v) cfg->admin = true;
        else if (!parse_bool_env(v, &cfg->admin)) return fail(err, err_len, "%s: expected true or false, got '%s'", source, v);
        return true;
    case OPT_ADMIN_TOKEN:
        if (strlen(v) < RPC_TOKEN_MIN || strlen(v) > RPC_TOKEN_MAX)
            return fail(err, err_len, "%s: expected %d..%d characters (at least 128 bits: e.g. 32 hex digits)", source,
                        RPC_TOKEN_MIN, RPC_TOKEN_MAX);
        strcpy(cfg->admin_token, v);
        return true;
    case OPT_ADMIN_TOKEN_FILE: return read_token_file(v, cfg->admin_token, err, err_len);
    case OPT_LOG_LEVEL: {
        int level = log_level_from_name(v);
        if (level < 0) return fail(err, err_len, "%s: expected debug, info, warn, error or off, got '%s'", source, v);
        cfg->log_level = (enum log_level)level;
        return true;
    }
    case OPT_PRIORITY_FEE: {
        /* Decimal wei, or a hex quantity. */
        if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
            if (!hex_to_u256(v, &cfg->priority_fee)) return fail(err, err_len, "%s: bad hex quantity '%s'", source, v);
        } else {
            if (!parse_u64_dec(v, &u)) return fail(err, err_len, "%s: expected wei, got '%s'", source, v);
            cfg->priority_fee = u256_from_u64(u);
        }
        return true;
    }
    case OPT_ENGINE:
        if (!engine_parse(v, &cfg->engine)) return fail(err, err_len, "%s: expected one of %s, got '%s'", source, ENGINE_NAMES, v);
        return true;
    case OPT_PROGRAM_KEY: {
        size_t len = strlen(v);
        bool hex = len == PROGRAM_KEY_HEX_LEN;
        for (size_t i = 0; hex && i < len; i++) hex = isxdigit((unsigned char)v[i]);
        /* The value itself is not echoed: it is a secret. */
        if (len != PROGRAM_KEY_HEX_LEN)
            return fail(err, err_len, "%s: expected %d hex digits (32 bytes), got %zu characters", source, PROGRAM_KEY_HEX_LEN, len);
        if (!hex) return fail(err, err_len, "%s: expected %d hex digits (32 bytes), got other characters", source, PROGRAM_KEY_HEX_LEN);
        strcpy(cfg->program_key, v);
        return true;
    }
    case OPT_MAX_CONNECTIONS_PER_IP:
        if (!parse_long(v, 1, 1 << 20, &n)) return fail(err, err_len, "%s: expected 1..1048576, got '%s'", source, v);
        cfg->max_connections_per_ip = (int)n;
        return true;
    case OPT_HEAD_TIMEOUT:
    case OPT_BODY_TIMEOUT:
        if (!parse_duration_ms(v, &u) || u < 100) return fail(err, err_len, "%s: expected a duration of at least 100ms, got '%s'", source, v);
        *(r->id == OPT_HEAD_TIMEOUT ? &cfg->head_timeout_ms : &cfg->body_timeout_ms) = u;
        return true;
    case OPT_MIN_BODY_RATE:
        if (!parse_size(v, &cfg->min_body_rate) || cfg->min_body_rate < 1)
            return fail(err, err_len, "%s: expected a size of at least 1 byte (e.g. 64k), got '%s'", source, v);
        return true;
    case OPT_READ_ONLY:
        if (!v) cfg->read_only = true;
        else if (!parse_bool_env(v, &cfg->read_only)) return fail(err, err_len, "%s: expected true or false, got '%s'", source, v);
        return true;
    case OPT_MAX_BUFFERED:
        if (!parse_size(v, &cfg->max_buffered) || cfg->max_buffered < 64)
            return fail(err, err_len, "%s: expected a size of at least 64 bytes (e.g. 256M), got '%s'", source, v);
        return true;
    case OPT_MAX_CALL_MEMORY:
    case OPT_MAX_EXEC_MEMORY:
        if (!parse_size(v, r->id == OPT_MAX_CALL_MEMORY ? &cfg->max_call_memory : &cfg->max_exec_memory))
            return fail(err, err_len, "%s: expected a size (e.g. 64M; 0 = none), got '%s'", source, v);
        return true;
    case OPT_REQUEST_GAS:
        if (!parse_u64_dec(v, &cfg->request_gas)) return fail(err, err_len, "%s: expected a gas amount (0 = none), got '%s'", source, v);
        return true;
    case OPT_REQUEST_TIMEOUT:
        if (!parse_duration_ms(v, &cfg->request_timeout_ms)) return fail(err, err_len, "%s: expected a duration (30s), got '%s'", source, v);
        return true;
    case OPT_FOLLOW:
    case OPT_NO_FORWARD:
    case OPT_NO_FAST_HTTP: {
        bool *b = r->id == OPT_FOLLOW ? &cfg->follow : r->id == OPT_NO_FORWARD ? &cfg->no_forward : &cfg->no_fast_http;
        if (!v) *b = true;
        else if (!parse_bool_env(v, b)) return fail(err, err_len, "%s: expected true or false, got '%s'", source, v);
        return true;
    }
    case OPT_FOLLOW_INTERVAL:
        if (!parse_duration_ms(v, &cfg->follow_interval_ms) || cfg->follow_interval_ms < 10)
            return fail(err, err_len, "%s: expected a duration of at least 10ms (1s, 250ms), got '%s'", source, v);
        return true;
    case OPT_FOLLOW_TAG:
        if (strcmp(v, "latest") != 0 && strcmp(v, "finalized") != 0)
            return fail(err, err_len, "%s: expected latest or finalized, got '%s'", source, v);
        strcpy(cfg->follow_tag, v);
        return true;
    case OPT_DRIFT_EVERY:
    case OPT_HEALTH_MAX_LAG:
        if (!parse_long(v, 0, 1000000000, &n)) return fail(err, err_len, "%s: expected 0..1000000000, got '%s'", source, v);
        *(r->id == OPT_DRIFT_EVERY ? &cfg->drift_every : &cfg->health_max_lag) = (uint64_t)n;
        return true;
    default: return fail(err, err_len, "internal: unknown option");
    }
}

static void set_defaults(rpc_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    strcpy(cfg->listen, "127.0.0.1:8545");
    strcpy(cfg->listen_host, "127.0.0.1");
    cfg->listen_port = 8545;
    /* The CPUs this process may use (affinity, a container's CPU limit),
     * not the machine's: a pod limited to 2 CPUs of a 32-CPU node sized
     * its pools for 32. */
    int cpus = cpus_usable();
    /* More polling threads than CPUs: a call running on one (for up to the
     * inline budget) then holds up few connections. Not many more: a
     * thread whose connections are all answered sleeps in epoll_wait and
     * is woken by the next request, and on loopback under wrk (32
     * connections, 2 CPUs) 8 threads made 0.55 such switches per request
     * where 4 made 0.23, and spent 10-20% more server CPU per request.
     * Fewer is not better: 2 threads answered eth_chainId 5-14% faster
     * than 4, but bench-rpc's 1,000-iteration loop 20% slower.
     * Each may open a SQLite connection, hence the ceiling. */
    cfg->http_threads = cpus > 2 ? 2 * cpus : 4;
    if (cfg->http_threads > 64) cfg->http_threads = 64;
    cfg->workers = cpus;
    cfg->queue_size = 1024;
    cfg->max_connections = 1024;
    cfg->max_body = 5u << 20;
    cfg->code_cache_bytes = (size_t)256 << 20;
    cfg->max_batch = 1000;
    cfg->gas_cap = 50000000;
    cfg->call_timeout_ms = 5000;
    cfg->inline_budget_ms = 1;
    cfg->shutdown_timeout_ms = 10000;
    cfg->idle_timeout_s = 60;
    strcpy(cfg->cors_origin, "*");
    cfg->log_level = JLOG_INFO;
    cfg->priority_fee = u256_from_u64(1000000000);
    cfg->engine = ENGINE_TIERED;
    cfg->max_connections_per_ip = 64;
    cfg->head_timeout_ms = 10000;
    cfg->body_timeout_ms = 10000;
    cfg->min_body_rate = 64u << 10;
    cfg->request_timeout_ms = 30000;
    cfg->request_gas = REQUEST_GAS_FROM_CAP;
    cfg->max_call_memory = (size_t)64 << 20;
    cfg->max_exec_memory = (size_t)1 << 30;
    cfg->max_buffered = (size_t)256 << 20;
    cfg->follow_interval_ms = 1000;
    strcpy(cfg->follow_tag, "latest");
    cfg->drift_every = 32;
    cfg->health_max_lag = 5;
}

bool rpc_config_load(rpc_config *cfg, int argc, char **argv, bool *help, char *err, size_t err_len)
{
    set_defaults(cfg);
    *help = false;
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const char *v = getenv(option_rows[i].env);
        if (v && !apply(cfg, &option_rows[i], v, option_rows[i].env, err, err_len)) return false;
    }
    struct option longopts[N_OPTIONS + 2];
    for (size_t i = 0; i < N_OPTIONS; i++)
        longopts[i] = (struct option){option_rows[i].flag, option_rows[i].arg ? required_argument : no_argument,
                                      NULL, option_rows[i].id};
    longopts[N_OPTIONS] = (struct option){"help", no_argument, NULL, OPT_HELP};
    longopts[N_OPTIONS + 1] = (struct option){NULL, 0, NULL, 0};
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        if (opt == OPT_HELP) {
            *help = true;
            return true;
        }
        if (opt == ':') return fail(err, err_len, "option '%s' needs a value", argv[optind - 1]);
        if (opt == '?') return fail(err, err_len, "unknown option '%s'", argv[optind - 1]);
        const option_row *r = NULL;
        for (size_t i = 0; i < N_OPTIONS; i++)
            if (option_rows[i].id == opt) r = &option_rows[i];
        char source[64];
        snprintf(source, sizeof source, "--%s", r->flag);
        if (!apply(cfg, r, optarg, source, err, err_len)) return false;
    }
    if (optind < argc) return fail(err, err_len, "unexpected argument '%s'", argv[optind]);
    if (!cfg->db_path) return fail(err, err_len, "no database given (--db FILE or JITEVM_DB)");
    /* Unset, the request's budget is ten calls at the cap (none when the
     * cap is 0: no gas limits at all). */
    if (cfg->request_gas == REQUEST_GAS_FROM_CAP) cfg->request_gas = cfg->gas_cap > UINT64_MAX / 10 ? 0 : cfg->gas_cap * 10;
    return true;
}

void rpc_config_ensure_token(rpc_config *cfg)
{
    if (cfg->admin_token[0]) return;
    uint8_t raw[32];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(cfg->admin_token, sizeof cfg->admin_token, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    cfg->admin_token_generated = true;
}
