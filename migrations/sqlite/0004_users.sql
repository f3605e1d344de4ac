-- Users, their API tokens (SHA-256 digests only), quotas, and the audit log (issue 15).
CREATE TABLE users (
    name              TEXT PRIMARY KEY,
    admin             INTEGER NOT NULL DEFAULT 0,
    max_running       INTEGER,
    max_queued        INTEGER,
    max_dataset_bytes INTEGER,
    created_at        INTEGER NOT NULL
);

CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    user_name    TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    label        TEXT,
    digest       TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX tokens_user ON tokens (user_name);

CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    remote TEXT
);

-- Wall time each job held a compute slot, for fair scheduling and per-user accounting.
ALTER TABLE jobs ADD COLUMN slot_ms INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_owner_status ON jobs (owner, status);
