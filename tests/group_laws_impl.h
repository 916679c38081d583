/* The group laws of one group of curve points, written once for the four
 * groups the tests check (BN254's and BLS12-381's G1 and G2, whose point
 * APIs differ only in their prefix): included once per group, after
 * defining
 *   GL_PREFIX        the point type, also the prefix of its functions
 *                    (GL_PREFIX##_add, _neg, _eq, _set_infinity, _is_infinity)
 *   GL_DBL(r, a)     doubling (the curves name it differently)
 *   GL_RANDOM(p)     a random point of the group (the test's generator, so
 *                    the cases are the ones the test has always drawn)
 * and, for a group with mixed (Jacobian plus affine) addition,
 *   GL_AFFINE        its affine point type (GL_PREFIX##_to_affine(aa, p),
 *                    GL_PREFIX##_affine_on_curve, GL_PREFIX##_add_affine)
 * It defines check_<GL_PREFIX>_laws(a, b): draws a, b and c (in that order)
 * and checks commutativity, associativity, the identity on either side,
 * the inverse, and that adding a point to itself is doubling; with
 * GL_AFFINE also that b's affine form is on the curve and mixed addition
 * agrees with addition, doubling and negation. a and b are left for the
 * caller's own checks. The macros are undefined at the end. */
#define GL_CAT_(x, y) x##y
#define GL_CAT(x, y) GL_CAT_(x, y)
#define GL_F(name) GL_CAT(GL_PREFIX, name)

static void GL_CAT(check_, GL_F(_laws))(GL_PREFIX *a, GL_PREFIX *b)
{
    GL_PREFIX c, x, y, o;
    GL_RANDOM(a);
    GL_RANDOM(b);
    GL_RANDOM(&c);
    GL_F(_set_infinity)(&o);
    GL_F(_add)(&x, a, b); /* commutativity */
    GL_F(_add)(&y, b, a);
    ck_assert(GL_F(_eq)(&x, &y));
    GL_F(_add)(&x, &x, &c); /* associativity */
    GL_F(_add)(&y, b, &c);
    GL_F(_add)(&y, a, &y);
    ck_assert(GL_F(_eq)(&x, &y));
    GL_F(_add)(&x, a, &o); /* the identity, on either side */
    ck_assert(GL_F(_eq)(&x, a));
    GL_F(_add)(&x, &o, a);
    ck_assert(GL_F(_eq)(&x, a));
    GL_F(_neg)(&y, a); /* the inverse */
    GL_F(_add)(&x, a, &y);
    ck_assert(GL_F(_is_infinity)(&x));
    GL_F(_add)(&x, a, a); /* adding a point to itself is doubling */
    GL_DBL(&y, a);
    ck_assert(GL_F(_eq)(&x, &y));
#ifdef GL_AFFINE
    GL_AFFINE aa; /* mixed addition and the affine round trip */
    GL_F(_to_affine)(&aa, b);
    ck_assert(GL_F(_affine_on_curve)(&aa));
    GL_F(_add_affine)(&x, a, &aa);
    GL_F(_add)(&y, a, b);
    ck_assert(GL_F(_eq)(&x, &y));
    GL_F(_to_affine)(&aa, a);
    GL_F(_add_affine)(&x, a, &aa);
    GL_DBL(&y, a);
    ck_assert(GL_F(_eq)(&x, &y));
    GL_F(_neg)(&y, a);
    GL_F(_add_affine)(&x, &y, &aa);
    ck_assert(GL_F(_is_infinity)(&x));
#endif
}

#undef GL_F
#undef GL_CAT
#undef GL_CAT_
#undef GL_PREFIX
#undef GL_DBL
#undef GL_RANDOM
#undef GL_AFFINE
