-- Jobs, their checkpoints and metric series. Portable SQL: text ids, integer unix-ms times, JSON as text.
CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    owner            TEXT NOT NULL DEFAULT 'anonymous',
    kind             TEXT NOT NULL,
    name             TEXT,
    status           TEXT NOT NULL,
    priority         INTEGER NOT NULL DEFAULT 0,
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL DEFAULT 3,
    fence            INTEGER NOT NULL DEFAULT 0,
    spec             TEXT NOT NULL,
    progress         TEXT,
    result           TEXT,
    error_code       TEXT,
    error_message    TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    lease_until      INTEGER,
    worker           TEXT,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX jobs_claim ON jobs (status, priority DESC, created_at);
CREATE INDEX jobs_listing ON jobs (owner, id);

CREATE TABLE checkpoints (
    job_id     TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    step       INTEGER NOT NULL,
    data       TEXT NOT NULL,
    bytes      INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (job_id, seq)
);

CREATE TABLE metrics (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    step   INTEGER NOT NULL,
    data   TEXT NOT NULL,
    PRIMARY KEY (job_id, step)
);
