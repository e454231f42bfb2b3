"""Jobs written straight into Redis, as someone who can reach Redis (but not the API) could write them."""

from __future__ import annotations

import redis
from rq import Queue
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, StartedJobRegistry
from rq.serializers import DefaultSerializer, JSONSerializer


def forge(redis_url: str, func_name: str, args: list, job_id: str, serializer=JSONSerializer, **options) -> None:
    """Puts a job calling `func_name(*args)` on the 'default' queue, serialized with `serializer`."""
    connection = redis.Redis.from_url(redis_url)
    try:
        Queue("default", connection=connection, serializer=serializer).enqueue_call(
            func_name, args=args, job_id=job_id, **options)
    finally:
        connection.close()


def forge_pickled(redis_url: str, func_name: str, args: list, job_id: str) -> None:
    """The same with RQ's default (pickle) serializer: what a plain `rq` client would enqueue."""
    forge(redis_url, func_name, args, job_id, serializer=DefaultSerializer)


def forge_abandoned(redis_url: str, func_name: str, args: list, job_id: str, **options) -> None:
    """A job that looks started by a worker that died long ago: in the started registry, its execution expired."""
    connection = redis.Redis.from_url(redis_url)
    try:
        job = Job.create(func_name, args=args, id=job_id, connection=connection, serializer=JSONSerializer,
                         origin="default", **options)
        job.set_status(JobStatus.STARTED, pipeline=None)
        job.save()
        connection.zadd(StartedJobRegistry("default", connection=connection).key, {f"{job_id}:forged": 1})
    finally:
        connection.close()


def rq_outcome(redis_url: str, job_id: str) -> tuple[JobStatus | None, bool, str]:
    """(RQ status, whether it is in the failed registry, the recorded failure text) of a job."""
    connection = redis.Redis.from_url(redis_url)
    try:
        job = Job.fetch(job_id, connection=connection, serializer=JSONSerializer)
        failed = job_id in FailedJobRegistry("default", connection=connection).get_job_ids()
        result = job.latest_result()
        return job.get_status(), failed, (result.exc_string or "") if result else ""
    finally:
        connection.close()
