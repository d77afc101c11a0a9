"""Title, author and date rules of the generic extractor (issue 20), on small pages written here."""

from __future__ import annotations

from news_etl.extract import extract_generic

SENTENCE = "Der Gemeinderat hat am Abend über den neuen Radweg entlang des Flusses beraten."
BODY = "<p>" + " ".join([SENTENCE] * 8) + "</p>"


def _page(head: str, header: str) -> str:
    return f"<html lang='de'><head>{head}</head><body><article>{header}{BODY}</article></body></html>"


def _extract(head: str, header: str, url: str = "https://zeitung.example.de/lokal/radweg-1") -> object:
    return extract_generic(_page(head, header), url=url, tz="UTC", language=None)


def test_the_visible_headline_wins_over_a_breadcrumb_heading_and_drops_its_kicker():
    head = ('<title>Radweg-Streit: Gemeinderat vertagt Entscheidung | Zeitung</title>'
            '<meta property="og:title" content="Gemeinderat vertagt Entscheidung">')
    header = ('<h1 class="breadcrumb-headline">Radweg-Streit: Gemeinderat vertagt Entscheidung</h1>'
              '<h2><span class="kicker">Radweg-Streit</span><span class="headline">Gemeinderat vertagt '
              'Entscheidung</span></h2>')
    assert _extract(head, header).title == "Gemeinderat vertagt Entscheidung"


def test_a_kicker_glued_with_a_colon_goes_when_the_page_declares_the_headline_alone():
    head = '<meta property="og:title" content="Gemeinderat vertagt Entscheidung">'
    assert _extract(head, "<h1>Radweg-Streit: Gemeinderat vertagt Entscheidung</h1>").title == \
        "Gemeinderat vertagt Entscheidung"


def test_byline_markup_names_people_and_an_agency_from_json_ld_counts():
    got = _extract("", '<h1>Gemeinderat vertagt Entscheidung</h1>'
                       '<div class="article-author">Von Erika Mustermann und Max Beispiel</div>')
    assert got.author == "Erika Mustermann, Max Beispiel"
    head = ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Gemeinderat vertagt",'
            ' "author": [{"@type": "Organization", "name": "dpa"}],'
            ' "publisher": {"@type": "Organization", "name": "Zeitung"}}</script>')
    assert _extract(head, "<h1>Gemeinderat vertagt</h1>").author == "dpa"


def test_json_ld_given_and_family_names_make_a_name():
    head = ('<script type="application/ld+json">{"@type": "NewsArticle", "author": ['
            '{"@type": "Person", "givenName": "Erika", "familyName": "Mustermann"}]}</script>')
    assert _extract(head, "<h1>Gemeinderat vertagt</h1>").author == "Erika Mustermann"


def test_the_publication_is_the_author_only_when_nobody_else_is_credited():
    head = ('<meta property="og:site_name" content="Zeitung Example">'
            '<meta name="author" content="Zeitung Example">')
    assert _extract(head, "<h1>Gemeinderat vertagt</h1>").author == "Zeitung Example"
    person = '<div class="byline">Von Erika Mustermann</div>'
    assert _extract(head, "<h1>Gemeinderat vertagt</h1>" + person).author == "Erika Mustermann"


def test_a_configured_source_does_not_credit_itself_as_the_author():
    head = ('<meta property="og:site_name" content="Zeitung Example">'
            '<meta name="author" content="Zeitung Example">')
    page = _page(head, "<h1>Gemeinderat vertagt</h1>")
    got = extract_generic(page, url="https://zeitung.example.de/a/1", tz="UTC", language=None,
                          credit_publication=False)
    assert got.author is None and got.methods["author"] == "none"


def test_a_naive_time_takes_the_offset_the_page_states_elsewhere():
    head = ('<meta property="article:published_time" content="2024-05-03 18:11:01">'
            '<meta property="article:modified_time" content="2024-05-04T09:00:00+02:00">')
    got = _extract(head, "<h1>Gemeinderat vertagt</h1>")
    assert got.published.at.isoformat() == "2024-05-03T18:11:01+02:00"


def test_a_date_only_value_keeps_its_day_and_the_url_day_is_a_late_layer():
    got = _extract('<meta property="article:published_time" content="2024-05-03">', "<h1>Radweg</h1>")
    assert got.published.date_only and got.published.at.date().isoformat() == "2024-05-03"
    got = _extract("", "<h1>Radweg</h1>", url="https://zeitung.example.de/2023/11/07/radweg/")
    assert got.published.at.date().isoformat() == "2023-11-07" and got.methods["published_at"] == "url"


def _ld(**fields: str) -> str:
    import json

    return f'<script type="application/ld+json">{json.dumps({"@type": "NewsArticle", **fields})}</script>'


