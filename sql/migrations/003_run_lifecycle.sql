-- Every run ends in a final state, even when its process dies.
--
-- A process working on a run holds a lease on the run row (lease_until), renewed by a
-- heartbeat while it works. A run still 'running' whose lease has expired has lost its
-- process (kill -9, a lost machine): the next run of its source, or `news-etl runs`,
-- marks it 'abandoned' and closes its ledger (URLs without an outcome become 'failed').

ALTER TABLE ingest_runs DROP CONSTRAINT ingest_runs_status_check;
ALTER TABLE ingest_runs ADD CONSTRAINT ingest_runs_status_check
    CHECK (status IN ('running', 'succeeded', 'failed', 'abandoned'));
ALTER TABLE ingest_runs
    ADD COLUMN heartbeat_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN lease_until  timestamptz NOT NULL DEFAULT now() + interval '10 minutes',
    ADD COLUMN worker       text;
-- Rows older than this migration ended long ago or never will: a running one is stale now.
UPDATE ingest_runs SET lease_until = now() WHERE status = 'running';
-- Finding the stale runs reads only the running ones.
CREATE INDEX ingest_runs_running_idx ON ingest_runs (source_key, lease_until) WHERE status = 'running';

COMMENT ON COLUMN ingest_runs.status IS
    'running, succeeded, failed (an error, a failed check or an interruption), or abandoned (its process died: its lease expired).';
COMMENT ON COLUMN ingest_runs.heartbeat_at IS 'When a process working on the run last said it was alive.';
COMMENT ON COLUMN ingest_runs.lease_until IS
    'A running run whose lease has passed has lost its process and is marked abandoned.';
COMMENT ON COLUMN ingest_runs.worker IS 'The process that last worked on the run (host:pid).';
COMMENT ON COLUMN reporting.run_outcomes.status IS 'running, succeeded, failed or abandoned.';
