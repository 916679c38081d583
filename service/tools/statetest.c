/* The conformance runner. Each worker thread takes the next file, runs
 * every case in it on states of its own, and files the results under the
 * file's index; the main thread prints them in file order as they become
 * ready, so the output does not depend on the number of threads. */
#include "tools/statetest.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <secp256k1.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/format.h"
#include "base/keccak.h"
#include "vm/opcodes.h"
#include "base/trie.h"

#define PENDING_REASON "pending: listed in the --pending file"
/* Call frames nest up to 1024 deep; give the workers room for that. */
#define WORKER_STACK_SIZE ((size_t)512 << 20)
/* EIP-1559's initial base fee: what go-ethereum assumes when a London-or-
 * later fixture gives none. */
#define DEFAULT_BASE_FEE 10

/* ---------------------------------------------------------------- files */

static void file_list_add(file_list *l, char *path)
{
    l->paths = xrealloc(l->paths, (l->count + 1) * sizeof(char *));
    l->paths[l->count++] = path;
}

static bool has_json_suffix(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && strcmp(name + n - 5, ".json") == 0;
}

static char *join_path(const char *dir, const char *name)
{
    size_t n = strlen(dir);
    char *p = xmalloc(n + strlen(name) + 2);
    sprintf(p, "%s%s%s", dir, (n && dir[n - 1] == '/') ? "" : "/", name);
    return p;
}

static bool collect_dir(const char *dir, const char *skip_name, file_list *out, hj_error *err)
{
    DIR *d = opendir(dir);
    if (!d) return hj_fail(err, "cannot read %s: %s", dir, strerror(errno));
    bool ok = true;
    struct dirent *e;
    while (ok && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *path = join_path(dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0) {
            ok = hj_fail(err, "cannot read %s: %s", path, strerror(errno));
            free(path);
        } else if (S_ISDIR(st.st_mode)) {
            ok = collect_dir(path, skip_name, out, err);
            free(path);
        } else if (has_json_suffix(e->d_name) && !(skip_name && strcmp(e->d_name, skip_name) == 0)) {
            file_list_add(out, path);
        } else {
            free(path);
        }
    }
    closedir(d);
    return ok;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

bool collect_json_files(char *const *paths, size_t n_paths, const char *skip_name, file_list *out,
                        hj_error *err)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n_paths; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0) return hj_fail(err, "cannot read %s: %s", paths[i], strerror(errno));
        if (!S_ISDIR(st.st_mode)) {
            file_list_add(out, strdup(paths[i]));
        } else if (!collect_dir(paths[i], skip_name, out, err)) {
            return false;
        }
    }
    qsort(out->paths, out->count, sizeof(char *), compare_strings);
    return true;
}

void file_list_free(file_list *l)
{
    for (size_t i = 0; i < l->count; i++) free(l->paths[i]);
    free(l->paths);
    memset(l, 0, sizeof *l);
}

/* Path substrings of files to skip, one per line, '#' starts a comment. */
static bool load_pending(const char *file, file_list *out, hj_error *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(file, "r");
    if (!f) return hj_fail(err, "cannot read pending list %s: %s", file, strerror(errno));
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        char *start = line + strspn(line, " \t\r\n");
        size_t len = strcspn(start, "\r\n");
        while (len && (start[len - 1] == ' ' || start[len - 1] == '\t')) len--;
        if (len) file_list_add(out, strndup(start, len));
    }
    fclose(f);
    return true;
}

static bool is_pending(const file_list *pending, const char *path)
{
    for (size_t i = 0; i < pending->count; i++)
        if (strstr(path, pending->paths[i])) return true;
    return false;
}

/* ------------------------------------------------------- fixture loading */

/* A member that is present and not null. */
static const json_t *member(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

static bool load_storage(const json_t *storage, memstate *m, const address *a, hj_error *err)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)storage, key, value) {
        u256 k, v;
        if (!hex_to_u256(key, &k)) return hj_fail(err, "storage key %.80s is not a hex quantity", key);
        if (!hj_u256(value, "storage value", &v, err)) return false;
        memstate_put_storage(m, a, &k, &v);
    }
    return true;
}

static bool load_account_fields(const json_t *acc, memstate *m, const address *a, hj_error *err)
{
    uint64_t nonce = 0;
    u256 balance = u256_zero();
    bytebuf code = {0};
    if (!json_is_object(acc)) return hj_fail(err, "expected an object");
    const json_t *code_json = member(acc, "code"), *storage = member(acc, "storage");
    bool ok = hj_opt_u64(acc, "nonce", &nonce, err) && hj_opt_u256(acc, "balance", &balance, err) &&
              (!code_json || hj_bytes(code_json, "code", &code, err));
    if (ok) memstate_put_account(m, a, nonce, &balance, code.data, code.len);
    bytebuf_free(&code);
    if (ok && storage && !json_is_object(storage)) return hj_fail(err, "storage: expected an object");
    return ok && (!storage || load_storage(storage, m, a, err));
}

static bool load_account(const char *addr_hex, const json_t *acc, memstate *m, hj_error *err)
{
    address a;
    hj_error inner;
    if (!hex_to_address(addr_hex, &a)) return hj_fail(err, "pre: bad address %.80s", addr_hex);
    if (!load_account_fields(acc, m, &a, &inner)) return hj_fail(err, "pre %s: %s", addr_hex, inner.msg);
    return true;
}

