"""Where a source's URLs are requested: on its own hosts, or on a mirror of the site.

A mirror (``--base-url``, the offline replica) serves the same paths; pages keep
their URLs on the source's host, so what is stored does not depend on where it
was fetched. A mirror URL may carry credentials: they are split off here and go,
as HTTP basic auth, only to the mirror itself, never into a URL.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from news_etl.canonical import canonical_url, without_credentials
from news_etl.sources import Source


class Routing:
    """The URL mapping of one fetcher: source URLs to wire URLs and back, and who gets credentials."""

    def __init__(self, source: Source, base_url: str | None = None) -> None:
        self.source = source
        self.mirror, self.mirror_auth = (without_credentials(base_url.rstrip("/")) if base_url
                                         else (None, None))

    def _on_mirror(self, parts) -> bool:
        return bool(self.mirror) and parts.netloc == urlsplit(self.mirror).netloc

    def source_url(self, url: str) -> str:
        """``url`` on the source's own host (relative and mirror URLs mapped back)."""
        absolute = self.source.absolute_url(url)
        parts = urlsplit(absolute)
        if self._on_mirror(parts):
            base = urlsplit(self.source.base_url)
            absolute = urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))
        return absolute

    def page_url(self, url: str, kind: str = "article") -> str:
        """The URL a page is known by: canonical for articles, source-host URL for listings/feeds."""
        on_source = self.source_url(url)
        return canonical_url(on_source, self.source) if kind == "article" else on_source

    def wire_url(self, source_url: str) -> str:
        """Where a request for ``source_url`` is actually sent."""
        if not self.mirror:
            return urlunsplit(urlsplit(source_url)._replace(fragment=""))
        parts = urlsplit(source_url)
        return self.mirror + urlunsplit(("", "", parts.path or "/", parts.query, ""))

    def redirect_target(self, location: str) -> str | None:
        """The URL to follow for a redirect, or None when it leaves the source."""
        parts = urlsplit(location)
        if self._on_mirror(parts):
            return location
        if (parts.hostname or "").lower() not in self.source.allowed_hosts:
            return None
        return self.wire_url(location) if self.mirror else location

    def auth_for(self, wire_url: str) -> tuple[bytes, bytes] | None:
        """The mirror's credentials for a request to the mirror itself, on its own scheme (a redirect
        to plain http never gets them)."""
        wire, mirror = urlsplit(wire_url), urlsplit(self.mirror or "")
        if self.mirror_auth and (wire.scheme, wire.netloc) == (mirror.scheme, mirror.netloc):
            return self.mirror_auth
        return None
