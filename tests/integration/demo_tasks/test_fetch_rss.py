import pytest

from rqledger.demo import fetch_rss
from rqledger.demo.fetch_rss import NotAFeed
from rqledger.demo.fetching import FetchFailed
from tests.services import free_port

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
  <title>Ledger news</title><link>http://example.test/</link><description>What happened</description>
  <item><title>First</title><link>http://example.test/1</link><pubDate>Mon, 06 Jan 2025 10:00:00 GMT</pubDate>
        <description>one</description></item>
  <item><title>Second</title><link>http://example.test/2</link></item>
  <item><title>Third</title><link>http://example.test/3</link></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom 한글</title><link href="http://example.test/"/>
  <updated>2025-01-06T10:00:00Z</updated><id>urn:x</id>
  <entry><title>Only</title><link href="http://example.test/only"/><id>urn:1</id>
         <updated>2025-01-06T10:00:00Z</updated></entry>
</feed>"""


def test_reads_the_title_and_items_of_an_rss_feed(site):
    url = site.page("/feed.xml", RSS, "application/rss+xml")
    result = fetch_rss(url)
    assert result["title"] == "Ledger news"
    assert result["link"] == "http://example.test/"
    assert result["total_items"] == 3
    assert [i["title"] for i in result["items"]] == ["First", "Second", "Third"]
    assert result["items"][0] == {"title": "First", "link": "http://example.test/1",
                                  "published": "Mon, 06 Jan 2025 10:00:00 GMT", "summary": "one"}


def test_limit_keeps_the_first_items(site):
    url = site.page("/feed.xml", RSS, "application/rss+xml")
    assert [i["title"] for i in fetch_rss(url, limit=2)["items"]] == ["First", "Second"]


def test_reads_an_atom_feed(site):
    result = fetch_rss(site.page("/atom.xml", ATOM, "application/atom+xml"))
    assert result["title"] == "Atom 한글"
    assert result["items"][0]["link"] == "http://example.test/only"


def test_a_page_that_is_not_a_feed_fails_clearly(site):
    url = site.page("/page.html", "<html><body><p>no feed <here</p></body></html>garbage<", "text/html")
    with pytest.raises(NotAFeed, match="is not an RSS or Atom feed"):
        fetch_rss(url)


def test_an_unreachable_feed_fails_clearly(service):
    with pytest.raises(FetchFailed, match="could not fetch"):
        fetch_rss(f"http://127.0.0.1:{free_port()}/feed.xml")


def test_limit_is_bounded(site):
    with pytest.raises(ValueError, match="between 1 and 50"):
        fetch_rss(site.page("/feed.xml", RSS), limit=0)
