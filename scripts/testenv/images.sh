# images: base images made locally (no Docker Hub), in the dockerd of docker.sh (must be up):
#   slipway/busybox:latest  FROM scratch, static busybox (busybox-static) with its applets in /bin
#   debian:bookworm-slim    `debootstrap --variant=minbase bookworm` + `docker import`; the rootfs
#                           tarball is cached at $SLIPWAY_CACHE/images/debian-bookworm.tar
#   python:3.11-slim        FROM debian:bookworm-slim + apt python3 python3-pip python3-venv, a
#                           `python` symlink, and no EXTERNALLY-MANAGED marker (so `pip install`
#                           in a Dockerfile works as with the Docker Hub image). It also trusts the
#                           CA certificates the host adds in /usr/local/share/ca-certificates (here a
#                           TLS-inspecting egress proxy's; without them pip fails with
#                           CERTIFICATE_VERIFY_FAILED), with PIP_CERT/REQUESTS_CA_BUNDLE/SSL_CERT_FILE
#                           on the system bundle so a pip upgraded from PyPI keeps working; the label
#                           slipway.extra-ca holds their hash and the image is rebuilt when it changes
#   mariadb:10.11           FROM debian:bookworm-slim + apt mariadb-server (10.11.x), an entrypoint
#                           like the Docker Hub image's for the common part: MARIADB_ROOT_PASSWORD
#                           (or MARIADB_ALLOW_EMPTY_ROOT_PASSWORD / MARIADB_RANDOM_ROOT_PASSWORD),
#                           MARIADB_DATABASE, MARIADB_USER, MARIADB_PASSWORD, each also as MYSQL_*;
#                           /docker-entrypoint-initdb.d/*.sql|*.sql.gz|*.sh run once on first start
#                           (into MARIADB_DATABASE); mariadbd in the foreground as user mysql on
#                           0.0.0.0:3306; VOLUME /var/lib/mysql; HEALTHCHECK with healthcheck.sh
#                           (`--connect` etc. accepted; it pings over TCP as a no-rights
#                           `healthcheck` user, so it only passes once the real server, not the
#                           init one, listens). Build measured 14-23 s (three runs); healthy
#                           2.5-4.5 s after start on an empty datadir, an init .sql included.
#   nginx:stable            FROM debian:bookworm-slim + apt nginx (1.22), laid out like the Docker
#                           Hub image: /etc/nginx/conf.d/default.conf serving /usr/share/nginx/html,
#                           no sites-enabled default, a `nginx` user, logs to stdout/stderr,
#                           CMD nginx -g 'daemon off;', EXPOSE 80, STOPSIGNAL SIGQUIT. Build
#                           measured 7-9 s (two runs).
#   postgres:15             FROM debian:bookworm-slim + apt postgresql-15, an entrypoint like the
#                           Docker Hub image's for the common part: POSTGRES_PASSWORD (or
#                           POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_USER (default postgres),
#                           POSTGRES_DB (default the user); /docker-entrypoint-initdb.d/*.sql|*.sql.gz|*.sh
#                           run once on first start by `psql -v ON_ERROR_STOP=1` against a socket-only
#                           server (so an SQL error stops the container with
#                           `psql:<file>:<line>: ERROR: ...`); postgres in the foreground as user
#                           postgres on 0.0.0.0:5432, scram-sha-256 over TCP; PGDATA
#                           /var/lib/postgresql/data; HEALTHCHECK pg_isready over TCP.
#   node:18                 FROM debian:bookworm-slim + apt nodejs (18.x) and npm, trusting the host's
#                           extra CAs like python:3.11-slim (NODE_EXTRA_CA_CERTS), CMD node.
#   tags                    names the corpus under tests/fixtures/repos uses, pointing at the local
#                           builds: python:3.9, python:3.9-slim, python:3.10, python:3.10-slim,
#                           python:3 -> python:3.11-slim; mysql:8, mysql:5.7, mysql:latest, mysql
#                           (latest) -> mariadb:10.11; node:18-slim -> node:18. A tag is moved when
#                           its target is rebuilt.
# Images that exist already are not rebuilt (except python:3.11-slim and node:18 when the host's
# extra CAs changed). images_status: exit 0 when all of IMAGES_ALL exist.
# debootstrap and the containers' apt use the Debian mirror found in /etc/apt/sources.list(.d).

