-- Labels (tags, notes) and idempotency keys of jobs (issue 18).
-- `tags` is the JSON array shown in job views; `job_tags` holds one row per tag for exact-match
-- filtering (`GET /v1/jobs?tag=`). `idempotency_key` is unique per owner (NULLs never collide),
-- so two simultaneous submissions with one key create one job; `request_digest` is the SHA-256
-- of the canonical submission body the key was first used with.
ALTER TABLE jobs ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE jobs ADD COLUMN notes TEXT;
ALTER TABLE jobs ADD COLUMN idempotency_key TEXT;
ALTER TABLE jobs ADD COLUMN request_digest TEXT;
CREATE UNIQUE INDEX jobs_idempotency ON jobs (owner, idempotency_key);

CREATE TABLE job_tags (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    tag    TEXT NOT NULL,
    PRIMARY KEY (job_id, tag)
);
CREATE INDEX job_tags_tag ON job_tags (tag, job_id);
