/* libFuzzer harness for every precompile's input parser: the first byte
 * picks a precompile of the latest fork (through the table), the second a
 * fork at or after its introduction, the rest is the input. The gas is
 * computed first, as the call machinery does; inputs whose gas is beyond
 * FUZZ_PRECOMPILE_GAS_LIMIT are not run (in a call they fail out of gas
 * before parsing, or only do more of the same work). Checked: no crash or
 * sanitizer report. */
#include <stdlib.h>

#include "precompile/precompile.h"

/* A work bound, far above what any parser path needs: BLAKE2F costs one gas
 * per round, and 60M rounds (a block's gas) took over 10 s under the
 * sanitizers, which libFuzzer reports as a hang. */
#define FUZZ_PRECOMPILE_GAS_LIMIT 2000000u

static const precompile *table[64];
static size_t n_table;

static void collect(void *ctx, const address *addr)
{
    (void)ctx;
    const precompile *p = precompile_find(addr, FORK_COUNT - 1);
    if (p && n_table < 64) table[n_table++] = p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!n_table) precompile_for_each_active(FORK_COUNT - 1, collect, NULL);
    if (size < 2 || !n_table) return 0;
    const precompile *p = table[data[0] % n_table];
    enum fork f = (enum fork)(p->since + data[1] % (FORK_COUNT - p->since));
    const uint8_t *in = data + 2;
    size_t len = size - 2;
    if (p->gas(in, len, f) > FUZZ_PRECOMPILE_GAS_LIMIT) return 0;
    bytebuf out = {0};
    (void)p->run(in, len, f, &out);
    bytebuf_free(&out);
    return 0;
}
