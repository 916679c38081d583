/* Message execution: entering a call frame or a creation, precompiles,
 * value transfer, snapshots and reverts. The opcodes that start messages
 * are in instr_call.c; the transaction around the first message is in
 * tx.c. */
#include <gmp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "vm/evm_internal.h"
#include "base/params.h"
#include "jit/jit_internal.h"
#include "precompile/precompile.h"
#include "base/trie.h"

static const char *const status_names[] = {
    [EXEC_SUCCESS] = "success",
    [EXEC_REVERT] = "execution reverted",
    [EXEC_OUT_OF_GAS] = "out of gas",
    [EXEC_INVALID_OPCODE] = "invalid opcode",
    [EXEC_STACK_UNDERFLOW] = "stack underflow",
    [EXEC_STACK_OVERFLOW] = "stack limit reached 1024",
    [EXEC_BAD_JUMP] = "invalid jump destination",
    [EXEC_STATIC_VIOLATION] = "write protection",
    [EXEC_RETURNDATA_OUT_OF_BOUNDS] = "return data out of bounds",
    [EXEC_CALL_DEPTH] = "max call depth exceeded",
    [EXEC_INSUFFICIENT_BALANCE] = "insufficient balance for transfer",
    [EXEC_CREATE_COLLISION] = "contract address collision",
    [EXEC_CODE_SIZE_EXCEEDED] = "max code size exceeded",
    [EXEC_INVALID_CODE_PREFIX] = "invalid code: must not begin with 0xef",
    [EXEC_INITCODE_SIZE_EXCEEDED] = "max initcode size exceeded",
    [EXEC_PRECOMPILE_FAILURE] = "precompiled contract failed",
    [EXEC_NONCE_OVERFLOW] = "nonce uint64 overflow",
    [EXEC_TIMEOUT] = "execution aborted (timeout)",
    [EXEC_MEMORY_LIMIT] = "memory limit reached",
};

const char *exec_status_name(enum exec_status s)
{
    if ((size_t)s < sizeof status_names / sizeof status_names[0] && status_names[s]) return status_names[s];
    return "unknown";
}

/* ---- block environment ---- */

void block_env_default_blob_schedule(block_env *b, enum fork f)
{
    if (f >= FORK_PRAGUE) {
        b->blob_target_per_block = PRAGUE_BLOB_TARGET;
        b->blob_max_per_block = PRAGUE_BLOB_MAX;
        b->blob_base_fee_update_fraction = PRAGUE_BLOB_UPDATE_FRACTION;
    } else {
        b->blob_target_per_block = CANCUN_BLOB_TARGET;
        b->blob_max_per_block = CANCUN_BLOB_MAX;
        b->blob_base_fee_update_fraction = CANCUN_BLOB_UPDATE_FRACTION;
    }
    block_env_update_blob_base_fee(b);
}

/* EIP-4844 fake_exponential(1, excess, fraction): the Taylor series of
 * e^(excess/fraction), in integers. GMP because the partial sums outgrow
 * 256 bits for large excesses. */
void block_env_update_blob_base_fee(block_env *b)
{
    if (b->blob_base_fee_update_fraction == 0) {
        b->blob_base_fee = u256_from_u64(1);
        return;
    }
    mpz_t output, accum, num, den, tmp;
    mpz_inits(output, accum, num, den, tmp, NULL);
    mpz_set_ui(den, b->blob_base_fee_update_fraction);
    mpz_set_ui(num, b->excess_blob_gas);
    mpz_set(accum, den); /* factor (1) * denominator */
    for (unsigned long i = 1; mpz_sgn(accum) > 0; i++) {
        mpz_add(output, output, accum);
        mpz_mul(accum, accum, num);
        mpz_mul_ui(tmp, den, i);
        mpz_fdiv_q(accum, accum, tmp);
    }
    mpz_fdiv_q(output, output, den);
    uint8_t buf[32] = {0};
    size_t n = (mpz_sizeinbase(output, 2) + 7) / 8;
    if (n > 32) {
        memset(buf, 0xff, 32); /* saturate: no transaction can pay it anyway */
    } else {
        size_t written = 0;
        mpz_export(buf + 32 - n, &written, 1, 1, 1, 0, output);
    }
    b->blob_base_fee = u256_load_be(buf);
    mpz_clears(output, accum, num, den, tmp, NULL);
}

