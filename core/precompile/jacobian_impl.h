/* Point arithmetic on a short Weierstrass curve y^2 = x^3 + b (a = 0) in
 * Jacobian coordinates (x = X/Z^2, y = Y/Z^3, Z = 0 the point at infinity),
 * written once for G1 (over Fp) and G2 (over Fp2) of both curves. The
 * formulas are the Explicit-Formulas Database's dbl-2009-l, add-2007-bl and
 * madd-2007-bl.
 *
 * A template: a curve's .c file includes it once per group, after the field
 * it works over, with
 *   JAC_POINT       the point type: a struct with members x, y, z
 *   JAC_FIELD       the coordinate field's prefix, fp or fp2; the field must
 *                   provide _add, _sub, _dbl, _neg, _mul, _sqr, _inv,
 *                   _is_zero, _eq, _set_zero and _set_one
 *   JAC_NAME(name)  the name of an operation, e.g. g1_##name
 * and optionally
 *   JAC_PUBLIC(name) the exported name of an operation (bn254_g1_##name),
 *                   JAC_PUBLIC_DBL that of doubling: the curve's API
 *   JAC_AFFINE      an affine point type with members x, y, infinity, for
 *                   the conversions, mixed addition and multi-scalar
 *                   multiplication on it; then also JAC_CURVE_B (the curve's
 *                   b, an lvalue) and JAC_SCALAR (a type of four 64-bit
 *                   limbs `l`), and the includer provides scalar_nibble,
 *                   scalar_digit and msm_window_bits (shared by its groups).
 * The parameters are undefined at the end, ready for the next group. All
 * functions are static: direct calls within the curve's translation unit. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A curve need not use every operation of a template. */
#ifndef TEMPLATE_STATIC
#define TEMPLATE_STATIC static __attribute__((unused))
#endif

#define JAC_CAT2(a, b) a##_##b
#define JAC_CAT(a, b) JAC_CAT2(a, b)
#define JF(op) JAC_CAT(JAC_FIELD, op)
#define JAC_FIELD_T JAC_FIELD

static inline void JAC_NAME(set_infinity)(JAC_POINT *r) { memset(r, 0, sizeof *r); }
static inline bool JAC_NAME(is_infinity)(const JAC_POINT *a) { return JF(is_zero)(&a->z); }

static inline void JAC_NAME(from_xy)(JAC_POINT *r, const JAC_FIELD_T *x, const JAC_FIELD_T *y)
{
    r->x = *x;
    r->y = *y;
    JF(set_one)(&r->z);
}

/* y^2 == x^3 + b. */
TEMPLATE_STATIC bool JAC_NAME(xy_on_curve)(const JAC_FIELD_T *x, const JAC_FIELD_T *y, const JAC_FIELD_T *b)
{
    JAC_FIELD_T lhs, rhs;
    JF(sqr)(&lhs, y);
    JF(sqr)(&rhs, x);
    JF(mul)(&rhs, &rhs, x);
    JF(add)(&rhs, &rhs, b);
    return JF(eq)(&lhs, &rhs);
}

static inline void JAC_NAME(neg)(JAC_POINT *r, const JAC_POINT *a)
{
    r->x = a->x;
    JF(neg)(&r->y, &a->y);
    r->z = a->z;
}

/* Affine coordinates; (0, 0) for the point at infinity. */
TEMPLATE_STATIC void JAC_NAME(to_xy)(JAC_FIELD_T *x, JAC_FIELD_T *y, const JAC_POINT *a)
{
    if (JF(is_zero)(&a->z)) {
        JF(set_zero)(x);
        JF(set_zero)(y);
        return;
    }
    JAC_FIELD_T zi, zi2, zi3;
    JF(set_one)(&zi);
    if (JF(eq)(&a->z, &zi)) {
        *x = a->x;
        *y = a->y;
        return;
    }
    JF(inv)(&zi, &a->z);
    JF(sqr)(&zi2, &zi);
    JF(mul)(&zi3, &zi2, &zi);
    JF(mul)(x, &a->x, &zi2);
    JF(mul)(y, &a->y, &zi3);
}

