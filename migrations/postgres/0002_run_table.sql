-- The run table (issue 19): each succeeded job's key results as plain columns, written when the
-- job completes, so the job list sorts and pages on them without parsing result JSON.
CREATE TABLE run_summaries (
    job_id        TEXT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    mi_bits       DOUBLE PRECISION,
    correlation   DOUBLE PRECISION,
    n             BIGINT,
    networks      BIGINT,
    rook_score    DOUBLE PRECISION,
    generations   BIGINT,
    test_accuracy DOUBLE PRECISION,
    epochs        BIGINT,
    elapsed_ms    BIGINT
);
