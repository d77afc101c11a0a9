"""``news-etl``: the command line. It calls the same functions as the Airflow tasks.

Exit codes: 0 success, 1 failure, 2 bad usage. A user mistake gets one line on
stderr, never a traceback (``-v`` shows debug logs and tracebacks).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from datetime import date
from pathlib import Path

log = logging.getLogger("news_etl")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments that argparse could not catch by itself."""


def _day(text: str) -> date:
    # Only the extended ISO form: Python also reads 20260427, which is too easily a typo.
    try:
        if len(text) != 10 or text[4] != "-" or text[7] != "-":
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _mirror(text: str) -> str:
    from news_etl.canonical import check_mirror_url

    try:
        return check_mirror_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _count(low: int, high: int):
    """An argparse type: a whole number from ``low`` to ``high``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range ({low} to {high})")
        return value
    return parse


def _database_url() -> str:
    from news_etl import db

    return db.database_url()


# --- subcommands -----------------------------------------------------------------------------

def cmd_db_migrate(args: argparse.Namespace) -> int:
    from news_etl import db

    with db.connection(_database_url()) as conn:
        applied = db.migrate(conn)
    print(f"applied {len(applied)} migration(s): {', '.join(applied)}" if applied
          else "database schema is up to date")
    return EXIT_OK


def cmd_db_grant_reader(args: argparse.Namespace) -> int:
    from news_etl import db, settings
    from news_etl.access import READER_ROLE, grant_reader

    password = settings.reader_password()
    if password is None:
        if not sys.stdin.isatty():
            raise UsageError("set NEWS_ETL_READER_PASSWORD, or run in a terminal to be asked")
        import getpass

        password = getpass.getpass(f"password for {args.name}: ")
        if password != getpass.getpass("again: "):
            raise UsageError("the passwords differ")
    with db.connection(_database_url()) as conn:
        db.migrate(conn)
        created = grant_reader(conn, args.name, password)
    print(f"{'created' if created else 'updated'} login {args.name} (member of {READER_ROLE}: reads "
          "the articles, the reporting views and the run tables; see docs/analysts.md)")
    return EXIT_OK


def cmd_db_stop(args: argparse.Namespace) -> int:
    from news_etl import db

    db.stop_embedded()
    print("embedded PostgreSQL stopped")
    return EXIT_OK


def cmd_seeds_load(args: argparse.Namespace) -> int:
    if not args.dir.is_dir():
        raise UsageError(f"not a directory: {args.dir}")
    from news_etl import db
    from news_etl.seeds import load_seed_dir

    with db.connection(_database_url()) as conn:
        db.ensure_schema(conn)
        result = load_seed_dir(conn, args.dir)
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(result.outcomes.items())) or "nothing"
    print(f"seed files: {result.files}; {outcomes} (run {result.run_id})")
    for problem in result.rejected:
        print(f"  rejected {problem}", file=sys.stderr)
    return EXIT_OK


def cmd_seeds_export(args: argparse.Namespace) -> int:
    from news_etl import db
    from news_etl.seeds import export_seed_dir

    with db.connection(_database_url()) as conn:
        db.ensure_schema(conn)
        written = export_seed_dir(conn, args.dir, since=args.since, source_key=args.source)
    print(f"wrote {len(written)} seed file(s) to {args.dir}")
    return EXIT_OK


def cmd_extract(args: argparse.Namespace) -> int:
    from news_etl.saved_pages import extract_file, extract_manifest

    if (args.file is None) == (args.manifest is None):
        raise UsageError("give either FILE or --manifest FILE")
    if args.manifest is not None:
        if not args.manifest.is_file():
            raise UsageError(f"no such file: {args.manifest}")
        with args.manifest.open(encoding="utf-8") as lines:
            for result in extract_manifest(lines, base=args.manifest.parent):
                print(json.dumps(result, ensure_ascii=False), flush=True)
        return EXIT_OK
    if args.file != "-" and not Path(args.file).is_file():
        raise UsageError(f"no such file: {args.file}")
    print(json.dumps(extract_file(args.file, url=args.url), ensure_ascii=False, indent=2))
    return EXIT_OK


class _Progress:
    """A progress bar on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        self._bar = None
        self._task = None

    def start(self, total: int) -> None:
        if not sys.stderr.isatty():
            return
        from rich.progress import Progress

        self._bar = Progress(transient=True, console=None)
        self._bar.start()
        self._task = self._bar.add_task("fetching and parsing", total=total)

    def advance(self, n: int) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, n)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def cmd_run(args: argparse.Namespace) -> int:
    if not args.latest and args.date is None and args.date_from is None:
        raise UsageError("give --date, --from/--to or --latest")
    if args.date and (args.date_from or args.date_to):
        raise UsageError("--date cannot be combined with --from/--to")
    date_from = args.date or args.date_from
    date_to = args.date or args.date_to or args.date_from
    from news_etl import pipeline

    progress = _Progress()
    try:
        summary = pipeline.run(
            _database_url(), args.source, date_from, date_to, latest=args.latest,
            base_url=args.base_url, reparse=args.reparse, dry_run=args.dry_run,
            min_articles=args.min_articles, budget_seconds=args.budget, progress=progress,
        )
    finally:
        progress.stop()
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary["outcome_counts"].items())) or "nothing"
    print(f"run {summary['run_id']} {summary['status']}: discovered {summary['discovered']}; {counts}")
    return EXIT_OK


