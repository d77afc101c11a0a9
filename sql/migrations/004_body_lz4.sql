-- Article bodies compressed with lz4 (out of line, as before) where the server has lz4.
--
-- Measured with bench/load_bench.py's 3 KB Cyrillic bodies on the 2-core
-- machine, COPY of pre-built rows in one process, same run: EXTERNAL (002)
-- 4,800-5,500 rows/s, EXTENDED + lz4 6,200-7,750 rows/s (toast 24 MB instead
-- of 35 MB: fewer TOAST chunks to write), EXTENDED + lz4 with
-- toast_tuple_target = 128 and MAIN + lz4 (inline) both slower. The
-- compressed body (~2.5 KB) is still above the TOAST threshold, so it stays
-- out of line and the heap row stays small: the rerun's last_seen bumps were
-- as fast as with EXTERNAL (19,000-26,000 rows/s against 16,000-21,600).
-- pglz stays off the table: 002's note, ~3x slower COPY.
-- Only new values are compressed; stored rows keep their form until rewritten.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_settings
               WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)) THEN
        ALTER TABLE articles ALTER COLUMN body SET STORAGE EXTENDED,
                             ALTER COLUMN body SET COMPRESSION lz4;
        ALTER TABLE article_revisions ALTER COLUMN body SET STORAGE EXTENDED,
                                      ALTER COLUMN body SET COMPRESSION lz4;
    END IF;
END
$$;
