"""The demo content of a first `rqledger dev`: enqueued once, into an empty ledger only."""

from rqledger.application.ports import ScheduleQuery, TaskQuery
from rqledger.entrypoints.dev_seed import SAMPLE_IMAGE, seed_demo


def test_seeds_an_empty_ledger_once_with_every_kind_of_task_and_a_schedule(service, tmp_path):
    media = tmp_path / "media"

    assert seed_demo(service, media) == 6
    assert seed_demo(service, media) == 0

    names = {t.name for t in service.list_tasks()(TaskQuery(limit=50)).items}
    assert names == {"example", "count_words", "send_mail", "create_image_set"}
    [schedule] = service.list_schedules()(ScheduleQuery()).items
    assert schedule.timing.cron == "* * * * *"
    assert (media / SAMPLE_IMAGE).exists()
