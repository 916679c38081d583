/* The BLS12-381 operations that G1 and G2 share apart from their field: the
 * RFC 9380 map to the curve (simplified SWU onto an isogenous curve, then
 * the isogeny) and the decoding of the compressed (ZCash) point encoding.
 *
 * A template for bls12_381.c only, included once per group after the
 * point template (jacobian_impl.h) with
 *   BG_POINT, BG_AFFINE  the group's Jacobian and affine point types
 *   BG_FIELD             the coordinate field's prefix, fp or fp2: besides
 *                        the tower's operations it must provide _sqrt,
 *                        _sgn0 (RFC 9380), _is_largest (the compressed
 *                        sign: the canonical value above (p-1)/2) and
 *                        _read_be (big-endian bytes, false when >= p)
 *   BG_NAME(name)        the group's prefix for the point operations
 *                        (g1_##name), which this template extends
 *   BG_BYTES             the size of one encoded coordinate (48 or 96)
 *   BG_CURVE_B           the curve's b, an lvalue
 *   BG_MAP               the map's constants: a struct lvalue with members
 *                        a, b, z, minus_b_over_a, b_over_za (the isogenous
 *                        curve y^2 = x^3 + a x + b and SSWU's Z) and the
 *                        isogeny's coefficient arrays x_num, x_den, y_num,
 *                        y_den, lowest degree first
 * and map_constants_once / map_constants_init declared. */

#define BG_CAT2(a, b) a##_##b
#define BG_CAT(a, b) BG_CAT2(a, b)
#define BF(op) BG_CAT(BG_FIELD, op)
#define BG_FIELD_T BG_FIELD
#define BG_COUNT(arr) (sizeof(arr) / sizeof(arr)[0])

/* -B/A and B/(Z A), the two x1 candidates' constants of the SSWU map. */
static void BG_NAME(sswu_derive_constants)(void)
{
    BG_FIELD_T t;
    BF(inv)(&t, &BG_MAP.a);
    BF(mul)(&t, &t, &BG_MAP.b);
    BF(neg)(&BG_MAP.minus_b_over_a, &t);
    BF(mul)(&t, &BG_MAP.z, &BG_MAP.a);
    BF(inv)(&t, &t);
    BF(mul)(&BG_MAP.b_over_za, &t, &BG_MAP.b);
}

/* Horner: sum k[i] x^i. */
static void BG_NAME(poly_eval)(BG_FIELD_T *r, const BG_FIELD_T *k, size_t n, const BG_FIELD_T *x)
{
    BG_FIELD_T acc = k[n - 1];
    for (size_t i = n - 1; i-- > 0;) {
        BF(mul)(&acc, &acc, x);
        BF(add)(&acc, &acc, &k[i]);
    }
    *r = acc;
}

/* x^3 + A x + B on the isogenous curve. */
static void BG_NAME(iso_curve_rhs)(BG_FIELD_T *r, const BG_FIELD_T *x)
{
    BG_FIELD_T t;
    BF(sqr)(&t, x);
    BF(add)(&t, &t, &BG_MAP.a);
    BF(mul)(&t, &t, x);
    BF(add)(r, &t, &BG_MAP.b);
}

/* RFC 9380 map_to_curve_simple_swu onto the isogenous curve. */
static void BG_NAME(sswu)(BG_FIELD_T *x, BG_FIELD_T *y, const BG_FIELD_T *u)
{
    BG_FIELD_T zu2, tv1, x1, gx, one;
    BF(set_one)(&one);
    BF(sqr)(&zu2, u);
    BF(mul)(&zu2, &zu2, &BG_MAP.z);
    BF(sqr)(&tv1, &zu2);
    BF(add)(&tv1, &tv1, &zu2); /* Z^2 u^4 + Z u^2 */
    if (BF(is_zero)(&tv1)) {
        x1 = BG_MAP.b_over_za;
    } else {
        BF(inv)(&tv1, &tv1);
        BF(add)(&tv1, &tv1, &one);
        BF(mul)(&x1, &BG_MAP.minus_b_over_a, &tv1);
    }
    BG_NAME(iso_curve_rhs)(&gx, &x1);
    if (BF(sqrt)(y, &gx)) {
        *x = x1;
    } else {
        /* then g(Z u^2 x1) = Z^3 u^6 g(x1) is a square */
        BF(mul)(x, &zu2, &x1);
        BG_NAME(iso_curve_rhs)(&gx, x);
        BF(sqrt)(y, &gx);
    }
    if (BF(sgn0)(u) != BF(sgn0)(y)) BF(neg)(y, y);
}

