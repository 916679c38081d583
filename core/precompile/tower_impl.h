/* The extension-field tower of a pairing-friendly curve with embedding
 * degree 12, written once for BN254 and BLS12-381:
 *
 *   Fp2 = Fp[i]/(i^2 + 1), Fp6 = Fp2[v]/(v^3 - xi), Fp12 = Fp6[w]/(w^2 - v)
 *
 * and the projective Miller-loop steps on the sextic twist. Both curves have
 * this shape; they differ in the base field, the non-residue xi, the twist
 * constant and the constants derived from them.
 *
 * A template, not a header: each curve's .c file includes it once (there is
 * no include guard), after defining
 *   types     fp, fp2, fp6, fp12: structs with members c0, c1 (Fp2, Fp12)
 *             and c0, c1, c2 (Fp6)
 *   constant  FP_ONE (one in the base field's representation)
 *   functions fp_add, fp_sub, fp_dbl, fp_neg, fp_mul, fp_sqr, fp_inv,
 *             fp_half, fp_is_zero, fp_eq (fp_inv(0) = 0), and
 *             fp2_mul_xi(r, a) = a * xi
 *   macros    TOWER_TWIST_B3: an fp2 lvalue, 3b' for the twist y^2 = x^3 + b'
 *             TOWER_PUBLIC(name): the curve's public name of an operation,
 *             e.g. TOWER_PUBLIC(fp2_mul) -> bn254_fp2_mul
 *             TOWER_PAIRING_G1, TOWER_PAIRING_G2: the point types the
 *             curve's pairing takes, and TOWER_FINAL_EXP: its final
 *             exponentiation; with TOWER_PUBLIC(miller_loop) (both declared
 *             in the curve's header) they make the exported pairing and
 *             pairing check
 * The functions come out `static`, so every call is direct and inlinable
 * within the curve's translation unit; the few TOWER_PUBLIC ones are the
 * curve's exported API (declared in its header). Nothing is constant time. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A curve need not use every operation of a template. */
#ifndef TEMPLATE_STATIC
#define TEMPLATE_STATIC static __attribute__((unused))
#endif

static inline void fp_set_zero(fp *r) { memset(r, 0, sizeof *r); }
static inline void fp_set_one(fp *r) { *r = FP_ONE; }

/* ------------------------------------------------------------------ */
/* Fp2                                                                  */
/* ------------------------------------------------------------------ */

static inline void fp2_add(fp2 *r, const fp2 *a, const fp2 *b)
{
    fp_add(&r->c0, &a->c0, &b->c0);
    fp_add(&r->c1, &a->c1, &b->c1);
}

static inline void fp2_sub(fp2 *r, const fp2 *a, const fp2 *b)
{
    fp_sub(&r->c0, &a->c0, &b->c0);
    fp_sub(&r->c1, &a->c1, &b->c1);
}

static inline void fp2_dbl(fp2 *r, const fp2 *a)
{
    fp_dbl(&r->c0, &a->c0);
    fp_dbl(&r->c1, &a->c1);
}

static inline void fp2_neg(fp2 *r, const fp2 *a)
{
    fp_neg(&r->c0, &a->c0);
    fp_neg(&r->c1, &a->c1);
}

/* The Frobenius map of Fp2: i^p = -i. */
static inline void fp2_conj(fp2 *r, const fp2 *a)
{
    r->c0 = a->c0;
    fp_neg(&r->c1, &a->c1);
}

static inline void fp2_half(fp2 *r, const fp2 *a)
{
    fp_half(&r->c0, &a->c0);
    fp_half(&r->c1, &a->c1);
}

static inline bool fp2_is_zero(const fp2 *a) { return fp_is_zero(&a->c0) && fp_is_zero(&a->c1); }
static inline bool fp2_eq(const fp2 *a, const fp2 *b) { return fp_eq(&a->c0, &b->c0) && fp_eq(&a->c1, &b->c1); }
static inline void fp2_set_zero(fp2 *r) { memset(r, 0, sizeof *r); }

static inline void fp2_set_one(fp2 *r)
{
    r->c0 = FP_ONE;
    fp_set_zero(&r->c1);
}