bool st_load_pre(const json_t *pre, memstate *m, hj_error *err)
{
    if (!json_is_object(pre)) return hj_fail(err, "pre: expected an object");
    const char *addr;
    json_t *acc;
    json_object_foreach((json_t *)pre, addr, acc) {
        if (!load_account(addr, acc, m, err)) return false;
    }
    return true;
}

void st_set_block_hashes(memstate *m, uint64_t current_number)
{
    uint64_t first = current_number > 256 ? current_number - 256 : 0;
    for (uint64_t n = first; n < current_number; n++) {
        char decimal[24];
        int len = snprintf(decimal, sizeof decimal, "%" PRIu64, n);
        hash32 h;
        keccak256(decimal, (size_t)len, h.b);
        memstate_set_block_hash(m, n, &h);
    }
}

/* config.blobSchedule.<fork_key>: {target, max, baseFeeUpdateFraction}. */
static bool load_blob_schedule(const json_t *config, const char *fork_key, block_env *b, hj_error *err)
{
    const json_t *schedule = config ? member(config, "blobSchedule") : NULL;
    const json_t *entry = schedule ? member(schedule, fork_key) : NULL;
    if (!entry) return true;
    return hj_opt_u64(entry, "target", &b->blob_target_per_block, err) &&
           hj_opt_u64(entry, "max", &b->blob_max_per_block, err) &&
           hj_opt_u64(entry, "baseFeeUpdateFraction", &b->blob_base_fee_update_fraction, err);
}

/* PREVRANDAO: a 32-byte value, which some fixtures write as a quantity. */
static bool load_random(const json_t *env, block_env *b, hj_error *err)
{
    u256 random;
    const json_t *v = member(env, "currentRandom");
    if (!v) return true;
    if (!hj_u256(v, "currentRandom", &random, err)) return false;
    u256_store_be(b->prevrandao.b, &random);
    return true;
}

static bool load_env_fields(const json_t *env, block_env *b, hj_error *err)
{
    if (!json_is_object(env)) return hj_fail(err, "expected an object");
    return hj_get_u64(env, "currentNumber", &b->number, err) &&
           hj_get_u64(env, "currentTimestamp", &b->timestamp, err) &&
           hj_get_u64(env, "currentGasLimit", &b->gas_limit, err) &&
           hj_get_address(env, "currentCoinbase", &b->coinbase, err) &&
           hj_opt_u256(env, "currentDifficulty", &b->difficulty, err) && load_random(env, b, err) &&
           hj_opt_u256(env, "currentBaseFee", &b->base_fee, err) &&
           hj_opt_u64(env, "currentExcessBlobGas", &b->excess_blob_gas, err);
}

bool st_load_block_env(const json_t *env, const json_t *config, enum fork f, const char *fork_key,
                       block_env *b, hj_error *err)
{
    hj_error inner;
    memset(b, 0, sizeof *b);
    b->chain_id = u256_from_u64(1);
    if (f >= FORK_LONDON) b->base_fee = u256_from_u64(DEFAULT_BASE_FEE);
    if (!load_env_fields(env, b, &inner)) return hj_fail(err, "env: %s", inner.msg);
    if (config && !json_is_object(config)) return hj_fail(err, "config: expected an object");
    if (config && !hj_opt_u256(config, "chainid", &b->chain_id, &inner))
        return hj_fail(err, "config: %s", inner.msg);
    block_env_default_blob_schedule(b, f);
    if (!load_blob_schedule(config, fork_key, b, &inner))
        return hj_fail(err, "config.blobSchedule.%s: %s", fork_key, inner.msg);
    block_env_update_blob_base_fee(b);
    return true;
}

/* The element `i` of the array member `key`. */
static bool indexed(const json_t *txj, const char *key, size_t i, const json_t **out, hj_error *err)
{
    json_t *arr;
    if (!hj_get_array(txj, key, &arr, err)) return false;
    if (i >= json_array_size(arr))
        return hj_fail(err, "%s has %zu entries, index %zu is out of range", key, json_array_size(arr), i);
    *out = json_array_get(arr, i);
    return true;
}

static bool derive_sender(const json_t *txj, address *out, hj_error *err)
{
    hash32 secret;
    if (!hj_get_hash(txj, "secretKey", &secret, err)) {
        return hj_fail(err, "neither sender nor a valid secretKey");
    }
    secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
    secp256k1_pubkey pub;
    uint8_t ser[65];
    size_t ser_len = sizeof ser;
    bool ok = secp256k1_ec_pubkey_create(ctx, &pub, secret.b);
    if (ok) secp256k1_ec_pubkey_serialize(ctx, ser, &ser_len, &pub, SECP256K1_EC_UNCOMPRESSED);
    secp256k1_context_destroy(ctx);
    if (!ok) return hj_fail(err, "secretKey is not a valid private key");
    hash32 h;
    keccak256(ser + 1, 64, h.b);
    memcpy(out->b, h.b + 12, 20);
    return true;
}

/* One access list: [{address, storageKeys: [...]}, ...]. */
static bool load_access_list(const json_t *list, transaction *tx, tx_storage *s, hj_error *err)
{
    if (!json_is_array(list)) return hj_fail(err, "accessLists entry: expected an array");
    size_t n = json_array_size(list), n_keys = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *keys = json_object_get(json_array_get(list, i), "storageKeys");
        if (!json_is_array(keys))
            return hj_fail(err, "access list entry %zu: storageKeys is not an array", i);
        n_keys += json_array_size(keys);
    }
    s->access_list = xcalloc(n, sizeof(access_list_entry));
    s->access_keys = xcalloc(n_keys, sizeof(hash32));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(list, i), *keys = json_object_get(item, "storageKeys");
        access_list_entry *e = &s->access_list[i];
        if (!hj_get_address(item, "address", &e->addr, err)) return false;
        e->keys = &s->access_keys[k];
        e->n_keys = json_array_size(keys);
        for (size_t j = 0; j < e->n_keys; j++)
            if (!hj_hash(json_array_get(keys, j), "storage key", &s->access_keys[k++], err)) return false;
    }
    tx->access_list = s->access_list;
    tx->n_access_list = n;
    return true;
}

