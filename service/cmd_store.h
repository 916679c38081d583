/* The state database commands: init, import, dump, root, and the store
 * benchmark. Each takes (argc, argv) with argv[0] the command's name, and
 * returns the exit status: 0, 1 on an error (one line on stderr), 2 on a
 * usage error. */
#ifndef JITEVM_CMD_STORE_H
#define JITEVM_CMD_STORE_H

int cmd_init(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_root(int argc, char **argv);
int cmd_bench_store(int argc, char **argv);

#define CMD_INIT_USAGE                                                                                     \
    "--db FILE [--chain mainnet|sepolia|holesky|hoodi|dev|GENESIS.json]\n"                                 \
    "       --db FILE --fork-url URL [--fork-block N|latest|safe|finalized] [--chain NAME|GENESIS.json]\n"   \
    "  Creates a database with a chain's configuration (chain id, fork schedule), its genesis block as\n"  \
    "  the head, and its genesis state. Default chain: dev (chain id 1337, every fork through Osaka,\n"    \
    "  one funded account). mainnet/sepolia/holesky start with an empty state (load it with import);\n"    \
    "  GENESIS.json is a geth genesis file (config and alloc).\n"                                       \
    "  --fork-url: a live database: chain id and head block from that node (its schedule from\n"        \
    "  the chain id, or --chain for other chains), state read from it on demand by serve."
#define CMD_IMPORT_USAGE                                                                                   \
    "--db FILE [--replace] [--case NAME] [--post FORK[:INDEX]] [--quiet] FILE.json\n"                      \
    "       --db FILE --head BLOCKS.json\n"                                                                \
    "  Imports accounts in one transaction (all or nothing) from a geth genesis file, an alloc object\n"   \
    "  (as dump writes it) or a state-test fixture (its pre state).\n"                                     \
    "  --replace          clear the whole state first (else accounts are added or replaced)\n"             \
    "  --case NAME        the fixture's test case (needed when the file holds several)\n"                  \
    "  --post FORK[:I]    the fixture's post state for FORK, entry I (default 0), instead of pre\n"        \
    "  --quiet            no progress bar\n"                                                               \
    "  --head             FILE holds block headers (eth_getBlockByNumber results, or an array of them):\n" \
    "                     the highest becomes the head, with its hash; the others' hashes are kept\n"     \
    "  Ends with a summary: accounts, slots, code bytes, seconds."
#define CMD_DUMP_USAGE                                                                                     \
    "--db FILE [--address ADDRESS]\n"                                                                      \
    "  Writes the state (or one account) to stdout as alloc JSON, accounts and slots in order;\n"          \
    "  import reads it back."
#define CMD_ROOT_USAGE                                                                                     \
    "--db FILE\n"                                                                                          \
    "  Prints the state root of the whole database, from its stored state trie (brought up to date first;\n" \
    "  built in full the first time, when the database is writable)."
#define CMD_BENCH_STORE_USAGE                                                                              \
    "[--accounts N] [--slots N] [--samples N] [--dir DIR]\n"                                               \
    "  Generates an alloc (default 100000 accounts, 1000000 slots), imports it into a new database in\n"   \
    "  DIR (default $TMPDIR or /tmp), checks its root, and reports import speed and the latency of\n"      \
    "  random account and slot reads (median, p99; warm, and cold: page cache dropped per read)."

#endif
