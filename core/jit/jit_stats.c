/* The compiler tier's process-wide counters: updated with relaxed atomics
 * by every part of the tier (jit_count), read as one snapshot by the
 * metrics and the tests. A snapshot is not atomic as a whole: each counter
 * is exact, their sum at an instant is not promised. */
#include "jit/jit_internal.h"

jit_counters jit_count;

jit_stats jit_get_stats(void)
{
    return (jit_stats){
        .frames_interp = atomic_load(&jit_count.frames_interp),
        .frames_compiled = atomic_load(&jit_count.frames_compiled),
        .deopts = atomic_load(&jit_count.deopts),
        .compiled = atomic_load(&jit_count.compiled),
        .compile_failed = atomic_load(&jit_count.compile_failed),
        .compile_ns = atomic_load(&jit_count.compile_ns),
        .store_hits = atomic_load(&jit_count.store_hits),
        .store_misses = atomic_load(&jit_count.store_misses),
        .store_saves = atomic_load(&jit_count.store_saves),
        .queued = atomic_load(&jit_count.queued),
        .queue_full = atomic_load(&jit_count.queue_full),
        .programs = atomic_load(&jit_count.programs),
        .native_bytes = atomic_load(&jit_count.native_bytes),
    };
}

void jit_count_frames(uint64_t interp, uint64_t compiled, uint64_t deopts)
{
    if (interp) atomic_fetch_add_explicit(&jit_count.frames_interp, interp, memory_order_relaxed);
    if (compiled) atomic_fetch_add_explicit(&jit_count.frames_compiled, compiled, memory_order_relaxed);
    if (deopts) atomic_fetch_add_explicit(&jit_count.deopts, deopts, memory_order_relaxed);
}
