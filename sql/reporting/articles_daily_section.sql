-- Reads reporting.articles_daily_section (migrations/001_baseline.sql) for
-- the report window, totalled over it. A row: one section of one source.
-- Parameters: %(since)s, %(until)s (dates, inclusive).
SELECT source_key, section, sum(articles)::bigint AS articles
FROM reporting.articles_daily_section
WHERE day BETWEEN %(since)s AND %(until)s
GROUP BY source_key, section
ORDER BY articles DESC, source_key, section;
