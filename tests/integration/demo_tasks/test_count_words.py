import pytest

from rqledger.demo import count_words
from rqledger.demo.fetching import FetchFailed
from tests.services import free_port


def test_counts_the_words_of_a_text_and_its_top_words():
    result = count_words(text="The cat and the hat. THE end, don't stop!")
    assert result["words"] == 9
    assert result["unique_words"] == 7
    assert result["top_words"][0] == {"word": "the", "count": 3}
    assert {"word": "don't", "count": 1} in result["top_words"]
    assert result["source"] == "text"


def test_counts_words_of_any_script():
    assert count_words(text="한글 데이터 한글")["top_words"][0] == {"word": "한글", "count": 2}


def test_counts_only_the_visible_text_of_a_web_page(site):
    url = site.page("/page.html", "<html><head><style>p {color: red}</style><script>var x = 1;</script></head>"
                                  "<body><p>Hello <b>world</b>, hello!</p></body></html>", "text/html; charset=utf-8")
    result = count_words(url=url)
    assert result == {"words": 3, "unique_words": 2, "source": url,
                      "top_words": [{"word": "hello", "count": 2}, {"word": "world", "count": 1}]}


def test_a_plain_text_url_is_counted_as_it_is(site):
    url = site.page("/words.txt", "one two two")
    assert count_words(url=url)["words"] == 3


def test_an_unreachable_url_fails_with_a_clear_message(service):
    url = f"http://127.0.0.1:{free_port()}/nothing"
    with pytest.raises(FetchFailed, match=rf"could not fetch {url}: .*refused"):
        count_words(url=url)


def test_an_http_error_names_the_status(site):
    with pytest.raises(FetchFailed, match="HTTP 404"):
        count_words(url=f"{site.url}/missing")


def test_only_http_urls_are_fetched(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read me")
    with pytest.raises(FetchFailed, match="only http and https"):
        count_words(url=secret.as_uri())


@pytest.mark.parametrize("kwargs", [{}, {"text": "a", "url": "http://127.0.0.1/"}])
def test_needs_exactly_one_of_text_or_url(kwargs):
    with pytest.raises(ValueError, match="exactly one of 'text' or 'url'"):
        count_words(**kwargs)
