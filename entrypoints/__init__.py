"""The composition root and the processes: web, worker, scheduler, CLI."""
