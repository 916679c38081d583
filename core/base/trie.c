/* Merkle-Patricia trie roots (Yellow Paper appendix D), built bottom-up in
 * one pass over the sorted keys.
 *
 * After sorting, the entries under any node form a contiguous range, so a
 * node is "a range of entries plus the nibble depth they agree up to". Every
 * node is RLP-encoded straight into one shared buffer at the position where
 * its parent expects the reference to it; once complete, a node of 32 bytes
 * or more is replaced in place by the RLP string of its hash, a shorter one
 * stays embedded. Memory is thus one root-to-leaf path of nodes, and each
 * entry is visited once per branch above it. */
#include "base/trie.h"

#include "base/keccak.h"
#include "base/rlp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const hash32 TRIE_EMPTY_ROOT = {{
    0x56, 0xe8, 0x1f, 0x17, 0x1b, 0xcc, 0x55, 0xa6,
    0xff, 0x83, 0x45, 0xe6, 0x92, 0xc0, 0xf8, 0x6e,
    0x5b, 0x48, 0xe0, 0x1b, 0x99, 0x6c, 0xad, 0xc0,
    0x01, 0x62, 0x2f, 0xb5, 0xe3, 0x63, 0xb4, 0x21,
}};

const hash32 KECCAK_EMPTY_LIST = {{
    0x1d, 0xcc, 0x4d, 0xe8, 0xde, 0xc7, 0x5d, 0x7a,
    0xab, 0x85, 0xb5, 0x67, 0xb6, 0xcc, 0xd4, 0x1a,
    0xd3, 0x12, 0x45, 0x1b, 0x94, 0x8a, 0x74, 0x13,
    0xf0, 0xa1, 0x42, 0xfd, 0x40, 0xd4, 0x93, 0x47,
}};

const hash32 KECCAK_EMPTY = {{
    0xc5, 0xd2, 0x46, 0x01, 0x86, 0xf7, 0x23, 0x3c,
    0x92, 0x7e, 0x7d, 0xb2, 0xdc, 0xc7, 0x03, 0xc0,
    0xe5, 0x00, 0xb6, 0x53, 0xca, 0x82, 0x27, 0x3b,
    0x7b, 0xfa, 0xd8, 0x04, 0x5d, 0x85, 0xa4, 0x70,
}};

/* A node reference this long or longer is a hash, shorter ones are embedded. */
#define TRIE_EMBED_LIMIT 32
#define RLP_EMPTY_STRING 0x80
/* Nibbles held inline in a sort_item. */
#define PREFIX_NIBBLES 16

/* What the sort and the build walk: the first 8 key bytes inline (big-endian,
 * zero-padded) and where the entry is. Nearly every comparison and every
 * nibble read above depth 16 is then served from this compact array instead
 * of chasing key pointers (at 1M random keys that halved the build time). */
typedef struct {
    uint64_t prefix;
    uint32_t index;   /* into the entries array */
    uint32_t key_len; /* bytes */
} sort_item;

typedef struct {
    const trie_entry *entries;
    const sort_item *items;
    bytebuf out;     /* the nodes under construction, root first */
    bytebuf scratch; /* one hex-prefix path at a time */
} trie_builder;

static inline size_t nibble_count(const sort_item *it) { return 2 * (size_t)it->key_len; }

static inline unsigned key_nibble(const trie_entry *e, size_t i)
{
    uint8_t byte = e->key[i >> 1];
    return (i & 1) ? (byte & 0x0f) : (byte >> 4);
}

/* Nibble i (< nibble_count) of an item's key. */
static inline unsigned item_nibble(const trie_builder *t, const sort_item *it, size_t i)
{
    if (i < PREFIX_NIBBLES) return (unsigned)(it->prefix >> (60 - 4 * i)) & 0x0f;
    return key_nibble(&t->entries[it->index], i);
}

