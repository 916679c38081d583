/* Checks the opcode table against rules stated independently of it: the
 * numbering patterns of the Yellow Paper and the fork each EIP changed. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
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

int main(void)
{
    Suite *s = suite_create("opcodes");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, push_dup_swap_log_patterns);
    tcase_add_test(tc, only_push_has_immediates);
    tcase_add_test(tc, unassigned_bytes_are_undefined_everywhere);
    tcase_add_test(tc, introduction_forks);
    tcase_add_test(tc, repricings);
    tcase_add_test(tc, names_round_trip);
    tcase_add_test(tc, repriced_flag_matches_the_fork_tables);
    suite_add_tcase(s, tc);
    return test_main(s);
}
