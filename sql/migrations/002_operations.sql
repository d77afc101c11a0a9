-- Operations (issue 21): politeness shared by every worker, the Airflow run behind an
-- ingest run, run outcomes and rejects that show the moment a run ends, and the tables
-- analysts may read.


-- ---------------------------------------------------------------- politeness

-- One row per host the fetcher sends requests to. A fetcher takes the host's next slot
-- with one atomic UPDATE ... RETURNING (news_etl.politeness): the row lock orders
-- concurrent takers, so the configured requests per second per host hold across fetch
-- tasks, DAG runs and Celery workers, not only inside one process.
CREATE TABLE host_schedule (
    host     text PRIMARY KEY,
    next_at  timestamptz NOT NULL
);
COMMENT ON TABLE host_schedule IS
    'Fetcher bookkeeping: per host, the earliest time of its next request (the shared rate limit).';
COMMENT ON COLUMN host_schedule.host IS 'Host and port requests are sent to (the mirror''s, when one is used).';
COMMENT ON COLUMN host_schedule.next_at IS 'No request to the host may start before this time.';


-- ---------------------------------------------------------------- the Airflow run behind a run

ALTER TABLE ingest_runs
    ADD COLUMN airflow_dag_id text,
    ADD COLUMN airflow_run_id text,
    ADD COLUMN airflow_logical_date timestamptz;
COMMENT ON COLUMN ingest_runs.airflow_dag_id IS 'For runs started by Airflow: the DAG id (e.g. tengrinews_ingest).';
COMMENT ON COLUMN ingest_runs.airflow_run_id IS 'For runs started by Airflow: the DAG run id, as in the Airflow UI.';
COMMENT ON COLUMN ingest_runs.airflow_logical_date IS
    'For runs started by Airflow: the DAG run''s logical date (NULL for a manual run without one).';
-- The report reads runs by start time.
CREATE INDEX ingest_runs_started_idx ON ingest_runs (started_at);


-- ---------------------------------------------------------------- operational views, never stale

-- Runs and rejects are read to operate the ETL: a run that just failed must show at
-- once, whoever ended it, so these two are plain views. Per run the counts are one
-- probe of run_urls' primary key (the LATERAL join), so a report window over a few
-- days reads only its runs' ledgers whatever the history.
DROP MATERIALIZED VIEW reporting.run_outcomes;
CREATE VIEW reporting.run_outcomes AS
SELECT r.run_id,
       r.source_key,
       r.kind,
       r.status,
       r.started_at,
       r.finished_at,
       extract(epoch FROM r.finished_at - r.started_at)::double precision AS duration_s,
       c.discovered,
       c.new,
       c.updated,
       c.unchanged,
       c.duplicate_exact,
       c.duplicate_near,
       c.rejected,
       c.failed,
       c.pending,
       r.error,
       r.airflow_dag_id,
       r.airflow_run_id,
       r.airflow_logical_date
FROM ingest_runs r
CROSS JOIN LATERAL (
    SELECT count(*)::bigint AS discovered,
           count(*) FILTER (WHERE u.outcome = 'new')::bigint AS new,
           count(*) FILTER (WHERE u.outcome = 'updated')::bigint AS updated,
           count(*) FILTER (WHERE u.outcome = 'unchanged')::bigint AS unchanged,
           count(*) FILTER (WHERE u.outcome = 'duplicate_exact')::bigint AS duplicate_exact,
           count(*) FILTER (WHERE u.outcome = 'duplicate_near')::bigint AS duplicate_near,
           count(*) FILTER (WHERE u.outcome = 'rejected')::bigint AS rejected,
           count(*) FILTER (WHERE u.outcome = 'failed')::bigint AS failed,
           count(*) FILTER (WHERE u.outcome IS NULL)::bigint AS pending
    FROM run_urls u
    WHERE u.run_id = r.run_id
) c;
COMMENT ON VIEW reporting.run_outcomes IS
    'One row per ingestion run: its status and times, and how many of its discovered URLs ended in each ledger outcome (pending = no outcome yet). Always current.';
