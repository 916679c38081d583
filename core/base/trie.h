/* Merkle-Patricia trie roots and proofs, computed in one pass from a set of
 * key/value pairs (no persistent trie: the trie is rebuilt from the pairs
 * each time, so a root or a proof costs a pass over every pair). */
#ifndef JITEVM_TRIE_H
#define JITEVM_TRIE_H

#include "base/types.h"

typedef struct {
    const uint8_t *key;
    size_t key_len;
    const uint8_t *value; /* non-empty; an empty value means "absent" and must not be passed */
    size_t value_len;
} trie_entry;

/* Root of the trie holding `n` entries (keys unique, any order: the function
 * sorts `entries` in place). The root of the empty trie is
 * keccak256(rlp("")) = 56e81f17...b421. */
void trie_root(trie_entry *entries, size_t n, hash32 *root);

/* A proof for one key (EIP-1186, as geth's trie.Prove gives it): the RLP
 * of every node on the path from the root towards the key, root first,
 * that its parent refers to by hash (nodes shorter than 32 bytes are
 * embedded in their parent and not listed apart), the root always. The
 * path ends at the key's leaf, or where the key would diverge from the
 * trie (a proof of absence). The empty trie has an empty proof. Node i is
 * data[start(i), ends[i]) with start(0) = 0, start(i) = ends[i - 1]. */
typedef struct {
    bytebuf data;
    size_t *ends;
    size_t count, cap;
} trie_proof;

/* Like trie_root, and also the proof of each of `n_keys` keys (any keys,
 * present or not, duplicates allowed) into proofs[0 .. n_keys), which the
 * caller zero-initialises and frees with trie_proof_free. */
void trie_prove(trie_entry *entries, size_t n, const uint8_t *const *keys, const size_t *key_lens, size_t n_keys,
                hash32 *root, trie_proof *proofs);
void trie_proof_free(trie_proof *p);
/* Node i of a proof. */
const uint8_t *trie_proof_node(const trie_proof *p, size_t i, size_t *len);

/* A growable set of 32-byte-keyed leaves whose keys and values live in one
 * arena: leaf i is the key at start[i], then its value up to start[i + 1]
 * (offsets, so that growing the arena invalidates nothing). What a root or
 * proof over a whole state is built from, one account's slots at a time. */
typedef struct {
    bytebuf arena;
    size_t *start;
    size_t count, cap;
    trie_entry *entries; /* filled by trie_leaves_entries */
    size_t entries_cap;
} trie_leaves;

void trie_leaves_add(trie_leaves *ls, const uint8_t key[32], const uint8_t *value, size_t value_len);
/* The leaves as entries for trie_root/trie_prove, valid until the next add. */
trie_entry *trie_leaves_entries(trie_leaves *ls);
void trie_leaves_clear(trie_leaves *ls); /* keeps the memory for reuse */
void trie_leaves_free(trie_leaves *ls);

/* The empty trie root and keccak256(rlp([])) (the empty logs / ommers hash). */
extern const hash32 TRIE_EMPTY_ROOT;
extern const hash32 KECCAK_EMPTY_LIST;
/* keccak256 of the empty string: the code hash of an account without code. */
extern const hash32 KECCAK_EMPTY;

/* ------------------------------------------------ tries built from pieces
 *
 * What a stored trie (schema/trie_store.c) rebuilds a changed part from:
 * its trie has fixed-length keys (32 bytes, 64 nibbles), so no branch holds
 * a value, and any set of two or more keys is summarised by its topmost
 * branch node: the node at their longest common prefix. A piece is either
 * a leaf (its whole key) or such an unchanged subtree (the branch's path and
 * RLP); the trie of a sorted list of pieces is the trie of all the keys
 * they cover. Paths are nibbles, one per byte (values 0..15). */
#define TRIE_KEY_NIBBLES 64

typedef struct {
    const uint8_t *path; /* a leaf's 64 nibbles, or the subtree's branch path (< 64) */
    size_t path_len;
    const uint8_t *data; /* a leaf's value (non-empty), or the branch node's RLP */
    size_t data_len;
    bool subtree;
} trie_piece;

/* Called for each branch node the build makes (not for a subtree piece's
 * own branch, which is unchanged): its path and its RLP, valid during the
 * call. */
typedef void (*trie_branch_fn)(void *ctx, const uint8_t *path, size_t path_len, const uint8_t *rlp, size_t rlp_len);

/* The root of the trie of `pieces` (sorted by path, none a prefix of
 * another, n > 0; the empty trie's root is TRIE_EMPTY_ROOT). */
void trie_root_pieces(const trie_piece *pieces, size_t n, trie_branch_fn on_branch, void *ctx, hash32 *root);

/* Node encodings, appended to `out`: a leaf node (the key's nibbles from
 * where the node starts, its value), an extension node (its nibbles, then a
 * reference to the branch node whose RLP is given). */
void trie_put_leaf_node(bytebuf *out, const uint8_t *nibbles, size_t n, const uint8_t *value, size_t value_len);
void trie_put_extension_node(bytebuf *out, const uint8_t *nibbles, size_t n, const uint8_t *branch, size_t branch_len);
/* Whether child `nibble` of a branch node (its RLP) is empty; false for a
 * malformed node (then the caller looks for the child and finds none). */
bool trie_branch_child_empty(const uint8_t *branch, size_t len, unsigned nibble);
/* A key's nibbles: out[0 .. 2 * len). */
void trie_key_nibbles(const uint8_t *key, size_t len, uint8_t *out);
/* Appends a node to a proof (for proofs gathered from stored nodes). */
void trie_proof_add(trie_proof *p, const uint8_t *node, size_t len);

#endif
