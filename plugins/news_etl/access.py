"""Logins for analysts: a LOGIN role that is a member of ``news_reader`` and nothing else.

``news_reader`` (created by the migrations, NOLOGIN) holds the read rights; each
analyst gets a login role in it (``news-etl db grant-reader NAME``). The password is
hashed on the client with the server's method (libpq's PQencryptPasswordConn), so
it never travels or lands in a server log in clear text.
"""

from __future__ import annotations

import re

import psycopg2.extensions
from psycopg2 import sql

READER_ROLE = "news_reader"
# A plain lower-case identifier: no quoting surprises in psql, pg_hba.conf or a URL.
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class AccessError(ValueError):
    """A login that cannot be made as asked."""


def grant_reader(conn, name: str, password: str) -> bool:
    """Create login ``name`` in ``news_reader`` (or set its password); True if it was created.

    An existing role is changed only when it already is such a reader login: this
    command must never reset the password of the owner or of any other role.
    """
    if not _ROLE_NAME.fullmatch(name):
        raise AccessError(f"role name {name!r}: use lower-case letters, digits and _ (at most 63)")
    if not password:
        raise AccessError("the password is empty")
    role = sql.Identifier(name)
    hashed = psycopg2.extensions.encrypt_password(password, name, conn)
    with conn.cursor() as cur:
        cur.execute("SELECT r.rolsuper OR r.rolcreaterole OR r.rolcreatedb,"
                    " pg_has_role(r.oid, %s, 'MEMBER')"
                    " FROM pg_roles r WHERE r.rolname = %s", (READER_ROLE, name))
        found = cur.fetchone()
        if found is not None and (found[0] or not found[1]):
            raise AccessError(f"role {name} exists and is not a {READER_ROLE} login: choose another name")
        verb = sql.SQL("ALTER ROLE" if found else "CREATE ROLE")
        cur.execute(sql.SQL("{} {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(
            verb, role, sql.Literal(hashed)))
        cur.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(READER_ROLE), role))
    conn.commit()
    return found is None
