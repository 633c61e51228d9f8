#!/usr/bin/env bash
# Real object stores on 127.0.0.1 for Quiver's tests and benchmarks:
#   S3:    Ceph RADOS Gateway (Debian packages ceph-mon ceph-osd radosgw), one mon + one
#          memstore OSD, auth off, ~1.5 s to start.
#   Azure: Azurite (npm devDependency), in memory, telemetry off.
#
#   scripts/object-stores.sh install   # apt-get the Ceph packages when missing (needs root)
#   scripts/object-stores.sh start [s3|azure]  # start both (or one); prints `export …` lines for the tests
#   scripts/object-stores.sh env       # print the `export …` lines of the running servers again
#   scripts/object-stores.sh stop      # stop what `start` started (only its own pids)
#
#   eval "$(scripts/object-stores.sh start)"; npm test; scripts/object-stores.sh stop
#
# Env: QUIVER_STORES_DIR (state, default /tmp/quiver-stores-$UID), RGW_PORT (7480),
# MON_PORT (6789), AZURITE_PORT (10000).
set -Eeuo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
# shellcheck source=scripts/stop-pids.sh
. "$HERE/stop-pids.sh"
STATE=${QUIVER_STORES_DIR:-/tmp/quiver-stores-$(id -u)}
RGW_PORT=${RGW_PORT:-7480}
MON_PORT=${MON_PORT:-6789}
AZURITE_PORT=${AZURITE_PORT:-10000}
ACCESS_KEY=quiver-test
SECRET_KEY=quiver-test-secret
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:$PATH

log() { echo "object-stores: $*" >&2; }

