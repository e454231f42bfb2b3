"""Task types for the scheduling tests; workers import this module through RQLEDGER_TASK_MODULES."""

from pathlib import Path

from rqledger import set_progress, task


@task(timeout=30)
def sched_tick(label: str) -> dict:
    """Returns at once."""
    set_progress(50)
    return {"label": label}


@task
def sched_broken(label: str) -> dict:
    """Always fails."""
    raise RuntimeError(f"broken {label}")


@task
def sched_flaky(marker: str) -> dict:
    """Fails the first time (creating `marker`), succeeds from then on."""
    path = Path(marker)
    if not path.exists():
        path.write_text("failed once")
        raise RuntimeError("flaky: first call fails")
    return {"ok": True}


@task
def sched_killed() -> dict:
    """Its work-horse dies by SIGKILL, as when the kernel's OOM killer strikes."""
    import os
    import signal

    os.kill(os.getpid(), signal.SIGKILL)
    return {}