/* Karatsuba: three base-field products. */
static inline void fp2_mul(fp2 *r, const fp2 *a, const fp2 *b)
{
    fp t0, t1, s0, s1;
    fp_mul(&t0, &a->c0, &b->c0);
    fp_mul(&t1, &a->c1, &b->c1);
    fp_add(&s0, &a->c0, &a->c1);
    fp_add(&s1, &b->c0, &b->c1);
    fp_mul(&s0, &s0, &s1);
    fp_sub(&r->c0, &t0, &t1);
    fp_sub(&s0, &s0, &t0);
    fp_sub(&r->c1, &s0, &t1);
}

/* (a0 + a1 i)^2 = (a0 + a1)(a0 - a1) + 2 a0 a1 i. */
static inline void fp2_sqr(fp2 *r, const fp2 *a)
{
    fp s, d, m;
    fp_add(&s, &a->c0, &a->c1);
    fp_sub(&d, &a->c0, &a->c1);
    fp_mul(&m, &a->c0, &a->c1);
    fp_mul(&r->c0, &s, &d);
    fp_dbl(&r->c1, &m);
}

static inline void fp2_mul_fp(fp2 *r, const fp2 *a, const fp *b)
{
    fp_mul(&r->c0, &a->c0, b);
    fp_mul(&r->c1, &a->c1, b);
}

/* conj(a) * c: the shape of every Frobenius coefficient step. */
static inline void fp2_conj_mul(fp2 *r, const fp2 *a, const fp2 *c)
{
    fp2 t;
    fp2_conj(&t, a);
    fp2_mul(r, &t, c);
}

/* 1/a = conj(a) / (a0^2 + a1^2). */
TEMPLATE_STATIC void fp2_inv(fp2 *r, const fp2 *a)
{
    fp t0, t1;
    fp_sqr(&t0, &a->c0);
    fp_sqr(&t1, &a->c1);
    fp_add(&t0, &t0, &t1);
    fp_inv(&t0, &t0);
    fp_mul(&r->c0, &a->c0, &t0);
    fp_mul(&t1, &a->c1, &t0);
    fp_neg(&r->c1, &t1);
}

/* ------------------------------------------------------------------ */
/* Fp6                                                                  */
/* ------------------------------------------------------------------ */

static inline void fp6_add(fp6 *r, const fp6 *a, const fp6 *b)
{
    fp2_add(&r->c0, &a->c0, &b->c0);
    fp2_add(&r->c1, &a->c1, &b->c1);
    fp2_add(&r->c2, &a->c2, &b->c2);
}

static inline void fp6_sub(fp6 *r, const fp6 *a, const fp6 *b)
{
    fp2_sub(&r->c0, &a->c0, &b->c0);
    fp2_sub(&r->c1, &a->c1, &b->c1);
    fp2_sub(&r->c2, &a->c2, &b->c2);
}

static inline void fp6_neg(fp6 *r, const fp6 *a)
{
    fp2_neg(&r->c0, &a->c0);
    fp2_neg(&r->c1, &a->c1);
    fp2_neg(&r->c2, &a->c2);
}

/* a * v: (a0, a1, a2) -> (xi a2, a0, a1). */
static inline void fp6_mul_v(fp6 *r, const fp6 *a)
{
    fp2 t;
    fp2_mul_xi(&t, &a->c2);
    r->c2 = a->c1;
    r->c1 = a->c0;
    r->c0 = t;
}

/* Karatsuba-style product with six Fp2 multiplications. */
TEMPLATE_STATIC void fp6_mul(fp6 *r, const fp6 *a, const fp6 *b)
{
    fp2 t0, t1, t2, s, u, c0, c1, c2;
    fp2_mul(&t0, &a->c0, &b->c0);
    fp2_mul(&t1, &a->c1, &b->c1);
    fp2_mul(&t2, &a->c2, &b->c2);
    /* c0 = ((a1 + a2)(b1 + b2) - t1 - t2) xi + t0 */
    fp2_add(&s, &a->c1, &a->c2);
    fp2_add(&u, &b->c1, &b->c2);
    fp2_mul(&s, &s, &u);
    fp2_sub(&s, &s, &t1);
    fp2_sub(&s, &s, &t2);
    fp2_mul_xi(&s, &s);
    fp2_add(&c0, &s, &t0);
    /* c1 = (a0 + a1)(b0 + b1) - t0 - t1 + xi t2 */
    fp2_add(&s, &a->c0, &a->c1);
    fp2_add(&u, &b->c0, &b->c1);
    fp2_mul(&s, &s, &u);
    fp2_sub(&s, &s, &t0);
    fp2_sub(&s, &s, &t1);
    fp2_mul_xi(&u, &t2);
    fp2_add(&c1, &s, &u);
    /* c2 = (a0 + a2)(b0 + b2) - t0 - t2 + t1 */
    fp2_add(&s, &a->c0, &a->c2);
    fp2_add(&u, &b->c0, &b->c2);
    fp2_mul(&s, &s, &u);
    fp2_sub(&s, &s, &t0);
    fp2_sub(&s, &s, &t2);
    fp2_add(&c2, &s, &t1);
    r->c0 = c0;
    r->c1 = c1;
    r->c2 = c2;
}

