-- Reads reporting.duplicates_by_source_pair (migrations/001_baseline.sql):
-- all time, not windowed. A row: one pair of sources and one kind.
SELECT source_key, original_source_key, kind, duplicates, avg_similarity, min_similarity,
       last_detected_at
FROM reporting.duplicates_by_source_pair
ORDER BY duplicates DESC, source_key, original_source_key, kind;
