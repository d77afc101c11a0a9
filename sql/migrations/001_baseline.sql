-- The news database, in the order data flows through it:
--   sources (configuration)
--   -> ingest_runs, run_urls, rejects      (every run and what became of each URL it found)
--   -> raw_pages                           (fetch: the pages as served)
--   -> staged_articles                     (parse: records waiting for the load task)
--   -> articles, article_urls, article_revisions, article_fingerprints, minhash_bands,
--      duplicates                          (load: identity, history, deduplication)
--   -> schema "reporting"                  (report: analysts' materialized views)
--   -> role news_reader                    (read-only access for analysts)
--
-- This file replaces the development chain 001_core ... 009 (squashed before any
-- production database existed). Later changes are new files 002_..., never an
-- edit here: the runner records each file it applied.
--
-- Integrity is PostgreSQL's own: foreign keys, unique and check constraints.
-- tests/db/test_schema.py lists every constraint and index below and fails if one
-- goes missing. Every column carries a COMMENT: they are the data dictionary.


-- ---------------------------------------------------------------- sources

-- One row per news site; filled from sources.yaml by the loader.
CREATE TABLE sources (
    source_key  text PRIMARY KEY,
    name        text NOT NULL,
    base_url    text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- The CHECK refuses a zone name PostgreSQL does not know: it would break every
    -- refresh of the reporting views.
    timezone    text NOT NULL DEFAULT 'UTC'
                CONSTRAINT sources_timezone_check CHECK ((now() AT TIME ZONE timezone) IS NOT NULL)
);
COMMENT ON TABLE sources IS 'One row per news site the ETL reads.';
COMMENT ON COLUMN sources.source_key IS 'Short stable key of the site (e.g. tengrinews), as in sources.yaml.';
COMMENT ON COLUMN sources.name IS 'Display name, as written in a seed file''s "Original: [name](url)".';
COMMENT ON COLUMN sources.base_url IS 'Home page URL of the site.';
COMMENT ON COLUMN sources.created_at IS 'When the source was first stored.';
COMMENT ON COLUMN sources.timezone IS
    'IANA time zone of the source''s publication dates; reporting days are local days in it.';


-- ---------------------------------------------------------------- runs and the ledger

-- One row per ingestion run (a CLI run, a DAG run, a seed load, a re-parse).
CREATE TABLE ingest_runs (
    run_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_key      text REFERENCES sources,
    kind            text NOT NULL DEFAULT 'cli',
    window_start    date,
    window_end      date,
    params          jsonb NOT NULL DEFAULT '{}'::jsonb,
    status          text NOT NULL DEFAULT 'running'
                    CHECK (status IN ('running', 'succeeded', 'failed')),
    discovered      integer NOT NULL DEFAULT 0,
    outcome_counts  jsonb NOT NULL DEFAULT '{}'::jsonb,
    stage_seconds   jsonb NOT NULL DEFAULT '{}'::jsonb,
    error           text,
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);
COMMENT ON TABLE ingest_runs IS 'One row per ingestion run: a CLI run, an Airflow DAG run, a seed load or a re-parse.';
COMMENT ON COLUMN ingest_runs.run_id IS 'Run number, increasing.';
COMMENT ON COLUMN ingest_runs.source_key IS 'The source the run read; NULL for seed loads, which may span sites.';
COMMENT ON COLUMN ingest_runs.kind IS 'What started the run: cli, airflow, seeds or reparse.';
COMMENT ON COLUMN ingest_runs.window_start IS 'First local day of publication asked for (inclusive), if any.';
COMMENT ON COLUMN ingest_runs.window_end IS 'Last local day of publication asked for (inclusive), if any.';
COMMENT ON COLUMN ingest_runs.params IS 'The run''s other parameters, as given.';
COMMENT ON COLUMN ingest_runs.status IS 'running, succeeded or failed.';
COMMENT ON COLUMN ingest_runs.discovered IS 'URLs discovered by the run.';
COMMENT ON COLUMN ingest_runs.outcome_counts IS 'URLs per ledger outcome at the end of the run, e.g. {"new": 3, "unchanged": 40}.';
COMMENT ON COLUMN ingest_runs.stage_seconds IS 'Seconds spent per stage, e.g. {"fetch": 1.2, "load": 0.3}.';
COMMENT ON COLUMN ingest_runs.error IS 'Why the run failed, in one line; NULL otherwise.';
COMMENT ON COLUMN ingest_runs.started_at IS 'When the run started.';
COMMENT ON COLUMN ingest_runs.finished_at IS 'When the run ended; NULL while running (or if it crashed).';

-- The ledger: every URL a run discovered ends in exactly one outcome. It is history:
-- article_id has no foreign key, so the ledger never locks or follows article rows
-- (the ETL never deletes articles; one deleted by hand leaves its id here, as a log would).
CREATE TABLE run_urls (
    run_id      bigint NOT NULL REFERENCES ingest_runs ON DELETE CASCADE,
    url         text NOT NULL,
    outcome     text CHECK (outcome IN ('new', 'updated', 'unchanged', 'duplicate_exact',
                                        'duplicate_near', 'rejected', 'failed')),
    article_id  bigint,
    stage       text,
    reason      text,
    detail      text,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, url)
);
COMMENT ON TABLE run_urls IS
    'The ledger: one row per URL a run discovered, with the outcome it ended in. When an article was last seen is read here.';