/* ---- evm lifetime ---- */

/* Each thread keeps the first chunk of frame buffers (depths 0..15) of the
 * last evm it freed, and gives it to the next evm it creates: a request's
 * frames then find their stacks and memory already allocated, which was
 * most of the fixed cost of a short call (a 32 KiB stack, the chunk and
 * the first memory page allocated and freed per call). A buffer grown past
 * spare_memory_max by one call is not kept for the next: 1 MiB for the
 * outermost frame, 64 KiB for the others, so a thread keeps at most about
 * 2.5 MiB (usually one frame's stack and memory). A key destructor frees a
 * thread's spare when the thread exits. */
static size_t spare_memory_max(int depth) { return depth == 0 ? (size_t)1 << 20 : (size_t)64 << 10; }
static _Thread_local frame_buffers *spare_chunk;
/* The evm struct itself is kept the same way (its malloc and free were
 * ~140 instructions of an empty call), and the last fork's opcode table
 * with it (opcode_table_for_fork goes through pthread_once). */
static _Thread_local evm *spare_evm;
static _Thread_local const fork_opcode_table *spare_optab;
static _Thread_local enum fork spare_optab_fork;
static _Thread_local bool spare_key_set;
static pthread_key_t spare_key;
static pthread_once_t spare_key_once = PTHREAD_ONCE_INIT;

static void free_chunk(frame_buffers *chunk)
{
    for (int i = 0; i < EVM_BUFFER_CHUNK; i++) {
        memory_buffer_free(&chunk[i]);
        free(chunk[i].stack);
        bytebuf_free(&chunk[i].precompile_output);
    }
    free(chunk);
}

static void spare_thread_exit(void *unused)
{
    (void)unused;
    if (spare_chunk) free_chunk(spare_chunk);
    spare_chunk = NULL;
    free(spare_evm);
    spare_evm = NULL;
}

static void spare_key_create(void) { (void)pthread_key_create(&spare_key, spare_thread_exit); }

/* Keeps `chunk` as this thread's spare; false when it already has one.
 * Only its first `used` buffers can have grown. */
/* Whether this thread's spares will be freed at its exit (the key set). */
static bool spare_key_ready(void)
{
    if (!spare_key_set) {
        pthread_once(&spare_key_once, spare_key_create);
        if (pthread_setspecific(spare_key, &spare_chunk) != 0) return false;
        spare_key_set = true;
    }
    return true;
}

static bool keep_spare(frame_buffers *chunk, int used)
{
    if (spare_chunk || !spare_key_ready()) return false;
    for (int i = 0; i < used && i < EVM_BUFFER_CHUNK; i++) {
        if (chunk[i].memory_cap > spare_memory_max(i)) {
            memory_buffer_free(&chunk[i]);
        }
        if (chunk[i].precompile_output.cap > spare_memory_max(i)) bytebuf_free(&chunk[i].precompile_output);
    }
    spare_chunk = chunk;
    return true;
}

/* The abort flag of an evm given none: never set, so that a frame polls
 * a flag without testing for one first. */
static const atomic_int evm_no_abort = 0;

evm *evm_new(state *st, const block_env *block, enum fork f)
{
    /* malloc rather than calloc (glibc's calloc bypasses the thread cache:
     * ~600 instructions a call), and the chunk pointers, most of the
     * struct, left for evm_buffers to set as depths are reached. */
    evm *e = spare_evm;
    if (e)
        spare_evm = NULL;
    else
        e = xmalloc(sizeof *e);
    memset(e, 0, offsetof(evm, buffer_chunks));
    e->st = st;
    e->block = block;
    e->fork = f;
    e->abort_flag = &evm_no_abort;
    if (!spare_optab || spare_optab_fork != f) {
        spare_optab = opcode_table_for_fork(f);
        spare_optab_fork = f;
    }
    e->optab = spare_optab;
    /* The outermost frame's buffers, from the thread's spare, set here
     * rather than by evm_buffers' first-use path (~50 instructions of every
     * call): the first chunk counts as reached (depth_end 1). */
    if (spare_chunk) {
        e->buffer_chunks[0] = spare_chunk;
        spare_chunk = NULL;
        e->depth_end = 1;
    }
    return e;
}

