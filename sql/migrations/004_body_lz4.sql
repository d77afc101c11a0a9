-- Article bodies compressed with lz4 (out of line, as before) where the server has lz4.
--
-- Measured with bench/load_bench.py's 3 KB Cyrillic bodies on the shared
-- 2-core machine: COPY of the same pre-built 5,000 rows, a commit per 1,000,
-- the variants alternating in one process. EXTENDED + lz4 was faster in 4 of
-- 5 pairs (6,200-7,900 rows/s against EXTERNAL's 4,800-7,500; +5% to +40%,
-- once 12% slower), and its TOAST data is 24 MB instead of 35 MB (fewer
-- chunks to write). toast_tuple_target = 128 and MAIN + lz4 (bodies inline)
-- were slower. The compressed body (~2.5 KB) is still above the TOAST
-- threshold, so it stays out of line and the heap row stays small: the
-- rerun's last_seen bumps measured the same as with EXTERNAL (002's reason).
-- pglz stays out: 002's note, ~3x slower COPY.
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
