-- Loading and deduplication: fingerprints, MinHash signatures and LSH bands
-- for near-duplicates, a staging table between Airflow tasks, and the
-- storage settings the loader was measured with (bench/load_bench.py).

-- Storage of article bodies: out of line and uncompressed (STORAGE EXTERNAL).
-- Measured on the 2-core machine with 3 KB Cyrillic bodies: pglz compression
-- made COPY ~3x slower, lz4 (where the server has it) still ~1.5x slower than
-- no compression; keeping bodies inline made every last_seen bump of a rerun
-- rewrite the whole body (~9,000 rows/s) while out-of-line bodies leave a
-- ~300-byte heap row (~100,000 rows/s). fillfactor leaves room on each page
-- so those bumps can be HOT updates (no index writes).
ALTER TABLE articles ALTER COLUMN body SET STORAGE EXTERNAL;
ALTER TABLE articles SET (fillfactor = 70);
ALTER TABLE article_revisions ALTER COLUMN body SET STORAGE EXTERNAL;

-- Per article: a digest of the exact stored title and body (cheap to compute,
-- lets a rerun recognise unchanged articles without normalising their text)
-- and the MinHash signature (uint32 little-endian values) its LSH bands came from.
CREATE TABLE article_fingerprints (
    article_id  bigint PRIMARY KEY REFERENCES articles ON DELETE CASCADE,
    raw_digest  bytea NOT NULL,
    minhash     bytea
);
COMMENT ON TABLE article_fingerprints IS
    'Loader bookkeeping: exact-text digest and MinHash signature of each article.';

-- LSH bands: one row per (band, article). band_hash mixes the band number in,
-- so one btree answers "which articles share any band with this one".
-- No foreign key: it is a derived index, rebuilt in bulk (1M-article
-- benchmarks) and cleaned with the article by the loader.
CREATE TABLE minhash_bands (
    band_hash   bigint NOT NULL,
    article_id  bigint NOT NULL,
    PRIMARY KEY (band_hash, article_id)
);
CREATE INDEX minhash_bands_article_idx ON minhash_bands (article_id);
COMMENT ON TABLE minhash_bands IS
    'Locality-sensitive hashing bands of article MinHash signatures (near-duplicate candidates).';

-- Parsed articles handed from the fetch tasks to the load task of a run.
-- payload is JSON text (Article.to_dict()), not jsonb, so that a record with
-- a lone surrogate still reaches the loader and is rejected there with a reason.
CREATE TABLE staged_articles (
    run_id     bigint NOT NULL REFERENCES ingest_runs ON DELETE CASCADE,
    url        text NOT NULL,
    seq        bigint GENERATED ALWAYS AS IDENTITY,
    payload    text NOT NULL,
    staged_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, url)
);
