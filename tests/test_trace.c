/* The core's tracer hooks (core/vm/evm.h), which debug_traceCall's tracers
 * and eth_createAccessList's recorder are built on: what a step shows
 * (memory, return data), the frames geth reports that never run (a CALL
 * refused for its balance, SELFDESTRUCT), and on_tx_end's post-state; and
 * that a tracer changes nothing of the execution itself. Each transaction
 * runs through tx_execute on a small in-memory state. */
#include <string.h>

#include "state/memstate.h"
#include "testlib.h"
#include "vm/opcodes.h"
#include "vm/tx.h"

static const address CONTRACT = {{[19] = 0xc0}};
static const address SENDER = {{[19] = 0x5e}};
static const address BEEF = {{[18] = 0xbe, [19] = 0xef}};

enum { MAX_EVENTS = 32 };

typedef struct {
    char kind; /* 'e' enter, 'x' exit */
    message msg;
    exec_result r;
} frame_event;

/* What a run showed its tracer. */
typedef struct {
    frame_event events[MAX_EVENTS];
    int n_events;
    int steps;
    /* The step at `watch_pc` (depth 1), copied. */
    uint32_t watch_pc;
    bool watched;
    uint8_t mem[64], ret[64];
    size_t mem_size, ret_len;
    int tx_end_calls;
    uint64_t sender_nonce_at_end;
    bool destructed_reads_empty;
} recorder;

static void rec_step(void *ctx, const trace_step *s)
{
    recorder *r = ctx;
    r->steps++;
    if (s->depth == 1 && s->pc == r->watch_pc && !r->watched) {
        r->watched = true;
        r->mem_size = s->mem_size;
        if (s->mem_size) memcpy(r->mem, s->memory, s->mem_size < sizeof r->mem ? s->mem_size : sizeof r->mem);
        r->ret_len = s->return_data_len;
        if (s->return_data_len)
            memcpy(r->ret, s->return_data, s->return_data_len < sizeof r->ret ? s->return_data_len : sizeof r->ret);
    }
}

static void rec_enter(void *ctx, const evm *e, const message *msg)
{
    (void)e;
    recorder *r = ctx;
    if (r->n_events < MAX_EVENTS) r->events[r->n_events++] = (frame_event){.kind = 'e', .msg = *msg};
}

static void rec_exit(void *ctx, const evm *e, const message *msg, const exec_result *res)
{
    (void)e;
    recorder *r = ctx;
    if (r->n_events < MAX_EVENTS) r->events[r->n_events++] = (frame_event){.kind = 'x', .msg = *msg, .r = *res};
}

static void rec_tx_end(void *ctx, const evm *e)
{
    recorder *r = ctx;
    r->tx_end_calls++;
    r->sender_nonce_at_end = state_get_nonce(evm_state(e), &SENDER);
}

/* Runs `code` at CONTRACT (balance 10^9) called by SENDER, under Cancun,
 * with `t` (may be NULL); the result and the post-state root. */
static void run(const uint8_t *code, size_t len, const tracer *t, tx_result *res, hash32 *root)
{
    memstate *m = memstate_new();
    u256 balance = u256_from_u64(1000000000), rich = u256_from_u64(1000000000000000000ull);
    memstate_put_account(m, &CONTRACT, 1, &balance, code, len);
    memstate_put_account(m, &SENDER, 0, &rich, NULL, 0);
    state_backend b = memstate_backend(m);
    state *st = state_new(&b);
    block_env block = {.number = 5, .timestamp = 1000, .gas_limit = 30000000};
    block.chain_id = u256_from_u64(1);
    block.base_fee = u256_from_u64(7);
    block_env_default_blob_schedule(&block, FORK_CANCUN);
    transaction tx = {.type = 2, .sender = SENDER, .has_to = true, .to = CONTRACT};
    tx.gas_limit = u256_from_u64(200000);
    tx.max_fee_per_gas = u256_from_u64(10);
    tx.max_priority_fee_per_gas = u256_from_u64(1);
    tx_options opts = {.trace = t};
    tx_execute(st, &block, &tx, FORK_CANCUN, &opts, res);
    ck_assert_int_eq(res->error, TX_OK);
    state_sink sink = memstate_sink(m);
    state_commit(st, &sink);
    memstate_root(m, root);
    state_free(st);
    memstate_free(m);
}