/* The EVM memory all executions hold, against the budget (0: none). */
static _Atomic size_t memory_in_use;
static size_t memory_budget;

void evm_set_memory_budget(size_t bytes) { memory_budget = bytes; }
void evm_set_memory_limit(evm *e, size_t bytes) { e->memory_limit = bytes; }
bool evm_memory_limit_hit(const evm *e) { return e->memory_limit_hit; }

bool evm_memory_grow(evm *e, size_t more)
{
    if (e->memory_limit_hit || (e->memory_limit && e->memory_allocated + more > e->memory_limit)) {
        e->memory_limit_hit = true;
        return false;
    }
    size_t now = atomic_fetch_add(&memory_in_use, more) + more;
    if (memory_budget && now > memory_budget) {
        atomic_fetch_sub(&memory_in_use, more);
        e->memory_limit_hit = true;
        return false;
    }
    e->memory_allocated += more;
    return true;
}

void evm_free(evm *e)
{
    if (!e) return;
    if (e->memory_allocated) atomic_fetch_sub(&memory_in_use, e->memory_allocated);
    jit_count_frames(e->frames_interp, e->frames_compiled, e->deopts);
    int n_chunks = (e->depth_end + EVM_BUFFER_CHUNK - 1) / EVM_BUFFER_CHUNK;
    for (int c = 0; c < n_chunks; c++) {
        frame_buffers *chunk = e->buffer_chunks[c];
        if (chunk && !(c == 0 && keep_spare(chunk, e->depth_end))) free_chunk(chunk);
    }
    if (!spare_evm && spare_key_ready())
        spare_evm = e;
    else
        free(e);
}

static void update_run_compiled(evm *e)
{
    e->run_compiled = e->engine != ENGINE_INTERP && !e->tracing && !e->trace.on_enter;
}

void evm_set_tracer(evm *e, const tracer *t)
{
    e->tracing = t != NULL && t->on_step != NULL;
    if (t) e->trace = *t;
    update_run_compiled(e);
}

void evm_set_tx_context(evm *e, const address *origin, const u256 *gas_price, const hash32 *blob_hashes,
                        size_t n_blob_hashes)
{
    e->origin = *origin;
    e->gas_price = *gas_price;
    e->blob_hashes = blob_hashes;
    e->n_blob_hashes = n_blob_hashes;
}

void evm_set_abort_flag(evm *e, const atomic_int *flag) { e->abort_flag = flag ? flag : &evm_no_abort; }

void evm_set_engine(evm *e, int engine)
{
    e->engine = engine;
    update_run_compiled(e);
}

void evm_set_precompile_moves(evm *e, const precompile_move *moves, size_t n)
{
    e->moves = moves;
    e->n_moves = n;
}

/* evm_buffers' first use of a depth, out of line (evm_buffers_at inlines
 * the common case). */
static __attribute__((noinline)) frame_buffers *evm_buffers_first(evm *e, int depth);

/* A depth's buffers: those of a depth already reached by a load and an
 * index (every frame asks: a call was ~36 instructions of each). */
static inline frame_buffers *evm_buffers_at(evm *e, int depth)
{
    /* Unsigned: a signed division and remainder by 16 take sign fix-ups
     * (depths are never negative). */
    unsigned d = (unsigned)depth;
    frame_buffers *chunk;
    if (depth < e->depth_end && (chunk = e->buffer_chunks[d / EVM_BUFFER_CHUNK]))
        return &chunk[d % EVM_BUFFER_CHUNK];
    return evm_buffers_first(e, depth);
}

