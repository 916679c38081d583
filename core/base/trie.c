/* Merkle-Patricia trie roots (Yellow Paper appendix D), built bottom-up in
 * one pass over the sorted keys.
 *
 * After sorting, the entries under any node form a contiguous range, so a
 * node is "a range of entries plus the nibble depth they agree up to". Every
 * node is RLP-encoded straight into one shared buffer at the position where
 * its parent expects the reference to it; once complete, a node of 32 bytes
 * or more is replaced in place by the RLP string of its hash, a shorter one
 * stays embedded. Memory is thus one root-to-leaf path of nodes, and each
 * entry is visited once per branch above it.
 *
 * Proofs ride along the same pass. The keys to prove are sorted too, so the
 * ones whose path runs through a node are a contiguous range of them,
 * narrowed at each extension and branch exactly as the entries are. A node
 * with a non-empty range is on those keys' paths: when it is complete and
 * about to be replaced by its hash (or is the root), its RLP is appended to
 * each of their proofs. Nodes complete children first, so each proof is
 * gathered leaf-to-root and reversed at the end. With no keys the range is
 * always empty and the build is trie_root's. */
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
    /* The keys to prove: target_order[k] is the index (into keys, key_lens
     * and proofs) of the k-th key in sorted order. */
    const uint8_t *const *keys;
    const size_t *key_lens;
    const uint32_t *target_order;
    trie_proof *proofs;
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

/* Nibbles of the k-th key to prove (in sorted order). */
static inline size_t target_nibbles(const trie_builder *t, size_t k) { return 2 * t->key_lens[t->target_order[k]]; }

static inline unsigned target_nibble(const trie_builder *t, size_t k, size_t i)
{
    uint8_t byte = t->keys[t->target_order[k]][i >> 1];
    return (i & 1) ? (byte & 0x0f) : (byte >> 4);
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

static void put_reference(trie_builder *t, size_t lo, size_t hi, size_t depth, size_t tlo, size_t thi);

/* Appends the RLP of the node holding items [lo, hi), whose keys all agree
 * on their first `depth` nibbles; the keys to prove [tlo, thi) (sorted
 * order) agree with them on those nibbles too. */
static void put_node(trie_builder *t, size_t lo, size_t hi, size_t depth, size_t tlo, size_t thi)
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
        /* The keys to prove that follow the whole extension go on below:
         * being sorted, they are one run within [tlo, thi). */
        size_t below_lo = thi, below_hi = thi;
        for (size_t k = tlo; k < thi; k++) {
            bool follows = target_nibbles(t, k) >= common;
            for (size_t i = depth; follows && i < common; i++)
                follows = target_nibble(t, k, i) == item_nibble(t, first, i);
            if (follows) {
                if (below_lo == thi) below_lo = k;
                below_hi = k + 1;
            } else if (below_lo != thi) {
                break;
            }
        }
        put_reference(t, lo, hi, common, below_lo, below_hi);
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
    /* Keys to prove that end here go no further (they sort first). */
    size_t ti = tlo;
    while (ti < thi && target_nibbles(t, ti) == depth) ti++;
    for (unsigned nibble = 0; nibble < 16; nibble++) {
        size_t j = i, tj = ti;
        while (j < hi && item_nibble(t, &t->items[j], depth) == nibble) j++;
        while (tj < thi && target_nibble(t, tj, depth) == nibble) tj++;
        if (j > i)
            put_reference(t, i, j, depth + 1, ti, tj);
        else
            bytebuf_push(&t->out, RLP_EMPTY_STRING);
        i = j;
        ti = tj;
    }
    if (ends_here)
        rlp_put_bytes(&t->out, ends_here->value, ends_here->value_len);
    else
        bytebuf_push(&t->out, RLP_EMPTY_STRING);
    rlp_list_end(&t->out, mark);
}

static void record_node(trie_builder *t, size_t start, size_t tlo, size_t thi);

/* Appends how a parent refers to the node of [lo, hi): the node itself when
 * its RLP is shorter than 32 bytes, else the RLP string of its hash. */
static void put_reference(trie_builder *t, size_t lo, size_t hi, size_t depth, size_t tlo, size_t thi)
{
    size_t start = t->out.len;
    put_node(t, lo, hi, depth, tlo, thi);
    size_t node_len = t->out.len - start;
    if (node_len < TRIE_EMBED_LIMIT) return;
    record_node(t, start, tlo, thi);
    uint8_t hash[32];
    keccak256(t->out.data + start, node_len, hash);
    t->out.len = start;
    rlp_put_bytes(&t->out, hash, sizeof hash);
}

void trie_proof_add(trie_proof *p, const uint8_t *node, size_t len)
{
    if (p->count == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 8;
        p->ends = xrealloc(p->ends, p->cap * sizeof *p->ends);
    }
    bytebuf_append(&p->data, node, len);
    p->ends[p->count++] = p->data.len;
}

/* The node from `start` to the end of the output is on the path of the
 * keys to prove [tlo, thi): each of their proofs gets a copy. */
