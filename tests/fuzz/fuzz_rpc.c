/* libFuzzer harness for the JSON-RPC request handler, in process (no
 * network): the input is a request body, answered by rpc_dispatch_text as
 * a worker answers it, with the admin token, over a small database made
 * once in a temporary directory (a head block, a rich sender, a reader, a
 * reverter and a loop). The gas cap is low and the call timeout is off,
 * so that every input runs in milliseconds. Checked: no crash or
 * sanitizer report; every answer is JSON (jansson reads it back); an id
 * sent as a number comes back as the same text; and a body the fast path
 * takes (rpc_fast.c: read from the text, no tree) is answered by it with
 * exactly the tree path's bytes. Build and run: make fuzz. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "hexjson.h"
#include "config.h"
#include "metrics.h"
#include "rpc/rpc.h"
#include "rpc/rpc_fast.h"
#include "store.h"

static rpc_config cfg;
static rpc_ctx ctx;

static void set_code(store_conn *c, const char *addr_hex, const char *code_hex)
{
    address a;
    bytebuf code = {0};
    store_error se;
    if (!hex_to_address(addr_hex, &a) || !hex_to_bytes(code_hex, &code) ||
        !store_set_code(c, &a, code.data, code.len, &se))
        abort();
    bytebuf_free(&code);
}

static void setup(void)
{
    static char dir[] = "/tmp/jitevm-fuzz-rpc.XXXXXX", path[64]; /* cfg.db_path points here */
    if (!mkdtemp(dir)) abort();
    snprintf(path, sizeof path, "%s/rpc.db", dir);
    bool help;
    char err[256];
    char *argv[] = {"serve", "--db", path, "--gas-cap", "2000000", "--call-timeout", "0", "--admin", NULL};
    if (!rpc_config_load(&cfg, 8, argv, &help, err, sizeof err)) abort();
    log_set_level(JLOG_OFF);
    json_object_seed(1);
    metrics_init(rpc_method_names(), rpc_n_methods);
    store_error se;
    store *db = store_open(path, STORE_OPEN_CREATE, &se);
    store_conn *c = db ? store_connect(db, &se) : NULL;
    if (!c) abort();
    chain_config cc = {.chain_id = 1337};
    for (int f = 0; f < FORK_COUNT; f++) cc.by_timestamp[f] = f >= FORK_SHANGHAI;
    block_env head = {.number = 1, .timestamp = 1000, .gas_limit = 30000000, .chain_id = u256_from_u64(1337)};
    head.base_fee = u256_from_u64(7);
    address sender;
    u256 rich = u256_from_u64(1000000000000000000ULL);
    if (!store_set_chain_config(c, &cc, &se) || !store_set_head(c, &head, &se) ||
        !hex_to_address("0x00000000000000000000000000000000000000aa", &sender) || !store_set_balance(c, &sender, &rich, &se))
        abort();
    set_code(c, "0x000000000000000000000000000000000000c000", "0x6000355460005260206000f3");
    set_code(c, "0x000000000000000000000000000000000000c001", "0x60006000fd");
    set_code(c, "0x000000000000000000000000000000000000c003",
             "0x6103e860005b5850601f02810180600052600051019060019003908160055760005260206000f3");
    ctx = (rpc_ctx){.cfg = &cfg, .conn = c, .authorized = true};
    if (!store_get_chain_config(c, &ctx.chain, &se)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ctx.conn) setup();
    size_t len;
    char *answer = rpc_dispatch_text(&ctx, (const char *)data, size, &len);
    static rpc_fast_request fast;
    if (rpc_fast_parse((const char *)data, size, &fast)) {
        size_t fast_len = 0;
        bool fell_back = false;
        char *fast_answer = rpc_dispatch_fast(&ctx, &fast, &fast_len, &fell_back);
        /* No live mode here: nothing falls back, and the bytes are the tree's. */
        if (fell_back || !answer || !fast_answer || fast_len != len || memcmp(fast_answer, answer, len) != 0) {
            fprintf(stderr, "fast path answered %.*s\ntree path answered %.*s\n", (int)(fast_len > 500 ? 500 : fast_len),
                    fast_answer ? fast_answer : "(none)", (int)(len > 500 ? 500 : len), answer ? answer : "(none)");
            abort();
        }
        free(fast_answer);
    }
    if (!answer) return 0;
    json_error_t e;
    json_t *r = json_loadb(answer, len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &e);
    /* ids are echoed exactly as sent (as geth does), so an answer may carry
     * a number such as 1e+99999: valid JSON, which jansson refuses to hold
     * as a double. */
    if (!r && strstr(e.text, "overflow")) {
        free(answer);
        return 0;
    }
    if (!r) {
        fprintf(stderr, "answer is not JSON: %.*s\n", (int)(len > 500 ? 500 : len), answer);
        abort();
    }
    json_decref(r);
    free(answer);
    return 0;
}
