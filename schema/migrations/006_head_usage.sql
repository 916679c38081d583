-- What the head block used of its gas limit and blob gas: the base fee and
-- excess blob gas of the block after it follow from them (EIP-1559,
-- EIP-4844), which eth_simulateV1's first block needs. Known when the head
-- came from a node (import --head, init --fork-url, following); 0 otherwise
-- (a genesis head, one written without them). Writing the head row replaces
-- it, so a head written without them reads 0, never an older block's.
ALTER TABLE head ADD COLUMN gas_used INTEGER NOT NULL DEFAULT 0;
ALTER TABLE head ADD COLUMN blob_gas_used INTEGER NOT NULL DEFAULT 0;
