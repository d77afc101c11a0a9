-- Reporting: the analysts' views (schema "reporting"), the read-only role
-- news_reader, and sources.timezone (local days are the source's days).
--
-- Where the view SQL lives, and why only here: the migration runner executes
-- one file as-is and cannot include other files, and a migration, once
-- applied, must never change (its checksum is recorded). So the one and only
-- definition of each view is below; a later change to a view is a new
-- migration (CREATE OR REPLACE / DROP + CREATE), never an edit here.
-- sql/reporting/ holds, one file per view, the query that *reads* that view
-- for `news-etl report` (news_etl.report runs those files and nothing else),
-- so no SQL is written twice. The REFRESH list is not written anywhere:
-- news_etl.report.refresh_views() takes every materialized view of the
-- "reporting" schema from pg_matviews, so a view added by a later migration
-- is refreshed without touching code.
--
-- Conventions of every view:
--   * "day" is a local calendar day in the source's time zone
--     (sources.timezone; UTC for rows that have no source);
--   * durations are in seconds (double precision);
--   * aggregates are MATERIALIZED VIEWs with a plain UNIQUE index on their
--     key, so that REFRESH MATERIALIZED VIEW CONCURRENTLY works (readers are
--     never blocked while the Airflow reporting DAG refreshes them).

-- The loader fills this from sources.yaml; tengrinews is set here for
-- databases that already hold its row. The CHECK refuses a zone name that
-- PostgreSQL does not know (it would otherwise break every refresh).
ALTER TABLE sources ADD COLUMN timezone text NOT NULL DEFAULT 'UTC'
    CONSTRAINT sources_timezone_check CHECK ((now() AT TIME ZONE timezone) IS NOT NULL);
UPDATE sources SET timezone = 'Asia/Almaty' WHERE source_key = 'tengrinews';
COMMENT ON COLUMN sources.timezone IS
    'IANA time zone of the source''s publication dates; reporting days are local days in it.';

CREATE SCHEMA reporting;
COMMENT ON SCHEMA reporting IS
    'Read-only views for analysts (news_reader): one COMMENT per view says what a row is.';

-- Articles per local day of publication and source.
CREATE MATERIALIZED VIEW reporting.articles_daily AS
SELECT a.source_key,
       (a.published_at AT TIME ZONE s.timezone)::date AS day,
       count(*)::bigint AS articles,
       count(*) FILTER (WHERE a.author <> '')::bigint AS with_author
FROM articles a
JOIN sources s USING (source_key)
GROUP BY 1, 2;
CREATE UNIQUE INDEX articles_daily_key ON reporting.articles_daily (source_key, day);
COMMENT ON MATERIALIZED VIEW reporting.articles_daily IS
    'One row per source and local publication day (source time zone): articles published that day, and how many name an author.';

-- Same, split by section: the first path segment of the canonical URL, for
-- URLs that have a further segment after it (https://host/SECTION/slug/).
CREATE MATERIALIZED VIEW reporting.articles_daily_section AS
SELECT a.source_key,
       (a.published_at AT TIME ZONE s.timezone)::date AS day,
       substring(a.canonical_url FROM '^[a-z]+://[^/]+/([^/?#]+)/[^/?#]') AS section,
       count(*)::bigint AS articles
FROM articles a
JOIN sources s USING (source_key)
WHERE a.canonical_url ~ '^[a-z]+://[^/]+/[^/?#]+/[^/?#]'
GROUP BY 1, 2, 3;
CREATE UNIQUE INDEX articles_daily_section_key ON reporting.articles_daily_section (source_key, day, section);
COMMENT ON MATERIALIZED VIEW reporting.articles_daily_section IS
    'One row per source, local publication day and section (first URL path segment, only for URLs that have one): articles published.';

-- How long after publication an article was first stored. Negative lags
-- (clock skew, dates announced ahead) are kept: hiding them would hide a bug.
CREATE MATERIALIZED VIEW reporting.ingestion_lag_daily AS
SELECT a.source_key,
       (a.published_at AT TIME ZONE s.timezone)::date AS day,
       count(*)::bigint AS articles,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.first_seen - a.published_at)::double precision)
           AS lag_p50_s,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM a.first_seen - a.published_at)::double precision)
           AS lag_p90_s,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM a.first_seen - a.published_at)::double precision)
           AS lag_p99_s,
       max(extract(epoch FROM a.first_seen - a.published_at))::double precision AS lag_max_s
FROM articles a
JOIN sources s USING (source_key)
GROUP BY 1, 2;
CREATE UNIQUE INDEX ingestion_lag_daily_key ON reporting.ingestion_lag_daily (source_key, day);
COMMENT ON MATERIALIZED VIEW reporting.ingestion_lag_daily IS
    'One row per source and local publication day: articles, and percentiles (50, 90, 99, max) of the ingestion lag first_seen - published_at in seconds.';

