#include "rpc/overrides.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/keccak.h"
#include "precompile/precompile.h"

static int compare_accounts(const void *a, const void *b)
{
    return memcmp(((const override_account *)a)->addr.b, ((const override_account *)b)->addr.b, 20);
}

static int compare_keys(const u256 *a, const u256 *b)
{
    for (int i = 3; i >= 0; i--)
        if (a->w[i] != b->w[i]) return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

static int compare_slots(const void *a, const void *b)
{
    return compare_keys(&((const override_slot *)a)->key, &((const override_slot *)b)->key);
}

/* A {slot: value} map of 32-byte hashes. */
static bool parse_storage(const json_t *v, const char *field, override_account *acc, param_error *e)
{
    if (!json_is_object(v))
        return perr_set(e, "json: cannot unmarshal %s into Go struct field OverrideAccount.%s of type map[common.Hash]common.Hash",
                        json_kind_go(v), field);
    acc->n_slots = json_object_size(v);
    acc->slots = xcalloc(acc->n_slots ? acc->n_slots : 1, sizeof *acc->slots);
    size_t i = 0;
    const char *key;
    json_t *value;
    field_ctx where = {"OverrideAccount", field};
    json_object_foreach((json_t *)v, key, value) {
        hash32 k, val;
        if (!p_hash_text(key, &k, e) || !p_hash(value, &where, &val, e)) return false;
        acc->slots[i].key = u256_load_be(k.b);
        acc->slots[i].value = u256_load_be(val.b);
        i++;
    }
    qsort(acc->slots, acc->n_slots, sizeof *acc->slots, compare_slots);
    return true;
}

static bool parse_account(const json_t *v, override_account *acc, param_error *e)
{
    if (!json_is_object(v))
        return perr_set(e, "json: cannot unmarshal %s into Go value of type override.OverrideAccount", json_kind_go(v));
    const json_t *state = NULL, *diff = NULL;
    const char *key;
    json_t *m;
    json_object_foreach((json_t *)v, key, m) {
        if (json_is_null(m)) continue;
        field_ctx where = {"OverrideAccount", key};
        bool ok = true;
        if (strcmp(key, "nonce") == 0) ok = acc->has_nonce = p_u64(m, &where, &acc->nonce, e);
        else if (strcmp(key, "balance") == 0) ok = acc->has_balance = p_u256(m, &where, &acc->balance, e);
        else if (strcmp(key, "code") == 0) {
            ok = acc->has_code = p_bytes(m, &where, &acc->code, e);
            if (ok) keccak256(acc->code.data, acc->code.len, acc->code_hash.b);
        } else if (strcmp(key, "state") == 0) state = m;
        else if (strcmp(key, "stateDiff") == 0) diff = m;
        else if (strcmp(key, "movePrecompileToAddress") == 0) ok = acc->has_move = p_address(m, &where, &acc->move_to, e);
        else ok = perr_set(e, "json: unknown field \"%s\"", key);
        if (!ok) return false;
    }
    /* Both given is refused by override_validate, with geth's message (geth
     * checks it after the account's other fields). */
    acc->state_and_diff = state && diff;
    if (state) {
        acc->storage = OVERRIDE_STORAGE_REPLACE;
        if (!parse_storage(state, "state", acc, e)) return false;
    } else if (diff) {
        acc->storage = OVERRIDE_STORAGE_DIFF;
        if (!parse_storage(diff, "stateDiff", acc, e)) return false;
    }
    return true;
}

bool override_parse(const json_t *v, override_set *out, param_error *e)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(v))
        return perr_set(e, "json: cannot unmarshal %s into Go value of type override.StateOverride", json_kind_go(v));
    out->accounts = xcalloc(json_object_size(v) ? json_object_size(v) : 1, sizeof *out->accounts);
    const char *key;
    json_t *m;
    json_object_foreach((json_t *)v, key, m) {
        override_account *acc = &out->accounts[out->n++];
        if (!p_address_text(key, &acc->addr, e) || !parse_account(m, acc, e)) return false;
    }
    qsort(out->accounts, out->n, sizeof *out->accounts, compare_accounts);
    /* Keys differing only in letter case name the same account. */
    for (size_t i = 1; i < out->n; i++)
        if (memcmp(out->accounts[i].addr.b, out->accounts[i - 1].addr.b, 20) == 0) {
            char hex[43];
            address_checksum(&out->accounts[i].addr, hex);
            return perr_set(e, "account %s is given twice", hex);
        }
    return true;
}

