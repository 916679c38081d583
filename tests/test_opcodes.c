/* Checks the opcode table against rules stated independently of it: the
 * numbering patterns of the Yellow Paper, the fork each EIP changed, and
 * what the specification says an opcode does (halts, jumps, compares,
 * charges gas beyond its base, touches state) against its kind and flags. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "vm/evm_internal.h"
#include "vm/opcodes.h"

START_TEST(push_dup_swap_log_patterns)
{
    for (int n = 1; n <= 32; n++) {
        const opcode_info *p = &opcode_table[0x5f + n];
        ck_assert_uint_eq(p->immediate, n);
        ck_assert_uint_eq(p->stack_in, 0);
        ck_assert_uint_eq(p->stack_out, 1);
    }
    for (int n = 1; n <= 16; n++) {
        const opcode_info *d = &opcode_table[0x7f + n], *s = &opcode_table[0x8f + n];
        ck_assert_uint_eq(d->stack_in, n);
        ck_assert_uint_eq(d->stack_out, n + 1);
        ck_assert_uint_eq(s->stack_in, n + 1);
        ck_assert_uint_eq(s->stack_out, n + 1);
    }
    for (int n = 0; n <= 4; n++) {
        ck_assert_uint_eq(opcode_table[0xa0 + n].stack_in, n + 2);
        ck_assert_int_eq(opcode_table_for_fork(FORK_FRONTIER)->base_gas[0xa0 + n], 375 * (n + 1));
    }
}
END_TEST

START_TEST(only_push_has_immediates)
{
    for (int op = 0; op < 256; op++)
        if (op < 0x60 || op > 0x7f) ck_assert_uint_eq(opcode_table[op].immediate, 0);
}
END_TEST

START_TEST(unassigned_bytes_are_undefined_everywhere)
{
    static const int unassigned[] = {0x0c, 0x0f, 0x1f, 0x21, 0x2f, 0x4b, 0x4f, 0xa5, 0xef, 0xf6, 0xf9, 0xfb, 0xfc};
    for (size_t i = 0; i < sizeof unassigned / sizeof unassigned[0]; i++) {
        ck_assert_ptr_null(opcode_table[unassigned[i]].name);
        for (int f = 0; f < FORK_COUNT; f++) ck_assert(!opcode_table_for_fork(f)->defined[unassigned[i]]);
    }
    /* INVALID is named but never executes. */
    for (int f = 0; f < FORK_COUNT; f++) ck_assert(!opcode_table_for_fork(f)->defined[0xfe]);
}
END_TEST

/* The fork that introduced each later opcode, from its EIP. */
START_TEST(introduction_forks)
{
    static const struct { int op; enum fork since; } intro[] = {
        {0xf4, FORK_HOMESTEAD},     /* EIP-7 DELEGATECALL */
        {0x3d, FORK_BYZANTIUM},     /* EIP-211 RETURNDATASIZE */
        {0x3e, FORK_BYZANTIUM},     /* EIP-211 RETURNDATACOPY */
        {0xfa, FORK_BYZANTIUM},     /* EIP-214 STATICCALL */
        {0xfd, FORK_BYZANTIUM},     /* EIP-140 REVERT */
        {0x1b, FORK_CONSTANTINOPLE},/* EIP-145 SHL */
        {0x1c, FORK_CONSTANTINOPLE},
        {0x1d, FORK_CONSTANTINOPLE},
        {0x3f, FORK_CONSTANTINOPLE},/* EIP-1052 EXTCODEHASH */
        {0xf5, FORK_CONSTANTINOPLE},/* EIP-1014 CREATE2 */
        {0x46, FORK_ISTANBUL},      /* EIP-1344 CHAINID */
        {0x47, FORK_ISTANBUL},      /* EIP-1884 SELFBALANCE */
        {0x48, FORK_LONDON},        /* EIP-3198 BASEFEE */
        {0x5f, FORK_SHANGHAI},      /* EIP-3855 PUSH0 */
        {0x49, FORK_CANCUN},        /* EIP-4844 BLOBHASH */
        {0x4a, FORK_CANCUN},        /* EIP-7516 BLOBBASEFEE */
        {0x5c, FORK_CANCUN},        /* EIP-1153 TLOAD */
        {0x5d, FORK_CANCUN},
        {0x5e, FORK_CANCUN},        /* EIP-5656 MCOPY */
        {0x1e, FORK_OSAKA},         /* EIP-7939 CLZ */
    };
    for (size_t i = 0; i < sizeof intro / sizeof intro[0]; i++) {
        int op = intro[i].op;
        for (int f = 0; f < FORK_COUNT; f++)
            ck_assert_msg(opcode_table_for_fork(f)->defined[op] == (f >= (int)intro[i].since),
                          "opcode 0x%02x on fork %s", op, fork_name(f));
    }
}
END_TEST