static int compare_keys(const trie_entry *a, const trie_entry *b)
{
    size_t common = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = common ? memcmp(a->key, b->key, common) : 0;
    if (c != 0) return c;
    return (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

static int compare_items(const void *pa, const void *pb, void *entries)
{
    const sort_item *a = pa, *b = pb;
    if (a->prefix != b->prefix) return a->prefix < b->prefix ? -1 : 1;
    const trie_entry *e = entries;
    return compare_keys(&e[a->index], &e[b->index]);
}

static void trie_fatal(const char *why)
{
    fprintf(stderr, "jitevm: trie_root: %s\n", why);
    abort();
}

/* Appends the hex-prefix encoding of nibbles [from, to) of `e`'s key, as an
 * RLP string. The first nibble holds the flags: 2 for a leaf, 1 when the
 * path length is odd (then the first path nibble shares that byte). */
static void put_hex_prefix(trie_builder *t, const trie_entry *e, size_t from, size_t to, int leaf)
{
    size_t len = to - from;
    unsigned flags = (leaf ? 2u : 0u) | (unsigned)(len & 1);
    bytebuf *hp = &t->scratch;
    hp->len = 0;
    bytebuf_reserve(hp, 1 + len / 2);
    size_t i = from;
    if (len & 1)
        hp->data[hp->len++] = (uint8_t)(flags << 4 | key_nibble(e, i++));
    else
        hp->data[hp->len++] = (uint8_t)(flags << 4);
    if ((i & 1) == 0) { /* the rest is byte-aligned in the key */
        if (to > i) memcpy(hp->data + hp->len, e->key + i / 2, (to - i) / 2);
        hp->len += (to - i) / 2;
    } else {
        for (; i < to; i += 2)
            hp->data[hp->len++] = (uint8_t)(key_nibble(e, i) << 4 | key_nibble(e, i + 1));
    }
    rlp_put_bytes(&t->out, hp->data, hp->len);
}

static void put_reference(trie_builder *t, size_t lo, size_t hi, size_t depth);

/* Appends the RLP of the node holding items [lo, hi), whose keys all agree
 * on their first `depth` nibbles. */
static void put_node(trie_builder *t, size_t lo, size_t hi, size_t depth)
{
    const sort_item *first = &t->items[lo];
    size_t mark = rlp_list_begin(&t->out);

    if (hi - lo == 1) { /* leaf: [path, value] */
        const trie_entry *e = &t->entries[first->index];
        put_hex_prefix(t, e, depth, nibble_count(first), 1);
        rlp_put_bytes(&t->out, e->value, e->value_len);
        rlp_list_end(&t->out, mark);
        return;
    }

    /* Sorted, so the range's common prefix is that of its first and last key. */
    const sort_item *last = &t->items[hi - 1];
    size_t limit = nibble_count(first) < nibble_count(last) ? nibble_count(first) : nibble_count(last);
    size_t common = depth;
    if (depth < PREFIX_NIBBLES) {
        uint64_t diff = first->prefix ^ last->prefix;
        size_t same = diff ? (size_t)__builtin_clzll(diff) / 4 : PREFIX_NIBBLES;
        common = same < limit ? same : limit;
    }
    while (common < limit && item_nibble(t, first, common) == item_nibble(t, last, common)) common++;

    if (common > depth) { /* extension: [path, branch below it] */
        put_hex_prefix(t, &t->entries[first->index], depth, common, 0);
        put_reference(t, lo, hi, common);
        rlp_list_end(&t->out, mark);
        return;
    }

    /* Branch: sixteen children by the nibble at `depth`, then the value of
     * the key that ends here (it sorts first, being a prefix of the others). */
    size_t i = lo;
    const trie_entry *ends_here = NULL;
    if (nibble_count(first) == depth) {
        ends_here = &t->entries[first->index];
        i++;
        if (nibble_count(&t->items[i]) == depth) trie_fatal("duplicate key");
    }
    for (unsigned nibble = 0; nibble < 16; nibble++) {
        size_t j = i;
        while (j < hi && item_nibble(t, &t->items[j], depth) == nibble) j++;
        if (j > i)
            put_reference(t, i, j, depth + 1);
        else
            bytebuf_push(&t->out, RLP_EMPTY_STRING);
        i = j;
    }
    if (ends_here)
        rlp_put_bytes(&t->out, ends_here->value, ends_here->value_len);
    else
        bytebuf_push(&t->out, RLP_EMPTY_STRING);
    rlp_list_end(&t->out, mark);
}

/* Appends how a parent refers to the node of [lo, hi): the node itself when
 * its RLP is shorter than 32 bytes, else the RLP string of its hash. */
static void put_reference(trie_builder *t, size_t lo, size_t hi, size_t depth)
{
    size_t start = t->out.len;
    put_node(t, lo, hi, depth);
    size_t node_len = t->out.len - start;
    if (node_len < TRIE_EMBED_LIMIT) return;
    uint8_t hash[32];
    keccak256(t->out.data + start, node_len, hash);
    t->out.len = start;
    rlp_put_bytes(&t->out, hash, sizeof hash);
}

/* Moves entries[items[k].index] to position k for every k, following the
 * permutation's cycles; items[k].index is overwritten as a done mark. */
static void apply_order(trie_entry *entries, sort_item *items, size_t n)
{
    for (size_t start = 0; start < n; start++) {
        if (items[start].index == start) continue;
        trie_entry saved = entries[start];
        size_t to = start;
        for (;;) {
            size_t from = items[to].index;
            items[to].index = (uint32_t)to;
            if (from == start) {
                entries[to] = saved;
                break;
            }
            entries[to] = entries[from];
            to = from;
        }
    }
}

void trie_root(trie_entry *entries, size_t n, hash32 *root)
{
    /* An empty value means "absent": move any to the end and leave them out. */
    size_t present = 0;
    for (size_t i = 0; i < n; i++) {
        if (entries[i].value_len == 0) continue;
        if (i != present) {
            trie_entry tmp = entries[present];
            entries[present] = entries[i];
            entries[i] = tmp;
        }
        present++;
    }
    if (present == 0) {
        *root = TRIE_EMPTY_ROOT;
        return;
    }
    if (present > UINT32_MAX) trie_fatal("more than 2^32 entries");

    sort_item *items = xmalloc(present * sizeof *items);
    for (size_t i = 0; i < present; i++) {
        const trie_entry *e = &entries[i];
        if (e->key_len > UINT32_MAX / 2) trie_fatal("key too long");
        uint8_t head[8] = {0};
        memcpy(head, e->key, e->key_len < 8 ? e->key_len : 8);
        uint64_t prefix = 0;
        for (int b = 0; b < 8; b++) prefix = prefix << 8 | head[b];
        items[i] = (sort_item){prefix, (uint32_t)i, (uint32_t)e->key_len};
    }
    qsort_r(items, present, sizeof *items, compare_items, entries);

    trie_builder t = {.entries = entries, .items = items};
    put_node(&t, 0, present, 0);
    keccak256(t.out.data, t.out.len, root->b); /* the root is hashed whatever its size */
    bytebuf_free(&t.out);
    bytebuf_free(&t.scratch);

    apply_order(entries, items, present);
    free(items);
}
