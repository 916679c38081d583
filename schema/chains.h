/* Chain definitions `jitevm init` starts a database from: the built-in
 * networks (mainnet, sepolia, holesky, hoodi, dev), or a geth genesis file. */
#ifndef JITEVM_CHAINS_H
#define JITEVM_CHAINS_H

#include "store.h"

/* The dev chain's funded account: the first account of the well-known
 * "test test test test test test test test test test test junk" mnemonic
 * (m/44'/60'/0'/0/0) that anvil and hardhat fund by default. Its private key
 * is public knowledge: for local development only. */
#define DEV_ACCOUNT_ADDRESS "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
#define DEV_ACCOUNT_PRIVATE_KEY "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
#define DEV_CHAIN_ID 1337

/* Blob-parameter-only forks a chain definition may carry (geth knows
 * BPO1..BPO5; a genesis file may name more). */
#define CHAIN_MAX_BLOB_FORKS 16

typedef struct {
    const char *name;
    chain_config config;
    blob_schedule blob[FORK_COUNT]; /* overrides; zeros: the fork's default */
    /* Blob-parameter-only forks (BPO1, BPO2, ...), in any order. */
    blob_fork bpo[CHAIN_MAX_BLOB_FORKS];
    size_t n_bpo;
    /* The genesis block as the head (number 0 unless a genesis file says
     * otherwise); chain_id is filled from config. */
    block_env head;
    bool has_genesis_hash;
    hash32 genesis_hash; /* stored as the head's hash, for BLOCKHASH and EIP-1898 */
    bool has_parent_hash;
    hash32 parent_hash; /* a genesis file's parentHash, when its number is not 0 */
    /* Accounts the chain starts with (the dev chain's; a genesis file's
     * come from its alloc instead). */
    const char *const *funded; /* hex addresses, NULL-terminated; may be NULL */
    u256 funded_balance;
    /* Whether the genesis holds the system contracts (EIP-4788, EIP-2935,
     * EIP-7002, EIP-7251) with their code and nonce 1, as geth's dev mode
     * puts them in its genesis (the dev chain's). */
    bool system_contracts;
    /* Whether `init` computes the genesis hash (when not known) from the
     * state it wrote and the genesis header geth would build (the dev
     * chain's and a genesis file's). */
    bool genesis_hash_from_state;
    /* The block numbers EIP-2124's fork id counts, when they are not the
     * schedule's: forks that change no EVM rule (DAO, the difficulty-bomb
     * delays) and the merge netsplit block instead of Paris's first block.
     * NULL: the schedule's own block-numbered activations. */
    const uint64_t *forkid_blocks;
    size_t n_forkid_blocks;
    /* EIP-6110's deposit contract (hex), NULL when the chain has none known. */
    const char *deposit_contract;
    /* A genesis file's: its config's depositContractAddress (geth: zero
     * when absent), its header's extraData, nonce and gasUsed (part of the
     * genesis hash), and every `...Block` activation of its config, as
     * EIP-2124's fork id counts them (used instead of forkid_blocks). */
    bool has_deposit_address;
    address deposit_address;
    uint8_t extra_data[STORE_GENESIS_EXTRA_MAX];
    size_t extra_data_len;
    uint64_t nonce, gas_used;
    uint64_t genesis_forkid_blocks[STORE_FORKID_BLOCKS_MAX];
    size_t n_genesis_forkid_blocks;
    bool has_genesis_forkid_blocks;
    /* What `init` tells the user about the state. */
    const char *note;
} chain_spec;

/* The built-in chain `name` ("mainnet", "sepolia", "holesky", "hoodi", "dev"); false
 * when there is none by that name. */
bool chain_builtin(const char *name, chain_spec *out);
/* The public network with this chain id ("mainnet" for 1), or NULL. */
const char *chain_builtin_by_chain_id(uint64_t chain_id);
/* "mainnet, sepolia, holesky, hoodi, dev", for messages. */
const char *chain_builtin_names(void);

/* A chain_spec with nothing scheduled but Frontier, chain id 0, and an empty
 * head: the starting point for reading a genesis file. */
void chain_spec_init_empty(chain_spec *spec, const char *name);

/* Writes the configuration, blob schedules, head, genesis hash and funded
 * accounts of `spec` (in the open transaction, or each in its own). */
bool chain_spec_write(store_conn *c, const chain_spec *spec, store_error *err);

#endif
