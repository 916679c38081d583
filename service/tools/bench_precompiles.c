/* Precompile benchmarks: the expensive cryptographic precompiles timed
 * directly, with the gas they charge, so their gas-per-second can be set
 * against the engine's (the interpreter's, or compiled code's). A
 * precompile much slower per gas than contract code is a denial-of-service
 * risk for the service. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tools/bench.h"
#include "base/clock.h"
#include "base/hex.h"
#include "jit/jit.h"
#include "hexjson.h"
#include "precompile/precompile.h"

/* Inputs built from the curves' standard generators: e(G1, G2) * e(-G1, G2)
 * == 1, so both pairing checks succeed and run in full. */
static const char bn254_pairing_2[] =
    "0000000000000000000000000000000000000000000000000000000000000001"
    "0000000000000000000000000000000000000000000000000000000000000002"
    "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2"
    "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed"
    "090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b"
    "12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa"
    "0000000000000000000000000000000000000000000000000000000000000001"
    "30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd45"
    "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2"
    "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed"
    "090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b"
    "12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa";

#define BLS_FP(hex48) "00000000000000000000000000000000" hex48
#define BLS_G1_X BLS_FP("17f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb")
#define BLS_G1_Y BLS_FP("08b3f481e3aaa0f1a09e30ed741d8ae4fcf5e095d5d00af600db18cb2c04b3edd03cc744a2888ae40caa232946c5e7e1")
#define BLS_G1_NEG_Y BLS_FP("114d1d6855d545a8aa7d76c8cf2e21f267816aef1db507c96655b9d5caac42364e6f38ba0ecb751bad54dcd6b939c2ca")
#define BLS_G2                                                                                              \
    BLS_FP("024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8") \
    BLS_FP("13e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e") \
    BLS_FP("0ce5d527727d6e118cc9cdc6da2e351aadfd9baa8cbdd3a76d429a695160d12c923ac9cc3baca289e193548608b82801") \
    BLS_FP("0606c4a02ea734cc32acd2b02bc28b99cb3e287e85a763af267492ab572e99ab3f370d275cec1da1aaa9075ff05f79be")
static const char bls_pairing_2[] = BLS_G1_X BLS_G1_Y BLS_G2 BLS_G1_X BLS_G1_NEG_Y BLS_G2;

/* ecrecover of a valid signature (hash, v, r, s) and a bn254 scalar
 * multiplication of G1 by a full-size scalar, for scale. */
static const char ecrecover_input[] =
    "456e9aea5e197a1f1af7a3e85a3212fa4049a3ba34c2289b4c860fc0b0c64ef3"
    "000000000000000000000000000000000000000000000000000000000000001c"
    "9242685bf161793cc25603c231bc2f568eb630ea16aa137d2664ac8038825608"
    "4f8ae3bd7535248d0bd448298cc2e2071e56992d0774dc340c368ae950852ada";
static const char bn254_mul_input[] =
    "0000000000000000000000000000000000000000000000000000000000000001"
    "0000000000000000000000000000000000000000000000000000000000000002"
    "30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000000";

typedef struct {
    const char *name;
    uint16_t address;
    const char *input_hex;
} precompile_bench;

static const precompile_bench benches[] = {
    {"precompile/ecrecover", 0x01, ecrecover_input},
    {"precompile/bn254_mul", 0x07, bn254_mul_input},
    {"precompile/bn254_pairing/2pairs", 0x08, bn254_pairing_2},
    {"precompile/bls12_pairing/2pairs", 0x0f, bls_pairing_2},
};

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Times one precompile; returns false when it does not succeed (the
 * benchmark would measure an early exit). */
static bool run_one(const precompile_bench *b, const bench_options *opts, double engine_mgas)
{
    address a = {{0}};
    a.b[18] = (uint8_t)(b->address >> 8);
    a.b[19] = (uint8_t)b->address;
    const precompile *pc = precompile_find(&a, (enum fork)opts->fork > FORK_PRAGUE ? (enum fork)opts->fork : FORK_PRAGUE);
    bytebuf in = {0}, out = {0};
    if (!pc || hex_parse_bytes(b->input_hex, strlen(b->input_hex), HEX_PREFIX_OPTIONAL | HEX_EMPTY_OK, &in, NULL) != HEX_OK) {
        fprintf(opts->out, "%-44s error: no precompile or bad input\n", b->name);
        bytebuf_free(&in);
        return false;
    }
    enum fork f = FORK_PRAGUE;
    uint64_t gas = pc->gas(in.data, in.len, f);
    bool ok = pc->run(in.data, in.len, f, &out);
    /* Pairing checks must answer 1: anything else means the input did not
     * exercise the full computation. */
    if (!ok || out.len == 0 || (b->address >= 0x08 && out.data[out.len - 1] != 1)) {
        fprintf(opts->out, "%-44s error: precompile did not succeed on its benchmark input\n", b->name);
        bytebuf_free(&in);
        bytebuf_free(&out);
        return false;
    }
    uint64_t budget = (uint64_t)(opts->min_time * 1e9), spent = 0;
    size_t runs = 0, cap = 64;
    uint64_t *times = xmalloc(cap * sizeof *times);
    while (runs < BENCH_MIN_RUNS || spent < budget) {
        out.len = 0;
        uint64_t t0 = monotonic_ns();
        pc->run(in.data, in.len, f, &out);
        uint64_t dt = monotonic_ns() - t0;
        if (runs == cap) times = xrealloc(times, (cap *= 2) * sizeof *times);
        times[runs++] = dt;
        spent += dt;
    }
    qsort(times, runs, sizeof *times, compare_u64);
    double median = (double)times[runs / 2];
    double mgas = (double)gas / median * 1e3;
    char med[32];
    if (median >= 1e6)
        snprintf(med, sizeof med, "%.2f ms", median / 1e6);
    else
        snprintf(med, sizeof med, "%.1f us", median / 1e3);
    fprintf(opts->out, "%-44s %12" PRIu64 " %10s %10.1f   %6.2fx %8zu\n", b->name, gas, med, mgas,
            engine_mgas > 0 ? mgas / engine_mgas : 0, runs);
    free(times);
    bytebuf_free(&in);
    bytebuf_free(&out);
    return true;
}

int bench_precompiles(const bench_options *opts, double engine_mgas)
{
    bool any = false, failed = false;
    for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++) {
        if (opts->filter && !strstr(benches[i].name, opts->filter)) continue;
        if (!any) {
            const char *engine = engine_name((enum engine)opts->engine);
            char vs[32];
            snprintf(vs, sizeof vs, "vs %s", engine);
            fprintf(opts->out, "\nprecompiles (Prague gas); \"%s\" = their gas per second / the %s engine's "
                               "(geometric mean %.1f Mgas/s over the benchmarks above); below 1 = slower per gas\n",
                    vs, engine, engine_mgas);
            fprintf(opts->out, "%-44s %12s %10s %10s   %-7s %8s\n", "benchmark", "gas", "median", "Mgas/s", vs,
                    "runs");
            any = true;
        }
        if (!run_one(&benches[i], opts, engine_mgas)) failed = true;
    }
    return failed ? 1 : 0;
}
