/* The journaled state overlay. Accounts, storage slots and transient slots
 * live in flat arrays found through open-addressing index tables; the
 * journal records old values by array index, so a revert is a walk back
 * over plain records. */
#include "state/state.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "vm/code_cache.h"
#include "jit/jit_internal.h"
#include "base/keccak.h"
#include "vm/opcodes.h"
#include "precompile/precompile.h"
#include "base/rlp.h"
#include "base/trie.h"

typedef struct {
    address addr;
    account_info info;
    account_info committed; /* as the backend has it (after the last commit) */
    bool exists;
    bool committed_exists;
    bool warm;
    bool touched;
    bool created;
    bool destructed;
    bool storage_wiped;   /* destroyed: backend storage no longer applies */
    bool code_changed;
    bool code_loaded;
    bool loaded;          /* info/exists read from the backend (warming alone does not read) */
    const uint8_t *code;
    size_t code_len;
    code_info *analysis;  /* lazily built; NULL until first execution */
} account;

typedef struct {
    uint32_t account;
    u256 key;
    u256 committed; /* backend value */
    u256 original;  /* value at the start of the transaction */
    u256 current;
    bool warm;
} slot;

typedef struct {
    uint32_t account;
    u256 key;
    u256 value;
} transient_slot;

enum journal_kind {
    J_BALANCE,
    J_NONCE,
    J_STORAGE,
    J_TRANSIENT,
    J_WARM_ACCOUNT,
    J_WARM_SLOT,
    J_CODE,
    J_EXISTS,
    J_TOUCH,
    J_CREATED,
    J_DESTRUCTED,
};

typedef struct {
    uint8_t kind;
    uint32_t index; /* account, slot or transient slot */
    union {
        u256 value;
        uint64_t nonce;
        bool flag;
        struct {
            const uint8_t *code;
            size_t len;
            hash32 hash;
            code_info *analysis;
            bool changed;
        } code;
    } old;
} journal_entry;

/* An index table maps a hash to positions in one of the arrays above.
 * Entries hold position + 1 (0 = empty). */
typedef struct {
    uint32_t *cells;
    size_t mask; /* capacity - 1, capacity a power of two */
    size_t count;
} index_table;

struct state {
    const state_backend *backend;
    state_backend backend_copy;
    account *accounts;
    size_t n_accounts, cap_accounts;
    index_table account_index;
    slot *slots;
    size_t n_slots, cap_slots;
    index_table slot_index;
    transient_slot *transients;
    size_t n_transients, cap_transients;
    index_table transient_index;
    journal_entry *journal;
    size_t journal_len, journal_cap;
    log_entry *logs;
    size_t n_logs, cap_logs;
    uint64_t logs_added;
    int64_t refund;
    uint32_t last_account; /* account_index_of's last answer (checked against n_accounts) */
    /* state_warm_precompiles: the active precompiles of precompiles_fork
     * are warm without entries of their own. */
    bool precompiles_warm;
    enum fork precompiles_fork;
    bool past_spare_limit; /* an array or table grew past spare_bytes_max */
    /* Code buffers set during execution, and analyses; freed with the state. */
    void **owned;
    size_t n_owned, cap_owned;
    /* Analyses held from the process-wide code cache. */
    const code_info **acquired;
    size_t n_acquired, cap_acquired;
};

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static uint64_t hash_address(const address *a)
{
    uint64_t w0, w1;
    uint32_t w2;
    memcpy(&w0, a->b, 8);
    memcpy(&w1, a->b + 8, 8);
    memcpy(&w2, a->b + 16, 4);
    return mix64(w0 ^ (w1 * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)w2 << 17));
}

static uint64_t hash_slot(uint32_t account_index, const u256 *key)
{
    return mix64(key->w[0] ^ (key->w[1] * 0x9e3779b97f4a7c15ULL) ^ (key->w[2] << 7) ^
                 (key->w[3] * 0xc2b2ae3d27d4eb4fULL) ^ ((uint64_t)account_index << 40));
}

/* Small to start: an eth_call touches a handful of accounts and slots,
 * and a table grows by doubling when half full. */
#define INDEX_INITIAL_CELLS 16
#define ARRAY_INITIAL_CAP 8

static void index_init(index_table *t)
{
    t->mask = INDEX_INITIAL_CELLS - 1;
    t->count = 0;
    t->cells = xcalloc(t->mask + 1, sizeof *t->cells);
}

/* Empties a table whose entries are positions 0..n-1 of an array, with
 * work proportional to n rather than to the capacity when few cells are
 * used: each entry's cell is found by its probe and cleared, the last
 * inserted first. Entries are inserted in position order (also on
 * rebuild), so an entry's probe passes only cells of earlier entries,
 * which are still set when it is cleared. */
static inline void index_clear(index_table *t, size_t n, uint64_t (*hash_at)(const void *, size_t), const void *arr)
{
    if (n * 8 >= t->mask + 1) {
        memset(t->cells, 0, (t->mask + 1) * sizeof *t->cells);
    } else {
        for (size_t i = n; i-- > 0;) {
            size_t h = hash_at(arr, i) & t->mask;
            while (t->cells[h] != (uint32_t)i + 1) h = (h + 1) & t->mask;
            t->cells[h] = 0;
        }
    }
    t->count = 0;
}

/* An array or table past this size is freed rather than kept in the
 * thread's spare state (state_free). */
