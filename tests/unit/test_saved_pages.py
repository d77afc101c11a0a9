"""news_etl.saved_pages: `news-etl extract` runs the pipeline's parse for configured sources; manifests."""

from __future__ import annotations

import json
import subprocess
import sys

from news_etl.saved_pages import extract_html, extract_manifest

TENGRI_URL = "https://tengrinews.kz/article/novyiy-park-2400/"
TENGRI_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<meta name="author" content="tengrinews.kz">
<meta name="article:published_time" content="2024-03-12T09:30:00+05:00">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle",
 "headline":"Новый парк","datePublished":"2024-03-12T09:30:00+06:00",
 "author":{"@type":"Person","name":"Tengrinews.kz"},
 "publisher":{"@type":"Organization","name":"Tengrinews.kz"}}</script></head><body>
<div class="date-time">12 марта 2024 09:30</div><h1 class="head-single">Новый парк</h1>
<div class="content_main_meta_author"></div>
<div class="content_main_text">
<p>В городе открылся новый парк.<br>Работы шли два года.</p>
<p>Фото Tengrinews.kz/Турар Казангапов</p>
<blockquote class="instagram-media"><div>Посмотреть эту публикацию в Instagram</div>
<p><a href="https://www.instagram.com/p/x/">Публикация от Акимат (@akimat)</a></p></blockquote>
<h3>Что дальше</h3><ul><li>Второй этап.</li></ul>
<blockquote><p>"Парк для всех", - сказал аким.</p></blockquote>
<p>Текст подготовил: Иван Иванов.</p>
<div class="tn-pr tn-pr-3"><strong>Материал предоставлен партнером</strong></div>
</div></body></html>"""


def test_a_configured_source_goes_through_the_pipelines_parse():
    result = extract_html(TENGRI_PAGE, url=TENGRI_URL)
    assert result["source"] == "Tengrinews.kz"
    assert result["extraction"]["body"] == "selectors"
    # JSON-LD's +06:00 is Almaty's offset before 2024-03-01 only: the wall clock wins.
    assert result["published_at"] == "2024-03-12T04:30:00+00:00"
    assert result["published_local"] == "2024-03-12T09:30:00+05:00"
    assert result["extraction"]["published_at_offset"] == "declared +06:00, Asia/Almaty +05:00"
    assert result["author"] == ""  # the organization (name or host, any case) is nobody's name
    assert result["body"].split("\n") == ["В городе открылся новый парк.", "Работы шли два года.",
                                          "Что дальше", "Второй этап.", '"Парк для всех", - сказал аким.']


def test_an_unknown_site_keeps_its_own_offset_and_a_date_only_value_its_day():
    page = ("<html><head><script type='application/ld+json'>{\"@type\":\"NewsArticle\",\"headline\":\"Day\","
            "\"datePublished\":\"2024-03-15\"}</script></head><body><h1>Day</h1><article>"
            + "<p>" + "A sentence of the article that is long enough to count as prose. " * 5 + "</p>" * 3
            + "</article></body></html>")
    result = extract_html(page, url="https://example.org/a/1")
    assert result["source"] is None
    assert result["published_local"][:10] == "2024-03-15"


def test_a_manifest_gives_one_object_per_line_and_a_failure_does_not_stop_the_others(tmp_path):
    (tmp_path / "good.html").write_text(TENGRI_PAGE, encoding="utf-8")
    (tmp_path / "empty.html").write_text("<html><body><p>nothing</p></body></html>", encoding="utf-8")
    manifest = tmp_path / "pages.jsonl"
    manifest.write_text("\n".join([
        json.dumps({"file": "good.html", "url": TENGRI_URL, "note": "kept"}),
        json.dumps({"file": "missing.html", "url": TENGRI_URL}),
        "not json",
        json.dumps({"file": "empty.html", "url": TENGRI_URL}),
        json.dumps({"file": str(tmp_path / "good.html"), "url": TENGRI_URL}),
    ]) + "\n", encoding="utf-8")
    results = list(extract_manifest(manifest.read_text().splitlines(), base=tmp_path))
    assert len(results) == 5
    assert results[0]["note"] == "kept" and results[0]["title"] == "Новый парк" and "error" not in results[0]
    assert results[1]["file"] == "missing.html" and "No such file" in results[1]["error"]
    assert results[2]["line"] == 3 and "manifest line 3" in results[2]["error"]
    assert results[3]["file"] == "empty.html" and "parse: no_title" in results[3]["error"]
    assert results[4]["title"] == "Новый парк"
    # The command prints the same, one JSON object per line.
    done = subprocess.run([sys.executable, "-m", "news_etl", "extract", "--manifest", str(manifest)],
                          capture_output=True, text=True, timeout=120, check=True)
    assert [json.loads(line).get("error") is None for line in done.stdout.splitlines()] == [
        True, False, False, False, True]
