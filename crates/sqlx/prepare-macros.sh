#!/usr/bin/env bash
# Regenerates the query data of the tests' compile-time checked macros (`.sqlx/`), which is
# committed so the tests build with no database: builds the tests once against a database
# made from the shop's legacy schema (crates/testkit/src/shop.sql, what the macros are
# checked against) and keeps what sqlx's macros saved. Run it after changing a macro's SQL
# or shop.sql.
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -c "import sqlite3, sys; sqlite3.connect(sys.argv[1]).executescript(open(sys.argv[2]).read())" \
    "$work/shop.db" ../testkit/src/shop.sql
rm -rf .sqlx
mkdir -p .sqlx
touch tests/it/macros.rs
DATABASE_URL="sqlite://$work/shop.db" SQLX_OFFLINE_DIR="$PWD/.sqlx" cargo test --test it --no-run
ls .sqlx