static const size_t spare_bytes_max = (size_t)64 << 10;

/* Arrays and index tables grow only through grow_array and the rebuilds,
 * which note when one passes the spare limit: keep_spare_state looks at
 * their sizes only then. */
static void *grow_array(state *s, void *p, size_t *cap, size_t elem)
{
    *cap = *cap ? *cap * 2 : ARRAY_INITIAL_CAP;
    if (*cap * elem > spare_bytes_max) s->past_spare_limit = true;
    return xrealloc(p, *cap * elem);
}

static void owned_add(state *s, void *p)
{
    if (s->n_owned == s->cap_owned) s->owned = grow_array(s, s->owned, &s->cap_owned, sizeof *s->owned);
    s->owned[s->n_owned++] = p;
}

/* ---- accounts ---- */

static uint64_t account_hash_at(const void *arr, size_t i) { return hash_address(&((const account *)arr)[i].addr); }
static uint64_t slot_hash_at(const void *arr, size_t i);
static uint64_t transient_hash_at(const void *arr, size_t i);

static account *account_at(state *s, uint32_t i) { return &s->accounts[i]; }

static void account_index_rebuild(state *s)
{
    index_table *t = &s->account_index;
    free(t->cells);
    t->mask = (t->mask + 1) * 2 - 1;
    if ((t->mask + 1) * sizeof *t->cells > spare_bytes_max) s->past_spare_limit = true;
    t->cells = xcalloc(t->mask + 1, sizeof *t->cells);
    for (size_t i = 0; i < s->n_accounts; i++) {
        size_t h = hash_address(&s->accounts[i].addr) & t->mask;
        while (t->cells[h]) h = (h + 1) & t->mask;
        t->cells[h] = (uint32_t)i + 1;
    }
}

/* The account's position, added unread when new: warming an address (the
 * precompiles, an access list) must not read it, because in live mode a
 * read can be a network fetch. account_find reads it on first use. The
 * last account found is checked first: a call asks for its recipient
 * several times in a row (exists, touch, code). */
static uint32_t account_index_of(state *s, const address *a)
{
    uint32_t last = s->last_account;
    if (last < s->n_accounts && address_equal(&s->accounts[last].addr, a)) return last;
    index_table *t = &s->account_index;
    size_t h = hash_address(a) & t->mask;
    for (;;) {
        uint32_t c = t->cells[h];
        if (!c) break;
        if (address_equal(&s->accounts[c - 1].addr, a)) return s->last_account = c - 1;
        h = (h + 1) & t->mask;
    }
    if (s->n_accounts == s->cap_accounts)
        s->accounts = grow_array(s, s->accounts, &s->cap_accounts, sizeof *s->accounts);
    uint32_t idx = (uint32_t)s->n_accounts++;
    /* One initializer (inline stores) rather than a memset call and the
     * committed copy after it: ~45 instructions of every new account. */
    s->accounts[idx] = (account){.addr = *a, .info.code_hash = KECCAK_EMPTY, .committed.code_hash = KECCAK_EMPTY};
    t->cells[h] = idx + 1;
    if (++t->count * 2 > t->mask) account_index_rebuild(s);
    return s->last_account = idx;
}

static uint32_t account_find_slow(state *s, const address *a)
{
    uint32_t idx = account_index_of(s, a);
    account *acc = &s->accounts[idx];
    if (acc->loaded) return idx;
    acc->loaded = true;
    acc->exists = s->backend->get_account(s->backend->ctx, a, &acc->info);
    if (!acc->exists) {
        memset(&acc->info, 0, sizeof acc->info);
        acc->info.code_hash = KECCAK_EMPTY;
    }
    acc->committed = acc->info;
    acc->committed_exists = acc->exists;
    return idx;
}
/* The account's position, read from the backend on first use. The last
 * account found, already read, is answered inline. */
static inline uint32_t account_find(state *s, const address *a)
{
    uint32_t last = s->last_account;
    if (last < s->n_accounts && s->accounts[last].loaded && address_equal(&s->accounts[last].addr, a)) return last;
    return account_find_slow(s, a);
}
static account *acct(state *s, const address *a) { return account_at(s, account_find(s, a)); }

/* Out of line, so that journal_push's common case inlines (a call to
 * touch or warm paid ~20 instructions for it). */
static __attribute__((noinline, cold)) void journal_grow(state *s)
{
    s->journal = grow_array(s, s->journal, &s->journal_cap, sizeof *s->journal);
}

static inline journal_entry *journal_push(state *s, enum journal_kind kind, uint32_t index)
{
    if (s->journal_len == s->journal_cap) journal_grow(s);
    journal_entry *e = &s->journal[s->journal_len++];
    e->kind = (uint8_t)kind;
    e->index = index;
    return e;
}

/* Any write makes an absent account exist (as geth's state objects do). */
static void ensure_exists(state *s, uint32_t idx)
{
    account *acc = account_at(s, idx);
    if (acc->exists) return;
    journal_push(s, J_EXISTS, idx)->old.flag = false;
    acc->exists = true;
}

/* Each thread keeps the last state it freed, emptied, and gives it to the
 * next state_new: a call then finds its arrays, index tables and journal
 * already allocated (their allocation and release were about half of the
 * fixed cost of a short call), as evm.c keeps frame buffers. An array or
 * table grown past spare_bytes_max by one call is freed instead of kept,
 * so a thread keeps a few hundred KiB at most. A key destructor frees a
 * thread's spare when the thread exits. */
