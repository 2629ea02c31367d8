-- Folio's job queue (folio serve --jobs-db postgres://...). Applied once, under an advisory
-- lock, by the first replica that starts; recorded in folio_schema_migrations.
CREATE TABLE folio_jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    format TEXT NOT NULL,
    filename TEXT,
    webhook_url TEXT,
    webhook_state TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    created_ms BIGINT NOT NULL,
    started_ms BIGINT,
    finished_ms BIGINT,
    error_code TEXT,
    error_message TEXT,
    pages INTEGER,
    -- A digest of the API key that created the job; never the key.
    owner TEXT,
    -- The runner holding a running job, and until when (renewed by its heartbeat).
    worker TEXT,
    lease_until_ms BIGINT,
    progress_done INTEGER,
    progress_total INTEGER,
    output TEXT
);
CREATE INDEX folio_jobs_queue ON folio_jobs (created_ms, id) WHERE status = 'queued';
CREATE INDEX folio_jobs_leases ON folio_jobs (lease_until_ms) WHERE status = 'running';
CREATE INDEX folio_jobs_ended ON folio_jobs (finished_ms) WHERE finished_ms IS NOT NULL;
CREATE INDEX folio_jobs_webhooks ON folio_jobs (finished_ms) WHERE webhook_state = 'pending';

-- The document (or its s3:// address) and options, password included: deleted when the job ends.
CREATE TABLE folio_job_inputs (
    job_id TEXT PRIMARY KEY REFERENCES folio_jobs (id) ON DELETE CASCADE,
    fields TEXT NOT NULL,
    bytes BYTEA NOT NULL,
    source TEXT
);

-- A finished job's answer: deleted with the job after --job-ttl.
CREATE TABLE folio_job_results (
    job_id TEXT PRIMARY KEY REFERENCES folio_jobs (id) ON DELETE CASCADE,
    body BYTEA NOT NULL
);
