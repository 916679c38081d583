/* Ethereum hex values in JSON (jansson): quantities ("0x1f"), fixed-size
 * data (addresses, hashes) and byte strings ("0x" + an even number of
 * digits), parsed strictly. Every parser returns false on bad input and
 * then leaves a one-line reason in a hj_error. */
#ifndef JITEVM_HEXJSON_H
#define JITEVM_HEXJSON_H

#include <jansson.h>

#include "base/hex.h"
#include "base/types.h"
#include "base/u256.h"

typedef struct {
    char msg[256];
} hj_error;

/* Sets err->msg (printf style) and returns false, so that a parser can end
 * with `return hj_fail(err, ...)`. */
bool hj_fail(hj_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --- Strings. A quantity is "0x" and 1 to 64 hex digits (leading zeros
 * allowed, as the fixtures write "0x00"); data of a fixed size must have
 * exactly that many digits; byte strings have an even number of digits. */
bool hex_to_u256(const char *s, u256 *out);
bool hex_to_u64(const char *s, uint64_t *out);
bool hex_to_address(const char *s, address *out);
bool hex_to_hash(const char *s, hash32 *out);
/* Appends the bytes to `out`. */
bool hex_to_bytes(const char *s, bytebuf *out);

/* --- JSON values. `what` names the value in the error message. A quantity
 * may also be a non-negative JSON integer. */
bool hj_u256(const json_t *v, const char *what, u256 *out, hj_error *err);
bool hj_u64(const json_t *v, const char *what, uint64_t *out, hj_error *err);
bool hj_address(const json_t *v, const char *what, address *out, hj_error *err);
/* Exactly 32 bytes. */
bool hj_hash(const json_t *v, const char *what, hash32 *out, hj_error *err);
bool hj_bytes(const json_t *v, const char *what, bytebuf *out, hj_error *err);

/* --- Object members: the `get` forms fail when the key is missing, the
 * `opt` forms return true and leave `out` untouched. */
bool hj_get_u256(const json_t *obj, const char *key, u256 *out, hj_error *err);
bool hj_get_u64(const json_t *obj, const char *key, uint64_t *out, hj_error *err);
bool hj_get_address(const json_t *obj, const char *key, address *out, hj_error *err);
bool hj_get_hash(const json_t *obj, const char *key, hash32 *out, hj_error *err);
bool hj_get_bytes(const json_t *obj, const char *key, bytebuf *out, hj_error *err);
bool hj_opt_u256(const json_t *obj, const char *key, u256 *out, hj_error *err);
bool hj_opt_u64(const json_t *obj, const char *key, uint64_t *out, hj_error *err);
bool hj_opt_hash(const json_t *obj, const char *key, hash32 *out, hj_error *err);
/* The member `key`, which must be of the given jansson type. */
bool hj_get_object(const json_t *obj, const char *key, json_t **out, hj_error *err);
bool hj_get_array(const json_t *obj, const char *key, json_t **out, hj_error *err);

/* --- Formatting, "0x"-prefixed, lowercase. */
#define HEX_HASH_LEN (2 + 64 + 1)
#define HEX_ADDRESS_LEN (2 + 40 + 1)
#define HEX_U256_LEN HEX_QUANTITY_LEN
void hex_from_hash(const hash32 *h, char out[HEX_HASH_LEN]);
void hex_from_address(const address *a, char out[HEX_ADDRESS_LEN]);
/* A quantity: minimal digits ("0x0" for zero). */
void hex_from_u256(const u256 *v, char out[HEX_U256_LEN]);
/* "0x" and the bytes; the string is malloc'd. */
char *hex_from_bytes(const uint8_t *p, size_t n);
/* The same as a JSON string (NULL when out of memory): formatted in place
 * when short, and handed to jansson without its UTF-8 check (hex is ASCII). */
json_t *hex_json_bytes(const uint8_t *p, size_t n);

#endif
