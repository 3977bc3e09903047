# digitbot: the Telegram bot, serving the model in models/ through LiteRT (no TensorFlow).
#
#   docker build -t digitbot .
#   docker run -d --name digitbot --restart unless-stopped --env-file .env -v digitbot-data:/data digitbot
#
# The admin /retrain trains in TensorFlow; build with `--build-arg EXTRAS=train` to include it
# (the image grows by about 1.5 GB; the bot process itself still never imports TensorFlow), and
# mount an mnist.npz with DIGITBOT_MNIST pointing at it, or let Keras download MNIST once.
# Retrained versions go to /data/models, a running job's files to /data/retrain.
FROM python:3.11-slim

ARG EXTRAS=""

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# An unprivileged user; /data is the only place it writes (database, retrained models).
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin digitbot \
    && mkdir -p /data \
    && chown digitbot:digitbot /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY classifier ./classifier
COPY bot ./bot
RUN pip install ".${EXTRAS:+[$EXTRAS]}"
COPY models ./models

ENV DIGITBOT_MODEL=/app/models \
    DIGITBOT_DATA_DIR=/data \
    DIGITBOT_DB=/data/digitbot.sqlite3

USER digitbot
VOLUME ["/data"]
# Only used in webhook mode (DIGITBOT_WEBHOOK_URL set); polling needs no open port.
EXPOSE 8443
# `digitbot run` stops cleanly on SIGTERM (docker stop).
CMD ["digitbot", "run"]
