# Redis from Debian's package, for machines that reach no image registry (the compose
# file's redis image cannot be pulled there). Like the upstream image, the command starts
# with `redis-server` (the compose `command` names it and its flags).
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/*
USER redis
EXPOSE 6379
CMD ["redis-server", "--save", "", "--appendonly", "no"]
