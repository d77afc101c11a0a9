-- Reads reporting.rejects_daily (migrations/001_baseline.sql), totalled
-- over the report window. A row: one stage and reason, most frequent first.
-- Parameters: %(since)s, %(until)s (dates, inclusive).
SELECT stage, reason, sum(rejects)::bigint AS rejects, max(last_at) AS last_at
FROM reporting.rejects_daily
WHERE day BETWEEN %(since)s AND %(until)s
GROUP BY stage, reason
ORDER BY rejects DESC, stage, reason;
