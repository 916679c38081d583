/* What `init --chain genesis.json` keeps of a geth genesis file
 * (schema/alloc.c reads it, schema/chains.c writes it, migration 008):
 * the genesis hash computed from the state written and the header geth
 * builds (core/genesis.go), checked against geth's own test value; and the
 * facts eth_config and eth_simulateV1 read back (extraData, nonce, genesis
 * timestamp, depositContractAddress, every `...Block` fork EIP-2124
 * counts). The execution-apis test chain, whose block 0 and eth_config
 * geth answered, is checked end to end in tests/state-methods-e2e.sh. */
#include <check.h>
#include <string.h>

#include "testlib.h"
#include "alloc.h"
#include "chains.h"
#include "hexjson.h"
#include "store.h"

static char dir[4096];

static void dir_setup(void) { test_temp_dir(dir, sizeof dir, "jitevm-genesis"); }
static void dir_teardown(void) { test_remove_dir(dir); }

/* Imports `json` as init does into a new database; the connection stays
 * open in *c (the caller closes c and s). */
static store_conn *init_from(const char *json, chain_spec *spec, store **s)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/g.db", dir);
    store_conn *c = test_store_create(path, s);
    store_error se;
    import_stats st;
    chain_spec_init_empty(spec, "genesis.json");
    import_options o = {.genesis = spec, .in_transaction = true};
    ck_assert_msg(store_begin(c, &se), "%s", se.msg);
    bool ok = alloc_import_text(c, "genesis.json", json, strlen(json), &o, &st, &se) && chain_spec_write(c, spec, &se);
    ck_assert_msg(ok, "%s", se.msg);
    ck_assert_msg(store_commit(c, &se), "%s", se.msg);
    return c;
}

static hash32 stored_hash(store_conn *c, uint64_t number)
{
    hash32 h;
    bool found;
    store_error se;
    ck_assert_msg(store_get_block_hash(c, number, &h, &found, &se), "%s", se.msg);
    ck_assert_msg(found, "no hash stored for block %llu", (unsigned long long)number);
    return h;
}

/* go-ethereum's core/genesis_test.go `customg`: Homestead at block 3, one
 * account 0x01000...0 with balance 1 and slot 0x0100..0 = 0x0100..0, the
 * default gas limit (4712388) and difficulty (131072) that geth gives a
 * genesis without them, which its JSON form must state; its hash there is
 * customghash. */
START_TEST(test_genesis_hash_matches_geths_custom_genesis)
{
    static const char json[] =
        "{\"config\": {\"chainId\": 1, \"homesteadBlock\": 3, \"ethash\": {}},"
        " \"gasLimit\": \"0x47e7c4\", \"difficulty\": \"0x20000\","
        " \"alloc\": {\"0100000000000000000000000000000000000000\": {\"balance\": \"0x1\", \"storage\": {"
        "   \"0x0100000000000000000000000000000000000000000000000000000000000000\":"
        "   \"0x0100000000000000000000000000000000000000000000000000000000000000\"}}}}";
    chain_spec spec;
    store *s;
    store_conn *c = init_from(json, &spec, &s);
    hash32 want;
    ck_assert(hex_to_hash("0x89c99d90b79719238d2645c7642f2c9295246e80775b38cfd162b696817fbd50", &want));
    hash32 got = stored_hash(c, 0);
    ck_assert_mem_eq(got.b, want.b, 32);
    store_genesis g;
    bool found;
    store_error se;
    ck_assert_msg(store_get_genesis(c, &g, &found, &se), "%s", se.msg);
    ck_assert(found);
    /* geth's default deposit contract for a genesis file: zero. */
    ck_assert(g.has_deposit_contract);
    static const address zero;
    ck_assert_mem_eq(g.deposit_contract.b, zero.b, 20);
    ck_assert_uint_eq(g.n_forkid_blocks, 1);
    ck_assert_uint_eq(g.forkid_blocks[0], 3);
    store_disconnect(c);
    store_close(s);
}
END_TEST

/* extraData and nonce are part of the hash: the same genesis with them
 * gets another hash, and keeps them (block 0 is served with them); the
 * config's depositContractAddress and every ...Block fork are kept, each
 * number once, those of no EVM rule (DAO, glaciers) too. */
