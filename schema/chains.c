/* The built-in chains. Fork schedules as go-ethereum's params/config.go has
 * them (mainnet: Osaka at 1764798551, 2025-12-03; BPO1 at 1765290071,
 * BPO2 at 1767747671). The merge (Paris) is put at the first proof-of-stake
 * block: mainnet 15537394, Sepolia 1450409; Holesky and Hoodi started
 * merged. Blob-parameter-only forks (EIP-7892) change only the blob
 * schedule: they are kept beside the engine's forks (store.h: blob_fork),
 * with the parameters params.h gives them.
 *
 * The genesis *state* of the public networks is far too big to ship: `init`
 * creates their configuration with an empty state, which `jitevm import`
 * fills. */
#include "chains.h"

#include <string.h>

#include "base/hex.h"
#include "base/params.h"
#include "base/trie.h"
#include "vm/block.h"

#define GWEI 1000000000ULL

typedef struct {
    enum fork fork;
    uint64_t at;
} activation;

static const char *const dev_funded[] = {DEV_ACCOUNT_ADDRESS, NULL};

/* BPO1 and BPO2 at the given timestamps, with the parameters every public
 * network gives them. */
static void schedule_bpo(chain_spec *spec, uint64_t bpo1, uint64_t bpo2)
{
    static const blob_fork bpos[] = {
        {"bpo1", 0, {BPO1_BLOB_TARGET, BPO1_BLOB_MAX, BPO1_BLOB_UPDATE_FRACTION}},
        {"bpo2", 0, {BPO2_BLOB_TARGET, BPO2_BLOB_MAX, BPO2_BLOB_UPDATE_FRACTION}},
    };
    spec->bpo[0] = bpos[0];
    spec->bpo[0].activation = bpo1;
    spec->bpo[1] = bpos[1];
    spec->bpo[1].activation = bpo2;
    spec->n_bpo = 2;
}

/* For the constants below only (they are known to be well formed). */
static hash32 hash_from_hex(const char *hex)
{
    hash32 h;
    hex_parse_fixed(hex, 64, HEX_PREFIX_OPTIONAL, h.b, 32, NULL);
    return h;
}

void chain_spec_init_empty(chain_spec *spec, const char *name)
{
    memset(spec, 0, sizeof *spec);
    spec->name = name;
    for (int f = 0; f < FORK_COUNT; f++) spec->config.activation[f] = UINT64_MAX;
    spec->config.activation[FORK_FRONTIER] = 0;
}

/* Block-numbered forks up to Paris, timestamped ones from Shanghai on. */
static void schedule(chain_spec *spec, const activation *acts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        spec->config.activation[acts[i].fork] = acts[i].at;
        spec->config.by_timestamp[acts[i].fork] = acts[i].fork >= FORK_SHANGHAI;
    }
}

/* go-ethereum's mainnet and Sepolia block-numbered forks as EIP-2124 counts
 * them (mainnet's merge has no netsplit block). */
static const uint64_t mainnet_forkid_blocks[] = {1150000, 1920000, 2463000, 2675000, 4370000, 7280000,
                                                 9069000, 9200000, 12244000, 12965000, 13773000, 15050000};
static const uint64_t sepolia_forkid_blocks[] = {1735371};

static void mainnet(chain_spec *s)
{
    static const activation acts[] = {
        {FORK_HOMESTEAD, 1150000},        {FORK_TANGERINE_WHISTLE, 2463000}, {FORK_SPURIOUS_DRAGON, 2675000},
        {FORK_BYZANTIUM, 4370000},        {FORK_CONSTANTINOPLE, 7280000},    {FORK_PETERSBURG, 7280000},
        {FORK_ISTANBUL, 9069000},         {FORK_BERLIN, 12244000},           {FORK_LONDON, 12965000},
        {FORK_PARIS, 15537394},           {FORK_SHANGHAI, 1681338455},       {FORK_CANCUN, 1710338135},
        {FORK_PRAGUE, 1746612311},        {FORK_OSAKA, 1764798551},
    };
    chain_spec_init_empty(s, "mainnet");
    s->config.chain_id = 1;
    schedule(s, acts, sizeof acts / sizeof acts[0]);
    schedule_bpo(s, 1765290071, 1767747671);
    s->head.gas_limit = 5000;
    s->head.difficulty = u256_from_u64(17179869184ULL);
    s->has_genesis_hash = true;
    s->genesis_hash = hash_from_hex("d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3");
    s->deposit_contract = MAINNET_DEPOSIT_CONTRACT_ADDRESS;
    s->forkid_blocks = mainnet_forkid_blocks;
    s->n_forkid_blocks = sizeof mainnet_forkid_blocks / sizeof mainnet_forkid_blocks[0];
}