static _Thread_local state *spare_state;
static _Thread_local bool spare_state_key_set;
static pthread_key_t spare_state_key;
static pthread_once_t spare_state_key_once = PTHREAD_ONCE_INIT;

static void state_destroy(state *s)
{
    free(s->acquired);
    free(s->owned);
    free(s->accounts);
    free(s->slots);
    free(s->transients);
    free(s->account_index.cells);
    free(s->slot_index.cells);
    free(s->transient_index.cells);
    free(s->journal);
    free(s->logs);
    free(s);
}

static void spare_state_thread_exit(void *unused)
{
    (void)unused;
    if (spare_state) state_destroy(spare_state);
    spare_state = NULL;
}

static void spare_state_key_create(void) { (void)pthread_key_create(&spare_state_key, spare_state_thread_exit); }

/* Frees an array kept empty when it grew past the spare limit. */
static void shrink_array(void **p, size_t *cap, size_t elem)
{
    if (*cap * elem <= spare_bytes_max) return;
    free(*p);
    *p = NULL;
    *cap = 0;
}

static void shrink_index(index_table *t)
{
    if ((t->mask + 1) * sizeof *t->cells <= spare_bytes_max) return;
    free(t->cells);
    index_init(t);
}

/* Keeps `s` (emptied by state_free) as this thread's spare; false when
 * it already has one. */
static bool keep_spare_state(state *s)
{
    if (spare_state) return false;
    if (!spare_state_key_set) {
        pthread_once(&spare_state_key_once, spare_state_key_create);
        if (pthread_setspecific(spare_state_key, &spare_state) != 0) return false;
        spare_state_key_set = true;
    }
    if (s->past_spare_limit) {
        s->past_spare_limit = false;
        shrink_array((void **)&s->accounts, &s->cap_accounts, sizeof *s->accounts);
        shrink_array((void **)&s->slots, &s->cap_slots, sizeof *s->slots);
        shrink_array((void **)&s->transients, &s->cap_transients, sizeof *s->transients);
        shrink_array((void **)&s->journal, &s->journal_cap, sizeof *s->journal);
        shrink_array((void **)&s->logs, &s->cap_logs, sizeof *s->logs);
        shrink_array((void **)&s->owned, &s->cap_owned, sizeof *s->owned);
        shrink_array((void **)&s->acquired, &s->cap_acquired, sizeof *s->acquired);
        shrink_index(&s->account_index);
        shrink_index(&s->slot_index);
        shrink_index(&s->transient_index);
    }
    spare_state = s;
    return true;
}

state *state_new(const state_backend *backend)
{
    state *s = spare_state;
    if (s) {
        spare_state = NULL; /* emptied by state_free */
    } else {
        s = xcalloc(1, sizeof *s);
        index_init(&s->account_index);
        index_init(&s->slot_index);
        index_init(&s->transient_index);
    }
    s->backend_copy = *backend;
    s->backend = &s->backend_copy;
    return s;
}

static void free_logs_from(state *s, size_t from)
{
    for (size_t i = from; i < s->n_logs; i++) free(s->logs[i].data);
    s->n_logs = from;
}

void state_free(state *s)
{
    if (!s) return;
    free_logs_from(s, 0);
    for (size_t i = 0; i < s->n_owned; i++) free(s->owned[i]);
    for (size_t i = 0; i < s->n_acquired; i++) code_cache_release(s->acquired[i]);
    /* Emptied here rather than on reuse, so a spare holds no code and no
     * references into the code cache. */
    if (s->n_accounts) index_clear(&s->account_index, s->n_accounts, account_hash_at, s->accounts);
    if (s->n_slots) index_clear(&s->slot_index, s->n_slots, slot_hash_at, s->slots);
    if (s->n_transients) index_clear(&s->transient_index, s->n_transients, transient_hash_at, s->transients);
    s->n_accounts = s->n_slots = s->n_transients = 0;
    s->journal_len = 0;
    s->n_owned = s->n_acquired = 0;
    s->refund = 0;
    s->precompiles_warm = false;
    s->logs_added = 0; /* a spare starts its log numbering afresh, as a new state */
    if (!keep_spare_state(s)) state_destroy(s);
}

const state_backend *state_get_backend(const state *s) { return s->backend; }

bool state_exists(state *s, const address *a) { return acct(s, a)->exists; }

static bool account_is_empty(const account *acc)
{
    return acc->info.nonce == 0 && u256_is_zero(&acc->info.balance) &&
           memcmp(acc->info.code_hash.b, KECCAK_EMPTY.b, 32) == 0;
}

bool state_is_empty(state *s, const address *a) { return account_is_empty(acct(s, a)); }

bool state_is_alive(state *s, const address *a)
{
    account *acc = acct(s, a);
    return acc->exists && !account_is_empty(acc);
}

uint64_t state_get_nonce(state *s, const address *a) { return acct(s, a)->info.nonce; }

void state_set_nonce(state *s, const address *a, uint64_t nonce)
{
    uint32_t idx = account_find(s, a);
    ensure_exists(s, idx);
    account *acc = account_at(s, idx);
    journal_push(s, J_NONCE, idx)->old.nonce = acc->info.nonce;
    acc->info.nonce = nonce;
}

u256 state_get_balance(state *s, const address *a) { return acct(s, a)->info.balance; }