static void record_node(trie_builder *t, size_t start, size_t tlo, size_t thi)
{
    for (size_t k = tlo; k < thi; k++)
        trie_proof_add(&t->proofs[t->target_order[k]], t->out.data + start, t->out.len - start);
}

/* Gathered leaf first: put root first. */
static void proof_reverse(trie_proof *p)
{
    if (p->count < 2) return;
    bytebuf data = {0};
    size_t *ends = xmalloc(p->cap * sizeof *ends);
    bytebuf_reserve(&data, p->data.len);
    for (size_t n = 0; n < p->count; n++) {
        size_t i = p->count - 1 - n, len;
        const uint8_t *node = trie_proof_node(p, i, &len);
        bytebuf_append(&data, node, len);
        ends[n] = data.len;
    }
    bytebuf_free(&p->data);
    free(p->ends);
    p->data = data;
    p->ends = ends;
}

const uint8_t *trie_proof_node(const trie_proof *p, size_t i, size_t *len)
{
    size_t start = i ? p->ends[i - 1] : 0;
    *len = p->ends[i] - start;
    return p->data.data + start;
}

void trie_proof_free(trie_proof *p)
{
    bytebuf_free(&p->data);
    free(p->ends);
    memset(p, 0, sizeof *p);
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

static int compare_targets(const void *pa, const void *pb, void *builder)
{
    const trie_builder *t = builder;
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    size_t la = t->key_lens[a], lb = t->key_lens[b];
    int c = (la < lb ? la : lb) ? memcmp(t->keys[a], t->keys[b], la < lb ? la : lb) : 0;
    if (c != 0) return c;
    return (la > lb) - (la < lb);
}

static void build(trie_entry *entries, size_t n, trie_builder *t, size_t n_keys, hash32 *root)
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

    t->entries = entries;
    t->items = items;
    put_node(t, 0, present, 0, 0, n_keys);
    keccak256(t->out.data, t->out.len, root->b); /* the root is hashed whatever its size */
    if (n_keys) record_node(t, 0, 0, n_keys);      /* and always part of a proof */
    bytebuf_free(&t->out);
    bytebuf_free(&t->scratch);

    apply_order(entries, items, present);
    free(items);
}

void trie_root(trie_entry *entries, size_t n, hash32 *root)
{
    trie_builder t = {0};
    build(entries, n, &t, 0, root);
}

void trie_prove(trie_entry *entries, size_t n, const uint8_t *const *keys, const size_t *key_lens, size_t n_keys,
                hash32 *root, trie_proof *proofs)
{
    if (n_keys > UINT32_MAX) trie_fatal("more than 2^32 keys to prove");
    uint32_t *order = xmalloc((n_keys ? n_keys : 1) * sizeof *order);
    for (size_t k = 0; k < n_keys; k++) order[k] = (uint32_t)k;
    trie_builder t = {.keys = keys, .key_lens = key_lens, .target_order = order, .proofs = proofs};
    qsort_r(order, n_keys, sizeof *order, compare_targets, &t);
    build(entries, n, &t, n_keys, root);
    for (size_t k = 0; k < n_keys; k++) proof_reverse(&proofs[k]);
    free(order);
}

/* ---------------------------------------------------------- leaf sets */

void trie_leaves_add(trie_leaves *ls, const uint8_t key[32], const uint8_t *value, size_t value_len)
{
    if (ls->count == ls->cap) {
        ls->cap = ls->cap ? 2 * ls->cap : 256;
        ls->start = xrealloc(ls->start, ls->cap * sizeof *ls->start);
    }
    ls->start[ls->count++] = ls->arena.len;
    bytebuf_append(&ls->arena, key, 32);
    bytebuf_append(&ls->arena, value, value_len);
}

trie_entry *trie_leaves_entries(trie_leaves *ls)
{
    if (ls->count > ls->entries_cap) {
        ls->entries_cap = ls->count;
        free(ls->entries);
        ls->entries = xmalloc(ls->entries_cap * sizeof *ls->entries);
    }
    for (size_t i = 0; i < ls->count; i++) {
        size_t at = ls->start[i], end = i + 1 < ls->count ? ls->start[i + 1] : ls->arena.len;
        ls->entries[i] = (trie_entry){ls->arena.data + at, 32, ls->arena.data + at + 32, end - at - 32};
    }
    return ls->entries;
}

void trie_leaves_clear(trie_leaves *ls)
{
    ls->arena.len = 0;
    ls->count = 0;
}

void trie_leaves_free(trie_leaves *ls)
{
    bytebuf_free(&ls->arena);
    free(ls->start);
    free(ls->entries);
}

/* ------------------------------------------------ tries built from pieces */

/* Appends the hex-prefix encoding of `n` nibbles as an RLP string. */
static void put_nibble_path(bytebuf *out, const uint8_t *nibbles, size_t n, int leaf)
{
    uint8_t hp[1 + TRIE_KEY_NIBBLES / 2];
    if (n > TRIE_KEY_NIBBLES) trie_fatal("path too long");
    unsigned flags = (leaf ? 2u : 0u) | (unsigned)(n & 1);
    size_t len = 0, i = 0;
    hp[len++] = (uint8_t)(flags << 4 | ((n & 1) ? nibbles[i++] : 0));
    for (; i < n; i += 2) hp[len++] = (uint8_t)(nibbles[i] << 4 | nibbles[i + 1]);
    rlp_put_bytes(out, hp, len);
}