/* Repricings: EIP-150, EIP-1884, EIP-2929. */
START_TEST(repricings)
{
    const fork_opcode_table *fr = opcode_table_for_fork(FORK_FRONTIER), *tw = opcode_table_for_fork(FORK_TANGERINE_WHISTLE),
                            *ist = opcode_table_for_fork(FORK_ISTANBUL), *ber = opcode_table_for_fork(FORK_BERLIN),
                            *osa = opcode_table_for_fork(FORK_OSAKA);
    ck_assert_int_eq(fr->base_gas[OP_SLOAD], 50);
    ck_assert_int_eq(tw->base_gas[OP_SLOAD], 200);
    ck_assert_int_eq(ist->base_gas[OP_SLOAD], 800);
    ck_assert_int_eq(ber->base_gas[OP_SLOAD], 100);
    ck_assert_int_eq(fr->base_gas[OP_BALANCE], 20);
    ck_assert_int_eq(tw->base_gas[OP_BALANCE], 400);
    ck_assert_int_eq(ist->base_gas[OP_BALANCE], 700);
    ck_assert_int_eq(osa->base_gas[OP_BALANCE], 100);
    ck_assert_int_eq(fr->base_gas[OP_CALL], 40);
    ck_assert_int_eq(tw->base_gas[OP_CALL], 700);
    ck_assert_int_eq(ber->base_gas[OP_STATICCALL], 100);
    ck_assert_int_eq(fr->base_gas[OP_SELFDESTRUCT], 0);
    ck_assert_int_eq(tw->base_gas[OP_SELFDESTRUCT], 5000);
    ck_assert_int_eq(ist->base_gas[OP_EXTCODEHASH], 700);
    ck_assert_int_eq(osa->base_gas[OP_JUMPDEST], 1);
    ck_assert_int_eq(osa->base_gas[OP_CLZ], 5);
}
END_TEST

/* The repriced flag (which lets the interpreter fold the other opcodes'
 * gas into constants) marks exactly the opcodes whose base gas differs
 * between forks after their introduction. */
START_TEST(repriced_flag_matches_the_fork_tables)
{
    for (int op = 0; op < 256; op++) {
        if (!opcode_table[op].name) continue;
        bool varies = false;
        int32_t first = opcode_table_for_fork(opcode_table[op].since)->base_gas[op];
        for (int f = opcode_table[op].since; f < FORK_COUNT; f++)
            if (opcode_table_for_fork(f)->base_gas[op] != first) varies = true;
        ck_assert_msg(varies == !!(opcode_table[op].flags & OPF_REPRICED), "opcode %s", opcode_table[op].name);
    }
}
END_TEST

START_TEST(names_round_trip)
{
    ck_assert_str_eq(opcode_name(0x60), "PUSH1");
    ck_assert_str_eq(opcode_name(0x20), "KECCAK256");
    ck_assert_str_eq(opcode_name(0x0c), "UNKNOWN");
    /* Names are unique. */
    for (int a = 0; a < 256; a++)
        for (int b = a + 1; b < 256; b++)
            if (opcode_table[a].name && opcode_table[b].name)
                ck_assert_str_ne(opcode_table[a].name, opcode_table[b].name);
}
END_TEST

/* Whether byte `op` is in a list. */
static bool listed(int op, const int *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == op) return true;
    return false;
}
#define LISTED(op, list) listed(op, list, sizeof list / sizeof list[0])

/* Yellow Paper 9.4.4 ("normal halting") and EIP-140 (REVERT), with INVALID
 * (EIP-141) and SELFDESTRUCT: the opcodes after which the frame is over;
 * JUMP and JUMPI the only ones that continue elsewhere. Together they end
 * a basic block; nothing else does. */
START_TEST(halting_and_jumping_opcodes)
{
    static const int halts[] = {0x00, 0xf3, 0xfd, 0xfe, 0xff};
    static const int jumps[] = {0x56, 0x57};
    for (int op = 0; op < 256; op++) {
        if (!opcode_table[op].name) continue;
        ck_assert_msg(opcode_halts(op) == LISTED(op, halts), "%s", opcode_name(op));
        ck_assert_msg(!!(opcode_table[op].flags & OPF_JUMPS) == LISTED(op, jumps), "%s", opcode_name(op));
        ck_assert_msg(opcode_ends_block(op) == (LISTED(op, halts) || LISTED(op, jumps)), "%s", opcode_name(op));
    }
}
END_TEST

/* The Yellow Paper's 0x10s: LT, GT, SLT, SGT, EQ and ISZERO push 1 or 0;
 * AND..SAR in the same row do not. */
START_TEST(comparisons)
{
    for (int op = 0; op < 256; op++)
        ck_assert_msg(opcode_is_comparison(op) == (op >= 0x10 && op <= 0x15), "%s", opcode_name(op));
}
END_TEST

/* The kind column against what the specification says each opcode does:
 * a STACK function may only compute from its operands; a CONTEXT function
 * reads the frame or block and can neither charge gas nor fail; whatever
 * charges more than its base gas (memory growth, copies, EIP-2929 access,
 * storage, logs, calls), reads world state, writes state or can fail must
 * be a helper. */
