/* Precompiled contracts, through one table: address, fork introduced, gas
 * function and run function. The call machinery charges `gas` first, then
 * calls `run`; a run that returns false consumes all the gas given to the
 * call (a failed precompile call), like an exceptional halt. */
#ifndef JITEVM_PRECOMPILE_H
#define JITEVM_PRECOMPILE_H

#include "base/fork.h"
#include "base/types.h"

/* Gas to charge for this input on this fork. UINT64_MAX means "more than
 * any call can have" (the call then fails out of gas). */
typedef uint64_t (*precompile_gas_fn)(const uint8_t *in, size_t len, enum fork f);
/* Runs the precompile, appending its output to `out` (which arrives empty).
 * Returns false when the input is invalid (the call fails, all gas used). */
typedef bool (*precompile_run_fn)(const uint8_t *in, size_t len, enum fork f, bytebuf *out);

typedef struct {
    uint16_t address;    /* the last two bytes of the address; the rest are zero */
    enum fork since;     /* first fork where the precompile exists */
    const char *name;
    precompile_gas_fn gas;
    precompile_run_fn run;
} precompile;

/* No precompile of any fork sits above this short address (0x100,
 * P256VERIFY): callers test it inline to skip the lookup (test_call_entry
 * checks it against precompile_is_active). */
#define PRECOMPILE_ADDRESS_MAX 0x100

/* The precompile at `addr` on fork `f`, or NULL when that address is not a
 * precompile on that fork. */
const precompile *precompile_find(const address *addr, enum fork f);
/* True when `addr` is a precompile address on fork `f` (warm from Berlin on
 * by EIP-2929), whether or not it is implemented. */
bool precompile_is_active(const address *addr, enum fork f);
/* Calls fn for every precompile address active on fork `f`, implemented
 * or not (EIP-2929 warms them all at the start of a transaction). */
void precompile_for_each_active(enum fork f, void (*fn)(void *ctx, const address *addr), void *ctx);

/* Appends a 32-byte word holding 1 or 0: the answer of the pairing checks
 * and of P256VERIFY. */
void precompile_output_bool(bytebuf *out, bool value);

/* The implementation functions, one pair per precompile. Each lives in the
 * file named after it (precompile_ecrecover.c, ...). */
uint64_t pc_ecrecover_gas(const uint8_t *in, size_t len, enum fork f);
bool pc_ecrecover_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out);
uint64_t pc_sha256_gas(const uint8_t *in, size_t len, enum fork f);
bool pc_sha256_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out);
uint64_t pc_ripemd160_gas(const uint8_t *in, size_t len, enum fork f);
bool pc_ripemd160_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out);
uint64_t pc_identity_gas(const uint8_t *in, size_t len, enum fork f);
bool pc_identity_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out);
uint64_t pc_modexp_gas(const uint8_t *in, size_t len, enum fork f);
bool pc_modexp_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out);
uint64_t pc_blake2f_gas(const uint8_t *in, size_t len, enum fork f);
bool pc_blake2f_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out);
uint64_t pc_p256verify_gas(const uint8_t *in, size_t len, enum fork f);
bool pc_p256verify_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out);

/* bn254 (EIP-196/197/1108), 0x06..0x08. */
uint64_t pc_bn254_add_gas(const uint8_t *in, size_t len, enum fork f);
bool pc_bn254_add_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out);
uint64_t pc_bn254_mul_gas(const uint8_t *in, size_t len, enum fork f);
bool pc_bn254_mul_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out);
uint64_t pc_bn254_pairing_gas(const uint8_t *in, size_t len, enum fork f);
bool pc_bn254_pairing_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out);

/* KZG point evaluation (EIP-4844), 0x0a. */
uint64_t pc_kzg_point_eval_gas(const uint8_t *in, size_t len, enum fork f);
bool pc_kzg_point_eval_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out);

/* BLS12-381 (EIP-2537), 0x0b..0x11. */
uint64_t pc_bls_g1add_gas(const uint8_t *in, size_t len, enum fork f);
bool pc_bls_g1add_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out);
uint64_t pc_bls_g1msm_gas(const uint8_t *in, size_t len, enum fork f);
bool pc_bls_g1msm_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out);
uint64_t pc_bls_g2add_gas(const uint8_t *in, size_t len, enum fork f);
bool pc_bls_g2add_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out);
uint64_t pc_bls_g2msm_gas(const uint8_t *in, size_t len, enum fork f);
bool pc_bls_g2msm_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out);
uint64_t pc_bls_pairing_gas(const uint8_t *in, size_t len, enum fork f);
bool pc_bls_pairing_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out);
uint64_t pc_bls_map_fp_to_g1_gas(const uint8_t *in, size_t len, enum fork f);
bool pc_bls_map_fp_to_g1_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out);
uint64_t pc_bls_map_fp2_to_g2_gas(const uint8_t *in, size_t len, enum fork f);
bool pc_bls_map_fp2_to_g2_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out);

#endif
