"""Building tenant-first tables on a second core (issue 12): a design experiment, not a
benchmark of tenantry itself.

Usage: python3 benches/layout/transfer_build.py LEGACY MIGRATED WORKDIR
  LEGACY   a pre-migration file (target/tenantry-bench/pos-typical.db)
  MIGRATED a copy of it after `tenantry migrate --layout tenant-first` (its schema is read)
  WORKDIR  a folder for the copies (about three times LEGACY's size)

The migrator's tenant-first rebuild copies every table and sorts every index on its one
connection. This measures the alternative: build the tables, with their indexes, in a
scratch file on another connection (no journal, no sync: a failed build is thrown away),
then move them into the database inside its transaction with `INSERT INTO t SELECT * FROM
scratch.t`, which SQLite runs as its transfer optimisation when both tables and their
indexes are declared alike: records and index entries are copied as they are, neither
decoded nor sorted. The scratch file must be attached before `BEGIN` (ATTACH is refused
inside a transaction). Prints the build, the move (drop of the old table, transfer) and
the COMMIT, in seconds, and whether the transfer optimisation ran.

Uses Python's sqlite3 (the system SQLite). Its `quick_check` is not run: SQLite 3.40
reports false NOT NULL violations on these tables (see the README).
"""
import os
import sqlite3
import sys
import time

legacy, migrated, work = sys.argv[1], sys.argv[2], sys.argv[3]
db, scratch = os.path.join(work, "work.db"), os.path.join(work, "scratch.db")
for f in (db, scratch):
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(f + suffix):
            os.remove(f + suffix)
with open(legacy, "rb") as src, open(db, "wb") as dst:
    dst.write(src.read())

M = sqlite3.connect(migrated)
tables = [r[0] for r in M.execute(
    "SELECT name FROM sqlite_schema WHERE type = 'table' AND sql LIKE '%\"tenant_id\" VARCHAR(255) NOT NULL%' "
    "AND name NOT LIKE '\\_tenantry%' ESCAPE '\\' ORDER BY rowid")]
ddl = {t: M.execute("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?", (t,)).fetchone()[0]
       for t in tables}
idx = {t: [r[0] for r in M.execute(
    "SELECT sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY rowid", (t,))]
    for t in tables}

# The build, as a second core would do it.
B = sqlite3.connect(scratch, isolation_level=None)
B.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -1048576; "
                "PRAGMA temp_store = MEMORY; PRAGMA foreign_keys = OFF;")
B.execute("ATTACH ? AS src", ("file:" + legacy + "?mode=ro",))
started = time.time()
B.execute("BEGIN")
for t in tables:
    cols = [r[1] for r in B.execute("SELECT * FROM src.pragma_table_xinfo(?)", (t,)) if r[6] == 0]
    c = ", ".join('"%s"' % x for x in cols)
    B.execute(ddl[t])
    B.execute('INSERT INTO main."%s" (%s, "tenant_id") SELECT %s, \'caps-automotive\' FROM src."%s"' % (t, c, c, t))
    for s in idx[t]:
        B.execute(s)
B.execute("COMMIT")
build = time.time() - started
B.close()

# The move, in the database's one transaction.
C = sqlite3.connect(db, isolation_level=None)
C.executescript("PRAGMA cache_size = -1048576; PRAGMA temp_store = MEMORY; PRAGMA foreign_keys = OFF;")
C.execute("ATTACH ? AS scratch", (scratch,))
C.execute("BEGIN IMMEDIATE")
for kind in ("trigger", "view"):
    for (name,) in C.execute("SELECT name FROM sqlite_schema WHERE type = ?", (kind,)).fetchall():
        C.execute('DROP %s "%s"' % (kind.upper(), name))
drop = move = 0.0
transfer = None
for t in tables:
    t0 = time.time()
    C.execute('DROP TABLE main."%s"' % t)
    drop += time.time() - t0
    C.execute(ddl[t])
    for s in idx[t]:
        C.execute(s)
    sql = 'INSERT INTO main."%s" SELECT * FROM scratch."%s"' % (t, t)
    if transfer is None:
        transfer = "RowData" in [r[1] for r in C.execute("EXPLAIN " + sql)]
    t0 = time.time()
    C.execute(sql)
    move += time.time() - t0
t0 = time.time()
C.execute("COMMIT")
commit = time.time() - t0
print("build in scratch %.3f s | move: drop %.3f s, transfer %.3f s | commit %.3f s | transfer optimisation: %s"
      % (build, drop, move, commit, transfer))
