/* debug_traceCall's tracers beyond the call tree (methods_trace.c): geth's
 * struct logger (trace_struct.c) and prestateTracer (trace_prestate.c).
 * Each is a core tracer (core/vm/evm.h) plus the JSON it answers. Internal
 * to service/rpc. */
#ifndef JITEVM_TRACE_TRACERS_H
#define JITEVM_TRACE_TRACERS_H

#include <jansson.h>
#include <stdbool.h>

#include "vm/evm.h"

/* The whole struct-log trace is held in memory until it is answered (as
 * text while it runs, then as the JSON tree the answer is written from,
 * about four times the text); past this many bytes of rendered steps the
 * trace is refused. */
#define STRUCT_LOG_MAX_BYTES ((size_t)32 << 20)

/* ------------------------------------------------------------ struct logger */

typedef struct {
    bool enable_memory, disable_stack, disable_storage, enable_return_data;
    int64_t limit; /* geth's Limit: stop adding steps once the steps so far exceed it (bytes); 0: none */
} struct_log_config;

typedef struct struct_logger struct_logger;
struct_logger *struct_logger_new(const struct_log_config *cfg);
void struct_logger_free(struct_logger *l);
tracer struct_logger_tracer(struct_logger *l);
/* True when the trace outgrew STRUCT_LOG_MAX_BYTES (it stopped recording
 * and asked the run to stop through *abort, when set). */
bool struct_logger_overflowed(const struct_logger *l);
void struct_logger_set_abort(struct_logger *l, atomic_int *abort);
/* {gas, failed, returnValue, structLogs}: gas used after refunds, the
 * top frame's outcome and output (a revert's data; empty for other
 * failures). */
json_t *struct_logger_result(struct_logger *l, uint64_t gas_used, enum exec_status status, const uint8_t *output,
                             size_t output_len);

/* geth's words for an instruction that failed with `status`, having
 * `stack_len` items and `gas` left (malloc'd): "invalid opcode: INVALID",
 * "stack underflow (0 <=> 2)", "out of gas: not enough gas for reentrancy
 * sentry" (an SSTORE at EIP-2200's sentry), "out of gas: out of gas" (a CALL
 * that cannot pay its cold access or intrinsic gas, as geth wraps its gas
 * function's error)... */
char *trace_step_error_text(uint8_t op, size_t stack_len, int64_t gas, enum exec_status status, enum fork f);

/* Whether geth's words for `status` name the failing instruction (its
 * opcode, the stack's size, EIP-2200's sentry): eth_call and eth_simulateV1
 * then run the failed call again, traced, to find it. */
bool trace_error_names_step(enum exec_status status, enum fork f);

/* ------------------------------------------------------------ prestateTracer */

typedef struct {
    bool diff_mode, disable_code, disable_storage, include_empty;
} prestate_config;

typedef struct prestate_tracer prestate_tracer;
/* `sender`, `to` (the created address for a creation), `coinbase` and
 * the authorities are looked up first, from `base` (the state before the
 * transaction: geth's OnTxStart). */
prestate_tracer *prestate_new(const prestate_config *cfg, const state_backend *base, enum fork f);
void prestate_free(prestate_tracer *t);
tracer prestate_tracer_hooks(prestate_tracer *t);
void prestate_tx_start(prestate_tracer *t, const address *sender, const address *to, bool creation,
                       const address *coinbase, const address *authorities, size_t n_authorities);
/* The result once the run finished (after on_tx_end). */
json_t *prestate_result(prestate_tracer *t);

#endif
