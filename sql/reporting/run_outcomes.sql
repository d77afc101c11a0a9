-- Reads reporting.run_outcomes (migrations/001_baseline.sql): the runs
-- started in the report window, oldest first. A row: one run.
-- Parameters: %(since)s, %(until)s (dates, inclusive, UTC).
SELECT run_id, source_key, kind, status, started_at, duration_s, discovered,
       new, updated, unchanged, duplicate_exact, duplicate_near, rejected, failed, pending
FROM reporting.run_outcomes
WHERE started_at >= %(since)s::date::timestamp AT TIME ZONE 'UTC'
  AND started_at < (%(until)s::date + 1)::timestamp AT TIME ZONE 'UTC'
ORDER BY started_at, run_id;
