-- Core schema: sources, articles and everything needed to explain how each
-- row got there (runs, ledger, raw pages, revisions, rejects, duplicates).

CREATE TABLE sources (
    source_key  text PRIMARY KEY,
    name        text NOT NULL,            -- as written in "Original: [name](url)"
    base_url    text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per article identity. Identity is (source_key, source_article_id)
-- when the source numbers its articles, else the canonical URL.
CREATE TABLE articles (
    article_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    last_seen          timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT articles_source_article_id_key UNIQUE (source_key, source_article_id),
    CONSTRAINT articles_canonical_url_key UNIQUE (canonical_url)
);
CREATE INDEX articles_content_hash_idx ON articles (content_hash);
CREATE INDEX articles_published_at_idx ON articles (published_at);
COMMENT ON TABLE articles IS 'One row per real article (source + source article id, else canonical URL).';

-- Every URL an article was seen under (sections, tracking parameters, mirrors).
CREATE TABLE article_urls (
    url         text PRIMARY KEY,
    article_id  bigint NOT NULL REFERENCES articles ON DELETE CASCADE,
    first_seen  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX article_urls_article_idx ON article_urls (article_id);

-- One row per ingestion run (a CLI run, a DAG run, a seed load).
CREATE TABLE ingest_runs (
    run_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_key    text REFERENCES sources,
    kind          text NOT NULL DEFAULT 'cli',   -- cli, airflow, seeds, reparse
    window_start  date,                          -- local days, inclusive
    window_end    date,
    params        jsonb NOT NULL DEFAULT '{}'::jsonb,
    status        text NOT NULL DEFAULT 'running'
                  CHECK (status IN ('running', 'succeeded', 'failed')),
    discovered    integer NOT NULL DEFAULT 0,
    outcome_counts jsonb NOT NULL DEFAULT '{}'::jsonb,  -- {"new": 3, ...}
    stage_seconds  jsonb NOT NULL DEFAULT '{}'::jsonb,  -- {"fetch": 1.2, ...}
    error         text,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);

-- The ledger: every URL discovered in a run ends in exactly one outcome.
CREATE TABLE run_urls (
    run_id      bigint NOT NULL REFERENCES ingest_runs ON DELETE CASCADE,
    url         text NOT NULL,
    outcome     text CHECK (outcome IN ('new', 'updated', 'unchanged', 'duplicate_exact',
                                        'duplicate_near', 'rejected', 'failed')),
    article_id  bigint REFERENCES articles ON DELETE SET NULL,
    stage       text,      -- for rejected/failed: discover, fetch, parse, normalize, load
    reason      text,
    detail      text,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, url)
);

-- Why a URL or file was not loaded. Also written for seed files (url = path).
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

-- Fetched pages, compressed, so that parsing can be re-run without a request.
CREATE TABLE raw_pages (
    page_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_key    text NOT NULL REFERENCES sources,
    url           text NOT NULL,          -- canonical URL asked for
    final_url     text NOT NULL,          -- after redirects, as served
    status        integer NOT NULL,
    headers       jsonb NOT NULL DEFAULT '{}'::jsonb,
    content_type  text,
    encoding      text,                   -- charset the body was decoded with
    body_gzip     bytea NOT NULL,         -- raw response bytes, gzip-compressed
    body_sha256   text NOT NULL,
    fetched_at    timestamptz NOT NULL,
    run_id        bigint REFERENCES ingest_runs ON DELETE SET NULL,
    CONSTRAINT raw_pages_url_body_key UNIQUE (url, body_sha256)
);
CREATE INDEX raw_pages_url_fetched_idx ON raw_pages (url, fetched_at DESC);

-- The previous versions of articles that changed.
CREATE TABLE article_revisions (
    revision_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    article_id    bigint NOT NULL REFERENCES articles ON DELETE CASCADE,
    title         text NOT NULL,
    published_at  timestamptz NOT NULL,
    author        text NOT NULL,
    body          text NOT NULL,
    content_hash  text NOT NULL,
    valid_from    timestamptz NOT NULL,   -- when this version was stored
    replaced_at   timestamptz NOT NULL DEFAULT now(),
    run_id        bigint REFERENCES ingest_runs ON DELETE SET NULL
);
CREATE INDEX article_revisions_article_idx ON article_revisions (article_id);

-- Articles that were found to repeat an already stored one.
CREATE TABLE duplicates (
    duplicate_id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url                  text NOT NULL,   -- URL of the repeating copy
    source_key           text NOT NULL REFERENCES sources,
    article_id           bigint REFERENCES articles ON DELETE CASCADE,  -- the copy, when kept
    original_article_id  bigint NOT NULL REFERENCES articles ON DELETE CASCADE,
    kind                 text NOT NULL CHECK (kind IN ('exact', 'near')),
    similarity           real NOT NULL,
    run_id               bigint REFERENCES ingest_runs ON DELETE SET NULL,
    detected_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT duplicates_url_original_key UNIQUE (url, original_article_id)
);
