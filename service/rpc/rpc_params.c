#include "rpc/rpc_params.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "base/keccak.h"

bool perr_set(param_error *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return false;
}

const char *json_kind_go(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER:
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "bool";
    default: return "null";
    }
}

/* Go's json.UnmarshalTypeError text for a value that a hex decoder refused
 * (`reason` is hexutil's error) or that had the wrong JSON type. */
static bool type_error(param_error *e, const field_ctx *where, const char *reason, const char *go_type)
{
    if (where && where->strct)
        return perr_set(e, "json: cannot unmarshal %s into Go struct field %s.%s of type %s", reason, where->strct,
                        where->field, go_type);
    return perr_set(e, "json: cannot unmarshal %s into Go value of type %s", reason, go_type);
}

/* geth's hexutil: "0x" required, no leading zeros, the length checked
 * before the digits. */
#define RPC_QUANTITY (HEX_NO_LEADING_ZEROS | HEX_LENGTH_FIRST)
/* checkText: "" is empty, a length error before a bad digit. */
#define RPC_BYTES (HEX_EMPTY_OK | HEX_LENGTH_FIRST)

/* hexutil's checkNumberText and digit decoding: NULL on success, else the
 * reason. `bits` is 256 or 64. */
static const char *quantity_digits(const char *s, unsigned bits, u256 *out)
{
    switch (hex_parse_quantity(s, strlen(s), RPC_QUANTITY, bits, out, NULL)) {
    case HEX_OK: return NULL;
    case HEX_EMPTY: return "empty hex string";
    case HEX_NO_PREFIX: return "hex string without 0x prefix";
    case HEX_NO_DIGITS: return "hex string \"0x\"";
    case HEX_LEADING_ZERO: return "hex number with leading zero digits";
    case HEX_TOO_BIG: return bits == 64 ? "hex number > 64 bits" : "hex number > 256 bits";
    default: return "invalid hex string";
    }
}

/* checkText's reasons for a byte string or fixed-size value. */
static const char *text_reason(enum hex_status st)
{
    switch (st) {
    case HEX_NO_PREFIX: return "hex string without 0x prefix";
    case HEX_ODD_LENGTH: return "hex string of odd length";
    default: return "invalid hex string";
    }
}

bool p_u256(const json_t *v, const field_ctx *where, u256 *out, param_error *e)
{
    if (!json_is_string(v)) return type_error(e, where, "non-string", "*hexutil.Big");
    const char *reason = quantity_digits(json_string_value(v), 256, out);
    return reason ? type_error(e, where, reason, "*hexutil.Big") : true;
}

bool p_u64(const json_t *v, const field_ctx *where, uint64_t *out, param_error *e)
{
    if (!json_is_string(v)) return type_error(e, where, "non-string", "hexutil.Uint64");
    u256 w;
    const char *reason = quantity_digits(json_string_value(v), 64, &w);
    if (reason) return type_error(e, where, reason, "hexutil.Uint64");
    *out = w.w[0];
    return true;
}

bool p_bytes(const json_t *v, const field_ctx *where, bytebuf *out, param_error *e)
{
    if (!json_is_string(v)) return type_error(e, where, "non-string", "hexutil.Bytes");
    const char *s = json_string_value(v);
    out->len = 0;
    enum hex_status st = hex_parse_bytes(s, strlen(s), RPC_BYTES, out, NULL);
    return st == HEX_OK ? true : type_error(e, where, text_reason(st), "hexutil.Bytes");
}

/* UnmarshalFixedText: `wrapped` says whether hexutil's own errors become
 * json type errors (JSON values) or stay plain (map keys). */
static bool fixed_text(const char *s, uint8_t *out, size_t size, const char *type_name, const field_ctx *where,
                       bool wrapped, param_error *e)
{
    hex_detail detail;
    enum hex_status st = hex_parse_fixed(s, strlen(s), RPC_BYTES, out, size, &detail);
    if (st == HEX_OK) return true;
    if (st == HEX_WRONG_LENGTH)
        return perr_set(e, "hex string has length %zu, want %zu for %s", detail.digits, 2 * size,
                        wrapped ? type_name : type_name + strlen("common."));
    if (wrapped) return type_error(e, where, text_reason(st), type_name);
    return perr_set(e, "%s", text_reason(st));
}

bool p_address(const json_t *v, const field_ctx *where, address *out, param_error *e)
{
    if (!json_is_string(v)) return type_error(e, where, "non-string", "common.Address");
    return fixed_text(json_string_value(v), out->b, 20, "common.Address", where, true, e);
}

bool p_hash(const json_t *v, const field_ctx *where, hash32 *out, param_error *e)
{
    if (!json_is_string(v)) return type_error(e, where, "non-string", "common.Hash");
    return fixed_text(json_string_value(v), out->b, 32, "common.Hash", where, true, e);
}

