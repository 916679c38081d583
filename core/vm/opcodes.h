/* The opcode table: every EVM opcode, once. Every tier reads what it needs
 * to know about an opcode from its row: the interpreter's labels, stack and
 * gas checks and instruction bodies, the compiler's helper calls and block
 * boundaries, the tracer's names and the tests all expand this one list.
 * Adding an opcode is a row here plus its semantics (an op_NAME in ops.h or
 * an instr_NAME in an instr_*.c, as its kind says).
 *
 * Columns: opcode, name, immediate bytes, stack items taken, stack items
 * pushed, base gas at introduction, fork introduced, kind, flags.
 * Base gas is the static part charged before the instruction runs; later
 * forks' changes are the deltas in opcodes.c, each beside its EIP. */
#ifndef JITEVM_OPCODES_H
#define JITEVM_OPCODES_H

#include <stdbool.h>
#include <stdint.h>

#include "base/fork.h"

/* How an opcode's semantics are defined, so each tier knows what to call or
 * emit. `sp` is the top of the stack; a function leaves the result where the
 * row's stack effect says (the caller moves sp by out - in afterwards). */
enum opcode_kind {
    OPK_INVALID = 0, /* no instruction: unassigned bytes and INVALID (0xfe) */
    OPK_BUILTIN,     /* no shared function, each tier implements it: control
                        flow (STOP, JUMP, JUMPI, JUMPDEST), POP, PC, GAS */
    OPK_PUSH,        /* pushes its `immediate` bytes (PUSH0..PUSH32) */
    OPK_DUP,         /* pushes a copy of item in - 1 (0 = top) */
    OPK_SWAP,        /* exchanges the top with item in - 1 */
    OPK_STACK,       /* void op_NAME(u256 *sp), ops.h: stack words only */
    OPK_CONTEXT,     /* void op_NAME(const frame *f, u256 *sp), ops.h: reads
                        the frame, charges nothing, cannot fail */
    OPK_HELPER,      /* enum exec_status instr_NAME(frame *f, u256 *sp),
                        instr_*.c: f->gas exact in and out; EXEC_SUCCESS
                        continues, anything else ends the frame */
    OPK_HELPER_FAST, /* OPK_HELPER with a gas-free fast path tried first:
                        bool op_NAME_in_bounds(frame *f, u256 *sp), ops.h
                        (MLOAD, MSTORE within memory already paid for) */
};

/* The flags a tier reads. */
enum opcode_flags {
    OPF_HALTS = 1 << 0,      /* ends the frame (STOP, RETURN, REVERT, SELFDESTRUCT,
                                INVALID); a helper's status is the frame's */
    OPF_JUMPS = 1 << 1,      /* may continue elsewhere than the next instruction */
    OPF_COMPARISON = 1 << 2, /* pushes 1 or 0, a relation of its operands (and
                                ISZERO): the compiler fuses it with a JUMPI */
    OPF_REPRICED = 1 << 3,   /* base gas changed by a later fork (a delta in
                                opcodes.c): read from the per-fork table */
};

#define F_H OPF_HALTS
#define F_J OPF_JUMPS
#define F_C OPF_COMPARISON
#define F_R OPF_REPRICED