frame_buffers *evm_buffers(evm *e, int depth) { return evm_buffers_at(e, depth); }

static frame_buffers *evm_buffers_first(evm *e, int depth)
{
    int c = depth / EVM_BUFFER_CHUNK;
    if (depth >= e->depth_end) {
        /* Chunks first reached now start unset (evm_new left them). The
         * outermost frame's, alone, by a store: the loop was a memset call. */
        int first = (e->depth_end + EVM_BUFFER_CHUNK - 1) / EVM_BUFFER_CHUNK;
        if (first == 0 && c == 0)
            e->buffer_chunks[0] = NULL;
        else
            for (int k = first; k <= c; k++) e->buffer_chunks[k] = NULL;
        e->depth_end = depth + 1;
    }
    frame_buffers **chunk = &e->buffer_chunks[c];
    if (!*chunk) {
        if (depth < EVM_BUFFER_CHUNK && spare_chunk) {
            *chunk = spare_chunk;
            spare_chunk = NULL;
        } else {
            *chunk = xcalloc(EVM_BUFFER_CHUNK, sizeof **chunk);
        }
    }
    return &(*chunk)[depth % EVM_BUFFER_CHUNK];
}

/* The precompile answering at `addr`, with eth_call's moves applied: a
 * moved precompile answers at its new address and not at its old one.
 * `is_precompile_address` tells whether the address runs a precompile. */
static const precompile *precompile_at(const evm *e, const address *addr, bool *is_precompile_address)
{
    for (size_t i = 0; i < e->n_moves; i++) {
        if (memcmp(e->moves[i].to.b, addr->b, 20) == 0) {
            *is_precompile_address = true;
            return precompile_find(&e->moves[i].from, e->fork);
        }
    }
    for (size_t i = 0; i < e->n_moves; i++) {
        if (memcmp(e->moves[i].from.b, addr->b, 20) == 0) {
            *is_precompile_address = false;
            return NULL;
        }
    }
    /* Every precompile sits at an address whose first 18 bytes are zero
     * (precompile.c's short_address): an address whose first 8 are not,
     * nearly every contract's, is answered here without the call (one word
     * tested, so that a short address pays little for it). */
    uint64_t w0;
    memcpy(&w0, addr->b, 8);
    if (w0 != 0) {
        *is_precompile_address = false;
        return NULL;
    }
    /* Nor above PRECOMPILE_ADDRESS_MAX: the last four bytes, big-endian,
     * then exceed it (any of the bytes 16-19 too high). */
    uint32_t tail;
    memcpy(&tail, addr->b + 16, 4);
    if (__builtin_bswap32(tail) > PRECOMPILE_ADDRESS_MAX) {
        *is_precompile_address = false;
        return NULL;
    }
    *is_precompile_address = precompile_is_active(addr, e->fork);
    return *is_precompile_address ? precompile_find(addr, e->fork) : NULL;
}
enum fork evm_fork(const evm *e) { return e->fork; }
state *evm_state(const evm *e) { return e->st; }

/* ---- running code ---- */

/* Inlined into its two callers: as a call of its own its prologue, frame
 * and out-parameters were ~25 instructions of every call. Writes the
 * frame's status, gas left and output into *r. */
static inline __attribute__((always_inline)) void run_code(evm *e, const message *msg, const code_info *code,
                                                           exec_result *r)
{
    if (atomic_load_explicit(e->abort_flag, memory_order_relaxed)) {
        r->status = EXEC_TIMEOUT;
        return;
    }
    frame_buffers *buffers = evm_buffers_at(e, msg->depth);
    buffers->memory_zero_end = 0; /* what an earlier frame left is not known zero */
    frame f = {
        .e = e,
        .msg = msg,
        .code = code,
        .gas = r->gas_left,
        .memory = buffers->memory,
        .memory_size = 0,
        .buffers = buffers,
    };
    /* A program already installed for the fork is read here, without
     * jit_program_for's call (~25 instructions of every compiled frame). */
    const jit_program *program = NULL;
    if (e->run_compiled) {
        program = atomic_load_explicit(&((code_info *)code)->compiled[e->fork], memory_order_acquire);
        if (!program) program = jit_program_for(e, code);
    }
    if (program) {
        bool deopted = false;
        r->status = jit_run(&f, program, &deopted);
        e->frames_compiled++;
        e->deopts += deopted;
    } else {
        r->status = interp_run(&f);
        e->frames_interp++;
    }
    r->gas_left = f.gas;
    r->output = f.output;
    r->output_len = f.output_len;
}

