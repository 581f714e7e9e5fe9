#!/bin/sh
# Runs once, as the container's superuser: the application role must be neither superuser nor
# BYPASSRLS, or PostgreSQL row-level security would not apply to it.
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE ${APP_DB_USER} LOGIN PASSWORD '${APP_DB_PASSWORD}' NOSUPERUSER NOBYPASSRLS NOCREATEROLE;
CREATE DATABASE ${APP_DB_NAME} OWNER ${APP_DB_USER};
SQL