START_TEST(test_genesis_keeps_header_deposit_and_fork_blocks)
{
    static const char json[] =
        "{\"config\": {\"chainId\": 7, \"homesteadBlock\": 0, \"daoForkBlock\": 4, \"eip150Block\": 5,"
        " \"eip155Block\": 6, \"eip158Block\": 6, \"byzantiumBlock\": 8, \"muirGlacierBlock\": 9,"
        " \"arrowGlacierBlock\": null, \"grayGlacierBlock\": 11, \"shanghaiTime\": 100,"
        " \"depositContractAddress\": \"0x00000000219ab540356cbb839cbe05303d7705fa\"},"
        " \"nonce\": \"0x0000000000000042\", \"extraData\": \"0x68697665\", \"timestamp\": \"0x10\","
        " \"gasLimit\": \"0x47e7c4\", \"difficulty\": \"0x20000\", \"alloc\": {}}";
    chain_spec spec;
    store *s;
    store_conn *c = init_from(json, &spec, &s);
    store_genesis g;
    bool found;
    store_error se;
    ck_assert_msg(store_get_genesis(c, &g, &found, &se), "%s", se.msg);
    ck_assert(found);
    ck_assert_uint_eq(g.nonce, 0x42);
    ck_assert_uint_eq(g.timestamp, 0x10);
    ck_assert_uint_eq(g.extra_data_len, 4);
    ck_assert_mem_eq(g.extra_data, "hive", 4);
    address dep;
    ck_assert(hex_to_address("0x00000000219ab540356cbb839cbe05303d7705fa", &dep));
    ck_assert(g.has_deposit_contract);
    ck_assert_mem_eq(g.deposit_contract.b, dep.b, 20);
    static const uint64_t want_blocks[] = {0, 4, 5, 6, 8, 9, 11};
    ck_assert_uint_eq(g.n_forkid_blocks, sizeof want_blocks / sizeof want_blocks[0]);
    for (size_t i = 0; i < g.n_forkid_blocks; i++) ck_assert_uint_eq(g.forkid_blocks[i], want_blocks[i]);
    hash32 with_extras = stored_hash(c, 0);
    store_disconnect(c);
    store_close(s);
    test_remove_dir(dir);
    test_temp_dir(dir, sizeof dir, "jitevm-genesis");

    /* Without nonce and extraData: another hash. */
    char plain[sizeof json];
    strcpy(plain, json);
    char *at = strstr(plain, "\"nonce\"");
    memset(at, ' ', strlen("\"nonce\": \"0x0000000000000042\", \"extraData\": \"0x68697665\","));
    c = init_from(plain, &spec, &s);
    hash32 without = stored_hash(c, 0);
    ck_assert(memcmp(with_extras.b, without.b, 32) != 0);
    store_disconnect(c);
    store_close(s);
}
END_TEST

/* Imports `json` as a genesis file into a new database `name` in the test's
 * folder and checks it is refused with an error containing `message`. */
static void assert_genesis_refused(const char *name, const char *json, const char *message)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    store *s;
    store_conn *c = test_store_create(path, &s);
    chain_spec spec;
    chain_spec_init_empty(&spec, "genesis.json");
    import_options o = {.genesis = &spec};
    import_stats st;
    store_error se;
    ck_assert(!alloc_import_text(c, "genesis.json", json, strlen(json), &o, &st, &se));
    ck_assert_msg(strstr(se.msg, message), "%s: %s", name, se.msg);
    store_disconnect(c);
    store_close(s);
}

/* Malformed genesis fields get a clear error. */
START_TEST(test_genesis_bad_fields)
{
    static const struct {
        const char *json, *message;
    } cases[] = {
        {"{\"config\": {\"chainId\": 1, \"depositContractAddress\": \"0x1234\"}, \"alloc\": {}}",
         "config.depositContractAddress: \"0x1234\" is not a 20-byte hex address"},
        {"{\"config\": {\"chainId\": 1, \"depositContractAddress\": 5}, \"alloc\": {}}",
         "config.depositContractAddress: expected a hex string"},
        {"{\"config\": {\"chainId\": 1}, \"extraData\": \"0x123\", \"alloc\": {}}", "extraData: odd number of hex digits"},
        {"{\"config\": {\"chainId\": 1}, \"nonce\": \"0x10000000000000000\", \"alloc\": {}}", "nonce: 0x10000000000000000 does not fit in 64 bits"},
        {"{\"config\": {\"chainId\": 1, \"daoForkBlock\": \"x\"}, \"alloc\": {}}", "daoForkBlock: \"x\" is not a quantity"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "bad%zu.db", i);
        assert_genesis_refused(name, cases[i].json, cases[i].message);
    }
    /* An extraData of 1025 bytes: over what init keeps. */
    char big[3000];
    int n = snprintf(big, sizeof big, "{\"config\": {\"chainId\": 1}, \"extraData\": \"0x");
    for (int i = 0; i < 1025; i++) n += snprintf(big + n, sizeof big - (size_t)n, "ab");
    snprintf(big + n, sizeof big - (size_t)n, "\", \"alloc\": {}}");
    assert_genesis_refused("big.db", big, "extraData: 1025 bytes (at most 1024)");
}
END_TEST

int main(void)
{
    const test_group groups[] = {
        {"genesis", 0,
         TESTS(test_genesis_hash_matches_geths_custom_genesis, test_genesis_keeps_header_deposit_and_fork_blocks,
               test_genesis_bad_fields),
         dir_setup, dir_teardown, NULL, NULL, 0},
        {0},
    };
    return test_run("genesis", groups);
}
