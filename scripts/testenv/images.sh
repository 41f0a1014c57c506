# images: base images made locally (no Docker Hub), in the dockerd of docker.sh (must be up):
#   slipway/busybox:latest  FROM scratch, static busybox (busybox-static) with its applets in /bin
#   debian:bookworm-slim    `debootstrap --variant=minbase bookworm` + `docker import`; the rootfs
#                           tarball is cached at $SLIPWAY_CACHE/images/debian-bookworm.tar
#   python:3.11-slim        FROM debian:bookworm-slim + apt python3 python3-pip python3-venv, a
#                           `python` symlink, and no EXTERNALLY-MANAGED marker (so `pip install`
#                           in a Dockerfile works as with the Docker Hub image)
# Images that exist already are not rebuilt. images_status: exit 0 when all three exist.
# debootstrap and the containers' apt use the Debian mirror found in /etc/apt/sources.list(.d).

: "${SLIPWAY_DOCKER_SOCK:=/var/run/docker.sock}"
IMAGES_DEBIAN_TAR="$SLIPWAY_CACHE/images/debian-bookworm.tar"
IMAGES_ALL=(slipway/busybox:latest debian:bookworm-slim python:3.11-slim)

images_docker() { DOCKER_HOST="unix://$SLIPWAY_DOCKER_SOCK" DOCKER_BUILDKIT=0 docker "$@"; }

# images_mirror SUITE: the first URI that apt's sources list for SUITE (deb, one-line or deb822).
images_mirror() {
  /usr/bin/python3 - "$1" <<'PY'
import glob, sys
suite = sys.argv[1]
for f in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
    try:
        lines = open(f).read().splitlines()
    except OSError:
        continue
    for line in lines:
        parts = line.split("#", 1)[0].split()
        if not parts or parts[0] != "deb":
            continue
        parts = parts[1:]
        if parts and parts[0].startswith("["):
            while parts and not parts[0].endswith("]"):
                parts = parts[1:]
            parts = parts[1:]
        if len(parts) >= 2 and parts[1] == suite:
            print(parts[0].rstrip("/")); sys.exit(0)
for f in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    try:
        text = open(f).read()
    except OSError:
        continue
    for para in text.split("\n\n"):
        fields = {}
        for line in para.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            k, v = line.split(":", 1)
            fields[k.strip().lower()] = v.split()
        if "deb" not in fields.get("types", []) or fields.get("enabled", ["yes"])[0] == "no":
            continue
        if suite in fields.get("suites", []) and fields.get("uris"):
            print(fields["uris"][0].rstrip("/")); sys.exit(0)
sys.exit(1)
PY
}

images_install() {
  command -v debootstrap >/dev/null && [ -x /bin/busybox ] && dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q "ok installed" \
    || apt_install debootstrap busybox-static
  [ -s "$IMAGES_DEBIAN_TAR" ] || images_build_debian_tar
}

