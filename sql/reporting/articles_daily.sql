-- Reads reporting.articles_daily (defined in migrations/001_baseline.sql)
-- for the report window. A row: one source on one local day.
-- Parameters: %(since)s, %(until)s (dates, inclusive).
SELECT day, source_key, articles, with_author
FROM reporting.articles_daily
WHERE day BETWEEN %(since)s AND %(until)s
ORDER BY day, source_key;