static void sepolia(chain_spec *s)
{
    static const activation acts[] = {
        {FORK_HOMESTEAD, 0}, {FORK_TANGERINE_WHISTLE, 0}, {FORK_SPURIOUS_DRAGON, 0}, {FORK_BYZANTIUM, 0},
        {FORK_CONSTANTINOPLE, 0}, {FORK_PETERSBURG, 0}, {FORK_ISTANBUL, 0}, {FORK_BERLIN, 0},
        {FORK_LONDON, 0}, {FORK_PARIS, 1450409}, {FORK_SHANGHAI, 1677557088}, {FORK_CANCUN, 1706655072},
        {FORK_PRAGUE, 1741159776}, {FORK_OSAKA, 1760427360},
    };
    chain_spec_init_empty(s, "sepolia");
    s->config.chain_id = 11155111;
    schedule(s, acts, sizeof acts / sizeof acts[0]);
    schedule_bpo(s, 1761017184, 1761607008);
    s->head.timestamp = 1633267481;
    s->head.gas_limit = 30000000;
    s->head.difficulty = u256_from_u64(0x20000);
    s->head.base_fee = u256_from_u64(GWEI); /* London from genesis: EIP-1559's initial base fee */
    s->has_genesis_hash = true;
    s->genesis_hash = hash_from_hex("25a5cc106eea7138acab33231d7160d69cb777ee0c2c553fcddf5138993e6dd9");
    s->deposit_contract = SEPOLIA_DEPOSIT_CONTRACT_ADDRESS;
    s->forkid_blocks = sepolia_forkid_blocks;
    s->n_forkid_blocks = sizeof sepolia_forkid_blocks / sizeof sepolia_forkid_blocks[0];
}

static void holesky(chain_spec *s)
{
    static const activation acts[] = {
        {FORK_HOMESTEAD, 0}, {FORK_TANGERINE_WHISTLE, 0}, {FORK_SPURIOUS_DRAGON, 0}, {FORK_BYZANTIUM, 0},
        {FORK_CONSTANTINOPLE, 0}, {FORK_PETERSBURG, 0}, {FORK_ISTANBUL, 0}, {FORK_BERLIN, 0},
        {FORK_LONDON, 0}, {FORK_PARIS, 0}, {FORK_SHANGHAI, 1696000704}, {FORK_CANCUN, 1707305664},
        {FORK_PRAGUE, 1740434112}, {FORK_OSAKA, 1759308480},
    };
    chain_spec_init_empty(s, "holesky");
    s->config.chain_id = 17000;
    schedule(s, acts, sizeof acts / sizeof acts[0]);
    schedule_bpo(s, 1759800000, 1760389824);
    s->head.timestamp = 1695902100;
    s->head.gas_limit = 25000000;
    s->head.difficulty = u256_from_u64(1);
    s->head.base_fee = u256_from_u64(GWEI);
    s->has_genesis_hash = true;
    s->genesis_hash = hash_from_hex("b5f7f912443c940f21fd611f12828d75b534364ed9e95ca4e307729a4661bde4");
    s->deposit_contract = HOLESKY_DEPOSIT_CONTRACT_ADDRESS;
}

static void hoodi(chain_spec *s)
{
    static const activation acts[] = {
        {FORK_HOMESTEAD, 0}, {FORK_TANGERINE_WHISTLE, 0}, {FORK_SPURIOUS_DRAGON, 0}, {FORK_BYZANTIUM, 0},
        {FORK_CONSTANTINOPLE, 0}, {FORK_PETERSBURG, 0}, {FORK_ISTANBUL, 0}, {FORK_BERLIN, 0},
        {FORK_LONDON, 0}, {FORK_PARIS, 0}, {FORK_SHANGHAI, 0}, {FORK_CANCUN, 0},
        {FORK_PRAGUE, 1742999832}, {FORK_OSAKA, 1761677592},
    };
    chain_spec_init_empty(s, "hoodi");
    s->config.chain_id = 560048;
    schedule(s, acts, sizeof acts / sizeof acts[0]);
    schedule_bpo(s, 1762365720, 1762955544);
    s->head.timestamp = 1742212800;
    s->head.gas_limit = 36000000;
    s->head.difficulty = u256_from_u64(1);
    s->head.base_fee = u256_from_u64(GWEI);
    s->has_genesis_hash = true;
    s->genesis_hash = hash_from_hex("bbe312868b376a3001692a646dd2d7d1e4406380dfd86b98aa8a34d1557c971b");
    s->deposit_contract = HOODI_DEPOSIT_CONTRACT_ADDRESS;
}