/* X(op, NAME, imm, in, out, gas, fork, kind, flags): kind without its OPK_ */
#define OPCODES_ARITH(X)                                                   \
    X(0x00, STOP, 0, 0, 0, 0, FORK_FRONTIER, BUILTIN, F_H)                 \
    X(0x01, ADD, 0, 2, 1, 3, FORK_FRONTIER, STACK, 0)                      \
    X(0x02, MUL, 0, 2, 1, 5, FORK_FRONTIER, STACK, 0)                      \
    X(0x03, SUB, 0, 2, 1, 3, FORK_FRONTIER, STACK, 0)                      \
    X(0x04, DIV, 0, 2, 1, 5, FORK_FRONTIER, STACK, 0)                      \
    X(0x05, SDIV, 0, 2, 1, 5, FORK_FRONTIER, STACK, 0)                     \
    X(0x06, MOD, 0, 2, 1, 5, FORK_FRONTIER, STACK, 0)                      \
    X(0x07, SMOD, 0, 2, 1, 5, FORK_FRONTIER, STACK, 0)                     \
    X(0x08, ADDMOD, 0, 3, 1, 8, FORK_FRONTIER, STACK, 0)                   \
    X(0x09, MULMOD, 0, 3, 1, 8, FORK_FRONTIER, STACK, 0)                   \
    X(0x0a, EXP, 0, 2, 1, 10, FORK_FRONTIER, HELPER, 0)                    \
    X(0x0b, SIGNEXTEND, 0, 2, 1, 5, FORK_FRONTIER, STACK, 0)               \
    X(0x10, LT, 0, 2, 1, 3, FORK_FRONTIER, STACK, F_C)                     \
    X(0x11, GT, 0, 2, 1, 3, FORK_FRONTIER, STACK, F_C)                     \
    X(0x12, SLT, 0, 2, 1, 3, FORK_FRONTIER, STACK, F_C)                    \
    X(0x13, SGT, 0, 2, 1, 3, FORK_FRONTIER, STACK, F_C)                    \
    X(0x14, EQ, 0, 2, 1, 3, FORK_FRONTIER, STACK, F_C)                     \
    X(0x15, ISZERO, 0, 1, 1, 3, FORK_FRONTIER, STACK, F_C)                 \
    X(0x16, AND, 0, 2, 1, 3, FORK_FRONTIER, STACK, 0)                      \
    X(0x17, OR, 0, 2, 1, 3, FORK_FRONTIER, STACK, 0)                       \
    X(0x18, XOR, 0, 2, 1, 3, FORK_FRONTIER, STACK, 0)                      \
    X(0x19, NOT, 0, 1, 1, 3, FORK_FRONTIER, STACK, 0)                      \
    X(0x1a, BYTE, 0, 2, 1, 3, FORK_FRONTIER, STACK, 0)                     \
    X(0x1b, SHL, 0, 2, 1, 3, FORK_CONSTANTINOPLE, STACK, 0)                \
    X(0x1c, SHR, 0, 2, 1, 3, FORK_CONSTANTINOPLE, STACK, 0)                \
    X(0x1d, SAR, 0, 2, 1, 3, FORK_CONSTANTINOPLE, STACK, 0)                \
    X(0x1e, CLZ, 0, 1, 1, 5, FORK_OSAKA, STACK, 0)                         \
    X(0x20, KECCAK256, 0, 2, 1, 30, FORK_FRONTIER, HELPER, 0)

#define OPCODES_ENV(X)                                                     \
    X(0x30, ADDRESS, 0, 0, 1, 2, FORK_FRONTIER, CONTEXT, 0)                \
    X(0x31, BALANCE, 0, 1, 1, 20, FORK_FRONTIER, HELPER, F_R)              \
    X(0x32, ORIGIN, 0, 0, 1, 2, FORK_FRONTIER, CONTEXT, 0)                 \
    X(0x33, CALLER, 0, 0, 1, 2, FORK_FRONTIER, CONTEXT, 0)                 \
    X(0x34, CALLVALUE, 0, 0, 1, 2, FORK_FRONTIER, CONTEXT, 0)              \
    X(0x35, CALLDATALOAD, 0, 1, 1, 3, FORK_FRONTIER, CONTEXT, 0)           \
    X(0x36, CALLDATASIZE, 0, 0, 1, 2, FORK_FRONTIER, CONTEXT, 0)           \
    X(0x37, CALLDATACOPY, 0, 3, 0, 3, FORK_FRONTIER, HELPER, 0)            \
    X(0x38, CODESIZE, 0, 0, 1, 2, FORK_FRONTIER, CONTEXT, 0)               \
    X(0x39, CODECOPY, 0, 3, 0, 3, FORK_FRONTIER, HELPER, 0)                \
    X(0x3a, GASPRICE, 0, 0, 1, 2, FORK_FRONTIER, CONTEXT, 0)               \
    X(0x3b, EXTCODESIZE, 0, 1, 1, 20, FORK_FRONTIER, HELPER, F_R)          \
    X(0x3c, EXTCODECOPY, 0, 4, 0, 20, FORK_FRONTIER, HELPER, F_R)          \
    X(0x3d, RETURNDATASIZE, 0, 0, 1, 2, FORK_BYZANTIUM, CONTEXT, 0)        \
    X(0x3e, RETURNDATACOPY, 0, 3, 0, 3, FORK_BYZANTIUM, HELPER, 0)         \
    X(0x3f, EXTCODEHASH, 0, 1, 1, 400, FORK_CONSTANTINOPLE, HELPER, F_R)   \
    X(0x40, BLOCKHASH, 0, 1, 1, 20, FORK_FRONTIER, HELPER, 0)              \
    X(0x41, COINBASE, 0, 0, 1, 2, FORK_FRONTIER, CONTEXT, 0)               \
    X(0x42, TIMESTAMP, 0, 0, 1, 2, FORK_FRONTIER, CONTEXT, 0)              \
    X(0x43, NUMBER, 0, 0, 1, 2, FORK_FRONTIER, CONTEXT, 0)                 \
    X(0x44, PREVRANDAO, 0, 0, 1, 2, FORK_FRONTIER, CONTEXT, 0)             \
    X(0x45, GASLIMIT, 0, 0, 1, 2, FORK_FRONTIER, CONTEXT, 0)               \
    X(0x46, CHAINID, 0, 0, 1, 2, FORK_ISTANBUL, CONTEXT, 0)                \
    X(0x47, SELFBALANCE, 0, 0, 1, 5, FORK_ISTANBUL, HELPER, 0)             \
    X(0x48, BASEFEE, 0, 0, 1, 2, FORK_LONDON, CONTEXT, 0)                  \
    X(0x49, BLOBHASH, 0, 1, 1, 3, FORK_CANCUN, HELPER, 0)                  \
    X(0x4a, BLOBBASEFEE, 0, 0, 1, 2, FORK_CANCUN, CONTEXT, 0)

