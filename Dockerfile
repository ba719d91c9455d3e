# fedihub in a container: SQLite on the /data volume by default, or PostgreSQL through
# FEDIHUB_DATABASE_URL. Put it behind a TLS reverse proxy (see README.md "Deploying").
#
#   docker build -t fedihub .
#   docker run -d -p 127.0.0.1:8000:8000 -v fedihub-data:/data \
#     -e FEDIHUB_BASE_URL=https://coalitions.example fedihub
#   docker exec -it <container> fedihub coalition create tenants --name "Tenants Union"
#
# Two stages: the first installs the locked dependencies and fedihub's wheel into a virtualenv,
# the second copies that virtualenv alone onto the same slim Python. Both must use the same base
# image, since the virtualenv points at that image's interpreter.

# --- Build -------------------------------------------------------------------------------------
FROM python:3.11-slim AS builder

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
RUN python -m venv /opt/fedihub

# Dependencies first, exactly the versions in the lock file and checked against its hashes, so
# editing the code does not reinstall them.
COPY requirements.txt ./
RUN /opt/fedihub/bin/pip install --require-hashes -r requirements.txt

# Then fedihub itself, as a wheel: templates, static files and migrations are inside the package.
COPY pyproject.toml README.md ./
COPY fedihub ./fedihub
RUN pip wheel --no-deps --wheel-dir /tmp/wheels . \
    && /opt/fedihub/bin/pip install --no-deps /tmp/wheels/fedihub-*.whl

# --- Run ---------------------------------------------------------------------------------------
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/fedihub/bin:$PATH

RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin fedihub \
    && mkdir -p /data \
    && chown fedihub:fedihub /data
COPY --from=builder /opt/fedihub /opt/fedihub

# The SQLite database and the generated secret key (data/secret_key) live here.
ENV FEDIHUB_DATA_DIR=/data
VOLUME ["/data"]
WORKDIR /data

USER fedihub
EXPOSE 8000

# GET /healthz answers 200 only while the server reaches its database (a query through its own
# session factory), 503 otherwise; urlopen raises on 503, on a refused connection or on no answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# uvicorn honours X-Forwarded-Proto/-For only from FORWARDED_ALLOW_IPS (default 127.0.0.1):
# set it to the proxy's address when the proxy runs in another container.
CMD ["fedihub", "serve", "--host", "0.0.0.0", "--port", "8000"]
