/* debug_traceCall (methods_trace.c): a call traced by geth's callTracer. */
#ifndef JITEVM_METHODS_TRACE_H
#define JITEVM_METHODS_TRACE_H

#include "rpc/rpc.h"

json_t *m_trace_call(rpc_ctx *ctx, json_t *params, rpc_error *err);

#endif
