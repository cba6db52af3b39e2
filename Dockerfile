# The cobrowse relay: pairs agents and customers and forwards sealed frames (it never holds keys).
#   docker build -t cobrowse-relay .
#   docker run -p 8765:8765 -e COBROWSE_RELAY_AGENT_TOKENS=<sha256 hex,...> cobrowse-relay
# Settings: COBROWSE_RELAY_* environment variables, or mount a TOML file and set
# COBROWSE_RELAY_CONFIG=/path/to/relay.toml (a [relay] table).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY . .
# Exact versions with their hashes (deploy/relay.lock, from pip-compile; see docs/relay.md),
# then cobrowse itself without resolving anything again.
RUN pip install --require-hashes --no-deps -r deploy/relay.lock \
    && pip install --no-deps . \
    && pip check \
    && cd / && rm -rf /src \
    && useradd --system --no-create-home --uid 10001 --shell /usr/sbin/nologin cobrowse \
    && mkdir -p /data && chown 10001:10001 /data

WORKDIR /
USER cobrowse

EXPOSE 8765

# The health check reads the relay's own settings: https:// once TLS is on, the configured port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
    CMD ["python", "-m", "relay.health"]

# No flags: settings come from the environment and the config file, flags > env > file.
# In a container the relay must listen on every interface; override with COBROWSE_RELAY_HOST.
ENV COBROWSE_RELAY_HOST=0.0.0.0
# Live sessions are kept in the data dir so a restarted container resumes them (docs/relay.md,
# "Restarts"): mount a volume on /data to keep them across a new container too.
ENV COBROWSE_DATA_DIR=/data
# The agent token store too (`cobrowse relay token create` in the container writes it, the
# relay reads it): COBROWSE_DATA_DIR does not move it, and the image's user has no home.
ENV COBROWSE_RELAY_TOKEN_STORE=/data/relay-tokens.json
VOLUME ["/data"]
CMD ["cobrowse", "relay"]
