#!/usr/bin/env bash
# Build a local Debian bookworm base image with Python 3.11, without any container registry:
# debootstrap (minbase) a root filesystem from the Debian mirror apt already uses, then `podman import`.
#
#   sudo docker/make_base_image.sh [IMAGE]          # default IMAGE: localhost/dynamotif-base:bookworm
#   podman build --build-arg BASE_IMAGE=localhost/dynamotif-base:bookworm -f docker/Dockerfile .
#
# Environment: DEBIAN_MIRROR (default: the first bookworm URI found in /etc/apt), DEBIAN_SUITE
# (bookworm), FORCE=1 to rebuild an existing image. Installs debootstrap/podman with apt when missing.
# Needs root (debootstrap chroots).
set -euo pipefail

IMAGE="${1:-${BASE_IMAGE_NAME:-localhost/dynamotif-base:bookworm}}"
SUITE="${DEBIAN_SUITE:-bookworm}"
# python3-venv gives `python3 -m venv`; ca-certificates lets pip speak HTTPS inside builds;
# passwd gives useradd for the non-root user of the images.
INCLUDE="python3,python3-venv,ca-certificates,passwd"

log() { printf '[make_base_image] %s\n' "$*" >&2; }

if [[ $(id -u) -ne 0 ]]; then
  log "must run as root (debootstrap needs chroot)"; exit 2
fi

need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
if ((${#need[@]})); then
  log "installing ${need[*]} with apt"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"
fi

if [[ "${FORCE:-0}" != 1 ]] && podman image exists "$IMAGE"; then
  log "$IMAGE already exists (FORCE=1 rebuilds)"; exit 0
fi

detect_mirror() {
  # deb822 sources (URIs:/Suites:) first, then one-line sources.list entries; skip security mirrors.
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    awk -v suite="$SUITE" '
      /^URIs:/   { uris = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
      /^$/       { if (ok && uris != "") { print uris; exit } ok = 0; uris = "" }
      END        { if (ok && uris != "") print uris }' "$f"
  done | head -n1
  if [[ -f /etc/apt/sources.list ]]; then
    awk -v suite="$SUITE" '$1 == "deb" && $3 == suite { print $2; exit }' /etc/apt/sources.list
  fi
}

MIRROR="${DEBIAN_MIRROR:-$(detect_mirror | grep -v security | head -n1 || true)}"
if [[ -z "$MIRROR" ]]; then
  log "no $SUITE mirror found in /etc/apt; set DEBIAN_MIRROR"; exit 2
fi
log "suite $SUITE from $MIRROR -> $IMAGE"

ROOTFS="$(mktemp -d "${TMPDIR:-/tmp}/dynamotif-rootfs.XXXXXX")"
trap 'rm -rf --one-file-system "$ROOTFS"' EXIT

start=$(date +%s)
debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$ROOTFS" "$MIRROR" >&2
# The same mirror inside the image, so `apt-get install` in Dockerfiles works offline of Docker Hub.
printf 'deb %s %s main\n' "$MIRROR" "$SUITE" >"$ROOTFS/etc/apt/sources.list"
chroot "$ROOTFS" apt-get clean
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin

tar -C "$ROOTFS" -c . | podman import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["python3"]' \
  - "$IMAGE" >&2
log "built $IMAGE in $(($(date +%s) - start)) s"
podman run --rm --runtime runc --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 "$IMAGE" \
  python3 -c 'import sys, ssl, venv; print("base image python", sys.version.split()[0])'
