#!/usr/bin/env bash
# The whole suite on SQLite and on PostgreSQL, the two passes side by side (one per core),
# each writing its own log; both logs are printed when both passes have finished.
# Extra arguments go to pytest (e.g. scripts/run-tests.sh -x -k zones).
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
mkdir -p .tmp
pytest=(.venv/bin/pytest -q -p no:cacheprovider "$@")

HAVENS_TEST_DATABASE_URL= "${pytest[@]}" > .tmp/test-sqlite.log 2>&1 &
sqlite_pid=$!
scripts/with-test-postgres.sh "${pytest[@]}" > .tmp/test-postgres.log 2>&1 &
postgres_pid=$!

wait "$sqlite_pid"; sqlite_rc=$?
wait "$postgres_pid"; postgres_rc=$?

echo "=== test suite on SQLite (exit $sqlite_rc) ==="
cat .tmp/test-sqlite.log
echo
cat .tmp/test-postgres.log
echo "(PostgreSQL pass: exit $postgres_rc)"
[ "$sqlite_rc" -eq 0 ] && [ "$postgres_rc" -eq 0 ]
