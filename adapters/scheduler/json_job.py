"""An RQ Job whose default serializer is JSON.

rq-scheduler never passes a serializer to the jobs it creates or fetches, so with
the plain Job class every scheduled job is pickled. Given as its `job_class`, this
keeps our scheduler jobs, and the jobs it hands to the queue, JSON.
"""

from __future__ import annotations

from rq.job import Job
from rq.serializers import JSONSerializer


class JSONJob(Job):
    def __init__(self, id=None, connection=None, serializer=None):
        super().__init__(id, connection=connection, serializer=serializer or JSONSerializer)
