import pytest

from rqledger.application.progress import reporting_to
from rqledger.demo import example


class Recorder:
    def __init__(self):
        self.values = []

    def report(self, percent):
        self.values.append(percent)


def test_example_reports_progress_every_second_and_returns_what_it_slept():
    recorder = Recorder()
    with reporting_to(recorder):
        assert example(2) == {"slept": 2}
    assert recorder.values == [50, 100]


def test_example_of_zero_seconds_returns_at_once():
    assert example(0) == {"slept": 0}


def test_example_refuses_negative_seconds():
    with pytest.raises(ValueError, match="between 0 and 3600"):
        example(-1)
