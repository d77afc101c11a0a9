-- The statement-level checks that replaced two foreign keys (005: run_urls ->
-- ingest_runs, 007: articles -> sources) now hold wherever the foreign keys
-- held. Found in review; each gap is shown by a test in tests/test_load.py.
--
-- 1. Snapshot: a foreign key checks the referencing rows with a fresh snapshot
--    even in a REPEATABLE READ or SERIALIZABLE transaction. A trigger sees the
--    transaction's snapshot, so deleting a source (or a run) there could miss
--    articles (ledger rows) committed after the snapshot and leave them
--    orphaned. Removing a referenced key is therefore refused outside READ
--    COMMITTED (the default): it is a rare administrative step, and retrying it
--    at the default level is always possible. Writers at any level stay safe:
--    they lock the keys they name FOR KEY SHARE, and locking a row a concurrent
--    transaction deleted fails at REPEATABLE READ and finds nothing at READ
--    COMMITTED (the statement then fails its existence check).
-- 2. TRUNCATE fires no DELETE trigger: TRUNCATE sources or ingest_runs alone
--    would have orphaned every article or ledger row, where the foreign key
--    refused it. An AFTER TRUNCATE trigger refuses it unless the referencing
--    table is empty by then (truncated in the same statement, as CASCADE did).
-- 3. Privileges: foreign-key checks run as the table owner, so a writer needs no
--    privileges on sources or ingest_runs. The functions run as their owner too
--    (SECURITY DEFINER). So that nobody can borrow those rights, no one but the
--    owner may execute them (else any role could attach one to a temporary
--    table of its own and, say, delete ledger rows), and their search path is
--    fixed with pg_temp last (else a temporary table named "sources" could
--    stand in for the real one in the check).
-- 4. A run's id could be changed (UPDATE ... SET run_id = DEFAULT) and leave its
--    ledger rows behind; the foreign key refused that (ON UPDATE NO ACTION).

CREATE FUNCTION refuse_key_removal_outside_read_committed(what text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION '% needs READ COMMITTED isolation, not %', what,
            current_setting('transaction_isolation')
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Rows committed after this transaction''s snapshot would not be checked.'
                         ' Run it in a READ COMMITTED transaction.';
    END IF;
END
$$;

-- One check for removed keys, whichever parent table: TG_ARGV names the key
-- column (the same in both tables) and the referencing table. It replaces 007's
-- sources_keep_named_by_articles and also guards a run's id.
CREATE FUNCTION refuse_removing_referenced_keys() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    key text := TG_ARGV[0];
    referencing text := TG_ARGV[1];
    removed boolean;
    still_named boolean;
BEGIN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM old_rows o WHERE NOT EXISTS'
                   ' (SELECT 1 FROM %I p WHERE p.%I = o.%I))', TG_TABLE_NAME, key, key) INTO removed;
    IF removed THEN
        PERFORM refuse_key_removal_outside_read_committed(
            format('removing a %s of %s (%s)', key, TG_TABLE_NAME, TG_OP));
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM old_rows o JOIN %I c ON c.%I = o.%I'
                       ' WHERE NOT EXISTS (SELECT 1 FROM %I p WHERE p.%I = o.%I))',
                       referencing, key, key, TG_TABLE_NAME, key, key) INTO still_named;
        IF still_named THEN
            RAISE EXCEPTION 'a % of % that % rows name cannot be deleted or changed', key, TG_TABLE_NAME, referencing
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER sources_named_by_articles_delete ON sources;
DROP TRIGGER sources_named_by_articles_update ON sources;
DROP FUNCTION sources_keep_named_by_articles();
CREATE TRIGGER sources_named_by_articles_delete AFTER DELETE ON sources REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_removing_referenced_keys('source_key', 'articles');
CREATE TRIGGER sources_named_by_articles_update AFTER UPDATE ON sources REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_removing_referenced_keys('source_key', 'articles');
CREATE TRIGGER ingest_runs_keep_ledger_run_ids AFTER UPDATE ON ingest_runs REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_removing_referenced_keys('run_id', 'run_urls');

CREATE OR REPLACE FUNCTION ingest_runs_delete_ledger() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM old_rows) THEN
        PERFORM refuse_key_removal_outside_read_committed('deleting a run');
        DELETE FROM run_urls WHERE run_id IN (SELECT run_id FROM old_rows);
    END IF;
    RETURN NULL;
END
$$;

-- The writers' side: only the owner rights change (the checks are 005's and 007's).
ALTER FUNCTION articles_check_sources() SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp;
ALTER FUNCTION run_urls_check_runs() SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp;

CREATE FUNCTION refuse_truncate_while_referenced() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    referencing text := TG_ARGV[0];
    still_there boolean;
BEGIN
    PERFORM refuse_key_removal_outside_read_committed('TRUNCATE ' || TG_TABLE_NAME);
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', referencing) INTO still_there;
    IF still_there THEN
        RAISE EXCEPTION 'TRUNCATE % would leave rows of % without it', TG_TABLE_NAME, referencing
            USING ERRCODE = 'foreign_key_violation',
                  HINT = format('Truncate %s in the same statement.', referencing);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER sources_truncate_named_by_articles AFTER TRUNCATE ON sources
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate_while_referenced('articles');
CREATE TRIGGER ingest_runs_truncate_with_ledger AFTER TRUNCATE ON ingest_runs
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate_while_referenced('run_urls');

REVOKE EXECUTE ON FUNCTION articles_check_sources(), run_urls_check_runs(), refuse_removing_referenced_keys(),
    ingest_runs_delete_ledger(), refuse_truncate_while_referenced()
    FROM PUBLIC;