static void dev(chain_spec *s)
{
    chain_spec_init_empty(s, "dev");
    s->config.chain_id = DEV_CHAIN_ID;
    for (int f = 0; f < FORK_COUNT; f++) {
        s->config.activation[f] = 0;
        s->config.by_timestamp[f] = f >= FORK_SHANGHAI;
    }
    s->head.gas_limit = 30000000;
    s->head.base_fee = u256_from_u64(GWEI);
    s->funded = dev_funded;
    /* Every fork is on from block 0: the system calls of a block (and
     * eth_simulateV1's) need their contracts, which no one could deploy
     * at their addresses on this chain (EIP-7002 and EIP-7251 blocks are
     * refused without them, as geth refuses them). */
    s->system_contracts = true;
    /* Its block 0 is geth's genesis of this alloc and header (eth_config's
     * forkId, BLOCKHASH(0)). */
    s->genesis_hash_from_state = true;
    /* 10,000 ether, as anvil gives each of its accounts. */
    u256 ether = u256_from_u64(1000000000000000000ULL), n = u256_from_u64(10000);
    s->funded_balance = u256_mul(&ether, &n);
    s->note = "dev account " DEV_ACCOUNT_ADDRESS " holds 10000 ETH (private key " DEV_ACCOUNT_PRIVATE_KEY
              ", public: local use only)";
}

static const struct {
    const char *name;
    void (*make)(chain_spec *);
} builtins[] = {
    {"mainnet", mainnet},
    {"sepolia", sepolia},
    {"holesky", holesky},
    {"hoodi", hoodi},
    {"dev", dev},
};

bool chain_builtin(const char *name, chain_spec *out)
{
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        if (strcmp(builtins[i].name, name) != 0) continue;
        builtins[i].make(out);
        if (!out->note)
            out->note = "the state is empty: a public network's genesis state is too big to ship; "
                        "load state with 'jitevm import'";
        return true;
    }
    return false;
}

const char *chain_builtin_by_chain_id(uint64_t chain_id)
{
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        chain_spec spec;
        builtins[i].make(&spec);
        if (spec.config.chain_id == chain_id && strcmp(builtins[i].name, "dev") != 0) return builtins[i].name;
    }
    return NULL;
}

const char *chain_builtin_names(void)
{
    return "mainnet, sepolia, holesky, hoodi, dev";
}

/* The genesis block's hash as geth builds its header (core/genesis.go,
 * toBlockWithRoot) for the forks active at genesis: the state root of what
 * the database holds, no transactions, the file's parentHash, extraData,
 * nonce and gasUsed, and from London the base fee, from
 * Shanghai the empty withdrawals root, from Cancun zero blob gas and a zero
 * parent beacon root, from Prague the hash of no requests. The state must
 * be written (this connection sees it). tests/test_block.c checks the
 * header against geth's genesis of the execution-apis test chain. */
static bool genesis_hash_of(store_conn *c, const chain_spec *spec, hash32 *out, store_error *err)
{
    block_header_fields h = {0};
    if (!store_state_root(c, &h.state_root, err)) return false;
    h.fork = chain_config_fork_at(&spec->config, spec->head.number, spec->head.timestamp);
    h.coinbase = spec->head.coinbase;
    h.transactions_root = TRIE_EMPTY_ROOT;
    h.receipts_root = TRIE_EMPTY_ROOT;
    h.difficulty = spec->head.difficulty;
    h.number = spec->head.number;
    h.parent_hash = spec->parent_hash;
    h.gas_limit = spec->head.gas_limit;
    h.gas_used = spec->gas_used;
    h.extra_data = spec->extra_data_len ? spec->extra_data : NULL;
    h.extra_data_len = spec->extra_data_len;
    h.nonce = spec->nonce;
    h.timestamp = spec->head.timestamp;
    h.mix_hash = spec->head.prevrandao;
    h.base_fee = spec->head.base_fee;
    h.withdrawals_root = TRIE_EMPTY_ROOT;
    h.excess_blob_gas = spec->head.excess_blob_gas;
    h.requests_hash = BLOCK_EMPTY_REQUESTS_HASH;
    block_header_hash(&h, out);
    return true;
}