/* Chung-Hasan squaring (SQR2): two squarings and three products fewer
 * than a general multiplication. */
TEMPLATE_STATIC void fp6_sqr(fp6 *r, const fp6 *a)
{
    fp2 s0, s1, s2, s3, s4, t;
    fp2_sqr(&s0, &a->c0);
    fp2_mul(&s1, &a->c0, &a->c1);
    fp2_dbl(&s1, &s1);
    fp2_sub(&t, &a->c0, &a->c1);
    fp2_add(&t, &t, &a->c2);
    fp2_sqr(&s2, &t);
    fp2_mul(&s3, &a->c1, &a->c2);
    fp2_dbl(&s3, &s3);
    fp2_sqr(&s4, &a->c2);
    /* c0 = xi s3 + s0, c1 = xi s4 + s1, c2 = s1 + s2 + s3 - s0 - s4 */
    fp2_mul_xi(&t, &s3);
    fp2_add(&r->c0, &t, &s0);
    fp2_mul_xi(&t, &s4);
    fp2_add(&r->c1, &t, &s1);
    fp2_add(&t, &s1, &s2);
    fp2_add(&t, &t, &s3);
    fp2_sub(&t, &t, &s0);
    fp2_sub(&r->c2, &t, &s4);
}

/* a * (b0 + b1 v): the sparse factors of line functions. */
static inline void fp6_mul_01(fp6 *r, const fp6 *a, const fp2 *b0, const fp2 *b1)
{
    fp2 t0, t1, s, u, c0, c1, c2;
    fp2_mul(&t0, &a->c0, b0);
    fp2_mul(&t1, &a->c1, b1);
    /* c0 = xi a2 b1 + t0 */
    fp2_mul(&s, &a->c2, b1);
    fp2_mul_xi(&s, &s);
    fp2_add(&c0, &s, &t0);
    /* c1 = (a0 + a1)(b0 + b1) - t0 - t1 */
    fp2_add(&s, &a->c0, &a->c1);
    fp2_add(&u, b0, b1);
    fp2_mul(&s, &s, &u);
    fp2_sub(&s, &s, &t0);
    fp2_sub(&c1, &s, &t1);
    /* c2 = a2 b0 + t1 */
    fp2_mul(&s, &a->c2, b0);
    fp2_add(&c2, &s, &t1);
    r->c0 = c0;
    r->c1 = c1;
    r->c2 = c2;
}

/* a * (b1 v). */
static inline void fp6_mul_1(fp6 *r, const fp6 *a, const fp2 *b1)
{
    fp2 c0, c1, c2;
    fp2_mul(&c0, &a->c2, b1);
    fp2_mul_xi(&c0, &c0);
    fp2_mul(&c1, &a->c0, b1);
    fp2_mul(&c2, &a->c1, b1);
    r->c0 = c0;
    r->c1 = c1;
    r->c2 = c2;
}

/* a * b0 for b0 in Fp2. */
static inline void fp6_mul_fp2(fp6 *r, const fp6 *a, const fp2 *b)
{
    fp2_mul(&r->c0, &a->c0, b);
    fp2_mul(&r->c1, &a->c1, b);
    fp2_mul(&r->c2, &a->c2, b);
}