#define OPCODES_FLOW(X)                                                    \
    X(0x50, POP, 0, 1, 0, 2, FORK_FRONTIER, BUILTIN, 0)                    \
    X(0x51, MLOAD, 0, 1, 1, 3, FORK_FRONTIER, HELPER_FAST, 0)              \
    X(0x52, MSTORE, 0, 2, 0, 3, FORK_FRONTIER, HELPER_FAST, 0)             \
    X(0x53, MSTORE8, 0, 2, 0, 3, FORK_FRONTIER, HELPER, 0)                 \
    X(0x54, SLOAD, 0, 1, 1, 50, FORK_FRONTIER, HELPER, F_R)                \
    X(0x55, SSTORE, 0, 2, 0, 0, FORK_FRONTIER, HELPER, 0)                  \
    X(0x56, JUMP, 0, 1, 0, 8, FORK_FRONTIER, BUILTIN, F_J)                 \
    X(0x57, JUMPI, 0, 2, 0, 10, FORK_FRONTIER, BUILTIN, F_J)               \
    X(0x58, PC, 0, 0, 1, 2, FORK_FRONTIER, BUILTIN, 0)                     \
    X(0x59, MSIZE, 0, 0, 1, 2, FORK_FRONTIER, CONTEXT, 0)                  \
    X(0x5a, GAS, 0, 0, 1, 2, FORK_FRONTIER, BUILTIN, 0)                    \
    X(0x5b, JUMPDEST, 0, 0, 0, 1, FORK_FRONTIER, BUILTIN, 0)               \
    X(0x5c, TLOAD, 0, 1, 1, 100, FORK_CANCUN, HELPER, 0)                   \
    X(0x5d, TSTORE, 0, 2, 0, 100, FORK_CANCUN, HELPER, 0)                  \
    X(0x5e, MCOPY, 0, 3, 0, 3, FORK_CANCUN, HELPER, 0)                     \
    X(0x5f, PUSH0, 0, 0, 1, 2, FORK_SHANGHAI, PUSH, 0)

