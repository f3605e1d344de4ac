-- Labels (tags, notes) and idempotency keys of jobs (issue 18), as in migrations/sqlite/0007:
-- `tags` is the array shown in job views, `job_tags` one row per tag for exact-match filtering,
-- and `idempotency_key` unique per owner (NULLs never collide).
ALTER TABLE jobs ADD COLUMN tags JSONB NOT NULL DEFAULT '[]';
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