TEMPLATE_STATIC void fp6_inv(fp6 *r, const fp6 *a)
{
    fp2 A, B, C, t, F;
    /* A = a0^2 - xi a1 a2, B = xi a2^2 - a0 a1, C = a1^2 - a0 a2 */
    fp2_sqr(&A, &a->c0);
    fp2_mul(&t, &a->c1, &a->c2);
    fp2_mul_xi(&t, &t);
    fp2_sub(&A, &A, &t);
    fp2_sqr(&B, &a->c2);
    fp2_mul_xi(&B, &B);
    fp2_mul(&t, &a->c0, &a->c1);
    fp2_sub(&B, &B, &t);
    fp2_sqr(&C, &a->c1);
    fp2_mul(&t, &a->c0, &a->c2);
    fp2_sub(&C, &C, &t);
    /* F = a0 A + xi (a2 B + a1 C) is the norm to Fp2. */
    fp2_mul(&F, &a->c2, &B);
    fp2_mul(&t, &a->c1, &C);
    fp2_add(&F, &F, &t);
    fp2_mul_xi(&F, &F);
    fp2_mul(&t, &a->c0, &A);
    fp2_add(&F, &F, &t);
    fp2_inv(&F, &F);
    fp2_mul(&r->c0, &A, &F);
    fp2_mul(&r->c1, &B, &F);
    fp2_mul(&r->c2, &C, &F);
}

/* ------------------------------------------------------------------ */
/* Fp12                                                                 */
/* ------------------------------------------------------------------ */

static inline void fp12_set_one(fp12 *r)
{
    memset(r, 0, sizeof *r);
    r->c0.c0.c0 = FP_ONE;
}

TEMPLATE_STATIC bool fp12_eq(const fp12 *a, const fp12 *b)
{
    const fp2 *x = &a->c0.c0, *y = &b->c0.c0;
    for (int i = 0; i < 6; i++)
        if (!fp2_eq(&x[i], &y[i])) return false;
    return true;
}

TEMPLATE_STATIC bool fp12_is_one(const fp12 *a)
{
    fp12 one;
    fp12_set_one(&one);
    return fp12_eq(a, &one);
}

TEMPLATE_STATIC void fp12_mul(fp12 *r, const fp12 *a, const fp12 *b)
{
    fp6 t0, t1, s, u;
    fp6_mul(&t0, &a->c0, &b->c0);
    fp6_mul(&t1, &a->c1, &b->c1);
    fp6_add(&s, &a->c0, &a->c1);
    fp6_add(&u, &b->c0, &b->c1);
    fp6_mul(&s, &s, &u);
    fp6_sub(&s, &s, &t0);
    fp6_sub(&r->c1, &s, &t1);
    fp6_mul_v(&t1, &t1);
    fp6_add(&r->c0, &t0, &t1);
}

/* (a + b w)^2 = (a + b)(a + v b) - t - v t + 2 t w, with t = a b. */
TEMPLATE_STATIC void fp12_sqr(fp12 *r, const fp12 *a)
{
    fp6 t, s, u, vt;
    fp6_mul(&t, &a->c0, &a->c1);
    fp6_add(&s, &a->c0, &a->c1);
    fp6_mul_v(&u, &a->c1);
    fp6_add(&u, &u, &a->c0);
    fp6_mul(&s, &s, &u);
    fp6_mul_v(&vt, &t);
    fp6_sub(&s, &s, &t);
    fp6_sub(&r->c0, &s, &vt);
    fp6_add(&r->c1, &t, &t);
}

/* a^(p^6): w^(p^6) = -w. In the cyclotomic subgroup this is the inverse. */
static inline void fp12_conj(fp12 *r, const fp12 *a)
{
    r->c0 = a->c0;
    fp6_neg(&r->c1, &a->c1);
}

TEMPLATE_STATIC void fp12_inv(fp12 *r, const fp12 *a)
{
    /* (a0 + a1 w)^-1 = (a0 - a1 w) / (a0^2 - v a1^2) */
    fp6 t0, t1;
    fp6_sqr(&t0, &a->c0);
    fp6_sqr(&t1, &a->c1);
    fp6_mul_v(&t1, &t1);
    fp6_sub(&t0, &t0, &t1);
    fp6_inv(&t0, &t0);
    fp6_mul(&r->c0, &a->c0, &t0);
    fp6_mul(&t1, &a->c1, &t0);
    fp6_neg(&r->c1, &t1);
}

/* The coefficients of w^0..w^5 are c0.c0, c1.c0, c0.c1, c1.c1, c0.c2, c1.c2.
 * For an odd k, a^(p^k) conjugates each and multiplies the w^j one by
 * gamma[j-1] = xi^(j(p^k-1)/6). */
