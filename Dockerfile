# The local server in a container: the package and its runtime dependencies only
# (requirements.txt: Pillow, waitress, urllib3), run as an unprivileged user, originals read from
# /srv/images. See docs/production.md.
#
#   docker build -t thumbor-urls .
#   docker run --rm -p 8888:8888 -v "$PWD/samples:/srv/images:ro" thumbor-urls
#   curl -o thumb.jpg http://127.0.0.1:8888/unsafe/fit-in/300x300/dandelions.jpg
#
# Settings are environment variables (README, "Settings"): -e SECURITY_KEY=... -e
# ALLOW_UNSAFE_URL=false. Other commands: docker run --rm thumbor-urls sign --key K 300x200/a.jpg

# The package as a wheel, built from pyproject.toml (setuptools is fetched for the build only).
FROM python:3.12-slim-trixie AS wheel
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY thumbor_urls ./thumbor_urls
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.12-slim-trixie
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RESULT_STORAGE_FILE_STORAGE_ROOT_PATH=/var/cache/thumbor-urls
# Exactly the pinned runtime, then the package without dependencies of its own to resolve.
COPY requirements.txt /tmp/requirements.txt
COPY --from=wheel /wheels /tmp/wheels
RUN pip install --no-cache-dir -r /tmp/requirements.txt \
    && pip install --no-cache-dir --no-deps /tmp/wheels/*.whl \
    && rm -rf /tmp/requirements.txt /tmp/wheels \
    && useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin thumbor \
    && mkdir -p /srv/images /var/cache/thumbor-urls \
    && chown thumbor:thumbor /var/cache/thumbor-urls

# Originals are only read: mount them read-only here. Results are cached in
# /var/cache/thumbor-urls (mount a volume there to keep them across containers).
VOLUME ["/srv/images"]
USER 10001:10001
EXPOSE 8888
# waitress stops cleanly on Ctrl-C (SIGINT), giving running requests up to 5 s. Python has no
# handler for SIGTERM, which a PID 1 then ignores: `docker stop` would wait 10 s and kill it.
STOPSIGNAL SIGINT
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8888/healthcheck', timeout=4)"]
ENTRYPOINT ["thumbor-urls"]
# 4 threads share MEMORY_LIMIT_MB (default 1024): set it to the container's memory limit.
CMD ["serve", "--host", "0.0.0.0", "--port", "8888", "--root", "/srv/images", "--threads", "4"]
