/* geth's prestateTracer (eth/tracers/native/prestate.go): the accounts and
 * slots a transaction touched, as they were before it; with diffMode, the
 * touched accounts that changed, before (`pre`) and after (`post`).
 *
 * What is looked up, and when (geth's order, which decides the values):
 *   - at the start, from the state before the transaction: the sender, the
 *     recipient (or the address a creation makes, marked created), a
 *     recipient's EIP-7702 delegation target, the coinbase and the
 *     authorities of an authorization list;
 *   - before each instruction, from the live state: SLOAD/SSTORE's slot of
 *     the executing account; the account BALANCE, EXTCODE* and
 *     SELFDESTRUCT name; a CALL-family target (and its delegation target
 *     from Prague); the address CREATE or CREATE2 will make (marked
 *     created). SELFDESTRUCT marks the executing account deleted (from
 *     Cancun only when it was created in this transaction, EIP-6780).
 * An account is recorded once (the first lookup wins), a slot once.
 * At the end (after the transaction is finalized), diffMode compares each
 * recorded account with the post-state: unchanged accounts leave `pre`,
 * changed fields go to `post` (storage only with storage on; deleted
 * accounts stay in `pre` and are not in `post`; zero slots leave `pre`,
 * zeroed slots are not in `post`). Then accounts that were empty
 * (EIP-161) before leave `pre`, unless includeEmpty.
 * JSON: addresses and slots in ascending order (Go sorts map keys);
 * balance always, nonce when non-zero, code (disableCode: never) and
 * codeHash when the account has code, storage when it has slots. */
#include <stdlib.h>
#include <string.h>

#include "base/keccak.h"
#include "hexjson.h"
#include "rpc/json_values.h"
#include "rpc/trace_tracers.h"
#include "vm/opcodes.h"
#include "vm/tx.h"

typedef struct {
    u256 key, value;
} pre_slot;

typedef struct {
    address addr;
    u256 balance;
    uint64_t nonce;
    uint8_t *code;
    size_t code_len;
    bool has_code_hash;
    hash32 code_hash;
    bool empty;
    pre_slot *slots;
    size_t n_slots, cap_slots;
    bool created, deleted;
} pre_account;

typedef struct {
    u256 balance;
    bool has_balance;
    uint64_t nonce;
    bool has_nonce;
    bool has_code;
    uint8_t *code;
    size_t code_len;
    bool has_code_hash;
    hash32 code_hash;
    pre_slot *slots;
    size_t n_slots;
} post_account;

enum { PRESTATE_DEPTHS = EVM_MAX_DEPTH + 2, UNDO_SAVED = 4 };

/* What one instruction's lookups changed, to take back if the instruction
 * fails (geth's hook then carries the error and looks nothing up): the
 * accounts it added are those past n_before; the ones it changed are
 * saved as they were. */
typedef struct {
    bool active;
    size_t n_before;
    struct {
        size_t idx, n_slots;
        bool created, deleted;
    } saved[UNDO_SAVED];
    int n_saved;
} step_undo;

struct prestate_tracer {
    prestate_config cfg;
    address frame_addr[PRESTATE_DEPTHS]; /* the executing account, by step depth (on_enter keeps it) */
    step_undo undo[PRESTATE_DEPTHS];     /* by step depth: the last instruction's lookups, until it is known to have run */
    step_undo *recording;                /* on_step's, while it looks up */
    enum fork fork;
    const state_backend *base;
    const evm *e;
    pre_account *accts;
    size_t n, cap;
    post_account *post; /* diffMode: parallel to accts */
    bool *modified;
    bool finished;
};

static hash32 empty_code_hash(void)
{
    hash32 h;
    keccak256(NULL, 0, h.b);
    return h;
}

prestate_tracer *prestate_new(const prestate_config *cfg, const state_backend *base, enum fork f)
{
    prestate_tracer *t = xcalloc(1, sizeof *t);
    t->cfg = *cfg;
    t->base = base;
    t->fork = f;
    return t;
}

