# Prometheus from Debian's package, for machines that reach no image registry (the compose
# file's prom/prometheus cannot be pulled there). Same contract as the upstream image: the
# binary is the entrypoint, the compose `command` passes the flags, data in /prometheus.
#
#   docker build --network host --build-arg BASE_IMAGE=mla-base:bookworm \
#       -f deploy/offline/prometheus.Dockerfile deploy/offline
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /prometheus && chown prometheus:prometheus /prometheus
USER prometheus
WORKDIR /prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
