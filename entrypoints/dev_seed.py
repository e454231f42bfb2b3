"""Demo content for a first `rqledger dev`: a few tasks of every kind and a schedule, so the dashboard has life."""

from __future__ import annotations

from pathlib import Path

from rqledger.application.ports import TaskQuery
from rqledger.application.schedules import ScheduleRequest
from rqledger.application.tasks import TaskRequest

SAMPLE_IMAGE = "sample.png"
TEXT = ("rqledger runs background tasks on RQ and keeps a durable SQL ledger of every task and every "
        "scheduled run, so you can always answer: what happened to the job I started, where is its result, "
        "why did it fail, how far along is it, did last night's cron run?")


def seed_demo(container, media_dir: Path) -> int:
    """Enqueues the demo tasks when the ledger has no task yet; returns how many (0: it had some)."""
    if container.list_tasks()(TaskQuery(limit=1)).items:
        return 0
    make_sample_image(media_dir / SAMPLE_IMAGE)
    requests = [
        TaskRequest("example", [20], description="A 20 s task: watch its progress bar"),
        TaskRequest("example", [5]),
        TaskRequest("count_words", kwargs={"text": TEXT}),
        TaskRequest("send_mail", ["Welcome to rqledger", ["you@example.com"], "welcome"],
                    kwargs={"context": {"name": "newcomer"}}),
        TaskRequest("create_image_set", [SAMPLE_IMAGE]),
        # port 9 (discard) refuses: a failed task with its log, to see what a failure looks like
        TaskRequest("count_words", kwargs={"url": "http://127.0.0.1:9/"}, description="Fails on purpose"),
    ]
    tasks = container.enqueue_task().many(requests)
    container.register_schedule()(ScheduleRequest("count_words", kwargs={"text": "tick tock"}, cron="* * * * *",
                                                  description="Every minute"))
    return len(tasks)


def make_sample_image(path: Path) -> None:
    """A colourful 1024x768 PNG for create_image_set, unless one is there already."""
    if path.exists():
        return
    from PIL import Image, ImageDraw

    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (1024, 768), "#1d3557")
    draw = ImageDraw.Draw(image)
    for i, colour in enumerate(("#e63946", "#f1faee", "#a8dadc", "#457b9d")):
        draw.ellipse((120 + i * 180, 200, 380 + i * 180, 460), fill=colour)
    image.save(path)