void prestate_free(prestate_tracer *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->accts[i].code);
        free(t->accts[i].slots);
        if (t->post) {
            free(t->post[i].code);
            free(t->post[i].slots);
        }
    }
    free(t->accts);
    free(t->post);
    free(t->modified);
    free(t);
}

static pre_account *find(prestate_tracer *t, const address *a)
{
    for (size_t i = 0; i < t->n; i++)
        if (memcmp(t->accts[i].addr.b, a->b, 20) == 0) return &t->accts[i];
    return NULL;
}

/* Keeps how an account recorded before this instruction was, before the
 * instruction's lookups change it. */
static void save_for_undo(prestate_tracer *t, const pre_account *p)
{
    step_undo *u = t->recording;
    size_t idx = (size_t)(p - t->accts);
    if (!u || idx >= u->n_before) return;
    for (int i = 0; i < u->n_saved; i++)
        if (u->saved[i].idx == idx) return;
    if (u->n_saved == UNDO_SAVED) return; /* an instruction changes at most two */
    u->saved[u->n_saved].idx = idx;
    u->saved[u->n_saved].n_slots = p->n_slots;
    u->saved[u->n_saved].created = p->created;
    u->saved[u->n_saved].deleted = p->deleted;
    u->n_saved++;
}

static void mark_created(prestate_tracer *t, pre_account *p)
{
    save_for_undo(t, p);
    p->created = true;
}

static void mark_deleted(prestate_tracer *t, pre_account *p)
{
    save_for_undo(t, p);
    p->deleted = true;
}

/* The failed instruction's lookups, taken back. */
static void undo_step(prestate_tracer *t, step_undo *u)
{
    if (!u->active) return;
    u->active = false;
    for (size_t i = u->n_before; i < t->n; i++) {
        free(t->accts[i].code);
        free(t->accts[i].slots);
    }
    if (t->n > u->n_before) t->n = u->n_before;
    for (int i = 0; i < u->n_saved; i++) {
        pre_account *p = &t->accts[u->saved[i].idx];
        p->n_slots = u->saved[i].n_slots;
        p->created = u->saved[i].created;
        p->deleted = u->saved[i].deleted;
    }
}

/* geth's lookupAccount: the account as `st` has it now, once. */
static pre_account *lookup_account(prestate_tracer *t, state *st, const address *a)
{
    pre_account *p = find(t, a);
    if (p) return p;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->accts = xrealloc(t->accts, t->cap * sizeof *t->accts);
    }
    p = &t->accts[t->n++];
    memset(p, 0, sizeof *p);
    p->addr = *a;
    p->balance = state_get_balance(st, a);
    p->nonce = state_get_nonce(st, a);
    const code_info *ci = state_get_code(st, a);
    if (ci->code_len) {
        p->code = xmalloc(ci->code_len);
        memcpy(p->code, ci->code, ci->code_len);
        p->code_len = ci->code_len;
    }
    hash32 h = state_get_code_hash(st, a), zero = {{0}}, empty = empty_code_hash();
    if (memcmp(h.b, zero.b, 32) && memcmp(h.b, empty.b, 32)) {
        p->has_code_hash = true;
        p->code_hash = h;
    }
    p->empty = p->nonce == 0 && p->code_len == 0 && u256_is_zero(&p->balance);
    return p;
}

static void lookup_storage(prestate_tracer *t, state *st, const address *a, const u256 *key)
{
    if (t->cfg.disable_storage) return;
    pre_account *p = lookup_account(t, st, a); /* already there: the executing account */
    for (size_t i = 0; i < p->n_slots; i++)
        if (u256_eq(&p->slots[i].key, key)) return;
    save_for_undo(t, p);
    if (p->n_slots == p->cap_slots) {
        p->cap_slots = p->cap_slots ? 2 * p->cap_slots : 8;
        p->slots = xrealloc(p->slots, p->cap_slots * sizeof *p->slots);
    }
    p->slots[p->n_slots].key = *key;
    p->slots[p->n_slots].value = state_get_storage(st, a, key);
    p->n_slots++;
}

static void lookup_with_delegation(prestate_tracer *t, state *st, const address *a)
{
    lookup_account(t, st, a);
    if (t->fork < FORK_PRAGUE) return;
    const code_info *ci = state_get_code(st, a);
    address target;
    if (delegation_target(ci->code, ci->code_len, &target)) lookup_account(t, st, &target);
}

