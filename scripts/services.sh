#!/usr/bin/env bash
# scripts/services.sh — test services for the courier dispatch service:
# PostgreSQL 15 + TimescaleDB and RabbitMQ, private to one directory DIR (and Debian's chromium, which
# the report test drives headless).
#
#   scripts/services.sh up DIR      install what is missing, start both, print DATABASE_URL= / AMQP_URL=
#   scripts/services.sh down DIR    stop this DIR's processes (by pid file); quiet no-op if not running
#   scripts/services.sh env DIR     print `export ...` lines, for: eval "$(scripts/services.sh env DIR)"
#   scripts/services.sh status DIR  say which of the two is running
#   scripts/services.sh stop-pg DIR | start-pg DIR    stop or start only PostgreSQL of a DIR that is up
#   scripts/services.sh stop-rmq DIR | start-rmq DIR  stop or start only RabbitMQ of a DIR that is up
#
# The four single-server commands are for fault-injection tests (a database or broker outage under
# load). They are idempotent, take the same PG_PORT / RMQ_PORT as `up` (refused if they differ from
# the DIR's services.env) and never install anything: `up` must have run first. Data is kept.
#
# Defaults: PostgreSQL on 127.0.0.1:${PG_PORT:-55432} (TCP only, no unix socket), database `courier`
# with the timescaledb extension; RabbitMQ on 127.0.0.1:${RMQ_PORT:-55672}, user guest/guest over
# loopback, plugin rabbitmq_consistent_hash_exchange. Only the two URL lines go to stdout; progress
# goes to stderr prefixed "services:". Data stays in DIR between down and up.
# Other knobs: RMQ_DIST_PORT (default RMQ_PORT+1), RMQ_EPMD_PORT (default RMQ_PORT-3),
# SERVICES_CACHE (TimescaleDB build cache, default /var/cache/courier-services),
# TSDB_SRC_DIR (folder with timescaledb_*.dsc/.orig.tar.*/.debian.tar.* to build from, instead of the
# archive), TSDB_SRC_SUITE / TSDB_SRC_MIRROR (where the Debian source package comes from).
#
# Why it does things the unusual way (details: shared/notes/services.md):
# - A policy-rc.d that exits 101 is in place while dpkg runs (added temporarily if missing), otherwise
#   the packages' postinst would start a system cluster on 5432 and a system broker on 5672.
# - TimescaleDB is not packaged for bookworm. It is built from trixie's Debian *source* package
#   (2.19.3+dfsg: Apache-only, the TSL part is stripped) with a private apt state under
#   $SERVICES_CACHE, so the system's apt sources and lists are not touched. The build result is cached
#   as a tarball keyed by the exact installed postgresql-15 package version, because an extension is
#   built against the exact server headers and minor releases have broken that ABI before.
# - postgresql-server-dev-15 is pinned to the installed server version: the unpinned candidate (from
#   bookworm-security) would silently upgrade the server, client and libpq too. If that exact version
#   has left the archive, server and headers are upgraded together.
# - initdb/postgres refuse to run as root, so they run as `postgres` via runuser. That user must reach
#   the data dir; if DIR is not reachable (e.g. under /root, mode 700), the cluster lives in
#   /var/tmp/courier-services/pg-<hash of DIR> and DIR/pg is a symlink to it.
# - timescaledb.max_background_workers=0: every database with the extension otherwise gets a scheduler
#   worker, and many test databases exhaust the worker slots; nothing Apache-licensed needs them.
# - RabbitMQ runs from /usr/lib/rabbitmq/bin as root with HOME=DIR/rabbitmq (the /usr/sbin wrappers
#   re-exec as user rabbitmq with another cookie: "Erlang cookie not matching"), with its own empty
#   RABBITMQ_CONF_ENV_FILE, node name @localhost, a private epmd port bound to 127.0.0.1 (epmd
#   outlives the broker and a default one on 4369 may belong to someone else), and RABBITMQ_DIST_PORT
#   set explicitly (its default is AMQP port + 20000 = 75672, an invalid port).
# - No `-detached`: with it boot errors are silent (the CLI just times out). The broker runs in the
#   foreground under setsid in the background, with its output in DIR/rabbitmq/startup.log.
# - The plugin is enabled by writing enabled_plugins before boot (online enable costs ~5 s).
# - Daemons get the lock fds closed (9>&- 8>&-) and all stdio redirected to files; otherwise they hold
#   the flock forever and a CI harness reading our pipe waits for them.
# - PID 1 on these machines reaps orphans late, so a stopped server can linger as a zombie: liveness
#   is read from /proc/PID/stat and state Z counts as dead.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
export LC_ALL=C.UTF-8