TEMPLATE_STATIC void fp12_frobenius_odd(fp12 *r, const fp12 *a, const fp2 gamma[5])
{
    fp2_conj(&r->c0.c0, &a->c0.c0);
    fp2_conj_mul(&r->c1.c0, &a->c1.c0, &gamma[0]);
    fp2_conj_mul(&r->c0.c1, &a->c0.c1, &gamma[1]);
    fp2_conj_mul(&r->c1.c1, &a->c1.c1, &gamma[2]);
    fp2_conj_mul(&r->c0.c2, &a->c0.c2, &gamma[3]);
    fp2_conj_mul(&r->c1.c2, &a->c1.c2, &gamma[4]);
}

/* For an even k the coefficients xi^(j(p^k-1)/6) lie in Fp and nothing is
 * conjugated. */
TEMPLATE_STATIC void fp12_frobenius_even(fp12 *r, const fp12 *a, const fp gamma[5])
{
    r->c0.c0 = a->c0.c0;
    fp2_mul_fp(&r->c1.c0, &a->c1.c0, &gamma[0]);
    fp2_mul_fp(&r->c0.c1, &a->c0.c1, &gamma[1]);
    fp2_mul_fp(&r->c1.c1, &a->c1.c1, &gamma[2]);
    fp2_mul_fp(&r->c0.c2, &a->c0.c2, &gamma[3]);
    fp2_mul_fp(&r->c1.c2, &a->c1.c2, &gamma[4]);
}

/* Squaring in Fp4 = Fp2[T]/(T^2 - xi): (s0 + s1 T)^2. */
static inline void fp4_sqr(fp2 *r0, fp2 *r1, const fp2 *s0, const fp2 *s1)
{
    fp2 t0, t1, t;
    fp2_sqr(&t0, s0);
    fp2_sqr(&t1, s1);
    fp2_add(&t, s0, s1);
    fp2_sqr(&t, &t);
    fp2_sub(&t, &t, &t0);
    fp2_sub(r1, &t, &t1);
    fp2_mul_xi(&t1, &t1);
    fp2_add(r0, &t0, &t1);
}

/* Granger-Scott squaring for the cyclotomic subgroup (after the easy part
 * of the final exponentiation). With T = w^3, Fp12 is Fp4[w]/(w^3 - T) and
 * an element is x0 + x1 w + x2 w^2 where x0 = g0 + g3 T, x1 = g1 + g4 T,
 * x2 = g2 + g5 T (g_k the w^k coefficient). For cyclotomic elements:
 *   x0' = 3 x0^2 - 2 conj(x0), x1' = 3 T x2^2 + 2 conj(x1),
 *   x2' = 3 x1^2 - 2 conj(x2)   (conj: T -> -T);
 * nine Fp2 squarings instead of a full Fp12 squaring. */
TEMPLATE_STATIC void fp12_cyclotomic_sqr(fp12 *r, const fp12 *a)
{
    const fp2 *g0 = &a->c0.c0, *g1 = &a->c1.c0, *g2 = &a->c0.c1;
    const fp2 *g3 = &a->c1.c1, *g4 = &a->c0.c2, *g5 = &a->c1.c2;
    fp2 a0, a1, b0, b1, c0, c1, t;
    fp4_sqr(&a0, &a1, g0, g3); /* x0^2 */
    fp4_sqr(&b0, &b1, g1, g4); /* x1^2 */
    fp4_sqr(&c0, &c1, g2, g5); /* x2^2 */
    fp12 o;
    /* x0': g0' = 3 a0 - 2 g0, g3' = 3 a1 + 2 g3 */
    fp2_sub(&t, &a0, g0);
    fp2_dbl(&t, &t);
    fp2_add(&o.c0.c0, &t, &a0);
    fp2_add(&t, &a1, g3);
    fp2_dbl(&t, &t);
    fp2_add(&o.c1.c1, &t, &a1);
    /* x1': T x2^2 = xi c1 + c0 T; g1' = 3 xi c1 + 2 g1, g4' = 3 c0 - 2 g4 */
    fp2_mul_xi(&c1, &c1);
    fp2_add(&t, &c1, g1);
    fp2_dbl(&t, &t);
    fp2_add(&o.c1.c0, &t, &c1);
    fp2_sub(&t, &c0, g4);
    fp2_dbl(&t, &t);
    fp2_add(&o.c0.c2, &t, &c0);
    /* x2': g2' = 3 b0 - 2 g2, g5' = 3 b1 + 2 g5 */
    fp2_sub(&t, &b0, g2);
    fp2_dbl(&t, &t);
    fp2_add(&o.c0.c1, &t, &b0);
    fp2_add(&t, &b1, g5);
    fp2_dbl(&t, &t);
    fp2_add(&o.c1.c2, &t, &b1);
    *r = o;
}