static bool load_blob_hashes(const json_t *list, transaction *tx, tx_storage *s, hj_error *err)
{
    if (!json_is_array(list)) return hj_fail(err, "blobVersionedHashes: expected an array");
    size_t n = json_array_size(list);
    s->blob_hashes = xcalloc(n, sizeof(hash32));
    for (size_t i = 0; i < n; i++)
        if (!hj_hash(json_array_get(list, i), "blob versioned hash", &s->blob_hashes[i], err)) return false;
    tx->blob_hashes = s->blob_hashes;
    tx->n_blob_hashes = n;
    return true;
}

static bool load_authorization(const json_t *j, authorization *a, hj_error *err)
{
    if (!json_is_object(j)) return hj_fail(err, "authorizationList entry: expected an object");
    const char *parity_key = member(j, "yParity") ? "yParity" : "v";
    return hj_get_u256(j, "chainId", &a->chain_id, err) && hj_get_address(j, "address", &a->addr, err) &&
           hj_get_u256(j, "nonce", &a->nonce, err) && hj_get_u256(j, parity_key, &a->y_parity, err) &&
           hj_get_u256(j, "r", &a->r, err) && hj_get_u256(j, "s", &a->s, err);
}

static bool load_authorizations(const json_t *list, transaction *tx, tx_storage *s, hj_error *err)
{
    if (!json_is_array(list)) return hj_fail(err, "authorizationList: expected an array");
    size_t n = json_array_size(list);
    s->authorizations = xcalloc(n, sizeof(authorization));
    for (size_t i = 0; i < n; i++)
        if (!load_authorization(json_array_get(list, i), &s->authorizations[i], err)) return false;
    tx->authorizations = s->authorizations;
    tx->n_authorizations = n;
    return true;
}

/* The type follows from the fields present, most specific first. An
 * explicit null access list (for this data index) means a legacy tx. */
static int tx_type(const json_t *txj, const json_t *access_list)
{
    if (member(txj, "authorizationList")) return 4;
    if (member(txj, "blobVersionedHashes") || member(txj, "maxFeePerBlobGas")) return 3;
    if (member(txj, "maxFeePerGas")) return 2;
    return access_list && !json_is_null(access_list) ? 1 : 0;
}

static bool load_fees(const json_t *txj, transaction *tx, hj_error *err)
{
    if (tx->type < 2) return hj_get_u256(txj, "gasPrice", &tx->gas_price, err);
    return hj_get_u256(txj, "maxFeePerGas", &tx->max_fee_per_gas, err) &&
           hj_get_u256(txj, "maxPriorityFeePerGas", &tx->max_priority_fee_per_gas, err) &&
           (tx->type != 3 || hj_get_u256(txj, "maxFeePerBlobGas", &tx->max_fee_per_blob_gas, err));
}

static bool load_destination(const json_t *txj, transaction *tx, hj_error *err)
{
    const json_t *to = member(txj, "to");
    tx->has_to = to && !(json_is_string(to) && json_string_value(to)[0] == '\0');
    return !tx->has_to || hj_address(to, "to", &tx->to, err);
}

/* A hex quantity ("0x" and digits) too large for 256 bits. */
static bool quantity_beyond_256_bits(const json_t *v)
{
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return false;
    s += 2;
    if (s[strspn(s, "0123456789abcdefABCDEF")] != '\0') return false;
    s += strspn(s, "0");
    return strlen(s) > 64;
}

/* The fields picked by the indexes. */
static bool load_indexed(const json_t *txj, size_t d, size_t g, size_t v, transaction *tx, tx_storage *s,
                         hj_error *err)
{
    const json_t *data = NULL, *gas = NULL, *value = NULL;
    if (!indexed(txj, "data", d, &data, err) || !indexed(txj, "gasLimit", g, &gas, err) ||
        !indexed(txj, "value", v, &value, err))
        return false;
    if (!hj_bytes(data, "data", &s->data, err) || !hj_u256(gas, "gasLimit", &tx->gas_limit, err))
        return false;
    /* A value beyond 256 bits makes the transaction invalid (its RLP
     * cannot hold it), which the case expects; it is not a broken fixture. */
    if (quantity_beyond_256_bits(value)) s->unencodable = TX_RLP_INVALID_VALUE;
    else if (!hj_u256(value, "value", &tx->value, err)) return false;
    tx->data = s->data.data;
    tx->data_len = s->data.len;
    return true;
}

