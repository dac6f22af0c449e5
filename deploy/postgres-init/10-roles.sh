#!/bin/sh
# Runs once, when the PostgreSQL volume is first created (the postgres image's init hook).
# Two roles (docs/deployment.md, docs/security.md):
#   allo329_owner - owns the database and its tables; runs the migrations.
#   allo329_app   - what the application connects as: no ownership, so it cannot ALTER, DROP or
#                   TRUNCATE anything; `manage.py grant_runtime_role` gives it its privileges
#                   (SELECT and INSERT only on the history tables) after each migration.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v owner_password="$POSTGRES_OWNER_PASSWORD" -v app_password="$POSTGRES_APP_PASSWORD" <<'SQL'
CREATE ROLE allo329_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE allo329_app LOGIN PASSWORD :'app_password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
ALTER DATABASE allo329 OWNER TO allo329_owner;
ALTER SCHEMA public OWNER TO allo329_owner;
REVOKE ALL ON DATABASE allo329 FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE allo329 TO allo329_app;
GRANT USAGE ON SCHEMA public TO allo329_app;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
