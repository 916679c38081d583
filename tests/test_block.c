/* Block execution (core/vm/block.c): the header hash, receipts root and
 * bloom checked against a chain anvil mined (Prague: blocks 2 and 3 of a
 * fresh `anvil --hardfork prague`, a creation that logs and a transfer);
 * the EIP-1559 base fee against the same chain; the system calls (EIP-4788,
 * EIP-2935) with stand-in contracts that record what they were called with;
 * transactions with the block's cumulative gas; withdrawals; geth's
 * NoBaseFee; and the ERC-7528 transfer logs. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "hexjson.h"
#include "base/keccak.h"
#include "base/params.h"
#include "base/trie.h"
#include "state/memstate.h"
#include "vm/block.h"


static const char BLOCK2_BLOOM[] =
    "0x00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000020000000000000000000000002000000000000000000000000000002000000000400000000000000000000000"
    "0000000000000000000000000000000000000000010000000000000000000000000000000000000000000000020000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000040000000000000000000000000000008000000000000000000000000"
    "000000000000000000000080000000000000000000000000000000000000000000";

/* A genesis header with extraData and a proof-of-work difficulty: the
 * execution-apis test chain's block 0 (tests/genesis.json; geth's answer
 * in tests/eth_getBlockByNumber/get-genesis.io: stateRoot 0xdc43...59fc,
 * the root `jitevm root` gives that genesis' alloc too, and hash
 * 0x44fd...3d99). */
START_TEST(test_genesis_header_hash_matches_geth)
{
    static const uint8_t hivechain[] = "hivechain";
    block_header_fields h = {.fork = FORK_HOMESTEAD};
    h.state_root = test_hash("0xdc43f460541a253c0f64b6943ef83fa3bd601699a255622f088d46f7fde359fc");
    h.transactions_root = TRIE_EMPTY_ROOT;
    h.receipts_root = TRIE_EMPTY_ROOT;
    h.difficulty = u256_from_u64(0x20000);
    h.gas_limit = 0x5f5e100;
    h.extra_data = hivechain;
    h.extra_data_len = sizeof hivechain - 1;
    hash32 got, want = test_hash("0x44fd89d504659cd58f48f4796b77a7e7012cf296a2409afa2f6c3cb99b5b3d99");
    block_header_hash(&h, &got);
    ck_assert_hash_eq(got, want);
    /* The nonce is the 8 bytes after mixHash. */
    h.nonce = 0x42;
    bytebuf rlp = {0};
    block_header_rlp(&h, &rlp);
    ck_assert_uint_ge(rlp.len, 9);
    ck_assert_uint_eq(rlp.data[rlp.len - 9], 0x88);
    ck_assert_uint_eq(rlp.data[rlp.len - 1], 0x42);
    bytebuf_free(&rlp);
}
END_TEST

/* An Osaka genesis header (every fork from block 0, as the dev chain's):
 * anvil 1.7.1 started with `--init` on the dev chain's genesis (alloc from
 * `jitevm dump`, chain id 1337, 30M gas, base fee 1 gwei) gives block 0
 * these fields, with the empty trie's root as its stateRoot (anvil does
 * not hash the genesis state), and this hash. */
START_TEST(test_osaka_genesis_header_matches_anvil)
{
    block_header_fields h = {.fork = FORK_OSAKA};
    h.state_root = TRIE_EMPTY_ROOT;
    h.transactions_root = TRIE_EMPTY_ROOT;
    h.receipts_root = TRIE_EMPTY_ROOT;
    h.gas_limit = 30000000;
    h.base_fee = u256_from_u64(1000000000);
    h.withdrawals_root = TRIE_EMPTY_ROOT;
    h.requests_hash = BLOCK_EMPTY_REQUESTS_HASH;
    hash32 got, want = test_hash("0x053651de1bc19978a3cbb4d999a67e40c667942f9bacd899d30b77120013f5ca");
    block_header_hash(&h, &got);
    ck_assert_hash_eq(got, want);
}
END_TEST