void state_set_balance(state *s, const address *a, const u256 *balance)
{
    uint32_t idx = account_find(s, a);
    ensure_exists(s, idx);
    account *acc = account_at(s, idx);
    journal_push(s, J_BALANCE, idx)->old.value = acc->info.balance;
    acc->info.balance = *balance;
}

void state_add_balance(state *s, const address *a, const u256 *amount)
{
    u256 b = state_get_balance(s, a);
    b = u256_add(&b, amount);
    state_set_balance(s, a, &b);
}

bool state_sub_balance(state *s, const address *a, const u256 *amount)
{
    u256 b = state_get_balance(s, a);
    if (u256_lt(&b, amount)) return false;
    b = u256_sub(&b, amount);
    state_set_balance(s, a, &b);
    return true;
}

hash32 state_get_code_hash(state *s, const address *a)
{
    account *acc = acct(s, a);
    if (!acc->exists) {
        hash32 zero = {{0}};
        return zero;
    }
    return acc->info.code_hash;
}

static void hold_analysis(state *s, const code_info *ci)
{
    if (s->n_acquired == s->cap_acquired)
        s->acquired = grow_array(s, s->acquired, &s->cap_acquired, sizeof *s->acquired);
    s->acquired[s->n_acquired++] = ci;
}

/* Code comes from the process-wide cache by hash; the backend is asked
 * only on a miss, and its bytes are copied into the cache at once, so a
 * backend's code buffer need only live until its next call. */
static void load_code(state *s, account *acc)
{
    if (acc->code_loaded) return;
    acc->code_loaded = true;
    acc->code = NULL;
    acc->code_len = 0;
    if (memcmp(acc->info.code_hash.b, KECCAK_EMPTY.b, 32) == 0) return;
    const code_info *ci = code_cache_find(&acc->info.code_hash);
    if (!ci) {
        const uint8_t *code;
        size_t len;
        if (!s->backend->get_code(s->backend->ctx, &acc->info.code_hash, &code, &len) || len == 0) return;
        ci = code_cache_acquire(&acc->info.code_hash, code, len);
    }
    hold_analysis(s, ci);
    acc->analysis = (code_info *)ci;
    acc->code = ci->code;
    acc->code_len = ci->code_len;
}

/* Padding lets the interpreter run off the end into STOP and read PUSH
 * immediates past the end without a bounds check. */
#define CODE_PADDING 33

code_info *code_info_new(const uint8_t *code, size_t len, const hash32 *hash)
{
    /* The bitset in whole 64-bit words (and one byte more, as readers may
     * expect), so each 64 bytes of code fill one word kept in a register. */
    size_t bitset_len = (len + 63) / 64 * 8 + 1;
    code_info *ci = xmalloc(sizeof *ci + len + CODE_PADDING + bitset_len);
    uint8_t *padded = (uint8_t *)(ci + 1);
    uint8_t *bits = padded + len + CODE_PADDING;
    if (len) memcpy(padded, code, len);
    memset(padded + len, 0, CODE_PADDING);
    memset(bits, 0, bitset_len);
    /* The analysis is what a code-cache miss pays before the first frame:
     * a bit set in a register word only for a JUMPDEST, PUSH immediates
     * skipped (may run into the next word's bytes; i carries over). Was a
     * read-modify-write of the bitset for every byte, 17 instructions a
     * byte on JUMPDEST-dense code. */
    size_t i = 0;
    for (size_t base = 0; base < len; base += 64) {
        size_t end = base + 64 < len ? base + 64 : len;
        uint64_t word = 0;
        for (; i < end; i++) {
            uint8_t op = code[i];
            if (op == OP_JUMPDEST)
                word |= (uint64_t)1 << (i & 63); /* i - base: base is a multiple of 64 */
            else if ((uint8_t)(op - OP_PUSH1) < 32)
                i += (size_t)(op - OP_PUSH1 + 1); /* the immediate bytes */
        }
        for (int k = 0; k < 8; k++) bits[base / 8 + (size_t)k] = (uint8_t)(word >> (8 * k));
    }
    ci->code = padded;
    ci->code_len = len;
    ci->jumpdest = bits;
    ci->code_hash = *hash;
    for (int f = 0; f < FORK_COUNT; f++) {
        atomic_init(&ci->compiled[f], NULL);
        atomic_init(&ci->compile_state[f], 0);
        atomic_init(&ci->segments[f], NULL);
    }
    ci->cache_entry = NULL;
    return ci;
}

void code_info_free(code_info *ci)
{
    if (!ci) return;
    jit_release_programs(ci);
    code_segments_free(ci);
    free(ci);
}

/* Code of length zero: 33 bytes of STOP padding and an empty bitset. */
static const uint8_t empty_code_bytes[CODE_PADDING + 1];
static const code_info empty_code = {.code = empty_code_bytes, .jumpdest = empty_code_bytes + CODE_PADDING};

const code_info *state_get_code(state *s, const address *a)
{
    account *acc = acct(s, a);
    if (acc->analysis) return acc->analysis;
    load_code(s, acc);
    if (acc->analysis) return acc->analysis;
    if (acc->code_len == 0) {
        acc->analysis = (code_info *)&empty_code;
        return acc->analysis;
    }
    /* Code set during this state's life (CREATE, EIP-7702). */
    const code_info *ci = code_cache_acquire(&acc->info.code_hash, acc->code, acc->code_len);
    hold_analysis(s, ci);
    acc->analysis = (code_info *)ci;
    return ci;
}

