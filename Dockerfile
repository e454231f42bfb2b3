# rqledger: one image for every process (web, worker, scheduler, db upgrade); the command picks the role.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY application ./application
COPY adapters ./adapters
COPY entrypoints ./entrypoints
COPY rqledger ./rqledger
COPY demo_tasks ./demo_tasks
# A regular (not editable) install: the migrations and templates ship inside the package.
RUN pip install . && rm -rf /src

# Not root: a task runs arbitrary registered code. /data holds media and the mail outbox.
RUN useradd --create-home --uid 10001 rqledger && mkdir -p /data && chown rqledger /data
USER rqledger
WORKDIR /data

EXPOSE 8000
CMD ["rqledger", "web", "--host", "0.0.0.0", "--port", "8000"]