COMMENT ON COLUMN run_urls.run_id IS 'The run that discovered the URL.';
COMMENT ON COLUMN run_urls.url IS 'The URL discovered.';
COMMENT ON COLUMN run_urls.outcome IS
    'new, updated, unchanged, duplicate_exact, duplicate_near, rejected or failed; NULL while still being processed.';
COMMENT ON COLUMN run_urls.article_id IS
    'The article the URL resolved to (for a duplicate not stored itself: the original). Not a foreign key: history.';
COMMENT ON COLUMN run_urls.stage IS 'For rejected/failed: the stage that gave up (discover, fetch, parse, normalize, load).';
COMMENT ON COLUMN run_urls.reason IS 'For rejected/failed: a short machine-readable reason.';
COMMENT ON COLUMN run_urls.detail IS 'For rejected/failed: a one-line human-readable explanation.';
COMMENT ON COLUMN run_urls.updated_at IS 'When the outcome was last written.';

-- Why a URL or seed file was not loaded; kept after the ledger row is overwritten.
CREATE TABLE rejects (
    reject_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id      bigint REFERENCES ingest_runs ON DELETE CASCADE,
    url         text NOT NULL,
    stage       text NOT NULL,
    reason      text NOT NULL,
    detail      text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rejects_run_idx ON rejects (run_id);
COMMENT ON TABLE rejects IS 'One row per time a URL or seed file was rejected, with the reason.';
COMMENT ON COLUMN rejects.reject_id IS 'Row number, increasing.';
COMMENT ON COLUMN rejects.run_id IS 'The run that rejected it.';
COMMENT ON COLUMN rejects.url IS 'The rejected URL, or the path of a seed file.';
COMMENT ON COLUMN rejects.stage IS 'The stage that rejected it (discover, fetch, parse, normalize, load).';
COMMENT ON COLUMN rejects.reason IS 'A short machine-readable reason.';
COMMENT ON COLUMN rejects.detail IS 'A one-line human-readable explanation.';
COMMENT ON COLUMN rejects.created_at IS 'When it was rejected.';


-- ---------------------------------------------------------------- fetch and parse

-- Fetched pages, kept so that parsing can be re-run without a request.
CREATE TABLE raw_pages (
    page_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_key    text NOT NULL REFERENCES sources,
    url           text NOT NULL,
    final_url     text NOT NULL,
    status        integer NOT NULL,
    headers       jsonb NOT NULL DEFAULT '{}'::jsonb,
    content_type  text,
    encoding      text,
    body_gzip     bytea NOT NULL,
    body_sha256   text NOT NULL,
    fetched_at    timestamptz NOT NULL,
    run_id        bigint REFERENCES ingest_runs ON DELETE SET NULL,
    CONSTRAINT raw_pages_url_body_key UNIQUE (url, body_sha256)
);
CREATE INDEX raw_pages_url_fetched_idx ON raw_pages (url, fetched_at DESC);
COMMENT ON TABLE raw_pages IS 'Fetched pages as served, one row per distinct body of a URL.';
COMMENT ON COLUMN raw_pages.page_id IS 'Row number, increasing.';
COMMENT ON COLUMN raw_pages.source_key IS 'The source the page belongs to.';
COMMENT ON COLUMN raw_pages.url IS 'The canonical URL asked for.';
COMMENT ON COLUMN raw_pages.final_url IS 'The URL that served the page, after redirects.';
COMMENT ON COLUMN raw_pages.status IS 'HTTP status of the response.';
COMMENT ON COLUMN raw_pages.headers IS 'Response headers.';
COMMENT ON COLUMN raw_pages.content_type IS 'Media type of the response.';
COMMENT ON COLUMN raw_pages.encoding IS 'Character set the body was decoded with.';
COMMENT ON COLUMN raw_pages.body_gzip IS 'The response body as received, gzip-compressed.';
COMMENT ON COLUMN raw_pages.body_sha256 IS 'SHA-256 (hex) of the uncompressed body.';
COMMENT ON COLUMN raw_pages.fetched_at IS 'When this body was last fetched.';
COMMENT ON COLUMN raw_pages.run_id IS 'The run that last fetched it.';

-- Parsed articles handed from a run's fetch tasks to its load task. payload is JSON
-- text (Article.to_dict()), not jsonb, so that a record holding a lone surrogate
-- still reaches the loader and is rejected there with a reason.
CREATE TABLE staged_articles (
    run_id     bigint NOT NULL REFERENCES ingest_runs ON DELETE CASCADE,
    url        text NOT NULL,
    seq        bigint GENERATED ALWAYS AS IDENTITY,
    payload    text NOT NULL,
    staged_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, url)
);
COMMENT ON TABLE staged_articles IS 'Parsed articles waiting for their run''s load task (emptied by it).';
COMMENT ON COLUMN staged_articles.run_id IS 'The run whose load task will read the article.';
COMMENT ON COLUMN staged_articles.url IS 'The article''s canonical URL.';
COMMENT ON COLUMN staged_articles.seq IS 'Staging order; the load task reads in this order.';
COMMENT ON COLUMN staged_articles.payload IS 'The article record as JSON text (news_etl.record.Article.to_dict()).';
COMMENT ON COLUMN staged_articles.staged_at IS 'When it was staged.';


