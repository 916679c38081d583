-- The state trie, kept so that the state root and eth_getProof cost work
-- proportional to what changed since the trie was last brought up to date,
-- not to the size of the state (schema/trie_store.c maintains it).
--
-- * A trie is named by its owner: the empty BLOB for the account trie, the
--   account's hashed address (keccak256, 32 bytes) for its storage trie.
-- * trie_branch holds every branch node of every trie, by its path (the
--   nibbles leading to it, one nibble per byte, so that a path sorts right
--   before every path below it: the first row at or after a path P that
--   starts with P is the topmost branch under P). `node` is its RLP.
--   Extension and leaf nodes are not stored: they follow from the branch
--   below (its path) and from the leaf.
-- * trie_leaf holds every leaf by its hashed key, with the leaf's value
--   (the account's RLP, or the slot value's RLP).
-- * trie_dirty lists the accounts and slots written since the trie was last
--   brought up to date (slot = X'' for the account itself). It is filled by
--   triggers on account and storage (inserts, updates, deletes), so every
--   writer (import, admin methods, block application, the sqlite3 shell) is
--   covered without knowing about the trie; bringing the trie up to date
--   empties it.
-- * trie_state.built is 0 until the trie has been built once in full (a new
--   database, one created before this migration). The triggers are created
--   by that build (schema/trie_store.c, trie_view_build), not here: until
--   then there is nothing to keep up to date, and a trigger that only
--   tested the flag cost an import of 100,000 accounts 62% more
--   instructions. So a bulk import into a new database runs no trigger.
-- * A live database (live_upstream has its row) caches an upstream node's
--   state, it does not hold it: no trie is built there, so it has no
--   triggers and cache writes never grow trie_dirty.
CREATE TABLE trie_state (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    built INTEGER NOT NULL CHECK (built IN (0, 1))
) STRICT;
INSERT INTO trie_state (id, built) VALUES (1, 0);

CREATE TABLE trie_branch (
    owner BLOB NOT NULL CHECK (length(owner) IN (0, 32)),
    path  BLOB NOT NULL CHECK (length(path) < 64),
    node  BLOB NOT NULL,
    PRIMARY KEY (owner, path)
) STRICT, WITHOUT ROWID;

CREATE TABLE trie_leaf (
    owner BLOB NOT NULL CHECK (length(owner) IN (0, 32)),
    key   BLOB NOT NULL CHECK (length(key) = 32),
    value BLOB NOT NULL,
    PRIMARY KEY (owner, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE trie_dirty (
    address BLOB NOT NULL CHECK (length(address) = 20),
    slot    BLOB NOT NULL CHECK (length(slot) IN (0, 32)),
    PRIMARY KEY (address, slot)
) STRICT, WITHOUT ROWID;
