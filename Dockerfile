# The scamscan image: the API (`scamscan serve`) and the APK scan worker
# (`scamscan worker`) share it; docker-compose.yml runs both beside Redis.
# Runtime dependencies only (no `.[dev]`), as an unprivileged user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY api ./api
COPY scanners ./scanners
COPY blocklists ./blocklists
# /data is where samples and reports go (SCAMSCAN_DATA_DIR): made here and
# owned by the service user, so that a named volume mounted there starts
# writable for it.
RUN pip install . \
    && rm -rf /src \
    && useradd --system --uid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin scamscan \
    && mkdir -p /data \
    && chown scamscan:scamscan /data

ENV SCAMSCAN_DATA_DIR=/data \
    SCAMSCAN_LOG_FORMAT=json
WORKDIR /
USER scamscan
EXPOSE 8000
# Liveness of the API; docker-compose.yml replaces it per service (/readyz for
# the API, the heartbeat check for the worker).
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["scamscan", "serve", "--host", "0.0.0.0", "--port", "8000"]
