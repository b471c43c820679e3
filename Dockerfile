# The shop_privacy API: `docker build -t shop-privacy .`, then see docs/deployment.md.
#   docker run --env-file shop.env -p 8000:8000 shop-privacy               # serves the API (the default command)
#   docker run --env-file shop.env shop-privacy check --deploy              # any other command: migrations, cron jobs
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The package only (not the tests, benchmarks or development files; see .dockerignore), installed like any
# user of it would: its dependencies from the index, its console command on the PATH.
WORKDIR /build
COPY pyproject.toml README.md LICENSE ./
COPY shop_privacy ./shop_privacy
RUN pip install --no-cache-dir . \
    && rm -rf /build

# Never root: the process reads everyone's personal data, it need not own the system too.
RUN groupadd --system --gid 10001 shop \
    && useradd --system --uid 10001 --gid shop --home-dir /app --create-home --shell /usr/sbin/nologin shop
WORKDIR /app
USER 10001:10001

# Refuses to start until the deployment is configured (`check --deploy` lists what is missing).
ENV SHOP_PRIVACY_ENV=production
EXPOSE 8000

# Readiness, not liveness: the database answers, takes a write and is at the migration head. The slim
# image has no curl; Python's urllib does the request (an HTTP error status raises, so it exits non-zero).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/ready', timeout=4)"]

ENTRYPOINT ["shop-privacy"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
