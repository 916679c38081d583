/* The compiler's view of the opcode table's kind column: which opcodes it
 * emits as machine code and which it calls (through opcode_functions, the
 * single definitions both tiers run). */
#include "jit/jit_internal.h"

/* The stack operations the compiler emits itself rather than calling. */
static bool emitted_natively(uint8_t op)
{
    switch (op) {
    case OP_ADD: case OP_SUB: case OP_LT: case OP_GT: case OP_SLT: case OP_SGT: case OP_EQ:
    case OP_ISZERO: case OP_AND: case OP_OR: case OP_XOR: case OP_NOT:
        return true;
    default:
        return false;
    }
}

enum jit_op_kind jit_op_kind(uint8_t op)
{
    switch (opcode_kind(op)) {
    case OPK_BUILTIN: case OPK_PUSH: case OPK_DUP: case OPK_SWAP:
        return JIT_NATIVE;
    case OPK_STACK:
        return emitted_natively(op) ? JIT_NATIVE : JIT_STACK;
    case OPK_CONTEXT:
        return JIT_CONTEXT;
    case OPK_HELPER: case OPK_HELPER_FAST:
        return opcode_halts(op) ? JIT_END : JIT_INSTR;
    case OPK_INVALID:
        break;
    }
    return JIT_DEOPT_OP;
}
