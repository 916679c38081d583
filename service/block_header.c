#include "block_header.h"

#include <stdlib.h>
#include <string.h>

#include "base/params.h"

bool block_header_from_json(const json_t *v, block_header *out, hj_error *err)
{
    memset(out, 0, sizeof *out);
    if (json_is_object(v) && json_object_get(v, "jsonrpc")) {
        const json_t *e = json_object_get(v, "error");
        if (e) {
            const char *msg = json_string_value(json_object_get(e, "message"));
            return hj_fail(err, "the response is an error: %s", msg ? msg : "(no message)");
        }
        v = json_object_get(v, "result");
        if (!v || json_is_null(v)) return hj_fail(err, "the response holds no block (result is null: no such block)");
    }
    if (!json_is_object(v)) return hj_fail(err, "expected a block object");
    block_env *b = &out->env;
    if (!hj_get_u64(v, "number", &b->number, err) || !hj_get_hash(v, "hash", &out->hash, err) ||
        !hj_get_hash(v, "parentHash", &out->parent_hash, err) || !hj_get_u64(v, "timestamp", &b->timestamp, err) ||
        !hj_get_u64(v, "gasLimit", &b->gas_limit, err) || !hj_get_address(v, "miner", &b->coinbase, err) ||
        !hj_opt_u256(v, "difficulty", &b->difficulty, err) || !hj_opt_hash(v, "mixHash", &b->prevrandao, err) ||
        !hj_opt_u256(v, "baseFeePerGas", &b->base_fee, err) || !hj_opt_u64(v, "excessBlobGas", &b->excess_blob_gas, err) ||
        !hj_opt_u64(v, "gasUsed", &out->gas_used, err) || !hj_opt_u64(v, "blobGasUsed", &out->blob_gas_used, err))
        return false;
    if (json_object_get(v, "parentBeaconBlockRoot")) {
        if (!hj_get_hash(v, "parentBeaconBlockRoot", &out->parent_beacon_root, err)) return false;
        out->has_parent_beacon_root = true;
    }
    if (b->number > (uint64_t)INT64_MAX) return hj_fail(err, "number: %llu is too large", (unsigned long long)b->number);
    return true;
}

bool block_headers_store(store_conn *c, const json_t *v, block_header *head, store_error *err)
{
    size_t n = json_is_array(v) ? json_array_size(v) : 1;
    if (n == 0) return store_fail(err, "no block given (an empty array)");
    block_header *all = calloc(n, sizeof *all);
    if (!all) return store_fail(err, "out of memory");
    size_t top = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        hj_error he;
        if (!block_header_from_json(json_is_array(v) ? json_array_get(v, i) : v, &all[i], &he))
            ok = store_fail(err, "block %zu: %s", i, he.msg);
        else if (all[i].env.number > all[top].env.number)
            top = i;
    }
    chain_config cfg;
    if (ok) ok = store_get_chain_config(c, &cfg, err);
    if (ok) ok = store_begin(c, err);
    if (ok) {
        all[top].env.chain_id = u256_from_u64(cfg.chain_id);
        ok = store_set_head_block(c, &all[top].env, &all[top].hash,
                                  all[top].env.number > 0 ? &all[top].parent_hash : NULL, err);
        if (ok) ok = store_set_head_usage(c, all[top].gas_used, all[top].blob_gas_used, err);
        for (size_t i = 0; ok && i < n; i++) {
            if (i == top || all[i].env.number + BLOCKHASH_WINDOW < all[top].env.number) continue;
            ok = store_set_block_hash(c, all[i].env.number, &all[i].hash, err);
            if (ok && all[i].env.number > 0 && all[i].env.number + BLOCKHASH_WINDOW >= all[top].env.number + 1)
                ok = store_set_block_hash(c, all[i].env.number - 1, &all[i].parent_hash, err);
        }
        if (ok)
            ok = store_commit(c, err);
        else
            store_rollback(c);
    }
    if (ok) *head = all[top];
    free(all);
    return ok;
}
