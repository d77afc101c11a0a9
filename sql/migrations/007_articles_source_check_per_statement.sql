-- articles.source_key must name a source: checked once per statement, not per row.
--
-- The foreign key ran one locked lookup of the sources row per inserted
-- article. Measured with the load bench (20,000 new 3 KB articles, the 2-core
-- machine, three alternating pairs): 68-69 us of server CPU per article with
-- the foreign key, 63.5-65 us without it; 11,700-11,950 against
-- 12,150-12,500 articles/s. The rule stays the same, as for run_urls in 005:
-- the sources named by the new rows are locked FOR KEY SHARE (a concurrent
-- DELETE of one waits, as with a foreign key), a row naming no source fails
-- the statement with foreign_key_violation, and a source that articles name
-- cannot be deleted or renamed (ON DELETE/UPDATE NO ACTION).
ALTER TABLE articles DROP CONSTRAINT IF EXISTS articles_source_key_fkey;

CREATE FUNCTION articles_check_sources() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM sources s WHERE s.source_key IN (SELECT DISTINCT source_key FROM new_rows)
        FOR KEY SHARE OF s;
    IF EXISTS (SELECT 1 FROM new_rows n
               WHERE NOT EXISTS (SELECT 1 FROM sources s WHERE s.source_key = n.source_key))
    THEN
        RAISE EXCEPTION 'articles rows name a source that is not in sources'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER articles_sources_exist_insert AFTER INSERT ON articles REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION articles_check_sources();
CREATE TRIGGER articles_sources_exist_update AFTER UPDATE ON articles REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION articles_check_sources();

CREATE FUNCTION sources_keep_named_by_articles() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM old_rows o JOIN articles a ON a.source_key = o.source_key
               WHERE NOT EXISTS (SELECT 1 FROM sources s WHERE s.source_key = o.source_key))
    THEN
        RAISE EXCEPTION 'a source that articles name cannot be deleted or renamed'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER sources_named_by_articles_delete AFTER DELETE ON sources REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sources_keep_named_by_articles();
CREATE TRIGGER sources_named_by_articles_update AFTER UPDATE ON sources REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sources_keep_named_by_articles();
