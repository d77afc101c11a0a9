-- Reads reporting.top_authors (migrations/001_baseline.sql): all time, the
-- first %(limit)s ranks of each source. A row: one author of one source.
SELECT source_key, rank, author, articles, last_published_at
FROM reporting.top_authors
WHERE rank <= %(limit)s
ORDER BY source_key, rank, author;
