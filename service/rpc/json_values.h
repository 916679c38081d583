/* Ethereum values as new JSON strings, for the methods that build
 * objects field by field (methods_block.c, methods_trace.c): quantities
 * ("0x1f"), 32-byte hashes, 20-byte addresses and byte strings. */
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

#endif
