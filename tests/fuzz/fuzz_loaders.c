/* libFuzzer harness for the state loaders: the first byte picks the geth
 * alloc/genesis importer (schema/alloc.c, streamed from text into a
 * database made once in a temporary directory, inside a transaction that
 * is rolled back) or the state-test pre-state loader
 * (service/tools/statetest.c's st_load_pre, into a memstate); the rest is
 * the JSON text. Checked: no crash or sanitizer report; a refusal comes
 * with a message. Build and run: make fuzz. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "hexjson.h"
#include "state/memstate.h"
#include "store.h"
#include "tools/statetest.h"

static store_conn *conn;

static void setup(void)
{
    char dir[] = "/tmp/jitevm-fuzz-alloc.XXXXXX", path[64];
    if (!mkdtemp(dir)) abort();
    snprintf(path, sizeof path, "%s/alloc.db", dir);
    store_error se;
    store *db = store_open(path, STORE_OPEN_CREATE, &se);
    conn = db ? store_connect(db, &se) : NULL;
    if (!conn) abort();
    json_object_seed(1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!conn) setup();
    if (size < 1) return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if (data[0] & 1) {
        store_error se = {0};
        import_options o = {.in_transaction = true};
        chain_spec spec;
        if (data[0] & 2) o.genesis = &spec;
        import_stats st;
        if (!store_begin(conn, &se)) abort();
        if (!alloc_import_text(conn, "fuzz", text, len, &o, &st, &se) && !se.msg[0]) abort();
        store_rollback(conn);
    } else {
        json_error_t e;
        json_t *pre = json_loadb(text, len, 0, &e);
        if (!pre) return 0;
        memstate *m = memstate_new();
        hj_error he = {0};
        if (!st_load_pre(pre, m, &he) && !he.msg[0]) abort();
        memstate_free(m);
        json_decref(pre);
    }
    return 0;
}
