#!/bin/sh
# One-shot of docker-compose.yml (temporalio/admin-tools): creates the Temporal
# databases and brings their schema to the image's version. The same steps
# scripts/cluster.sh runs with the sql tool it builds. Safe to run again:
# setup-schema is skipped once a schema is there, update-schema is a no-op
# when it is current.
set -eu
tool() {
  SQL_PASSWORD=$POSTGRES_PWD temporal-sql-tool --plugin "$DB" --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"
}
schema=/etc/temporal/schema/postgresql/v12

setup() {
  db=$1 dir=$2
  # create-database fails when the database exists; that is the normal second run.
  tool --db "$db" create-database 2>/dev/null || echo "database $db exists"
  tool --db "$db" setup-schema -v 0.0 2>/dev/null || echo "schema of $db already set up"
  tool --db "$db" update-schema -d "$schema/$dir/versioned"
}

setup "${DBNAME:-temporal}" temporal
setup "${VISIBILITY_DBNAME:-temporal_visibility}" visibility
echo "Temporal schema ready"
