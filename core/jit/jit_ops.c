/* The compiler's view of the opcode table's kind column: which opcodes it
 * emits as machine code and which it calls (through opcode_functions, the
 * single definitions both tiers run). The stack operations it emits itself
 * are listed here and only here; everything else follows from the table. */
#include "jit/jit_internal.h"

enum jit_native_op jit_native_op(uint8_t op)
{
    switch (op) {
    case OP_ADD: case OP_SUB: case OP_AND: case OP_OR: case OP_XOR: case OP_MUL:
        return JN_ARITH;
    case OP_NOT:
        return JN_NOT;
    case OP_DIV: case OP_MOD: case OP_SDIV: case OP_SMOD:
        return JN_DIVMOD;
    case OP_SHL: case OP_SHR: case OP_SAR:
        return JN_SHIFT;
    default:
        return opcode_is_comparison(op) ? JN_COMPARE : JN_NONE;
    }
}

enum jit_op_kind jit_op_kind(uint8_t op)
{
    switch (opcode_kind(op)) {
    case OPK_BUILTIN: case OPK_PUSH: case OPK_DUP: case OPK_SWAP:
        return JIT_NATIVE;
    case OPK_STACK:
        return jit_native_op(op) != JN_NONE ? JIT_NATIVE : JIT_STACK;
    case OPK_CONTEXT:
        return JIT_CONTEXT;
    case OPK_HELPER: case OPK_HELPER_FAST:
        return opcode_halts(op) ? JIT_END : JIT_INSTR;
    case OPK_INVALID:
        break;
    }
    return JIT_DEOPT_OP;
}