static bool load_tx_fields(const json_t *txj, size_t d, size_t g, size_t v, transaction *tx, tx_storage *s,
                           hj_error *err)
{
    if (!json_is_object(txj)) return hj_fail(err, "expected an object");
    const json_t *access_list = NULL;
    if (member(txj, "accessLists") && !indexed(txj, "accessLists", d, &access_list, err)) return false;
    tx->type = tx_type(txj, access_list);
    if (!load_indexed(txj, d, g, v, tx, s, err) || !hj_get_u256(txj, "nonce", &tx->nonce, err) ||
        !load_fees(txj, tx, err) || !load_destination(txj, tx, err))
        return false;
    if (member(txj, "sender") ? !hj_get_address(txj, "sender", &tx->sender, err)
                              : !derive_sender(txj, &tx->sender, err))
        return false;
    if (tx->type >= 1 && access_list && !json_is_null(access_list) &&
        !load_access_list(access_list, tx, s, err))
        return false;
    if (tx->type == 3 && member(txj, "blobVersionedHashes") &&
        !load_blob_hashes(member(txj, "blobVersionedHashes"), tx, s, err))
        return false;
    return tx->type != 4 || load_authorizations(member(txj, "authorizationList"), tx, s, err);
}

bool st_load_tx(const json_t *txj, size_t d, size_t g, size_t v, transaction *tx, tx_storage *s,
                hj_error *err)
{
    hj_error inner;
    memset(tx, 0, sizeof *tx);
    memset(s, 0, sizeof *s);
    if (load_tx_fields(txj, d, g, v, tx, s, &inner)) return true;
    return hj_fail(err, "transaction: %s", inner.msg);
}

void tx_storage_free(tx_storage *s)
{
    bytebuf_free(&s->data);
    free(s->access_list);
    free(s->access_keys);
    free(s->blob_hashes);
    free(s->authorizations);
    memset(s, 0, sizeof *s);
}

/* ---------------------------------------------------------------- trace */

static void trace_step_print(void *ctx, const trace_step *step)
{
    FILE *out = ctx;
    fprintf(out,
            "{\"pc\":%" PRIu32 ",\"op\":%u,\"gas\":\"0x%" PRIx64 "\",\"gasCost\":\"0x%" PRIx64
            "\",\"memSize\":%zu,\"stack\":[",
            step->pc, step->op, (uint64_t)step->gas, (uint64_t)step->gas_cost, step->mem_size);
    for (size_t i = 0; i < step->stack_len; i++) {
        char hex[HEX_U256_LEN];
        hex_from_u256(&step->stack[i], hex);
        fprintf(out, "%s\"%s\"", i ? "," : "", hex);
    }
    fprintf(out, "],\"depth\":%d,\"refund\":%" PRId64 ",\"opName\":\"%s\"}\n", step->depth, step->refund,
            opcode_name(step->op));
}

tracer eip3155_tracer(FILE *out)
{
    tracer t = {.ctx = out, .on_step = trace_step_print};
    return t;
}

/* The closing lines of a trace: the outcome and the post-state root. */
static void trace_summary(FILE *out, const tx_result *res, const hash32 *root)
{
    char *output = hex_from_bytes(res->output, res->output_len);
    char root_hex[HEX_HASH_LEN];
    hex_from_hash(root, root_hex);
    fprintf(out, "{\"output\":\"%s\",\"gasUsed\":\"0x%" PRIx64 "\",\"error\":\"%s\"}\n", output,
            res->gas_used,
            res->error != TX_OK           ? tx_error_name(res->error)
            : res->status != EXEC_SUCCESS ? exec_status_name(res->status)
                                          : "");
    fprintf(out, "{\"stateRoot\":\"%s\"}\n", root_hex);
    free(output);
}

/* -------------------------------------------------------------- results */

enum result_kind { R_PASS, R_FAIL, R_SKIP_PENDING, R_SKIP_FORK, R_ERROR };

typedef struct {
    enum result_kind kind;
    char *name; /* the case, NULL for an error about the whole file */
    char *fork; /* as written in the fixture */
    long d, g, v;
    hash32 want_root, got_root, want_logs, got_logs;
    char *want_exception; /* NULL: the tx must be valid */
    bool executed;        /* tx_execute ran: the fields below are meaningful */
    enum tx_error got_error;
    enum exec_status status;
    uint64_t gas_used;
    address created_address;
    char *message; /* error text, or the state differences (--diff) */
} case_result;

typedef struct {
    case_result *items;
    size_t count;
} file_results;

