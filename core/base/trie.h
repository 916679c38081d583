/* Merkle-Patricia trie roots, computed in one pass from a set of key/value
 * pairs (no persistent trie: jitevm only ever needs roots). */
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

/* The empty trie root and keccak256(rlp([])) (the empty logs / ommers hash). */
extern const hash32 TRIE_EMPTY_ROOT;
extern const hash32 KECCAK_EMPTY_LIST;
/* keccak256 of the empty string: the code hash of an account without code. */
extern const hash32 KECCAK_EMPTY;

#endif