START_TEST(kinds_match_the_specification)
{
    /* Yellow Paper 0s and 10s rows and EIP-145/EIP-7939: functions of the
     * operands alone, constant gas (EXP's gas depends on its exponent). */
    static const int pure[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0b, 0x10, 0x11, 0x12, 0x13,
                               0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e};
    /* Environmental and block information fixed for the frame, constant gas:
     * ADDRESS, ORIGIN, CALLER, CALLVALUE, CALLDATALOAD, CALLDATASIZE,
     * CODESIZE, GASPRICE, RETURNDATASIZE, COINBASE, TIMESTAMP, NUMBER,
     * PREVRANDAO, GASLIMIT, CHAINID, BASEFEE, BLOBBASEFEE, MSIZE. */
    static const int frame_reads[] = {0x30, 0x32, 0x33, 0x34, 0x35, 0x36, 0x38, 0x3a, 0x3d,
                                      0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x48, 0x4a, 0x59};
    /* Gas beyond the base: EXP (byte size of the exponent), KECCAK256 and
     * the copies (per word and memory), memory access (expansion),
     * EIP-2929 cold access, SSTORE (EIP-2200), LOGn (data), CREATE/CREATE2
     * (initcode), the calls, RETURN/REVERT (memory), SELFDESTRUCT. */
    static const int dynamic_gas[] = {0x0a, 0x20, 0x31, 0x37, 0x39, 0x3b, 0x3c, 0x3e, 0x3f, 0x51, 0x52, 0x53, 0x54,
                                      0x55, 0x5e, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5,
                                      0xfa, 0xfd, 0xff};
    /* World state, history or the transaction: SELFBALANCE, BLOCKHASH,
     * BLOBHASH, TLOAD, TSTORE (EIP-1153; TSTORE fails in a static call). */
    static const int state_or_tx[] = {0x47, 0x40, 0x49, 0x5c, 0x5d};
    /* Control flow and the stack moves each tier owns. */
    static const int control[] = {0x00, 0x50, 0x56, 0x57, 0x58, 0x5a, 0x5b};
    for (int op = 0; op < 256; op++) {
        enum opcode_kind k = opcode_kind(op);
        bool helper = k == OPK_HELPER || k == OPK_HELPER_FAST;
        if (!opcode_table[op].name || op == 0xfe) {
            ck_assert_msg(k == OPK_INVALID, "0x%02x", op);
            continue;
        }
        ck_assert_msg((k == OPK_STACK) == LISTED(op, pure), "%s", opcode_name(op));
        ck_assert_msg((k == OPK_CONTEXT) == LISTED(op, frame_reads), "%s", opcode_name(op));
        ck_assert_msg(helper == (LISTED(op, dynamic_gas) || LISTED(op, state_or_tx)), "%s", opcode_name(op));
        ck_assert_msg((k == OPK_BUILTIN) == LISTED(op, control), "%s", opcode_name(op));
        ck_assert_msg((k == OPK_PUSH) == (op >= 0x5f && op <= 0x7f), "%s", opcode_name(op));
        ck_assert_msg((k == OPK_DUP) == (op >= 0x80 && op <= 0x8f), "%s", opcode_name(op));
        ck_assert_msg((k == OPK_SWAP) == (op >= 0x90 && op <= 0x9f), "%s", opcode_name(op));
    }
    /* The fast path exists for the word-sized memory accesses only. */
    for (int op = 0; op < 256; op++)
        ck_assert_msg((opcode_kind(op) == OPK_HELPER_FAST) == (op == 0x51 || op == 0x52), "%s", opcode_name(op));
}
END_TEST

/* A STACK function leaves one result where its operands were; a CONTEXT
 * one pushes a word or replaces the top (CALLDATALOAD). */
START_TEST(kind_stack_shapes)
{
    for (int op = 0; op < 256; op++) {
        const opcode_info *info = &opcode_table[op];
        if (info->kind == OPK_STACK) {
            ck_assert_uint_eq(info->stack_out, 1);
            ck_assert_uint_ge(info->stack_in, 1);
        }
        if (info->kind == OPK_CONTEXT) {
            ck_assert_uint_eq(info->stack_out, 1);
            ck_assert_uint_le(info->stack_in, 1);
        }
    }
}
END_TEST

/* Every opcode with a shared function has one, and only those. */
START_TEST(functions_exist_for_their_kinds)
{
    for (int op = 0; op < 256; op++)
        ck_assert_msg((opcode_functions[op] != NULL) == opcode_has_function(op), "%s", opcode_name(op));
}
END_TEST

int main(void)
{
    return TEST_RUN("opcodes",
        TEST_GROUP("table", 0, push_dup_swap_log_patterns, only_push_has_immediates,
            unassigned_bytes_are_undefined_everywhere, introduction_forks, repricings, names_round_trip,
            repriced_flag_matches_the_fork_tables, halting_and_jumping_opcodes, comparisons,
            kinds_match_the_specification, kind_stack_shapes, functions_exist_for_their_kinds));
}