/* X1 Z2^2 == X2 Z1^2 and Y1 Z2^3 == Y2 Z1^3. */
TEMPLATE_STATIC bool JAC_NAME(eq)(const JAC_POINT *a, const JAC_POINT *b)
{
    bool ia = JF(is_zero)(&a->z), ib = JF(is_zero)(&b->z);
    if (ia || ib) return ia == ib;
    JAC_FIELD_T z1z1, z2z2, l, r, t;
    JF(sqr)(&z1z1, &a->z);
    JF(sqr)(&z2z2, &b->z);
    JF(mul)(&l, &a->x, &z2z2);
    JF(mul)(&r, &b->x, &z1z1);
    if (!JF(eq)(&l, &r)) return false;
    JF(mul)(&t, &z2z2, &b->z);
    JF(mul)(&l, &a->y, &t);
    JF(mul)(&t, &z1z1, &a->z);
    JF(mul)(&r, &b->y, &t);
    return JF(eq)(&l, &r);
}

/* dbl-2009-l. */
TEMPLATE_STATIC void JAC_NAME(dbl)(JAC_POINT *r, const JAC_POINT *a)
{
    if (JF(is_zero)(&a->z)) {
        *r = *a;
        return;
    }
    JAC_FIELD_T A, B, C, D, E, F, t, x3, y3, z3;
    JF(sqr)(&A, &a->x);
    JF(sqr)(&B, &a->y);
    JF(sqr)(&C, &B);
    JF(add)(&t, &a->x, &B);
    JF(sqr)(&t, &t);
    JF(sub)(&t, &t, &A);
    JF(sub)(&t, &t, &C);
    JF(dbl)(&D, &t);
    JF(dbl)(&E, &A);
    JF(add)(&E, &E, &A);
    JF(sqr)(&F, &E);
    JF(dbl)(&t, &D);
    JF(sub)(&x3, &F, &t);
    JF(sub)(&t, &D, &x3);
    JF(mul)(&y3, &E, &t);
    JF(dbl)(&C, &C);
    JF(dbl)(&C, &C);
    JF(dbl)(&C, &C);
    JF(sub)(&y3, &y3, &C);
    JF(mul)(&z3, &a->y, &a->z);
    JF(dbl)(&z3, &z3);
    r->x = x3;
    r->y = y3;
    r->z = z3;
}

/* H = U2 - U1 and R = S2 - S1 for the sum of a and a point b, with Ui and
 * Si the x and y of a (i = 1) and b (i = 2) scaled alike. When H is zero the
 * two share x: r becomes 2a (equal points) or infinity (opposite ones) and
 * the answer is false. */
static inline bool JAC_NAME(add_differences)(JAC_POINT *r, const JAC_POINT *a, JAC_FIELD_T *H, JAC_FIELD_T *R,
                                             const JAC_FIELD_T *U1, const JAC_FIELD_T *U2, const JAC_FIELD_T *S1,
                                             const JAC_FIELD_T *S2)
{
    JF(sub)(H, U2, U1);
    JF(sub)(R, S2, S1);
    if (!JF(is_zero)(H)) return true;
    if (JF(is_zero)(R)) JAC_NAME(dbl)(r, a);
    else JAC_NAME(set_infinity)(r);
    return false;
}

/* The common tail of add and mixed add: with H = U2 - U1, R = S2 - S1 and
 * I = 4 H^2 (known non-zero H), X3 = r^2 - J - 2V, Y3 = r (V - X3) - 2 S1 J
 * where r = 2R, J = H I, V = U1 I. Z3 is the caller's. */
static inline void JAC_NAME(add_tail)(JAC_POINT *r, const JAC_FIELD_T *H, JAC_FIELD_T *R, const JAC_FIELD_T *I,
                                      const JAC_FIELD_T *U1, const JAC_FIELD_T *S1)
{
    JAC_FIELD_T J, V, t, x3, y3;
    JF(mul)(&J, H, I);
    JF(dbl)(R, R);
    JF(mul)(&V, U1, I);
    JF(sqr)(&x3, R);
    JF(sub)(&x3, &x3, &J);
    JF(dbl)(&t, &V);
    JF(sub)(&x3, &x3, &t);
    JF(sub)(&t, &V, &x3);
    JF(mul)(&y3, R, &t);
    JF(mul)(&t, S1, &J);
    JF(dbl)(&t, &t);
    JF(sub)(&y3, &y3, &t);
    r->x = x3;
    r->y = y3;
}

