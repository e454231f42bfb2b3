"""The demo tasks run as a worker runs them: enqueued by name, ended in the ledger with a result or a clear log."""

from rqledger.adapters.memory import InMemoryWorker
from rqledger.application.tasks import TaskRequest
from rqledger.domain.task import TaskStatus
from tests.services import free_port


def run(service, name, *args, **kwargs):
    task = service.enqueue_task()(TaskRequest(name, list(args), kwargs))
    InMemoryWorker(service.queue(), service.run_task()).work()
    return service.get_task()(task.id)


def test_count_words_of_an_unreachable_url_fails_with_a_clear_log(service):
    url = f"http://127.0.0.1:{free_port()}/gone"
    task = run(service, "count_words", url=url)
    assert task.status is TaskStatus.FAILED
    assert f"FetchFailed: could not fetch {url}: " in task.log and "refused" in task.log


def test_each_demo_task_ends_finished_with_its_result(service, site, tmp_path):
    from PIL import Image

    (tmp_path / "media").mkdir()
    Image.new("RGB", (300, 200), "navy").save(tmp_path / "media" / "photo.png")
    feed = site.page("/feed.xml", "<rss version='2.0'><channel><title>T</title><item><title>I</title></item>"
                                  "</channel></rss>", "application/rss+xml")
    ended = {
        "example": run(service, "example", 0),
        "count_words": run(service, "count_words", text="a b a"),
        "send_mail": run(service, "send_mail", "Hi", ["ada@example.test"], "welcome"),
        "create_image_set": run(service, "create_image_set", "photo.png"),
        "fetch_rss": run(service, "fetch_rss", feed),
    }
    assert {name: t.status for name, t in ended.items()} == dict.fromkeys(ended, TaskStatus.FINISHED)
    assert ended["count_words"].result["words"] == 3
    assert ended["send_mail"].result["delivered_to"].endswith(".eml")
    assert ended["create_image_set"].result["images"]["thumbnail"]["width"] == 128
    assert ended["fetch_rss"].result["items"] == [{"title": "I", "link": "", "published": None, "summary": ""}]