bool p_address_text(const char *s, address *out, param_error *e)
{
    return fixed_text(s, out->b, 20, "common.Address", NULL, false, e);
}

bool p_hash_text(const char *s, hash32 *out, param_error *e)
{
    return fixed_text(s, out->b, 32, "common.Hash", NULL, false, e);
}

/* --- Block selectors. */

static bool block_tag_name(const char *s, block_selector *out)
{
    static const struct {
        const char *name;
        enum block_tag tag;
    } tags[] = {{"latest", BLOCK_LATEST}, {"pending", BLOCK_PENDING}, {"safe", BLOCK_SAFE},
                {"finalized", BLOCK_FINALIZED}, {"earliest", BLOCK_EARLIEST}};
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
        if (strcmp(s, tags[i].name) == 0) {
            out->tag = tags[i].tag;
            return true;
        }
    return false;
}

/* BlockNumber: a tag or a hex number below 2^63. */
static bool block_number_text(const char *s, block_selector *out, const char *too_high, param_error *e)
{
    if (block_tag_name(s, out)) return true;
    u256 n;
    const char *reason = quantity_digits(s, 64, &n);
    if (reason) return perr_set(e, "%s", reason);
    if (n.w[0] > INT64_MAX) return perr_set(e, "%s", too_high);
    out->tag = BLOCK_NUMBER;
    out->number = n.w[0];
    return true;
}

bool p_block(const json_t *v, block_selector *out, param_error *e)
{
    memset(out, 0, sizeof *out);
    if (json_is_object(v)) {
        /* EIP-1898: {"blockNumber": N} or {"blockHash": H, "requireCanonical": bool}. */
        const json_t *number = NULL, *hash = NULL;
        const char *key;
        json_t *member;
        json_object_foreach((json_t *)v, key, member) {
            if (json_is_null(member)) continue;
            if (strcmp(key, "blockNumber") == 0) number = member;
            else if (strcmp(key, "blockHash") == 0) hash = member;
            else if (strcmp(key, "requireCanonical") == 0) {
                if (!json_is_boolean(member))
                    return perr_set(e, "json: cannot unmarshal %s into Go struct field .requireCanonical of type bool",
                                    json_kind_go(member));
                out->require_canonical = json_is_true(member);
            } else
                return perr_set(e, "json: unknown field \"%s\"", key);
        }
        if (number && hash) return perr_set(e, "cannot specify both BlockHash and BlockNumber, choose one or the other");
        if (!number && !hash) return perr_set(e, "must specify either BlockHash or BlockNumber");
        if (hash) {
            out->tag = BLOCK_HASH;
            field_ctx where = {"BlockNumberOrHash", "blockHash"};
            return p_hash(hash, &where, &out->hash, e);
        }
        if (!json_is_string(number))
            return perr_set(e, "json: cannot unmarshal %s into Go value of type string", json_kind_go(number));
        return block_number_text(json_string_value(number), out, "block number larger than int64", e);
    }
    if (!json_is_string(v)) return perr_set(e, "json: cannot unmarshal %s into Go value of type string", json_kind_go(v));
    const char *s = json_string_value(v);
    if (strlen(s) == 66 && !block_tag_name(s, out)) {
        out->tag = BLOCK_HASH;
        return fixed_text(s, out->hash.b, 32, "common.Hash", NULL, false, e);
    }
    return block_number_text(s, out, "blocknumber too high", e);
}

/* --- Transaction arguments. */

static bool missing_field(param_error *e, const char *field, const char *type)
{
    return perr_set(e, "missing required field '%s' for %s", field, type);
}