: "${SLIPWAY_DOCKER_SOCK:=/var/run/docker.sock}"
IMAGES_DEBIAN_TAR="$SLIPWAY_CACHE/images/debian-bookworm.tar"
IMAGES_ALL=(slipway/busybox:latest debian:bookworm-slim python:3.11-slim mariadb:10.11 nginx:stable postgres:15 node:18)
# alias -> the local build it names
IMAGES_TAGS=(python:3.9=python:3.11-slim python:3.9-slim=python:3.11-slim python:3.10=python:3.11-slim
             python:3.10-slim=python:3.11-slim python:3=python:3.11-slim mysql:8=mariadb:10.11
             mysql:5.7=mariadb:10.11 mysql:latest=mariadb:10.11 node:18-slim=node:18)

IMAGES_EXTRA_CA_DIR=${SLIPWAY_EXTRA_CA_DIR:-/usr/local/share/ca-certificates}

# a short hash of the extra CA certificates the host trusts ("none" without any)
images_extra_ca_sum() {
  local files=()
  mapfile -t files < <(find "$IMAGES_EXTRA_CA_DIR" -maxdepth 1 -type f -name '*.crt' 2>/dev/null | LC_ALL=C sort)
  if [ ${#files[@]} -eq 0 ]; then echo none; else cat "${files[@]}" | sha256sum | cut -c1-16; fi
}

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
  mkdir -p "$ctx/extra-ca"
  find "$IMAGES_EXTRA_CA_DIR" -maxdepth 1 -type f -name '*.crt' -exec cp {} "$ctx/extra-ca/" \; 2>/dev/null || true
  cat > "$ctx/Dockerfile" <<'DF'
FROM debian:bookworm-slim
ENV LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
COPY extra-ca/ /usr/local/share/ca-certificates/
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-pip python3-venv ca-certificates \
 && update-ca-certificates \
 && ln -sf /usr/bin/python3 /usr/local/bin/python \
 && rm -f /usr/lib/python3.*/EXTERNALLY-MANAGED \
 && rm -rf /var/lib/apt/lists/*
CMD ["python3"]
DF
  if ! images_docker build --label "slipway.extra-ca=$(images_extra_ca_sum)" -t python:3.11-slim "$ctx" \
       > "$TESTENV_DIR/images-python.log" 2>&1; then
    tail -n 30 "$TESTENV_DIR/images-python.log" >&2; rm -rf "$ctx"
    die "building python:3.11-slim failed (log: $TESTENV_DIR/images-python.log)"
  fi
  rm -rf "$ctx"
}

images_build_mariadb() {
  local ctx; ctx=$(mktemp -d)
  cat > "$ctx/docker-entrypoint.sh" <<'SH'
#!/bin/bash
# The common part of the Docker Hub mariadb image's entrypoint: on an empty datadir, install the
# system tables, set the root password, create MARIADB_DATABASE and MARIADB_USER, run
# /docker-entrypoint-initdb.d/*; then exec mariadbd in the foreground (it drops to user mysql).
set -eo pipefail
log() { printf '%s [Entrypoint]: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S%:z')" "$*" >&2; }
die() { log "error: $*"; exit 1; }
trap 'log "error: the command at line $LINENO failed"' ERR
# 32 random letters and digits (no `tr | head`: its SIGPIPE would fail under pipefail)
rand_pw() { local p; p=$(head -c 96 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9'); printf '%s' "${p:0:32}"; }

# MARIADB_X, else MYSQL_X, else the default
env_or() { local m="MARIADB_$1" y="MYSQL_$1"; printf '%s' "${!m:-${!y:-$2}}"; }
# a value inside '...' of SQL
sql_escape() { local v=${1//\\/\\\\}; printf '%s' "${v//\'/\\\'}"; }

if [ "${1:0:1}" = '-' ]; then set -- mariadbd "$@"; fi
case "$1" in mysqld|mariadbd) ;; *) exec "$@" ;; esac

DATADIR=/var/lib/mysql
SOCKET=/run/mysqld/mysqld.sock
mkdir -p /run/mysqld "$DATADIR"
if [ "$(id -u)" = 0 ]; then chown mysql:mysql /run/mysqld "$DATADIR"; fi

if [ ! -d "$DATADIR/mysql" ]; then
  ROOT_PASSWORD=$(env_or ROOT_PASSWORD '')
  ALLOW_EMPTY=$(env_or ALLOW_EMPTY_ROOT_PASSWORD '')
  RANDOM_ROOT=$(env_or RANDOM_ROOT_PASSWORD '')
  ROOT_HOST=$(env_or ROOT_HOST '%')
  DATABASE=$(env_or DATABASE '')
  DB_USER=$(env_or USER '')
  DB_PASSWORD=$(env_or PASSWORD '')
  if [ -z "$ROOT_PASSWORD" ] && [ -z "$ALLOW_EMPTY" ] && [ -z "$RANDOM_ROOT" ]; then
    die "the database is uninitialized and no root password option is given: set one of MARIADB_ROOT_PASSWORD, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD or MARIADB_RANDOM_ROOT_PASSWORD (or the MYSQL_* names)"
  fi
  if [ -n "$RANDOM_ROOT" ] && [ -z "$ROOT_PASSWORD" ]; then
    ROOT_PASSWORD=$(rand_pw)
    log "GENERATED ROOT PASSWORD: $ROOT_PASSWORD"
  fi
  if [ "$DB_USER" = root ]; then die "MARIADB_USER=root is not allowed; use MARIADB_ROOT_PASSWORD for root"; fi
  if [ -n "$DB_USER" ] && [ -z "$DB_PASSWORD" ]; then die "MARIADB_USER is set but MARIADB_PASSWORD is empty"; fi

  log "initializing the database in $DATADIR"
  mariadb-install-db --user=mysql --datadir="$DATADIR" --skip-test-db \
    --auth-root-authentication-method=normal --skip-name-resolve --default-time-zone=SYSTEM \
    --loose-innodb_buffer_pool_load_at_startup=0 --loose-innodb_buffer_pool_dump_at_shutdown=0 >/dev/null
  log "starting a temporary server (socket only)"
  mariadbd --user=mysql --datadir="$DATADIR" --skip-networking --socket="$SOCKET" \
    --loose-innodb_buffer_pool_load_at_startup=0 --loose-innodb_buffer_pool_dump_at_shutdown=0 &
  tmp_pid=$!
  for _ in $(seq 300); do
    mariadb-admin --socket="$SOCKET" -uroot ping >/dev/null 2>&1 && break
    kill -0 "$tmp_pid" 2>/dev/null || die "the temporary server exited"
    sleep 0.1
  done
  mariadb-admin --socket="$SOCKET" -uroot ping >/dev/null 2>&1 || die "the temporary server did not answer"

  sql() { mariadb --protocol=socket --socket="$SOCKET" -uroot --binary-mode "$@"; }
  rp=$(sql_escape "$ROOT_PASSWORD")
  HC_PASSWORD=$(rand_pw)
  {
    echo "SET @@SESSION.SQL_LOG_BIN=0;"
    echo "DROP USER IF EXISTS root@'127.0.0.1', root@'::1';"
    echo "EXECUTE IMMEDIATE CONCAT('DROP USER IF EXISTS root@\'', @@hostname, '\'');"
    echo "SET PASSWORD FOR 'root'@'localhost' = PASSWORD('$rp');"
    if [ "$ROOT_HOST" != localhost ]; then
      rh=$(sql_escape "$ROOT_HOST")
      echo "CREATE USER 'root'@'$rh' IDENTIFIED BY '$rp';"
      echo "GRANT ALL ON *.* TO 'root'@'$rh' WITH GRANT OPTION;"
      echo "GRANT PROXY ON ''@'%' TO 'root'@'$rh' WITH GRANT OPTION;"
    fi
    if [ -n "$DATABASE" ]; then
      echo "CREATE DATABASE IF NOT EXISTS \`${DATABASE//\`/\`\`}\`;"
    fi
    if [ -n "$DB_USER" ]; then
      u=$(sql_escape "$DB_USER")
      echo "CREATE USER '$u'@'%' IDENTIFIED BY '$(sql_escape "$DB_PASSWORD")';"
      if [ -n "$DATABASE" ]; then echo "GRANT ALL ON \`${DATABASE//\`/\`\`}\`.* TO '$u'@'%';"; fi
    fi
    # as the Docker Hub image: a healthcheck user with no rights, its password in the datadir
    echo "CREATE USER 'healthcheck'@'127.0.0.1' IDENTIFIED BY '$HC_PASSWORD';"
    echo "CREATE USER 'healthcheck'@'::1' IDENTIFIED BY '$HC_PASSWORD';"
    echo "CREATE USER 'healthcheck'@'localhost' IDENTIFIED BY '$HC_PASSWORD';"
    echo "FLUSH PRIVILEGES;"
  } | sql
  printf '[client]\nport=3306\nsocket=%s\nuser=healthcheck\npassword=%s\n' "$SOCKET" "$HC_PASSWORD" \
    > "$DATADIR/.my-healthcheck.cnf"
  chown mysql:mysql "$DATADIR/.my-healthcheck.cnf" 2>/dev/null || true
  chmod 0600 "$DATADIR/.my-healthcheck.cnf"
  rootsql() { sql --password="$ROOT_PASSWORD" ${DATABASE:+--database="$DATABASE"} "$@"; }
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh)     log "running $f"; if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
      *.sql)    log "running $f"; rootsql < "$f" ;;
      *.sql.gz) log "running $f"; gunzip -c "$f" | rootsql ;;
      *.sql.xz) log "running $f"; xz -dc "$f" | rootsql ;;
      *) [ ! -e "$f" ] || log "ignoring $f" ;;
    esac
  done
  log "stopping the temporary server"
  mariadb-admin --socket="$SOCKET" -uroot --password="$ROOT_PASSWORD" shutdown
  wait "$tmp_pid" || true
  log "initialization done"
fi

log "starting $*"
if [ "$(id -u)" = 0 ]; then set -- "$@" --user=mysql; fi
exec "$@"
SH
  cat > "$ctx/healthcheck.sh" <<'SH'
#!/bin/bash
# A stand-in for the Docker Hub image's healthcheck.sh: its options (--connect,
# --innodb_initialized, ...) are accepted and all mean "the server answers over TCP", which the
# init server (socket only) never does. It logs in as the no-rights user the entrypoint made
# (password in the datadir); without that file it only reads the server's greeting.
port=${MARIADB_PORT:-3306}
cnf=/var/lib/mysql/.my-healthcheck.cnf
if [ -r "$cnf" ]; then
  exec mariadb-admin --defaults-extra-file="$cnf" --protocol=tcp -h127.0.0.1 -P"$port" \
    --connect-timeout=2 ping --silent >/dev/null 2>&1
fi
exec 3<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null || exit 1
timeout 2 head -c 80 <&3 | grep -a -q MariaDB
SH
  cat > "$ctx/99-docker.cnf" <<'CNF'
# as in the Docker Hub image: listen everywhere, no name resolution, logs to stderr
[mariadbd]
bind-address = 0.0.0.0
port = 3306
skip-name-resolve
host-cache-size = 0
socket = /run/mysqld/mysqld.sock
[client-server]
socket = /run/mysqld/mysqld.sock
CNF
  cat > "$ctx/Dockerfile" <<'DF'
FROM debian:bookworm-slim
ENV LANG=C.UTF-8
RUN groupadd -r mysql && useradd -r -g mysql -d /var/lib/mysql -s /usr/sbin/nologin mysql \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      mariadb-server mariadb-client ca-certificates gzip xz-utils \
 && rm -rf /var/lib/apt/lists/* /var/lib/mysql /var/log/mysql/* \
 && mkdir -p /var/lib/mysql /run/mysqld /docker-entrypoint-initdb.d \
 && chown mysql:mysql /var/lib/mysql /run/mysqld && chmod 1777 /run/mysqld
COPY 99-docker.cnf /etc/mysql/mariadb.conf.d/99-docker.cnf
COPY docker-entrypoint.sh healthcheck.sh /usr/local/bin/
RUN chmod 0755 /usr/local/bin/docker-entrypoint.sh /usr/local/bin/healthcheck.sh \
 && chmod 0644 /etc/mysql/mariadb.conf.d/99-docker.cnf
VOLUME /var/lib/mysql
EXPOSE 3306
HEALTHCHECK --interval=2s --timeout=5s --start-period=5s --retries=15 CMD ["healthcheck.sh", "--connect", "--innodb_initialized"]
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["mariadbd"]
DF
  if ! images_docker build -t mariadb:10.11 "$ctx" > "$TESTENV_DIR/images-mariadb.log" 2>&1; then
    tail -n 30 "$TESTENV_DIR/images-mariadb.log" >&2; rm -rf "$ctx"
    die "building mariadb:10.11 failed (log: $TESTENV_DIR/images-mariadb.log)"
  fi
  rm -rf "$ctx"
}

images_build_nginx() {
  local ctx; ctx=$(mktemp -d)
  cat > "$ctx/default.conf" <<'CONF'
server {
    listen       80;
    listen  [::]:80;
    server_name  localhost;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
CONF
  cat > "$ctx/Dockerfile" <<'DF'
FROM debian:bookworm-slim
RUN groupadd -r nginx && useradd -r -g nginx -d /nonexistent -s /usr/sbin/nologin nginx \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx ca-certificates \
 && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default \
 && mkdir -p /etc/nginx/conf.d /usr/share/nginx/html \
 && { [ -f /usr/share/nginx/html/index.html ] || cp /var/www/html/index.nginx-debian.html /usr/share/nginx/html/index.html; } \
 && printf '<!DOCTYPE html>\n<html><body><h1>An error occurred.</h1></body></html>\n' > /usr/share/nginx/html/50x.html \
 && ln -sf /dev/stdout /var/log/nginx/access.log \
 && ln -sf /dev/stderr /var/log/nginx/error.log
COPY default.conf /etc/nginx/conf.d/default.conf
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
DF
  if ! images_docker build -t nginx:stable "$ctx" > "$TESTENV_DIR/images-nginx.log" 2>&1; then
    tail -n 30 "$TESTENV_DIR/images-nginx.log" >&2; rm -rf "$ctx"
    die "building nginx:stable failed (log: $TESTENV_DIR/images-nginx.log)"
  fi
  rm -rf "$ctx"
}

images_build_postgres() {
  local ctx; ctx=$(mktemp -d)
  cat > "$ctx/docker-entrypoint.sh" <<'SH'
#!/bin/bash
# The common part of the Docker Hub postgres image's entrypoint: on an empty PGDATA, initdb with
# POSTGRES_USER and POSTGRES_PASSWORD, create POSTGRES_DB, run /docker-entrypoint-initdb.d/* against
# a server that listens on its socket only; then exec postgres in the foreground as postgres.
set -eo pipefail
log() { printf '%s [Entrypoint]: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S%:z')" "$*" >&2; }
die() { log "error: $*"; exit 1; }
if [ "${1:0:1}" = '-' ]; then set -- postgres "$@"; fi
if [ "$1" != postgres ]; then exec "$@"; fi
export PGDATA=${PGDATA:-/var/lib/postgresql/data}
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
shift
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_USER:=postgres}"
  : "${POSTGRES_DB:=$POSTGRES_USER}"
  if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
    die "the database is uninitialized and POSTGRES_PASSWORD is not set (or set POSTGRES_HOST_AUTH_METHOD=trust)"
  fi
  log "initializing the database in $PGDATA"
  pwfile=$(mktemp)
  printf '%s' "$POSTGRES_PASSWORD" > "$pwfile"
  initdb --username="$POSTGRES_USER" --pwfile="$pwfile" -D "$PGDATA" -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >/dev/null
  rm -f "$pwfile"
  printf 'host all all all %s\n' "${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >> "$PGDATA/pg_hba.conf"
  log "starting a temporary server (socket only)"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start >/dev/null
  psql=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
  if [ "$POSTGRES_DB" != postgres ]; then
    "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db" ;' >/dev/null
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh)     log "running $f"; if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
      *.sql)    log "running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" >/dev/null ;;
      *.sql.gz) log "running $f"; gunzip -c "$f" | "${psql[@]}" --dbname "$POSTGRES_DB" >/dev/null ;;
      *) [ ! -e "$f" ] || log "ignoring $f" ;;
    esac
  done
  log "stopping the temporary server"
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  log "initialization done"
fi
log "starting postgres"
exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
SH
  cat > "$ctx/Dockerfile" <<'DF'
FROM debian:bookworm-slim
ENV LANG=C.UTF-8 PGDATA=/var/lib/postgresql/data PATH=/usr/lib/postgresql/15/bin:$PATH
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 postgresql-client-15 ca-certificates gzip \
 && (pg_dropcluster --stop 15 main || true) \
 && rm -rf /var/lib/apt/lists/* /var/lib/postgresql/15 \
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql /docker-entrypoint-initdb.d \
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql && chmod 2777 /var/run/postgresql
COPY docker-entrypoint.sh /usr/local/bin/
RUN chmod 0755 /usr/local/bin/docker-entrypoint.sh
VOLUME /var/lib/postgresql/data
EXPOSE 5432
STOPSIGNAL SIGINT
HEALTHCHECK --interval=2s --timeout=5s --start-period=5s --retries=15 CMD ["sh", "-c", "pg_isready -h 127.0.0.1 -p 5432 -U \"${POSTGRES_USER:-postgres}\""]
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
DF
  if ! images_docker build -t postgres:15 "$ctx" > "$TESTENV_DIR/images-postgres.log" 2>&1; then
    tail -n 30 "$TESTENV_DIR/images-postgres.log" >&2; rm -rf "$ctx"
    die "building postgres:15 failed (log: $TESTENV_DIR/images-postgres.log)"
  fi
  rm -rf "$ctx"
}

images_build_node() {
  local ctx; ctx=$(mktemp -d)
  mkdir -p "$ctx/extra-ca"
  find "$IMAGES_EXTRA_CA_DIR" -maxdepth 1 -type f -name '*.crt' -exec cp {} "$ctx/extra-ca/" \; 2>/dev/null || true
  cat > "$ctx/Dockerfile" <<'DF'
FROM debian:bookworm-slim
ENV LANG=C.UTF-8 NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
COPY extra-ca/ /usr/local/share/ca-certificates/
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm ca-certificates \
 && update-ca-certificates \
 && rm -rf /var/lib/apt/lists/*
CMD ["node"]
DF
  if ! images_docker build --label "slipway.extra-ca=$(images_extra_ca_sum)" -t node:18 "$ctx" > "$TESTENV_DIR/images-node.log" 2>&1; then
    tail -n 30 "$TESTENV_DIR/images-node.log" >&2; rm -rf "$ctx"
    die "building node:18 failed (log: $TESTENV_DIR/images-node.log)"
  fi
  rm -rf "$ctx"
}

# images_tags: every alias of IMAGES_TAGS points at the current image of its target.
images_tags() {
  local t alias target want have
  for t in "${IMAGES_TAGS[@]}"; do
    alias=${t%%=*}; target=${t#*=}
    want=$(images_docker image inspect -f '{{.Id}}' "$target" 2>/dev/null) || continue
    have=$(images_docker image inspect -f '{{.Id}}' "$alias" 2>/dev/null || true)
    [ "$want" = "$have" ] || images_docker tag "$target" "$alias"
  done
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
  elif [ "$(images_docker image inspect -f '{{index .Config.Labels "slipway.extra-ca"}}' python:3.11-slim)" != "$(images_extra_ca_sum)" ]; then
    log "rebuilding python:3.11-slim: the host's extra CA certificates ($IMAGES_EXTRA_CA_DIR) changed"
    images_build_python
  fi
  if ! images_exists mariadb:10.11; then
    log "building mariadb:10.11 FROM debian:bookworm-slim (apt mariadb-server, ~20 s)"
    images_build_mariadb
  fi
  if ! images_exists nginx:stable; then
    log "building nginx:stable FROM debian:bookworm-slim (apt nginx, ~10 s)"
    images_build_nginx
  fi
  if ! images_exists postgres:15; then
    log "building postgres:15 FROM debian:bookworm-slim (apt postgresql-15)"
    images_build_postgres
  fi
  if ! images_exists node:18; then
    log "building node:18 FROM debian:bookworm-slim (apt nodejs npm)"
    images_build_node
  elif [ "$(images_docker image inspect -f '{{index .Config.Labels "slipway.extra-ca"}}' node:18)" != "$(images_extra_ca_sum)" ]; then
    log "rebuilding node:18: the host's extra CA certificates ($IMAGES_EXTRA_CA_DIR) changed"
    images_build_node
  fi
  images_tags
  log "images: ${IMAGES_ALL[*]} (and ${#IMAGES_TAGS[@]} tags)"
}

images_down() { :; }  # images stay in dockerd's data root

images_status() {
  if ! images_docker version >/dev/null 2>&1; then echo "images: stopped (dockerd not answering)"; return 1; fi
  local have=() missing=() i
  for i in "${IMAGES_ALL[@]}" "${IMAGES_TAGS[@]%%=*}"; do
    if images_exists "$i"; then have+=("$i"); else missing+=("$i"); fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "images: running ${have[*]}"
  else
    echo "images: stopped missing ${missing[*]}${have:+; present ${have[*]}}"; return 1
  fi
}
