/* The opcode table's static rows and its per-fork views (base gas after
 * each fork's repricings, which opcodes exist), built once. */
#include "vm/opcodes.h"

#include <pthread.h>

const opcode_info opcode_table[256] = {
#define OPCODE_ROW(op, nm, imm, in, out, gas, fork, kd, fl)                                                 \
    [op] = {.name = #nm, .immediate = imm, .stack_in = in, .stack_out = out, .kind = OPK_##kd, .flags = fl, \
            .since = fork},
    OPCODES(OPCODE_ROW)
#undef OPCODE_ROW
};

static const int32_t frontier_gas[256] = {
#define OPCODE_GAS(op, nm, imm, in, out, gas, fork, kd, fl) [op] = gas,
    OPCODES(OPCODE_GAS)
#undef OPCODE_GAS
};

/* Base gas changes after an opcode's introduction, in fork order. Where a
 * cost becomes partly dynamic (EIP-2929 cold access), the base is the part
 * always charged and the instruction adds the rest. */
static const struct {
    enum fork fork;
    uint8_t op;
    int32_t gas;
} gas_deltas[] = {
    /* EIP-150: IO-heavy operations repriced. */
    {FORK_TANGERINE_WHISTLE, OP_BALANCE, 400},
    {FORK_TANGERINE_WHISTLE, OP_EXTCODESIZE, 700},
    {FORK_TANGERINE_WHISTLE, OP_EXTCODECOPY, 700},
    {FORK_TANGERINE_WHISTLE, OP_SLOAD, 200},
    {FORK_TANGERINE_WHISTLE, OP_CALL, 700},
    {FORK_TANGERINE_WHISTLE, OP_CALLCODE, 700},
    {FORK_TANGERINE_WHISTLE, OP_DELEGATECALL, 700},
    {FORK_TANGERINE_WHISTLE, OP_SELFDESTRUCT, 5000},
    /* EIP-1884: trie-size-dependent opcodes repriced. */
    {FORK_ISTANBUL, OP_BALANCE, 700},
    {FORK_ISTANBUL, OP_SLOAD, 800},
    {FORK_ISTANBUL, OP_EXTCODEHASH, 700},
    /* EIP-2929: state access costs the warm price up front; a cold access
     * adds the difference when it happens. */
    {FORK_BERLIN, OP_BALANCE, 100},
    {FORK_BERLIN, OP_EXTCODESIZE, 100},
    {FORK_BERLIN, OP_EXTCODECOPY, 100},
    {FORK_BERLIN, OP_EXTCODEHASH, 100},
    {FORK_BERLIN, OP_SLOAD, 100},
    {FORK_BERLIN, OP_CALL, 100},
    {FORK_BERLIN, OP_CALLCODE, 100},
    {FORK_BERLIN, OP_DELEGATECALL, 100},
    {FORK_BERLIN, OP_STATICCALL, 100},
};

static fork_opcode_table fork_tables[FORK_COUNT];
static pthread_once_t fork_tables_once = PTHREAD_ONCE_INIT;

static void build_fork_tables(void)
{
    for (int f = 0; f < FORK_COUNT; f++) {
        fork_opcode_table *t = &fork_tables[f];
        for (int op = 0; op < 256; op++) {
            const opcode_info *info = &opcode_table[op];
            /* INVALID (0xfe) is named but never defined: it halts like any
             * undefined byte. */
            t->defined[op] = info->name && op != OP_INVALID && (int)info->since <= f;
            t->base_gas[op] = frontier_gas[op];
        }
        for (size_t i = 0; i < sizeof gas_deltas / sizeof gas_deltas[0]; i++)
            if ((int)gas_deltas[i].fork <= f) t->base_gas[gas_deltas[i].op] = gas_deltas[i].gas;
    }
}

const fork_opcode_table *opcode_table_for_fork(enum fork f)
{
    pthread_once(&fork_tables_once, build_fork_tables);
    return &fork_tables[f];
}

const char *opcode_name(uint8_t op)
{
    return opcode_table[op].name ? opcode_table[op].name : "UNKNOWN";
}