/* Block 3 of the anvil chain: every header field, and the hash anvil gave. */
START_TEST(test_header_hash_matches_a_mined_block)
{
    block_header_fields h = {0};
    h.fork = FORK_PRAGUE;
    h.parent_hash = test_hash("0x104f09d3a21f7f79e2cf14c0674c5180754accb8484e12ea79db13b8b0ffc8be");
    h.state_root = test_hash("0x9ba4116b3c641c079337ee2401526980d09c96abc41b67aa102fc43dc16c70ff");
    h.transactions_root = test_hash("0xf22958d03d993e43db6e365163ae7f5344bd2f9cf60e721b36c55e5194f5ed43");
    h.receipts_root = test_hash("0x056b23fbba480696b65fe5a59b8f2148a1299103c4f57df839233af2cf4ca2d2");
    h.number = 3;
    h.gas_limit = 30000000;
    h.gas_used = 21000;
    h.timestamp = 0x6b10fd8a;
    h.mix_hash = test_hash("0x9016616d7eb534cce120f8b269e549dcc32a692fd4255ac3d3d1584f80dea3dd");
    h.base_fee = test_word("0x2da89626");
    block_list_root(NULL, 0, &h.withdrawals_root);
    h.requests_hash = BLOCK_EMPTY_REQUESTS_HASH;
    hash32 got, want = test_hash("0x1cebc2a5e61f5242f53f099ce7ed581fe648834a5d7c4c773535ef9396bb9962");
    block_header_hash(&h, &got);
    ck_assert_hash_eq(got, want);
    ck_assert_hash_eq(h.withdrawals_root, test_hash("0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"));
}
END_TEST

/* Block 3's one receipt: a legacy transfer. */
START_TEST(test_receipts_root_of_a_legacy_transfer)
{
    block_receipt r = {.tx_type = 0, .status = EXEC_SUCCESS, .cumulative_gas_used = 21000};
    bytebuf enc = {0};
    block_receipt_encode(&r, &enc);
    hash32 root;
    block_list_root(&enc, 1, &root);
    ck_assert_hash_eq(root, test_hash("0x056b23fbba480696b65fe5a59b8f2148a1299103c4f57df839233af2cf4ca2d2"));
    bytebuf_free(&enc);
}
END_TEST

/* Block 2's one receipt: a type-2 creation whose constructor logs
 * log2(0x2a, 0xaa, 0xbb); its root and its bloom. */
START_TEST(test_receipts_root_and_bloom_with_a_log)
{
    log_entry l = {.addr = test_address("0x5fbdb2315678afecb367f032d93f642f64180aa3"), .n_topics = 2};
    l.topics[0] = test_hash("0x00000000000000000000000000000000000000000000000000000000000000aa");
    l.topics[1] = test_hash("0x00000000000000000000000000000000000000000000000000000000000000bb");
    uint8_t data[32] = {0};
    data[31] = 0x2a;
    l.data = data;
    l.data_len = 32;
    block_receipt r = {.tx_type = 2, .status = EXEC_SUCCESS, .cumulative_gas_used = 0xd553, .logs = &l, .n_logs = 1};
    block_bloom_add(r.bloom, l.addr.b, 20);
    block_bloom_add(r.bloom, l.topics[0].b, 32);
    block_bloom_add(r.bloom, l.topics[1].b, 32);
    bytebuf want_bloom = {0};
    ck_assert(hex_to_bytes(BLOCK2_BLOOM, &want_bloom));
    ck_assert_uint_eq(want_bloom.len, 256);
    ck_assert_mem_eq(r.bloom, want_bloom.data, 256);
    bytebuf enc = {0};
    block_receipt_encode(&r, &enc);
    hash32 root;
    block_list_root(&enc, 1, &root);
    ck_assert_hash_eq(root, test_hash("0x0ca20a0b5d73f85a1c6be73e9ccf76bc980c0ccf8e0dd6d7bee8a14914df1b13"));
    bytebuf_free(&enc);
    bytebuf_free(&want_bloom);
}
END_TEST

/* A simulated call's transaction hash as geth gives it (execution-apis'
 * ethSimulate-eth-send-should-produce-logs: chain 0xc72dd9d5e883e, a
 * 1000-wei transfer with the 50M gas cap, no fee fields). */
START_TEST(test_unsigned_transaction_hash)
{
    transaction tx = {.type = 2, .has_to = true, .to = test_address("0xc100000000000000000000000000000000000000")};
    tx.gas_limit = u256_from_u64(50000000);
    tx.value = u256_from_u64(1000);
    u256 chain_id = test_word("0xc72dd9d5e883e");
    bytebuf enc = {0};
    block_tx_encode(&tx, &chain_id, &enc);
    hash32 got;
    keccak256(enc.data, enc.len, got.b);
    ck_assert_hash_eq(got, test_hash("0xf1c5abb08809ef760f87aeabe7a87284c60797192dab6d2f0d26c27c9c038e9d"));
    bytebuf_free(&enc);
}
END_TEST

/* EIP-1559 on the same chain: block 1 (1 gwei, empty) -> block 2, block 2
 * (0xd553 of 30M used) -> block 3; and the rule's edges. */
