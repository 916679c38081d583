/* A block header as a JSON-RPC node gives it (eth_getBlockByNumber's
 * result, geth's field names): the fields a head block needs, read into a
 * block_env with the block's hash and parent hash. Used by `import --head`
 * and by `init --fork-url`. */
#ifndef JITEVM_BLOCK_HEADER_H
#define JITEVM_BLOCK_HEADER_H

#include <jansson.h>
#include <stdbool.h>

#include "hexjson.h"
#include "vm/evm.h"

typedef struct {
    block_env env; /* chain_id and the blob schedule are left for the store */
    hash32 hash;
    hash32 parent_hash;
    bool has_parent_beacon_root;
    hash32 parent_beacon_root;
    uint64_t gas_used, blob_gas_used; /* what the block used (0 when absent) */
} block_header;

/* Reads `v`: a block object, or a JSON-RPC response holding one in
 * "result". Required: number, hash, parentHash, timestamp, gasLimit, miner;
 * the others (difficulty, mixHash, baseFeePerGas, excessBlobGas,
 * parentBeaconBlockRoot, gasUsed, blobGasUsed) read as zero when absent. A null result (no such
 * block) and an error response are errors. */
bool block_header_from_json(const json_t *v, block_header *out, hj_error *err);



#include "store.h"

/* Writes `v` (one block as above, or an array of them: a batch response)
 * into the database in one transaction: the highest-numbered block becomes
 * the head (its hash and parent hash with it), every other block's hash is
 * kept at its number (those BLOCKHASH cannot reach from the head are
 * dropped), with what the head used of its gas (store_set_head_usage).
 * The chain id stays the database's. *head gets the new head. */
bool block_headers_store(store_conn *c, const json_t *v, block_header *head, store_error *err);
#endif