wait_for() { # wait_for DESCRIPTION TRIES COMMAND…  (polls every 0.1 s)
  local what=$1 tries=$2; shift 2
  for _ in $(seq 1 "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  log "$what did not come up; logs in $STATE"; return 1
}

install() {
  if command -v radosgw >/dev/null && command -v ceph-mon >/dev/null && command -v ceph-osd >/dev/null; then return 0; fi
  if [ "$(id -u)" != 0 ]; then
    log "Ceph is missing: run as root: apt-get update && apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw"
    exit 1
  fi
  log "installing ceph-mon ceph-osd radosgw from Debian packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ceph-mon ceph-osd radosgw >/dev/null
}

start_ceph() {
  local base=$STATE/ceph conf=$STATE/ceph/ceph.conf fsid
  rm -rf "$base"; mkdir -p "$base"/{run,log,mon/ceph-a,osd/ceph-0,rgw}
  fsid=$(cat /proc/sys/kernel/random/uuid)
  cat > "$conf" <<CONF
[global]
fsid = $fsid
mon host = v1:127.0.0.1:$MON_PORT
mon initial members = a
public addr = 127.0.0.1
public network = 127.0.0.0/8
ms bind msgr2 = false
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
run dir = $base/run
admin socket = $base/run/\$name.asok
log file = $base/log/\$name.log
pid file = $base/run/\$name.pid
crash dir = $base/crash
keyring = $base/keyring
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon data avail warn = 1
mon data avail crit = 0
# Each pool create is a paxos round (1 s by default): this makes start-up ~1.5 s.
paxos propose interval = 0.01
paxos min wait = 0.001
mon tick interval = 1
[mon]
mon data = $base/mon/\$cluster-\$id
[osd]
osd data = $base/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = 4294967296
osd op num shards = 1
osd op num threads per shard = 2
[client.rgw.a]
# tcp_nodelay: without it every GET with a small body waits ~40 ms (Nagle against delayed ACK).
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT tcp_nodelay=1
rgw data = $base/rgw
rgw dns name = localhost
rgw enable usage log = false
rgw thread pool size = 64
CONF
  ceph-authtool --create-keyring "$base/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  monmaptool --create --fsid "$fsid" --addv a "[v1:127.0.0.1:$MON_PORT]" "$base/monmap" >/dev/null
  ceph-mon -c "$conf" --mkfs -i a --monmap "$base/monmap" --keyring "$base/keyring"
  ceph-mon -c "$conf" -i a
  local C="ceph -c $conf --connect-timeout 30"
  $C mon stat >/dev/null
  # The seven RGW pools in one CLI session (~0.2 s instead of ~10 s one by one).
  { for p in .rgw.root default.rgw.log default.rgw.control default.rgw.meta \
           default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec; do
      echo "osd pool create $p 8 8"; echo "osd pool application enable $p rgw"; done; } | ceph -c "$conf" >/dev/null 2>&1
  local uuid id
  uuid=$(cat /proc/sys/kernel/random/uuid)
  id=$($C osd new "$uuid")
  ceph-osd -c "$conf" -i "$id" --mkfs --osd-uuid "$uuid" 2>>"$base/log/osd-mkfs.log"
  ceph-osd -c "$conf" -i "$id" 2>>"$base/log/osd.stderr"
  wait_for "ceph osd" 600 bash -c "$C osd stat -f json | grep -q '\"num_up_osds\":1'"
  radosgw -c "$conf" -n client.rgw.a
  wait_for "radosgw on 127.0.0.1:$RGW_PORT" 600 curl -sf -o /dev/null "http://127.0.0.1:$RGW_PORT/"
  radosgw-admin -c "$conf" user create --uid=quiver --display-name=quiver \
    --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null
}

start_azurite() {
  local bin=$ROOT/node_modules/.bin/azurite-blob
  [ -x "$bin" ] || { log "azurite is missing: run npm install (it is a devDependency)"; exit 1; }
  # --disableTelemetry: Azurite phones home by default. --skipApiVersionCheck: @azure/storage-blob
  # sends a newer x-ms-version than Azurite knows.
  "$bin" --blobHost 127.0.0.1 --blobPort "$AZURITE_PORT" --inMemoryPersistence --disableTelemetry \
    --skipApiVersionCheck --silent > "$STATE/azurite.log" 2>&1 &
  echo $! > "$STATE/azurite.pid"
  wait_for "azurite on 127.0.0.1:$AZURITE_PORT" 300 bash -c \
    "kill -0 $(cat "$STATE/azurite.pid") && curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$AZURITE_PORT/devstoreaccount1?comp=list | grep -qv '^000$'"
}

stop() {
  local pids=()
  for f in "$STATE"/ceph/run/*.pid "$STATE"/azurite.pid; do [ -f "$f" ] && pids+=("$(cat "$f")"); done
  # Daemons whose pid file was not written yet still name our unique config path.
  for p in $(pgrep -f "$STATE/ceph/ceph.conf" 2>/dev/null || true); do pids+=("$p"); done
  stop_pids "${pids[@]}"
  [ "${KEEP:-0}" = 1 ] || rm -rf "$STATE"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Ports must be free before a start: a daemon of an earlier run that is still exiting would
# otherwise answer in place of ours (Ceph then fails with "wrong fsid").
wait_ports_free() {
  local ports=()
  [ "$WHICH" = azure ] || ports+=("$MON_PORT" "$RGW_PORT")
  [ "$WHICH" = s3 ] || ports+=("$AZURITE_PORT")
  for port in "${ports[@]}"; do
    for _ in $(seq 1 100); do port_busy "$port" || break; sleep 0.1; done
    if port_busy "$port"; then log "port $port on 127.0.0.1 is taken by another process; set MON_PORT/RGW_PORT/AZURITE_PORT"; exit 1; fi
  done
}

WHICH=${2:-all}
case "$WHICH" in all|s3|azure) ;; *) echo "usage: $0 start [all|s3|azure]" >&2; exit 2 ;; esac
case "${1:-}" in
  install) [ "$WHICH" = azure ] || install ;;
  start)
    stop; wait_ports_free; mkdir -p "$STATE"
    trap 'log "start failed (logs kept in $STATE)"; KEEP=1 stop' ERR
    : > "$STATE/env"
    if [ "$WHICH" != azure ]; then
      start_ceph
      echo "export S3_ENDPOINT=http://127.0.0.1:$RGW_PORT S3_ACCESS_KEY=$ACCESS_KEY S3_SECRET_KEY=$SECRET_KEY S3_REGION=us-east-1" >> "$STATE/env"
    fi
    if [ "$WHICH" != s3 ]; then
      start_azurite
      # The account key is Azurite's public, well-known development key, not a secret.
      echo "export AZURE_STORAGE_CONNECTION_STRING=\"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$AZURITE_PORT/devstoreaccount1;\"" >> "$STATE/env"
    fi
    trap - ERR
    cat "$STATE/env"
    ;;
  env)
    [ -f "$STATE/env" ] || { log "no servers started from $STATE (run: $0 start)"; exit 1; }
    cat "$STATE/env"
    ;;
  stop) stop ;;
  *) echo "usage: $0 install|start|env|stop" >&2; exit 2 ;;
esac
