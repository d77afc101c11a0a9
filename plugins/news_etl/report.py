"""The health report of the last N days, read from the reporting views.
Over 400 lines because its three renderings (terminal, JSON, an HTML page with charts)
share one report shape and its cell formatting; the charts are most of the length.

The views are defined in ``sql/migrations/001_baseline.sql``. Each section of
the report is one query file of ``sql/reporting/`` run as-is: this module adds
no figures of its own, it only reads, refreshes and renders.

- :func:`refresh_views` refreshes every materialized view of the ``reporting``
  schema (the Airflow reporting DAG calls it after ingestion).
- :func:`build_report` returns the report as plain JSON-ready data.
- :func:`render_text`, :func:`render_json`, :func:`render_html` present it: aligned
  terminal tables, JSON, or one self-contained HTML page whose charts are inline
  SVG drawn by matplotlib (no script, no network resource, every database value
  escaped).
"""

from __future__ import annotations

import html
import io
import json
import re
import time
import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from news_etl import settings

# (report key, query file in sql/reporting/, heading). The order is the order shown.
SECTIONS: list[tuple[str, str, str]] = [
    ("articles_per_day", "articles_daily", "Articles per local day and source"),
    ("articles_per_section", "articles_daily_section", "Articles per section (window total)"),
    ("lag", "ingestion_lag_daily", "Ingestion lag, published to first seen, per day"),
    ("runs", "run_outcomes", "Outcomes per run"),
    ("rejects", "rejects_daily", "Rejects by stage and reason (window total)"),
    ("duplicates", "duplicates_by_source_pair", "Duplicates per source pair (all time)"),
    ("top_authors", "top_authors", "Top authors (all time)"),
    ("revisions", "revisions_daily", "Revisions per day"),
    ("newest_articles", "newest_articles", "Newest articles"),
]

# Ledger outcomes in the order they are stacked in the runs chart.
OUTCOMES = ["new", "updated", "unchanged", "duplicate_exact", "duplicate_near", "rejected", "failed",
            "pending"]


def refresh_views(conn) -> dict[str, float]:
    """Refresh every materialized view of the ``reporting`` schema; return seconds per view.

    CONCURRENTLY, so readers are never blocked; each view is committed on its
    own (this commits the connection) so that its lock is held no longer than
    its own refresh. The list comes from the catalog, not from a file, so a
    view added by a later migration is refreshed too.
    """
    timings: dict[str, float] = {}
    with conn.cursor() as cur:
        cur.execute(
            "SELECT format('%I.%I', schemaname, matviewname), ispopulated FROM pg_matviews"
            " WHERE schemaname = 'reporting' ORDER BY matviewname"
        )
        views = cur.fetchall()
    conn.commit()
    for name, populated in views:
        started = time.perf_counter()
        with conn.cursor() as cur:
            # CONCURRENTLY is refused on a view never populated: the first fill is plain.
            cur.execute(f"REFRESH MATERIALIZED VIEW {'CONCURRENTLY ' if populated else ''}{name}")
        conn.commit()
        timings[name] = time.perf_counter() - started
    return timings


def _query(name: str) -> str:
    return (settings.sql_dir() / "reporting" / f"{name}.sql").read_text(encoding="utf-8")


