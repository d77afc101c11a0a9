-- Reads reporting.ingestion_lag_daily (migrations/001_baseline.sql) for the
-- report window. A row: lag percentiles of one source's articles of one day.
-- Parameters: %(since)s, %(until)s (dates, inclusive).
SELECT day, source_key, articles, lag_p50_s, lag_p90_s, lag_p99_s, lag_max_s
FROM reporting.ingestion_lag_daily
WHERE day BETWEEN %(since)s AND %(until)s
ORDER BY day, source_key;
