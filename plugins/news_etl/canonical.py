"""Canonical article URLs: one spelling per article, whatever link led to it.

https, host lower-cased without ``www.``/``m.``, path ending in ``/``, no
query and no fragment, no AMP suffix. Tracking parameters (``utm_*``), mobile
or www hosts and a page's AMP variant (``…/slug-123/amp/``, the same article
in another template) therefore collapse onto the same URL. Percent-encoding is
made safe and consistent by w3lib.
"""

from __future__ import annotations

from posixpath import splitext
from urllib.parse import unquote_to_bytes, urlsplit, urlunsplit

from w3lib.url import safe_url_string

from news_etl.sources import Source

_HOST_PREFIXES = ("www.", "m.")
_AMP_SUFFIX = "/amp/"


def _bare_host(host: str) -> str:
    host = host.lower().rstrip(".")
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            return host[len(prefix):]
    return host


def check_mirror_url(url: str) -> str:
    """A ``--base-url`` as given, if it is an http(s) URL with a host and a numeric port if any.

    It may carry credentials (``https://user:password@mirror/``): the fetcher sends them
    as HTTP basic auth to the mirror only, and what is recorded is ``redacted_url``.
    """
    text = (url or "").strip()
    if not text:
        raise ValueError("the mirror URL is empty")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"the mirror URL must be http:// or https:// with a host: {redacted_url(text)!r}")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ValueError(f"the mirror URL has a bad port: {redacted_url(text)!r}") from None
    return text


def redacted_url(url: str) -> str:
    """``url`` with its credentials, if any, replaced by ``***``: what may be stored or shown."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


def without_credentials(url: str) -> tuple[str, tuple[bytes, bytes] | None]:
    """``url`` without its ``user:password@`` part, and that part percent-decoded to bytes if any
    (bytes: any password goes out as given, UTF-8 included, and never fails to encode)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    bare = urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
    return bare, (unquote_to_bytes(parts.username or ""), unquote_to_bytes(parts.password or ""))


def canonical_url(url: str, source: Source | None = None) -> str:
    """The canonical form of ``url``.

    With ``source``, a relative URL is resolved against the source's base URL
    and any of the source's allowed hosts is replaced by its main host. A path
    whose last segment has a file extension (``/news.rss``) gets no trailing
    slash: that would name a different resource.
    """
    url = (url or "").strip()
    if source is not None:
        url = source.absolute_url(url)
    parts = urlsplit(safe_url_string(url))
    if not parts.hostname:
        raise ValueError(f"not an absolute URL: {url!r}")
    host = _bare_host(parts.hostname)
    if source is not None and parts.hostname.lower() in source.allowed_hosts:
        host = _bare_host(source.host)
    path = parts.path or "/"
    if not path.endswith("/") and not splitext(path.rsplit("/", 1)[-1])[1]:
        path += "/"
    if path.endswith(_AMP_SUFFIX) and path != _AMP_SUFFIX:
        path = path[:-len(_AMP_SUFFIX) + 1]
    return urlunsplit(("https", host, path, "", ""))
