/* Account state in and out as JSON "alloc" objects:
 *   {"0x<address>": {"balance": Q, "nonce": Q, "code": "0x..", "storage": {"0x<key>": "0x<value>"}}}
 *
 * Import reads, streaming (constant memory however many slots):
 * - a geth genesis file ({"config": ..., "alloc": {...}, "timestamp": ...}),
 * - a bare alloc object (what dump writes),
 * - a state-test fixture ({"<case>": {"pre": {...}, "post": {...}}}): its
 *   `pre`, or the `state` of one post entry; a file of several cases needs
 *   the case's name,
 * - a single test case object ({"pre": ..., ...}).
 * Quantities (balance, nonce) are "0x" hex, decimal strings or JSON
 * integers; storage keys and values "0x" and 1 to 64 hex digits; addresses
 * 40 hex digits with or without "0x". Duplicate addresses (in any spelling)
 * and duplicate slots of one account are errors. An imported account
 * replaces the database's account of that address, storage included.
 * Everything is one transaction: all or nothing.
 *
 * Dump writes the canonical form (accounts by address, slots by key, fixed
 * spelling), so dump -> import -> dump gives the same bytes. */
#ifndef JITEVM_ALLOC_H
#define JITEVM_ALLOC_H

#include <stdio.h>

#include "chains.h"
#include "store.h"

typedef struct {
    uint64_t accounts, slots, code_bytes;
    size_t bytes_read; /* of the file */
} import_stats;

typedef struct {
    /* A state-test fixture: the case to take (NULL: the file must hold
     * exactly one), and `pre` (post_fork NULL) or post.<post_fork>[post_index].state. */
    const char *case_name;
    const char *post_fork;
    size_t post_index;
    /* Clear the whole state first (else the file's accounts are added to
     * it, replacing accounts of the same address). */
    bool replace;
    /* Non-zero: a genesis file whose config has another chain id is refused. */
    uint64_t expect_chain_id;
    /* Non-NULL: the file must be a geth genesis; its config, blob schedule
     * and block fields are read into it (for `init`). */
    chain_spec *genesis;
    /* The caller has a write transaction open (store_begin); the import
     * writes into it and neither commits nor rolls back. */
    bool in_transaction;
    /* Called now and then (about every 50 ms of work) and once at the end. */
    void (*progress)(void *ctx, size_t done_bytes, size_t total_bytes, const import_stats *st);
    void *progress_ctx;
} import_options;

/* Imports from text in memory; `name` names it in error messages. */
bool alloc_import_text(store_conn *c, const char *name, const char *text, size_t len, const import_options *o,
                       import_stats *st, store_error *err);
/* Imports a file (mapped, not read into memory). */
bool alloc_import_file(store_conn *c, const char *path, const import_options *o, import_stats *st,
                       store_error *err);

/* Writes every account (or only `only`; then false with a message when it
 * does not exist) as an alloc object. False on a database or write error. */
bool alloc_dump(store_conn *c, FILE *out, const address *only, store_error *err);

#endif