-- ---------------------------------------------------------------- load

-- One row per real article. Identity is (source_key, source_article_id) when the
-- source numbers its articles, else the canonical URL.
--
-- Storage (bench/load_bench.py loads through it):
--   * article_id values come from the sequence 1,000 at a time per session, so a
--     batch does not pay one nextval per article; a session that ends leaves a gap,
--     an id is never reused.
--   * Pages are filled completely (default fillfactor): the one update on the load
--     path, an edited article, changes the indexed content_hash, so it can never be a
--     HOT update and free space would only make every scan of the table larger.
--   * body: see the DO block after article_revisions.
CREATE TABLE articles (
    article_id         bigint GENERATED ALWAYS AS IDENTITY (CACHE 1000) PRIMARY KEY,
    source_key         text NOT NULL REFERENCES sources,
    source_article_id  text,
    canonical_url      text NOT NULL,
    title              text NOT NULL CHECK (title <> ''),
    published_at       timestamptz NOT NULL,
    author             text NOT NULL DEFAULT '',
    body               text NOT NULL CHECK (body <> ''),
    content_hash       text NOT NULL,
    extraction         jsonb NOT NULL DEFAULT '{}'::jsonb,
    fetched_at         timestamptz,
    first_seen         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    raw_digest         bytea,
    CONSTRAINT articles_source_article_id_key UNIQUE (source_key, source_article_id),
    CONSTRAINT articles_canonical_url_key UNIQUE (canonical_url)
);
-- Ordered by article_id under each hash, "the first stored article with this content
-- hash" is one index probe, with or without planner statistics.
CREATE INDEX articles_content_hash_idx ON articles (content_hash, article_id);
CREATE INDEX articles_published_at_idx ON articles (published_at);
COMMENT ON TABLE articles IS 'One row per real article (source + source article id, else canonical URL).';
COMMENT ON COLUMN articles.article_id IS 'Article number; increasing, with gaps.';
COMMENT ON COLUMN articles.source_key IS 'The source that published it (sources.source_key).';
COMMENT ON COLUMN articles.source_article_id IS 'The source''s own number for the article, when its URLs carry one.';
COMMENT ON COLUMN articles.canonical_url IS 'The article''s canonical URL (other URLs it was seen under: article_urls).';
COMMENT ON COLUMN articles.title IS 'Headline, as published.';
COMMENT ON COLUMN articles.published_at IS 'Publication time (stored in UTC; local days use sources.timezone).';
COMMENT ON COLUMN articles.author IS 'Author as named by the page; empty string when it names nobody.';
COMMENT ON COLUMN articles.body IS 'Article text, paragraphs separated by newlines, characters as published.';
COMMENT ON COLUMN articles.content_hash IS
    'SHA-256 (hex) of the title and body after Unicode, case, space and punctuation folding: equal for exact duplicates.';
