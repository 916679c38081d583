/* Ethereum values as new JSON strings, for the methods that build
 * objects field by field (methods_block.c, methods_trace.c): quantities
 * ("0x1f"), 32-byte hashes, 20-byte addresses and byte strings.
 *
 * And the same values written as JSON text straight into a buffer (jt_*),
 * for large answers (eth_simulateV1's blocks) whose jansson tree cost more
 * to build, encode and free than computing them: the text is what
 * rpc_json_write writes for the tree. `key` names an object's member (a
 * plain ASCII name, written as is) or is NULL for an array's element; a
 * comma goes before every member or element but the first of its object
 * or array. */
#ifndef JITEVM_JSON_VALUES_H
#define JITEVM_JSON_VALUES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/types.h"
#include "base/u256.h"

json_t *jv_quantity(const u256 *v);
json_t *jv_u64(uint64_t v);
json_t *jv_hash(const hash32 *h);
json_t *jv_address(const address *a);
json_t *jv_data(const uint8_t *p, size_t n);

/* `bracket`: '{' or '[' to open, '}' or ']' to close. */
void jt_open(bytebuf *out, const char *key, char bracket);
void jt_close(bytebuf *out, char bracket);
void jt_quantity(bytebuf *out, const char *key, const u256 *v);
void jt_u64(bytebuf *out, const char *key, uint64_t v);
void jt_hash(bytebuf *out, const char *key, const hash32 *h);
void jt_address(bytebuf *out, const char *key, const address *a);
void jt_data(bytebuf *out, const char *key, const uint8_t *p, size_t n);
/* JSON text written as is: "null", "false", "\"0x0\"". */
void jt_literal(bytebuf *out, const char *key, const char *json);
/* A jansson value, as rpc_json_write writes it; false when it cannot be. */
bool jt_value(bytebuf *out, const char *key, const json_t *v);

#endif
