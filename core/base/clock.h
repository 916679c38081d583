/* The monotonic clock, read in one place: for durations, deadlines and
 * progress intervals (never for wall-clock time). Every part uses these
 * instead of its own clock_gettime(CLOCK_MONOTONIC) wrapper. */
#ifndef JITEVM_CLOCK_H
#define JITEVM_CLOCK_H

#include <stdint.h>

/* Nanoseconds since an arbitrary fixed point (boot); never goes back. */
uint64_t monotonic_ns(void);

/* The same clock at the kernel's tick (1 to 4 ms; it may trail
 * monotonic_ns by up to a tick, so never mix the two in one interval):
 * read from memory, without the time counter, for ages measured in tens of
 * milliseconds or more on paths where the clock read itself shows. */
uint64_t monotonic_coarse_ns(void);

/* The same clock in seconds, for durations printed or compared as double. */
static inline double monotonic_seconds(void) { return (double)monotonic_ns() * 1e-9; }

#endif