static bool p_access_list(const json_t *v, call_args *out, param_error *e)
{
    if (!json_is_array(v))
        return perr_set(e, "json: cannot unmarshal %s into Go struct field TransactionArgs.accessList of type types.AccessList",
                        json_kind_go(v));
    size_t n = json_array_size(v), n_keys = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *t = json_array_get(v, i);
        if (!json_is_object(t))
            return perr_set(e, "json: cannot unmarshal %s into Go struct field TransactionArgs.accessList of type types.AccessTuple",
                            json_kind_go(t));
        const json_t *keys = json_object_get(t, "storageKeys");
        if (keys && json_is_array(keys)) n_keys += json_array_size(keys);
    }
    out->access_list = xcalloc(n ? n : 1, sizeof *out->access_list);
    out->access_keys = xcalloc(n_keys ? n_keys : 1, sizeof *out->access_keys);
    out->n_access_list = n;
    size_t next_key = 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *t = json_array_get(v, i);
        access_list_entry *entry = &out->access_list[i];
        const json_t *addr = NULL, *keys = NULL;
        const char *key;
        json_t *member;
        json_object_foreach((json_t *)t, key, member) {
            if (strcmp(key, "address") == 0) addr = member;
            else if (strcmp(key, "storageKeys") == 0) keys = member;
            else return perr_set(e, "json: unknown field \"%s\"", key);
        }
        if (!addr || json_is_null(addr)) return missing_field(e, "address", "AccessTuple");
        if (!keys || json_is_null(keys)) return missing_field(e, "storageKeys", "AccessTuple");
        field_ctx where = {"AccessTuple", "address"};
        if (!p_address(addr, &where, &entry->addr, e)) return false;
        if (!json_is_array(keys))
            return perr_set(e, "json: cannot unmarshal %s into Go struct field AccessTuple.storageKeys of type []common.Hash",
                            json_kind_go(keys));
        entry->keys = &out->access_keys[next_key];
        entry->n_keys = json_array_size(keys);
        field_ctx key_where = {"AccessTuple", "storageKeys"};
        for (size_t k = 0; k < entry->n_keys; k++)
            if (!p_hash(json_array_get(keys, k), &key_where, &out->access_keys[next_key++], e)) return false;
    }
    return true;
}

static bool p_blob_hashes(const json_t *v, call_args *out, param_error *e)
{
    if (!json_is_array(v))
        return perr_set(e, "json: cannot unmarshal %s into Go struct field TransactionArgs.blobVersionedHashes of type []common.Hash",
                        json_kind_go(v));
    out->n_blob_hashes = json_array_size(v);
    out->blob_hashes = xcalloc(out->n_blob_hashes ? out->n_blob_hashes : 1, sizeof *out->blob_hashes);
    field_ctx where = {"TransactionArgs", "blobVersionedHashes"};
    for (size_t i = 0; i < out->n_blob_hashes; i++)
        if (!p_hash(json_array_get(v, i), &where, &out->blob_hashes[i], e)) return false;
    return true;
}

static bool p_authorization(const json_t *v, authorization *out, param_error *e)
{
    if (!json_is_object(v))
        return perr_set(e, "json: cannot unmarshal %s into Go struct field TransactionArgs.authorizationList of type types.SetCodeAuthorization",
                        json_kind_go(v));
    static const char *const required[] = {"chainId", "address", "nonce", "yParity", "r", "s"};
    const char *key;
    json_t *member;
    json_object_foreach((json_t *)v, key, member) {
        bool known = false;
        for (size_t i = 0; i < 6; i++) known |= strcmp(key, required[i]) == 0;
        if (!known) return perr_set(e, "json: unknown field \"%s\"", key);
    }
    for (size_t i = 0; i < 6; i++) {
        const json_t *m = json_object_get(v, required[i]);
        if (!m || json_is_null(m)) return missing_field(e, required[i], "SetCodeAuthorization");
    }
    uint64_t nonce, y_parity;
    field_ctx w_chain = {"SetCodeAuthorization", "chainId"}, w_addr = {"SetCodeAuthorization", "address"},
              w_nonce = {"SetCodeAuthorization", "nonce"}, w_y = {"SetCodeAuthorization", "yParity"},
              w_r = {"SetCodeAuthorization", "r"}, w_s = {"SetCodeAuthorization", "s"};
    if (!p_u256(json_object_get(v, "chainId"), &w_chain, &out->chain_id, e) ||
        !p_address(json_object_get(v, "address"), &w_addr, &out->addr, e) ||
        !p_u64(json_object_get(v, "nonce"), &w_nonce, &nonce, e) ||
        !p_u64(json_object_get(v, "yParity"), &w_y, &y_parity, e) ||
        !p_u256(json_object_get(v, "r"), &w_r, &out->r, e) || !p_u256(json_object_get(v, "s"), &w_s, &out->s, e))
        return false;
    out->nonce = u256_from_u64(nonce);
    out->y_parity = u256_from_u64(y_parity);
    return true;
}

static bool p_auths(const json_t *v, call_args *out, param_error *e)
{
    if (!json_is_array(v))
        return perr_set(e, "json: cannot unmarshal %s into Go struct field TransactionArgs.authorizationList of type []types.SetCodeAuthorization",
                        json_kind_go(v));
    out->n_auths = json_array_size(v);
    out->auths = xcalloc(out->n_auths ? out->n_auths : 1, sizeof *out->auths);
    for (size_t i = 0; i < out->n_auths; i++)
        if (!p_authorization(json_array_get(v, i), &out->auths[i], e)) return false;
    return true;
}

