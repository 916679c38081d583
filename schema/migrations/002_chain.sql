-- The chain: its id and fork schedule, the head block that every eth_call
-- executes in, and recent block hashes for BLOCKHASH.
-- Encodings follow 001_state.sql (raw BLOBs, minimal big-endian numbers,
-- unsigned 64-bit values in INTEGERs).

-- One row.
CREATE TABLE chain (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    chain_id INTEGER NOT NULL
) STRICT;

-- One row per scheduled fork; a fork without a row is never active. Forks
-- are named ("shanghai"), not numbered, so that the database does not depend
-- on the order of the engine's fork list. The blob columns override the
-- fork's default blob schedule (EIP-4844/7691) when a genesis file sets one.
CREATE TABLE chain_fork (
    fork                 TEXT    NOT NULL PRIMARY KEY,
    activation           INTEGER NOT NULL,
    by_timestamp         INTEGER NOT NULL CHECK (by_timestamp IN (0, 1)),
    blob_target          INTEGER,
    blob_max             INTEGER,
    blob_update_fraction INTEGER
) STRICT, WITHOUT ROWID;

-- One row. The chain id comes from `chain`, and the blob base fee follows
-- from excess_blob_gas and the blob schedule of the fork in force (EIP-4844
-- computes it that way), so neither is stored twice.
CREATE TABLE head (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    number          INTEGER NOT NULL,
    timestamp       INTEGER NOT NULL,
    gas_limit       INTEGER NOT NULL,
    coinbase        BLOB    NOT NULL CHECK (length(coinbase) = 20),
    difficulty      BLOB    NOT NULL CHECK (length(difficulty) <= 32),
    prevrandao      BLOB    NOT NULL CHECK (length(prevrandao) = 32),
    base_fee        BLOB    NOT NULL CHECK (length(base_fee) <= 32),
    excess_blob_gas INTEGER NOT NULL
) STRICT;

-- Keyed by the rowid itself (INTEGER PRIMARY KEY): a lookup by number is
-- one descent. Only the 256 blocks BLOCKHASH can see are kept.
CREATE TABLE block_hash (
    number INTEGER PRIMARY KEY,
    hash   BLOB NOT NULL CHECK (length(hash) = 32)
) STRICT;
