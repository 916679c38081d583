/* The precompile table: which addresses are precompiles on which fork, and
 * which of them have an implementation linked in. */
#include "precompile/precompile.h"

#include <stddef.h>
#include <string.h>

/* One row per implemented precompile, in address order. Adding a precompile
 * is adding its row here (the activation rule for its address is already in
 * precompile_since below). */
static const precompile precompile_table[] = {
    {0x01, FORK_FRONTIER, "ecrecover", pc_ecrecover_gas, pc_ecrecover_run},
    {0x02, FORK_FRONTIER, "sha256", pc_sha256_gas, pc_sha256_run},
    {0x03, FORK_FRONTIER, "ripemd160", pc_ripemd160_gas, pc_ripemd160_run},
    {0x04, FORK_FRONTIER, "identity", pc_identity_gas, pc_identity_run},
    {0x05, FORK_BYZANTIUM, "modexp", pc_modexp_gas, pc_modexp_run},
    {0x06, FORK_BYZANTIUM, "bn254_add", pc_bn254_add_gas, pc_bn254_add_run},
    {0x07, FORK_BYZANTIUM, "bn254_mul", pc_bn254_mul_gas, pc_bn254_mul_run},
    {0x08, FORK_BYZANTIUM, "bn254_pairing", pc_bn254_pairing_gas, pc_bn254_pairing_run},
    {0x09, FORK_ISTANBUL, "blake2f", pc_blake2f_gas, pc_blake2f_run},
    {0x0a, FORK_CANCUN, "kzg_point_evaluation", pc_kzg_point_eval_gas, pc_kzg_point_eval_run},
    {0x0b, FORK_PRAGUE, "bls12_g1add", pc_bls_g1add_gas, pc_bls_g1add_run},
    {0x0c, FORK_PRAGUE, "bls12_g1msm", pc_bls_g1msm_gas, pc_bls_g1msm_run},
    {0x0d, FORK_PRAGUE, "bls12_g2add", pc_bls_g2add_gas, pc_bls_g2add_run},
    {0x0e, FORK_PRAGUE, "bls12_g2msm", pc_bls_g2msm_gas, pc_bls_g2msm_run},
    {0x0f, FORK_PRAGUE, "bls12_pairing", pc_bls_pairing_gas, pc_bls_pairing_run},
    {0x10, FORK_PRAGUE, "bls12_map_fp_to_g1", pc_bls_map_fp_to_g1_gas, pc_bls_map_fp_to_g1_run},
    {0x11, FORK_PRAGUE, "bls12_map_fp2_to_g2", pc_bls_map_fp2_to_g2_gas, pc_bls_map_fp2_to_g2_run},
    {0x100, FORK_OSAKA, "p256verify", pc_p256verify_gas, pc_p256verify_run},
};

#define PRECOMPILE_TABLE_LEN (sizeof precompile_table / sizeof precompile_table[0])

/* The fork a precompile address was introduced in, independent of whether it
 * is implemented here: warmness (EIP-2929) and the "precompiles exist"
 * rules depend on the address alone. Returns false for non-precompiles. */
static bool precompile_since(uint16_t a, enum fork *since)
{
    if (a >= 0x01 && a <= 0x04) *since = FORK_FRONTIER;
    else if (a >= 0x05 && a <= 0x08) *since = FORK_BYZANTIUM;
    else if (a == 0x09) *since = FORK_ISTANBUL;
    else if (a == 0x0a) *since = FORK_CANCUN;
    else if (a >= 0x0b && a <= 0x11) *since = FORK_PRAGUE;
    else if (a == 0x100) *since = FORK_OSAKA;
    else return false;
    return true;
}

/* The last two bytes of `addr` when the first 18 are zero; else false. */
static bool short_address(const address *addr, uint16_t *a)
{
    /* Word loads: a byte loop was ~100 instructions of every call. */
    uint64_t w0, w1;
    uint16_t w2;
    memcpy(&w0, addr->b, 8);
    memcpy(&w1, addr->b + 8, 8);
    memcpy(&w2, addr->b + 16, 2);
    if ((w0 | w1 | w2) != 0) return false;
    *a = (uint16_t)(addr->b[18] << 8 | addr->b[19]);
    return true;
}

bool precompile_is_active(const address *addr, enum fork f)
{
    uint16_t a;
    enum fork since;
    return short_address(addr, &a) && precompile_since(a, &since) && f >= since;
}

void precompile_for_each_active(enum fork f, void (*fn)(void *ctx, const address *addr), void *ctx)
{
    /* Every address precompile_since knows: 0x01..0x11 and 0x100. */
    static const uint16_t candidates[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
                                          0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x100};
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        enum fork since;
        if (!precompile_since(candidates[i], &since) || f < since) continue;
        address a = {{0}};
        a.b[18] = (uint8_t)(candidates[i] >> 8);
        a.b[19] = (uint8_t)candidates[i];
        fn(ctx, &a);
    }
}

const precompile *precompile_find(const address *addr, enum fork f)
{
    uint16_t a;
    if (!short_address(addr, &a)) return NULL;
    for (size_t i = 0; i < PRECOMPILE_TABLE_LEN; i++) {
        const precompile *p = &precompile_table[i];
        if (p->address == a) return f >= p->since ? p : NULL;
    }
    return NULL;
}

void precompile_output_bool(bytebuf *out, bool value)
{
    uint8_t word[32] = {0};
    word[31] = value ? 1 : 0;
    bytebuf_append(out, word, sizeof word);
}
