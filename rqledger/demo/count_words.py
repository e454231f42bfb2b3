"""count_words: how many words a text (or a web page) has, and which come up most."""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser

from rqledger.demo.fetching import fetch
from rqledger.demo.resources import fetch_allows_private
from rqledger import set_progress, task

TOP = 10
# Letters of any script, digits and inner apostrophes: "don't" is one word, "--" is none.
WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


class _TextOnly(HTMLParser):
    """Collects the visible text of an HTML page (script and style contents are skipped)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skipping += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skipping:
            self._skipping -= 1

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    return " ".join(parser.parts)


def count(text: str, top: int = TOP) -> dict:
    """The word count of `text` and its `top` most frequent words (case-insensitive)."""
    words = [w.lower() for w in WORD.findall(text)]
    counts = Counter(words)
    return {
        "words": len(words),
        "unique_words": len(counts),
        "top_words": [{"word": w, "count": n} for w, n in counts.most_common(top)],
    }


@task(description="Counts the words of a text or of a web page, with the most frequent ones")
def count_words(text: str | None = None, url: str | None = None) -> dict:
    """Give exactly one of `text` or `url` (a public http(s) page, fetched with a 10 s timeout)."""
    if (text is None) == (url is None):
        raise ValueError("give exactly one of 'text' or 'url'")
    source = "text"
    if url is not None:
        page = fetch(url, allow_private=fetch_allows_private())
        set_progress(50)
        text = page.body.decode(page.charset, errors="replace")
        if page.content_type in ("text/html", "application/xhtml+xml"):
            text = visible_text(text)
        source = url
    result = count(text)
    result["source"] = source
    return result
