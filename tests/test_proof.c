/* Merkle-Patricia proofs (trie_prove): every proof is walked by a verifier
 * written here from the Yellow Paper's node rules (appendix D), from the
 * root hash down, hash by hash, to the key's value or to the point where
 * the key leaves the trie; the proof must be used up exactly (no node
 * missing, none extra). The root must be trie_root's, which test_hashing
 * checks against published vectors. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "base/keccak.h"
#include "base/rlp.h"
#include "base/trie.h"

/* ---- the verifier ---- */

typedef struct {
    bool present;
    const uint8_t *value;
    size_t value_len;
} proven;

static unsigned nibble_at(const uint8_t *key, size_t i)
{
    return (i & 1) ? (key[i / 2] & 0x0f) : (key[i / 2] >> 4);
}

/* Walks `proof` from `root` along `key`; fails the test on any proof that
 * does not hold. */
static proven verify(const hash32 *root, const uint8_t *key, size_t key_len, const trie_proof *proof)
{
    proven out = {0};
    if (memcmp(root->b, TRIE_EMPTY_ROOT.b, 32) == 0) {
        ck_assert_uint_eq(proof->count, 0);
        return out;
    }
    size_t nibbles = 2 * key_len, depth = 0, used = 0;
    /* The reference to follow: a hash (next proof node) or an embedded node. */
    uint8_t want_hash[32];
    memcpy(want_hash, root->b, 32);
    bool by_hash = true;
    rlp_item node;
    for (;;) {
        if (by_hash) {
            ck_assert_msg(used < proof->count, "proof ends before the path does");
            size_t len;
            const uint8_t *raw = trie_proof_node(proof, used++, &len);
            uint8_t h[32];
            keccak256(raw, len, h);
            ck_assert_msg(memcmp(h, want_hash, 32) == 0, "proof node %zu does not hash to its reference", used - 1);
            ck_assert_int_eq(rlp_decode_exact(raw, len, &node), 0);
        }
        ck_assert(node.is_list);
        rlp_item items[17];
        size_t count = 0, pos = 0;
        while (count < 17 && rlp_list_next(&node, &pos, &items[count]) == 1) count++;
        ck_assert_msg(count == 17 || count == 2, "a node has 17 or 2 items, not %zu", count);
        rlp_item next;
        if (count == 17) {
            if (depth == nibbles) {
                ck_assert(!items[16].is_list);
                out.present = items[16].payload_len > 0;
                out.value = items[16].payload;
                out.value_len = items[16].payload_len;
                break;
            }
            next = items[nibble_at(key, depth++)];
            if (!next.is_list && next.payload_len == 0) break; /* absent */
        } else {
            ck_assert(!items[0].is_list && items[0].payload_len > 0);
            const uint8_t *hp = items[0].payload;
            unsigned flags = hp[0] >> 4;
            ck_assert_uint_le(flags, 3);
            bool leaf = flags & 2;
            size_t path_len = 2 * items[0].payload_len - 2 + (flags & 1);
            size_t skip = (flags & 1) ? 1 : 2; /* path nibbles start here in hp */
            bool follows = depth + path_len <= nibbles;
            for (size_t i = 0; follows && i < path_len; i++)
                follows = nibble_at(hp, skip + i) == nibble_at(key, depth + i);
            if (leaf) {
                if (follows && depth + path_len == nibbles) {
                    ck_assert(!items[1].is_list);
                    out.present = true;
                    out.value = items[1].payload;
                    out.value_len = items[1].payload_len;
                }
                break;
            }
            if (!follows) break; /* the key leaves the extension: absent */
            depth += path_len;
            next = items[1];
        }
        if (next.is_list) { /* embedded: its encoding is under 32 bytes */
            size_t whole = next.total_len;
            ck_assert_uint_lt(whole, 32);
            node = next;
            by_hash = false;
        } else {
            ck_assert_uint_eq(next.payload_len, 32);
            memcpy(want_hash, next.payload, 32);
            by_hash = true;
        }
    }
    ck_assert_msg(used == proof->count, "proof has %zu nodes, the path used %zu", proof->count, used);
    return out;
}

/* ---- helpers ---- */

/* Proves keys[0..nk) over entries[0..n) and checks each against the value
 * the entries give it (absent when none); the root against trie_root. */
