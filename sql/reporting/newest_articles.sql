-- The %(limit)s most recently published articles (table articles, which
-- news_reader may read too). A row: one article.
SELECT a.published_at, a.source_key, a.title, a.canonical_url AS url
FROM articles a
ORDER BY a.published_at DESC, a.article_id DESC
LIMIT %(limit)s;
