"""fetch_rss: a feed's title and its newest items."""

from __future__ import annotations

import feedparser

from rqledger.demo.fetching import fetch
from rqledger.demo.resources import fetch_allows_private
from rqledger import set_progress, task

MAX_ITEMS = 50


class NotAFeed(Exception):
    """The URL answered, but not with an RSS or Atom feed."""


@task(description="Reads an RSS or Atom feed: its title and newest items")
def fetch_rss(url: str, limit: int = 20) -> dict:
    """`limit` items at most (1-50), in the feed's order."""
    if not 1 <= limit <= MAX_ITEMS:
        raise ValueError(f"'limit' must be between 1 and {MAX_ITEMS}, got {limit}")
    # Fetched here rather than by feedparser: it would follow file:// URLs and wait without a timeout.
    page = fetch(url, allow_private=fetch_allows_private())
    set_progress(50)
    feed = feedparser.parse(page.body, response_headers={"content-type": f"{page.content_type}; charset={page.charset}"})
    if feed.bozo and not feed.entries and not feed.feed.get("title"):
        raise NotAFeed(f"{url} is not an RSS or Atom feed ({feed.get('bozo_exception', 'no feed found')})")
    items = [_item(entry) for entry in feed.entries[:limit]]
    return {
        "url": url,
        "title": feed.feed.get("title", ""),
        "link": feed.feed.get("link", ""),
        "description": feed.feed.get("subtitle", ""),
        "total_items": len(feed.entries),
        "items": items,
    }


def _item(entry) -> dict:
    return {
        "title": entry.get("title", ""),
        "link": entry.get("link", ""),
        "published": entry.get("published") or entry.get("updated") or None,
        "summary": (entry.get("summary") or "")[:500],
    }