bool chain_spec_write(store_conn *c, const chain_spec *spec, store_error *err)
{
    if (!store_set_chain_config(c, &spec->config, err)) return false;
    for (int f = 0; f < FORK_COUNT; f++) {
        const blob_schedule *bs = &spec->blob[f];
        /* A genesis file may give the schedule of a fork it does not
         * schedule (yet): nothing to apply it to. */
        if ((!bs->target && !bs->max && !bs->update_fraction) || spec->config.activation[f] == UINT64_MAX) continue;
        if (!store_set_blob_schedule(c, (enum fork)f, bs, err)) return false;
    }
    if (!store_set_blob_forks(c, spec->bpo, spec->n_bpo, err)) return false;
    static const struct {
        const char *address, *code;
    } system_contracts[] = {
        {BEACON_ROOTS_ADDRESS, BEACON_ROOTS_CODE},
        {HISTORY_STORAGE_ADDRESS, HISTORY_STORAGE_CODE},
        {WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS, WITHDRAWAL_REQUEST_PREDEPLOY_CODE},
        {CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS, CONSOLIDATION_REQUEST_PREDEPLOY_CODE},
    };
    for (size_t i = 0; spec->system_contracts && i < sizeof system_contracts / sizeof system_contracts[0]; i++) {
        address a;
        uint8_t code[MAX_CODE_SIZE];
        size_t len = strlen(system_contracts[i].code) / 2;
        hex_parse_fixed(system_contracts[i].address, strlen(system_contracts[i].address), 0, a.b, 20, NULL);
        hex_parse_fixed(system_contracts[i].code, 2 * len, HEX_PREFIX_OPTIONAL, code, len, NULL);
        if (!store_set_code(c, &a, code, len, err) || !store_set_nonce(c, &a, 1, err)) return false;
    }
    for (const char *const *hex = spec->funded; hex && *hex; hex++) {
        address a;
        hex_parse_fixed(*hex, strlen(*hex), 0, a.b, 20, NULL);
        if (!store_set_balance(c, &a, &spec->funded_balance, err)) return false;
    }
    block_env head = spec->head;
    head.chain_id = u256_from_u64(spec->config.chain_id);
    hash32 genesis_hash = spec->genesis_hash;
    bool has_genesis_hash = spec->has_genesis_hash;
    if (!has_genesis_hash && spec->genesis_hash_from_state) {
        if (!genesis_hash_of(c, spec, &genesis_hash, err)) return false;
        has_genesis_hash = true;
    }
    store_genesis g = {.number = head.number, .timestamp = head.timestamp, .nonce = spec->nonce};
    memcpy(g.extra_data, spec->extra_data, spec->extra_data_len);
    g.extra_data_len = spec->extra_data_len;
    g.has_deposit_contract = spec->has_deposit_address || spec->deposit_contract;
    if (spec->has_deposit_address) g.deposit_contract = spec->deposit_address;
    else if (spec->deposit_contract)
        hex_parse_fixed(spec->deposit_contract, strlen(spec->deposit_contract), 0, g.deposit_contract.b, 20, NULL);
    const uint64_t *blocks = spec->has_genesis_forkid_blocks ? spec->genesis_forkid_blocks : spec->forkid_blocks;
    size_t n_blocks = spec->has_genesis_forkid_blocks ? spec->n_genesis_forkid_blocks : spec->n_forkid_blocks;
    for (size_t i = 0; blocks && i < n_blocks && i < STORE_FORKID_BLOCKS_MAX; i++) g.forkid_blocks[i] = blocks[i];
    g.n_forkid_blocks = n_blocks < STORE_FORKID_BLOCKS_MAX ? n_blocks : STORE_FORKID_BLOCKS_MAX;
    return store_set_head_block(c, &head, has_genesis_hash ? &genesis_hash : NULL,
                                spec->has_parent_hash && head.number > 0 ? &spec->parent_hash : NULL, err) &&
           (!spec->gas_used || store_set_head_usage(c, spec->gas_used, 0, err)) && store_set_genesis(c, &g, err);
}
