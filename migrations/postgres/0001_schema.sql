-- fluxlab on PostgreSQL: the same tables as the SQLite schema (migrations/sqlite), with native
-- types where they help: jsonb for specs, results, progress, checkpoints and metric rows, bytea
-- for uploaded files, booleans for flags. Times are unix milliseconds (bigint) as in SQLite, so
-- both backends compute leases and fairness the same way.
CREATE TABLE jobs (
    id               TEXT COLLATE "C" PRIMARY KEY,
    owner            TEXT NOT NULL DEFAULT 'anonymous',
    kind             TEXT NOT NULL,
    name             TEXT,
    status           TEXT NOT NULL,
    priority         BIGINT NOT NULL DEFAULT 0,
    attempts         BIGINT NOT NULL DEFAULT 0,
    max_attempts     BIGINT NOT NULL DEFAULT 3,
    fence            BIGINT NOT NULL DEFAULT 0,
    spec             JSONB NOT NULL,
    progress         JSONB,
    result           JSONB,
    error_code       TEXT,
    error_message    TEXT,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    lease_until      BIGINT,
    worker           TEXT,
    created_at       BIGINT NOT NULL,
    started_at       BIGINT,
    finished_at      BIGINT,
    updated_at       BIGINT NOT NULL,
    slot_ms          BIGINT NOT NULL DEFAULT 0
);
-- Claiming: the queued jobs in priority then age order (partial: only the queue).
CREATE INDEX jobs_queue ON jobs (priority DESC, created_at, id) WHERE status = 'queued';
-- Lease recovery and running counts per owner.
CREATE INDEX jobs_running ON jobs (owner, lease_until) WHERE status = 'running';
-- Listing (keyset on id within an owner) and per-owner counts.
CREATE INDEX jobs_listing ON jobs (owner, id);
CREATE INDEX jobs_owner_status ON jobs (owner, status);
-- Slot time of the last day per owner (fair scheduling).
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE checkpoints (
    job_id     TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    step       BIGINT NOT NULL,
    data       JSONB NOT NULL,
    bytes      BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (job_id, seq)
);

CREATE TABLE metrics (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    step   BIGINT NOT NULL,
    data   JSONB NOT NULL,
    PRIMARY KEY (job_id, step)
);

CREATE TABLE datasets (
    id         TEXT COLLATE "C" PRIMARY KEY,
    owner      TEXT NOT NULL DEFAULT 'anonymous',
    name       TEXT NOT NULL,
    count      BIGINT NOT NULL,
    features   BIGINT NOT NULL,
    classes    BIGINT NOT NULL,
    shape      JSONB NOT NULL,
    bytes      BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    images     BYTEA NOT NULL,
    labels     BYTEA NOT NULL
);
CREATE INDEX datasets_listing ON datasets (owner, id);

CREATE TABLE service_probe (
    id INTEGER PRIMARY KEY,
    at BIGINT NOT NULL
);

CREATE TABLE users (
    name              TEXT PRIMARY KEY,
    admin             BOOLEAN NOT NULL DEFAULT FALSE,
    max_running       BIGINT,
    max_queued        BIGINT,
    max_dataset_bytes BIGINT,
    created_at        BIGINT NOT NULL
);

CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    user_name    TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    label        TEXT,
    digest       TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX tokens_user ON tokens (user_name);

CREATE TABLE audit_log (
    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at     BIGINT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    remote TEXT
);

CREATE TABLE workers (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    host         TEXT NOT NULL,
    pid          BIGINT NOT NULL,
    version      TEXT NOT NULL,
    threads      BIGINT NOT NULL,
    max_jobs     BIGINT NOT NULL,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    stopped_at   BIGINT,
    jobs_held    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX workers_heartbeat ON workers (heartbeat_at);
