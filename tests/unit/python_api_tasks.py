"""Task types of the Python API's unit tests (registered in the default registry under names of their own)."""

from rqledger import Retry, set_progress, task

CALLS: list[int] = []


@task(unique=True, description="Export a user's posts")
def unit_export_posts(user_id: int) -> dict:
    set_progress(50)
    return {"user": user_id}


@task
def unit_parent(n: int) -> dict:
    """Enqueues a child from inside a running task."""
    return {"child": unit_export_posts.using(owner=n).enqueue(n).id}


@task(retry=Retry(max=1, interval=0))
def unit_fails_once(key: int) -> str:
    CALLS.append(key)
    if CALLS.count(key) == 1:
        raise RuntimeError("first attempt fails on purpose")
    return "second time lucky"
