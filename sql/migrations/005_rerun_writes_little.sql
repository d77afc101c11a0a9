-- A rerun of unchanged articles writes one ledger row per URL and nothing else.
--
-- Measured with bench/load_bench.py (1,000 unchanged articles per batch, the
-- 2-core machine): the loader spent 19 ms per 1,000 bumping articles.last_seen,
-- 13 ms in the ledger's foreign-key checks on article_id (each check locks the
-- article row, a heap write), and its identity match probed three tables per
-- key (articles, article_urls, article_fingerprints). A new article paid for a
-- second row in article_urls and one in article_fingerprints.

-- 1. When an article was seen is the ledger's business: run_urls has one row per
--    URL and run with the article it resolved to. articles.last_seen said the same
--    thing a second time and made every rerun rewrite every row it saw (so the
--    table never stayed byte-identical over a rerun). "Last seen" is now
--    SELECT max(r.started_at) FROM run_urls u JOIN ingest_runs r USING (run_id)
--    WHERE u.article_id = ... (README, Database).
ALTER TABLE articles DROP COLUMN last_seen;

-- 2. The ledger is history: it keeps the article id it recorded without a foreign
--    key (the ETL never deletes articles; a row deleted by hand leaves the ledger
--    pointing at an id that no longer resolves, as a log would).
ALTER TABLE run_urls DROP CONSTRAINT IF EXISTS run_urls_article_id_fkey;

--    Its run, though, must exist. The foreign key on run_id checked (and locked)
--    the same ingest_runs row once per ledger row: ~10 ms per 1,000 rows. These
--    triggers do the same once per statement (~1 ms per 1,000): the runs named
--    by the new rows are locked FOR KEY SHARE, as a foreign key locks them, and
--    a row naming no run fails the statement with foreign_key_violation;
--    deleting a run deletes its ledger rows, as ON DELETE CASCADE did.
ALTER TABLE run_urls DROP CONSTRAINT IF EXISTS run_urls_run_id_fkey;

CREATE FUNCTION run_urls_check_runs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM ingest_runs r WHERE r.run_id IN (SELECT run_id FROM new_rows) FOR KEY SHARE OF r;
    IF EXISTS (SELECT 1 FROM new_rows n WHERE NOT EXISTS (SELECT 1 FROM ingest_runs r WHERE r.run_id = n.run_id))
    THEN
        RAISE EXCEPTION 'run_urls rows name a run that is not in ingest_runs'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER run_urls_runs_exist_insert AFTER INSERT ON run_urls REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION run_urls_check_runs();
CREATE TRIGGER run_urls_runs_exist_update AFTER UPDATE ON run_urls REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION run_urls_check_runs();

CREATE FUNCTION ingest_runs_delete_ledger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM run_urls WHERE run_id IN (SELECT run_id FROM old_rows);
    RETURN NULL;
END
$$;
CREATE TRIGGER ingest_runs_delete_ledger AFTER DELETE ON ingest_runs REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ingest_runs_delete_ledger();

-- 3. The exact-text digest lives in the article row, so the rerun's identity
--    match is one index probe into articles. NULL until the loader next sees
--    the article (it then computes the content hash once and fills it in); the
--    digest function also changed (xxh3-128 instead of SHA-1), so old values
--    are not carried over.
ALTER TABLE articles ADD COLUMN raw_digest bytea;
COMMENT ON COLUMN articles.raw_digest IS
    'Loader bookkeeping: xxh3-128 of the exact title and body (UTF-16LE); equal digest = unchanged article.';
ALTER TABLE article_fingerprints DROP COLUMN raw_digest;
DELETE FROM article_fingerprints WHERE minhash IS NULL;
ALTER TABLE article_fingerprints ALTER COLUMN minhash SET NOT NULL;
COMMENT ON TABLE article_fingerprints IS
    'MinHash signature (uint32 little-endian values) of each article its LSH bands came from.';

-- 4. article_urls keeps the other URLs an article was seen under; its canonical
--    URL is articles.canonical_url (unique) and is not written twice.
DELETE FROM article_urls u USING articles a WHERE a.article_id = u.article_id AND u.url = a.canonical_url;
COMMENT ON TABLE article_urls IS
    'URLs other than its canonical_url under which an article was seen (sections, tracking parameters, mirrors).';

-- 5. New article ids come from the sequence 1,000 at a time per session (one
--    nextval per article was 7.7 ms per 1,000); an id is never reused, a session
--    that ends leaves a gap.
ALTER TABLE articles ALTER COLUMN article_id SET CACHE 1000;

-- 6. "The first stored article with this content hash" answered by one index probe.
--    With the plain content_hash index the planner joined a batch's hashes to all of
--    articles (a hash or merge join whose cost grows with the store: 11 ms per 1,000
--    at 20,000 stored), and, with no statistics yet (a fresh database being
--    backfilled), read ORDER BY article_id LIMIT 1 as a walk of the primary key
--    (9 s per 1,000). Ordered by article_id under each hash, the index gives the
--    answer directly with or without statistics (~4 ms per 1,000, any store size).
DROP INDEX articles_content_hash_idx;
CREATE INDEX articles_content_hash_idx ON articles (content_hash, article_id);