void prestate_tx_start(prestate_tracer *t, const address *sender, const address *to, bool creation,
                       const address *coinbase, const address *authorities, size_t n_authorities)
{
    state *st = state_new(t->base);
    if (creation) lookup_account(t, st, to)->created = true;
    else if (t->fork >= FORK_PRAGUE) {
        const code_info *ci = state_get_code(st, to);
        address target;
        if (delegation_target(ci->code, ci->code_len, &target)) lookup_account(t, st, &target);
    }
    lookup_account(t, st, sender);
    lookup_account(t, st, to);
    lookup_account(t, st, coinbase);
    for (size_t i = 0; i < n_authorities; i++) lookup_account(t, st, &authorities[i]);
    state_free(st);
}

static address top_address(const u256 *w)
{
    address a;
    uint8_t b[32];
    u256_store_be(b, w);
    memcpy(a.b, b + 12, 20);
    return a;
}


static void on_enter(void *ctx, const evm *e, const message *msg)
{
    prestate_tracer *t = ctx;
    t->e = e;
    int d = msg->depth + 1;
    if (d >= PRESTATE_DEPTHS) return;
    t->frame_addr[d] = msg->recipient;
    t->undo[d - 1].active = false; /* the CALL or CREATE that entered it ran */
    t->undo[d].active = false;
}

static void prestate_exit(void *ctx, const evm *e, const message *msg, const exec_result *r)
{
    (void)e;
    prestate_tracer *t = ctx;
    int d = msg->depth + 1;
    if (d >= PRESTATE_DEPTHS) return;
    /* A frame that failed exceptionally failed at its last instruction,
     * unless that instruction already ran (a creation refused after RETURN). */
    if (r->status != EXEC_SUCCESS && r->status != EXEC_REVERT && r->status != EXEC_CODE_SIZE_EXCEEDED &&
        r->status != EXEC_INVALID_CODE_PREFIX && r->status != EXEC_CREATE_COLLISION)
        undo_step(t, &t->undo[d]);
    t->undo[d].active = false;
}

static void on_step(void *ctx, const trace_step *s)
{
    prestate_tracer *t = ctx;
    if (s->depth < 1 || s->depth >= PRESTATE_DEPTHS) return;
    /* geth looks nothing up for an instruction that fails its stack check
     * (its hook then carries the error). */
    step_undo *u = &t->undo[s->depth];
    u->active = false; /* the previous instruction of this frame ran */
    if (s->stack_len < opcode_table[s->op].stack_in) return;
    *u = (step_undo){.active = true, .n_before = t->n};
    t->recording = u;
    state *st = evm_state(t->e);
    const address *self = &t->frame_addr[s->depth];
    const u256 *top = s->stack_len ? &s->stack[s->stack_len - 1] : NULL;
    switch (s->op) {
    case OP_SLOAD:
    case OP_SSTORE:
        if (top) lookup_storage(t, st, self, top);
        break;
    case OP_EXTCODECOPY:
    case OP_EXTCODEHASH:
    case OP_EXTCODESIZE:
    case OP_BALANCE:
    case OP_SELFDESTRUCT:
        if (!top) break;
        {
            address a = top_address(top);
            lookup_account(t, st, &a);
        }
        if (s->op == OP_SELFDESTRUCT) {
            pre_account *me = find(t, self);
            if (me && (t->fork < FORK_CANCUN || me->created)) mark_deleted(t, me);
            else if (!me && t->fork < FORK_CANCUN) mark_deleted(t, lookup_account(t, st, self));
        }
        break;
    case OP_CALL:
    case OP_CALLCODE:
    case OP_DELEGATECALL:
    case OP_STATICCALL:
        if (s->stack_len >= 5) {
            address a = top_address(&s->stack[s->stack_len - 2]);
            lookup_with_delegation(t, st, &a);
        }
        break;
    case OP_CREATE: {
        address a = create_address(self, state_get_nonce(st, self));
        mark_created(t, lookup_account(t, st, &a));
        break;
    }
    case OP_CREATE2:
        if (s->stack_len >= 4) {
            const u256 *off = &s->stack[s->stack_len - 2], *size = &s->stack[s->stack_len - 3];
            /* geth reads the initcode from memory as it stands (zeros past its end). */
            uint64_t o = u256_fits_u64(off) ? off->w[0] : UINT64_MAX, n = u256_fits_u64(size) ? size->w[0] : 0;
            if (n > ((uint64_t)1 << 32)) break;
            uint8_t *init = xcalloc(n ? n : 1, 1);
            for (uint64_t i = 0; i < n; i++)
                if (o + i >= o && o + i < s->mem_size) init[i] = s->memory[o + i];
            address a = create2_address(self, &s->stack[s->stack_len - 4], init, n);
            free(init);
            mark_created(t, lookup_account(t, st, &a));
        }
        break;
    default: break;
    }
    t->recording = NULL;
}