#define OPCODES_PUSH(X)                                                    \
    X(0x60, PUSH1, 1, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                     \
    X(0x61, PUSH2, 2, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                     \
    X(0x62, PUSH3, 3, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                     \
    X(0x63, PUSH4, 4, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                     \
    X(0x64, PUSH5, 5, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                     \
    X(0x65, PUSH6, 6, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                     \
    X(0x66, PUSH7, 7, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                     \
    X(0x67, PUSH8, 8, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                     \
    X(0x68, PUSH9, 9, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                     \
    X(0x69, PUSH10, 10, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                   \
    X(0x6a, PUSH11, 11, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                   \
    X(0x6b, PUSH12, 12, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                   \
    X(0x6c, PUSH13, 13, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                   \
    X(0x6d, PUSH14, 14, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                   \
    X(0x6e, PUSH15, 15, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                   \
    X(0x6f, PUSH16, 16, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                   \
    X(0x70, PUSH17, 17, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                   \
    X(0x71, PUSH18, 18, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                   \
    X(0x72, PUSH19, 19, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                   \
    X(0x73, PUSH20, 20, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                   \
    X(0x74, PUSH21, 21, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                   \
    X(0x75, PUSH22, 22, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                   \
    X(0x76, PUSH23, 23, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                   \
    X(0x77, PUSH24, 24, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                   \
    X(0x78, PUSH25, 25, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                   \
    X(0x79, PUSH26, 26, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                   \
    X(0x7a, PUSH27, 27, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                   \
    X(0x7b, PUSH28, 28, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                   \
    X(0x7c, PUSH29, 29, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                   \
    X(0x7d, PUSH30, 30, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                   \
    X(0x7e, PUSH31, 31, 0, 1, 3, FORK_FRONTIER, PUSH, 0)                   \
    X(0x7f, PUSH32, 32, 0, 1, 3, FORK_FRONTIER, PUSH, 0)

#define OPCODES_DUP_SWAP(X)                                                \
    X(0x80, DUP1, 0, 1, 2, 3, FORK_FRONTIER, DUP, 0)                       \
    X(0x81, DUP2, 0, 2, 3, 3, FORK_FRONTIER, DUP, 0)                       \
    X(0x82, DUP3, 0, 3, 4, 3, FORK_FRONTIER, DUP, 0)                       \
    X(0x83, DUP4, 0, 4, 5, 3, FORK_FRONTIER, DUP, 0)                       \
    X(0x84, DUP5, 0, 5, 6, 3, FORK_FRONTIER, DUP, 0)                       \
    X(0x85, DUP6, 0, 6, 7, 3, FORK_FRONTIER, DUP, 0)                       \
    X(0x86, DUP7, 0, 7, 8, 3, FORK_FRONTIER, DUP, 0)                       \
    X(0x87, DUP8, 0, 8, 9, 3, FORK_FRONTIER, DUP, 0)                       \
    X(0x88, DUP9, 0, 9, 10, 3, FORK_FRONTIER, DUP, 0)                      \
    X(0x89, DUP10, 0, 10, 11, 3, FORK_FRONTIER, DUP, 0)                    \
    X(0x8a, DUP11, 0, 11, 12, 3, FORK_FRONTIER, DUP, 0)                    \
    X(0x8b, DUP12, 0, 12, 13, 3, FORK_FRONTIER, DUP, 0)                    \
    X(0x8c, DUP13, 0, 13, 14, 3, FORK_FRONTIER, DUP, 0)                    \
    X(0x8d, DUP14, 0, 14, 15, 3, FORK_FRONTIER, DUP, 0)                    \
    X(0x8e, DUP15, 0, 15, 16, 3, FORK_FRONTIER, DUP, 0)                    \
    X(0x8f, DUP16, 0, 16, 17, 3, FORK_FRONTIER, DUP, 0)                    \
    X(0x90, SWAP1, 0, 2, 2, 3, FORK_FRONTIER, SWAP, 0)                     \
    X(0x91, SWAP2, 0, 3, 3, 3, FORK_FRONTIER, SWAP, 0)                     \
    X(0x92, SWAP3, 0, 4, 4, 3, FORK_FRONTIER, SWAP, 0)                     \
    X(0x93, SWAP4, 0, 5, 5, 3, FORK_FRONTIER, SWAP, 0)                     \
    X(0x94, SWAP5, 0, 6, 6, 3, FORK_FRONTIER, SWAP, 0)                     \
    X(0x95, SWAP6, 0, 7, 7, 3, FORK_FRONTIER, SWAP, 0)                     \
    X(0x96, SWAP7, 0, 8, 8, 3, FORK_FRONTIER, SWAP, 0)                     \
    X(0x97, SWAP8, 0, 9, 9, 3, FORK_FRONTIER, SWAP, 0)                     \
    X(0x98, SWAP9, 0, 10, 10, 3, FORK_FRONTIER, SWAP, 0)                   \
    X(0x99, SWAP10, 0, 11, 11, 3, FORK_FRONTIER, SWAP, 0)                  \
    X(0x9a, SWAP11, 0, 12, 12, 3, FORK_FRONTIER, SWAP, 0)                  \
    X(0x9b, SWAP12, 0, 13, 13, 3, FORK_FRONTIER, SWAP, 0)                  \
    X(0x9c, SWAP13, 0, 14, 14, 3, FORK_FRONTIER, SWAP, 0)                  \
    X(0x9d, SWAP14, 0, 15, 15, 3, FORK_FRONTIER, SWAP, 0)                  \
    X(0x9e, SWAP15, 0, 16, 16, 3, FORK_FRONTIER, SWAP, 0)                  \
    X(0x9f, SWAP16, 0, 17, 17, 3, FORK_FRONTIER, SWAP, 0)

#define OPCODES_SYSTEM(X)                                                  \
    X(0xa0, LOG0, 0, 2, 0, 375, FORK_FRONTIER, HELPER, 0)                  \
    X(0xa1, LOG1, 0, 3, 0, 750, FORK_FRONTIER, HELPER, 0)                  \
    X(0xa2, LOG2, 0, 4, 0, 1125, FORK_FRONTIER, HELPER, 0)                 \
    X(0xa3, LOG3, 0, 5, 0, 1500, FORK_FRONTIER, HELPER, 0)                 \
    X(0xa4, LOG4, 0, 6, 0, 1875, FORK_FRONTIER, HELPER, 0)                 \
    X(0xf0, CREATE, 0, 3, 1, 32000, FORK_FRONTIER, HELPER, 0)              \
    X(0xf1, CALL, 0, 7, 1, 40, FORK_FRONTIER, HELPER, F_R)                 \
    X(0xf2, CALLCODE, 0, 7, 1, 40, FORK_FRONTIER, HELPER, F_R)             \
    X(0xf3, RETURN, 0, 2, 0, 0, FORK_FRONTIER, HELPER, F_H)                \
    X(0xf4, DELEGATECALL, 0, 6, 1, 40, FORK_HOMESTEAD, HELPER, F_R)        \
    X(0xf5, CREATE2, 0, 4, 1, 32000, FORK_CONSTANTINOPLE, HELPER, 0)       \
    X(0xfa, STATICCALL, 0, 6, 1, 700, FORK_BYZANTIUM, HELPER, F_R)         \
    X(0xfd, REVERT, 0, 2, 0, 0, FORK_BYZANTIUM, HELPER, F_H)               \
    X(0xfe, INVALID, 0, 0, 0, 0, FORK_FRONTIER, INVALID, F_H)              \
    X(0xff, SELFDESTRUCT, 0, 1, 0, 0, FORK_FRONTIER, HELPER, F_H | F_R)

#define OPCODES(X)        \
    OPCODES_ARITH(X)      \
    OPCODES_ENV(X)        \
    OPCODES_FLOW(X)       \
    OPCODES_PUSH(X)       \
    OPCODES_DUP_SWAP(X)   \
    OPCODES_SYSTEM(X)

enum opcode {
#define OPCODE_ENUM(op, name, imm, in, out, gas, fork, kind, flags) OP_##name = op,
    OPCODES(OPCODE_ENUM)
#undef OPCODE_ENUM
};

typedef struct {
    const char *name;      /* NULL for an unassigned byte */
    uint8_t immediate;     /* bytes of immediate data (PUSHn) */
    uint8_t stack_in;
    uint8_t stack_out;
    uint8_t kind;          /* enum opcode_kind */
    uint8_t flags;         /* enum opcode_flags */
    enum fork since;
} opcode_info;

/* Static properties, indexed by opcode byte. */
extern const opcode_info opcode_table[256];

static inline enum opcode_kind opcode_kind(uint8_t op) { return (enum opcode_kind)opcode_table[op].kind; }
static inline bool opcode_halts(uint8_t op) { return opcode_table[op].flags & OPF_HALTS; }
static inline bool opcode_is_comparison(uint8_t op) { return opcode_table[op].flags & OPF_COMPARISON; }
/* The next instruction starts a new basic block: a jump or the frame's end
 * (an opcode undefined on the fork ends it too; the tier checks that). */
static inline bool opcode_ends_block(uint8_t op) { return opcode_table[op].flags & (OPF_HALTS | OPF_JUMPS); }
/* Implemented by a shared function (opcode_functions in evm_internal.h). */
static inline bool opcode_has_function(uint8_t op)
{
    enum opcode_kind k = opcode_kind(op);
    return k == OPK_STACK || k == OPK_CONTEXT || k == OPK_HELPER || k == OPK_HELPER_FAST;
}

/* Per-fork view: base gas and "defined on this fork". An opcode not yet
 * introduced (or unassigned) has defined == false. */
typedef struct {
    int32_t base_gas[256];
    bool defined[256];
} fork_opcode_table;
const fork_opcode_table *opcode_table_for_fork(enum fork f);

/* "PUSH1", "ADD", ... ; "UNKNOWN" for an unassigned byte. Fork-independent
 * (0x44 is PREVRANDAO, DIFFICULTY before Paris). */
const char *opcode_name(uint8_t op);

#endif