/* add-2007-bl, falling back to doubling for equal inputs. */
TEMPLATE_STATIC void JAC_NAME(add)(JAC_POINT *r, const JAC_POINT *a, const JAC_POINT *b)
{
    if (JF(is_zero)(&a->z)) {
        *r = *b;
        return;
    }
    if (JF(is_zero)(&b->z)) {
        *r = *a;
        return;
    }
    JAC_FIELD_T Z1Z1, Z2Z2, U1, U2, S1, S2, H, I, R, z3;
    JF(sqr)(&Z1Z1, &a->z);
    JF(sqr)(&Z2Z2, &b->z);
    JF(mul)(&U1, &a->x, &Z2Z2);
    JF(mul)(&U2, &b->x, &Z1Z1);
    JF(mul)(&S1, &a->y, &b->z);
    JF(mul)(&S1, &S1, &Z2Z2);
    JF(mul)(&S2, &b->y, &a->z);
    JF(mul)(&S2, &S2, &Z1Z1);
    if (!JAC_NAME(add_differences)(r, a, &H, &R, &U1, &U2, &S1, &S2)) return;
    JF(dbl)(&I, &H);
    JF(sqr)(&I, &I);
    /* Z3 = ((Z1 + Z2)^2 - Z1Z1 - Z2Z2) H, before r's coordinates change */
    JF(add)(&z3, &a->z, &b->z);
    JF(sqr)(&z3, &z3);
    JF(sub)(&z3, &z3, &Z1Z1);
    JF(sub)(&z3, &z3, &Z2Z2);
    JF(mul)(&z3, &z3, &H);
    JAC_NAME(add_tail)(r, &H, &R, &I, &U1, &S1);
    r->z = z3;
}

/* madd-2007-bl: a + (x2, y2), the second point affine (Z = 1). */
TEMPLATE_STATIC void JAC_NAME(add_xy)(JAC_POINT *r, const JAC_POINT *a, const JAC_FIELD_T *x2, const JAC_FIELD_T *y2)
{
    if (JF(is_zero)(&a->z)) {
        JAC_NAME(from_xy)(r, x2, y2);
        return;
    }
    JAC_FIELD_T Z1Z1, U2, S2, H, HH, I, R, z3, U1 = a->x, S1 = a->y;
    JF(sqr)(&Z1Z1, &a->z);
    JF(mul)(&U2, x2, &Z1Z1);
    JF(mul)(&S2, y2, &a->z);
    JF(mul)(&S2, &S2, &Z1Z1);
    if (!JAC_NAME(add_differences)(r, a, &H, &R, &U1, &U2, &S1, &S2)) return;
    JF(sqr)(&HH, &H);
    JF(dbl)(&I, &HH);
    JF(dbl)(&I, &I);
    /* Z3 = (Z1 + H)^2 - Z1Z1 - HH */
    JF(add)(&z3, &a->z, &H);
    JF(sqr)(&z3, &z3);
    JF(sub)(&z3, &z3, &Z1Z1);
    JF(sub)(&z3, &z3, &HH);
    JAC_NAME(add_tail)(r, &H, &R, &I, &U1, &S1);
    r->z = z3;
}

/* a*k, k given as `n` limbs, least significant first: fixed 4-bit windows
 * from the top, over a table of 0..15 times a. */