/* a^e, e given as `nlimbs` limbs, least significant first. */
TEMPLATE_STATIC void fp12_pow(fp12 *r, const fp12 *a, const uint64_t *e, size_t nlimbs)
{
    fp12 acc, base = *a;
    fp12_set_one(&acc);
    bool started = false;
    for (size_t i = nlimbs; i-- > 0;) {
        for (int b = 63; b >= 0; b--) {
            if (started) fp12_sqr(&acc, &acc);
            if ((e[i] >> b) & 1) {
                fp12_mul(&acc, &acc, &base);
                started = true;
            }
        }
    }
    *r = acc;
}

/* ------------------------------------------------------------------ */
/* Miller-loop steps on the twist                                       */
/* ------------------------------------------------------------------ */

/* The running point of the Miller loop: homogeneous projective coordinates
 * on the twist (x = X/Z, y = Y/Z). */
typedef struct { fp2 x, y, z; } twist_proj;

/* The G1 point P in the forms the line coefficients need. */
typedef struct {
    fp xp3;    /* 3 xP */
    fp neg_xp; /* -xP */
    fp yp;     /* yP */
    fp neg_yp; /* -yP */
} line_point;

/* A line through points of the twist, evaluated at P and scaled by a factor
 * in Fp2 (which the final exponentiation removes): its three non-zero
 * coefficients, the constant one and those carrying xP and yP. Where they
 * sit in Fp12 depends on the twist's type, so each curve places them. */
typedef struct { fp2 c, cx, cy; } line_coeffs;

TEMPLATE_STATIC void line_point_set(line_point *p, const fp *x, const fp *y)
{
    fp_dbl(&p->xp3, x);
    fp_add(&p->xp3, &p->xp3, x);
    fp_neg(&p->neg_xp, x);
    p->yp = *y;
    fp_neg(&p->neg_yp, y);
}

/* T <- 2T and the tangent at T (Costello-Lange-Naehrig; Aranha et al. 2011,
 * eq. 10), scaled by -2YZ: c = 3b'Z^2 - Y^2, cx = 3X^2, cy = -2YZ. */
TEMPLATE_STATIC void line_double(line_coeffs *l, twist_proj *T, const line_point *p)
{
    fp2 A, B, C, E, F, G, H, J, t, u;
    fp2_mul(&A, &T->x, &T->y);
    fp2_half(&A, &A);                 /* XY/2 */
    fp2_sqr(&B, &T->y);               /* Y^2 */
    fp2_sqr(&C, &T->z);               /* Z^2 */
    fp2_mul(&E, &C, &TOWER_TWIST_B3); /* 3b'Z^2 */
    fp2_dbl(&F, &E);
    fp2_add(&F, &F, &E);              /* 3E */
    fp2_add(&G, &B, &F);
    fp2_half(&G, &G);                 /* (B + F)/2 */
    fp2_add(&H, &T->y, &T->z);
    fp2_sqr(&H, &H);
    fp2_add(&t, &B, &C);
    fp2_sub(&H, &H, &t);              /* 2YZ */
    fp2_sqr(&J, &T->x);               /* X^2 */
    /* line */
    fp2_sub(&l->c, &E, &B);
    fp2_mul_fp(&l->cx, &J, &p->xp3);
    fp2_mul_fp(&l->cy, &H, &p->neg_yp);
    /* point: X3 = A (B - F), Y3 = G^2 - 3E^2, Z3 = B H */
    fp2_sub(&t, &B, &F);
    fp2_mul(&T->x, &A, &t);
    fp2_sqr(&t, &G);
    fp2_sqr(&u, &E);
    fp2_sub(&t, &t, &u);
    fp2_dbl(&u, &u);
    fp2_sub(&T->y, &t, &u);
    fp2_mul(&T->z, &B, &H);
}