def _plain(value: Any) -> Any:
    """A database value as JSON-ready data (ISO dates, floats)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def build_report(conn, days: int = 7, *, today: date | None = None, authors: int = 10,
                 newest: int = 3) -> dict:
    """The report of the ``days`` local days up to ``today`` (default: today in UTC).

    The window ends one day after ``today`` because a local day east of UTC
    (Asia/Almaty) is already tomorrow for part of the UTC day.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    with conn.cursor() as cur:
        if today is None:
            cur.execute("SELECT (now() AT TIME ZONE 'UTC')::date")
            today = cur.fetchone()[0]
        since = today - timedelta(days=days - 1)
        until = today + timedelta(days=1)
        params = {"since": since, "until": until, "limit": authors}
        sections: dict[str, dict] = {}
        for key, query, title in SECTIONS:
            if key == "newest_articles":
                params = {**params, "limit": newest}
            cur.execute(_query(query), params)
            columns = [d.name for d in cur.description]
            rows = [{c: _plain(v) for c, v in zip(columns, row, strict=True)} for row in cur.fetchall()]
            sections[key] = {"title": title, "columns": columns, "rows": rows}
        cur.execute("SELECT now()")
        generated_at = cur.fetchone()[0]
    return {
        "generated_at": generated_at.isoformat(),
        "days": days,
        "today": today.isoformat(),
        "since": since.isoformat(),
        "until": until.isoformat(),
        "sections": sections,
    }


# ---------------------------------------------------------------- formatting

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _duration(seconds: float) -> str:
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    if s < 60:
        return f"{sign}{s:.0f}s"
    if s < 3600:
        return f"{sign}{int(s // 60)}m {int(s % 60):02d}s"
    if s < 86400:
        return f"{sign}{int(s // 3600)}h {int(s % 3600 // 60):02d}m"
    return f"{sign}{int(s // 86400)}d {int(s % 86400 // 3600):02d}h"


def _cell(column: str, value: Any) -> str:
    """How one value is shown in a table (text and HTML alike, before escaping)."""
    if value is None:
        return ""
    if isinstance(value, float):
        if column.endswith("_s"):
            return _duration(value)
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    if isinstance(value, str) and column.endswith("_at") and "T" in value:
        # ISO timestamp in UTC (the session time zone): minutes are enough.
        return value[:16].replace("T", " ") + "Z"
    # Control characters (escape sequences in a scraped title) never reach the terminal.
    return _CONTROL.sub("?", str(value))


def _width(text: str) -> int:
    """Terminal columns taken by text (wide CJK glyphs take two, combining marks none)."""
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
               for ch in text)


def _truncate(text: str, limit: int) -> str:
    if _width(text) <= limit:
        return text
    out = ""
    for ch in text:
        if _width(out + ch) > limit - 1:
            break
        out += ch
    return out + "…"


def _is_number(rows: list[dict], column: str) -> bool:
    values = [r[column] for r in rows if r[column] is not None]
    return bool(values) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _table(columns: list[str], rows: list[dict], max_width: int = 60) -> list[str]:
    cells = [[_truncate(_cell(c, r[c]), max_width) for c in columns] for r in rows]
    widths = [max([_width(c)] + [_width(row[i]) for row in cells]) for i, c in enumerate(columns)]
    right = [_is_number(rows, c) for c in columns]

    def line(values: list[str]) -> str:
        parts = []
        for value, width, is_right in zip(values, widths, right, strict=True):
            pad = " " * (width - _width(value))
            parts.append(pad + value if is_right else value + pad)
        return "  ".join(parts).rstrip()

    return [line(columns), line(["-" * w for w in widths])] + [line(row) for row in cells]


def _window_text(report: dict) -> str:
    return (f"Last {report['days']} day(s) up to {report['today']} (UTC): local days {report['since']} to "
            f"{report['until']} of each source, the last one begun only east of UTC.")


def render_text(report: dict) -> str:
    """The report as aligned plain-text tables for a terminal."""
    out = [f"News ingestion report, generated {_cell('generated_at', report['generated_at'])}",
           _window_text(report)]
    for key, _query_name, _title in SECTIONS:
        section = report["sections"][key]
        out += ["", section["title"]]
        if section["rows"]:
            out += _table(section["columns"], section["rows"])
        else:
            out.append("(no rows)")
    return "\n".join(out) + "\n"


def render_json(report: dict) -> str:
    """The report as JSON (the same data as build_report, dates as ISO strings)."""
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"


# -------------------------------------------------------------------- charts
# matplotlib is imported inside the functions: only the HTML report needs it.

