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
    GAS_LOG = 375,                  /* a LOGn's own cost, before topics and data */
    GAS_MEMORY_PER_WORD = 3,        /* memory: 3 per word + words^2 / 512 */
    MEMORY_QUAD_COEFF_DIV = 512,
};
/* The largest memory size whose cost fits 64 bits (0xffffffff words);
 * past it geth's memory cost fails with "gas uint64 overflow". */
#define MEMORY_GAS_SIZE_LIMIT 0x1FFFFFFFE0ULL

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

/* EIP-6110: the deposit contract's DepositEvent(bytes pubkey, bytes
 * withdrawal_credentials, bytes amount, bytes signature, bytes index), ABI
 * encoded: five offsets, then each field's length word and its value padded
 * to 32 bytes (48, 32, 8, 96 and 8 bytes), 576 bytes in all. A request is
 * the five values back to back. */
#define DEPOSIT_EVENT_SIGNATURE "DepositEvent(bytes,bytes,bytes,bytes,bytes)"
enum {
    DEPOSIT_EVENT_DATA_SIZE = 576,
    DEPOSIT_REQUEST_SIZE = 192, /* 48 + 32 + 8 + 96 + 8 */
};

/* EIP-7685 request types. */
enum {
    DEPOSIT_REQUEST_TYPE = 0x00,       /* EIP-6110 */
    WITHDRAWAL_REQUEST_TYPE = 0x01,    /* EIP-7002 */
    CONSOLIDATION_REQUEST_TYPE = 0x02, /* EIP-7251 */
};

/* The system contracts' deployed code, as their EIPs give it (the
 * deployment transaction's code less its constructor), for chains whose
 * genesis holds them (the dev chain; geth's dev mode predeploys the same
 * four with nonce 1). */
#define BEACON_ROOTS_CODE /* EIP-4788 */ \
    "3373fffffffffffffffffffffffffffffffffffffffe14604d57602036146024575f5ffd5b5f35801560495762001fff" \
    "810690815414603c575f5ffd5b62001fff01545f5260205ff35b5f5ffd5b62001fff42064281555f359062001fff0155" \
    "00"
#define HISTORY_STORAGE_CODE /* EIP-2935 */ \
    "3373fffffffffffffffffffffffffffffffffffffffe14604657602036036042575f35600143038111604257611fff81" \
    "430311604257611fff9006545f5260205ff35b5f5ffd5b5f35611fff60014303065500"
#define WITHDRAWAL_REQUEST_PREDEPLOY_CODE /* EIP-7002 */ \
    "3373fffffffffffffffffffffffffffffffffffffffe1460cb5760115f54807fffffffffffffffffffffffffffffffff" \
    "ffffffffffffffffffffffffffffffff146101f457600182026001905f5b5f8211156068578101908302848302900491" \
    "6001019190604d565b909390049250505036603814608857366101f457346101f4575f5260205ff35b34106101f45760" \
    "0154600101600155600354806003026004013381556001015f35815560010160203590553360601b5f5260385f601437" \
    "604c5fa0600101600355005b6003546002548082038060101160df575060105b5f5b8181146101835782810160030260" \
    "040181604c02815460601b8152601401816001015481526020019060020154807fffffffffffffffffffffffffffffff" \
    "ff00000000000000000000000000000000168252906010019060401c908160381c81600701538160301c816006015381" \
    "60281c81600501538160201c81600401538160181c81600301538160101c81600201538160081c816001015353600101" \
    "60e1565b910180921461019557906002556101a0565b90505f6002555f6003555b5f54807fffffffffffffffffffffff" \
    "ffffffffffffffffffffffffffffffffffffffffff14156101cd57505f5b6001546002828201116101e25750505f6101" \
    "e8565b01600290035b5f555f600155604c025ff35b5f5ffd"
#define CONSOLIDATION_REQUEST_PREDEPLOY_CODE /* EIP-7251 */ \
    "3373fffffffffffffffffffffffffffffffffffffffe1460d35760115f54807fffffffffffffffffffffffffffffffff" \
    "ffffffffffffffffffffffffffffffff1461019a57600182026001905f5b5f8211156068578101908302848302900491" \
    "6001019190604d565b9093900492505050366060146088573661019a573461019a575f5260205ff35b341061019a5760" \
    "0154600101600155600354806004026004013381556001015f358155600101602035815560010160403590553360601b" \
    "5f5260605f60143760745fa0600101600355005b6003546002548082038060021160e7575060025b5f5b818114610129" \
    "5782810160040260040181607402815460601b8152601401816001015481526020018160020154815260200190600301" \
    "54905260010160e9565b910180921461013b5790600255610146565b90505f6002555f6003555b5f54807fffffffffff" \
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffff141561017357505f5b600154600182820111610188" \
    "5750505f61018e565b01600190035b5f555f6001556074025ff35b5f5ffd"

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