def cmd_runs(args: argparse.Namespace) -> int:
    from news_etl import db, ledger

    with db.connection(_database_url()) as conn:
        db.ensure_schema(conn)
        abandoned = ledger.abandon_stale_runs(conn)
        conn.commit()
        runs = ledger.recent_runs(conn, args.limit)
    if abandoned:
        print(f"marked {len(abandoned)} run(s) abandoned (their process stopped): "
              f"{', '.join(map(str, abandoned))}")
    for r in runs:
        window = f"{r['window_start'] or ''}..{r['window_end'] or ''}" if r["window_start"] else "-"
        ended = f"{r['finished_at']:%Y-%m-%d %H:%M:%S}" if r["finished_at"] else "-"
        line = (f"{r['run_id']:>6}  {r['status']:<9}  {r['source_key'] or '-':<14} {r['kind']:<8}"
                f" {window:<22}"
                f" started {r['started_at']:%Y-%m-%d %H:%M:%S}  ended {ended}"
                f"  urls {r['discovered']} (pending {r['pending']})")
        if r["status"] == "running":
            line += f"  heartbeat {r['heartbeat_at']:%H:%M:%S} by {r['worker'] or '?'}"
        if r["error"]:
            line += f"  error: {r['error'].splitlines()[0][:200]}"
        print(line)
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from news_etl import db, report

    with db.connection(_database_url()) as conn:
        db.ensure_schema(conn)
        data = report.build_report(conn, days=args.days)
    if args.html:
        args.html.write_text(report.render_html(data), encoding="utf-8")
        print(f"HTML report written to {args.html}")
    if args.json:
        print(report.render_json(data))
    elif not args.html:
        print(report.render_text(data))
    return EXIT_OK


