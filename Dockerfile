# fedihub in a container: SQLite on the /data volume by default, or PostgreSQL through
# FEDIHUB_DATABASE_URL. Put it behind a TLS reverse proxy (see README.md "Deploying").
#
#   docker build -t fedihub .
#   docker run -d -p 127.0.0.1:8000:8000 -v fedihub-data:/data \
#     -e FEDIHUB_BASE_URL=https://coalitions.example fedihub
#   docker exec -it <container> fedihub coalition create tenants --name "Tenants Union"
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, read from pyproject.toml, so editing the code does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# An editable install keeps the package in /app/fedihub, next to migrations/ and static/:
# fedihub/storage/migrate.py and fedihub/web/app.py find them relative to the source tree.
COPY README.md ./
COPY fedihub ./fedihub
COPY migrations ./migrations
COPY static ./static
RUN pip install --no-deps -e . \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin fedihub \
    && mkdir -p /data \
    && chown fedihub:fedihub /data

# The SQLite database and the generated secret key (data/secret_key) live here.
ENV FEDIHUB_DATA_DIR=/data
VOLUME ["/data"]

USER fedihub
EXPOSE 8000

# uvicorn honours X-Forwarded-Proto/-For only from FORWARDED_ALLOW_IPS (default 127.0.0.1):
# set it to the proxy's address when the proxy runs in another container.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/.well-known/nodeinfo', timeout=4)"]

CMD ["fedihub", "serve", "--host", "0.0.0.0", "--port", "8000"]