/* How a parent refers to the node whose RLP is given. */
static void put_node_reference(bytebuf *out, const uint8_t *node, size_t len)
{
    if (len < TRIE_EMBED_LIMIT) {
        rlp_put_raw(out, node, len);
        return;
    }
    uint8_t hash[32];
    keccak256(node, len, hash);
    rlp_put_bytes(out, hash, sizeof hash);
}

void trie_put_leaf_node(bytebuf *out, const uint8_t *nibbles, size_t n, const uint8_t *value, size_t value_len)
{
    size_t mark = rlp_list_begin(out);
    put_nibble_path(out, nibbles, n, 1);
    rlp_put_bytes(out, value, value_len);
    rlp_list_end(out, mark);
}

void trie_put_extension_node(bytebuf *out, const uint8_t *nibbles, size_t n, const uint8_t *branch, size_t branch_len)
{
    size_t mark = rlp_list_begin(out);
    put_nibble_path(out, nibbles, n, 0);
    put_node_reference(out, branch, branch_len);
    rlp_list_end(out, mark);
}

bool trie_branch_child_empty(const uint8_t *branch, size_t len, unsigned nibble)
{
    rlp_item list, item;
    if (rlp_decode_exact(branch, len, &list) != 0 || !list.is_list) return false;
    size_t pos = 0;
    for (unsigned i = 0; i <= nibble; i++)
        if (rlp_list_next(&list, &pos, &item) != 1) return false;
    return !item.is_list && item.payload_len == 0;
}

void trie_key_nibbles(const uint8_t *key, size_t len, uint8_t *out)
{
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = key[i] >> 4;
        out[2 * i + 1] = key[i] & 0x0f;
    }
}

typedef struct {
    const trie_piece *pieces;
    bytebuf out;
    trie_branch_fn on_branch;
    void *ctx;
} piece_builder;

static void put_piece_reference(piece_builder *b, size_t lo, size_t hi, size_t depth);

/* Appends the RLP of the node of pieces [lo, hi), which agree on their
 * first `depth` nibbles. */
static void put_piece_node(piece_builder *b, size_t lo, size_t hi, size_t depth)
{
    const trie_piece *first = &b->pieces[lo], *last = &b->pieces[hi - 1];
    if (hi - lo == 1) {
        if (!first->subtree) {
            trie_put_leaf_node(&b->out, first->path + depth, first->path_len - depth, first->data, first->data_len);
        } else if (first->path_len > depth) {
            trie_put_extension_node(&b->out, first->path + depth, first->path_len - depth, first->data,
                                    first->data_len);
        } else {
            bytebuf_append(&b->out, first->data, first->data_len);
        }
        return;
    }
    size_t limit = first->path_len < last->path_len ? first->path_len : last->path_len;
    size_t common = depth;
    while (common < limit && first->path[common] == last->path[common]) common++;
    if (common == limit) trie_fatal("a piece's path is a prefix of another's");
    size_t mark = rlp_list_begin(&b->out);
    if (common > depth) {
        put_nibble_path(&b->out, first->path + depth, common - depth, 0);
        put_piece_reference(b, lo, hi, common);
        rlp_list_end(&b->out, mark);
        return;
    }
    size_t i = lo;
    for (unsigned nibble = 0; nibble < 16; nibble++) {
        size_t j = i;
        while (j < hi && b->pieces[j].path[depth] == nibble) j++;
        if (j > i)
            put_piece_reference(b, i, j, depth + 1);
        else
            bytebuf_push(&b->out, RLP_EMPTY_STRING);
        i = j;
    }
    if (i != hi) trie_fatal("pieces out of order or a nibble above 15");
    bytebuf_push(&b->out, RLP_EMPTY_STRING); /* fixed-length keys: no value in a branch */
    rlp_list_end(&b->out, mark);
    if (b->on_branch)
        b->on_branch(b->ctx, first->path, depth, b->out.data + mark, b->out.len - mark);
}

static void put_piece_reference(piece_builder *b, size_t lo, size_t hi, size_t depth)
{
    size_t start = b->out.len;
    put_piece_node(b, lo, hi, depth);
    size_t len = b->out.len - start;
    if (len < TRIE_EMBED_LIMIT) return;
    uint8_t hash[32];
    keccak256(b->out.data + start, len, hash);
    b->out.len = start;
    rlp_put_bytes(&b->out, hash, sizeof hash);
}

void trie_root_pieces(const trie_piece *pieces, size_t n, trie_branch_fn on_branch, void *ctx, hash32 *root)
{
    if (n == 0) {
        *root = TRIE_EMPTY_ROOT;
        return;
    }
    piece_builder b = {.pieces = pieces, .on_branch = on_branch, .ctx = ctx};
    put_piece_node(&b, 0, n, 0);
    keccak256(b.out.data, b.out.len, root->b);
    bytebuf_free(&b.out);
}
