#!/usr/bin/env bash
# Runs a command (the test suite) with HAVENS_TEST_DATABASE_URL pointing at PostgreSQL:
#   1. HAVENS_TEST_DATABASE_URL if it is set already;
#   2. else a server answering on 127.0.0.1:5432 (database havens_test, created if missing);
#   3. else a throwaway cluster started from PostgreSQL's binaries in .tmp/pg;
#   4. else it says loudly that the PostgreSQL pass is skipped (and fails under CI).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
echo "=== test suite on PostgreSQL ==="

if [ -z "${HAVENS_TEST_DATABASE_URL:-}" ]; then
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='havens_test'" | grep -q 1 ||
      psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -qc "CREATE DATABASE havens_test"
    export HAVENS_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/havens_test"
  else
    bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$bindir" ] && [ -x "$bindir/initdb" ]; then
      dir="$here/.tmp/pg"; port=55432
      rm -rf "$dir"; mkdir -p "$dir"
      run=(); [ "$(id -u)" = 0 ] && { chown -R postgres "$dir"; run=(runuser -u postgres --); }
      "${run[@]}" "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 >/dev/null
      "${run[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir" start >/dev/null
      trap '"${run[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast stop >/dev/null || true' EXIT
      psql -h 127.0.0.1 -p $port -U postgres -d postgres -qc "CREATE DATABASE havens_test"
      export HAVENS_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/havens_test"
      echo "(throwaway PostgreSQL cluster on port $port)"
    else
      echo "############################################################################"
      echo "## PostgreSQL pass SKIPPED: no server on 127.0.0.1:5432, no binaries found ##"
      echo "############################################################################"
      [ -n "${CI:-}" ] && { echo "CI never skips the PostgreSQL pass." >&2; exit 1; }
      exit 0
    fi
  fi
fi
"$@"
