# The scamscan image: the API (`scamscan serve`) and the APK scan worker
# (`scamscan worker`) share it; docker-compose.yml runs both beside Redis.
# Runtime dependencies only (no `.[dev]`), in a virtual environment at
# /opt/scamscan, as an unprivileged user.
#
# Build arguments:
#   BASE_IMAGE        the Python 3.11 image (python:3.11-slim by default; the
#                     deploy test passes an image made from Debian packages,
#                     see tests/deploy/run_stack.py).
#   PIP_INSTALL_OPTS  extra options of the `pip install`; for an offline build,
#                     put wheels in docker/wheels/ and pass
#                     "--no-index --find-links /wheels" (docs/deployment.md).
ARG BASE_IMAGE=python:3.11-slim

# --- build: the virtual environment ----------------------------------------------
FROM ${BASE_IMAGE} AS build
ARG PIP_INSTALL_OPTS=""
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
# Wheels first: they change less often than the code, so this layer stays cached.
COPY docker/wheels /wheels
WORKDIR /src
COPY pyproject.toml README.md ./
COPY api ./api
COPY scanners ./scanners
COPY blocklists ./blocklists
RUN python3 -m venv /opt/scamscan \
    && /opt/scamscan/bin/pip install ${PIP_INSTALL_OPTS} .

# --- runtime: the environment alone (no sources, no wheels, no build caches) --------
FROM ${BASE_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/scamscan/bin:$PATH
COPY --from=build /opt/scamscan /opt/scamscan
# /data is where samples and reports go (SCAMSCAN_DATA_DIR): made here and
# owned by the service user, so that a named volume mounted there starts
# writable for it.
RUN useradd --system --uid 10001 --no-create-home --home-dir /nonexistent \
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