/* Ends a frame that failed: undo its state changes; an exceptional halt
 * (anything but REVERT) also burns its gas and has no output. */
static void fail_frame(state *st, state_snapshot snap, exec_result *r)
{
    state_revert(st, snap);
    r->gas_at_halt = r->gas_left;
    if (r->status != EXEC_REVERT) {
        r->gas_left = 0;
        r->output = NULL;
        r->output_len = 0;
    }
}

static void transfer_value(state *st, const message *msg)
{
    if (u256_is_zero(&msg->value)) return;
    state_sub_balance(st, &msg->sender, &msg->value);
    state_add_balance(st, &msg->recipient, &msg->value);
}

/* The result is written through `r` (evm_execute's own, so that it is not
 * built in one place and copied to another: ~25 instructions a call). */
static inline __attribute__((always_inline)) void execute_call(evm *e, const message *msg, exec_result *r)
{
    state *st = e->st;
    *r = (exec_result){.status = EXEC_SUCCESS, .gas_left = msg->gas};
    bool is_precompile_address;
    const precompile *pc = precompile_at(e, &msg->code_address, &is_precompile_address);
    bool runs_precompile = is_precompile_address && !msg->is_delegated;

    /* The snapshot is taken first: nothing is journaled before the
     * recipient is touched. */
    state_snapshot snap;
    bool touches = e->fork >= FORK_SPURIOUS_DRAGON, touched = false;
    const code_info *code = NULL;
    if (msg->kind == CALL_CALL || msg->kind == CALL_STATICCALL) {
        /* An existing recipient is touched with the same lookup, before the
         * value moves rather than after: a revert undoes both alike. When
         * the code run is the recipient's own (not a precompile, not
         * delegated), that lookup also finds it: the code is the same
         * before the value moves as after. */
        bool exists;
        if (!runs_precompile && address_equal(&msg->code_address, &msg->recipient)) {
            code = state_enter_call(st, &msg->recipient, touches, &snap, &exists);
        } else {
            snap = state_snapshot_take(st);
            exists = state_exists_touch(st, &msg->recipient, touches);
        }
        touched = exists && touches;
        if (!exists && touches && u256_is_zero(&msg->value) && !runs_precompile)
            return; /* EIP-161: a value-less call to a dead account creates and runs nothing */
        /* Before EIP-161 every call created its recipient, empty if need be. */
        if (!touches) state_create_account(st, &msg->recipient);
    } else {
        snap = state_snapshot_take(st);
    }
    if (msg->transfers_value) transfer_value(st, msg);
    if (touches && !touched) state_touch(st, &msg->recipient);

    if (runs_precompile) {
        if (!pc) {
            /* An active precompile we have no implementation for: the call
             * cannot be answered correctly, so it fails loudly. */
            r->status = EXEC_PRECOMPILE_FAILURE;
            fail_frame(st, snap, r);
            return;
        }
        /* Precompiles may memcpy from their input: never hand them NULL. */
        static const uint8_t no_input[1];
        const uint8_t *input = msg->input ? msg->input : no_input;
        uint64_t cost = pc->gas(input, msg->input_len, e->fork);
        if (cost > (uint64_t)r->gas_left) {
            r->status = EXEC_OUT_OF_GAS;
            fail_frame(st, snap, r);
            return;
        }
        r->gas_left -= (int64_t)cost;
        bytebuf *out = &evm_buffers_at(e, msg->depth)->precompile_output;
        out->len = 0;
        if (!pc->run(input, msg->input_len, e->fork, out)) {
            r->status = EXEC_PRECOMPILE_FAILURE;
            fail_frame(st, snap, r);
            return;
        }
        r->output = out->data;
        r->output_len = out->len;
        return;
    }

    if (!code) code = state_get_code(st, &msg->code_address);
    if (code->code_len == 0) return;
    run_code(e, msg, code, r);
    if (r->status != EXEC_SUCCESS) fail_frame(st, snap, r);
}

