/* The contract between compiled code and this build, checked twice:
 *
 * At compile time, the _Static_asserts below: every field compiled code
 * touches (JIT_ABI_FIELDS) has the size the generated instructions access
 * it with and is aligned to it; the helper table is 256 eight-byte entries
 * (code calls [r15 + 8 * op]); a stack word is four little-endian 64-bit
 * limbs; EXEC_SUCCESS is 0 (code returns it with xor eax, eax) and
 * JIT_DEOPT is no status.
 *
 * At load time, the fingerprint: JIT_VERSION, the version every program is
 * stored and looked up under, is a hash of JIT_CODEGEN_REVISION, of the
 * values compiled code has baked in (those offsets, the status codes it
 * returns, the stack limit; jit_abi_fingerprint) and of what it assumes of
 * the tables (each opcode's helper calling convention, immediate size and
 * stack effect, and each fork's defined set and base gas;
 * jit_helper_fingerprint). A program compiled by a build that differs in
 * any of these has another version, so the store never hands it back:
 * nobody has to remember to bump a number. */
#include <pthread.h>

#include "jit/jit_internal.h"

#define ASSERT_FIELD(type, field, bytes)                                                     \
    _Static_assert(sizeof(((type *)0)->field) == (bytes), #type "." #field ": access size"); \
    _Static_assert(offsetof(type, field) % (bytes) == 0, #type "." #field ": alignment");
JIT_ABI_FIELDS(ASSERT_FIELD)
#undef ASSERT_FIELD

_Static_assert(sizeof(void *) == 8 && sizeof jit_helper_table == 256 * 8, "helpers are called at [r15 + 8 * op]");
_Static_assert(sizeof(u256) == 32 && offsetof(u256, w) == 0 && sizeof(((u256 *)0)->w[0]) == 8,
               "a stack word is four 64-bit limbs, least significant first");
_Static_assert(sizeof(atomic_int) == 4, "the abort flag is polled with cmp dword");
_Static_assert(sizeof(int32_t) == 4, "jump table entries are read with movsxd");
_Static_assert(EXEC_SUCCESS == 0, "STOP returns EXEC_SUCCESS with xor eax, eax");
_Static_assert(JIT_DEOPT > EXEC_TIMEOUT && JIT_DEOPT < 0x80, "JIT_DEOPT is no status, and fits an imm8");
_Static_assert(32 * EVM_STACK_LIMIT < INT32_MAX, "the stack limit check compares bytes with an imm32");

/* FNV-1a over 64-bit values. */
static uint64_t mix(uint64_t h, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        h ^= (uint8_t)(v >> (8 * i));
        h *= 0x100000001b3ull;
    }
    return h;
}

#define FNV_START 0xcbf29ce484222325ull

uint64_t jit_abi_fingerprint(void)
{
    uint64_t h = FNV_START;
#define MIX_FIELD(type, field, bytes) h = mix(mix(h, offsetof(type, field)), bytes);
    JIT_ABI_FIELDS(MIX_FIELD)
#undef MIX_FIELD
    h = mix(h, sizeof(jit_ctx));
    h = mix(h, EVM_STACK_LIMIT);
    h = mix(h, JIT_DEOPT);
    /* The memory growth compiled code does itself (emit_memory_growth). */
    h = mix(mix(mix(h, GAS_MEMORY_PER_WORD), MEMORY_QUAD_COEFF_DIV), EVM_MAX_MEMORY);
    h = mix(h, EXEC_SUCCESS);
    h = mix(h, EXEC_TIMEOUT);
    return h;
}

uint64_t jit_helper_fingerprint(void)
{
    uint64_t h = FNV_START;
    for (int op = 0; op < 256; op++) {
        const opcode_info *info = &opcode_table[op];
        h = mix(h, (uint64_t)jit_op_kind((uint8_t)op) | (uint64_t)info->immediate << 8 |
                       (uint64_t)info->stack_in << 16 | (uint64_t)info->stack_out << 24);
    }
    for (int f = 0; f < FORK_COUNT; f++) {
        const fork_opcode_table *t = opcode_table_for_fork((enum fork)f);
        for (int op = 0; op < 256; op++) h = mix(h, (uint64_t)(uint32_t)t->base_gas[op] << 1 | t->defined[op]);
    }
    return h;
}

uint32_t jit_version_from(uint32_t revision, uint64_t abi_fingerprint, uint64_t helper_fingerprint)
{
    uint64_t h = mix(mix(mix(FNV_START, revision), abi_fingerprint), helper_fingerprint);
    uint32_t v = (uint32_t)(h ^ h >> 32) & 0x7fffffffu;
    return v ? v : 1;
}

static uint32_t version;
static pthread_once_t version_once = PTHREAD_ONCE_INIT;

static void compute_version(void)
{
    version = jit_version_from(JIT_CODEGEN_REVISION, jit_abi_fingerprint(), jit_helper_fingerprint());
}

uint32_t jit_compiler_version(void)
{
    pthread_once(&version_once, compute_version);
    return version;
}