START_TEST(test_next_base_fee)
{
    block_env parent = {.gas_limit = 30000000, .base_fee = test_word("0x3b9aca00")};
    u256 next = block_next_base_fee(&parent, 0), want = test_word("0x342770c0");
    ck_assert(u256_eq(&next, &want));
    parent.base_fee = want;
    next = block_next_base_fee(&parent, 0xd553);
    want = test_word("0x2da89626");
    ck_assert(u256_eq(&next, &want));
    /* At the target: unchanged. Full: +1/8. Tiny fee above the target: +1. */
    next = block_next_base_fee(&parent, 15000000);
    ck_assert(u256_eq(&next, &parent.base_fee));
    parent.base_fee = u256_from_u64(800);
    next = block_next_base_fee(&parent, 30000000);
    ck_assert_uint_eq(next.w[0], 900);
    parent.base_fee = u256_from_u64(7);
    next = block_next_base_fee(&parent, 15000001);
    ck_assert_uint_eq(next.w[0], 8);
}
END_TEST

START_TEST(test_next_excess_blob_gas)
{
    block_env parent = {0};
    block_env_default_blob_schedule(&parent, FORK_PRAGUE);
    ck_assert_uint_eq(block_next_excess_blob_gas(&parent, FORK_PRAGUE, 0), 0);
    /* Prague targets 6 blobs: 9 used leaves 3 blobs' worth of excess. */
    ck_assert_uint_eq(block_next_excess_blob_gas(&parent, FORK_PRAGUE, 9 * GAS_PER_BLOB), 3 * GAS_PER_BLOB);
    parent.excess_blob_gas = 2 * GAS_PER_BLOB;
    ck_assert_uint_eq(block_next_excess_blob_gas(&parent, FORK_PRAGUE, 3 * GAS_PER_BLOB), 0);
    ck_assert_uint_eq(block_next_excess_blob_gas(&parent, FORK_PRAGUE, 6 * GAS_PER_BLOB), 2 * GAS_PER_BLOB);
}
END_TEST

/* ---- a small world on a memstate ---- */

static memstate *world;
static state_backend world_backend;
static state *st;
static const address SENDER = {{[19] = 0xaa}};

static block_env block_at(uint64_t number, uint64_t timestamp)
{
    block_env env = {.number = number, .timestamp = timestamp, .gas_limit = 100000, .chain_id = u256_from_u64(1)};
    block_env_default_blob_schedule(&env, FORK_PRAGUE);
    return env;
}

static void put_code(const address *a, const char *hex)
{
    bytebuf code = {0};
    ck_assert(hex_to_bytes(hex, &code));
    u256 zero = u256_zero();
    memstate_put_account(world, a, 1, &zero, code.data, code.len);
    bytebuf_free(&code);
}

static void world_setup(void)
{
    world = memstate_new();
    u256 funds = test_word("0xde0b6b3a7640000");
    memstate_put_account(world, &SENDER, 0, &funds, NULL, 0);
    world_backend = memstate_backend(world);
    st = state_new(&world_backend);
}

static void world_teardown(void)
{
    state_free(st);
    memstate_free(world);
}

static transaction transfer_to(const address *to, uint64_t value, uint64_t gas, uint64_t nonce)
{
    transaction tx = {.type = 2, .sender = SENDER, .has_to = true, .to = *to};
    tx.value = u256_from_u64(value);
    tx.gas_limit = u256_from_u64(gas);
    tx.nonce = u256_from_u64(nonce);
    return tx;
}

static u256 slot_of(const address *a, uint64_t key)
{
    u256 k = u256_from_u64(key);
    return state_get_storage(st, a, &k);
}

/* Stand-ins at the system contracts' addresses record their input and
 * caller: beacon roots sstore(timestamp, input) and sstore(1, caller);
 * history sstore(number, input). */
