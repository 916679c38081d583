/* A process-wide cache of analysed code (padded copy + jump destinations,
 * and the programs compiled from it),
 * keyed by code hash: a contract is analysed once, however many states and
 * threads execute it. Entries are reference counted; only unreferenced
 * entries are evicted when the cache is over its byte budget, the longest
 * unused first. Each thread
 * also holds its last few entries found (a hit then takes no lock), which
 * it lets go at the first lookup after an eviction pass. */
#ifndef JITEVM_CODE_CACHE_H
#define JITEVM_CODE_CACHE_H

#include "state/state.h"

/* The analysis of `code` (whose hash is `hash`), from the cache or made now.
 * The caller holds a reference until code_cache_release. */
const code_info *code_cache_acquire(const hash32 *hash, const uint8_t *code, size_t len);
/* The cached analysis for this hash, acquired, or NULL when absent. */
const code_info *code_cache_find(const hash32 *hash);
/* Another reference to an entry already held; false (nothing taken) when
 * `ci` is not in the cache (initcode). */
bool code_cache_retain(const code_info *ci);
void code_cache_release(const code_info *ci);
/* Adds `bytes` (a compiled program) to an entry's size, so that compiled
 * code counts against the budget and goes with its entry. */
void code_cache_charge(const code_info *ci, size_t bytes);
/* Sets the byte budget (default 64 MiB). */
void code_cache_set_budget(size_t bytes);
/* Drops unreferenced entries until the cache holds half of what it holds:
 * room for new compiled code when what ran out is not the byte budget but
 * the executable mappings (many tiny programs, jit_mcode.c's cap). */
void code_cache_shrink(void);

/* The interpreter's segment checks (interp.c). A segment runs from an
 * instruction to the next jump, JUMPI or halting instruction (an opcode
 * undefined on the fork halts), through any JUMPDEST between: where it is
 * entered (the frame's start, a jump's target, a JUMPI not taken) its static
 * gas and stack bounds are checked once, and when they hold its instructions
 * run without their own checks. One record per code byte, for the segment
 * starting there (push data: never met). */
typedef struct code_segment {
    uint32_t gas;  /* static gas of the instructions from here to the segment's end */
    /* The stack heights the segment runs from without underflow or
     * overflow, in bytes of stack (items * 32), so that one unsigned
     * comparison tests both: entry height h (bytes) is within bounds when
     * h - need <= span. */
    uint16_t need; /* the least height: what it takes beyond what it pushes */
    uint16_t span; /* the highest height less `need`: room left for its growth;
                    * its lowest bit (free: heights are multiples of 32) set
                    * when the instruction here is a JUMPDEST, so that a jump
                    * reads one record for its target's check and entry */
} code_segment;
/* A `need` no height meets (heights are multiples of 32): push data, or a
 * segment's figures out of range. */
#define CODE_SEGMENT_NEVER 0xffff

/* The segment records of cached code for `fork` (code_len + 1 of them; the
 * last, at code_len, is the padding's STOP), made on first use and kept
 * with the entry (charged to the budget); NULL for code not in the cache
 * (initcode: analysed per frame would cost more than it saves). */
const code_segment *code_segments_make(const code_info *ci, enum fork fork);
/* The records made, read inline (every frame asks; as a call its prologue
 * and epilogue were ~20 instructions of an empty call). */
static inline const code_segment *code_segments(const code_info *ci, enum fork fork)
{
    const code_segment *seg = atomic_load_explicit(&((code_info *)ci)->segments[fork], memory_order_acquire);
    return seg ? seg : code_segments_make(ci, fork);
}
/* Frees what code_segments made for `ci` (code_info_free). */
void code_segments_free(code_info *ci);

typedef struct {
    uint64_t hits, misses, evictions;
    size_t entries, bytes;
} code_cache_stats;
code_cache_stats code_cache_get_stats(void);

#endif
