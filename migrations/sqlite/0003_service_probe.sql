-- One row that readiness checks rewrite: a database that can be read but not written is not ready.
CREATE TABLE service_probe (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL
);
