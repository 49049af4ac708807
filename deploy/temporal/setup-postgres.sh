#!/bin/sh
# One-shot schema job (temporalio/admin-tools): create Temporal's two databases and bring their
# schemas to this admin-tools version. After temporalio/samples-server compose/scripts/
# setup-postgres.sh, with the connection taken from the environment instead of hard-coded.
# Safe to run on every start: existing databases are kept, schemas only move forward.
#   POSTGRES_SEEDS, DB_PORT, POSTGRES_USER, SQL_PASSWORD (read by temporal-sql-tool itself)
set -eu
. "$(dirname "$0")/lib.sh"
: "${POSTGRES_SEEDS:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"
DB_PORT=${DB_PORT:-5432}
SCHEMA_DIR=/etc/temporal/schema/postgresql/v12

retry "PostgreSQL at ${POSTGRES_SEEDS}:${DB_PORT}" nc -z -w 5 "$POSTGRES_SEEDS" "$DB_PORT"

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -u "$POSTGRES_USER" -p "$DB_PORT" "$@"
}

for database in temporal:temporal temporal_visibility:visibility; do
  name=${database%%:*}
  schema=${database#*:}
  echo "Database ${name}: create, set up, update to ${SCHEMA_DIR}/${schema}/versioned"
  sql_tool --db "$name" create
  sql_tool --db "$name" setup-schema -v 0.0
  sql_tool --db "$name" update-schema -d "${SCHEMA_DIR}/${schema}/versioned"
done
echo "PostgreSQL schema setup complete"
