/* Faster stand-ins for jansson's parser and encoder on the request path.
 * Both give exactly what jansson gives (the same trees, the same text);
 * the parser handles the plain JSON requests are made of and hands
 * anything else (escapes, non-ASCII, reals, errors) to jansson. */
#ifndef JITEVM_RPC_JSON_H
#define JITEVM_RPC_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/types.h"

/* As json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL): NULL when
 * the text is not JSON. */
json_t *rpc_json_parse(const char *text, size_t len);
/* True when `v` is an id number kept as its text (*text set): a number
 * jansson would change or refuse. rpc_json_dump writes it verbatim. */
bool rpc_json_raw_number(const json_t *v, const char **text);
/* A value that rpc_json_dump and rpc_json_write write as the JSON text
 * given (which must be valid JSON): an answer built as text. jansson's own
 * encoder knows nothing of it: never hand it one. */
json_t *rpc_json_raw(const char *text, size_t n);
/* As json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY), with *len set. */
char *rpc_json_dump(const json_t *v, size_t *len);
/* rpc_json_dump's text appended to `out`; false (part written) when `v`
 * cannot be encoded. */
bool rpc_json_write(bytebuf *out, const json_t *v);

#endif
