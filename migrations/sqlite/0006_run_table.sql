-- The run table (issue 19): each succeeded job's key results as plain columns, written when the
-- job completes, so the job list sorts and pages on them without parsing result JSON.
-- Which columns a kind fills: mi (mi_bits = mean I, correlation = mean C, n, networks),
-- evolution (mi_bits and correlation of the best network, n, rook_score, generations),
-- lif (test_accuracy, epochs); elapsed_ms for all. Others stay NULL.
CREATE TABLE run_summaries (
    job_id        TEXT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    mi_bits       DOUBLE PRECISION,
    correlation   DOUBLE PRECISION,
    n             INTEGER,
    networks      INTEGER,
    rook_score    DOUBLE PRECISION,
    generations   INTEGER,
    test_accuracy DOUBLE PRECISION,
    epochs        INTEGER,
    elapsed_ms    INTEGER
);
