#!/usr/bin/env bash
# The whole test suite on a fresh machine: starts the test services (PostgreSQL 15 + TimescaleDB and
# RabbitMQ on loopback, installing them if missing), runs formatting and lint checks, every test and
# doctest against those real servers, then stops the services.
#
#   bash scripts/test.sh                  # everything
#   KEEP_SERVICES=1 bash scripts/test.sh  # leave the services running afterwards (faster re-runs)
#   bash scripts/test.sh -- -E 'test(bus)'  # arguments after -- go to cargo nextest
#
# Services live under $SERVICES_DIR (default .services/ in the checkout; git ignores it).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
services_dir="${SERVICES_DIR:-$PWD/.services}"
mkdir -p "$services_dir"
services_log="$services_dir/up.log"

if [[ "${1:-}" == "--" ]]; then shift; fi

log() { printf 'test: %s\n' "$*" >&2; }

stop_services() {
  if [[ -z "${KEEP_SERVICES:-}" ]]; then
    bash scripts/services.sh down "$services_dir" || log "stopping services failed"
  fi
}

# Bring the services up while the first compile runs: installing and building TimescaleDB is mostly
# waiting on the network and one core, compiling the workspace the other.
started=$SECONDS
log "starting services in $services_dir (log: $services_log)"
bash scripts/services.sh up "$services_dir" >"$services_log" 2>&1 &
services_pid=$!
trap 'wait "$services_pid" 2>/dev/null || true; stop_services' EXIT

log "checking formatting"
cargo fmt --all -- --check
log "linting"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
log "checking the API docs' links and markup"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet
log "building tests"
cargo nextest run --workspace --locked --no-run

if ! wait "$services_pid"; then
  log "services failed to start; the end of $services_log:"
  tail -n 40 "$services_log" >&2
  exit 1
fi
log "services up after $((SECONDS - started)) s"
eval "$(bash scripts/services.sh env "$services_dir")"
export DATABASE_URL AMQP_URL

log "running doctests"
cargo test --workspace --locked --doc
# Last, so the suite's closing line is nextest's summary of every test.
log "running tests"
cargo nextest run --workspace --locked --no-fail-fast "$@"
log "all passed in $((SECONDS - started)) s"
