/* opcode_functions: the one callable function per opcode whose semantics are
 * shared (opcode_has_function), generated from the table's kind column. The
 * inline definitions in ops.h get an out-of-line copy here; the compiler
 * calls these, the interpreter inlines the same definitions. */
#include "vm/ops.h"

/* Out-of-line copies of what ops.h defines inline. */
#define FN_INVALID(name)
#define FN_BUILTIN(name)
#define FN_PUSH(name)
#define FN_DUP(name)
#define FN_SWAP(name)
#define FN_STACK(name) \
    static void fn_##name(u256 *sp) { op_##name(sp); }
#define FN_CONTEXT(name) \
    static void fn_##name(const frame *f, u256 *sp) { op_##name(f, sp); }
#define FN_HELPER(name)
/* The in-bounds access without gas, else the full helper. */
#define FN_HELPER_FAST(name) \
    static enum exec_status fn_##name(frame *f, u256 *sp) { return op_##name##_in_bounds(f, sp) ? EXEC_SUCCESS : instr_##name(f, sp); }
#define FN_ROW(op, name, imm, in, out, gas, fork, kind, flags) FN_##kind(name)
OPCODES(FN_ROW)
#undef FN_ROW

#define ENTRY_INVALID(name)
#define ENTRY_BUILTIN(name)
#define ENTRY_PUSH(name)
#define ENTRY_DUP(name)
#define ENTRY_SWAP(name)
#define ENTRY_STACK(name) [OP_##name] = (const void *)fn_##name,
#define ENTRY_CONTEXT(name) [OP_##name] = (const void *)fn_##name,
#define ENTRY_HELPER(name) [OP_##name] = (const void *)instr_##name,
#define ENTRY_HELPER_FAST(name) [OP_##name] = (const void *)fn_##name,
const void *const opcode_functions[256] = {
#define ENTRY_ROW(op, name, imm, in, out, gas, fork, kind, flags) ENTRY_##kind(name)
    OPCODES(ENTRY_ROW)
#undef ENTRY_ROW
};
