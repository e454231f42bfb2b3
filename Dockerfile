# rqledger: one image for every process (web, worker, scheduler, db upgrade); the command picks the role.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY domain ./domain
COPY application ./application
COPY adapters ./adapters
COPY entrypoints ./entrypoints
COPY rqledger ./rqledger
# A regular (not editable) install: the migrations and templates ship inside the package. The demo
# extra brings what the built-in demo tasks need (compose runs them unless RQLEDGER_TASK_MODULES says otherwise).
RUN pip install '.[demo]' && rm -rf /src

# Not root: a task runs arbitrary registered code. /data holds media and the mail outbox.
RUN useradd --create-home --uid 10001 rqledger && mkdir -p /data && chown rqledger /data
USER rqledger
WORKDIR /data

EXPOSE 8000
CMD ["rqledger", "web", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