TEMPLATE_STATIC void JAC_NAME(mul)(JAC_POINT *r, const JAC_POINT *a, const uint64_t *k, size_t n)
{
    JAC_POINT table[16], acc;
    JAC_NAME(set_infinity)(&table[0]);
    table[1] = *a;
    for (int i = 2; i < 16; i++) JAC_NAME(add)(&table[i], &table[i - 1], a);
    JAC_NAME(set_infinity)(&acc);
    size_t top = n;
    while (top > 0 && k[top - 1] == 0) top--;
    for (size_t w = top * 16; w-- > 0;) {
        for (int d = 0; d < 4; d++) JAC_NAME(dbl)(&acc, &acc);
        unsigned digit = (unsigned)(k[w / 16] >> (4 * (w % 16))) & 15;
        if (digit) JAC_NAME(add)(&acc, &acc, &table[digit]);
    }
    *r = acc;
}

/* (0, 0) is the point at infinity (the EVM encoding); false off the curve. */
TEMPLATE_STATIC bool JAC_NAME(from_xy_checked)(JAC_POINT *r, const JAC_FIELD_T *x, const JAC_FIELD_T *y,
                                               const JAC_FIELD_T *b)
{
    if (JF(is_zero)(x) && JF(is_zero)(y)) {
        JAC_NAME(set_infinity)(r);
        return true;
    }
    if (!JAC_NAME(xy_on_curve)(x, y, b)) return false;
    JAC_NAME(from_xy)(r, x, y);
    return true;
}

/* [k]a by double-and-add from k's top bit: for sparse constants such as a
 * curve parameter. */
TEMPLATE_STATIC void JAC_NAME(mul_u64)(JAC_POINT *r, const JAC_POINT *a, uint64_t k)
{
    JAC_POINT acc;
    JAC_NAME(set_infinity)(&acc);
    for (int i = 63; i >= 0; i--) {
        JAC_NAME(dbl)(&acc, &acc);
        if ((k >> i) & 1) JAC_NAME(add)(&acc, &acc, a);
    }
    *r = acc;
}

#ifdef JAC_AFFINE
static inline void JAC_NAME(from_affine)(JAC_POINT *r, const JAC_AFFINE *a)
{
    if (a->infinity) JAC_NAME(set_infinity)(r);
    else JAC_NAME(from_xy)(r, &a->x, &a->y);
}

static inline void JAC_NAME(to_affine)(JAC_AFFINE *r, const JAC_POINT *a)
{
    JAC_NAME(to_xy)(&r->x, &r->y, a);
    r->infinity = JAC_NAME(is_infinity)(a);
}

static inline bool JAC_NAME(affine_on_curve)(const JAC_AFFINE *a)
{
    return a->infinity || JAC_NAME(xy_on_curve)(&a->x, &a->y, &JAC_CURVE_B);
}

static inline void JAC_NAME(add_affine)(JAC_POINT *r, const JAC_POINT *a, const JAC_AFFINE *b)
{
    if (b->infinity) *r = *a;
    else JAC_NAME(add_xy)(r, a, &b->x, &b->y);
}

/* Straus: per-point tables of 1..15 times the point, one shared chain of
 * doublings, one addition per non-zero 4-bit digit. */
TEMPLATE_STATIC void JAC_NAME(msm_straus)(JAC_POINT *r, const JAC_AFFINE *points, const JAC_SCALAR *scalars, size_t n)
{
    JAC_POINT(*tables)[16] = xmalloc(n * sizeof *tables);
    for (size_t i = 0; i < n; i++) {
        JAC_NAME(set_infinity)(&tables[i][0]);
        JAC_NAME(add_affine)(&tables[i][1], &tables[i][0], &points[i]);
        for (int d = 2; d < 16; d++) JAC_NAME(add_affine)(&tables[i][d], &tables[i][d - 1], &points[i]);
    }
    JAC_POINT acc;
    JAC_NAME(set_infinity)(&acc);
    for (unsigned w = 64; w-- > 0;) {
        for (int d = 0; d < 4; d++) JAC_NAME(dbl)(&acc, &acc);
        for (size_t i = 0; i < n; i++) {
            unsigned d = scalar_nibble(&scalars[i], w);
            if (d) JAC_NAME(add)(&acc, &acc, &tables[i][d]);
        }
    }
    free(tables);
    *r = acc;
}

/* sum of scalars[i] * points[i]: Straus for few points, Pippenger with
 * unsigned buckets for many (msm_window_bits decides). */