START_TEST(test_system_calls)
{
    address beacon = test_address(BEACON_ROOTS_ADDRESS), history = test_address(HISTORY_STORAGE_ADDRESS);
    put_code(&beacon, "0x60003542553360015500");
    put_code(&history, "0x600035435500");
    hash32 parent = test_hash("0x1111111111111111111111111111111111111111111111111111111111111111");
    hash32 root = test_hash("0x2222222222222222222222222222222222222222222222222222222222222222");
    block_env env = block_at(7, 1234);
    block_run run;
    block_run_begin(&run, st, &env, FORK_PRAGUE, &parent, &root, NULL);
    u256 got = slot_of(&beacon, 1234), want = u256_load_be(root.b);
    ck_assert(u256_eq(&got, &want));
    got = slot_of(&beacon, 1);
    address system = test_address(SYSTEM_ADDRESS);
    uint8_t caller[32];
    u256_store_be(caller, &got);
    ck_assert_mem_eq(caller + 12, system.b, 20);
    got = slot_of(&history, 7);
    want = u256_load_be(parent.b);
    ck_assert(u256_eq(&got, &want));
    ck_assert_uint_eq(run.gas_used, 0); /* outside the block's gas */
    ck_assert(!state_exists(st, &system)); /* the system address is not left behind */
    block_run_free(&run);

    /* Before Cancun neither call is made. */
    block_env old = block_at(8, 2000);
    block_run_begin(&run, st, &old, FORK_SHANGHAI, &parent, &root, NULL);
    got = slot_of(&beacon, 2000);
    ck_assert(u256_is_zero(&got));
    got = slot_of(&history, 8);
    ck_assert(u256_is_zero(&got));
    block_run_free(&run);
}
END_TEST

/* Transactions share the block's gas; one that does not fit is refused
 * and changes nothing; receipts count gas and logs block-wide. */
START_TEST(test_transactions_share_the_block_gas)
{
    address logger = test_address_n(0x10c);
    put_code(&logger, "0x60aa60206000a100"); /* log1(0, 32, 0xaa) */
    block_env env = block_at(1, 100);
    block_run run;
    block_run_begin(&run, st, &env, FORK_PRAGUE, NULL, NULL, NULL);
    tx_options opts = {0};
    tx_result res;
    transaction t1 = transfer_to(&logger, 0, 30000, 0);
    block_run_tx(&run, &t1, false, &opts, &res);
    ck_assert_int_eq(res.error, TX_OK);
    uint64_t first = res.gas_used;
    tx_result_free(&res);
    transaction t2 = transfer_to(&logger, 0, 30000, 1);
    block_run_tx(&run, &t2, false, &opts, &res);
    ck_assert_int_eq(res.error, TX_OK);
    tx_result_free(&res);
    ck_assert_uint_eq(run.n_receipts, 2);
    ck_assert_uint_eq(run.receipts[0].cumulative_gas_used, first);
    ck_assert_uint_eq(run.receipts[1].cumulative_gas_used, run.gas_used);
    ck_assert_uint_eq(run.receipts[1].first_log_index, 1);
    ck_assert_uint_eq(run.receipts[1].n_logs, 1);
    ck_assert_uint_eq(state_log_count(st), 0); /* moved into the receipts */

    /* 100000 - 2 * first is left: a transaction asking for more is refused. */
    uint64_t left = env.gas_limit - run.gas_used;
    transaction t3 = transfer_to(&logger, 0, left + 1, 2);
    block_run_tx(&run, &t3, false, &opts, &res);
    ck_assert_int_eq(res.error, TX_GAS_ALLOWANCE_EXCEEDED);
    ck_assert_uint_eq(state_get_nonce(st, &SENDER), 2);
    ck_assert_uint_eq(run.n_receipts, 2);
    transaction t4 = transfer_to(&logger, 0, left, 2);
    block_run_tx(&run, &t4, false, &opts, &res);
    ck_assert_int_eq(res.error, TX_OK);
    tx_result_free(&res);
    block_run_free(&run);
}
END_TEST

START_TEST(test_withdrawals)
{
    block_env env = block_at(1, 100);
    block_run run;
    block_run_begin(&run, st, &env, FORK_PRAGUE, NULL, NULL, NULL);
    withdrawal w[2] = {{.index = 0, .addr = test_address_n(0x77), .amount_gwei = 5}, {.index = 1, .addr = test_address_n(0x77), .amount_gwei = 2}};
    block_run_withdrawals(&run, w, 2);
    u256 got = state_get_balance(st, &w[0].addr);
    ck_assert_uint_eq(got.w[0], 7 * GWEI);
    block_run_free(&run);
}
END_TEST

/* geth's NoBaseFee: a transaction offering no fee runs under a base fee. */
START_TEST(test_no_base_fee)
{
    block_env env = block_at(1, 100);
    env.base_fee = u256_from_u64(1000);
    block_run run;
    block_run_begin(&run, st, &env, FORK_PRAGUE, NULL, NULL, NULL);
    tx_options opts = {0};
    tx_result res;
    address to = test_address_n(0x55);
    transaction tx = transfer_to(&to, 1, 21000, 0);
    block_run_tx(&run, &tx, false, &opts, &res);
    ck_assert_int_eq(res.error, TX_INSUFFICIENT_MAX_FEE_PER_GAS);
    block_run_tx(&run, &tx, true, &opts, &res);
    ck_assert_int_eq(res.error, TX_OK);
    tx_result_free(&res);
    u256 balance = state_get_balance(st, &SENDER), want = test_word("0xde0b6b3a763ffff");
    ck_assert(u256_eq(&balance, &want)); /* the value only: no fee was charged */
    block_run_free(&run);
}
END_TEST

