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
--   the triggers below, so every writer (import, admin methods, block
--   application) is covered without knowing about the trie; bringing the
--   trie up to date empties it.
-- * trie_state.built is 0 until the trie has been built once in full (a new
--   database, one created before this migration). While it is 0 the
--   triggers record nothing: the first build reads everything anyway, so a
--   bulk import into a new database pays one lookup per row, no insert.
-- * A live database (live_upstream has its row) caches an upstream node's
--   state, it does not hold it: no trie is built there and the triggers
--   record nothing, so cache writes never grow trie_dirty.
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

CREATE TRIGGER trie_dirty_account_insert AFTER INSERT ON account
WHEN (SELECT built FROM trie_state WHERE id = 1) = 1 AND NOT EXISTS (SELECT 1 FROM live_upstream)
BEGIN
    INSERT OR IGNORE INTO trie_dirty (address, slot) VALUES (NEW.address, X'');
END;

CREATE TRIGGER trie_dirty_account_update AFTER UPDATE ON account
WHEN (SELECT built FROM trie_state WHERE id = 1) = 1 AND NOT EXISTS (SELECT 1 FROM live_upstream)
BEGIN
    INSERT OR IGNORE INTO trie_dirty (address, slot) VALUES (OLD.address, X'');
    INSERT OR IGNORE INTO trie_dirty (address, slot) VALUES (NEW.address, X'');
END;

CREATE TRIGGER trie_dirty_account_delete AFTER DELETE ON account
WHEN (SELECT built FROM trie_state WHERE id = 1) = 1 AND NOT EXISTS (SELECT 1 FROM live_upstream)
BEGIN
    INSERT OR IGNORE INTO trie_dirty (address, slot) VALUES (OLD.address, X'');
END;

CREATE TRIGGER trie_dirty_storage_insert AFTER INSERT ON storage
WHEN (SELECT built FROM trie_state WHERE id = 1) = 1 AND NOT EXISTS (SELECT 1 FROM live_upstream)
BEGIN
    INSERT OR IGNORE INTO trie_dirty (address, slot) VALUES (NEW.address, NEW.slot);
END;

CREATE TRIGGER trie_dirty_storage_update AFTER UPDATE ON storage
WHEN (SELECT built FROM trie_state WHERE id = 1) = 1 AND NOT EXISTS (SELECT 1 FROM live_upstream)
BEGIN
    INSERT OR IGNORE INTO trie_dirty (address, slot) VALUES (OLD.address, OLD.slot);
    INSERT OR IGNORE INTO trie_dirty (address, slot) VALUES (NEW.address, NEW.slot);
END;

CREATE TRIGGER trie_dirty_storage_delete AFTER DELETE ON storage
WHEN (SELECT built FROM trie_state WHERE id = 1) = 1 AND NOT EXISTS (SELECT 1 FROM live_upstream)
BEGIN
    INSERT OR IGNORE INTO trie_dirty (address, slot) VALUES (OLD.address, OLD.slot);
END;
