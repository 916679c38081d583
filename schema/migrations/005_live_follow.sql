-- Live mode, cold calls: the keys (accounts and slots) a call read, per
-- target address and 4-byte selector, as the last such call that fetched
-- anything read them. The next cold call with that target and selector
-- asks the upstream for the ones SQLite lacks in one batched request
-- before it runs. `keys` packs entries of 53 bytes: a kind byte (0 an
-- account, 1 a slot), the address (20), the slot (32, zeros for an account).
CREATE TABLE live_call_reads (
    target   BLOB NOT NULL CHECK (length(target) = 20),
    selector BLOB NOT NULL CHECK (length(selector) <= 4),
    keys     BLOB NOT NULL,
    PRIMARY KEY (target, selector)
) STRICT, WITHOUT ROWID;

-- Live mode, following: for each of the last blocks applied (128 kept),
-- what the cache held before the block changed it, so that a reorg walks
-- back to the common ancestor by restoring these instead of dropping the
-- cache. `undo` packs, for each key the block touched, what the cache
-- held before its first touch: see store.c (undo records) for the format.
CREATE TABLE live_block_undo (
    number      INTEGER NOT NULL PRIMARY KEY,
    hash        BLOB    NOT NULL CHECK (length(hash) = 32),
    parent_hash BLOB    NOT NULL CHECK (length(parent_hash) = 32),
    undo        BLOB    NOT NULL
) STRICT;

-- Live mode: accounts whose storage the upstream said is not empty (the
-- storage root of eth_getProof), which the partial `storage` table cannot
-- tell; CREATE and CREATE2 onto such an address collide (EIP-7610).
CREATE TABLE live_has_storage (
    address BLOB NOT NULL PRIMARY KEY CHECK (length(address) = 20)
) STRICT, WITHOUT ROWID;