static int slot_cmp(const void *pa, const void *pb)
{
    const pre_slot *a = pa, *b = pb;
    for (int i = 3; i >= 0; i--)
        if (a->key.w[i] != b->key.w[i]) return a->key.w[i] < b->key.w[i] ? -1 : 1;
    return 0;
}

/* geth's processDiffState, against the finalized post-state. */
static void on_tx_end(void *ctx, const evm *e)
{
    prestate_tracer *t = ctx;
    t->finished = true;
    if (!t->cfg.diff_mode) return;
    state *st = evm_state(e);
    t->post = xcalloc(t->n + 1, sizeof *t->post);
    t->modified = xcalloc(t->n + 1, sizeof *t->modified);
    hash32 empty = empty_code_hash();
    for (size_t i = 0; i < t->n; i++) {
        pre_account *p = &t->accts[i];
        post_account *q = &t->post[i];
        if (p->deleted) {
            t->modified[i] = true; /* kept in pre, not in post */
            continue;
        }
        bool modified = false;
        u256 bal = state_get_balance(st, &p->addr);
        if (!u256_eq(&bal, &p->balance)) {
            modified = q->has_balance = true;
            q->balance = bal;
        }
        uint64_t nonce = state_get_nonce(st, &p->addr);
        if (nonce != p->nonce) {
            modified = q->has_nonce = true;
            q->nonce = nonce;
        }
        /* An account that does not exist has no code either: its zero
         * hash counts as the empty code's (geth compares GetCodeHash's
         * zero for a missing account with the empty code's hash, which
         * would list every untouched missing account as changed). */
        hash32 h = state_get_code_hash(st, &p->addr), prev = p->has_code_hash ? p->code_hash : empty, zero = {{0}};
        if (!memcmp(h.b, zero.b, 32)) h = empty;
        if (memcmp(h.b, prev.b, 32)) {
            modified = q->has_code_hash = true;
            q->code_hash = h;
        }
        if (!t->cfg.disable_code) {
            const code_info *ci = state_get_code(st, &p->addr);
            if (ci->code_len != p->code_len || (ci->code_len && memcmp(ci->code, p->code, ci->code_len))) {
                modified = q->has_code = true;
                if (ci->code_len) {
                    q->code = xmalloc(ci->code_len);
                    memcpy(q->code, ci->code, ci->code_len);
                }
                q->code_len = ci->code_len;
            }
        }
        if (!t->cfg.disable_storage) {
            size_t keep = 0;
            q->slots = xcalloc(p->n_slots + 1, sizeof *q->slots);
            for (size_t k = 0; k < p->n_slots; k++) {
                u256 now = state_get_storage(st, &p->addr, &p->slots[k].key);
                bool was_zero = u256_is_zero(&p->slots[k].value);
                if (u256_eq(&now, &p->slots[k].value)) continue; /* unchanged: dropped */
                modified = true;
                if (!u256_is_zero(&now)) q->slots[q->n_slots++] = (pre_slot){p->slots[k].key, now};
                if (!was_zero) p->slots[keep++] = p->slots[k];
            }
            /* Unchanged and zero slots leave pre. */
            p->n_slots = keep;
        }
        t->modified[i] = modified;
    }
}