/* ERC-7528: a value transfer logs Transfer from 0xEeee...; the log is not
 * in the receipt's bloom; a frame that fails takes its log back. */
START_TEST(test_transfer_logs)
{
    address forward_revert = test_address_n(0xf0);
    /* call(gas, calldataload(0), callvalue, 0, 0, 0, 0); revert(0, 0) */
    put_code(&forward_revert, "0x6000600060006000346000355af15060006000fd");
    address forward = test_address_n(0xf1);
    put_code(&forward, "0x6000600060006000346000355af15000");
    tracer t;
    transfer_logger *logger = transfer_logger_new(&t);
    block_env env = block_at(1, 100);
    env.gas_limit = 1000000;
    block_run run;
    block_run_begin(&run, st, &env, FORK_PRAGUE, NULL, NULL, NULL);
    run.transfers = logger;
    tx_options opts = {.trace = &t};
    tx_result res;
    address eoa = test_address_n(0xe0);
    transaction tx = transfer_to(&eoa, 9, 21000, 0);
    block_run_tx(&run, &tx, false, &opts, &res);
    ck_assert_int_eq(res.error, TX_OK);
    tx_result_free(&res);
    const block_receipt *r = &run.receipts[0];
    ck_assert_uint_eq(r->n_logs, 1);
    ck_assert(r->is_transfer_log[0]);
    ck_assert_mem_eq(r->logs[0].addr.b, test_address(ETH_TRANSFER_LOG_ADDRESS).b, 20);
    ck_assert_mem_eq(r->logs[0].topics[1].b + 12, SENDER.b, 20);
    ck_assert_mem_eq(r->logs[0].topics[2].b + 12, eoa.b, 20);
    ck_assert_uint_eq(r->logs[0].data[31], 9);
    static const uint8_t no_bloom[256];
    ck_assert_mem_eq(r->bloom, no_bloom, 256);

    /* Through a contract: two transfers; through one that reverts: none. */
    transaction via = transfer_to(&forward, 4, 90000, 1);
    uint8_t arg[32] = {0};
    memcpy(arg + 12, eoa.b, 20);
    via.data = arg;
    via.data_len = 32;
    block_run_tx(&run, &via, false, &opts, &res);
    ck_assert_int_eq(res.error, TX_OK);
    tx_result_free(&res);
    ck_assert_uint_eq(run.receipts[1].n_logs, 2);
    ck_assert_uint_eq(run.receipts[1].first_log_index, 1);
    ck_assert_mem_eq(run.receipts[1].logs[1].topics[1].b + 12, forward.b, 20);
    transaction back = transfer_to(&forward_revert, 4, 90000, 2);
    back.data = arg;
    back.data_len = 32;
    block_run_tx(&run, &back, false, &opts, &res);
    ck_assert_int_eq(res.error, TX_OK);
    ck_assert_int_eq(res.status, EXEC_REVERT);
    tx_result_free(&res);
    ck_assert_uint_eq(run.receipts[2].n_logs, 0);

    /* SELFDESTRUCT moving 77 wei to the EOA logs a transfer too. */
    address doomed = test_address_n(0xdd);
    bytebuf code = {0};
    ck_assert(hex_to_bytes("0x7300000000000000000000000000000000000000e0ff", &code));
    u256 funds = u256_from_u64(77);
    memstate_put_account(world, &doomed, 1, &funds, code.data, code.len);
    bytebuf_free(&code);
    transaction destruct = transfer_to(&doomed, 0, 90000, 3);
    block_run_tx(&run, &destruct, false, &opts, &res);
    ck_assert_int_eq(res.error, TX_OK);
    ck_assert_int_eq(res.status, EXEC_SUCCESS);
    tx_result_free(&res);
    ck_assert_uint_eq(run.receipts[3].n_logs, 1);
    ck_assert(run.receipts[3].is_transfer_log[0]);
    ck_assert_mem_eq(run.receipts[3].logs[0].topics[1].b + 12, doomed.b, 20);
    ck_assert_mem_eq(run.receipts[3].logs[0].topics[2].b + 12, eoa.b, 20);
    ck_assert_uint_eq(run.receipts[3].logs[0].data[31], 77);
    block_run_free(&run);
    transfer_logger_free(logger);
}
END_TEST