images_build_debian_tar() {
  local mirror security root
  mirror=$(images_mirror bookworm || echo http://deb.debian.org/debian)
  security=$(images_mirror bookworm-security || echo http://deb.debian.org/debian-security)
  root="$SLIPWAY_CACHE/images/rootfs.tmp"
  mkdir -p "$SLIPWAY_CACHE/images"
  rm -rf "$root"
  log "debootstrap --variant=minbase bookworm from $mirror (30-90 s)"
  if ! debootstrap --variant=minbase bookworm "$root" "$mirror" > "$TESTENV_DIR/debootstrap.log" 2>&1; then
    tail -n 20 "$TESTENV_DIR/debootstrap.log" >&2
    rm -rf "$root"
    die "debootstrap failed (log: $TESTENV_DIR/debootstrap.log)"
  fi
  cat > "$root/etc/apt/sources.list" <<SRC
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
SRC
  # what Docker Hub's debian images do: no apt caches, no docs or man pages
  cat > "$root/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
  echo 'Acquire::Languages "none";' > "$root/etc/apt/apt.conf.d/docker-no-languages"
  mkdir -p "$root/etc/dpkg/dpkg.cfg.d"
  cat > "$root/etc/dpkg/dpkg.cfg.d/docker" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
DPKG
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
         "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/usr/share/doc/*/changelog* "$root"/usr/share/man/*
  : > "$root/etc/resolv.conf"
  echo bookworm-slim > "$root/etc/hostname"
  tar --numeric-owner -C "$root" -cf "$IMAGES_DEBIAN_TAR.tmp" .
  mv "$IMAGES_DEBIAN_TAR.tmp" "$IMAGES_DEBIAN_TAR"
  rm -rf "$root"
  log "debian rootfs cached: $IMAGES_DEBIAN_TAR ($(du -h "$IMAGES_DEBIAN_TAR" | cut -f1))"
}

images_exists() { images_docker image inspect "$1" >/dev/null 2>&1; }

images_build_busybox() {
  local ctx; ctx=$(mktemp -d)
  mkdir -p "$ctx/root/bin" "$ctx/root/etc" "$ctx/root/tmp" "$ctx/root/root"
  cp /bin/busybox "$ctx/root/bin/busybox"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$ctx/root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$ctx/root/etc/group"
  chmod 1777 "$ctx/root/tmp"
  cat > "$ctx/Dockerfile" <<'DF'
FROM scratch
COPY root/ /
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV PATH=/bin
CMD ["sh"]
DF
  images_docker build -t slipway/busybox:latest "$ctx" > "$TESTENV_DIR/images-busybox.log" 2>&1 \
    || { tail -n 20 "$TESTENV_DIR/images-busybox.log" >&2; rm -rf "$ctx"; die "building slipway/busybox failed"; }
  rm -rf "$ctx"
}

images_build_python() {
  local ctx; ctx=$(mktemp -d)
  cat > "$ctx/Dockerfile" <<'DF'
FROM debian:bookworm-slim
ENV LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-pip python3-venv ca-certificates \
 && ln -sf /usr/bin/python3 /usr/local/bin/python \
 && rm -f /usr/lib/python3.*/EXTERNALLY-MANAGED \
 && rm -rf /var/lib/apt/lists/*
CMD ["python3"]
DF
  if ! images_docker build -t python:3.11-slim "$ctx" > "$TESTENV_DIR/images-python.log" 2>&1; then
    tail -n 30 "$TESTENV_DIR/images-python.log" >&2; rm -rf "$ctx"
    die "building python:3.11-slim failed (log: $TESTENV_DIR/images-python.log)"
  fi
  rm -rf "$ctx"
}

images_up() {
  images_docker version >/dev/null 2>&1 \
    || die "images: dockerd is not answering on unix://$SLIPWAY_DOCKER_SOCK (scripts/testenv.sh up docker images)"
  if ! images_exists slipway/busybox:latest; then
    log "building slipway/busybox:latest"; images_build_busybox
  fi
  if ! images_exists debian:bookworm-slim; then
    [ -s "$IMAGES_DEBIAN_TAR" ] || images_build_debian_tar
    log "importing debian:bookworm-slim from $IMAGES_DEBIAN_TAR"
    images_docker import -c 'CMD ["bash"]' "$IMAGES_DEBIAN_TAR" debian:bookworm-slim >/dev/null
  fi
  if ! images_exists python:3.11-slim; then
    log "building python:3.11-slim FROM debian:bookworm-slim (apt in a container, ~1 min)"
    images_build_python
  fi
  log "images: ${IMAGES_ALL[*]}"
}

images_down() { :; }  # images stay in dockerd's data root

images_status() {
  if ! images_docker version >/dev/null 2>&1; then echo "images: stopped (dockerd not answering)"; return 1; fi
  local have=() missing=() i
  for i in "${IMAGES_ALL[@]}"; do
    if images_exists "$i"; then have+=("$i"); else missing+=("$i"); fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "images: running ${have[*]}"
  else
    echo "images: stopped missing ${missing[*]}${have:+; present ${have[*]}}"; return 1
  fi
}