COMMENT ON COLUMN articles.extraction IS
    'Which layer of the parser gave each field, e.g. {"title": "json-ld", "body": "selectors"}.';
COMMENT ON COLUMN articles.fetched_at IS 'When the page this version came from was fetched; NULL for seed files.';
COMMENT ON COLUMN articles.first_seen IS 'When the article was first stored.';
COMMENT ON COLUMN articles.updated_at IS 'When the stored version was written (first_seen, or the last change).';
COMMENT ON COLUMN articles.raw_digest IS
    'Loader bookkeeping: 16-byte digest of the exact title and body (news_etl.dedup.raw_digest); equal = unchanged.';

-- The other URLs an article was seen under. Its canonical URL is in articles only.
CREATE TABLE article_urls (
    url         text PRIMARY KEY,
    article_id  bigint NOT NULL REFERENCES articles ON DELETE CASCADE,
    first_seen  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX article_urls_article_idx ON article_urls (article_id);
COMMENT ON TABLE article_urls IS
    'URLs other than its canonical_url under which an article was seen (sections, tracking parameters, mirrors).';
COMMENT ON COLUMN article_urls.url IS 'The other URL.';
COMMENT ON COLUMN article_urls.article_id IS 'The article it leads to.';
COMMENT ON COLUMN article_urls.first_seen IS 'When the URL was first seen for that article.';

-- The previous versions of articles that changed.
CREATE TABLE article_revisions (
    revision_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    article_id    bigint NOT NULL REFERENCES articles ON DELETE CASCADE,
    title         text NOT NULL,
    published_at  timestamptz NOT NULL,
    author        text NOT NULL,
    body          text NOT NULL,
    content_hash  text NOT NULL,
    valid_from    timestamptz NOT NULL,
    replaced_at   timestamptz NOT NULL DEFAULT now(),
    run_id        bigint REFERENCES ingest_runs ON DELETE SET NULL
);
CREATE INDEX article_revisions_article_idx ON article_revisions (article_id);
COMMENT ON TABLE article_revisions IS 'One row per replaced version of an article: the version as it was stored.';
COMMENT ON COLUMN article_revisions.revision_id IS 'Row number, increasing.';
COMMENT ON COLUMN article_revisions.article_id IS 'The article that changed.';
COMMENT ON COLUMN article_revisions.title IS 'Headline of this version.';
COMMENT ON COLUMN article_revisions.published_at IS 'Publication time of this version.';
COMMENT ON COLUMN article_revisions.author IS 'Author of this version; empty string when none.';
COMMENT ON COLUMN article_revisions.body IS 'Text of this version.';
COMMENT ON COLUMN article_revisions.content_hash IS 'Content hash of this version (as articles.content_hash).';
COMMENT ON COLUMN article_revisions.valid_from IS 'When this version was stored.';
COMMENT ON COLUMN article_revisions.replaced_at IS 'When a newer version replaced it.';
COMMENT ON COLUMN article_revisions.run_id IS 'The run that stored the newer version.';

-- Body storage of articles and revisions: lz4 where the server has it, otherwise out
-- of line and uncompressed (EXTERNAL). pglz, the default, costs the most CPU per
-- body written; lz4 writes fewer TOAST chunks than no compression, and a compressed
-- 3 KB Cyrillic body is still over the TOAST threshold, so it stays out of line and
-- the heap row small. bench/load_bench.py's INSERT baseline uses the default storage.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)) THEN
        ALTER TABLE articles ALTER COLUMN body SET COMPRESSION lz4;
        ALTER TABLE article_revisions ALTER COLUMN body SET COMPRESSION lz4;
    ELSE
        ALTER TABLE articles ALTER COLUMN body SET STORAGE EXTERNAL;
        ALTER TABLE article_revisions ALTER COLUMN body SET STORAGE EXTERNAL;
    END IF;
END
$$;

-- The MinHash signature of each article, kept to check near-duplicate candidates.
CREATE TABLE article_fingerprints (
    article_id  bigint PRIMARY KEY REFERENCES articles ON DELETE CASCADE,
    minhash     bytea NOT NULL
);
COMMENT ON TABLE article_fingerprints IS
    'MinHash signature of each article, from which its LSH bands (minhash_bands) were taken.';
COMMENT ON COLUMN article_fingerprints.article_id IS 'The article.';
COMMENT ON COLUMN article_fingerprints.minhash IS 'MinHash signature over word shingles: uint32 values, little-endian.';

-- LSH bands: one row per (band, article). band_hash mixes the band number in, so one
-- btree answers "which articles share any band with this one". No foreign key: it is
-- a derived index, rebuilt in bulk and cleaned with the article by the loader.
CREATE TABLE minhash_bands (
    band_hash   bigint NOT NULL,
    article_id  bigint NOT NULL,
    PRIMARY KEY (band_hash, article_id)
);
CREATE INDEX minhash_bands_article_idx ON minhash_bands (article_id);
COMMENT ON TABLE minhash_bands IS
    'Locality-sensitive hashing bands of article MinHash signatures (near-duplicate candidates).';
COMMENT ON COLUMN minhash_bands.band_hash IS 'Hash of one band of the signature, band number included.';
COMMENT ON COLUMN minhash_bands.article_id IS 'The article whose signature has that band.';

-- Articles found to repeat an already stored one.
CREATE TABLE duplicates (
    duplicate_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url                  text NOT NULL,
    source_key           text NOT NULL REFERENCES sources,
    article_id           bigint REFERENCES articles ON DELETE CASCADE,
    original_article_id  bigint NOT NULL REFERENCES articles ON DELETE CASCADE,
    kind                 text NOT NULL CHECK (kind IN ('exact', 'near')),
    similarity           real NOT NULL,
    run_id               bigint REFERENCES ingest_runs ON DELETE SET NULL,
    detected_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT duplicates_url_original_key UNIQUE (url, original_article_id)
);
COMMENT ON TABLE duplicates IS 'One row per copy found to repeat a stored article (the original).';
COMMENT ON COLUMN duplicates.duplicate_id IS 'Row number, increasing.';
COMMENT ON COLUMN duplicates.url IS 'URL of the copy.';
COMMENT ON COLUMN duplicates.source_key IS 'Source of the copy.';
COMMENT ON COLUMN duplicates.article_id IS 'The copy''s own article when it was stored too (near duplicates); NULL otherwise.';
COMMENT ON COLUMN duplicates.original_article_id IS 'The stored article it repeats.';
COMMENT ON COLUMN duplicates.kind IS 'exact (same content_hash) or near (similar text).';
COMMENT ON COLUMN duplicates.similarity IS 'Jaccard similarity of the word shingles of the two texts (1 for exact).';
COMMENT ON COLUMN duplicates.run_id IS 'The run that found it last.';
COMMENT ON COLUMN duplicates.detected_at IS 'When it was first found.';


-- ---------------------------------------------------------------- reporting

-- The analysts' views. The definitions live here, and a later change to a view is a
-- new migration (CREATE OR REPLACE, or DROP and CREATE). sql/reporting/ holds, one
-- file per view, the query `news-etl report` runs to read it. news_etl.report
-- refreshes every materialized view of this schema (found in pg_matviews), so a view
-- added later needs no code.
--
-- Conventions of every view:
--   * "day" is a local calendar day in the source's time zone (sources.timezone;
--     UTC for rows that have no source);
--   * durations are in seconds (double precision);
--   * aggregates are materialized views with a plain UNIQUE index on their key, so
--     that REFRESH MATERIALIZED VIEW CONCURRENTLY works (readers are never blocked
--     while the Airflow reporting DAG refreshes them).
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
COMMENT ON COLUMN reporting.articles_daily.source_key IS 'The source.';
COMMENT ON COLUMN reporting.articles_daily.day IS 'Local publication day in the source''s time zone.';
COMMENT ON COLUMN reporting.articles_daily.articles IS 'Articles published that day.';
COMMENT ON COLUMN reporting.articles_daily.with_author IS 'Of those, articles that name an author.';