/* EIP-7002/7251 after the calls: a stand-in withdrawal request contract
 * returns 0xaa (request 0x01aa), the consolidation one returns nothing
 * (no request); the EIP-7685 hash is sha256(sha256(0x01aa)), computed
 * apart (Python's hashlib). A contract that fails fails the block. */
START_TEST(test_request_system_calls)
{
    address withdrawals = test_address(WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS);
    address consolidations = test_address(CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS);
    put_code(&withdrawals, "0x60aa60005360016000f3"); /* mstore8(0, 0xaa); return(0, 1) */
    put_code(&consolidations, "0x00");
    block_env env = block_at(3, 300);
    block_run run;
    block_run_begin(&run, st, &env, FORK_PRAGUE, NULL, NULL, NULL);
    ck_assert_mem_eq(run.requests_hash.b, BLOCK_EMPTY_REQUESTS_HASH.b, 32);
    block_request_failure failure;
    address no_deposits = {{0}};
    ck_assert(block_run_requests(&run, &no_deposits, NULL, &failure));
    hash32 want = test_hash("0x5718d61e4ad0bf7361f89a3d32dd9b29967017c96043bed3e6f7f0a29912f49e");
    ck_assert_mem_eq(run.requests_hash.b, want.b, 32);
    ck_assert_uint_eq(run.gas_used, 0);
    block_run_free(&run);

    static const uint8_t invalid[] = {0xfe};
    state_set_code(st, &consolidations, invalid, sizeof invalid); /* the state has read the account already */
    state_finalize_tx(st, FORK_PRAGUE);
    block_run_begin(&run, st, &env, FORK_PRAGUE, NULL, NULL, NULL);
    ck_assert(!block_run_requests(&run, &no_deposits, NULL, &failure));
    ck_assert_int_eq(failure.error, BLOCK_REQUEST_CALL_FAILED);
    ck_assert_uint_eq(failure.request_type, 2);
    ck_assert_int_eq(failure.status, EXEC_INVALID_OPCODE);
    block_run_free(&run);

    /* Before Prague: no calls, the hash of no requests. */
    block_run_begin(&run, st, &env, FORK_CANCUN, NULL, NULL, NULL);
    ck_assert(block_run_requests(&run, &no_deposits, NULL, &failure));
    ck_assert_mem_eq(run.requests_hash.b, BLOCK_EMPTY_REQUESTS_HASH.b, 32);
    block_run_free(&run);
}
END_TEST

/* EIP-6110: a contract at the deposit contract's address that logs its
 * calldata under DepositEvent's topic. The event (576 bytes: offsets
 * 0xa0, 0x100, 0x140, 0x180, 0x200; a 48-byte pubkey 01..30, credentials
 * 11.., amount 32 ether in gwei little-endian, a 96-byte signature 64..c3,
 * index 7) becomes the request 0x00 || pubkey || credentials || amount ||
 * signature || index; with the stand-in withdrawal contract's 0x01aa the
 * EIP-7685 hash, computed apart with Python's hashlib, is
 * sha256(sha256(0x00...) || sha256(0x01aa)). A log of another length
 * refuses the block, as geth's DepositLogToRequest does; the same log from
 * another address, or from a frame that reverts, is no deposit. */
static const char DEPOSIT_EVENT_DATA[] =
    "0x00000000000000000000000000000000000000000000000000000000000000a0"
    "0000000000000000000000000000000000000000000000000000000000000100"
    "0000000000000000000000000000000000000000000000000000000000000140"
    "0000000000000000000000000000000000000000000000000000000000000180"
    "0000000000000000000000000000000000000000000000000000000000000200"
    "0000000000000000000000000000000000000000000000000000000000000030"
    "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"
    "2122232425262728292a2b2c2d2e2f3000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000020"
    "1111111111111111111111111111111111111111111111111111111111111111"
    "0000000000000000000000000000000000000000000000000000000000000008"
    "0040597307000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000060"
    "6465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f80818283"
    "8485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3"
    "a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3"
    "0000000000000000000000000000000000000000000000000000000000000008"
    "0700000000000000000000000000000000000000000000000000000000000000";

/* calldatacopy(0, 0, calldatasize); log1(0, calldatasize, keccak256("DepositEvent(bytes,bytes,bytes,bytes,bytes)")) */
static const char DEPOSIT_LOGGER_CODE[] =
    "0x365f5f377f649bbc62d0e31342afea4e5cd82d4049e7e1ee912fc0889aa790803be39038c5365fa100";