void state_set_code(state *s, const address *a, const uint8_t *code, size_t len)
{
    uint32_t idx = account_find(s, a);
    ensure_exists(s, idx);
    account *acc = account_at(s, idx);
    load_code(s, acc);
    journal_entry *e = journal_push(s, J_CODE, idx);
    e->old.code.code = acc->code;
    e->old.code.len = acc->code_len;
    e->old.code.hash = acc->info.code_hash;
    e->old.code.analysis = acc->analysis;
    e->old.code.changed = acc->code_changed;
    uint8_t *copy = NULL;
    if (len) {
        copy = xmalloc(len);
        memcpy(copy, code, len);
        owned_add(s, copy);
    }
    acc->code = copy;
    acc->code_len = len;
    if (len)
        keccak256(code, len, acc->info.code_hash.b);
    else
        acc->info.code_hash = KECCAK_EMPTY;
    acc->analysis = NULL;
    acc->code_changed = true;
}

void state_create_account(state *s, const address *a) { ensure_exists(s, account_find(s, a)); }

/* Whether the account's code, as last analysed, is not empty: false also
 * when not analysed yet (then the caller takes the general path). */
static inline bool has_analysed_code(const account *acc)
{
    return acc->analysis != NULL && acc->analysis->code_len != 0;
}

/* A touch matters only to an account empty at the end of the transaction
 * (EIP-161). An account holding code is touched without a journal entry
 * (a call into a contract then journals nothing, and its revert has
 * nothing to undo), because its touch can never be observed: code is
 * never removed during execution except by reverting the CREATE that set
 * it (a J_CODE entry; EIP-7702 sets code before execution, with nothing
 * reverting past it; SELFDESTRUCT destroys the account whatever its touch),
 * and that CREATE touched the account, journaled, before setting its code:
 * reverting past the J_CODE entry reverts past that touch's entry too,
 * which restores touched = false whatever touches came after. A touch of
 * an account holding code before that CREATE (the account was touched
 * already) leaves the flag as it was, journaled or not. */
static inline void touch_at(state *s, uint32_t idx)
{
    account *acc = account_at(s, idx);
    if (acc->touched) return;
    if (!has_analysed_code(acc)) journal_push(s, J_TOUCH, idx)->old.flag = false;
    acc->touched = true;
}

void state_touch(state *s, const address *a) { touch_at(s, account_find(s, a)); }

bool state_exists_touch(state *s, const address *a, bool touch)
{
    uint32_t idx = account_find(s, a);
    if (!account_at(s, idx)->exists) return false;
    if (touch) touch_at(s, idx);
    return true;
}

static __attribute__((noinline)) const code_info *enter_call_slow(state *s, const address *a, bool touch,
                                                                   bool *exists)
{
    uint32_t idx = account_find(s, a);
    account *acc = account_at(s, idx);
    *exists = acc->exists;
    if (!acc->exists) return NULL;
    /* The code first (it changes nothing a revert would see), so that the
     * touch of a contract found for the first time needs no entry either. */
    const code_info *code = state_get_code(s, a);
    if (touch) touch_at(s, idx);
    return code;
}

const code_info *state_enter_call(state *s, const address *a, bool touch, state_snapshot *snap, bool *exists)
{
    *snap = (state_snapshot){s->journal_len, s->n_logs, s->refund};
    /* The common case, a contract called again (the last account found,
     * existing, its code analysed, touched already or holding code: no
     * journal entry), without a register saved: the rest out of line. */
    uint32_t last = s->last_account;
    if (last < s->n_accounts) {
        account *acc = &s->accounts[last];
        if (acc->loaded && acc->exists && acc->analysis != NULL && address_equal(&acc->addr, a) &&
            (!touch || acc->touched || acc->analysis->code_len != 0)) {
            acc->touched |= touch;
            *exists = true;
            return acc->analysis;
        }
    }
    return enter_call_slow(s, a, touch, exists);
}


/* ---- storage ---- */

static void slot_index_rebuild(state *s, index_table *t, size_t n, uint64_t (*hash_at)(const void *, size_t),
                               const void *arr)
{
    free(t->cells);
    t->mask = (t->mask + 1) * 2 - 1;
    if ((t->mask + 1) * sizeof *t->cells > spare_bytes_max) s->past_spare_limit = true;
    t->cells = xcalloc(t->mask + 1, sizeof *t->cells);
    for (size_t i = 0; i < n; i++) {
        size_t h = hash_at(arr, i) & t->mask;
        while (t->cells[h]) h = (h + 1) & t->mask;
        t->cells[h] = (uint32_t)i + 1;
    }
}

static uint64_t slot_hash_at(const void *arr, size_t i)
{
    const slot *sl = (const slot *)arr + i;
    return hash_slot(sl->account, &sl->key);
}

static uint64_t transient_hash_at(const void *arr, size_t i)
{
    const transient_slot *sl = (const transient_slot *)arr + i;
    return hash_slot(sl->account, &sl->key);
}

/* A slot not in the table yet: appended, its committed value read from
 * the backend. Apart from slot_find's hit path, so that a warm lookup
 * makes no call and saves no registers (they were ~20 of its ~93
 * instructions in snailtracer's SLOADs). */
