-- Uploaded datasets: metadata plus the two IDX files as uploaded (raw or gzip), in one row so an
-- upload is stored whole or not at all.
CREATE TABLE datasets (
    id         TEXT PRIMARY KEY,
    owner      TEXT NOT NULL DEFAULT 'anonymous',
    name       TEXT NOT NULL,
    count      INTEGER NOT NULL,
    features   INTEGER NOT NULL,
    classes    INTEGER NOT NULL,
    shape      TEXT NOT NULL,
    bytes      INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    images     BLOB NOT NULL,
    labels     BLOB NOT NULL
);
CREATE INDEX datasets_listing ON datasets (owner, id);