static transaction call_with(const address *to, const bytebuf *data, uint64_t nonce)
{
    transaction tx = transfer_to(to, 0, 90000, nonce);
    tx.data = data->data;
    tx.data_len = data->len;
    return tx;
}

START_TEST(test_deposit_requests)
{
    address deposit = test_address(MAINNET_DEPOSIT_CONTRACT_ADDRESS), other = test_address_n(0xd0);
    address withdrawals = test_address(WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS);
    address consolidations = test_address(CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS);
    put_code(&deposit, DEPOSIT_LOGGER_CODE);
    put_code(&other, DEPOSIT_LOGGER_CODE);
    put_code(&withdrawals, "0x60aa60005360016000f3");
    put_code(&consolidations, "0x00");
    bytebuf event = {0}, short_event = {0};
    ck_assert(hex_to_bytes(DEPOSIT_EVENT_DATA, &event));
    ck_assert_uint_eq(event.len, DEPOSIT_EVENT_DATA_SIZE);
    bytebuf_append(&short_event, event.data, event.len - 1);
    block_env env = block_at(3, 300);
    env.gas_limit = 1000000;
    tx_options opts = {0};
    tx_result res;
    block_run run;
    block_request_failure failure;

    /* One deposit, and the same event from another address. */
    block_run_begin(&run, st, &env, FORK_PRAGUE, NULL, NULL, NULL);
    transaction tx = call_with(&deposit, &event, 0);
    block_run_tx(&run, &tx, false, &opts, &res);
    ck_assert_int_eq(res.error, TX_OK);
    ck_assert_int_eq(res.status, EXEC_SUCCESS);
    tx_result_free(&res);
    tx = call_with(&other, &event, 1);
    block_run_tx(&run, &tx, false, &opts, &res);
    ck_assert_int_eq(res.status, EXEC_SUCCESS);
    tx_result_free(&res);
    ck_assert(block_run_requests(&run, &deposit, NULL, &failure));
    hash32 want = test_hash("0x022b95e267e5e748cb7a3db1062e84174dcbb791a8f7a0c413d3e8b86f8cd17d");
    ck_assert_mem_eq(run.requests_hash.b, want.b, 32);
    block_run_free(&run);

    /* The event from a frame that reverts (its caller reverts after the
     * call): no deposit. */
    address reverter = test_address_n(0xd1);
    put_code(&reverter, "0x365f5f375f5f365f5f7300000000219ab540356cbb839cbe05303d7705fa5af1505f5ffd");
    block_run_begin(&run, st, &env, FORK_PRAGUE, NULL, NULL, NULL);
    tx = call_with(&reverter, &event, 2);
    block_run_tx(&run, &tx, false, &opts, &res);
    ck_assert_int_eq(res.error, TX_OK);
    ck_assert_int_eq(res.status, EXEC_REVERT);
    tx_result_free(&res);
    ck_assert(block_run_requests(&run, &deposit, NULL, &failure));
    want = test_hash("0x5718d61e4ad0bf7361f89a3d32dd9b29967017c96043bed3e6f7f0a29912f49e");
    ck_assert_mem_eq(run.requests_hash.b, want.b, 32);
    block_run_free(&run);

    /* 575 bytes: the block is refused. */
    block_run_begin(&run, st, &env, FORK_PRAGUE, NULL, NULL, NULL);
    tx = call_with(&deposit, &short_event, 3);
    block_run_tx(&run, &tx, false, &opts, &res);
    ck_assert_int_eq(res.status, EXEC_SUCCESS);
    tx_result_free(&res);
    ck_assert(!block_run_requests(&run, &deposit, NULL, &failure));
    ck_assert_int_eq(failure.error, BLOCK_REQUEST_BAD_DEPOSIT);
    ck_assert_uint_eq(failure.request_type, DEPOSIT_REQUEST_TYPE);
    ck_assert_uint_eq(failure.deposit_data_len, 575);
    block_run_free(&run);
    bytebuf_free(&event);
    bytebuf_free(&short_event);
}
END_TEST

/* A request contract without code refuses the block (geth: "empty system
 * contract"), the withdrawal contract checked first. */
