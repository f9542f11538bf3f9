# Throwaway PostgreSQL clusters for tests and benchmarks. Sourced by scripts/test and
# scripts/bench-pg; needs no root and leaves nothing behind.
#
#   pg_find_bin           sets PG_BIN (the newest /usr/lib/postgresql/*/bin, or initdb's
#                         directory on PATH; PG_BIN may be given); returns 1 if there is none
#   pg_start NAME [-c k=v ...]
#                         initdb + pg_ctl start on a temporary directory and a free port on
#                         127.0.0.1; sets PG_URL_<NAME> (postgres://postgres@127.0.0.1:PORT/postgres),
#                         PG_STOP_<NAME> and PG_START_<NAME> (shell commands)
#   pg_cleanup            stops every cluster started and removes its files (call it from an
#                         EXIT trap)
#
# PostgreSQL refuses to run as root: as root, the clusters run as the `postgres` user, or a
# throwaway system user created for the run (and removed by pg_cleanup).

PG_WORK=""
PG_DIRS=()
PG_RUNAS=()
PG_CREATED_USER=""

pg_find_bin() {
  if [ -n "${PG_BIN:-}" ] && [ -x "$PG_BIN/initdb" ]; then return 0; fi
  if command -v initdb >/dev/null 2>&1; then
    PG_BIN="$(dirname "$(readlink -f "$(command -v initdb)")")"
    return 0
  fi
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
    PG_BIN="$d"
    return 0
  fi
  return 1
}

pg_prepare() {
  [ -n "$PG_WORK" ] && return 0
  PG_WORK="$(mktemp -d /tmp/tracemark-pg.XXXXXX)"
  chmod 755 "$PG_WORK"
  if [ "$(id -u)" = 0 ]; then
    local user=postgres
    if ! id "$user" >/dev/null 2>&1; then
      user="tmpg$$"
      useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
      PG_CREATED_USER="$user"
    fi
    chown "$user" "$PG_WORK"
    PG_RUNAS=(runuser -u "$user" --)
  fi
}

pg_start() {
  local name="$1"; shift
  pg_prepare
  local dir="$PG_WORK/$name"
  "${PG_RUNAS[@]}" mkdir -p "$dir"
  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  local locale=C
  if locale -a 2>/dev/null | grep -qix 'c.utf-\?8'; then locale=C.UTF-8; fi
  "${PG_RUNAS[@]}" "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
    --locale="$locale" >"$PG_WORK/$name.initdb.log" 2>&1 \
    || { cat "$PG_WORK/$name.initdb.log" >&2; return 1; }
  local opts="-p $port -k $dir -c listen_addresses=127.0.0.1 $*"
  local runas=""
  [ ${#PG_RUNAS[@]} -gt 0 ] && runas="${PG_RUNAS[*]} "
  local start="${runas}$PG_BIN/pg_ctl -D $dir/data -l $dir/server.log -w -t 60 -o '$opts' start"
  local stop="${runas}$PG_BIN/pg_ctl -D $dir/data -m immediate -w -t 60 stop"
  # Recorded before starting, so that a start that times out is still stopped on exit.
  PG_DIRS+=("$dir")
  sh -c "$start" >/dev/null || { cat "$dir/server.log" >&2; return 1; }
  printf -v "PG_URL_$name" '%s' "postgres://postgres@127.0.0.1:$port/postgres"
  printf -v "PG_STOP_$name" '%s' "$stop"
  printf -v "PG_START_$name" '%s' "$start"
}

pg_cleanup() {
  local d
  for d in "${PG_DIRS[@]}"; do
    "${PG_RUNAS[@]}" "$PG_BIN/pg_ctl" -D "$d/data" -m immediate -w stop >/dev/null 2>&1 || true
  done
  [ -n "$PG_WORK" ] && rm -rf "$PG_WORK"
  if [ -n "$PG_CREATED_USER" ]; then userdel "$PG_CREATED_USER" >/dev/null 2>&1 || true; fi
  PG_DIRS=()
  PG_WORK=""
}
