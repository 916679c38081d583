/* The functions compiled code calls, one per opcode it does not emit as
 * machine code: thin wrappers over the single definitions in ops.h and
 * instructions.c, so both tiers run the same semantics. */
#include "jit/jit_internal.h"
#include "vm/ops.h"

#define STACK_OPS(X) \
    X(MUL) X(DIV) X(SDIV) X(MOD) X(SMOD) X(ADDMOD) X(MULMOD) X(SIGNEXTEND) X(BYTE) X(SHL) X(SHR) X(SAR) X(CLZ)

#define WRAP_STACK(name) \
    static void jit_##name(u256 *sp) { op_##name(sp); }
STACK_OPS(WRAP_STACK)
#undef WRAP_STACK

#define WRAP_CONTEXT(name, expr) \
    static void jit_##name(const frame *f, u256 *sp) { op_##name(f, sp); }
OPS_CONTEXT(WRAP_CONTEXT)
#undef WRAP_CONTEXT
static void jit_CALLDATALOAD(const frame *f, u256 *sp) { op_CALLDATALOAD(f, sp); }

/* MLOAD/MSTORE: the in-bounds case without touching gas, else the helper. */
static enum exec_status jit_MLOAD(frame *f, u256 *sp)
{
    return op_MLOAD_in_bounds(f, sp) ? EXEC_SUCCESS : instr_MLOAD(f, sp);
}

static enum exec_status jit_MSTORE(frame *f, u256 *sp)
{
    return op_MSTORE_in_bounds(f, sp) ? EXEC_SUCCESS : instr_MSTORE(f, sp);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
const void *const jit_helper_table[256] = {
#define ROW(name) [OP_##name] = (const void *)jit_##name,
    STACK_OPS(ROW)
#undef ROW
#define ROW(name, expr) [OP_##name] = (const void *)jit_##name,
    OPS_CONTEXT(ROW)
#undef ROW
    [OP_CALLDATALOAD] = (const void *)jit_CALLDATALOAD,
#define ROW(name) [OP_##name] = (const void *)instr_##name,
    INSTR_HELPERS(ROW)
#undef ROW
    [OP_MLOAD] = (const void *)jit_MLOAD,
    [OP_MSTORE] = (const void *)jit_MSTORE,
};
#pragma GCC diagnostic pop

/* Later rows override earlier ones: RETURN, REVERT and SELFDESTRUCT are
 * helpers that end the frame. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
static const uint8_t op_kinds[256] = {
    [0 ... 255] = JIT_DEOPT_OP,
    [OP_PUSH1 ... OP_SWAP16] = JIT_NATIVE, /* PUSHn, DUPn, SWAPn */
#define ROW(name) [OP_##name] = JIT_NATIVE,
    ROW(STOP) ROW(ADD) ROW(SUB) ROW(LT) ROW(GT) ROW(SLT) ROW(SGT) ROW(EQ) ROW(ISZERO) ROW(AND) ROW(OR)
    ROW(XOR) ROW(NOT) ROW(POP) ROW(JUMP) ROW(JUMPI) ROW(PC) ROW(GAS) ROW(JUMPDEST) ROW(PUSH0)
#undef ROW
#define ROW(name) [OP_##name] = JIT_STACK,
    STACK_OPS(ROW)
#undef ROW
#define ROW(name, expr) [OP_##name] = JIT_CONTEXT,
    OPS_CONTEXT(ROW)
#undef ROW
    [OP_CALLDATALOAD] = JIT_CONTEXT,
#define ROW(name) [OP_##name] = JIT_INSTR,
    INSTR_HELPERS(ROW)
#undef ROW
    [OP_RETURN] = JIT_END,
    [OP_REVERT] = JIT_END,
    [OP_SELFDESTRUCT] = JIT_END,
};
#pragma GCC diagnostic pop

enum jit_op_kind jit_op_kind(uint8_t op) { return (enum jit_op_kind)op_kinds[op]; }