START_TEST(test_request_contract_without_code)
{
    address consolidations = test_address(CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS);
    address withdrawals = test_address(WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS);
    address no_deposits = {{0}};
    block_env env = block_at(3, 300);
    block_run run;
    block_request_failure failure;
    block_run_begin(&run, st, &env, FORK_PRAGUE, NULL, NULL, NULL);
    ck_assert(!block_run_requests(&run, &no_deposits, NULL, &failure));
    ck_assert_int_eq(failure.error, BLOCK_REQUEST_NO_CODE);
    ck_assert_uint_eq(failure.request_type, WITHDRAWAL_REQUEST_TYPE);
    ck_assert_mem_eq(failure.contract.b, withdrawals.b, 20);
    block_run_free(&run);
    put_code(&withdrawals, "0x00");
    state_free(st);
    st = state_new(&world_backend);
    block_run_begin(&run, st, &env, FORK_PRAGUE, NULL, NULL, NULL);
    ck_assert(!block_run_requests(&run, &no_deposits, NULL, &failure));
    ck_assert_int_eq(failure.error, BLOCK_REQUEST_NO_CODE);
    ck_assert_uint_eq(failure.request_type, CONSOLIDATION_REQUEST_TYPE);
    ck_assert_mem_eq(failure.contract.b, consolidations.b, 20);
    block_run_free(&run);
}
END_TEST

/* A failed transaction run again finds its top frame's last instruction,
 * from the state before it (the value it sent and the gas it paid are
 * back), and the run is left as it was. Logs carry a sequence number
 * that counts a reverted frame's logs too. */
START_TEST(test_failed_step_and_log_seq)
{
    address bad = test_address_n(0xbad);
    put_code(&bad, "0x6001600101fe"); /* 1 + 1, then INVALID */
    address logger = test_address_n(0x10c);
    put_code(&logger, "0x60aa60206000a100"); /* log1(0, 32, 0xaa) */
    address forward_revert = test_address_n(0xf0);
    put_code(&forward_revert, "0x6000600060006000346000355af15060006000fd");
    block_env env = block_at(1, 100);
    env.gas_limit = 1000000;
    block_run run;
    block_run_begin(&run, st, &env, FORK_PRAGUE, NULL, NULL, NULL);
    tx_options opts = {0};
    tx_result res;
    transaction tx = transfer_to(&bad, 5, 50000, 0);
    block_run_tx(&run, &tx, false, &opts, &res);
    ck_assert_int_eq(res.status, EXEC_INVALID_OPCODE);
    tx_result_free(&res);
    u256 balance = state_get_balance(st, &SENDER);
    block_failed_step step;
    ck_assert(block_run_failed_step(&run, &tx, false, &opts, EXEC_INVALID_OPCODE, &step));
    ck_assert_uint_eq(step.op, 0xfe);
    ck_assert_uint_eq(step.stack_len, 1);
    ck_assert_uint_eq(state_get_nonce(st, &SENDER), 1);
    u256 after = state_get_balance(st, &SENDER);
    ck_assert(u256_eq(&balance, &after));
    ck_assert(!block_run_failed_step(&run, &tx, false, &opts, EXEC_STACK_UNDERFLOW, &step));

    /* The logger's log inside a reverted frame is dropped but counted. */
    transaction back = transfer_to(&forward_revert, 0, 90000, 1);
    uint8_t arg[32] = {0};
    memcpy(arg + 12, logger.b, 20);
    back.data = arg;
    back.data_len = 32;
    block_run_tx(&run, &back, false, &opts, &res);
    ck_assert_int_eq(res.status, EXEC_REVERT);
    tx_result_free(&res);
    transaction direct = transfer_to(&logger, 0, 50000, 2);
    block_run_tx(&run, &direct, false, &opts, &res);
    ck_assert_int_eq(res.status, EXEC_SUCCESS);
    tx_result_free(&res);
    const block_receipt *r = &run.receipts[2];
    ck_assert_uint_eq(r->n_logs, 1);
    ck_assert_uint_eq(r->first_log_index, 0);          /* the receipt's count */
    ck_assert_uint_eq(r->logs[0].seq - run.first_log_seq, 1); /* geth's simulate count */
    block_run_free(&run);
}
END_TEST

int main(void)
{
    const test_group world_group = {"world", 0,
                                           TESTS(test_system_calls, test_transactions_share_the_block_gas,
                                                 test_withdrawals, test_no_base_fee, test_transfer_logs,
                                                 test_request_system_calls, test_deposit_requests,
                                                 test_request_contract_without_code, test_failed_step_and_log_seq),
                                           world_setup, world_teardown, NULL, NULL, 0};
    const test_group groups[] = {
        TEST_GROUP("header", 0, test_header_hash_matches_a_mined_block, test_genesis_header_hash_matches_geth,
                   test_osaka_genesis_header_matches_anvil, test_receipts_root_of_a_legacy_transfer,
                   test_receipts_root_and_bloom_with_a_log, test_unsigned_transaction_hash),
        TEST_GROUP("fees", 0, test_next_base_fee, test_next_excess_blob_gas),
        world_group,
        {0},
    };
    return test_run("block", groups);
}