-- Counted from the ledger (run_urls), the record of truth; a URL still
-- without an outcome (run running or crashed) is counted as pending.
CREATE MATERIALIZED VIEW reporting.run_outcomes AS
SELECT r.run_id,
       r.source_key,
       r.kind,
       r.status,
       r.started_at,
       r.finished_at,
       extract(epoch FROM r.finished_at - r.started_at)::double precision AS duration_s,
       count(u.url)::bigint AS discovered,
       count(*) FILTER (WHERE u.outcome = 'new')::bigint AS new,
       count(*) FILTER (WHERE u.outcome = 'updated')::bigint AS updated,
       count(*) FILTER (WHERE u.outcome = 'unchanged')::bigint AS unchanged,
       count(*) FILTER (WHERE u.outcome = 'duplicate_exact')::bigint AS duplicate_exact,
       count(*) FILTER (WHERE u.outcome = 'duplicate_near')::bigint AS duplicate_near,
       count(*) FILTER (WHERE u.outcome = 'rejected')::bigint AS rejected,
       count(*) FILTER (WHERE u.outcome = 'failed')::bigint AS failed,
       count(u.url) FILTER (WHERE u.outcome IS NULL)::bigint AS pending,
       r.error
FROM ingest_runs r
LEFT JOIN run_urls u USING (run_id)
GROUP BY r.run_id;
CREATE UNIQUE INDEX run_outcomes_key ON reporting.run_outcomes (run_id);
CREATE INDEX run_outcomes_started_idx ON reporting.run_outcomes (started_at);
COMMENT ON MATERIALIZED VIEW reporting.run_outcomes IS
    'One row per ingestion run: its status and times, and how many of its discovered URLs ended in each ledger outcome (pending = no outcome yet).';

-- Rejects of runs without a source (seed loads) have source_key NULL and are
-- counted in UTC days.
CREATE MATERIALIZED VIEW reporting.rejects_daily AS
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
CREATE UNIQUE INDEX rejects_daily_key ON reporting.rejects_daily (day, source_key, stage, reason);
COMMENT ON MATERIALIZED VIEW reporting.rejects_daily IS
    'One row per local day, source (NULL when the run had none), stage and reason: rejects recorded, distinct URLs, last time seen.';

-- The copy's source is duplicates.source_key; the original's is its article's.
CREATE MATERIALIZED VIEW reporting.duplicates_by_source_pair AS
SELECT d.source_key,
       o.source_key AS original_source_key,
       d.kind,
       count(*)::bigint AS duplicates,
       avg(d.similarity)::double precision AS avg_similarity,
       min(d.similarity)::double precision AS min_similarity,
       min(d.detected_at) AS first_detected_at,
       max(d.detected_at) AS last_detected_at
FROM duplicates d
JOIN articles o ON o.article_id = d.original_article_id
GROUP BY 1, 2, 3;
CREATE UNIQUE INDEX duplicates_by_source_pair_key
    ON reporting.duplicates_by_source_pair (source_key, original_source_key, kind);
COMMENT ON MATERIALIZED VIEW reporting.duplicates_by_source_pair IS
    'One row per (source of the copy, source of the original, kind exact|near): duplicates found, their similarity (mean, min) and when first and last detected.';

-- Articles without an author ('') are not an author and are left out.
CREATE MATERIALIZED VIEW reporting.top_authors AS
SELECT source_key,
       author,
       articles,
       first_published_at,
       last_published_at,
       rank() OVER (PARTITION BY source_key ORDER BY articles DESC)::bigint AS rank
FROM (
    SELECT source_key, author, count(*)::bigint AS articles,
           min(published_at) AS first_published_at, max(published_at) AS last_published_at
    FROM articles
    WHERE author <> ''
    GROUP BY source_key, author
) per_author;
CREATE UNIQUE INDEX top_authors_key ON reporting.top_authors (source_key, author);
CREATE INDEX top_authors_rank_idx ON reporting.top_authors (rank);
COMMENT ON MATERIALIZED VIEW reporting.top_authors IS
    'One row per source and author (articles with no author excluded): articles signed, first and last publication, rank within the source by articles (ties share a rank).';

-- A revision row is written when a stored article changed; its day is the
-- local day the older version was replaced.
CREATE MATERIALIZED VIEW reporting.revisions_daily AS
SELECT a.source_key,
       (v.replaced_at AT TIME ZONE s.timezone)::date AS day,
       count(*)::bigint AS revisions,
       count(DISTINCT v.article_id)::bigint AS articles
FROM article_revisions v
JOIN articles a USING (article_id)
JOIN sources s ON s.source_key = a.source_key
GROUP BY 1, 2;
CREATE UNIQUE INDEX revisions_daily_key ON reporting.revisions_daily (source_key, day);
COMMENT ON MATERIALIZED VIEW reporting.revisions_daily IS
    'One row per source and local day: article versions replaced that day (revisions) and distinct articles that changed.';

-- The read-only role. Roles are cluster-wide and several databases (tests,
-- CI, the demo) share a server, so it may already exist, or be being created
-- by a concurrent migration of another database: both are fine. NOLOGIN: it
-- is a group role; give it to a login role with GRANT news_reader TO someone.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'news_reader') THEN
        BEGIN
            CREATE ROLE news_reader NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;  -- created meanwhile by another session
        END;
    END IF;
END
$$;

-- Reading the views and the articles, nothing else: no raw pages, no ledger,
-- no write of any kind. Views run with their owner's rights, so the role
-- needs no access to the tables behind them.
GRANT USAGE ON SCHEMA reporting TO news_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO news_reader;
-- Views that later migrations add to "reporting" are readable too.
ALTER DEFAULT PRIVILEGES IN SCHEMA reporting GRANT SELECT ON TABLES TO news_reader;
GRANT USAGE ON SCHEMA public TO news_reader;
GRANT SELECT ON articles TO news_reader;
-- PostgreSQL < 15 lets every role create tables in "public"; 15+ already
-- does not. Without this news_reader could write there on an older server.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
