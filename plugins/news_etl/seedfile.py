"""The one reader and the one writer of the seed-file format.

A seed file holds one article, UTF-8, exactly::

    \\n# {title}\\n\\nPublished at: **{published_at}**\\n\\nAuthor: **{author}**\\n\\n
    Original: [{source_name}]({url})\\n\\n{body}\\n

The reader is strict (a file that does not match is an error naming the file
and the line) so that what it accepts the writer reproduces byte for byte.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from news_etl import settings
from news_etl.record import Article

_TITLE = "# "
_PUBLISHED = ("Published at: **", "**")
_AUTHOR = ("Author: **", "**")
_ORIGINAL = ("Original: [", ")")
_LINK_SPLIT = "]("


class SeedFormatError(ValueError):
    """A seed file that does not follow the format; says where."""

    def __init__(self, name: str, line: int, message: str) -> None:
        super().__init__(f"{name}:{line}: {message}")
        self.name = name
        self.line = line
        self.message = message


def format_seed(article: Article) -> str:
    """The seed-file text of ``article``."""
    for field_name in ("title", "author", "source_name", "url"):
        value = getattr(article, field_name)
        if "\n" in value or "\r" in value:
            raise ValueError(f"{field_name} must be a single line: {value!r}")
    if not article.title:
        raise ValueError("title must not be empty")
    if article.published_at.tzinfo is None:
        raise ValueError("published_at must be timezone-aware")
    published = article.published_at.astimezone(UTC).isoformat()
    return (
        f"\n{_TITLE}{article.title}\n\n"
        f"{_PUBLISHED[0]}{published}{_PUBLISHED[1]}\n\n"
        f"{_AUTHOR[0]}{article.author}{_AUTHOR[1]}\n\n"
        f"{_ORIGINAL[0]}{article.source_name}{_LINK_SPLIT}{article.url}{_ORIGINAL[1]}\n\n"
        f"{article.body}\n"
    )


def _between(line: str, lineno: int, name: str, affixes: tuple[str, str], what: str) -> str:
    prefix, suffix = affixes
    if not (line.startswith(prefix) and line.endswith(suffix) and len(line) >= len(prefix) + len(suffix)):
        raise SeedFormatError(name, lineno, f"expected {what} line '{prefix}…{suffix}', found {line[:60]!r}")
    return line[len(prefix): len(line) - len(suffix)]


def parse_seed(text: str, name: str = "<seed>") -> Article:
    """Read seed-file text; raise SeedFormatError naming ``name`` and the line."""
    lines = text.split("\n")
    # 9 header lines, at least one body line, and the final newline's empty tail.
    if len(lines) < 11 or lines[-1] != "":
        if text and not text.endswith("\n"):
            raise SeedFormatError(name, len(lines), "file does not end with a newline")
        raise SeedFormatError(name, max(len(lines) - 1, 1), "file is too short for a seed file")
    for lineno in (1, 3, 5, 7, 9):
        if lines[lineno - 1] != "":
            raise SeedFormatError(name, lineno, f"expected a blank line, found {lines[lineno - 1][:60]!r}")
    if not lines[1].startswith(_TITLE) or len(lines[1]) == len(_TITLE):
        raise SeedFormatError(name, 2, f"expected the title line '# …', found {lines[1][:60]!r}")
    title = lines[1][len(_TITLE):]
    published_text = _between(lines[3], 4, name, _PUBLISHED, "'Published at'")
    try:
        published_at = datetime.fromisoformat(published_text)
    except ValueError:
        raise SeedFormatError(name, 4, f"bad date {published_text!r}: expected ISO-8601") from None
    if published_at.tzinfo is None or published_at.utcoffset().total_seconds() != 0:
        raise SeedFormatError(name, 4, f"date {published_text!r} must be in UTC (+00:00)")
    author = _between(lines[5], 6, name, _AUTHOR, "'Author'")
    link = _between(lines[7], 8, name, _ORIGINAL, "'Original'")
    source_name, sep, url = link.rpartition(_LINK_SPLIT)
    if not sep or not url:
        raise SeedFormatError(name, 8, f"expected 'Original: [source](url)', found {lines[7][:60]!r}")
    body = "\n".join(lines[9:-1])
    if published_at.isoformat() != published_text:
        # Only the writer's own spelling round-trips byte for byte.
        raise SeedFormatError(name, 4, f"date {published_text!r} is not written as YYYY-MM-DDTHH:MM:SS+00:00")
    return Article(title=title, published_at=published_at, author=author,
                   source_name=source_name, url=url, body=body)


def read_seed_file(path: Path | str) -> Article:
    """Read one seed file (UTF-8); errors name the file and the line."""
    path = Path(path)
    with path.open("rb") as file:
        data = file.read(settings.MAX_SEED_FILE_BYTES + 1)
    if len(data) > settings.MAX_SEED_FILE_BYTES:
        raise SeedFormatError(str(path), 1, f"larger than {settings.MAX_SEED_FILE_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SeedFormatError(str(path), line, f"not UTF-8 (byte 0x{data[exc.start]:02x})") from None
    return parse_seed(text, str(path))


def write_seed_file(path: Path | str, article: Article) -> None:
    """Write ``article`` as a seed file; bytes exactly as ``format_seed`` gives."""
    Path(path).write_bytes(format_seed(article).encode("utf-8"))


def seed_file_name(index: int, article: Article) -> str:
    """``NNN_<16 hex>.txt``: a running number and a stable hash of the article's URL."""
    digest = hashlib.sha256(article.url.encode("utf-8")).hexdigest()[:16]
    return f"{index:03d}_{digest}.txt"