/* T <- T + (x2, y2) (affine) and the chord through them (Aranha et al.
 * 2011, eq. 12). With theta = Y - y2 Z and lambda = X - x2 Z the line,
 * scaled by lambda, is c = theta x2 - lambda y2, cx = -theta, cy = lambda. */
TEMPLATE_STATIC void line_add(line_coeffs *l, twist_proj *T, const fp2 *x2, const fp2 *y2, const line_point *p)
{
    fp2 theta, lambda, C, D, E, F, G, H, t;
    fp2_mul(&t, y2, &T->z);
    fp2_sub(&theta, &T->y, &t);
    fp2_mul(&t, x2, &T->z);
    fp2_sub(&lambda, &T->x, &t);
    /* line */
    fp2_mul_fp(&l->cy, &lambda, &p->yp);
    fp2_mul_fp(&l->cx, &theta, &p->neg_xp);
    fp2_mul(&t, &theta, x2);
    fp2_mul(&C, &lambda, y2);
    fp2_sub(&l->c, &t, &C);
    /* point */
    fp2_sqr(&C, &theta);
    fp2_sqr(&D, &lambda);
    fp2_mul(&E, &lambda, &D);
    fp2_mul(&F, &T->z, &C);
    fp2_mul(&G, &T->x, &D);
    fp2_add(&H, &E, &F);
    fp2_dbl(&t, &G);
    fp2_sub(&H, &H, &t);
    fp2_mul(&T->x, &lambda, &H);
    fp2_sub(&t, &G, &H);
    fp2_mul(&t, &theta, &t);
    fp2_mul(&C, &T->y, &E);
    fp2_sub(&T->y, &t, &C);
    fp2_mul(&T->z, &T->z, &E);
}

/* ------------------------------------------------------------------ */
/* The operations both curves export                                    */
/* ------------------------------------------------------------------ */

void TOWER_PUBLIC(fp2_add)(fp2 *r, const fp2 *a, const fp2 *b) { fp2_add(r, a, b); }
void TOWER_PUBLIC(fp2_sub)(fp2 *r, const fp2 *a, const fp2 *b) { fp2_sub(r, a, b); }
void TOWER_PUBLIC(fp2_mul)(fp2 *r, const fp2 *a, const fp2 *b) { fp2_mul(r, a, b); }
void TOWER_PUBLIC(fp2_sqr)(fp2 *r, const fp2 *a) { fp2_sqr(r, a); }
void TOWER_PUBLIC(fp2_inv)(fp2 *r, const fp2 *a) { fp2_inv(r, a); }
bool TOWER_PUBLIC(fp2_eq)(const fp2 *a, const fp2 *b) { return fp2_eq(a, b); }

void TOWER_PUBLIC(fp12_one)(fp12 *r) { fp12_set_one(r); }
bool TOWER_PUBLIC(fp12_is_one)(const fp12 *a) { return fp12_is_one(a); }
bool TOWER_PUBLIC(fp12_eq)(const fp12 *a, const fp12 *b) { return fp12_eq(a, b); }
void TOWER_PUBLIC(fp12_mul)(fp12 *r, const fp12 *a, const fp12 *b) { fp12_mul(r, a, b); }
void TOWER_PUBLIC(fp12_sqr)(fp12 *r, const fp12 *a) { fp12_sqr(r, a); }
void TOWER_PUBLIC(fp12_inv)(fp12 *r, const fp12 *a) { fp12_inv(r, a); }
void TOWER_PUBLIC(fp12_conj)(fp12 *r, const fp12 *a) { fp12_conj(r, a); }
void TOWER_PUBLIC(fp12_pow)(fp12 *r, const fp12 *a, const uint64_t *e, size_t n) { fp12_pow(r, a, e, n); }

void TOWER_PUBLIC(pairing)(fp12 *r, const TOWER_PAIRING_G1 *p, const TOWER_PAIRING_G2 *q)
{
    TOWER_PUBLIC(miller_loop)(r, p, q, 1);
    TOWER_FINAL_EXP(r, r);
}

/* True when the product of e(p[i], q[i]) is 1. */
bool TOWER_PUBLIC(pairing_check)(const TOWER_PAIRING_G1 *p, const TOWER_PAIRING_G2 *q, size_t n)
{
    fp12 f;
    TOWER_PUBLIC(miller_loop)(&f, p, q, n);
    TOWER_FINAL_EXP(&f, &f);
    return fp12_is_one(&f);
}