static case_result *result_add(file_results *r, enum result_kind kind, const char *name, const char *fork)
{
    r->items = xrealloc(r->items, (r->count + 1) * sizeof(case_result));
    case_result *c = &r->items[r->count++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->name = name ? strdup(name) : NULL;
    c->fork = fork ? strdup(fork) : NULL;
    c->d = c->g = c->v = -1;
    return c;
}

static void file_results_free(file_results *r)
{
    for (size_t i = 0; i < r->count; i++) {
        free(r->items[i].name);
        free(r->items[i].fork);
        free(r->items[i].want_exception);
        free(r->items[i].message);
    }
    free(r->items);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------- checking */

/* expectException alternatives are joined with '|'. EEST names them
 * "TransactionException.X", and then ours must be one of the X's; any
 * other naming (older fixtures) only requires that the tx was rejected. */
static bool exception_matches(const char *expected, enum tx_error got)
{
    static const char prefix[] = "TransactionException.";
    if (!expected) return got == TX_OK;
    if (got == TX_OK) return false;
    const char *ours = tx_error_name(got);
    bool foreign = false;
    for (const char *p = expected; *p;) {
        size_t len = strcspn(p, "|");
        while (len && p[len - 1] == ' ') len--;
        if (len > sizeof prefix - 1 && strncmp(p, prefix, sizeof prefix - 1) == 0) {
            size_t name_len = len - (sizeof prefix - 1);
            if (strlen(ours) == name_len && strncmp(p + sizeof prefix - 1, ours, name_len) == 0) return true;
        } else if (len) {
            foreign = true;
        }
        p += strcspn(p, "|");
        p += strspn(p, "| ");
    }
    return foreign;
}

static bool load_expected_account(const json_t *want, uint64_t *nonce, u256 *balance, hash32 *code_hash)
{
    hj_error err;
    bytebuf code = {0};
    *nonce = 0;
    *balance = u256_zero();
    *code_hash = KECCAK_EMPTY;
    bool ok = hj_opt_u64(want, "nonce", nonce, &err) && hj_opt_u256(want, "balance", balance, &err) &&
              (!member(want, "code") || hj_get_bytes(want, "code", &code, &err));
    if (ok && code.len) keccak256(code.data, code.len, code_hash->b);
    bytebuf_free(&code);
    return ok;
}

static void diff_storage(FILE *out, state_backend *be, const address *a, const char *addr_hex,
                         const json_t *storage)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)storage, key, value) {
        u256 k, v, got;
        hj_error err;
        if (!hex_to_u256(key, &k) || !hj_u256(value, "value", &v, &err)) continue;
        be->get_storage(be->ctx, a, &k, &got);
        if (u256_eq(&got, &v)) continue;
        char want_s[HEX_U256_LEN], got_s[HEX_U256_LEN];
        hex_from_u256(&got, got_s);
        hex_from_u256(&v, want_s);
        fprintf(out, "\n    %s: storage[%s] %s, expected %s", addr_hex, key, got_s, want_s);
    }
}

static void diff_account(FILE *out, state_backend *be, const char *addr_hex, const json_t *want)
{
    address a;
    account_info info;
    uint64_t nonce;
    u256 balance;
    hash32 code_hash;
    if (!hex_to_address(addr_hex, &a) || !load_expected_account(want, &nonce, &balance, &code_hash)) {
        fprintf(out, "\n    %s: unreadable expected account", addr_hex);
        return;
    }
    if (!be->get_account(be->ctx, &a, &info)) {
        fprintf(out, "\n    %s: missing (expected to exist)", addr_hex);
        return;
    }
    if (info.nonce != nonce)
        fprintf(out, "\n    %s: nonce %" PRIu64 ", expected %" PRIu64, addr_hex, info.nonce, nonce);
    if (!u256_eq(&info.balance, &balance)) {
        char want_s[HEX_U256_LEN], got_s[HEX_U256_LEN];
        hex_from_u256(&info.balance, got_s);
        hex_from_u256(&balance, want_s);
        fprintf(out, "\n    %s: balance %s, expected %s", addr_hex, got_s, want_s);
    }
    if (memcmp(code_hash.b, info.code_hash.b, 32) != 0) fprintf(out, "\n    %s: code differs", addr_hex);
    const json_t *storage = member(want, "storage");
    if (json_is_object(storage)) diff_storage(out, be, &a, addr_hex, storage);
}

/* Addresses the transaction may have left behind: the pre-state accounts,
 * the sender, recipient, coinbase, created contract and the precompiles.
 * (memstate.h offers no iteration, so an extra account elsewhere shows only
 * in the account count.) */
typedef struct {
    address *items;
    size_t count;
} address_set;

static void address_set_add(address_set *s, const address *a)
{
    for (size_t i = 0; i < s->count; i++)
        if (memcmp(s->items[i].b, a->b, 20) == 0) return;
    s->items = xrealloc(s->items, (s->count + 1) * sizeof(address));
    s->items[s->count++] = *a;
}

static address_set suspects(const json_t *pre, const block_env *b, const transaction *tx,
                            const address *created)
{
    address_set s = {0};
    const char *addr_hex;
    json_t *acc;
    json_object_foreach((json_t *)pre, addr_hex, acc) {
        address a;
        if (hex_to_address(addr_hex, &a)) address_set_add(&s, &a);
    }
    address_set_add(&s, &tx->sender);
    if (tx->has_to) address_set_add(&s, &tx->to);
    address_set_add(&s, &b->coinbase);
    address_set_add(&s, created);
    for (uint8_t i = 1; i <= 0x11; i++) {
        address p = {{0}};
        p.b[19] = i;
        address_set_add(&s, &p);
    }
    return s;
}

/* Accounts among the suspects that we have and the fixture does not. */
static void diff_extra_accounts(FILE *out, state_backend *be, const json_t *want, const address_set *s)
{
    for (size_t i = 0; i < s->count; i++) {
        account_info info;
        char hex[HEX_ADDRESS_LEN];
        hex_from_address(&s->items[i], hex);
        if (json_object_get(want, hex) || !be->get_account(be->ctx, &s->items[i], &info)) continue;
        char balance[HEX_U256_LEN];
        hex_from_u256(&info.balance, balance);
        fprintf(out, "\n    %s: exists (nonce %" PRIu64 ", balance %s%s), expected absent", hex, info.nonce,
                balance, memcmp(info.code_hash.b, KECCAK_EMPTY.b, 32) ? ", with code" : "");
    }
}

/* Where our post state differs from the fixture's `state`: every expected
 * account and slot, the suspects that should not exist, and the count. */
static char *diff_post_state(memstate *m, const json_t *want, const address_set *suspects)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    state_backend be = memstate_backend(m);
    const char *addr;
    json_t *acc;
    json_object_foreach((json_t *)want, addr, acc) diff_account(out, &be, addr, acc);
    diff_extra_accounts(out, &be, want, suspects);
    if (memstate_account_count(m) != json_object_size(want))
        fprintf(out, "\n    %zu accounts, expected %zu", memstate_account_count(m), json_object_size(want));
    fclose(out);
    return text;
}

