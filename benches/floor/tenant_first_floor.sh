#!/bin/bash
# The floor of a tenant-first migration done by hand with the sqlite3 shell:
# backup, the bare rebuild script in one transaction, quick_check, foreign_key_check.
# usage: tenant_first_floor.sh legacy.db script.sql  (works on a copy)
# The script: python3 benches/floor/tenant_first_script.py legacy.db migrated.db script.sql,
# where migrated.db is a copy of legacy.db after `tenantry migrate --layout tenant-first`.
set -e
src=$1; script=$2; work=$(mktemp -d)
cp "$src" $work/db
t0=$(date +%s.%N)
sqlite3 $work/db ".backup $work/backup"
t1=$(date +%s.%N)
sqlite3 $work/db < "$script"
t2=$(date +%s.%N)
sqlite3 $work/db "PRAGMA quick_check;" > /dev/null
t3=$(date +%s.%N)
sqlite3 $work/db "PRAGMA foreign_key_check;" > /dev/null
t4=$(date +%s.%N)
python3 -c "
t=[$t0,$t1,$t2,$t3,$t4]
print('floor_ms backup %.0f rebuild %.0f quick_check %.0f fk_check %.0f total %.0f' % tuple([(t[i+1]-t[i])*1e3 for i in range(4)] + [(t[4]-t[0])*1e3]))"
rm -rf $work
