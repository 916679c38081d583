/* The JSON-RPC service's shared types: the per-thread context a method runs
 * in, errors, and the method table. The HTTP side is in rpc_server.c, the
 * JSON-RPC 2.0 envelope (batches, ids, notifications) in rpc_dispatch.c, the
 * methods in rpc_methods.c and their EVM execution in rpc_exec.c. */
#ifndef JITEVM_RPC_H
#define JITEVM_RPC_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "store.h"

#ifndef JITEVM_VERSION
#define JITEVM_VERSION "0.1.0"
#endif

/* JSON-RPC error codes, as geth uses them. */
enum {
    RPC_PARSE_ERROR = -32700,
    RPC_INVALID_REQUEST = -32600,
    RPC_METHOD_NOT_FOUND = -32601,
    RPC_INVALID_PARAMS = -32602,
    RPC_INTERNAL_ERROR = -32603,
    RPC_SERVER_ERROR = -32000,      /* execution failures, unavailable state */
    RPC_UNAUTHORIZED = -32001,      /* an admin method without the right bearer token */
    RPC_LIMIT_EXCEEDED = -32005,    /* the worker queue is full */
    RPC_EXECUTION_REVERTED = 3,
};

/* An error answer. message may hold any bytes (a revert reason); it is
 * made valid UTF-8 when rendered. data, when set, is a hex string. */
typedef struct {
    int code; /* 0: no error */
    char *message;
    size_t message_len;
    char *data;
    bool not_head; /* the request named a block other than the head (live mode asks the upstream) */
} rpc_error;