static void check_proofs(trie_entry *entries, size_t n, const uint8_t *const *keys, const size_t *key_lens, size_t nk)
{
    hash32 root, want;
    trie_root(entries, n, &want);
    trie_proof *proofs = xcalloc(nk ? nk : 1, sizeof *proofs);
    trie_prove(entries, n, keys, key_lens, nk, &root, proofs);
    ck_assert_mem_eq(root.b, want.b, 32);
    for (size_t k = 0; k < nk; k++) {
        const trie_entry *match = NULL;
        for (size_t i = 0; i < n; i++)
            if (entries[i].value_len && entries[i].key_len == key_lens[k] &&
                memcmp(entries[i].key, keys[k], key_lens[k]) == 0)
                match = &entries[i];
        proven p = verify(&root, keys[k], key_lens[k], &proofs[k]);
        ck_assert_msg(p.present == (match != NULL), "key %zu: present %d, want %d", k, p.present, match != NULL);
        if (match) {
            ck_assert_uint_eq(p.value_len, match->value_len);
            ck_assert_mem_eq(p.value, match->value, p.value_len);
        }
        if (n && memcmp(root.b, TRIE_EMPTY_ROOT.b, 32) != 0) ck_assert_uint_ge(proofs[k].count, 1);
        trie_proof_free(&proofs[k]);
    }
    free(proofs);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* ---- tests ---- */

START_TEST(proof_empty_trie)
{
    const uint8_t key[32] = {1};
    const uint8_t *keys[] = {key};
    size_t lens[] = {32};
    trie_proof proof = {0};
    hash32 root;
    trie_prove(NULL, 0, keys, lens, 1, &root, &proof);
    ck_assert_mem_eq(root.b, TRIE_EMPTY_ROOT.b, 32);
    ck_assert_uint_eq(proof.count, 0);
    trie_proof_free(&proof);
}
END_TEST

/* A one-leaf trie whose root node is under 32 bytes: it is still the proof's
 * one node (the root is always listed). */
START_TEST(proof_small_root_is_listed)
{
    trie_entry e = {(const uint8_t *)"A", 1, (const uint8_t *)"b", 1};
    const uint8_t *keys[] = {(const uint8_t *)"A", (const uint8_t *)"B"};
    size_t lens[] = {1, 1};
    hash32 root;
    trie_proof proofs[2] = {0};
    trie_prove(&e, 1, keys, lens, 2, &root, proofs);
    for (int k = 0; k < 2; k++) {
        ck_assert_uint_eq(proofs[k].count, 1);
        size_t len;
        trie_proof_node(&proofs[k], 0, &len);
        ck_assert_uint_lt(len, 32);
    }
    ck_assert(verify(&root, keys[0], 1, &proofs[0]).present);
    ck_assert(!verify(&root, keys[1], 1, &proofs[1]).present);
    trie_proof_free(&proofs[0]);
    trie_proof_free(&proofs[1]);
}
END_TEST

/* Keys that are prefixes of others (values in branch slots), keys that
 * leave the trie inside an extension, before a leaf's end, past it, and at
 * an empty branch slot; the same key asked twice. */
START_TEST(proof_prefix_keys_and_absence)
{
    static const char *const pairs[][2] = {
        {"do", "verb"}, {"dog", "puppy"}, {"doge", "coin"}, {"horse", "stallion"},
        {"dogglesworth", "a long enough value to make its leaf be hashed on its own"},
        {"key1aa", "0123456789012345678901234567890123456789xxx"},
        {"key1", "0123456789012345678901234567890123456789Very_Long"},
        {"key2bb", "aval3"}, {"key2", "short"}, {"key3cc", "aval3"},
    };
    enum { N = sizeof pairs / sizeof pairs[0] };
    trie_entry e[N];
    for (int i = 0; i < N; i++)
        e[i] = (trie_entry){(const uint8_t *)pairs[i][0], strlen(pairs[i][0]), (const uint8_t *)pairs[i][1],
                            strlen(pairs[i][1])};
    static const char *const asked[] = {
        "do", "dog", "doge", "horse", "dogglesworth", "key1aa", "key1", "key2bb", "key2", "key3cc", /* present */
        "d", "dox", "dogg", "doges", "horses", "hor", "k", "key", "key1a", "key4", "zebra", "", "dog", "dog",
    };
    enum { K = sizeof asked / sizeof asked[0] };
    const uint8_t *keys[K];
    size_t lens[K];
    for (int k = 0; k < K; k++) {
        keys[k] = (const uint8_t *)asked[k];
        lens[k] = strlen(asked[k]);
    }
    check_proofs(e, N, keys, lens, K);
}
END_TEST

/* 2,000 random 32-byte keys (as the state trie's hashed keys) with values
 * of 1 to 40 bytes: every one proven present and 300 others absent, in one
 * pass; and subsets proven alone give the same proofs. */
START_TEST(proof_random_state_like)
{
    enum { N = 2000, ABSENT = 300, K = N + ABSENT };
    uint8_t (*key_bytes)[32] = xmalloc(K * sizeof *key_bytes);
    uint8_t (*values)[40] = xmalloc(N * sizeof *values);
    trie_entry *e = xmalloc(N * sizeof *e);
    const uint8_t **keys = xmalloc(K * sizeof *keys);
    size_t *lens = xmalloc(K * sizeof *lens);
    for (int i = 0; i < K; i++) {
        for (int b = 0; b < 32; b += 8) {
            uint64_t r = rng();
            memcpy(key_bytes[i] + b, &r, 8);
        }
        /* Some absent keys share a long prefix with a present one. */
        if (i >= N && i % 3 == 0) {
            memcpy(key_bytes[i], key_bytes[i - N], 32);
            key_bytes[i][31 - (i % 5)] ^= 0x10;
        }
        keys[i] = key_bytes[i];
        lens[i] = 32;
    }
    for (int i = 0; i < N; i++) {
        for (int b = 0; b < 40; b++) values[i][b] = (uint8_t)rng();
        e[i] = (trie_entry){key_bytes[i], 32, values[i], 1 + (size_t)(rng() % 40)};
    }
    check_proofs(e, N, keys, lens, K);

    /* One key alone gets the same proof as among all the others. */
    trie_proof *all = xcalloc(K, sizeof *all);
    hash32 root;
    trie_prove(e, N, keys, lens, K, &root, all);
    for (int k = 0; k < K; k += 97) {
        trie_proof alone = {0};
        hash32 r1;
        trie_prove(e, N, &keys[k], &lens[k], 1, &r1, &alone);
        ck_assert_uint_eq(alone.count, all[k].count);
        ck_assert_uint_eq(alone.data.len, all[k].data.len);
        ck_assert_mem_eq(alone.data.data, all[k].data.data, alone.data.len);
        trie_proof_free(&alone);
    }
    for (int k = 0; k < K; k++) trie_proof_free(&all[k]);
    free(all);
    free(key_bytes);
    free(values);
    free(e);
    free(keys);
    free(lens);
}
END_TEST

/* Two keys sharing 62 nibbles: an extension, a branch, two leaves, whose
 * proofs hold the root, and the leaf when the leaf is hashed (its RLP is 32
 * bytes or more) or nothing more when it is embedded in the branch. */
START_TEST(proof_embedded_and_hashed_leaves)
{
    uint8_t k1[32] = {0}, k2[32] = {0};
    k1[31] = 0x45;
    k2[31] = 0x46;
    const uint8_t *keys[] = {k1, k2};
    size_t lens[] = {32, 32};
    /* Short values: each leaf's RLP is under 32 bytes, embedded. */
    trie_entry small[] = {{k1, 32, (const uint8_t *)"x", 1}, {k2, 32, (const uint8_t *)"y", 1}};
    trie_proof proofs[2] = {0};
    hash32 root;
    trie_prove(small, 2, keys, lens, 2, &root, proofs);
    for (int k = 0; k < 2; k++) {
        ck_assert(verify(&root, keys[k], 32, &proofs[k]).present);
        trie_proof_free(&proofs[k]);
    }
    /* Long values: leaves hashed, so they are listed. */
    static const char big[] = "a value of more than thirty-two bytes, hashed";
    trie_entry large[] = {{k1, 32, (const uint8_t *)big, sizeof big - 1}, {k2, 32, (const uint8_t *)big, sizeof big - 1}};
    trie_prove(large, 2, keys, lens, 2, &root, proofs);
    for (int k = 0; k < 2; k++) {
        ck_assert(verify(&root, keys[k], 32, &proofs[k]).present);
        ck_assert_uint_ge(proofs[k].count, 2);
        trie_proof_free(&proofs[k]);
    }
    check_proofs(small, 2, keys, lens, 2);
    check_proofs(large, 2, keys, lens, 2);
}
END_TEST

/* trie_prove with no keys is trie_root. */
START_TEST(proof_no_keys_is_root)
{
    static const char *const words[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"};
    trie_entry e[8];
    for (int i = 0; i < 8; i++)
        e[i] = (trie_entry){(const uint8_t *)words[i], strlen(words[i]), (const uint8_t *)words[7 - i], strlen(words[7 - i])};
    hash32 a, b;
    trie_root(e, 8, &a);
    trie_prove(e, 8, NULL, NULL, 0, &b, NULL);
    ck_assert_mem_eq(a.b, b.b, 32);
}
END_TEST

int main(void)
{
    return TEST_RUN("proof",
        TEST_GROUP("prove", 60, proof_empty_trie, proof_small_root_is_listed, proof_prefix_keys_and_absence,
            proof_random_state_like, proof_embedded_and_hashed_leaves, proof_no_keys_is_root));
}
