# Sourced by the server scripts: stop_pids PID… sends SIGTERM, waits up to 10 s until every
# process is gone (a zombie, state Z, counts as gone: it holds no port), then SIGKILLs the rest.
stop_pids() {
  [ $# -gt 0 ] || return 0
  kill "$@" 2>/dev/null || true
  for _ in $(seq 1 100); do
    local alive=0 p; for p in "$@"; do ps -o stat= -p "$p" 2>/dev/null | grep -qv Z && alive=1; done
    [ $alive = 0 ] && break; sleep 0.1
  done
  for p in "$@"; do kill -9 "$p" 2>/dev/null || true; done
}