bool p_call_args(const json_t *v, call_args *out, param_error *e)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(v))
        return perr_set(e, "json: cannot unmarshal %s into Go value of type ethapi.TransactionArgs", json_kind_go(v));
    const char *key;
    json_t *m;
    json_object_foreach((json_t *)v, key, m) {
        field_ctx where = {"TransactionArgs", key};
        bool ok = true;
        /* A null member is an absent one (Go's nil pointer). */
        bool null = json_is_null(m);
        if (strcmp(key, "from") == 0) ok = null || (out->has_from = p_address(m, &where, &out->from, e));
        else if (strcmp(key, "to") == 0) ok = null || (out->has_to = p_address(m, &where, &out->to, e));
        else if (strcmp(key, "gas") == 0) ok = null || (out->has_gas = p_u64(m, &where, &out->gas, e));
        else if (strcmp(key, "gasPrice") == 0) ok = null || (out->has_gas_price = p_u256(m, &where, &out->gas_price, e));
        else if (strcmp(key, "maxFeePerGas") == 0) ok = null || (out->has_max_fee = p_u256(m, &where, &out->max_fee, e));
        else if (strcmp(key, "maxPriorityFeePerGas") == 0)
            ok = null || (out->has_max_priority = p_u256(m, &where, &out->max_priority, e));
        else if (strcmp(key, "value") == 0) ok = null || (out->has_value = p_u256(m, &where, &out->value, e));
        else if (strcmp(key, "nonce") == 0) ok = null || (out->has_nonce = p_u64(m, &where, &out->nonce, e));
        else if (strcmp(key, "data") == 0) ok = null || (out->has_data = p_bytes(m, &where, &out->data, e));
        else if (strcmp(key, "input") == 0) ok = null || (out->has_input = p_bytes(m, &where, &out->input, e));
        else if (strcmp(key, "chainId") == 0) ok = null || (out->has_chain_id = p_u256(m, &where, &out->chain_id, e));
        else if (strcmp(key, "type") == 0) ok = null || (out->has_type = p_u64(m, &where, &out->type, e));
        else if (strcmp(key, "maxFeePerBlobGas") == 0)
            ok = null || (out->has_blob_fee = p_u256(m, &where, &out->max_fee_per_blob_gas, e));
        else if (strcmp(key, "accessList") == 0) ok = null || (out->has_access_list = p_access_list(m, out, e));
        else if (strcmp(key, "blobVersionedHashes") == 0) ok = null || (out->has_blob_hashes = p_blob_hashes(m, out, e));
        else if (strcmp(key, "authorizationList") == 0) ok = null || (out->has_auths = p_auths(m, out, e));
        else ok = perr_set(e, "json: unknown field \"%s\"", key);
        if (!ok) return false;
    }
    return true;
}

void call_args_free(call_args *a)
{
    bytebuf_free(&a->data);
    bytebuf_free(&a->input);
    free(a->access_list);
    free(a->access_keys);
    free(a->blob_hashes);
    free(a->auths);
    memset(a, 0, sizeof *a);
}

const bytebuf *call_args_data(const call_args *a)
{
    static const bytebuf empty;
    if (a->has_input) return &a->input;
    if (a->has_data) return &a->data;
    return &empty;
}

/* --- Formatting. */

void address_checksum(const address *a, char out[43])
{
    char lower[40];
    hex_encode(a->b, 20, lower);
    uint8_t h[32];
    keccak256(lower, 40, h);
    out[0] = '0';
    out[1] = 'x';
    for (int i = 0; i < 40; i++) {
        unsigned nibble = i % 2 ? h[i / 2] & 15 : h[i / 2] >> 4;
        char c = lower[i];
        out[2 + i] = (c >= 'a' && nibble >= 8) ? (char)(c - 'a' + 'A') : c;
    }
    out[42] = '\0';
}

void u256_to_dec(const u256 *v, char out[80])
{
    char tmp[80];
    size_t n = 0;
    u256 x = *v, ten19 = u256_from_u64(10000000000000000000ULL);
    do {
        u256 q, r;
        u256_divmod(&x, &ten19, &q, &r);
        uint64_t chunk = r.w[0];
        bool last = u256_is_zero(&q);
        for (int i = 0; i < 19 && (!last || chunk); i++) {
            tmp[n++] = (char)('0' + chunk % 10);
            chunk /= 10;
        }
        x = q;
    } while (!u256_is_zero(&x));
    if (n == 0) tmp[n++] = '0';
    for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

bool p_storage_key_text(const char *s, u256 *key, size_t *bytes, const char **why)
{
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s += 2;
    size_t n = strlen(s);
    if (n > 64) {
        *why = "storage key too long (want at most 32 bytes)";
        return false;
    }
    *key = u256_zero();
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (v < 0) {
            *why = "invalid hex in storage key";
            return false;
        }
        unsigned bit = 4 * (unsigned)(n - 1 - i);
        key->w[bit / 64] |= (uint64_t)v << (bit % 64);
    }
    if (bytes) *bytes = (n + 1) / 2;
    return true;
}