bool rpc_fail(rpc_error *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Takes ownership of `message` (malloc'd, `len` bytes). */
void rpc_fail_owned(rpc_error *e, int code, char *message, size_t len);
void rpc_error_clear(rpc_error *e);
/* A message as a JSON string the way Go encodes it: invalid UTF-8 bytes
 * become U+FFFD (error objects nested in a result, eth_simulateV1's). */
json_t *rpc_message_json(const char *s, size_t n);

/* An eth_call output of up to 256 bytes: "0x", 512 digits, quotes. */
#define RPC_RESULT_TEXT_MAX (2 + 2 * 256 + 2)

typedef struct rpc_ctx rpc_ctx;
struct rpc_ctx {
    const rpc_config *cfg;
    store_conn *conn;         /* NULL on an HTTP thread: only RPC_INLINE methods run there */
    chain_config chain;       /* loaded once at start; the chain does not change while serving */
    bool authorized;          /* the HTTP request carried the admin bearer token */
    bool admin_rejected;      /* ... or carried a wrong one (for the message) */
    atomic_int *abort_flag; /* polled by the interpreter; set by the call timer */
    const _Atomic bool *shutting_down; /* when set: an abort came from the shutdown, not the timer */
    /* Start and stop the per-call timer (cfg->call_timeout_ms); NULL: no timer. */
    void (*arm_timeout)(rpc_ctx *ctx);
    void (*disarm_timeout)(rpc_ctx *ctx);
    void *owner;              /* the worker this context belongs to */
    /* An attempt on an HTTP thread: when the abort flag ends up set its
     * answer is thrown away and the request runs again on a worker, so the
     * aborted request is neither counted nor logged. */
    bool discard_on_abort;
    /* The whole request's limits (rpc_server.c): past request_deadline_ns
     * (monotonic; 0: none) or once *cancelled is set (the client went
     * away) the calls of a batch not yet run are answered without running. */
    uint64_t request_deadline_ns;
    const atomic_bool *cancelled;
    /* The request's gas budget (cfg->request_gas; rpc_dispatch resets it
     * for each request): every run takes at most what is left and spends
     * its gas from it (exec_run.c's run_message). gas_budget_hit: a run
     * was stopped by it (its answer then says so). */
    uint64_t gas_left;
    bool gas_budget_hit;
    /* The head block context, kept between calls: reading it costs several
     * queries. Valid while no admin write happened (rpc_write_generation)
     * and, in a read snapshot, while the store's snapshot epoch is the one
     * it was read at (no commit since, by any connection: writers outside
     * this process too); outside a snapshot for at most RPC_HEAD_CACHE_MS. */
    struct {
        bool valid;
        uint64_t generation;
        uint64_t epoch; /* store_snapshot_epoch when read; 0: read outside a snapshot */
        uint64_t loaded_ms;
        block_env env;
        enum fork fork; /* the chain's fork at env (chain_config_fork_at), found when env is read */
        /* The head's state root (methods_block.c), read in the snapshot
         * the head was: valid with the head, cleared when it is reread. */
        bool has_state_root;
        hash32 state_root;
        /* While block 0 is the head: the genesis header's extraData and
         * nonce (008), read with the same validity. */
        bool has_genesis_extras;
        uint64_t genesis_nonce;
        size_t genesis_extra_len;
        uint8_t genesis_extra[STORE_GENESIS_EXTRA_MAX];
    } head_cache;
    /* A result given as its JSON text (rpc_result_hex_bytes,
     * rpc_result_quantity): the common short answers need no jansson value
     * to build, encode and free. Length 0: none (run_call resets it). */
    size_t result_text_len;
    char result_text[RPC_RESULT_TEXT_MAX];
};

/* Results written as JSON text into ctx->result_text; the value returned
 * stands for them in run_call (json_null(), never freed). Answers larger
 * than the buffer are built as jansson strings as before. */
json_t *rpc_result_hex_bytes(rpc_ctx *ctx, const uint8_t *p, size_t n);
json_t *rpc_result_quantity(rpc_ctx *ctx, const u256 *v);

#define RPC_HEAD_CACHE_MS 100
/* Bumped by every admin write. */
uint64_t rpc_write_generation(void);
void rpc_note_write(void);

/* A store error as the client sees it: -32000, "database error: ..." for
 * the database, the message alone for a live upstream's failure (it names
 * the upstream and why). */
bool rpc_fail_store(rpc_error *err, const store_error *se);

/* Live mode (service/live.c sets them): run around each read call, outside
 * its snapshot. `before` may fetch what the call will read (false: the
 * call fails with *se); `after` records what it read. */
typedef struct {
    bool (*before)(store_conn *c, const char *method, json_t *params, store_error *se);
    void (*after)(store_conn *c);
    /* `before` for an eth_call at the head read from the text (rpc_fast.c):
     * true when the call is known warm (all it read last time was cached:
     * nothing to fetch; what it reads is recorded as `before` does);
     * false: the request goes the tree's way, through `before`. */
    bool (*warm_call)(store_conn *c, const char *from, size_t from_len, const char *to, size_t to_len,
                      const uint8_t *selector, size_t selector_len);
    /* A method flagged RPC_FORWARD: true when the upstream answered it
     * (*result, or *err with the upstream's error); false: run it here. */
    bool (*forward)(const char *method, json_t *params, json_t **result, rpc_error *err);
    /* eth_getProof on a live database (true: *result or *err set) for the
     * head block the snapshot of `c` sees; false: not live, prove here. */
    bool (*proof)(store_conn *c, const address *a, const u256 *keys, const size_t *key_bytes, size_t n,
                  json_t **result, rpc_error *err);
    /* eth_getBlockByNumber of the head (latest, pending) on a live
     * database: the upstream's block of that hash, fullTx or not (true:
     * *result or *err set); false: make the header here (--no-forward). */
    bool (*head_block)(const hash32 *hash, bool full_tx, json_t **result, rpc_error *err);
    /* A state method whose block is not the head (an older or newer
     * number, a hash other than the head's, safe, finalized, earliest:
     * rpc_error.not_head): asked of the upstream as it is (true: *result
     * or *err set); false: the local error stands (--no-forward). */
    bool (*forward_state)(const char *method, json_t *params, json_t **result, rpc_error *err);
    const char *upstream; /* set in live mode: the upstream's public name */
} rpc_live_hooks;
extern rpc_live_hooks rpc_live;

typedef json_t *(*rpc_method_fn)(rpc_ctx *ctx, json_t *params, rpc_error *err);

enum rpc_method_flags {
    RPC_INLINE = 1, /* needs no database: may be answered on the HTTP thread */
    RPC_ADMIN = 2,  /* writes state: only with --admin and the bearer token */
    RPC_FORWARD = 4, /* history (and a nonce at "pending"): in live mode, asked of the upstream (rpc_live.forward) */
};

typedef struct {
    const char *name;
    rpc_method_fn fn;
    unsigned flags;
    int max_args;
} rpc_method;

extern const rpc_method rpc_methods[];
extern const size_t rpc_n_methods;
const rpc_method *rpc_find_method(const char *name);
/* The method names, for the metrics. */
const char *const *rpc_method_names(void);

/* --- The envelope (rpc_dispatch.c). */

/* Answers a parsed request body (one request or a batch). Returns the
 * response text (malloc'd; *len set) or NULL when nothing is to be sent
 * (only notifications). */
char *rpc_dispatch(rpc_ctx *ctx, json_t *root, size_t *len);
/* Parses and answers a raw body; a body that is not JSON gets -32700. */
char *rpc_dispatch_text(rpc_ctx *ctx, const char *body, size_t body_len, size_t *len);
/* True when every request in the body can run without the database. */
bool rpc_body_is_inline(const json_t *root);
/* rpc_body_is_inline's answer, and whether no request in the body writes
 * state (running it twice is harmless), looking each method up once. */
void rpc_body_classify(const json_t *root, bool *is_inline, bool *read_only);
/* A response with id null and this error. */
char *rpc_error_text(int code, const char *message, size_t *len);

#endif
