-- Pages of articles filled completely again.
--
-- 002 left 30% of each page free so that the rerun's last_seen bumps could be
-- HOT updates; 005 dropped last_seen. The update left on the hot path (an
-- edited article) changes content_hash, which is indexed, so it can never be
-- HOT: the free space only made the heap, and every scan of it (the reporting
-- views' refresh), about 1.4x larger. Applies to pages written from now on;
-- existing pages are not rewritten (VACUUM FULL would lock the table).
ALTER TABLE articles SET (fillfactor = 100);