/* (x, y) on the isogenous curve to Jacobian on the curve: x = xn/xd,
 * y = y yn/yd, written with Z = xd yd, X = xn xd yd^2, Y = y yn xd^3 yd^2
 * so that no inversion is needed; the isogeny's kernel (xd = 0 or yd = 0)
 * lands on Z = 0. */
static void BG_NAME(isogeny_map)(BG_POINT *r, const BG_FIELD_T *x, const BG_FIELD_T *y)
{
    BG_FIELD_T xn, xd, yn, yd, t;
    BG_NAME(poly_eval)(&xn, BG_MAP.x_num, BG_COUNT(BG_MAP.x_num), x);
    BG_NAME(poly_eval)(&xd, BG_MAP.x_den, BG_COUNT(BG_MAP.x_den), x);
    BG_NAME(poly_eval)(&yn, BG_MAP.y_num, BG_COUNT(BG_MAP.y_num), x);
    BG_NAME(poly_eval)(&yd, BG_MAP.y_den, BG_COUNT(BG_MAP.y_den), x);
    BF(mul)(&r->z, &xd, &yd);
    BF(mul)(&r->x, &xn, &yd);
    BF(mul)(&r->x, &r->x, &r->z); /* xn xd yd^2 */
    BF(sqr)(&t, &r->z);
    BF(mul)(&t, &t, &xd); /* xd^3 yd^2 */
    BF(mul)(&r->y, y, &yn);
    BF(mul)(&r->y, &r->y, &t);
}

/* RFC 9380 map_to_curve, before the cofactor is cleared. */
static void BG_NAME(map_to_curve)(BG_POINT *r, const BG_FIELD_T *u)
{
    pthread_once(&map_constants_once, map_constants_init);
    BG_FIELD_T x, y;
    BG_NAME(sswu)(&x, &y, u);
    BG_NAME(isogeny_map)(r, &x, &y);
}

/* The compressed encoding: the top three bits of the first byte are the
 * compression, infinity and sign flags; no subgroup check. */
static bool BG_NAME(from_compressed)(BG_AFFINE *r, const uint8_t in[BG_BYTES])
{
    uint8_t flags = in[0] & 0xe0;
    if (!(flags & 0x80)) return false;
    if (flags & 0x40) {
        /* infinity: exactly 0xc0 followed by zeros */
        if (in[0] != 0xc0) return false;
        for (int i = 1; i < BG_BYTES; i++)
            if (in[i]) return false;
        memset(r, 0, sizeof *r);
        r->infinity = true;
        return true;
    }
    uint8_t xb[BG_BYTES];
    memcpy(xb, in, BG_BYTES);
    xb[0] &= 0x1f;
    BG_FIELD_T x, y, rhs;
    if (!BF(read_be)(&x, xb)) return false;
    BF(sqr)(&rhs, &x);
    BF(mul)(&rhs, &rhs, &x);
    BF(add)(&rhs, &rhs, &BG_CURVE_B);
    if (!BF(sqrt)(&y, &rhs)) return false;
    if (BF(is_largest)(&y) != ((flags & 0x20) != 0)) BF(neg)(&y, &y);
    r->x = x;
    r->y = y;
    r->infinity = false;
    return true;
}

#undef BG_CAT2
#undef BG_CAT
#undef BF
#undef BG_FIELD_T
#undef BG_COUNT
#undef BG_POINT
#undef BG_AFFINE
#undef BG_FIELD
#undef BG_NAME
#undef BG_BYTES
#undef BG_CURVE_B
#undef BG_MAP
