# buddybot: a small image that runs the bot as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1

WORKDIR /src
COPY pyproject.toml README.md alembic.ini ./
# buddybot/handlers and buddybot/migrations are symlinks to these two folders.
COPY buddybot ./buddybot
COPY handlers ./handlers
COPY migrations ./migrations
# The same install as the README: pip install .
RUN pip install . && rm -rf /src

RUN useradd --create-home --uid 10001 buddy && mkdir -p /data && chown buddy /data
USER buddy
WORKDIR /data
ENV BUDDYBOT_DATABASE_URL=sqlite:////data/buddybot.db
VOLUME ["/data"]

HEALTHCHECK --interval=60s --timeout=15s --start-period=30s \
  CMD ["buddybot", "check"]

ENTRYPOINT ["buddybot"]
CMD ["run"]