static __attribute__((noinline)) uint32_t slot_add(state *s, const address *a, const u256 *key, uint32_t ai,
                                                   size_t h)
{
    index_table *t = &s->slot_index;
    if (s->n_slots == s->cap_slots) s->slots = grow_array(s, s->slots, &s->cap_slots, sizeof *s->slots);
    uint32_t idx = (uint32_t)s->n_slots++;
    slot *sl = &s->slots[idx];
    memset(sl, 0, sizeof *sl);
    sl->account = ai;
    sl->key = *key;
    account *acc = account_at(s, ai);
    if (acc->committed_exists && !acc->storage_wiped)
        s->backend->get_storage(s->backend->ctx, a, key, &sl->committed);
    sl->original = sl->committed;
    sl->current = sl->committed;
    t->cells[h] = idx + 1;
    if (++t->count * 2 > t->mask) slot_index_rebuild(s, t, s->n_slots, slot_hash_at, s->slots);
    return idx;
}

static inline __attribute__((always_inline)) uint32_t slot_find(state *s, const address *a, const u256 *key)
{
    uint32_t ai = account_find(s, a);
    const index_table *t = &s->slot_index;
    size_t h = hash_slot(ai, key) & t->mask;
    for (;;) {
        uint32_t c = t->cells[h];
        if (!c) break;
        const slot *sl = &s->slots[c - 1];
        if (sl->account == ai && u256_eq(&sl->key, key)) return c - 1;
        h = (h + 1) & t->mask;
    }
    return slot_add(s, a, key, ai, h);
}

u256 state_get_storage(state *s, const address *a, const u256 *key)
{
    uint32_t idx = slot_find(s, a, key); /* may move s->slots */
    return s->slots[idx].current;
}

u256 state_get_original_storage(state *s, const address *a, const u256 *key)
{
    uint32_t idx = slot_find(s, a, key);
    return s->slots[idx].original;
}

void state_set_storage(state *s, const address *a, const u256 *key, const u256 *value)
{
    uint32_t idx = slot_find(s, a, key);
    slot *sl = &s->slots[idx];
    journal_push(s, J_STORAGE, idx)->old.value = sl->current;
    sl->current = *value;
}

bool state_has_storage(state *s, const address *a)
{
    /* Storage written in this state counts as well as the backend's. */
    uint32_t ai = account_find(s, a);
    for (size_t i = 0; i < s->n_slots; i++)
        if (s->slots[i].account == ai && !u256_is_zero(&s->slots[i].current)) return true;
    account *acc = account_at(s, ai);
    if (!acc->committed_exists || acc->storage_wiped) return false;
    if (!s->backend->has_storage) return false;
    return s->backend->has_storage(s->backend->ctx, a);
}

static uint32_t transient_find(state *s, const address *a, const u256 *key)
{
    uint32_t ai = account_find(s, a);
    index_table *t = &s->transient_index;
    size_t h = hash_slot(ai, key) & t->mask;
    for (;;) {
        uint32_t c = t->cells[h];
        if (!c) break;
        transient_slot *sl = &s->transients[c - 1];
        if (sl->account == ai && u256_eq(&sl->key, key)) return c - 1;
        h = (h + 1) & t->mask;
    }
    if (s->n_transients == s->cap_transients)
        s->transients = grow_array(s, s->transients, &s->cap_transients, sizeof *s->transients);
    uint32_t idx = (uint32_t)s->n_transients++;
    transient_slot *sl = &s->transients[idx];
    sl->account = ai;
    sl->key = *key;
    sl->value = u256_zero();
    t->cells[h] = idx + 1;
    if (++t->count * 2 > t->mask)
        slot_index_rebuild(s, t, s->n_transients, transient_hash_at, s->transients);
    return idx;
}

u256 state_get_transient(state *s, const address *a, const u256 *key)
{
    uint32_t idx = transient_find(s, a, key); /* may move s->transients */
    return s->transients[idx].value;
}

void state_set_transient(state *s, const address *a, const u256 *key, const u256 *value)
{
    uint32_t idx = transient_find(s, a, key);
    journal_push(s, J_TRANSIENT, idx)->old.value = s->transients[idx].value;
    s->transients[idx].value = *value;
}

/* ---- access lists ---- */

static bool is_warm_precompile(const state *s, const address *a)
{
    return s->precompiles_warm && precompile_is_active(a, s->precompiles_fork);
}

void state_warm_precompiles(state *s, enum fork f)
{
    s->precompiles_warm = true;
    s->precompiles_fork = f;
}

bool state_warm_account(state *s, const address *a)
{
    if (is_warm_precompile(s, a)) return true;
    uint32_t idx = account_index_of(s, a);
    account *acc = account_at(s, idx);
    if (acc->warm) return true;
    journal_push(s, J_WARM_ACCOUNT, idx)->old.flag = false;
    acc->warm = true;
    return false;
}

bool state_is_warm_account(state *s, const address *a)
{
    return is_warm_precompile(s, a) || account_at(s, account_index_of(s, a))->warm;
}

typedef struct {
    void (*fn)(void *ctx, const address *a, const u256 *key);
    void *ctx;
} warm_visit;

static void visit_warm_precompile(void *ctx, const address *a)
{
    const warm_visit *v = ctx;
    v->fn(v->ctx, a, NULL);
}

