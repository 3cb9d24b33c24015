#!/usr/bin/env bash
# Back up the database with pg_dump and prove the backup restores: restore it into a scratch database,
# compare every table's row count with the source, run `ledger check` and `db current` against the copy,
# then drop the copy. Exits non-zero on any difference.
#
#   tools/backup_restore_check.sh postgresql://user@host:5432/marketplace [backup-file]
#
# Run it after each nightly backup (or at least weekly): a backup nobody restored is a hope, not a backup.
set -euo pipefail
SOURCE="${1:?usage: $0 postgresql://user@host:port/dbname [backup-file]}"
SOURCE="${SOURCE/postgresql+psycopg:/postgresql:}"
DUMP="${2:-marketplace-$(date -u +%Y%m%dT%H%M%SZ).dump}"
BASE="${SOURCE%/*}"
SCRATCH="restore_check_$$"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

echo "== pg_dump -> $DUMP"
pg_dump --format=custom --no-owner --file="$DUMP" "$SOURCE"
ls -l "$DUMP"

echo "== restore into $SCRATCH"
psql -XqAt "$BASE/postgres" -c "CREATE DATABASE $SCRATCH"
trap 'psql -XqAt "$BASE/postgres" -c "DROP DATABASE IF EXISTS $SCRATCH WITH (FORCE)"' EXIT
pg_restore --no-owner --exit-on-error --dbname="$BASE/$SCRATCH" "$DUMP"

count_rows() {
  psql -XqAt "$1" -c "SELECT string_agg(format('%s=%s', table_name,
      (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM public.%I', table_name), false, true, '')))[1]::text), ' ' ORDER BY table_name)
    FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
}
echo "== row counts"
if [ "$(count_rows "$SOURCE")" != "$(count_rows "$BASE/$SCRATCH")" ]; then
  echo "RESTORE CHECK FAILED: row counts differ (was the source written to during the dump?)"
  diff <(count_rows "$SOURCE" | tr ' ' '\n') <(count_rows "$BASE/$SCRATCH" | tr ' ' '\n') || true
  exit 1
fi
echo "identical: $(count_rows "$BASE/$SCRATCH" | wc -w) tables"

echo "== the app on the restored copy"
export DATABASE_URL="$BASE/$SCRATCH"
.venv/bin/flask --app wsgi db current
.venv/bin/flask --app wsgi ledger check
echo "RESTORE CHECK PASSED: $DUMP restores, same rows, ledger balanced"