/* ------------------------------------------------------------- running */

typedef struct {
    const statetest_options *opts;
    file_list files;
    file_list pending;
    file_results *results; /* per file */
    bool *done;
    size_t next;
    pthread_mutex_t lock;
    pthread_cond_t ready;
} runner;

/* What a post entry expects. */
typedef struct {
    size_t d, g, v;
    const char *exception;
} expectation;

static bool load_expectation(const json_t *entry, expectation *x, case_result *r, hj_error *err)
{
    json_t *idx;
    uint64_t d, g, v;
    if (!json_is_object(entry)) return hj_fail(err, "post entry: expected an object");
    if (!hj_get_object(entry, "indexes", &idx, err) || !hj_get_u64(idx, "data", &d, err) ||
        !hj_get_u64(idx, "gas", &g, err) || !hj_get_u64(idx, "value", &v, err))
        return false;
    r->d = (long)d, r->g = (long)g, r->v = (long)v;
    x->d = d, x->g = g, x->v = v;
    if (!hj_get_hash(entry, "hash", &r->want_root, err) || !hj_get_hash(entry, "logs", &r->want_logs, err))
        return false;
    const json_t *exc = member(entry, "expectException");
    if (exc && !json_is_string(exc)) return hj_fail(err, "expectException: expected a string");
    x->exception = exc ? json_string_value(exc) : NULL;
    r->want_exception = exc ? strdup(x->exception) : NULL;
    return true;
}

static void execute_tx(const runner *rn, memstate *m, const block_env *b, const transaction *tx, enum fork f,
                       case_result *r)
{
    state_backend backend = memstate_backend(m);
    state_sink sink = memstate_sink(m);
    tracer tr = eip3155_tracer(stderr);
    tx_options opts = {.engine = rn->opts->engine};
    if (rn->opts->trace) opts.trace = &tr;
    state *st = state_new(&backend);
    tx_result res;
    tx_execute(st, b, tx, f, &opts, &res);
    if (res.error == TX_OK) state_commit(st, &sink);
    memstate_root(m, &r->got_root);
    logs_hash(state_logs(st), state_log_count(st), &r->got_logs);
    if (rn->opts->trace) trace_summary(stderr, &res, &r->got_root);
    r->executed = true;
    r->got_error = res.error;
    r->status = res.status;
    r->gas_used = res.gas_used;
    r->created_address = res.created_address;
    tx_result_free(&res);
    state_free(st);
}

/* A transaction that cannot be encoded is rejected before execution: the
 * state stays as it was, with no logs. */
static void reject_unencodable(memstate *m, enum tx_error why, case_result *r)
{
    memstate_root(m, &r->got_root);
    logs_hash(NULL, 0, &r->got_logs);
    r->executed = true;
    r->got_error = why;
}

/* What judge needs besides the result: the inputs, for --diff. */
typedef struct {
    const json_t *entry;
    const json_t *pre;
    const block_env *block;
    const transaction *tx;
    memstate *m;
} judged;

static void judge(const runner *rn, const judged *j, case_result *r)
{
    bool root_ok = memcmp(r->want_root.b, r->got_root.b, 32) == 0;
    bool logs_ok = memcmp(r->want_logs.b, r->got_logs.b, 32) == 0;
    bool exc_ok = exception_matches(r->want_exception, r->got_error);
    r->kind = root_ok && logs_ok && exc_ok ? R_PASS : R_FAIL;
    const json_t *post_state = member(j->entry, "state");
    if (root_ok || !rn->opts->diff || !json_is_object(post_state)) return;
    address_set s = suspects(j->pre, j->block, j->tx, &r->created_address);
    r->message = diff_post_state(j->m, post_state, &s);
    free(s.items);
}

/* One post entry: the pre state, the transaction its indexes pick, and the
 * comparison with the expected root, logs and exception. */
static void run_entry(const runner *rn, const json_t *tc, enum fork f, const char *fork_key,
                      const json_t *entry, case_result *r)
{
    hj_error err;
    expectation x = {0};
    block_env b;
    transaction tx;
    tx_storage ts = {0};
    memstate *m = memstate_new();
    bool ok = load_expectation(entry, &x, r, &err) && st_load_pre(json_object_get(tc, "pre"), m, &err) &&
              st_load_block_env(json_object_get(tc, "env"), member(tc, "config"), f, fork_key, &b, &err) &&
              st_load_tx(json_object_get(tc, "transaction"), x.d, x.g, x.v, &tx, &ts, &err);
    if (ok) {
        st_set_block_hashes(m, b.number);
        if (ts.unencodable != TX_OK) reject_unencodable(m, ts.unencodable, r);
        else execute_tx(rn, m, &b, &tx, f, r);
        judged j = {entry, json_object_get(tc, "pre"), &b, &tx, m};
        judge(rn, &j, r);
    } else {
        r->kind = R_ERROR;
        r->message = strdup(err.msg);
    }
    tx_storage_free(&ts);
    memstate_free(m);
}