def test_a_title_part_spelling_the_host_is_the_site_name_even_when_longer_than_the_headline():
    head = '<meta property="og:title" content="„Neuer Radweg“ - Die Neue Beispielzeitung">'
    got = _extract(head, "<h1>„Neuer Radweg“</h1>", url="https://www.beispielzeitung.example/2025/04/01/radweg/")
    assert got.title == "„Neuer Radweg“"


def test_a_declared_headline_keeps_its_parts_when_none_of_them_names_the_site():
    head = _ld(headline="BUDGET 3.0 | Gemeinderat vertagt Entscheidung") + (
        '<title>BUDGET 3.0 | Gemeinderat vertagt Entscheidung</title>')
    got = _extract(head, "<h1>BUDGET 3.0 | Gemeinderat vertagt Entscheidung</h1>")
    assert got.title == "BUDGET 3.0 | Gemeinderat vertagt Entscheidung"


def test_the_headline_every_declaration_states_wins_over_a_visible_part_of_it():
    declared = "Radweg-Streit: Gemeinderat vertagt Entscheidung"
    head = _ld(headline=declared) + f'<meta property="og:title" content="{declared}">'
    assert _extract(head, "<h1>Gemeinderat vertagt Entscheidung</h1>").title == declared
    # One declaration alone does not outvote the visible headline.
    head = f'<meta property="og:title" content="{declared}">'
    assert _extract(head, "<h1>Gemeinderat vertagt Entscheidung</h1>").title == (
        "Gemeinderat vertagt Entscheidung")


def test_the_quote_form_most_of_the_page_uses_is_kept():
    head = ('<meta property="og:title" content="A lawyer\'s journey">'
            "<title>A lawyer's journey - Example Times</title>")
    assert _extract(head, "<h1>A lawyer’s journey</h1>").title == "A lawyer's journey"


def test_json_ld_behind_cdata_comments_is_read():
    head = ('<script type="application/ld+json">//<![CDATA[\n{"@type": "NewsArticle", '
            '"datePublished": "2024-08-22T12:00:00+02:00"}\n//]]></script>')
    assert _extract(head, "<h1>Gemeinderat vertagt Entscheidung</h1>").published.at.isoformat() == \
        "2024-08-22T12:00:00+02:00"


def test_a_labelled_visible_time_beats_a_bare_day_and_a_bare_shown_day_is_not_a_timestamp():
    header = ('<h1>Gemeinderat vertagt Entscheidung</h1>'
              '<span class="meta_date">Veröffentlicht am 13. Mai 2026 um 15:44</span>')
    assert _extract("", header).published.at.isoformat() == "2026-05-13T15:44:00+00:00"
    head = _ld(datePublished="2024-04-30")
    header = '<h1>Gemeinderat vertagt Entscheidung</h1><span class="date">29.04.2024</span>'
    assert _extract(head, header).published.at.date().isoformat() == "2024-04-30"


def test_a_utc_instant_is_given_in_the_offset_the_page_shows_it_with():
    head = _ld(datePublished="2024-04-25T08:21:02Z")
    header = ('<h1>Gemeinderat vertagt Entscheidung</h1>'
              '<time datetime="2024-04-25 04:21:02.000000-0400">April 25, 2024</time>')
    assert _extract(head, header).published.at.isoformat() == "2024-04-25T04:21:02-04:00"


def test_the_dateline_under_the_headline_beats_a_date_in_the_page_header():
    page = ('<html><body><div class="top-date">Tue, 14 Jan 2020</div><div class="banner">'
            '<h2>Gemeinderat vertagt Entscheidung</h2><p>News Agency<br>13 Jan 2020, 22:11 GMT+10</p>'
            f'</div>{BODY}</body></html>')
    got = extract_generic(page, url="https://news.example/1", tz="UTC", language=None)
    assert got.published.at.date().isoformat() == "2020-01-13"


def test_a_short_shown_date_gives_way_to_the_unix_time_its_element_keeps():
    header = ('<h1>Gemeinderat vertagt Entscheidung</h1>'
              '<small class="time"><span class="timestamp" data-time="1594448702">Jul 10</span></small>')
    got = _extract("", header)
    assert got.published.at.isoformat() == "2020-07-11T06:25:02+00:00"
    assert got.methods["published_at"] == "markup-epoch"
    # Milliseconds too; a number of another size is not a Unix time.
    header = header.replace('data-time="1594448702"', 'data-timestamp="1594448702000"')
    assert _extract("", header).published.at.isoformat() == "2020-07-11T06:25:02+00:00"
    header = header.replace('data-timestamp="1594448702000"', 'data-time="20200710"')
    assert _extract("", header).methods["published_at"] != "markup-epoch"
    # A full date shown beside the attribute keeps the page's wall clock.
    header = ('<h1>Gemeinderat vertagt Entscheidung</h1><li class="date-full" data-utc-time="1778679869">'
              'Veröffentlicht am 13. Mai 2026 um 15:44</li>')
    assert _extract("", header).published.at.isoformat() == "2026-05-13T15:44:00+00:00"
