-- Blob-parameter-only forks (EIP-7892: BPO1, BPO2, ...). They change
-- nothing but the blob schedule (EIP-4844's target, maximum and base-fee
-- update fraction), from a timestamp on, so they are not forks of the
-- engine's list (chain_fork): the schedule in force at a head is the one of
-- the latest blob-parameter fork active at its timestamp, when that fork is
-- not older than the engine fork in force (whose own schedule applies
-- otherwise). Written with the chain configuration, replaced as a whole.
CREATE TABLE chain_blob_fork (
    name                 TEXT    NOT NULL PRIMARY KEY, -- "bpo1", as geth's blobSchedule names it
    activation           INTEGER NOT NULL,             -- a timestamp
    blob_target          INTEGER NOT NULL,
    blob_max             INTEGER NOT NULL,
    blob_update_fraction INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The head's own hash is block_hash's row at the head's number and its
-- parent hash the row before it; an EIP-1898 {blockHash} parameter is
-- looked up by hash.
CREATE INDEX block_hash_by_hash ON block_hash (hash);

-- Live mode (`init --fork-url`): the upstream node this database caches,
-- pinned to one block (fetches ask for that block by hash, EIP-1898). The
-- URL may hold credentials: it is only given to the HTTP client, never
-- logged. One row, or none for a database that is not live.
CREATE TABLE live_upstream (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    url          TEXT    NOT NULL,
    block_number INTEGER NOT NULL,
    block_hash   BLOB    NOT NULL CHECK (length(block_hash) = 32)
) STRICT;

-- What the upstream said is not there, so that it is never asked twice:
-- an account that does not exist (or is empty: EIP-161 treats both alike),
-- and a slot that is zero (the storage table never holds zeros).
CREATE TABLE live_absent_account (
    address BLOB NOT NULL PRIMARY KEY CHECK (length(address) = 20)
) STRICT, WITHOUT ROWID;

CREATE TABLE live_zero_slot (
    address BLOB NOT NULL CHECK (length(address) = 20),
    slot    BLOB NOT NULL CHECK (length(slot) = 32),
    PRIMARY KEY (address, slot)
) STRICT, WITHOUT ROWID;
