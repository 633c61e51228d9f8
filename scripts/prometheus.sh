#!/usr/bin/env bash
# Two real Prometheus servers (Debian's `prometheus` package) on 127.0.0.1 for the Prometheus
# tests (test/server/prometheus-server.test.ts), each with its own data dir and generated config:
#   writer  scrapes a Quiver server's /metrics at 127.0.0.1:$QUIVER_PROM_TARGET_PORT every 2 s and
#           remote-writes everything it scrapes to that server's /api/v1/write;
#   reader  scrapes nothing, stores nothing, and answers queries by remote read from that
#           server's /api/v1/read (read_recent: its local TSDB never has the samples).
# Both send `Authorization: Bearer $QUIVER_PROM_TOKEN`. The Quiver server is the test's: it listens
# on the port chosen here once the test starts; until then the writer's scrapes fail (up = 0)
# and its remote write retries, as against any receiver that is down.
#
#   scripts/prometheus.sh install   # apt-get prometheus when missing (needs root; else says how)
#   scripts/prometheus.sh start     # start both; prints `export …` lines for the tests
#   scripts/prometheus.sh stop      # stop what `start` started (only its own pids)
#
# Env: QUIVER_PROM_DIR (state, default /tmp/quiver-prometheus-$UID), QUIVER_PROM_TARGET_PORT (the
# Quiver server's port, default 18086), PROM_WRITER_PORT (19090), PROM_READER_PORT (19091),
# QUIVER_PROM_TOKEN (default prom-test-token).
set -Eeuo pipefail
# shellcheck source=scripts/stop-pids.sh
. "$(cd "$(dirname "$0")" && pwd)/stop-pids.sh"
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH
STATE=${QUIVER_PROM_DIR:-/tmp/quiver-prometheus-$(id -u)}
TARGET_PORT=${QUIVER_PROM_TARGET_PORT:-18086}
WRITER_PORT=${PROM_WRITER_PORT:-19090}
READER_PORT=${PROM_READER_PORT:-19091}
TOKEN=${QUIVER_PROM_TOKEN:-prom-test-token}

log() { echo "prometheus: $*" >&2; }

install() {
  command -v prometheus >/dev/null && return 0
  if [ "$(id -u)" != 0 ]; then
    log "prometheus is missing (the Prometheus tests need it): run as root: apt-get update && apt-get install -y --no-install-recommends prometheus"
    exit 1
  fi
  log "installing prometheus from Debian packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
}

config() { # config writer|reader
  local auth="    authorization:
      type: Bearer
      credentials: $TOKEN"
  # Scrapes every 2 s, each allowed 2 s: on a loaded machine (the test suite runs two files at
  # once) a 1 s timeout failed most scrapes of Quiver's /metrics.
  echo "global:
  scrape_interval: 2s
  scrape_timeout: 2s
  evaluation_interval: 2s"
  if [ "$1" = writer ]; then
    echo "scrape_configs:
  - job_name: quiver
    static_configs:
      - targets: ['127.0.0.1:$TARGET_PORT']
$auth
remote_write:
  - url: http://127.0.0.1:$TARGET_PORT/api/v1/write
$auth
    queue_config:
      batch_send_deadline: 500ms
      min_backoff: 50ms
      max_backoff: 500ms
    metadata_config:
      send_interval: 5s"
  else
    echo "remote_read:
  - url: http://127.0.0.1:$TARGET_PORT/api/v1/read
    read_recent: true
$auth"
  fi
}

start_one() { # start_one writer|reader PORT
  local name=$1 port=$2
  mkdir -p "$STATE/$name"
  config "$name" > "$STATE/$name.yml"
  prometheus --config.file="$STATE/$name.yml" --storage.tsdb.path="$STATE/$name/data" \
    --web.listen-address="127.0.0.1:$port" --log.level=warn > "$STATE/$name.log" 2>&1 &
  echo $! > "$STATE/$name.pid"
}

wait_ready() { # wait_ready NAME PORT (polls every 0.1 s, 60 s at most)
  local name=$1 port=$2
  for _ in $(seq 1 600); do
    kill -0 "$(cat "$STATE/$name.pid")" 2>/dev/null || { log "$name exited; its log:"; cat "$STATE/$name.log" >&2; return 1; }
    curl -sf -o /dev/null "http://127.0.0.1:$port/-/ready" && return 0
    sleep 0.1
  done
  log "$name did not become ready on 127.0.0.1:$port; log in $STATE/$name.log"; return 1
}

stop() {
  local pids=()
  for f in "$STATE"/writer.pid "$STATE"/reader.pid; do [ -f "$f" ] && pids+=("$(cat "$f")"); done
  stop_pids "${pids[@]}"
  [ "${KEEP:-0}" = 1 ] || rm -rf "$STATE"
}

case "${1:-}" in
  install) install ;;
  start)
    command -v prometheus >/dev/null || { log "prometheus is not installed: run $0 install (as root) or apt-get install prometheus"; exit 1; }
    stop; mkdir -p "$STATE"
    trap 'log "start failed (logs kept in $STATE)"; KEEP=1 stop' ERR
    start_one writer "$WRITER_PORT"
    start_one reader "$READER_PORT"
    wait_ready writer "$WRITER_PORT"
    wait_ready reader "$READER_PORT"
    trap - ERR
    echo "export PROMETHEUS_WRITER_URL=http://127.0.0.1:$WRITER_PORT PROMETHEUS_READER_URL=http://127.0.0.1:$READER_PORT QUIVER_PROM_TARGET_PORT=$TARGET_PORT QUIVER_PROM_TOKEN=$TOKEN"
    ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
