/* Protocol constants: the numbers the EVM, the transaction rules and the
 * RPC layer's checks share, each defined here once, named after the
 * execution specs, with the EIP that introduced or changed it. An opcode's
 * base gas is not here: it is a column of the opcode table (vm/opcodes.c),
 * with each fork's change beside its EIP. */
#ifndef JITEVM_PARAMS_H
#define JITEVM_PARAMS_H

#include <stdint.h>

#define EVM_MAX_DEPTH 1024   /* nested call frames */
#define EVM_STACK_LIMIT 1024 /* words on one frame's stack */

/* Transaction intrinsic gas. */
enum {
    TX_BASE_COST = 21000,
    TX_CREATE_COST = 32000,
    TX_DATA_ZERO_COST = 4,
    TX_DATA_NONZERO_FRONTIER = 68,
    TX_DATA_NONZERO_ISTANBUL = 16,  /* EIP-2028 */
    TX_ACCESS_LIST_ADDRESS_COST = 2400, /* EIP-2930 */
    TX_ACCESS_LIST_KEY_COST = 1900,
    TX_FLOOR_PER_TOKEN = 10,        /* EIP-7623 */
    TX_STANDARD_PER_TOKEN = 4,
    PER_EMPTY_ACCOUNT_COST = 25000, /* EIP-7702 */
    PER_AUTH_BASE_COST = 12500,
};

/* Dynamic gas of the opcodes. */
enum {
    GAS_COPY_PER_WORD = 3,
    GAS_KECCAK_PER_WORD = 6,
    GAS_LOG_TOPIC = 375,
    GAS_LOG_DATA = 8,
    GAS_COLD_SLOAD = 2100,          /* EIP-2929 */
    GAS_COLD_ACCOUNT_ACCESS = 2600,
    GAS_WARM_ACCESS = 100,
    GAS_STORAGE_SET = 20000,
    GAS_STORAGE_UPDATE = 5000,
    GAS_CALL_VALUE = 9000,
    GAS_CALL_STIPEND = 2300,
    GAS_NEW_ACCOUNT = 25000,
    GAS_SELFDESTRUCT_REFUND = 24000,
    GAS_INITCODE_PER_WORD = 2,      /* EIP-3860 */
    GAS_CODE_DEPOSIT = 200,
};

/* Sizes. */
enum {
    MAX_CODE_SIZE = 24576,                 /* EIP-170 */
    MAX_INITCODE_SIZE = 2 * MAX_CODE_SIZE, /* EIP-3860 */
};

/* Blobs (EIP-4844) and their per-fork defaults; a chain's blobSchedule
 * (BPO forks) overrides the target, maximum and update fraction. */
enum {
    GAS_PER_BLOB = 131072,
    BLOB_HASH_VERSION_KZG = 0x01,          /* a versioned hash's first byte */
    OSAKA_MAX_BLOBS_PER_TX = 6,            /* EIP-7594 */
    CANCUN_BLOB_TARGET = 3,
    CANCUN_BLOB_MAX = 6,
    CANCUN_BLOB_UPDATE_FRACTION = 3338477,
    PRAGUE_BLOB_TARGET = 6,                /* EIP-7691 */
    PRAGUE_BLOB_MAX = 9,
    PRAGUE_BLOB_UPDATE_FRACTION = 5007716,
    /* Blob-parameter-only forks (EIP-7892), as mainnet, Sepolia, Holesky
     * and Hoodi schedule them (geth's DefaultBPO1BlobConfig/BPO2). */
    BPO1_BLOB_TARGET = 10,
    BPO1_BLOB_MAX = 15,
    BPO1_BLOB_UPDATE_FRACTION = 8346193,
    BPO2_BLOB_TARGET = 14,
    BPO2_BLOB_MAX = 21,
    BPO2_BLOB_UPDATE_FRACTION = 11684671,
};

/* The blocks BLOCKHASH can see: the 256 before the current one. */
#define BLOCKHASH_WINDOW 256

/* Fees (EIP-1559): the base fee moves by at most 1/8 per block towards the
 * target, half the gas limit. */
enum {
    BASE_FEE_MAX_CHANGE_DENOMINATOR = 8,
    ELASTICITY_MULTIPLIER = 2,
    BLOB_BASE_COST = 8192, /* EIP-7918 (Osaka): the blob fee's reserve price, 2^13 */
};

/* EIP-4788: the beacon roots contract keeps a ring of HISTORY_BUFFER_LENGTH
 * timestamps (slot t % length) and roots (slot t % length + length). */
#define BEACON_ROOTS_ADDRESS "0x000f3df6d732807ef1319fb7b8bb8522d0beac02"
enum { BEACON_ROOTS_HISTORY_BUFFER_LENGTH = 8191 };

/* The other system contracts (Prague), as EIP-7910 names them. */
#define HISTORY_STORAGE_ADDRESS "0x0000f90827f1c53a10cb7a02335b175320002935"                 /* EIP-2935 */
#define WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS "0x00000961ef480eb55e80d19ad83579a64c007002"    /* EIP-7002 */
#define CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS "0x0000bbddc7ce488642fb579f8b00f3a590007251" /* EIP-7251 */
/* EIP-6110's deposit contract, per network (a chain of a genesis file has none here). */
#define MAINNET_DEPOSIT_CONTRACT_ADDRESS "0x00000000219ab540356cbb839cbe05303d7705fa"
#define SEPOLIA_DEPOSIT_CONTRACT_ADDRESS "0x7f02c3e3c98b133055b8b348b2ac625669ed295d"
#define HOLESKY_DEPOSIT_CONTRACT_ADDRESS "0x4242424242424242424242424242424242424242"
#define HOODI_DEPOSIT_CONTRACT_ADDRESS "0x00000000219ab540356cbb839cbe05303d7705fa"

/* System calls (EIP-4788, EIP-2935): made at the start of a block from
 * SYSTEM_ADDRESS with SYSTEM_CALL_GAS, outside the block's gas. EIP-2935's
 * contract keeps the parent hashes of the last 8191 blocks. */
#define SYSTEM_ADDRESS "0xfffffffffffffffffffffffffffffffffffffffe"
#define SYSTEM_CALL_GAS 30000000
/* EIP-4895: withdrawal amounts are in gwei. */
#define GWEI 1000000000ULL
/* ERC-7528: the address standing for ETH in token-style Transfer logs
 * (eth_simulateV1's traceTransfers). */
#define ETH_TRANSFER_LOG_ADDRESS "0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"

#define OSAKA_TX_GAS_LIMIT_CAP ((uint64_t)1 << 24) /* EIP-7825 */

#endif