void state_visit_warm(state *s, void (*fn)(void *ctx, const address *a, const u256 *key), void *ctx)
{
    if (s->precompiles_warm) {
        warm_visit v = {fn, ctx};
        precompile_for_each_active(s->precompiles_fork, visit_warm_precompile, &v);
    }
    for (size_t i = 0; i < s->n_accounts; i++)
        if (s->accounts[i].warm) fn(ctx, &s->accounts[i].addr, NULL);
    for (size_t i = 0; i < s->n_slots; i++)
        if (s->slots[i].warm) fn(ctx, &s->accounts[s->slots[i].account].addr, &s->slots[i].key);
}

bool state_warm_slot(state *s, const address *a, const u256 *key)
{
    uint32_t idx = slot_find(s, a, key);
    if (s->slots[idx].warm) return true;
    journal_push(s, J_WARM_SLOT, idx)->old.flag = false;
    s->slots[idx].warm = true;
    return false;
}

u256 state_load_warm_slot(state *s, const address *a, const u256 *key, bool *was_warm)
{
    uint32_t idx = slot_find(s, a, key);
    *was_warm = s->slots[idx].warm;
    if (!*was_warm) {
        journal_push(s, J_WARM_SLOT, idx)->old.flag = false;
        s->slots[idx].warm = true;
    }
    return s->slots[idx].current;
}

/* ---- create / selfdestruct ---- */

void state_mark_created(state *s, const address *a)
{
    uint32_t idx = account_find(s, a);
    account *acc = account_at(s, idx);
    journal_push(s, J_CREATED, idx)->old.flag = acc->created;
    acc->created = true;
}

bool state_created_in_tx(state *s, const address *a) { return acct(s, a)->created; }

void state_mark_destructed(state *s, const address *a)
{
    uint32_t idx = account_find(s, a);
    account *acc = account_at(s, idx);
    if (acc->destructed) return;
    journal_push(s, J_DESTRUCTED, idx)->old.flag = false;
    acc->destructed = true;
}

bool state_is_destructed(state *s, const address *a) { return acct(s, a)->destructed; }

/* ---- logs and refunds ---- */

void state_add_log(state *s, const address *a, const hash32 *topics, unsigned n_topics,
                   const uint8_t *data, size_t len)
{
    if (s->n_logs == s->cap_logs) s->logs = grow_array(s, s->logs, &s->cap_logs, sizeof *s->logs);
    log_entry *l = &s->logs[s->n_logs++];
    l->addr = *a;
    l->n_topics = (uint8_t)n_topics;
    for (unsigned i = 0; i < n_topics; i++) l->topics[i] = topics[i];
    l->data = NULL;
    l->data_len = len;
    l->seq = s->logs_added++;
    if (len) {
        l->data = xmalloc(len);
        memcpy(l->data, data, len);
    }
}

size_t state_log_count(const state *s) { return s->n_logs; }
uint64_t state_logs_added(const state *s) { return s->logs_added; }
const log_entry *state_logs(const state *s) { return s->logs; }
void state_clear_logs(state *s) { free_logs_from(s, 0); }

void log_encode_rlp(bytebuf *out, const log_entry *l)
{
    size_t one = rlp_list_begin(out);
    rlp_put_bytes(out, l->addr.b, 20);
    size_t topics = rlp_list_begin(out);
    for (unsigned t = 0; t < l->n_topics; t++) rlp_put_bytes(out, l->topics[t].b, 32);
    rlp_list_end(out, topics);
    rlp_put_bytes(out, l->data, l->data_len);
    rlp_list_end(out, one);
}

void state_add_refund(state *s, int64_t delta) { s->refund += delta; }
int64_t state_get_refund(const state *s) { return s->refund; }

/* ---- snapshots ---- */

state_snapshot state_snapshot_take(const state *s)
{
    state_snapshot snap = {s->journal_len, s->n_logs, s->refund};
    return snap;
}

static bool is_ripemd_address(const address *a)
{
    static const address ripemd = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3}};
    return address_equal(a, &ripemd);
}

/* Inlined into state_revert: a frame's revert is a few entries, and a call
 * per entry cost more than the undo. */
static inline void journal_undo(state *s, const journal_entry *e)
{
    switch ((enum journal_kind)e->kind) {
    case J_BALANCE: s->accounts[e->index].info.balance = e->old.value; break;
    case J_NONCE: s->accounts[e->index].info.nonce = e->old.nonce; break;
    case J_STORAGE: s->slots[e->index].current = e->old.value; break;
    case J_TRANSIENT: s->transients[e->index].value = e->old.value; break;
    case J_WARM_ACCOUNT: s->accounts[e->index].warm = e->old.flag; break;
    case J_WARM_SLOT: s->slots[e->index].warm = e->old.flag; break;
    case J_CODE: {
        account *acc = &s->accounts[e->index];
        acc->code = e->old.code.code;
        acc->code_len = e->old.code.len;
        acc->info.code_hash = e->old.code.hash;
        acc->analysis = e->old.code.analysis;
        acc->code_changed = e->old.code.changed;
        break;
    }
    case J_EXISTS: s->accounts[e->index].exists = e->old.flag; break;
    case J_TOUCH:
        /* Mainnet block 2675119: a touch of the RIPEMD-160 precompile (0x03)
         * survived the revert of the frame that made it. Kept for all forks,
         * as the reference implementation does. */
        if (!is_ripemd_address(&s->accounts[e->index].addr)) s->accounts[e->index].touched = e->old.flag;
        break;
    case J_CREATED: s->accounts[e->index].created = e->old.flag; break;
    case J_DESTRUCTED: s->accounts[e->index].destructed = e->old.flag; break;
    }
}

