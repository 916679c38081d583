/* Strict parsing of JSON-RPC parameters, with geth's rules and wording:
 * quantities are "0x"-prefixed hex without leading zeros, byte strings have
 * an even number of digits, addresses and hashes have exactly 20 and 32
 * bytes, unknown object members are refused. A failed parse leaves a reason
 * in a param_error; the caller prefixes "invalid argument N: ". */
#ifndef JITEVM_RPC_PARAMS_H
#define JITEVM_RPC_PARAMS_H

#include <jansson.h>
#include <stdbool.h>

#include "vm/tx.h"
#include "base/types.h"
#include "base/u256.h"

typedef struct {
    char msg[400];
} param_error;

bool perr_set(param_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Where a value sits, for messages: a member `field` of Go struct `strct`
 * ("json: cannot unmarshal ... into Go struct field TransactionArgs.to of
 * type common.Address"), or a whole argument (strct NULL: "... into Go
 * value of type ..."). */
typedef struct {
    const char *strct;
    const char *field;
} field_ctx;

bool p_u256(const json_t *v, const field_ctx *where, u256 *out, param_error *e);    /* *hexutil.Big */
bool p_u64(const json_t *v, const field_ctx *where, uint64_t *out, param_error *e); /* hexutil.Uint64 */
bool p_bytes(const json_t *v, const field_ctx *where, bytebuf *out, param_error *e); /* hexutil.Bytes */
bool p_address(const json_t *v, const field_ctx *where, address *out, param_error *e);
bool p_hash(const json_t *v, const field_ctx *where, hash32 *out, param_error *e);
/* A map key (no JSON quoting): Address/Hash UnmarshalText. */
bool p_address_text(const char *s, address *out, param_error *e);
bool p_hash_text(const char *s, hash32 *out, param_error *e);
/* geth's decodeStorageKey: "0x" optional, an odd digit count padded, at
 * most 32 bytes; *bytes (if not NULL) gets the decoded length (eth_getProof
 * echoes a key by it); on failure *why says why in geth's words. */
bool p_storage_key_text(const char *s, u256 *key, size_t *bytes, const char **why);
/* The JSON type of v for "cannot unmarshal <kind> into ..." ("number", "string", ...). */
const char *json_kind_go(const json_t *v);

/* --- Block selectors (geth's BlockNumberOrHash). */
enum block_tag { BLOCK_LATEST, BLOCK_PENDING, BLOCK_SAFE, BLOCK_FINALIZED, BLOCK_EARLIEST, BLOCK_NUMBER, BLOCK_HASH };
typedef struct {
    enum block_tag tag;
    uint64_t number;
    hash32 hash;
    bool require_canonical;
} block_selector;
bool p_block(const json_t *v, block_selector *out, param_error *e);

/* --- Transaction arguments (geth's TransactionArgs). */
typedef struct {
    bool has_from, has_to, has_gas, has_gas_price, has_max_fee, has_max_priority, has_value, has_nonce;
    bool has_data, has_input, has_access_list, has_chain_id, has_type, has_blob_fee, has_blob_hashes, has_auths;
    address from, to;
    uint64_t gas, nonce, type;
    u256 gas_price, max_fee, max_priority, value, chain_id, max_fee_per_blob_gas;
    bytebuf data, input;
    access_list_entry *access_list;
    size_t n_access_list;
    hash32 *access_keys; /* all entries' keys, back to back */
    hash32 *blob_hashes;
    size_t n_blob_hashes;
    authorization *auths;
    size_t n_auths;
} call_args;

bool p_call_args(const json_t *v, call_args *out, param_error *e);
void call_args_free(call_args *a);
/* The call data: input when given, else data (geth's args.data()). */
const bytebuf *call_args_data(const call_args *a);

/* --- Formatting helpers for messages. */
/* EIP-55 mixed-case hex, as geth's Address.Hex(). */
void address_checksum(const address *a, char out[43]);
/* Decimal, as Go prints big integers. */
void u256_to_dec(const u256 *v, char out[80]);

#endif
