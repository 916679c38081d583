/* 0x100 P256VERIFY (EIP-7951, Osaka): ECDSA verification on secp256r1.
 * Built on OpenSSL's EC_GROUP/EC_POINT/BIGNUM arithmetic (not deprecated in
 * OpenSSL 3, unlike EC_KEY/ECDSA_do_verify) so the checks and the final
 * comparison follow the EIP step by step. */
#include "precompile/precompile.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P256VERIFY_INPUT_LEN 160

uint64_t pc_p256verify_gas(const uint8_t *in, size_t len, enum fork f)
{
    (void)in;
    (void)len;
    (void)f;
    return 6900;
}

static EC_GROUP *p256_group; /* immutable once set up; shared by all calls */
static BIGNUM *p256_p;       /* the field prime */

static void openssl_failed(void)
{
    /* Only allocation failures get here: not recoverable (as in xmalloc). */
    fprintf(stderr, "jitevm: OpenSSL EC arithmetic failed\n");
    abort();
}

static void p256_setup(void)
{
    p256_group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    p256_p = BN_new();
    if (!p256_group || !p256_p || !EC_GROUP_get_curve(p256_group, p256_p, NULL, NULL, NULL))
        openssl_failed();
}

/* Whether the 160 input bytes hash | r | s | qx | qy are a valid signature
 * of `hash` by public key (qx, qy). */
static bool p256_verify(const uint8_t *in)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, p256_setup);
    const EC_GROUP *group = p256_group;
    const BIGNUM *n = EC_GROUP_get0_order(group);

    BN_CTX *ctx = BN_CTX_new();
    if (!ctx) openssl_failed();
    BN_CTX_start(ctx);
    BIGNUM *h = BN_CTX_get(ctx), *r = BN_CTX_get(ctx), *s = BN_CTX_get(ctx);
    BIGNUM *qx = BN_CTX_get(ctx), *qy = BN_CTX_get(ctx);
    BIGNUM *w = BN_CTX_get(ctx), *u1 = BN_CTX_get(ctx), *u2 = BN_CTX_get(ctx);
    BIGNUM *rx = BN_CTX_get(ctx);
    EC_POINT *q = EC_POINT_new(group), *rp = EC_POINT_new(group);
    if (!rx || !q || !rp) openssl_failed();
    if (!BN_bin2bn(in, 32, h) || !BN_bin2bn(in + 32, 32, r) || !BN_bin2bn(in + 64, 32, s) ||
        !BN_bin2bn(in + 96, 32, qx) || !BN_bin2bn(in + 128, 32, qy))
        openssl_failed();

    bool valid = false;
    /* 0 < r, s < n. */
    if (BN_is_zero(r) || BN_cmp(r, n) >= 0 || BN_is_zero(s) || BN_cmp(s, n) >= 0) goto done;
    /* 0 <= qx, qy < p, not the (0, 0) encoding of infinity, on the curve.
     * set_affine_coordinates also rejects points off the curve; the explicit
     * test keeps that from depending on the OpenSSL version. */
    if (BN_cmp(qx, p256_p) >= 0 || BN_cmp(qy, p256_p) >= 0) goto done;
    if (BN_is_zero(qx) && BN_is_zero(qy)) goto done;
    if (!EC_POINT_set_affine_coordinates(group, q, qx, qy, ctx)) {
        ERR_clear_error(); /* the rejection is an answer, not an error to keep */
        goto done;
    }
    if (EC_POINT_is_on_curve(group, q, ctx) != 1) goto done;

    /* R' = (h * s^-1) G + (r * s^-1) Q; valid when R' is not infinity and
     * R'.x mod n == r. The hash is used whole (256 bits = the order's size);
     * h * s^-1 mod n reduces it. */
    if (!BN_mod_inverse(w, s, n, ctx) || !BN_mod_mul(u1, h, w, n, ctx) ||
        !BN_mod_mul(u2, r, w, n, ctx) || !EC_POINT_mul(group, rp, u1, q, u2, ctx))
        openssl_failed();
    if (EC_POINT_is_at_infinity(group, rp)) goto done;
    if (!EC_POINT_get_affine_coordinates(group, rp, rx, NULL, ctx) || !BN_nnmod(rx, rx, n, ctx))
        openssl_failed();
    valid = BN_cmp(rx, r) == 0;

done:
    EC_POINT_free(rp);
    EC_POINT_free(q);
    BN_CTX_end(ctx);
    BN_CTX_free(ctx);
    return valid;
}

bool pc_p256verify_run(const uint8_t *in, size_t len, enum fork f, bytebuf *out)
{
    (void)f;
    /* Every invalid input, a wrong length included, is a successful call
     * with empty output. */
    if (len == P256VERIFY_INPUT_LEN && p256_verify(in)) precompile_output_bool(out, true);
    return true;
}