static json_t *account_json(const pre_account *p, bool with_code, bool with_storage)
{
    json_t *o = json_object();
    json_object_set_new(o, "balance", jv_quantity(&p->balance));
    if (with_code && p->code_len) json_object_set_new(o, "code", jv_data(p->code, p->code_len));
    if (p->has_code_hash) json_object_set_new(o, "codeHash", jv_hash(&p->code_hash));
    if (p->nonce) json_object_set_new(o, "nonce", json_integer((json_int_t)p->nonce)); /* a JSON number, as geth's uint64 */
    if (with_storage && p->n_slots) {
        pre_slot *sorted = xmalloc(p->n_slots * sizeof *sorted);
        memcpy(sorted, p->slots, p->n_slots * sizeof *sorted);
        qsort(sorted, p->n_slots, sizeof *sorted, slot_cmp);
        json_t *s = json_object();
        for (size_t k = 0; k < p->n_slots; k++) {
            char key[HEX_HASH_LEN];
            hash32 kh, vh;
            u256_store_be(kh.b, &sorted[k].key);
            u256_store_be(vh.b, &sorted[k].value);
            hex_from_hash(&kh, key);
            json_object_set_new(s, key, jv_hash(&vh));
        }
        free(sorted);
        json_object_set_new(o, "storage", s);
    }
    return o;
}

static json_t *post_json(const post_account *q)
{
    json_t *o = json_object();
    if (q->has_balance) json_object_set_new(o, "balance", jv_quantity(&q->balance));
    if (q->has_code) json_object_set_new(o, "code", jv_data(q->code, q->code_len));
    if (q->has_code_hash) json_object_set_new(o, "codeHash", jv_hash(&q->code_hash));
    if (q->has_nonce && q->nonce) json_object_set_new(o, "nonce", json_integer((json_int_t)q->nonce));
    if (q->n_slots) {
        qsort(q->slots, q->n_slots, sizeof *q->slots, slot_cmp);
        json_t *s = json_object();
        for (size_t k = 0; k < q->n_slots; k++) {
            char key[HEX_HASH_LEN];
            hash32 kh, vh;
            u256_store_be(kh.b, &q->slots[k].key);
            u256_store_be(vh.b, &q->slots[k].value);
            hex_from_hash(&kh, key);
            json_object_set_new(s, key, jv_hash(&vh));
        }
        json_object_set_new(o, "storage", s);
    }
    return o;
}

static int index_cmp_ctx_addr(const void *pa, const void *pb, void *ctx)
{
    const pre_account *accts = ctx;
    return memcmp(accts[*(const size_t *)pa].addr.b, accts[*(const size_t *)pb].addr.b, 20);
}

json_t *prestate_result(prestate_tracer *t)
{
    size_t *order = xmalloc((t->n + 1) * sizeof *order);
    for (size_t i = 0; i < t->n; i++) order[i] = i;
    qsort_r(order, t->n, sizeof *order, index_cmp_ctx_addr, t->accts);
    json_t *pre = json_object(), *post = t->cfg.diff_mode ? json_object() : NULL;
    for (size_t k = 0; k < t->n; k++) {
        size_t i = order[k];
        const pre_account *p = &t->accts[i];
        char key[HEX_ADDRESS_LEN];
        hex_from_address(&p->addr, key);
        if (t->cfg.diff_mode && t->modified && !t->modified[i]) continue;
        if (post && t->post && !p->deleted) json_object_set_new(post, key, post_json(&t->post[i]));
        if (p->empty && !t->cfg.include_empty) continue;
        json_object_set_new(pre, key, account_json(p, !t->cfg.disable_code, !t->cfg.disable_storage));
    }
    free(order);
    if (!post) return pre;
    json_t *r = json_object();
    json_object_set_new(r, "post", post);
    json_object_set_new(r, "pre", pre);
    return r;
}

tracer prestate_tracer_hooks(prestate_tracer *t)
{
    return (tracer){.ctx = t, .on_step = on_step, .on_enter = on_enter, .on_exit = prestate_exit, .on_tx_end = on_tx_end};
}
