-- Compiled programs, filled by the compiler: native code for a contract,
-- keyed by the code's hash, the compiler version and the target machine,
-- with an integrity tag the loader checks the blob against.
-- A rowid table (not WITHOUT ROWID): the blobs are large; see 001_state.sql.
CREATE TABLE program (
    code_hash        BLOB    NOT NULL CHECK (length(code_hash) = 32),
    compiler_version INTEGER NOT NULL,
    target           TEXT    NOT NULL,
    blob             BLOB    NOT NULL,
    tag              BLOB    NOT NULL CHECK (length(tag) = 32),
    PRIMARY KEY (code_hash, compiler_version, target)
) STRICT;