static const override_account *find_account(const override_set *set, const address *a)
{
    size_t lo = 0, hi = set->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = memcmp(set->accounts[mid].addr.b, a->b, 20);
        if (c == 0) return &set->accounts[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

bool override_validate(override_set *set, enum fork f, char *msg, size_t msg_len)
{
    char hex[43];
    free(set->moves);
    set->moves = NULL;
    set->n_moves = 0;
    size_t n_moves = 0;
    for (size_t i = 0; i < set->n; i++) {
        const override_account *acc = &set->accounts[i];
        address_checksum(&acc->addr, hex);
        /* geth checks in address order; the move checks come first. (Its
         * "already been overridden by a precompile" cannot happen: a move
         * to an overridden account is refused.) */
        if (acc->has_move) {
            if (set->no_precompile_table || !precompile_is_active(&acc->addr, f)) {
                snprintf(msg, msg_len, "account %s is not a precompile", hex);
                return false;
            }
            if (find_account(set, &acc->move_to)) {
                address_checksum(&acc->move_to, hex);
                snprintf(msg, msg_len, "account %s is already overridden", hex);
                return false;
            }
            n_moves++;
        }
        if (acc->state_and_diff) {
            snprintf(msg, msg_len, "account %s has both 'state' and 'stateDiff'", hex);
            return false;
        }
    }
    if (n_moves) {
        /* geth moves in address order and a later move to the same address
         * replaces an earlier one; the core takes the first match. */
        set->moves = xcalloc(n_moves, sizeof *set->moves);
        for (size_t i = set->n; i-- > 0;) {
            const override_account *acc = &set->accounts[i];
            if (!acc->has_move) continue;
            set->moves[set->n_moves].from = acc->addr;
            set->moves[set->n_moves].to = acc->move_to;
            set->n_moves++;
        }
    }
    return true;
}

void override_free(override_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        bytebuf_free(&set->accounts[i].code);
        free(set->accounts[i].slots);
    }
    free(set->accounts);
    free(set->moves);
    memset(set, 0, sizeof *set);
}

static const override_slot *find_slot(const override_account *acc, const u256 *key)
{
    size_t lo = 0, hi = acc->n_slots;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = compare_keys(&acc->slots[mid].key, key);
        if (c == 0) return &acc->slots[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

/* --- The backend. */

static bool ov_get_account(void *ctx, const address *addr, account_info *out)
{
    const override_set *set = ctx;
    const override_account *acc = find_account(set, addr);
    bool exists = set->base->get_account(set->base->ctx, addr, out);
    if (!acc) return exists;
    if (!exists) {
        /* An overridden account exists, even when empty (geth creates it). */
        memset(out, 0, sizeof *out);
        keccak256(NULL, 0, out->code_hash.b);
    }
    if (acc->has_nonce) out->nonce = acc->nonce;
    if (acc->has_balance) out->balance = acc->balance;
    if (acc->has_code) out->code_hash = acc->code_hash;
    return true;
}

static bool ov_get_code(void *ctx, const hash32 *code_hash, const uint8_t **code, size_t *len)
{
    const override_set *set = ctx;
    for (size_t i = 0; i < set->n; i++) {
        const override_account *acc = &set->accounts[i];
        if (acc->has_code && memcmp(acc->code_hash.b, code_hash->b, 32) == 0) {
            static const uint8_t none[1];
            *code = acc->code.len ? acc->code.data : none;
            *len = acc->code.len;
            return true;
        }
    }
    return set->base->get_code(set->base->ctx, code_hash, code, len);
}

static void ov_get_storage(void *ctx, const address *addr, const u256 *key, u256 *out)
{
    const override_set *set = ctx;
    const override_account *acc = find_account(set, addr);
    if (acc && acc->storage != OVERRIDE_STORAGE_NONE) {
        const override_slot *slot = find_slot(acc, key);
        if (slot) {
            *out = slot->value;
            return;
        }
        if (acc->storage == OVERRIDE_STORAGE_REPLACE) {
            *out = u256_zero();
            return;
        }
    }
    set->base->get_storage(set->base->ctx, addr, key, out);
}

static bool ov_get_block_hash(void *ctx, uint64_t number, hash32 *out)
{
    const override_set *set = ctx;
    return set->base->get_block_hash(set->base->ctx, number, out);
}

static bool ov_has_storage(void *ctx, const address *addr)
{
    const override_set *set = ctx;
    const override_account *acc = find_account(set, addr);
    if (acc && acc->storage != OVERRIDE_STORAGE_NONE) {
        for (size_t i = 0; i < acc->n_slots; i++)
            if (!u256_is_zero(&acc->slots[i].value)) return true;
        if (acc->storage == OVERRIDE_STORAGE_REPLACE) return false;
    }
    return set->base->has_storage && set->base->has_storage(set->base->ctx, addr);
}

state_backend override_backend(override_set *set, const state_backend *base)
{
    set->base = base;
    return STATE_BACKEND_OF(set, ov);
}