/* The same code with and without the recorder: the same result and state. */
static void run_traced(const uint8_t *code, size_t len, recorder *r, tx_result *res)
{
    tracer t = {.ctx = r, .on_step = rec_step, .on_enter = rec_enter, .on_exit = rec_exit, .on_tx_end = rec_tx_end};
    tx_result plain;
    hash32 root_plain, root_traced;
    run(code, len, NULL, &plain, &root_plain);
    run(code, len, &t, res, &root_traced);
    ck_assert_int_eq(plain.status, res->status);
    ck_assert_uint_eq(plain.gas_used, res->gas_used);
    ck_assert(memcmp(root_plain.b, root_traced.b, 32) == 0);
    tx_result_free(&plain);
    ck_assert_int_eq(r->tx_end_calls, 1);
}

START_TEST(refused_call_is_a_frame)
{
    /* CALL(gas 0xffff, 0xbeef, value 10^18 > the balance 10^9, no data); STOP */
    static const uint8_t code[] = {0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x67, 0x0d, 0xe0, 0xb6, 0xb3,
                                   0xa7, 0x64, 0x00, 0x00, 0x61, 0xbe, 0xef, 0x61, 0xff, 0xff, 0xf1, 0x00};
    recorder r = {0};
    tx_result res;
    run_traced(code, sizeof code, &r, &res);
    ck_assert_int_eq(res.status, EXEC_SUCCESS);
    /* enter top, enter refused, exit refused, exit top */
    ck_assert_int_eq(r.n_events, 4);
    ck_assert_int_eq(r.events[1].kind, 'e');
    ck_assert_int_eq(r.events[1].msg.kind, CALL_CALL);
    ck_assert_int_eq(r.events[1].msg.depth, 1);
    ck_assert(memcmp(r.events[1].msg.recipient.b, BEEF.b, 20) == 0);
    ck_assert(memcmp(r.events[1].msg.sender.b, CONTRACT.b, 20) == 0);
    ck_assert_int_eq(r.events[2].kind, 'x');
    ck_assert_int_eq(r.events[2].r.status, EXEC_INSUFFICIENT_BALANCE);
    /* All its gas comes back: the 0xffff asked for and the stipend. */
    ck_assert_int_eq(r.events[2].msg.gas, 0xffff + 2300);
    ck_assert_int_eq(r.events[2].r.gas_left, r.events[2].msg.gas);
    ck_assert_int_eq(r.events[3].msg.depth, 0);
    ck_assert_uint_eq(r.sender_nonce_at_end, 1);
    tx_result_free(&res);
}
END_TEST

START_TEST(selfdestruct_is_a_frame)
{
    static const uint8_t code[] = {0x61, 0xbe, 0xef, 0xff}; /* SELFDESTRUCT(0xbeef) */
    recorder r = {0};
    tx_result res;
    run_traced(code, sizeof code, &r, &res);
    ck_assert_int_eq(r.n_events, 4);
    const message *m = &r.events[1].msg;
    ck_assert_int_eq(m->kind, CALL_SELFDESTRUCT);
    ck_assert_int_eq(m->depth, 1);
    ck_assert_int_eq(m->gas, 0);
    ck_assert(memcmp(m->sender.b, CONTRACT.b, 20) == 0);
    ck_assert(memcmp(m->recipient.b, BEEF.b, 20) == 0);
    u256 balance = u256_from_u64(1000000000);
    ck_assert(u256_eq(&m->value, &balance));
    ck_assert_int_eq(r.events[2].r.status, EXEC_SUCCESS);
    tx_result_free(&res);
}
END_TEST

START_TEST(steps_show_memory_and_return_data)
{
    /* MSTORE(0, 0x2a); STATICCALL(gas, identity 0x04, in 0..32, out 0..0);
     * POP (pc 17: the step watched); STOP */
    static const uint8_t code[] = {0x60, 0x2a, 0x60, 0x00, 0x52, 0x60, 0x00, 0x60, 0x00, 0x60,
                                   0x20, 0x60, 0x00, 0x60, 0x04, 0x5a, 0xfa, 0x50, 0x00};
    recorder r = {.watch_pc = 17};
    tx_result res;
    run_traced(code, sizeof code, &r, &res);
    ck_assert(r.watched);
    ck_assert_uint_eq(r.mem_size, 32);
    ck_assert_uint_eq(r.mem[31], 0x2a);
    ck_assert_uint_eq(r.ret_len, 32);
    ck_assert_uint_eq(r.ret[31], 0x2a);
    ck_assert_int_eq(r.steps, 12); /* one per instruction: 7 PUSH1, MSTORE, GAS, STATICCALL, POP, STOP */
    tx_result_free(&res);
}
END_TEST

int main(void)
{
    return TEST_RUN("trace", TEST_GROUP("hooks", 0, refused_call_is_a_frame, selfdestruct_is_a_frame,
                                        steps_show_memory_and_return_data));
}