TEMPLATE_STATIC void JAC_NAME(msm)(JAC_POINT *r, const JAC_AFFINE *points, const JAC_SCALAR *scalars, size_t n)
{
    unsigned c = msm_window_bits(n);
    if (c == 0) {
        JAC_NAME(msm_straus)(r, points, scalars, n);
        return;
    }
    size_t nbuckets = ((size_t)1 << c) - 1;
    JAC_POINT *buckets = xmalloc(nbuckets * sizeof *buckets);
    JAC_POINT acc;
    JAC_NAME(set_infinity)(&acc);
    for (unsigned w = (256 + c - 1) / c; w-- > 0;) {
        for (unsigned i = 0; i < c; i++) JAC_NAME(dbl)(&acc, &acc);
        for (size_t b = 0; b < nbuckets; b++) JAC_NAME(set_infinity)(&buckets[b]);
        for (size_t i = 0; i < n; i++) {
            unsigned d = scalar_digit(&scalars[i], w * c, c);
            if (d) JAC_NAME(add_affine)(&buckets[d - 1], &buckets[d - 1], &points[i]);
        }
        /* sum_d d * bucket[d] as a running sum from the top bucket down */
        JAC_POINT running, sum;
        JAC_NAME(set_infinity)(&running);
        JAC_NAME(set_infinity)(&sum);
        for (size_t b = nbuckets; b-- > 0;) {
            JAC_NAME(add)(&running, &running, &buckets[b]);
            JAC_NAME(add)(&sum, &sum, &running);
        }
        JAC_NAME(add)(&acc, &acc, &sum);
    }
    free(buckets);
    *r = acc;
}
#endif

#ifdef JAC_PUBLIC
void JAC_PUBLIC(set_infinity)(JAC_POINT *r) { JAC_NAME(set_infinity)(r); }
bool JAC_PUBLIC(is_infinity)(const JAC_POINT *a) { return JAC_NAME(is_infinity)(a); }
void JAC_PUBLIC(add)(JAC_POINT *r, const JAC_POINT *a, const JAC_POINT *b) { JAC_NAME(add)(r, a, b); }
void JAC_PUBLIC_DBL(JAC_POINT *r, const JAC_POINT *a) { JAC_NAME(dbl)(r, a); }
void JAC_PUBLIC(neg)(JAC_POINT *r, const JAC_POINT *a) { JAC_NAME(neg)(r, a); }
bool JAC_PUBLIC(eq)(const JAC_POINT *a, const JAC_POINT *b) { return JAC_NAME(eq)(a, b); }
#ifdef JAC_AFFINE
void JAC_PUBLIC(from_affine)(JAC_POINT *r, const JAC_AFFINE *a) { JAC_NAME(from_affine)(r, a); }
void JAC_PUBLIC(to_affine)(JAC_AFFINE *r, const JAC_POINT *a) { JAC_NAME(to_affine)(r, a); }
bool JAC_PUBLIC(affine_on_curve)(const JAC_AFFINE *a) { return JAC_NAME(affine_on_curve)(a); }
void JAC_PUBLIC(add_affine)(JAC_POINT *r, const JAC_POINT *a, const JAC_AFFINE *b) { JAC_NAME(add_affine)(r, a, b); }
void JAC_PUBLIC(mul)(JAC_POINT *r, const JAC_POINT *a, const uint64_t *k, size_t n) { JAC_NAME(mul)(r, a, k, n); }
void JAC_PUBLIC(msm)(JAC_POINT *r, const JAC_AFFINE *points, const JAC_SCALAR *scalars, size_t n)
{
    JAC_NAME(msm)(r, points, scalars, n);
}
#endif
#endif

#undef JAC_CAT2
#undef JAC_CAT
#undef JF
#undef JAC_FIELD_T
#undef JAC_POINT
#undef JAC_FIELD
#undef JAC_NAME
#undef JAC_AFFINE
#undef JAC_SCALAR
#undef JAC_CURVE_B
#undef JAC_PUBLIC
#undef JAC_PUBLIC_DBL