PG_PORT=${PG_PORT:-55432}
RMQ_PORT=${RMQ_PORT:-55672}
RMQ_DIST_PORT=${RMQ_DIST_PORT:-$((RMQ_PORT + 1))}
RMQ_EPMD_PORT=${RMQ_EPMD_PORT:-$((RMQ_PORT - 3))}
SERVICES_CACHE=${SERVICES_CACHE:-/var/cache/courier-services}
TSDB_SRC_SUITE=${TSDB_SRC_SUITE:-trixie}
TSDB_SRC_MIRROR=${TSDB_SRC_MIRROR:-http://deb.debian.org/debian}
RMQ_BOOT_TIMEOUT=${RMQ_BOOT_TIMEOUT:-120}
RMQ_STOP_TIMEOUT=${RMQ_STOP_TIMEOUT:-60}

PG_MAJOR=15
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
PG_LIBDIR=/usr/lib/postgresql/$PG_MAJOR/lib
PG_EXTDIR=/usr/share/postgresql/$PG_MAJOR/extension
TSDB_STAMP=$PG_LIBDIR/timescaledb.courier-services.stamp
RMQ_BIN=/usr/lib/rabbitmq/bin
SHARED_PG_ROOT=/var/tmp/courier-services

T0=${EPOCHREALTIME//[!0-9]/}
CMD=""
UP_OK=0
STARTED_RMQ=0
STARTED_PG=0
POLICY_RC_ADDED=0
APT_UPDATED=0

# ---------------------------------------------------------------------------------------------------
# small helpers

log() { printf 'services: %s\n' "$*" >&2; }

show_tail() { # file [lines]
    local f=$1 n=${2:-40}
    if [[ -s $f ]]; then
        printf 'services: ----- last %s lines of %s -----\n' "$n" "$f" >&2
        tail -n "$n" -- "$f" >&2 || true
        printf 'services: -----\n' >&2
    fi
}

die() { # message [log files whose tail to show...]
    local msg=$1 f
    shift
    for f in "$@"; do show_tail "$f"; done
    printf 'services: ERROR: %s\n' "$msg" >&2
    exit 1
}

elapsed() {
    local d=$(((${EPOCHREALTIME//[!0-9]/} - T0) / 100000))
    printf '%d.%d s' $((d / 10)) $((d % 10))
}

usage() {
    printf 'usage: %s up|down|env|status|stop-pg|start-pg|stop-rmq|start-rmq DIR\n' "${0##*/}" >&2
    exit 2
}

# pid_alive PID [COMM]: the process exists, is not a zombie, and (if given) its comm matches.
pid_alive() {
    local pid=${1:-} want=${2:-} stat comm
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    { read -r stat <"/proc/$pid/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]] || return 1
    if [[ -n $want ]]; then
        { read -r comm <"/proc/$pid/comm"; } 2>/dev/null || return 1
        [[ $comm == "$want" ]] || return 1
    fi
    return 0
}

# wait_dead PID SECONDS: wait until PID is gone (or a zombie); non-zero on timeout.
wait_dead() {
    local pid=$1 n=$(($2 * 20))
    while pid_alive "$pid"; do
        ((n-- > 0)) || return 1
        sleep 0.05
    done
    return 0
}

read_first_line() { # file -> first line on stdout (empty if missing)
    local l=""
    { read -r l <"$1"; } 2>/dev/null || true
    printf '%s' "$l"
}

port_open() { # something accepts TCP connections on 127.0.0.1:PORT
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

amqp_ready() { # the port answers an AMQP 0-9-1 protocol header with a METHOD frame (Connection.Start)
    (
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf 'AMQP\x00\x00\x09\x01' >&3
        IFS= read -r -d '' -n 1 -t 3 b <&3 || exit 1
        [[ $b == $'\x01' ]]
    ) 2>/dev/null
}

as_postgres() { # run a command as user postgres from a directory it can read
    (cd / && exec runuser -u postgres -- "$@")
}

check_port_var() {
    local name=$1 v=$2
    if ! [[ $v =~ ^[0-9]+$ ]] || ((v < 1 || v > 65535)); then die "$name=$v is not a valid TCP port"; fi
}

# ---------------------------------------------------------------------------------------------------
# paths and state of one DIR

set_paths() { # DIR argument
    local d=${1:-}
    [[ -n $d ]] || usage
    [[ $d == /* ]] || d=$PWD/$d
    DIR=$(realpath -m -- "$d")
    [[ $DIR != / ]] || die "refusing to use / as DIR"
    RMQ_DIR=$DIR/rabbitmq
    RMQ_PID_FILE=$RMQ_DIR/rabbitmq.pid
    RMQ_STARTUP_LOG=$RMQ_DIR/startup.log
    ENV_FILE=$DIR/services.env
    LOG_DIR=$DIR/log
    set_pg_paths
}

set_pg_paths() { # PG_ROOT holds data/ and postgres.log; DIR/pg is that directory or a symlink to it
    PG_ROOT=""
    if [[ -e $DIR/pg || -L $DIR/pg ]]; then
        PG_ROOT=$(readlink -f -- "$DIR/pg" || true)
    fi
    PGDATA=${PG_ROOT:+$PG_ROOT/data}
    PG_LOG=${PG_ROOT:+$PG_ROOT/postgres.log}
}

pg_pid() { # pid of this DIR's running postmaster, or nothing
    [[ -n $PGDATA ]] || return 0
    local p
    p=$(read_first_line "$PGDATA/postmaster.pid")
    if pid_alive "$p" postgres; then printf '%s' "$p"; fi
}

rmq_pid() { # pid of this DIR's running broker (beam), or nothing
    local p
    p=$(read_first_line "$RMQ_PID_FILE")
    if pid_alive "$p" beam.smp; then printf '%s' "$p"; fi
}

env_value() { # KEY -> value from DIR/services.env
    local k v
    [[ -f $ENV_FILE ]] || return 0
    while IFS='=' read -r k v; do
        if [[ $k == "$1" ]]; then
            printf '%s' "$v"
            return 0
        fi
    done <"$ENV_FILE"
}

take_dir_lock() {
    exec 9>"$DIR/.services.lock"
    if ! flock -n 9; then
        log "another run holds $DIR/.services.lock; waiting"
        flock -w 1800 9 || die "timed out waiting for $DIR/.services.lock"
    fi
}

# ---------------------------------------------------------------------------------------------------
# apt

ensure_policy_rc() {
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\n# temporary, from scripts/services.sh: keep dpkg from starting services\nexit 101\n' \
            >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        POLICY_RC_ADDED=1
    fi
}

pkg_version() { # installed version of a package, or nothing
    local s
    s=$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$1" 2>/dev/null || true)
    if [[ $s == "installed "* ]]; then printf '%s' "${s#installed }"; fi
}

missing_pkgs() { # package specs (name or name=version) -> those not installed as asked, on stdout
    local spec name ver have
    for spec in "$@"; do
        name=${spec%%=*}
        ver=""
        [[ $spec == *=* ]] && ver=${spec#*=}
        have=$(pkg_version "$name")
        if [[ -z $have || (-n $ver && $have != "$ver") ]]; then printf '%s\n' "$spec"; fi
    done
}

apt_install() { # package specs; runs `apt-get update` once (per run) and retries if the install fails
    local alog=$LOG_DIR/apt.log
    local -a opts=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=600
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
    ensure_policy_rc
    log "apt-get install $*"
    printf '\n=== %s apt-get install %s\n' "$(date -Is)" "$*" >>"$alog"
    if apt-get install "${opts[@]}" "$@" </dev/null >>"$alog" 2>&1; then
        return 0
    fi
    if ((APT_UPDATED == 0)); then
        APT_UPDATED=1
        log "apt-get install failed; running apt-get update once and retrying"
        printf '\n=== %s apt-get update\n' "$(date -Is)" >>"$alog"
        apt-get update -q -o DPkg::Lock::Timeout=600 </dev/null >>"$alog" 2>&1 ||
            die "apt-get update failed" "$alog"
        printf '\n=== %s apt-get install %s (retry)\n' "$(date -Is)" "$*" >>"$alog"
        if apt-get install "${opts[@]}" "$@" </dev/null >>"$alog" 2>&1; then
            return 0
        fi
    fi
    return 1
}

# chromium is not a service: the report test loads the demo's HTML page in it, headless.
RUNTIME_PKGS=("postgresql-$PG_MAJOR" "postgresql-client-$PG_MAJOR" rabbitmq-server chromium)

build_dep_specs() { # build dependencies of TimescaleDB, headers pinned to the installed server
    printf '%s\n' cmake make gcc libc6-dev dpkg-dev xz-utils "postgresql-server-dev-$PG_MAJOR=$1"
}

ensure_packages() { # $1 = 1 if the PostgreSQL side is needed (not already running)
    local need_pg=$1 pgver
    local -a want=(rabbitmq-server chromium) missing=() extra=() deps=()
    if ((need_pg)); then
        want=("${RUNTIME_PKGS[@]}")
        pgver=$(pkg_version "postgresql-$PG_MAJOR")
        # Known already that TimescaleDB must be built: fetch its build deps in the same apt run.
        if [[ -n $pgver ]] && ! tsdb_installed "$pgver" && [[ ! -f $(tsdb_tarball "$pgver") ]]; then
            mapfile -t deps < <(build_dep_specs "$pgver")
            mapfile -t extra < <(missing_pkgs "${deps[@]}")
        fi
    fi
    mapfile -t missing < <(missing_pkgs "${want[@]}")
    ((${#missing[@]} + ${#extra[@]})) || return 0
    if apt_install "${missing[@]}" "${extra[@]}"; then
        return 0
    fi
    if ((${#extra[@]})) && ((${#missing[@]} == 0)); then
        return 0 # only the build deps failed; ensure_timescaledb retries them with its fallback
    fi
    if ((${#extra[@]})) && apt_install "${missing[@]}"; then
        return 0
    fi
    die "could not install: ${missing[*]}" "$LOG_DIR/apt.log"
}

# ---------------------------------------------------------------------------------------------------
# TimescaleDB: installed? cached? else build from the Debian source package

tsdb_tarball() { printf '%s/timescaledb-pg%s.tar.gz' "$SERVICES_CACHE" "$1"; }

tsdb_installed() { # PGVER: the extension's .so and control file are there and built for this server
    local ctl=$PG_EXTDIR/timescaledb.control v
    [[ -f $ctl && -f $PG_LIBDIR/timescaledb.so && -f $TSDB_STAMP ]] || return 1
    v=$(sed -n "s/^default_version *= *'\([^']*\)'.*/\1/p" "$ctl")
    [[ -n $v && -f $PG_LIBDIR/timescaledb-$v.so ]] || return 1
    [[ $(read_first_line "$TSDB_STAMP") == "postgresql-$PG_MAJOR=$1" ]]
}

tsdb_restore() { # PGVER: unpack the cached build into /
    local tb
    tb=$(tsdb_tarball "$1")
    tar -xzf "$tb" -C / --no-overwrite-dir --no-same-owner || die "could not unpack $tb"
    printf 'postgresql-%s=%s\n' "$PG_MAJOR" "$1" >"$TSDB_STAMP"
    tsdb_installed "$1" || die "$tb did not install a usable TimescaleDB"
}

install_build_deps() { # PGVER -> sets PGVER_BUILD (may differ if the server had to be upgraded)
    local pgver=$1 dev
    local -a missing=() deps=()
    mapfile -t deps < <(build_dep_specs "$pgver")
    mapfile -t missing < <(missing_pkgs "${deps[@]}")
    PGVER_BUILD=$pgver
    if ((${#missing[@]})) && ! apt_install "${missing[@]}"; then
        log "postgresql-server-dev-$PG_MAJOR=$pgver is not installable (gone from the archive?);" \
            "upgrading postgresql-$PG_MAJOR and its headers together"
        unset 'deps[-1]'
        apt_install "${deps[@]}" "postgresql-$PG_MAJOR" "postgresql-client-$PG_MAJOR" \
            "postgresql-server-dev-$PG_MAJOR" ||
            die "could not install the TimescaleDB build dependencies" "$LOG_DIR/apt.log"
        PGVER_BUILD=$(pkg_version "postgresql-$PG_MAJOR")
    fi
    dev=$(pkg_version "postgresql-server-dev-$PG_MAJOR")
    [[ $dev == "$PGVER_BUILD" ]] ||
        die "postgresql-server-dev-$PG_MAJOR is $dev but the server is $PGVER_BUILD"
}

fetch_tsdb_source() { # DEST: download the Debian source package with a private apt state
    local dest=$1 a=$SERVICES_CACHE/apt-$TSDB_SRC_SUITE-src blog=$2
    mkdir -p "$a/lists/partial" "$a/archives/partial" "$a/sources.list.d"
    printf 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
        "$TSDB_SRC_MIRROR" "$TSDB_SRC_SUITE" >"$a/sources.list"
    local -a o=(-q -o "Dir::Etc::SourceList=$a/sources.list" -o "Dir::Etc::SourceParts=$a/sources.list.d"
        -o "Dir::State::Lists=$a/lists" -o "Dir::Cache=$a" -o "Dir::Cache::Archives=$a/archives"
        -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=" -o "Acquire::Languages=none")
    log "fetching the timescaledb source package from $TSDB_SRC_SUITE (private apt state in $a)"
    apt-get "${o[@]}" update </dev/null >>"$blog" 2>&1 ||
        die "apt-get update of the $TSDB_SRC_SUITE deb-src list failed" "$blog"
    (cd "$dest" && apt-get "${o[@]}" source --download-only timescaledb) </dev/null >>"$blog" 2>&1 ||
        die "apt-get source timescaledb failed (set TSDB_SRC_DIR to a folder with the source files)" "$blog"
}

build_tsdb() { # PGVER: build, cache as a tarball, install
    local pgver=$1 work=$SERVICES_CACHE/build blog=$LOG_DIR/timescaledb-build.log tb tmp
    local -a dsc=()
    tb=$(tsdb_tarball "$pgver")
    : >"$blog"
    rm -rf "$work"
    mkdir -p "$work/pkg"
    chown _apt "$work/pkg" 2>/dev/null || true # lets apt download sandboxed (as _apt)
    if [[ -n ${TSDB_SRC_DIR:-} ]]; then
        log "using the timescaledb source package in $TSDB_SRC_DIR"
        cp -- "$TSDB_SRC_DIR"/timescaledb_* "$work/pkg/" || die "no timescaledb_* files in $TSDB_SRC_DIR"
    else
        fetch_tsdb_source "$work/pkg" "$blog"
    fi
    dsc=("$work"/pkg/timescaledb_*.dsc)
    [[ -f ${dsc[0]} ]] || die "no timescaledb .dsc found" "$blog"
    log "building TimescaleDB from ${dsc[0]##*/} against postgresql-$PG_MAJOR $pgver (log: $blog)"
    (
        export HOME=$work # keep tools from writing to the real $HOME
        cd "$work"
        dpkg-source -x "${dsc[0]}" src
        cmake -S src -B build -DPG_CONFIG="$PG_BIN/pg_config" \
            -DAPACHE_ONLY=ON -DUSE_TELEMETRY=OFF -DSEND_TELEMETRY_DEFAULT=OFF \
            -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF
        make -C build -j"$(nproc)"
        make -C build install DESTDIR="$work/stage"
    ) </dev/null >>"$blog" 2>&1 || die "the TimescaleDB build failed" "$blog"
    tmp=$tb.tmp.$$
    # Files and symlinks only: directory entries would reset the mtime of /, /usr, ... on unpacking.
    { (cd "$work/stage" && find . ! -type d -print0 | tar --null --no-recursion -T - -czf "$tmp") &&
        mv -f -- "$tmp" "$tb"; } || die "could not write $tb"
    rm -rf "$work"
    log "cached the build as $tb"
    tsdb_restore "$pgver"
}

ensure_timescaledb() {
    local pgver
    pgver=$(pkg_version "postgresql-$PG_MAJOR")
    [[ -n $pgver ]] || die "postgresql-$PG_MAJOR is not installed"
    tsdb_installed "$pgver" && return 0
    mkdir -p "$SERVICES_CACHE"
    exec 8>"$SERVICES_CACHE/.build.lock"
    if ! flock -n 8; then
        log "another run is building TimescaleDB; waiting for $SERVICES_CACHE/.build.lock"
        flock -w 1800 8 || die "timed out waiting for $SERVICES_CACHE/.build.lock"
    fi
    if ! tsdb_installed "$pgver"; then
        if [[ -f $(tsdb_tarball "$pgver") ]]; then
            log "restoring TimescaleDB from $(tsdb_tarball "$pgver")"
            tsdb_restore "$pgver"
        else
            install_build_deps "$pgver"
            pgver=$PGVER_BUILD
            if tsdb_installed "$pgver"; then
                :
            elif [[ -f $(tsdb_tarball "$pgver") ]]; then
                tsdb_restore "$pgver"
            else
                build_tsdb "$pgver"
            fi
        fi
    fi
    exec 8>&-
}

# ---------------------------------------------------------------------------------------------------
# PostgreSQL

prepare_pg_dir() {
    set_pg_paths
    if [[ -n $PG_ROOT ]]; then
        [[ -d $PG_ROOT ]] || die "$DIR/pg points to $PG_ROOT, which does not exist"
    elif as_postgres test -x "$DIR" 2>/dev/null; then
        PG_ROOT=$DIR/pg
        mkdir -m 700 -- "$PG_ROOT"
        chown postgres:postgres -- "$PG_ROOT"
    else
        local h
        h=$(printf '%s' "$DIR" | sha256sum | cut -c1-16)
        mkdir -p -- "$SHARED_PG_ROOT"
        chmod 755 -- "$SHARED_PG_ROOT"
        PG_ROOT=$SHARED_PG_ROOT/pg-$h
        if [[ -e $PG_ROOT ]]; then
            # DIR/pg is gone but the cluster is still here: DIR was wiped. Start afresh.
            local p
            p=$(read_first_line "$PG_ROOT/data/postmaster.pid")
            pid_alive "$p" postgres && die "an orphaned cluster for $DIR is running in $PG_ROOT (pid $p)"
            log "removing the orphaned cluster $PG_ROOT"
            rm -rf -- "$PG_ROOT"
        fi
        mkdir -m 700 -- "$PG_ROOT"
        chown postgres:postgres -- "$PG_ROOT"
        ln -s -- "$PG_ROOT" "$DIR/pg"
        log "user postgres cannot reach $DIR; the cluster lives in $PG_ROOT ($DIR/pg links to it)"
    fi
    PGDATA=$PG_ROOT/data
    PG_LOG=$PG_ROOT/postgres.log
}

psql_c() { # database, psql args...
    local db=$1
    shift
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$db" "$@" </dev/null
}

start_pg() {
    local plog=$LOG_DIR/postgres-setup.log
    prepare_pg_dir
    if [[ ! -f $PGDATA/PG_VERSION ]]; then
        log "initdb $PGDATA"
        rm -rf -- "$PGDATA"
        as_postgres "$PG_BIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 -N \
            </dev/null >>"$plog" 2>&1 || die "initdb failed" "$plog"
        printf "\ninclude_if_exists = 'services.conf'\n" >>"$PGDATA/postgresql.conf"
    fi
    cat >"$PGDATA/services.conf" <<EOF
# written by scripts/services.sh on every up
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = ''
shared_preload_libraries = 'timescaledb'
timescaledb.telemetry_level = off
timescaledb.max_background_workers = 0
max_connections = 200
shared_buffers = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    chown postgres:postgres -- "$PGDATA/services.conf"
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    printf '\n=== %s pg_ctl start\n' "$(date -Is)" >>"$plog"
    STARTED_PG=1
    as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PG_LOG" -w -t 60 start \
        </dev/null >>"$plog" 2>&1 9>&- 8>&- || die "PostgreSQL did not start" "$plog" "$PG_LOG"
    if [[ $(psql_c postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'courier'" 2>>"$plog") != 1 ]]; then
        psql_c postgres -c 'CREATE DATABASE courier' >>"$plog" 2>&1 ||
            die "CREATE DATABASE courier failed" "$plog"
    fi
    psql_c courier -c 'CREATE EXTENSION IF NOT EXISTS timescaledb' >>"$plog" 2>&1 ||
        die "CREATE EXTENSION timescaledb failed" "$plog" "$PG_LOG"
}

stop_pg() {
    set_pg_paths
    local p
    p=$(pg_pid)
    [[ -n $p ]] || return 0
    log "stopping PostgreSQL (pid $p)"
    if ! as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w -t 60 stop </dev/null >/dev/null 2>&1 9>&- 8>&-; then
        log "pg_ctl stop failed; sending SIGQUIT to $p"
        kill -QUIT "$p" 2>/dev/null || true
        wait_dead "$p" 30 || kill -KILL "$p" 2>/dev/null || true
    fi
}

# ---------------------------------------------------------------------------------------------------
# RabbitMQ

write_rmq_files() {
    local node=courier-$RMQ_PORT@localhost
    mkdir -p -- "$RMQ_DIR/mnesia" "$RMQ_DIR/log"
    : >"$RMQ_DIR/rabbitmq-env.conf"
    printf 'listeners.tcp.1 = 127.0.0.1:%s\nloopback_users.guest = true\n' "$RMQ_PORT" >"$RMQ_DIR/rabbitmq.conf"
    printf '[rabbitmq_consistent_hash_exchange].\n' >"$RMQ_DIR/enabled_plugins"
    {
        printf '# written by scripts/services.sh; source it before calling %s/*\n' "$RMQ_BIN"
        printf 'export %s=%q\n' \
            HOME "$RMQ_DIR" \
            LC_ALL C.UTF-8 \
            RABBITMQ_CONF_ENV_FILE "$RMQ_DIR/rabbitmq-env.conf" \
            RABBITMQ_CONFIG_FILE "$RMQ_DIR/rabbitmq.conf" \
            RABBITMQ_ADVANCED_CONFIG_FILE "$RMQ_DIR/advanced.config" \
            RABBITMQ_ENABLED_PLUGINS_FILE "$RMQ_DIR/enabled_plugins" \
            RABBITMQ_MNESIA_BASE "$RMQ_DIR/mnesia" \
            RABBITMQ_LOG_BASE "$RMQ_DIR/log" \
            RABBITMQ_PID_FILE "$RMQ_PID_FILE" \
            RABBITMQ_NODENAME "$node" \
            RABBITMQ_NODE_IP_ADDRESS 127.0.0.1 \
            RABBITMQ_NODE_PORT "$RMQ_PORT" \
            RABBITMQ_DIST_PORT "$RMQ_DIST_PORT" \
            RABBITMQ_CTL_DIST_PORT_MIN "$((RMQ_DIST_PORT + 1))" \
            RABBITMQ_CTL_DIST_PORT_MAX "$((RMQ_DIST_PORT + 11))" \
            RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS '-kernel inet_dist_use_interface {127,0,0,1}' \
            ERL_EPMD_ADDRESS 127.0.0.1 \
            ERL_EPMD_PORT "$RMQ_EPMD_PORT" \
            ERL_CRASH_DUMP "$RMQ_DIR/erl_crash.dump"
    } >"$RMQ_DIR/env.sh"
}

start_rmq() {
    [[ -x $RMQ_BIN/rabbitmq-server ]] || die "$RMQ_BIN/rabbitmq-server is missing"
    write_rmq_files
    rm -f -- "$RMQ_PID_FILE"
    log "starting RabbitMQ on 127.0.0.1:$RMQ_PORT (node courier-$RMQ_PORT@localhost)"
    printf '\n=== %s rabbitmq-server\n' "$(date -Is)" >>"$RMQ_STARTUP_LOG"
    STARTED_RMQ=1
    (
        cd "$RMQ_DIR"
        # shellcheck source=/dev/null
        . ./env.sh
        exec setsid "$RMQ_BIN/rabbitmq-server"
    ) </dev/null >>"$RMQ_STARTUP_LOG" 2>&1 9>&- 8>&- &
    RMQ_LAUNCHER=$!
}

wait_rmq() {
    local deadline=$((SECONDS + RMQ_BOOT_TIMEOUT)) node_log=$RMQ_DIR/log/courier-$RMQ_PORT@localhost.log
    until [[ -n $(rmq_pid) ]] && amqp_ready "$RMQ_PORT"; do
        if [[ -n ${RMQ_LAUNCHER:-} ]] && ! pid_alive "$RMQ_LAUNCHER"; then
            die "RabbitMQ exited during boot (see $node_log)" "$RMQ_STARTUP_LOG"
        fi
        ((SECONDS < deadline)) ||
            die "RabbitMQ did not answer on 127.0.0.1:$RMQ_PORT within ${RMQ_BOOT_TIMEOUT}s" \
                "$RMQ_STARTUP_LOG" "$node_log"
        sleep 0.1
    done
    (
        cd "$RMQ_DIR"
        # shellcheck source=/dev/null
        . ./env.sh
        "$RMQ_BIN/rabbitmqctl" -q -n "$RABBITMQ_NODENAME" await_startup --timeout 60
    ) </dev/null >>"$LOG_DIR/rabbitmqctl.log" 2>&1 9>&- 8>&- ||
        die "rabbitmqctl await_startup failed" "$LOG_DIR/rabbitmqctl.log" "$node_log"
}

kill_epmd() { # stop the private epmd this DIR's broker started (it outlives the broker)
    local port p e
    [[ -f $RMQ_DIR/env.sh ]] || return 0
    port=$(sed -n 's/^export ERL_EPMD_PORT=//p' "$RMQ_DIR/env.sh")
    [[ $port =~ ^[0-9]+$ ]] || return 0
    port_open "$port" || return 0
    # Another DIR on the same ports may own this epmd: only an epmd with no node registered is ours
    # to stop (our broker's registration ends when it exits).
    if (
        # shellcheck source=/dev/null
        . "$RMQ_DIR/env.sh"
        cd /
        exec epmd -names
    ) </dev/null 2>/dev/null 9>&- 8>&- | grep -q '^name '; then
        log "leaving epmd on port $port alone: another node is registered with it"
        return 0
    fi
    (
        # shellcheck source=/dev/null
        . "$RMQ_DIR/env.sh"
        cd /
        exec epmd -kill
    ) </dev/null >/dev/null 2>&1 9>&- 8>&- || true
    port_open "$port" || return 0
    sleep 0.2
    port_open "$port" || return 0
    # Fallback: an epmd started with ERL_EPMD_PORT=<our port> in its environment.
    for e in /proc/[0-9]*/environ; do
        p=${e#/proc/}
        p=${p%/environ}
        pid_alive "$p" epmd || continue
        if tr '\0' '\n' <"$e" 2>/dev/null | grep -qx "ERL_EPMD_PORT=$port"; then
            log "killing epmd (pid $p) on port $port"
            kill -TERM "$p" 2>/dev/null || true
        fi
    done
}

stop_rmq() {
    local p
    p=$(rmq_pid)
    if [[ -n $p ]]; then
        log "stopping RabbitMQ (pid $p)"
        kill -TERM "$p" 2>/dev/null || true
        if ! wait_dead "$p" "$RMQ_STOP_TIMEOUT"; then
            log "RabbitMQ still running after ${RMQ_STOP_TIMEOUT}s; SIGKILL"
            kill -KILL "$p" 2>/dev/null || true
            wait_dead "$p" 10 || true
        fi
    fi
    rm -f -- "$RMQ_PID_FILE"
    kill_epmd
}

# ---------------------------------------------------------------------------------------------------
# commands

on_exit() {
    local rc=$?
    if [[ $CMD == up ]] && ((UP_OK == 0 && rc != 0)); then
        if ((STARTED_RMQ)); then
            log "stopping the broker this failed run started"
            stop_rmq || true
        fi
        if ((STARTED_PG)); then
            log "stopping the PostgreSQL this failed run started"
            stop_pg || true
        fi
    fi
    if ((POLICY_RC_ADDED)); then rm -f /usr/sbin/policy-rc.d; fi
    return "$rc"
}

cmd_up() {
    local want_db want_amqp pg rmq v
    for v in PG_PORT RMQ_PORT RMQ_DIST_PORT RMQ_EPMD_PORT; do check_port_var "$v" "${!v}"; done
    ((EUID == 0)) || die "must run as root (installs packages, runs postgres via runuser)"
    want_db=postgres://postgres@127.0.0.1:$PG_PORT/courier
    want_amqp=amqp://guest:guest@127.0.0.1:$RMQ_PORT/%2f
    mkdir -p -- "$DIR"
    take_dir_lock
    mkdir -p -- "$LOG_DIR"

    pg=$(pg_pid)
    rmq=$(rmq_pid)
    if [[ -n $pg || -n $rmq ]] && [[ -f $ENV_FILE ]] &&
        [[ $(env_value DATABASE_URL) != "$want_db" || $(env_value AMQP_URL) != "$want_amqp" ]]; then
        die "services in $DIR are running with other settings ($(env_value DATABASE_URL), $(env_value AMQP_URL)); run down first"
    fi
    if [[ -n $pg && -n $rmq ]] && port_open "$PG_PORT" && amqp_ready "$RMQ_PORT"; then
        printf 'DATABASE_URL=%s\nAMQP_URL=%s\n' "$want_db" "$want_amqp"
        [[ -f $ENV_FILE ]] || printf 'DATABASE_URL=%s\nAMQP_URL=%s\n' "$want_db" "$want_amqp" >"$ENV_FILE"
        UP_OK=1
        log "already running in $DIR ($(elapsed))"
        return 0
    fi

    if [[ -n $pg ]]; then ensure_packages 0; else ensure_packages 1; fi

    # Fail fast if a port belongs to someone else.
    if [[ -z $pg ]] && port_open "$PG_PORT"; then
        die "127.0.0.1:$PG_PORT is already in use by another process (set PG_PORT)"
    fi
    if [[ -z $rmq ]]; then
        for v in RMQ_PORT RMQ_DIST_PORT; do
            if port_open "${!v}"; then
                die "127.0.0.1:${!v} is already in use by another process (set $v)"
            fi
        done
        start_rmq # boots (~5 s) while TimescaleDB and PostgreSQL are prepared
    fi
    if [[ -z $pg ]]; then
        ensure_timescaledb
        start_pg
    fi
    wait_rmq

    printf 'DATABASE_URL=%s\nAMQP_URL=%s\n' "$want_db" "$want_amqp" >"$ENV_FILE.tmp"
    mv -f -- "$ENV_FILE.tmp" "$ENV_FILE"
    cat -- "$ENV_FILE"
    UP_OK=1
    log "up in $(elapsed): PostgreSQL 127.0.0.1:$PG_PORT, RabbitMQ 127.0.0.1:$RMQ_PORT (env in $ENV_FILE)"
}

cmd_down() {
    [[ -d $DIR ]] || return 0
    take_dir_lock
    local was_up=0
    if [[ -n $(rmq_pid) || -n $(pg_pid) ]]; then was_up=1; fi
    stop_rmq
    stop_pg
    rm -f -- "$ENV_FILE"
    if ((was_up)); then log "down ($(elapsed))"; fi
}

# The single-server commands act on a DIR that `up` prepared, with the ports it was set up with.
require_prepared() {
    local want_db=postgres://postgres@127.0.0.1:$PG_PORT/courier
    local want_amqp=amqp://guest:guest@127.0.0.1:$RMQ_PORT/%2f
    [[ -f $ENV_FILE ]] || die "$DIR has no services.env; run: ${0} up $DIR"
    if [[ $(env_value DATABASE_URL) != "$want_db" || $(env_value AMQP_URL) != "$want_amqp" ]]; then
        die "services in $DIR were set up with other ports ($(env_value DATABASE_URL), $(env_value AMQP_URL)); set PG_PORT and RMQ_PORT as for up"
    fi
    take_dir_lock
    mkdir -p -- "$LOG_DIR"
}

cmd_stop_pg() {
    require_prepared
    stop_pg
}

cmd_start_pg() {
    require_prepared
    ((EUID == 0)) || die "must run as root (runs postgres via runuser)"
    if [[ -n $(pg_pid) ]]; then return 0; fi
    port_open "$PG_PORT" && die "127.0.0.1:$PG_PORT is already in use by another process"
    start_pg
    log "PostgreSQL up in $(elapsed)"
}

cmd_stop_rmq() {
    require_prepared
    stop_rmq
}

cmd_start_rmq() {
    require_prepared
    if [[ -n $(rmq_pid) ]] && amqp_ready "$RMQ_PORT"; then return 0; fi
    [[ -z $(rmq_pid) ]] || die "RabbitMQ in $DIR is running but does not answer on $RMQ_PORT"
    port_open "$RMQ_PORT" && die "127.0.0.1:$RMQ_PORT is already in use by another process"
    start_rmq
    wait_rmq
    log "RabbitMQ up in $(elapsed)"
}

cmd_env() {
    local db amqp
    db=$(env_value DATABASE_URL)
    amqp=$(env_value AMQP_URL)
    if [[ -z $db || -z $amqp || -z $(pg_pid) || -z $(rmq_pid) ]]; then
        die "the services in $DIR are not up; run: ${0} up $DIR"
    fi
    printf "export DATABASE_URL='%s'\nexport AMQP_URL='%s'\n" "$db" "$amqp"
}

cmd_status() {
    local p db amqp
    db=$(env_value DATABASE_URL)
    amqp=$(env_value AMQP_URL)
    p=$(pg_pid)
    if [[ -n $p ]]; then
        printf 'postgresql: running (pid %s) %s\n' "$p" "$db"
    else
        printf 'postgresql: stopped\n'
    fi
    p=$(rmq_pid)
    if [[ -n $p ]]; then
        printf 'rabbitmq: running (pid %s) %s\n' "$p" "$amqp"
    else
        printf 'rabbitmq: stopped\n'
    fi
}

main() {
    (($# == 2)) || usage
    CMD=$1
    trap on_exit EXIT
    set_paths "$2"
    case $CMD in
        up) cmd_up ;;
        down) cmd_down ;;
        env) cmd_env ;;
        status) cmd_status ;;
        stop-pg) cmd_stop_pg ;;
        start-pg) cmd_start_pg ;;
        stop-rmq) cmd_stop_rmq ;;
        start-rmq) cmd_start_rmq ;;
        *) usage ;;
    esac
}

main "$@"