-- Same, split by section: the first path segment of the canonical URL, for URLs that
-- have a further segment after it (https://host/SECTION/slug/).
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
COMMENT ON COLUMN reporting.articles_daily_section.source_key IS 'The source.';
COMMENT ON COLUMN reporting.articles_daily_section.day IS 'Local publication day in the source''s time zone.';
COMMENT ON COLUMN reporting.articles_daily_section.section IS 'First path segment of the canonical URL (e.g. sport).';
COMMENT ON COLUMN reporting.articles_daily_section.articles IS 'Articles of that section published that day.';

-- How long after publication an article was first stored. Negative lags (clock skew,
-- dates announced ahead) are kept: hiding them would hide a bug.
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
COMMENT ON COLUMN reporting.ingestion_lag_daily.source_key IS 'The source.';
COMMENT ON COLUMN reporting.ingestion_lag_daily.day IS 'Local publication day in the source''s time zone.';
COMMENT ON COLUMN reporting.ingestion_lag_daily.articles IS 'Articles published that day.';
COMMENT ON COLUMN reporting.ingestion_lag_daily.lag_p50_s IS 'Median seconds from publication to first storage (negative: stored before the stated time).';
COMMENT ON COLUMN reporting.ingestion_lag_daily.lag_p90_s IS '90th percentile of that lag, seconds.';
COMMENT ON COLUMN reporting.ingestion_lag_daily.lag_p99_s IS '99th percentile of that lag, seconds.';
COMMENT ON COLUMN reporting.ingestion_lag_daily.lag_max_s IS 'Largest lag of the day, seconds.';

-- Counted from the ledger (run_urls), the record of truth; a URL still without an
-- outcome (run running or crashed) is counted as pending.
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
COMMENT ON COLUMN reporting.run_outcomes.run_id IS 'The run.';
COMMENT ON COLUMN reporting.run_outcomes.source_key IS 'The source it read; NULL for seed loads.';
COMMENT ON COLUMN reporting.run_outcomes.kind IS 'What started it: cli, airflow, seeds or reparse.';
COMMENT ON COLUMN reporting.run_outcomes.status IS 'running, succeeded or failed.';
COMMENT ON COLUMN reporting.run_outcomes.started_at IS 'When it started.';
COMMENT ON COLUMN reporting.run_outcomes.finished_at IS 'When it ended; NULL while running or if it crashed.';
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

-- Rejects of runs without a source (seed loads) have source_key NULL and are counted
-- in UTC days.
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
COMMENT ON COLUMN reporting.rejects_daily.day IS 'Local day the rejects were recorded (UTC when no source).';
COMMENT ON COLUMN reporting.rejects_daily.source_key IS 'The run''s source; NULL for seed loads.';
COMMENT ON COLUMN reporting.rejects_daily.stage IS 'The stage that rejected.';
COMMENT ON COLUMN reporting.rejects_daily.reason IS 'The reason given.';
COMMENT ON COLUMN reporting.rejects_daily.rejects IS 'Rejects recorded.';
COMMENT ON COLUMN reporting.rejects_daily.urls IS 'Distinct URLs (or seed files) among them.';
COMMENT ON COLUMN reporting.rejects_daily.last_at IS 'When the last of them was recorded.';

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
COMMENT ON COLUMN reporting.duplicates_by_source_pair.source_key IS 'Source of the copies.';
COMMENT ON COLUMN reporting.duplicates_by_source_pair.original_source_key IS 'Source of the originals they repeat.';
COMMENT ON COLUMN reporting.duplicates_by_source_pair.kind IS 'exact or near.';
COMMENT ON COLUMN reporting.duplicates_by_source_pair.duplicates IS 'Duplicates found.';
COMMENT ON COLUMN reporting.duplicates_by_source_pair.avg_similarity IS 'Mean Jaccard similarity of copy and original.';
COMMENT ON COLUMN reporting.duplicates_by_source_pair.min_similarity IS 'Lowest such similarity.';
COMMENT ON COLUMN reporting.duplicates_by_source_pair.first_detected_at IS 'When the first of them was found.';
COMMENT ON COLUMN reporting.duplicates_by_source_pair.last_detected_at IS 'When the last of them was found.';

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
COMMENT ON COLUMN reporting.top_authors.source_key IS 'The source.';
COMMENT ON COLUMN reporting.top_authors.author IS 'Author as named by the pages.';
COMMENT ON COLUMN reporting.top_authors.articles IS 'Articles stored with that author.';
COMMENT ON COLUMN reporting.top_authors.first_published_at IS 'Publication time of the earliest of them.';
COMMENT ON COLUMN reporting.top_authors.last_published_at IS 'Publication time of the latest of them.';
COMMENT ON COLUMN reporting.top_authors.rank IS 'Rank within the source by articles, 1 = most (ties share a rank).';

-- A revision row is written when a stored article changed; its day is the local day
-- the older version was replaced.
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
COMMENT ON COLUMN reporting.revisions_daily.source_key IS 'The source.';
COMMENT ON COLUMN reporting.revisions_daily.day IS 'Local day the older versions were replaced.';
COMMENT ON COLUMN reporting.revisions_daily.revisions IS 'Versions replaced that day.';
COMMENT ON COLUMN reporting.revisions_daily.articles IS 'Distinct articles that changed that day.';


-- ---------------------------------------------------------------- the read-only role

-- Roles are cluster-wide and several databases (tests, CI, the demo) share a server,
-- so the role may already exist, or be being created by a concurrent migration of
-- another database: both are fine. NOLOGIN: it is a group role; give it to a login
-- role with GRANT news_reader TO someone.
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

-- Reading the views and the articles, nothing else: no raw pages, no ledger, no write
-- of any kind. Views run with their owner's rights, so the role needs no access to
-- the tables behind them.
GRANT USAGE ON SCHEMA reporting TO news_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO news_reader;
-- Views that later migrations add to "reporting" are readable too.
ALTER DEFAULT PRIVILEGES IN SCHEMA reporting GRANT SELECT ON TABLES TO news_reader;
GRANT USAGE ON SCHEMA public TO news_reader;
GRANT SELECT ON articles TO news_reader;
-- PostgreSQL < 15 lets every role create tables in "public"; 15+ already does not.
-- Without this news_reader could write there on an older server.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
