#!/usr/bin/env bash
# Build a local Python base image from Debian's packages, for machines that reach no image
# registry (python:3.11-slim cannot be pulled there):
#
#   ./scripts/build-base-image.sh [IMAGE]          # default mla-base:bookworm
#   docker build --network host --build-arg BASE_IMAGE=mla-base:bookworm .
#
# debootstrap (minbase) from the Debian mirror apt already uses, plus python3 (3.11 on
# bookworm), venv, pip and ca-certificates. The image carries this machine's pip
# configuration and extra CA certificates, so pip inside `docker build` reaches the same
# index through the same TLS proxy as pip on the host. Debian's EXTERNALLY-MANAGED marker
# is removed: the image is a single-purpose base, pip may install into the system Python.
# Does nothing when the image already exists (it is built once per machine).
set -euo pipefail
IMAGE="${1:-mla-base:bookworm}"
SUITE=bookworm

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "build-base-image: $IMAGE exists"
  exit 0
fi

# The first Debian archive apt uses (deb822 .sources or one-line .list), not the security one.
mirror() {
  local uri
  uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ {print $2}' | grep -v security | head -n1 || true)
  if [ -z "$uri" ]; then
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
      | awk '$1 == "deb" {print $2}' | grep -v security | head -n1 || true)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

MIRROR="${DEBIAN_MIRROR:-$(mirror)}"
ROOTFS=$(mktemp -d "${TMPDIR:-/tmp}/mla-base-rootfs.XXXXXX")
trap 'rm -rf --one-file-system "$ROOTFS"' EXIT

echo "build-base-image: debootstrap $SUITE from $MIRROR"
debootstrap --variant=minbase \
  --include=python3,python3-venv,python3-pip,python-is-python3,ca-certificates \
  "$SUITE" "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1 || { tail -n 30 "$ROOTFS.log" >&2; exit 1; }
rm -f "$ROOTFS.log"

rm -f "$ROOTFS"/usr/lib/python3*/EXTERNALLY-MANAGED

# This machine's extra CA certificates (a TLS-intercepting proxy's among them) and pip's
# configuration files: system-wide (/etc/pip.conf, /etc/xdg/pip/ with its constraints) and
# the invoking user's, installed as the image's system-wide /etc/pip.conf. Local file://
# indexes and find-links directories are left out: they do not exist inside the image.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$ROOTFS/usr/local/share/ca-certificates/"
fi
chroot "$ROOTFS" update-ca-certificates >/dev/null
[ -f /etc/pip.conf ] && cp /etc/pip.conf "$ROOTFS/etc/pip.conf"
[ -d /etc/xdg/pip ] && mkdir -p "$ROOTFS/etc/xdg" && cp -r /etc/xdg/pip "$ROOTFS/etc/xdg/pip"

# Keep the image small: apt's lists and caches, documentation, locales.
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/apt/archives/*.deb \
  "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/locale/*

echo "build-base-image: importing $IMAGE"
tar -C "$ROOTFS" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
  --change 'ENV PIP_DEFAULT_TIMEOUT=180' \
  --change 'CMD ["python3"]' \
  - "$IMAGE" >/dev/null
echo "build-base-image: $IMAGE built"
