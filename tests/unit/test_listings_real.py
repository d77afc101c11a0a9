"""Listing pages of the real tengrinews.kz: the articles found are the ones a reader sees in the list.

The pages are read from ``../shared/real-pages/tengrinews/listings/`` (never copied into the
repository; see its README for their origin). The expected links were written by hand from
each page as a browser shows it: the list under the page's heading, in its order, without the
sidebars (``div.content_sidebar_widget``, the older ``div.tn-tape-item`` strip of other days'
news) and without the sister sites' items (tengritravel.kz is another source).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from news_etl.discover import discover_day
from news_etl.discover.archive import read_listing
from news_etl.discover.collect import UrlCollector
from news_etl.fetch import Fetcher
from news_etl.sources import get_source
from support.loopback import ALLOW_ALL, Loopback, html

LISTINGS = Path(__file__).resolve().parents[3] / "shared" / "real-pages" / "tengrinews" / "listings"
pytestmark = pytest.mark.skipif(not LISTINGS.is_dir(), reason=f"real listing pages not found at {LISTINGS}")

SOURCE = get_source("tengrinews")
SITE = "https://tengrinews.kz"

# /article/page/N/ (2024-04-08): the long reads' own numbers, 20 a page, in the order shown.
LONG_READ_IDS = {
    1: [2407, 2406, 2404, 2405, 2399, 2398, 2402, 2388, 2396, 2385,
        2376, 2401, 2397, 2394, 2393, 2392, 2389, 2387, 2383, 2384],
    2: [2362, 2382, 2380, 2379, 2366, 2378, 2355, 2375, 2377, 2374,
        2372, 2370, 2344, 2369, 2363, 2367, 2365, 2364, 2359, 2352],
    3: [2361, 2358, 2357, 2351, 2327, 2345, 2349, 2325, 2353, 2346,
        2354, 2350, 2347, 2348, 2328, 2331, 2341, 2342, 2343, 2335],
    4: [2340, 2338, 2334, 2337, 2333, 2332, 2320, 2304, 2223, 2330,
        2323, 2329, 2298, 2326, 2322, 2324, 2317, 2312, 2321, 2319],
    5: [2315, 2299, 2318, 2309, 2316, 2314, 2306, 2285, 2310, 2311,
        2308, 2296, 2302, 2307, 2305, 2283, 2301, 2303, 2289, 2292],
    6: [2295, 2297, 2286, 2294, 2293, 2290, 2291, 2279, 2288, 2287,
        2284, 2281, 2280, 2276, 2261, 2278, 2277, 2269, 2260, 2275],
    7: [2239, 2272, 2273, 2274, 2259, 2271, 2268, 2265, 2263, 2267,
        2266, 2264, 2257, 2262, 2246, 2258, 2254, 2249, 2256, 2255],
    8: [2232, 2253, 2248, 2233, 2251, 2250, 2243, 2247, 2244, 2226,
        2242, 2241, 2235, 2236, 2240, 2237, 2234, 2231, 2229, 2225],
    9: [2228, 2230, 2218, 2227, 2219, 2220, 2224, 2211, 2221, 2212,
        2216, 2217, 2215, 2213, 2209, 2205, 2210, 2207, 2208, 2204],
    10: [2171, 2202, 2179, 2198, 2194, 2201, 2199, 2200, 2178, 2195,
         2196, 2191, 2167, 2186, 2193, 2192, 2187, 2184, 2185, 2182],
}

# /news/ page 1 (2024-10-15): 20 items, all "Сегодня"; the sidebar's /mixnews/, /curious/ and
# tengritravel.kz items are not among them.
NEWS_PAGE_1 = [
    "/kazakhstan_news/preduprejdaem-antikor-obratilsya-k-kazahstantsam-550643/",
    "/kazakhstan_news/tokaev-kazahstan-gotov-uchastvovat-razrabotke-mestorojdeniy-550644/",
    "/kazakhstan_news/zamakima-vko-prizval-zamalchivat-sluchai-nasiliya-shkolah-550640/",
    "/kazakhstan_news/prezidentyi-kazahstana-turkmenistana-sdelali-sovmestnoe-550642/",
    "/kazakhstan_news/propavshego-almatintsa-nashli-mertvyim-gorodom-zaderjan-550633/",
    "/kazakhstan_news/neft-gaz-ne-tolko-kazahstan-turkmenistan-podpisali-20-550637/",
    "/kazakhstan_news/uchastnitsu-paralimpiyskih-igr-kamilyu-dosmalovu-pozdravili-550629/",
    "/kazakhstan_news/dva-bratskih-gosudarstva-chem-pogovorili-tokaev-550630/",
    "/kazakhstan_news/ubiystvo-talgare-politsiya-otvetila-vopros-prichastnosti-550575/",
    "/kazakhstan_news/pravila-podklyucheniya-internetu-mogut-izmenit-kazahstane-550622/",
    "/kazakhstan_news/kazahstanki-vzyiskali-58-milliona-tenge-nepravilnuyu-550623/",
    "/world_news/nobelevskuyu-premiyu-literature-poluchila-yujnokoreyskaya-550619/",
    "/kazakhstan_news/tokaev-provel-peregovoryi-s-prezidentom-turkmenistana-550618/",
    "/kazakhstan_news/100-proektov-auyil-el-besg-realizuyutsya-selah-akmolinskoy-550615/",
    "/kazakhstan_news/kurs-dollara-v-kazahstane-prevyisil-490-tenge-550609/",
    "/kazakhstan_news/vspyishka-virusa-marburg-glavnogo-sanvracha-sprosili-550606/",
    "/kazakhstan_news/ksell-pervyim-v-kazahstane-zapustil-5g-v-metro-550597/",
    "/kazakhstan_news/sneg-metel-i-gololed-pogoda-v-astane-i-almatyi-na-3-dnya-550601/",
    "/kazakhstan_news/kak-izmenilis-tsenyi-na-ryinke-jilya-kazahstana-550598/",
    "/kazakhstan_news/dollar-podorojal-kazahstane-proizoshlo-obyyasnili-ekspertyi-550581/",
]

# /tag/Алматы/ in the older markup: 20 news (one of them on tengritravel.kz, left out here),
# then 11 long reads, in one list. 2023-01-11 has one news item more at the top and one less
# at the bottom than 2023-01-10.
TAG_NEWS = [
    "/kazakhstan_news/snegopad-v-almatyi-skolko-dtp-proizoshlo-na-dorogah-goroda-488187/",
    "/kazakhstan_news/syemki-ekshen-filma-dyimom-pirotehnikoy-almatintsev-488168/",
    "/kazakhstan_news/antikor-zavershil-rassledovanie-otnoshenii-eks-glavyi-488150/",
    "/kazakhstan_news/popala-lavinu-propavshuyu-jenschinu-spasli-gorah-almatyi-488151/",
    "/crime/spetsoperatsiya-almatyi-izyyato-100-kilogrammov-sintetiki-488147/",
    "/kazakhstan_news/ne-ostavlyayte-avto-derevyami-almatyi-obyyavleno-shtormovoe-488122/",
    "/kazakhstan_news/draku-detey-oligarhov-rassleduyut-v-almatyi-488107/",
    "/kazakhstan_news/pojar-proizoshel-na-baraholke-v-almatyi-488097/",
    "/kazakhstan_news/finpiramida-vayneryi-turebaev-sherniyazov-ne-priznali-vinu-488061/",
    "/kazakhstan_news/almatintsev-predupredili-o-silnyih-morozah-i-snegopade-488036/",
    "/kazakhstan_news/zemletryasenie-proizoshlo-na-severo-vostoke-ot-almatyi-487987/",
    "/kazakhstan_news/almatinets-predstavlyalsya-sotrudnikom-antikora-izbejat-487988/",
    "/kazakhstan_news/srazu-tri-lavinyi-soshli-v-vko-487952/",
    "/kazakhstan_news/v-almatyi-zapustyat-novyiy-avtobusnyiy-marshrut-487923/",
    "/kazakhstan_news/chelovek-pauk-supermen-i-halk-vyishli-ubirat-ulitsyi-almatyi-487917/",
    "/kazakhstan_news/maroderyi-deystvovali-chetko-postradal-biznes-vremya-487396/",
    "/kazakhstan_news/doktor-shumkov-mog-ostatsya-jivyih-pervogo-vyistrela-advokat-487877/",
    "/kazakhstan_news/ob-opasnosti-shugohoda-vnov-predupredili-almatintsev-487875/",
]
TAG_LONG_READS = [
    "/article/ojidaem-snosa-vyiglyadit-mesto-buduschey-stantsii-metro-1915/",
    "/article/s-servisom-kazahstane-problemyi-poleznyie-sovetyi-poiska-1908/",
    "/article/nenujnyiy-terminal-zabroshennyiy-aeroport-rastaskivayut-1899/",
    "/article/oschuschenie-chego-to-ne-hvataet-almatyi-kotoryiy-nevozmojno-1894/",
    "/article/foto-pamyat-vid-prezidentskogo-korteja-proshel-vizit-tokaeva-1881/",
    "/article/glava-kumyisa-benzopila-myasnik-porazil-festival-komiksov-1864/",
    "/article/vozrast-lyubvi-li-starosti-vstretit-vtoruyu-polovinku-1851/",
    "/article/46-letniy-almatinets-sozdal-figuru-mechtyi-motiviruet-1836/",
    "/article/ne-govoryat-slovo-umer-odin-den-jizni-palliativnoy-brigadyi-1788/",
    "/article/ujas-proshedshih-dney-ili-kak-ya-vse-videla-svoimi-glazami-1724/",
    "/article/v-pisme-napisal-pomogite-ochevidtsyi-zahvatah-pogromah-1721/",
]
TAG_PAGES = {
    "tag-almaty-old-markup-2023-01-10.html":
        TAG_NEWS + ["/kazakhstan_news/vyiveski-mcdonalds-demontiruyut-valmatyi-487872/"] + TAG_LONG_READS,
    "tag-almaty-old-markup-2023-01-11.html":
        ["/kazakhstan_news/rabotniki-konditerskoy-fabriki-almatyi-massovo-pishut-488211/"] + TAG_NEWS
        + TAG_LONG_READS,
}
# Sidebar items of those pages (other days' news): never found as the list's articles.
SIDEBAR = [
    "/crime/knb-usb-zaderjali-zamnachalnika-rayonnoy-politsii-mangistau-488163/",
    "/mixnews/chto-budet-esli-est-tolko-odin-raz-v-den-550645/",
    "/curious/jiteli-almatyi-jaluyutsya-dolgiy-remont-ulitsyi-panfilova-550595/",
]


def long_read_file(n: int) -> Path:
    return LISTINGS / f"article-listing-source_{n}-2024-04-08.html"


def found_urls(path: Path, page_url: str) -> list[str]:
    collector = UrlCollector(SOURCE)
    for item in read_listing(path.read_text(encoding="utf-8"), page_url, SOURCE).items:
        collector.add(item.href, page_url)
    return collector.urls


def long_read_path(n: int) -> str:
    return "/article/" if n == 1 else f"/article/page/{n}/"


@pytest.mark.parametrize("n", sorted(LONG_READ_IDS))
def test_long_read_listing_pages(n):
    urls = found_urls(long_read_file(n), SITE + long_read_path(n))
    assert [SOURCE.article_id(u) for u in urls] == [f"article:{i}" for i in LONG_READ_IDS[n]]
    assert all(u.startswith(f"{SITE}/article/") for u in urls)


def test_news_listing_page():
    urls = found_urls(LISTINGS / "news-listing-page1-2024-10-15.html", f"{SITE}/news/")
    assert urls == [SITE + p for p in NEWS_PAGE_1]
    assert not {SITE + p for p in SIDEBAR} & set(urls)


@pytest.mark.parametrize("name", sorted(TAG_PAGES))
def test_older_markup_tag_pages(name):
    urls = found_urls(LISTINGS / name, f"{SITE}/tag/%D0%B0%D0%BB%D0%BC%D0%B0%D1%82%D1%8B/")
    assert urls == [SITE + p for p in TAG_PAGES[name]]
    assert not {SITE + p for p in SIDEBAR} & set(urls)


def test_item_dates_and_windowed_pagination_as_shown():
    first = read_listing(long_read_file(1).read_text(encoding="utf-8"), SITE + "/article/", SOURCE)
    assert [i.date_text for i in first.items[:2]] == ["05 апреля 2024 06:26", "05 апреля 2024 06:09"]
    assert first.items[-1].date_text == "18 марта 2024 13:03"
    # 1 (current) 2 3 4 5 • 112 and "next": the page after the current one is always linked.
    assert [text for _url, text in first.pages] == ["2", "3", "4", "5", "112", ""]
    assert first.pages[0][0] == f"{SITE}/article/page/2/"
    tenth = read_listing(long_read_file(10).read_text(encoding="utf-8"), SITE + "/article/page/10/", SOURCE)
    assert [text for _url, text in tenth.pages] == ["", "1", "2", "7", "8", "9", "11", "12", "13", "112", ""]
    news = read_listing((LISTINGS / "news-listing-page1-2024-10-15.html").read_text(encoding="utf-8"),
                        f"{SITE}/news/", SOURCE)
    assert {i.date_text for i in news.items} == {"Сегодня"}
    older = read_listing((LISTINGS / "tag-almaty-old-markup-2023-01-10.html").read_text(encoding="utf-8"),
                         f"{SITE}/tag/x/", SOURCE)
    assert [i.date_text for i in older.items[:2]] == ["Сегодня, 17:49", "Сегодня, 15:23"]
    assert older.items[-1].date_text == "10 января 2022, 14:43"
    assert [text for _url, text in older.pages][:3] == ["2", "3", "4"]


@pytest.mark.parametrize(("day", "ids", "pages_read"), [
    (date(2024, 3, 15), [2380, 2379, 2366], 3),    # on page 2; page 3 is all older
    (date(2024, 4, 5), [2407, 2406], 2),           # the newest: page 2 is all older
    (date(2024, 2, 29), [2365], 3),                # the last day of UTC+6, at the end of page 2
    (date(2024, 3, 2), [], 3),                     # no long read that day
    (date(2024, 1, 9), [2293, 2290], 7),
])
def test_long_reads_of_a_day_over_the_real_listing_pages(day, ids, pages_read):
    empty_day = html("<html><body><div class='content_main'></div></body></html>")
    routes = {"/robots.txt": ALLOW_ALL, day.strftime("/news/%Y/%m/%d/"): empty_day}
    routes |= {long_read_path(n): html(long_read_file(n).read_text(encoding="utf-8")) for n in LONG_READ_IDS}
    with Loopback(routes) as lb, Fetcher(SOURCE, base_url=lb.base_url, rate_limit_per_second=0) as fetcher:
        found = discover_day(fetcher, SOURCE, day)
    assert [SOURCE.article_id(u) for u in found.urls] == [f"article:{i}" for i in ids]
    assert found.problems == []
    assert [p for p in lb.paths() if p.startswith("/article/")] == [long_read_path(n)
                                                                    for n in range(1, pages_read + 1)]
