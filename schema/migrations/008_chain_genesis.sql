-- What the genesis block was made of beyond the fork schedule (chain_fork)
-- and the head: the parts of its header that no later head keeps (so that
-- block 0 is served as geth serves it while it is the head), the genesis
-- timestamp (EIP-2124 counts only the timestamped forks after it; EIP-7910
-- shows a fork at or before it as activationTime 0) and EIP-6110's deposit
-- contract (`depositContractAddress` of a genesis file, the network's for
-- the public ones; NULL: none known, the zero address). One row, written by
-- `init`; a database made before this migration has none (eth_config then
-- falls back to what the public networks are known to have).
CREATE TABLE chain_genesis (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    number           INTEGER NOT NULL,
    timestamp        INTEGER NOT NULL,
    extra_data       BLOB    NOT NULL CHECK (length(extra_data) <= 1024),
    nonce            INTEGER NOT NULL,
    deposit_contract BLOB    CHECK (deposit_contract IS NULL OR length(deposit_contract) = 20)
) STRICT;

-- The block numbers EIP-2124's fork id counts, as geth gathers them from
-- its chain configuration: every `...Block` activation of the genesis file
-- (those that change no EVM rule too: daoForkBlock, muirGlacierBlock,
-- arrowGlacierBlock, grayGlacierBlock, mergeNetsplitBlock), each number
-- once, block 0 included here and skipped when hashing. No rows: the
-- schedule's own block-numbered activations (chain_fork) are counted.
CREATE TABLE chain_forkid_block (
    number INTEGER NOT NULL PRIMARY KEY
) STRICT;