/* Out of line, so that a revert with nothing to undo (a call that only
 * read, or touched a contract) saves no registers. */
static __attribute__((noinline)) void journal_undo_to(state *s, size_t to)
{
    /* The length in a local: journal_undo's stores through s would make
     * the compiler reload and store it every entry. */
    size_t len = s->journal_len;
    const journal_entry *journal = s->journal;
    while (len > to) journal_undo(s, &journal[--len]);
    s->journal_len = len;
}

void state_revert(state *s, state_snapshot snap)
{
    if (s->journal_len > snap.journal_len) journal_undo_to(s, snap.journal_len);
    if (s->n_logs > snap.log_count) free_logs_from(s, snap.log_count);
    s->refund = snap.refund;
}

/* ---- end of transaction ---- */

static void destroy_account(state *s, account *acc)
{
    uint32_t ai = (uint32_t)(acc - s->accounts);
    acc->exists = false;
    acc->storage_wiped = true;
    memset(&acc->info, 0, sizeof acc->info);
    acc->info.code_hash = KECCAK_EMPTY;
    acc->code = NULL;
    acc->code_len = 0;
    acc->code_loaded = true;
    acc->analysis = NULL;
    acc->code_changed = true;
    for (size_t i = 0; i < s->n_slots; i++)
        if (s->slots[i].account == ai) s->slots[i].current = s->slots[i].original = u256_zero();
}

void state_wipe_storage(state *s, const address *a)
{
    account *acc = acct(s, a);
    ensure_exists(s, (uint32_t)(acc - s->accounts));
    acc->storage_wiped = true;
    uint32_t ai = (uint32_t)(acc - s->accounts);
    for (size_t i = 0; i < s->n_slots; i++)
        if (s->slots[i].account == ai) s->slots[i].current = s->slots[i].original = u256_zero();
}

void state_finalize_tx(state *s, enum fork f)
{
    for (size_t i = 0; i < s->n_accounts; i++) {
        account *acc = &s->accounts[i];
        if (acc->destructed)
            destroy_account(s, acc);
        else if (f >= FORK_SPURIOUS_DRAGON && acc->touched && acc->exists && account_is_empty(acc))
            destroy_account(s, acc);
        acc->warm = acc->touched = acc->created = acc->destructed = false;
    }
    for (size_t i = 0; i < s->n_slots; i++) {
        s->slots[i].original = s->slots[i].current;
        s->slots[i].warm = false;
    }
    index_clear(&s->transient_index, s->n_transients, transient_hash_at, s->transients);
    s->n_transients = 0;
    s->journal_len = 0;
    s->refund = 0;
    s->precompiles_warm = false;
}

void state_visit_changes(state *s, const state_sink *sink)
{
    for (size_t i = 0; i < s->n_accounts; i++) {
        account *acc = &s->accounts[i];
        bool wiped = acc->storage_wiped && acc->committed_exists;
        if (wiped || (acc->committed_exists && !acc->exists)) sink->delete_account(sink->ctx, &acc->addr);
        if (acc->exists) {
            bool changed = !acc->committed_exists || wiped || acc->code_changed ||
                           acc->info.nonce != acc->committed.nonce ||
                           !u256_eq(&acc->info.balance, &acc->committed.balance);
            if (changed) {
                load_code(s, acc);
                sink->put_account(sink->ctx, &acc->addr, &acc->info, acc->code, acc->code_len,
                                  acc->code_changed || wiped || !acc->committed_exists);
            }
        }
    }
    for (size_t i = 0; i < s->n_slots; i++) {
        slot *sl = &s->slots[i];
        account *acc = &s->accounts[sl->account];
        if (!acc->exists) continue;
        bool wiped = acc->storage_wiped && acc->committed_exists;
        if (u256_eq(&sl->current, &sl->committed) && !(wiped && !u256_is_zero(&sl->current))) continue;
        sink->put_storage(sink->ctx, &acc->addr, &sl->key, &sl->current);
    }
}

void state_commit(state *s, const state_sink *sink)
{
    state_visit_changes(s, sink);
    for (size_t i = 0; i < s->n_accounts; i++) {
        account *acc = &s->accounts[i];
        acc->committed = acc->info;
        acc->committed_exists = acc->exists;
        acc->storage_wiped = false;
        acc->code_changed = false;
    }
    for (size_t i = 0; i < s->n_slots; i++) s->slots[i].committed = s->slots[i].current;
    s->journal_len = 0;
}

void account_encode_rlp(bytebuf *out, uint64_t nonce, const u256 *balance, const hash32 *storage_root,
                        const hash32 *code_hash)
{
    out->len = 0;
    size_t mark = rlp_list_begin(out);
    rlp_put_u64(out, nonce);
    rlp_put_u256(out, balance);
    rlp_put_bytes(out, storage_root->b, 32);
    rlp_put_bytes(out, code_hash->b, 32);
    rlp_list_end(out, mark);
}

bool state_backend_empty_code(const hash32 *code_hash, const uint8_t **code, size_t *len)
{
    static const uint8_t none[1];
    if (memcmp(code_hash->b, KECCAK_EMPTY.b, 32) != 0) return false;
    *code = none;
    *len = 0;
    return true;
}
