#include "rpc/json_values.h"

#include <stdlib.h>

#include "hexjson.h"

json_t *jv_quantity(const u256 *v)
{
    char hex[HEX_U256_LEN];
    hex_from_u256(v, hex);
    return json_string(hex);
}

json_t *jv_u64(uint64_t v)
{
    u256 w = u256_from_u64(v);
    return jv_quantity(&w);
}

json_t *jv_hash(const hash32 *h)
{
    char hex[HEX_HASH_LEN];
    hex_from_hash(h, hex);
    return json_string(hex);
}

json_t *jv_address(const address *a)
{
    char hex[HEX_ADDRESS_LEN];
    hex_from_address(a, hex);
    return json_string(hex);
}

json_t *jv_data(const uint8_t *p, size_t n)
{
    char *hex = hex_from_bytes(p, n);
    json_t *r = json_string(hex);
    free(hex);
    return r;
}