/* A skipped entry, with its indexes when they are readable. */
static void skip_result(file_results *out, enum result_kind kind, const char *name, const char *fork_key,
                        const json_t *entry)
{
    case_result *r = result_add(out, kind, name, fork_key);
    const json_t *idx = json_object_get(entry, "indexes");
    const json_t *d = json_object_get(idx, "data"), *g = json_object_get(idx, "gas"),
                 *v = json_object_get(idx, "value");
    if (json_is_integer(d) && json_is_integer(g) && json_is_integer(v)) {
        r->d = (long)json_integer_value(d);
        r->g = (long)json_integer_value(g);
        r->v = (long)json_integer_value(v);
    }
}

static void run_fork(const runner *rn, const char *name, const json_t *tc, const char *fork_key,
                     const json_t *entries, bool pending, file_results *out)
{
    int f = fork_from_name(fork_key);
    if (rn->opts->fork >= 0 && f != rn->opts->fork) return;
    if (!json_is_array(entries)) {
        result_add(out, R_ERROR, name, fork_key)->message = strdup("post entries: expected an array");
        return;
    }
    size_t i;
    const json_t *entry;
    json_array_foreach(entries, i, entry) {
        if (pending || f < 0) {
            skip_result(out, pending ? R_SKIP_PENDING : R_SKIP_FORK, name, fork_key, entry);
            continue;
        }
        run_entry(rn, tc, (enum fork)f, fork_key, entry, result_add(out, R_ERROR, name, fork_key));
    }
}

static void run_case(const runner *rn, const char *name, const json_t *tc, bool pending, file_results *out)
{
    const json_t *post = json_is_object(tc) ? json_object_get(tc, "post") : NULL;
    if (!json_is_object(post)) {
        result_add(out, R_ERROR, name, NULL)->message = strdup("the case has no post object");
        return;
    }
    const char *fork_key;
    json_t *entries;
    json_object_foreach((json_t *)post, fork_key, entries)
        run_fork(rn, name, tc, fork_key, entries, pending, out);
}

static bool case_selected(const runner *rn, const char *path, const char *name)
{
    const char *filter = rn->opts->filter;
    return !filter || strstr(path, filter) || strstr(name, filter);
}

static void run_file(const runner *rn, const char *path, file_results *out)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!json_is_object(root)) {
        case_result *r = result_add(out, R_ERROR, NULL, NULL);
        if (!root) r->message = str_printf(NULL, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
        if (root) r->message = strdup("the file is not a JSON object of test cases");
        json_decref(root);
        return;
    }
    size_t n = json_object_size(root), k = 0;
    const char **names = xcalloc(n, sizeof(char *));
    const char *name;
    json_t *tc;
    json_object_foreach(root, name, tc) names[k++] = name;
    qsort(names, n, sizeof(char *), compare_strings);
    bool pending = is_pending(&rn->pending, path);
    for (size_t i = 0; i < n; i++)
        if (case_selected(rn, path, names[i]))
            run_case(rn, names[i], json_object_get(root, names[i]), pending, out);
    free(names);
    json_decref(root);
}

static void *worker(void *arg)
{
    runner *rn = arg;
    for (;;) {
        pthread_mutex_lock(&rn->lock);
        size_t i = rn->next++;
        pthread_mutex_unlock(&rn->lock);
        if (i >= rn->files.count) return NULL;
        run_file(rn, rn->files.paths[i], &rn->results[i]);
        pthread_mutex_lock(&rn->lock);
        rn->done[i] = true;
        pthread_cond_broadcast(&rn->ready);
        pthread_mutex_unlock(&rn->lock);
    }
}

/* -------------------------------------------------------------- output */

typedef struct {
    size_t passed, failed, skipped_pending, skipped_fork;
} tally;

static const char *exception_text(const char *s) { return s && *s ? s : "none"; }

static void print_failure(FILE *out, const char *path, const case_result *r)
{
    if (r->kind == R_ERROR) {
        fprintf(out, "ERROR %s", path);
        if (r->name) fprintf(out, " %s", r->name);
        if (r->fork) fprintf(out, " %s", r->fork);
        if (r->d >= 0) fprintf(out, " d=%ld g=%ld v=%ld", r->d, r->g, r->v);
        fprintf(out, ": %s\n", r->message ? r->message : "unreadable");
        return;
    }
    char wr[HEX_HASH_LEN], gr[HEX_HASH_LEN], wl[HEX_HASH_LEN], gl[HEX_HASH_LEN];
    hex_from_hash(&r->want_root, wr);
    hex_from_hash(&r->got_root, gr);
    hex_from_hash(&r->want_logs, wl);
    hex_from_hash(&r->got_logs, gl);
    fprintf(out,
            "FAIL %s %s %s d=%ld g=%ld v=%ld | root: expected %s got %s | logs: expected %s got %s"
            " | exception: expected %s got %s | status %s, gas used %" PRIu64 "%s\n",
            path, r->name, r->fork, r->d, r->g, r->v, wr, gr, wl, gl, exception_text(r->want_exception),
            exception_text(tx_error_name(r->got_error)),
            r->got_error == TX_OK ? exec_status_name(r->status) : "-", r->gas_used,
            r->message ? r->message : "");
}

static const char *kind_name(enum result_kind k)
{
    switch (k) {
    case R_PASS: return "pass";
    case R_FAIL: return "fail";
    case R_ERROR: return "error";
    default: return "skip";
    }
}

static json_t *hash_json(const hash32 *h)
{
    char hex[HEX_HASH_LEN];
    hex_from_hash(h, hex);
    return json_string(hex);
}

