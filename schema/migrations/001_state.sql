-- Account state: accounts, their storage, and code by hash.
--
-- Key encodings, and why:
-- * Addresses, code hashes and slot keys are raw BLOBs (20 and 32 bytes),
--   not hex TEXT: half the size, and SQLite compares BLOBs with memcmp, so
--   the b-tree order is the numeric (big-endian) order and one account's
--   slots sit next to each other, sorted.
-- * Balances and slot values are minimal big-endian BLOBs (no leading zero
--   bytes; a zero balance is the empty BLOB). Nearly all of them are far
--   shorter than 32 bytes. A zero slot is never stored: absent means zero,
--   as in the state trie.
-- * Unsigned 64-bit numbers (nonce here; block number, timestamp, gas limit
--   and chain id later) are INTEGERs holding the same 64 bits. Values of
--   2^63 and more (a nonce can reach 2^64-1) read as negative in plain SQL;
--   the store converts them back.
-- * WITHOUT ROWID for tables with small rows keyed by their natural key:
--   the row lives in the primary-key b-tree itself, so a point read is one
--   b-tree descent and the key is stored once (a rowid table would keep the
--   key a second time in its primary-key index, and need two descents).
-- * `code` keeps its rowid: its rows are large BLOBs, which WITHOUT ROWID
--   handles badly (big rows spill into overflow pages inside the key b-tree
--   and make it deep); here only the small (hash, rowid) index is searched.
-- * STRICT: a value of the wrong type is an error, never silently converted.

PRAGMA application_id = 1246058061; -- 0x4A45564D, "JEVM": marks a jitevm database

CREATE TABLE account (
    address   BLOB    NOT NULL PRIMARY KEY CHECK (length(address) = 20),
    nonce     INTEGER NOT NULL,
    balance   BLOB    NOT NULL CHECK (length(balance) <= 32),
    -- NULL when the account has no code (keccak256 of the empty string):
    -- most accounts, so 32 bytes saved on each.
    code_hash BLOB CHECK (code_hash IS NULL OR length(code_hash) = 32)
) STRICT, WITHOUT ROWID;

CREATE TABLE storage (
    address BLOB NOT NULL CHECK (length(address) = 20),
    slot    BLOB NOT NULL CHECK (length(slot) = 32),
    value   BLOB NOT NULL CHECK (length(value) BETWEEN 1 AND 32),
    PRIMARY KEY (address, slot)
) STRICT, WITHOUT ROWID;

-- Content-addressed: a row is never changed, only added. Code no account
-- uses any more is left in place (it is small, and may come back).
CREATE TABLE code (
    hash BLOB NOT NULL PRIMARY KEY CHECK (length(hash) = 32),
    code BLOB NOT NULL CHECK (length(code) > 0)
) STRICT;