COMMENT ON COLUMN reporting.run_outcomes.run_id IS 'The run.';
COMMENT ON COLUMN reporting.run_outcomes.source_key IS 'The source it read; NULL for seed loads.';
COMMENT ON COLUMN reporting.run_outcomes.kind IS 'What started it: cli, airflow, seeds or reparse.';
COMMENT ON COLUMN reporting.run_outcomes.status IS 'Its status, as ingest_runs.status (running, succeeded, failed...).';
COMMENT ON COLUMN reporting.run_outcomes.started_at IS 'When it started.';
COMMENT ON COLUMN reporting.run_outcomes.finished_at IS 'When it ended; NULL while running.';
COMMENT ON COLUMN reporting.run_outcomes.duration_s IS 'Seconds from start to end; NULL until it ended.';
COMMENT ON COLUMN reporting.run_outcomes.discovered IS 'URLs in its ledger.';
COMMENT ON COLUMN reporting.run_outcomes.new IS 'URLs stored as a new article.';
COMMENT ON COLUMN reporting.run_outcomes.updated IS 'URLs whose stored article changed.';
COMMENT ON COLUMN reporting.run_outcomes.unchanged IS 'URLs whose stored article was already up to date.';
COMMENT ON COLUMN reporting.run_outcomes.duplicate_exact IS 'URLs found to repeat a stored article exactly.';
COMMENT ON COLUMN reporting.run_outcomes.duplicate_near IS 'URLs found to nearly repeat a stored article.';
COMMENT ON COLUMN reporting.run_outcomes.rejected IS 'URLs rejected (the reason is in rejects).';
COMMENT ON COLUMN reporting.run_outcomes.failed IS 'URLs that failed (e.g. the fetch gave up).';
COMMENT ON COLUMN reporting.run_outcomes.pending IS 'URLs without an outcome yet.';
COMMENT ON COLUMN reporting.run_outcomes.error IS 'Why the run failed, in one line.';
COMMENT ON COLUMN reporting.run_outcomes.airflow_dag_id IS 'The Airflow DAG that ran it, if any.';
COMMENT ON COLUMN reporting.run_outcomes.airflow_run_id IS 'The Airflow DAG run, if any.';
COMMENT ON COLUMN reporting.run_outcomes.airflow_logical_date IS 'The Airflow DAG run''s logical date, if any.';

-- Rejects of runs without a source (seed loads) have source_key NULL and are counted
-- in UTC days. A filter on day is applied before grouping (it is a grouping column).
DROP MATERIALIZED VIEW reporting.rejects_daily;
CREATE VIEW reporting.rejects_daily AS
SELECT (j.created_at AT TIME ZONE coalesce(s.timezone, 'UTC'))::date AS day,
       r.source_key,
       j.stage,
       j.reason,
       count(*)::bigint AS rejects,
       count(DISTINCT j.url)::bigint AS urls,
       max(j.created_at) AS last_at
FROM rejects j
LEFT JOIN ingest_runs r USING (run_id)
LEFT JOIN sources s ON s.source_key = r.source_key
GROUP BY 1, 2, 3, 4;
COMMENT ON VIEW reporting.rejects_daily IS
    'One row per local day, source (NULL when the run had none), stage and reason: rejects recorded, distinct URLs, last time seen. Always current.';
COMMENT ON COLUMN reporting.rejects_daily.day IS 'Local day the rejects were recorded (UTC when no source).';
COMMENT ON COLUMN reporting.rejects_daily.source_key IS 'The run''s source; NULL for seed loads.';
COMMENT ON COLUMN reporting.rejects_daily.stage IS 'The stage that rejected.';
COMMENT ON COLUMN reporting.rejects_daily.reason IS 'The reason given.';
COMMENT ON COLUMN reporting.rejects_daily.rejects IS 'Rejects recorded.';
COMMENT ON COLUMN reporting.rejects_daily.urls IS 'Distinct URLs (or seed files) among them.';
COMMENT ON COLUMN reporting.rejects_daily.last_at IS 'When the last of them was recorded.';


-- ---------------------------------------------------------------- what analysts read

-- news_reader reads every table an analysis needs: the articles and their history,
-- duplicates, sources, runs and their ledger. Not the raw pages (bulk, and the
-- site's bytes, not ours to republish), the staging table, the loader's fingerprints
-- and bands, nor the fetcher's schedule. Logins are made with `news-etl db grant-reader`.
GRANT SELECT ON reporting.run_outcomes, reporting.rejects_daily TO news_reader;
GRANT SELECT ON sources, ingest_runs, run_urls, rejects, article_urls, article_revisions, duplicates
    TO news_reader;