def _new_figure():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 3.2), layout="constrained")
    return fig, fig.add_subplot()


def _no_data(ax) -> None:
    ax.text(0.5, 0.5, "no data in this window", ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def _integer_ticks(axis) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _days(values: list[str]) -> list[date]:
    return [date.fromisoformat(v) for v in values]


def _date_axis(ax, days: list[date]) -> None:
    import matplotlib.dates as mdates

    # Whole days only (an automatic locator puts hours on a short window).
    span = (max(days) - min(days)).days + 1
    ax.xaxis.set_major_locator(mdates.DayLocator(interval=max(1, span // 8)))
    # The year is shown once the window crosses a new year (a backfill of old days).
    same_year = min(days).year == max(days).year
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d" if same_year else "%Y-%m-%d"))
    if not same_year:
        ax.tick_params(axis="x", labelrotation=30)
    half = timedelta(hours=12)  # (date - timedelta(hours=12) would drop the hours)
    ax.set_xlim(datetime.combine(min(days), datetime.min.time()) - half,
                datetime.combine(max(days), datetime.min.time()) + half)


def _broken_at_gaps(days: list[date], values: list[float]) -> tuple[list[date], list[float]]:
    """The series with a NaN point after each missing day, so a line never bridges days without data."""
    out_days, out_values = [], []
    for n, (day, value) in enumerate(zip(days, values, strict=True)):
        if n and (day - days[n - 1]).days > 1:
            out_days.append(days[n - 1] + timedelta(days=1))
            out_values.append(float("nan"))
        out_days.append(day)
        out_values.append(value)
    return out_days, out_values


def _chart_articles(fig, ax, report: dict) -> None:
    rows = report["sections"]["articles_per_day"]["rows"]
    ax.set_title("Articles per local day, by source")
    if not rows:
        return _no_data(ax)
    for source in sorted({r["source_key"] for r in rows}):
        mine = [r for r in rows if r["source_key"] == source]
        ax.plot(*_broken_at_gaps(_days([r["day"] for r in mine]), [r["articles"] for r in mine]),
                marker="o", label=source)
    ax.set_ylabel("articles")
    ax.set_ylim(bottom=0)
    _integer_ticks(ax.yaxis)
    _date_axis(ax, _days([r["day"] for r in rows]))
    ax.legend(fontsize="small")


def _chart_lag(fig, ax, report: dict) -> None:
    rows = report["sections"]["lag"]["rows"]
    ax.set_title("Ingestion lag (published to first seen), median and 90th percentile")
    if not rows:
        return _no_data(ax)
    hours = max(abs(r["lag_p90_s"]) for r in rows) >= 3 * 3600
    unit, scale = ("hours", 3600) if hours else ("minutes", 60)
    for source in sorted({r["source_key"] for r in rows}):
        mine = [r for r in rows if r["source_key"] == source]
        days = _days([r["day"] for r in mine])
        (line,) = ax.plot(*_broken_at_gaps(days, [r["lag_p50_s"] / scale for r in mine]), marker="o",
                          label=f"{source} p50")
        ax.plot(*_broken_at_gaps(days, [r["lag_p90_s"] / scale for r in mine]), marker="^", linestyle="--",
                color=line.get_color(), label=f"{source} p90")
    ax.set_ylabel(unit)
    _date_axis(ax, _days([r["day"] for r in rows]))
    ax.legend(fontsize="small")


def _chart_runs(fig, ax, report: dict) -> None:
    rows = report["sections"]["runs"]["rows"]
    ax.set_title("Outcomes per run (ledger)")
    if not rows:
        return _no_data(ax)
    positions = list(range(len(rows)))
    bottom = [0] * len(rows)
    for outcome in OUTCOMES:
        counts = [r[outcome] for r in rows]
        if any(counts):
            ax.bar(positions, counts, bottom=bottom, label=outcome)
            bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    step = max(1, len(rows) // 12)
    ax.set_xticks(positions[::step], [f"#{r['run_id']}" for r in rows][::step])
    ax.set_xlabel("run")
    ax.set_ylabel("URLs")
    _integer_ticks(ax.yaxis)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))


def _chart_rejects(fig, ax, report: dict) -> None:
    rows = report["sections"]["rejects"]["rows"][:12]
    ax.set_title("Rejects by stage and reason")
    if not rows:
        return _no_data(ax)
    labels = [_truncate(_cell("", f"{r['stage']}: {r['reason']}"), 40) for r in rows]
    ax.barh(range(len(rows)), [r["rejects"] for r in rows], color="#c0504d")
    ax.set_yticks(range(len(rows)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("rejects")
    _integer_ticks(ax.xaxis)


CHARTS = [
    ("articles", "Articles per day per source", _chart_articles),
    ("lag", "Ingestion lag per day", _chart_lag),
    ("runs", "Outcomes per run", _chart_runs),
    ("rejects", "Rejects by reason", _chart_rejects),
]

_SVG_ID = re.compile(r'(\bid="|href="#|url\(#)')


def _svg(key: str, draw, report: dict) -> str:
    """One chart as an inline <svg> element: text drawn as paths (no font), no metadata."""
    import matplotlib

    # parse_math off: a "$" in a source name or reason is text, not mathtext.
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": key, "text.parse_math": False,
                                "font.family": "DejaVu Sans"}):
        fig, ax = _new_figure()
        draw(fig, ax, report)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None,
                                                   "Type": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    # Several SVGs share one page: prefix their ids so references stay inside each chart.
    return _SVG_ID.sub(lambda m: f"{m.group(1)}{key}-", svg)


_CSS = """
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 70em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top;
         white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure.chart { margin: 1em 0; } figure.chart svg { max-width: 100%; height: auto; }
.empty { color: #777; } .scroll { overflow-x: auto; }
"""


def _html_table(section: dict) -> str:
    columns, rows = section["columns"], section["rows"]
    if not rows:
        return '<p class="empty">(no rows)</p>'
    numeric = {c: _is_number(rows, c) for c in columns}
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(
            f'<td{" class=num" if numeric[c] else ""}>{html.escape(_cell(c, r[c]))}</td>' for c in columns
        ) + "</tr>"
        for r in rows
    )
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def render_html(report: dict) -> str:
    """One self-contained HTML page: inline SVG charts and tables, no script, no network."""
    esc = html.escape
    newest = report["sections"]["newest_articles"]["rows"]
    newest_items = "".join(
        f"<li><span class=title>{esc(r['title'])}</span> — {esc(r['source_key'])}, "
        f"{esc(_cell('published_at', r['published_at']))}<br><small>{esc(r['url'])}</small></li>"
        for r in newest
    ) or '<li class="empty">(no articles)</li>'
    charts = "".join(
        f'<figure class="chart" id="chart-{key}"><figcaption>{esc(caption)}</figcaption>'
        f"{_svg(key, draw, report)}</figure>"
        for key, caption, draw in CHARTS
    )
    tables = "".join(
        f"<h2>{esc(report['sections'][key]['title'])}</h2>{_html_table(report['sections'][key])}"
        for key, _query_name, _title in SECTIONS
        if key != "newest_articles"
    )
    window = f"{report['since']} to {report['until']}"
    generated = _cell("generated_at", report["generated_at"])
    # The CSP forbids any script and any fetch even if something slipped through escaping.
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>News ingestion report {esc(window)}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>News ingestion report</h1>
<p>{esc(_window_text(report))} Generated {esc(generated)}.</p>
<h2>Newest articles</h2>
<ol id="newest">{newest_items}</ol>
<h2>Charts</h2>
{charts}
{tables}
</body>
</html>
"""


def write_html(report: dict, path: str | Path) -> Path:
    """Write render_html(report) to path (UTF-8) and return the path."""
    path = Path(path)
    path.write_text(render_html(report), encoding="utf-8")
    return path