# --- argument parsing ------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    from news_etl import settings

    parser = argparse.ArgumentParser(
        prog="news-etl",
        description="Discover, fetch, parse, deduplicate and load news articles into PostgreSQL. "
                    "The database is NEWS_ETL_DATABASE_URL, else an embedded PostgreSQL under .data/.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logs and tracebacks")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    dbp = commands.add_parser("db", help="database schema")
    db_commands = dbp.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("migrate", help="apply pending schema migrations (idempotent)"
                           ).set_defaults(func=cmd_db_migrate)
    db_commands.add_parser("stop", help="stop the embedded PostgreSQL (data is kept)"
                           ).set_defaults(func=cmd_db_stop)
    grant = db_commands.add_parser(
        "grant-reader", help="create (or reset the password of) an analyst's read-only login",
        description="Create login role NAME, member of news_reader (read-only: articles, reporting "
                    "views, run tables; no raw pages, no staging, no writes). The password is read from "
                    "NEWS_ETL_READER_PASSWORD, else asked for. Run it as the database owner.")
    grant.add_argument("name", metavar="NAME", help="the login, e.g. alice (lower case, digits, _)")
    grant.set_defaults(func=cmd_db_grant_reader)

    seeds = commands.add_parser("seeds", help="load or export seed files")
    seed_commands = seeds.add_subparsers(dest="seeds_command", required=True, metavar="ACTION")
    load = seed_commands.add_parser("load", help="load the seed files of DIR as stored articles")
    load.add_argument("dir", type=Path, metavar="DIR")
    load.set_defaults(func=cmd_seeds_load)
    export = seed_commands.add_parser("export", help="write stored articles to DIR as seed files")
    export.add_argument("dir", type=Path, metavar="DIR")
    export.add_argument("--since", type=_day, metavar="DATE", help="only articles published on/after DATE")
    export.add_argument("--source", metavar="NAME", help="only this source (key or display name)")
    export.set_defaults(func=cmd_seeds_export)

    extract = commands.add_parser("extract", help="extract saved pages as the pipeline does, print JSON")
    extract.add_argument("file", metavar="FILE", nargs="?", help=".html, .html.gz or - for standard input")
    extract.add_argument("--url", help="the page's URL (picks the source's rules and time zone)")
    extract.add_argument("--manifest", type=Path, metavar="FILE",
                         help='JSON Lines of {"file": ..., "url": ...}: one JSON object per line, in order')
    extract.set_defaults(func=cmd_extract)

    run = commands.add_parser("run", help="run the whole pipeline for local days of a source")
    run.add_argument("source", metavar="SOURCE", help="source key, e.g. tengrinews")
    when = run.add_mutually_exclusive_group()
    when.add_argument("--date", type=_day, help="one local day YYYY-MM-DD")
    when.add_argument("--latest", action="store_true", help="what the source's feed lists now")
    run.add_argument("--from", dest="date_from", type=_day, metavar="D", help="first local day")
    run.add_argument("--to", dest="date_to", type=_day, metavar="D", help="last local day (inclusive)")
    run.add_argument("--base-url", metavar="URL", type=_mirror,
                     help="send every request to this mirror (stored URLs stay canonical)")
    run.add_argument("--reparse", action="store_true", help="re-parse stored raw pages, no requests")
    run.add_argument("--dry-run", action="store_true", help="write nothing, report what would change")
    run.add_argument("--min-articles", type=_count(0, settings.MAX_MIN_ARTICLES_PER_DAY), default=None,
                     metavar="N",
                     help="fail when fewer than N articles per day were found "
                          "(default: the source's min_articles_per_day in the sources file)")
    run.add_argument("--budget", type=_count(1, 7 * 24 * 3600), default=None, metavar="SECONDS",
                     help="the run's time budget; URLs not fetched by then fail with reason 'budget' "
                          "(default: NEWS_ETL_RUN_BUDGET_SECONDS, else 6 hours)")
    run.set_defaults(func=cmd_run)

    runs = commands.add_parser("runs", help="recent runs and their state; marks runs whose process "
                               "died as abandoned")
    runs.add_argument("--limit", type=_count(1, 10_000), default=20, metavar="N",
                      help="how many (default 20)")
    runs.set_defaults(func=cmd_runs)

    rep = commands.add_parser("report", help="ingestion health of the last days")
    rep.add_argument("--days", type=_count(1, settings.MAX_REPORT_DAYS), default=7, metavar="N")
    rep.add_argument("--json", action="store_true", help="machine-readable output")
    rep.add_argument("--html", type=Path, metavar="PATH", help="write a self-contained HTML report")
    rep.set_defaults(func=cmd_report)
    return parser


def _known_errors() -> tuple[type[BaseException], ...]:
    import psycopg2

    from news_etl.access import AccessError
    from news_etl.db import DatabaseError
    from news_etl.errors import Rejected, RetryableFailure
    from news_etl.seedfile import SeedFormatError
    from news_etl.sources import SourceConfigError

    errors: list[type[BaseException]] = [AccessError, DatabaseError, SourceConfigError, SeedFormatError,
                                         Rejected, RetryableFailure, OSError, ValueError, psycopg2.Error]
    try:
        from news_etl.pipeline import CheckFailed
        from news_etl.runs import RunEnded
        errors.extend((CheckFailed, RunEnded))
    except ImportError:
        pass
    return tuple(errors)


def _stop_on_signals() -> None:
    """SIGTERM (docker stop, timeout, a scheduler) and SIGINT stop the command as an exception,
    so that a run records that it was interrupted instead of staying 'running'."""
    from news_etl.errors import Interrupted

    def interrupt(signum: int, _frame) -> None:
        raise Interrupted(signal.Signals(signum).name)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, interrupt)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    _stop_on_signals()
    try:
        return args.func(args)
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        print(f"news-etl: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        print(f"news-etl: interrupted ({exc or 'SIGINT'})", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as exc:
        if args.verbose or not isinstance(exc, _known_errors()):
            log.exception("news-etl %s failed", args.command)
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(f"news-etl: error: {first_line}", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