static void add_outcome_json(json_t *o, const case_result *r)
{
    json_object_set_new(o, "expectedRoot", hash_json(&r->want_root));
    json_object_set_new(o, "root", hash_json(&r->got_root));
    json_object_set_new(o, "expectedLogs", hash_json(&r->want_logs));
    json_object_set_new(o, "logs", hash_json(&r->got_logs));
    json_object_set_new(o, "expectedException",
                        r->want_exception ? json_string(r->want_exception) : json_null());
    json_object_set_new(o, "exception",
                        r->got_error != TX_OK ? json_string(tx_error_name(r->got_error)) : json_null());
    json_object_set_new(o, "status",
                        r->got_error == TX_OK ? json_string(exec_status_name(r->status)) : json_null());
    json_object_set_new(o, "gasUsed", json_integer((json_int_t)r->gas_used));
}

static void print_json(FILE *out, const char *path, const case_result *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "file", json_string(path));
    json_object_set_new(o, "name", r->name ? json_string(r->name) : json_null());
    json_object_set_new(o, "fork", r->fork ? json_string(r->fork) : json_null());
    if (r->d >= 0 && r->g >= 0) {
        json_object_set_new(o, "d", json_integer(r->d));
        json_object_set_new(o, "g", json_integer(r->g));
        json_object_set_new(o, "v", json_integer(r->v));
    }
    json_object_set_new(o, "result", json_string(kind_name(r->kind)));
    if (r->executed) add_outcome_json(o, r);
    const char *reason = r->kind == R_SKIP_PENDING ? PENDING_REASON
                         : r->kind == R_SKIP_FORK  ? "unsupported fork"
                                                   : r->message;
    if (reason) json_object_set_new(o, "reason", json_string(reason));
    char *text = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    fprintf(out, "%s\n", text);
    free(text);
    json_decref(o);
}

static void report_file(const runner *rn, const char *path, const file_results *fr, tally *t)
{
    for (size_t i = 0; i < fr->count; i++) {
        const case_result *r = &fr->items[i];
        if (rn->opts->json)
            print_json(rn->opts->out, path, r);
        else if (r->kind == R_FAIL || r->kind == R_ERROR)
            print_failure(rn->opts->out, path, r);
        switch (r->kind) {
        case R_PASS: t->passed++; break;
        case R_SKIP_PENDING: t->skipped_pending++; break;
        case R_SKIP_FORK: t->skipped_fork++; break;
        default: t->failed++; break;
        }
    }
    fflush(rn->opts->out);
}

static void print_summary(FILE *out, const tally *t)
{
    size_t skipped = t->skipped_pending + t->skipped_fork;
    if (skipped)
        fprintf(out, "skipped: %zu %s, %zu for unsupported forks\n", t->skipped_pending, PENDING_REASON,
                t->skipped_fork);
    fprintf(out, "%zu passed, %zu failed, %zu skipped\n", t->passed, t->failed, skipped);
    fflush(out);
}

/* Starts the workers with a large stack; returns how many started. */
static size_t start_workers(runner *rn, pthread_t *threads, size_t n)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WORKER_STACK_SIZE);
    size_t started = 0;
    while (started < n && pthread_create(&threads[started], &attr, worker, rn) == 0) started++;
    pthread_attr_destroy(&attr);
    return started;
}

/* Prints each file's results as soon as it and every file before it are done. */
static void report_in_order(runner *rn, tally *t)
{
    for (size_t i = 0; i < rn->files.count; i++) {
        pthread_mutex_lock(&rn->lock);
        while (!rn->done[i]) pthread_cond_wait(&rn->ready, &rn->lock);
        pthread_mutex_unlock(&rn->lock);
        report_file(rn, rn->files.paths[i], &rn->results[i], t);
        file_results_free(&rn->results[i]);
    }
}

static int run_all(runner *rn)
{
    size_t jobs = rn->opts->trace ? 1 : (size_t)(rn->opts->jobs > 0 ? rn->opts->jobs : 1);
    if (jobs > rn->files.count) jobs = rn->files.count ? rn->files.count : 1;
    pthread_t *threads = xcalloc(jobs, sizeof(pthread_t));
    json_object_seed(0); /* before any thread parses: the seed is global */
    size_t started = start_workers(rn, threads, jobs);
    if (started == 0) {
        fprintf(stderr, "jitevm statetest: cannot start worker threads\n");
        free(threads);
        return 2;
    }
    tally t = {0};
    report_in_order(rn, &t);
    for (size_t i = 0; i < started; i++) pthread_join(threads[i], NULL);
    free(threads);
    print_summary(rn->opts->out, &t);
    return t.failed ? 1 : 0;
}

int statetest_run(char *const *paths, size_t n_paths, const statetest_options *opts)
{
    runner rn = {.opts = opts};
    hj_error err;
    if (!collect_json_files(paths, n_paths, NULL, &rn.files, &err) ||
        (opts->pending_file && !load_pending(opts->pending_file, &rn.pending, &err))) {
        fprintf(stderr, "jitevm statetest: %s\n", err.msg);
        file_list_free(&rn.files);
        return 2;
    }
    rn.results = xcalloc(rn.files.count ? rn.files.count : 1, sizeof(file_results));
    rn.done = xcalloc(rn.files.count ? rn.files.count : 1, sizeof(bool));
    pthread_mutex_init(&rn.lock, NULL);
    pthread_cond_init(&rn.ready, NULL);
    int status = run_all(&rn);
    pthread_cond_destroy(&rn.ready);
    pthread_mutex_destroy(&rn.lock);
    free(rn.results);
    free(rn.done);
    file_list_free(&rn.files);
    file_list_free(&rn.pending);
    return status;
}