static __attribute__((noinline)) exec_result execute_create(evm *e, const message *msg)
{
    state *st = e->st;
    enum fork fk = e->fork;
    const address *target = &msg->recipient;
    exec_result r = {.status = EXEC_SUCCESS, .gas_left = msg->gas, .create_address = *target};

    /* EIP-684 and EIP-7610: an address with code, a nonce or storage
     * cannot be created again; the creation burns its gas. */
    hash32 code_hash = state_get_code_hash(st, target);
    bool has_code = state_exists(st, target) && memcmp(code_hash.b, KECCAK_EMPTY.b, 32) != 0;
    if (state_get_nonce(st, target) != 0 || has_code || state_has_storage(st, target)) {
        r.status = EXEC_CREATE_COLLISION;
        r.gas_left = 0;
        return r;
    }

    state_snapshot snap = state_snapshot_take(st);
    state_create_account(st, target);
    state_mark_created(st, target);
    if (fk >= FORK_SPURIOUS_DRAGON) state_set_nonce(st, target, 1); /* EIP-161 */
    transfer_value(st, msg);
    if (fk >= FORK_SPURIOUS_DRAGON) state_touch(st, target);

    /* Initcode runs with empty calldata. */
    message run = *msg;
    run.input = NULL;
    run.input_len = 0;
    code_info *initcode = code_info_new(msg->input, msg->input_len, &KECCAK_EMPTY);
    run_code(e, &run, initcode, &r);
    code_info_free(initcode);
    if (r.status != EXEC_SUCCESS) {
        fail_frame(st, snap, &r);
        return r;
    }

    /* The output stays: it is the deployed code, which eth_call of a
     * creation returns (the CREATE opcode gives its caller no return data). */
    const uint8_t *code = r.output;
    size_t len = r.output_len;
    int64_t deposit = (int64_t)(len * GAS_CODE_DEPOSIT);
    if (fk >= FORK_LONDON && len > 0 && code[0] == 0xef) {
        r.status = EXEC_INVALID_CODE_PREFIX; /* EIP-3541 */
    } else if (fk >= FORK_SPURIOUS_DRAGON && len > MAX_CODE_SIZE) {
        r.status = EXEC_CODE_SIZE_EXCEEDED; /* EIP-170 */
    } else if (deposit > r.gas_left) {
        /* Frontier kept the account, without code, when the deposit could
         * not be paid; EIP-2 made it a failure. */
        if (fk < FORK_HOMESTEAD) return r;
        r.status = EXEC_OUT_OF_GAS;
    } else {
        r.gas_left -= deposit;
        state_set_code(st, target, code, len);
        return r;
    }
    fail_frame(st, snap, &r);
    return r;
}

exec_result evm_execute(evm *e, const message *msg)
{
    if (e->trace.on_enter) e->trace.on_enter(e->trace.ctx, e, msg);
    exec_result r;
    if (msg->kind == CALL_CREATE || msg->kind == CALL_CREATE2)
        r = execute_create(e, msg);
    else
        execute_call(e, msg, &r);
    /* A frame refused memory halted; what ran after it is not the
     * execution's answer. */
    if (msg->depth == 0 && e->memory_limit_hit) {
        r.status = EXEC_MEMORY_LIMIT;
        r.output = NULL;
        r.output_len = 0;
    }
    if (e->trace.on_exit) e->trace.on_exit(e->trace.ctx, e, msg, &r);
    return r;
}
