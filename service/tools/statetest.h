/* The conformance runner: state tests in the execution-spec-tests
 * `state_test` format (and the older ethereum/tests GeneralStateTests
 * format, which has the same shape), and the fixture loading it shares with
 * the benchmark runner. */
#ifndef JITEVM_STATETEST_H
#define JITEVM_STATETEST_H

#include <jansson.h>
#include <stdio.h>

#include "vm/evm.h"
#include "hexjson.h"
#include "state/memstate.h"
#include "vm/tx.h"

typedef struct {
    int fork;                 /* run only this fork; -1 for every fork */
    const char *filter;       /* run only cases whose file path or name contains this; NULL: all */
    bool json;                /* one JSON object per case result instead of failure lines */
    bool trace;               /* EIP-3155 trace to stderr (runs on one thread) */
    bool diff;                /* after a root mismatch, list how the state differs from post.state */
    int jobs;                 /* worker threads (>= 1) */
    int engine;               /* enum engine (jit.h); 0 = the interpreter */
    const char *pending_file; /* list of path substrings to skip; NULL: none */
    FILE *out;                /* results and the summary */
} statetest_options;

/* Runs every case of every .json file under `paths` (files or folders,
 * recursively). Prints each failure (or, with json, each result) and ends
 * with the line "N passed, N failed, N skipped". Returns 0 when nothing
 * failed, 1 when something did, 2 when a path or the pending file cannot be
 * read. */
int statetest_run(char *const *paths, size_t n_paths, const statetest_options *opts);

/* --- Fixture loading. */

/* Every ".json" file under each path, sorted; a path that is a file is taken
 * as is. Returns false (with err) when a path cannot be read. `skip_name`
 * (may be NULL) is a file name to leave out. */
typedef struct {
    char **paths;
    size_t count;
} file_list;
bool collect_json_files(char *const *paths, size_t n_paths, const char *skip_name, file_list *out,
                        hj_error *err);
void file_list_free(file_list *l);

/* Loads `pre` ({address: {nonce, balance, code, storage}}) into `m`. */
bool st_load_pre(const json_t *pre, memstate *m, hj_error *err);

/* The block environment of `env` under fork `f`; `config` (may be NULL)
 * gives chainid and blobSchedule, whose entry is looked up under
 * `fork_key`, the fork's name as the fixture writes it. */
bool st_load_block_env(const json_t *env, const json_t *config, enum fork f, const char *fork_key,
                       block_env *b, hj_error *err);

/* The transaction picked by the indexes (data, gas, value) from a fixture's
 * `transaction`. The transaction points into `storage`, which must be
 * released with tx_storage_free. The sender is `sender`, or derived from
 * `secretKey` when `sender` is absent. A well-formed field no transaction
 * can encode (a value beyond 256 bits) loads, with storage->unencodable
 * saying why the transaction is invalid; tx then holds zero there. */
typedef struct {
    bytebuf data;
    access_list_entry *access_list;
    hash32 *access_keys;
    hash32 *blob_hashes;
    authorization *authorizations;
    enum tx_error unencodable; /* TX_OK, or TX_RLP_INVALID_VALUE */
} tx_storage;
bool st_load_tx(const json_t *txj, size_t d, size_t g, size_t v, transaction *tx, tx_storage *storage,
                hj_error *err);
void tx_storage_free(tx_storage *s);

/* Gives the 256 blocks before `current_number` the hashes go-ethereum's
 * state test runner uses: keccak256 of the block number written in decimal.
 * (The EEST fixtures give no block hashes; the few that execute BLOCKHASH
 * pass with these.) */
void st_set_block_hashes(memstate *m, uint64_t current_number);

/* The EIP-3155 tracer: one JSON line per step to `out`. */
tracer eip3155_tracer(FILE *out);

#endif
