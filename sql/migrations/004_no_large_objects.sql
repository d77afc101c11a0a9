-- No role of this database creates large objects.
--
-- news-etl stores nothing as a large object, yet PostgreSQL lets every role create
-- them (lo_creat, lo_create, lo_from_bytea are executable by PUBLIC), so an analyst
-- login could fill the disk outside any table it was granted. No privilege of a role
-- or a schema prevents it; only revoking EXECUTE on those functions does, and only a
-- superuser may, as they belong to the system. The revoke is per database, so other
-- databases of the server are untouched.
--
-- A migrating role that is not a superuser cannot: it is told, and the statement to
-- hand to a superuser is in docs/operations.md ("Roles").

DO $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        REVOKE EXECUTE ON FUNCTION
            lo_creat(integer), lo_create(oid), lo_from_bytea(oid, bytea), lo_import(text), lo_import(text, oid)
            FROM PUBLIC;
    ELSE
        RAISE WARNING 'large objects are still open to every role: a superuser must revoke EXECUTE on '
                      'lo_creat, lo_create, lo_from_bytea and lo_import from PUBLIC (docs/operations.md, Roles)';
    END IF;
END
$$;
