# Writes the bare tenant-first rebuild script for a legacy DB, from the schema a tenantry
# tenant-first migration produced (same tables, indexes, triggers, views).
import sqlite3, sys, re
legacy, migrated, out = sys.argv[1], sys.argv[2], sys.argv[3]
L = sqlite3.connect(legacy); M = sqlite3.connect(migrated)
tables = [r[0] for r in M.execute("select name from sqlite_schema where type='table' and sql like '%\"tenant_id\" VARCHAR(255) NOT NULL%' and name not like '\\_tenantry%' escape '\\' order by rowid")]
lines = ["PRAGMA foreign_keys=OFF;", "PRAGMA cache_size=-1048576;", "BEGIN;"]
for (name,) in L.execute("select name from sqlite_schema where type='trigger'"): lines.append(f'DROP TRIGGER "{name}";')
for (name,) in L.execute("select name from sqlite_schema where type='view'"): lines.append(f'DROP VIEW "{name}";')
for t in tables:
    sql = M.execute("select sql from sqlite_schema where type='table' and name=?", (t,)).fetchone()[0]
    new = re.sub(r'^CREATE TABLE "?%s"? ' % re.escape(t), 'CREATE TABLE "_new" ', sql, count=1)
    assert new != sql, t
    cols = [r[1] for r in L.execute(f'select * from pragma_table_xinfo("{t}")') if r[6] == 0]
    c = ", ".join(f'"{x}"' for x in cols)
    lines.append(new + ";")
    lines.append(f'INSERT INTO "_new" ({c}, "tenant_id") SELECT {c}, \'caps-automotive\' FROM "{t}";')
    lines.append(f'DROP TABLE "{t}";')
    lines.append(f'ALTER TABLE "_new" RENAME TO "{t}";')
for (sql,) in M.execute("select sql from sqlite_schema where type='index' and sql is not null order by rowid"): lines.append(sql + ";")
for (sql,) in M.execute("select sql from sqlite_schema where type in ('view','trigger') order by rowid"): lines.append(sql + ";")
lines.append("COMMIT;")
open(out, "w").write("\n".join(lines) + "\n")
