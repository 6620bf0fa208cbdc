"""Where a tenant's wide rows should live (issue 12): a design experiment, not a benchmark of
tenantry itself.

Usage: python3 benches/layout/wide_rows.py [DIR]   (databases built once into DIR,
default target/tenantry-bench/wide-rows; about a minute)

Forms of a sync_log-like table (rows ~420 bytes, indexes on (synced, id) and
(entity_type, entity_id)), one tenant alone (8,000 rows) and ten tenants of 8,000 rows
each, inserted interleaved (row i to tenant i mod 10):
  legacy : rowid table, id INTEGER PRIMARY KEY, no tenant (the database before migration)
  wr     : WITHOUT ROWID, PRIMARY KEY (tenant_id, id) (tenantry's tenant-first today)
  rr     : rowid table whose rowid is slot<<40 | id (rows clustered by tenant, shallow
           integer tree), id a stored column, UNIQUE (tenant_id, id)
Each statement of the tenant t3, written as a tenant connection scopes it; Python's sqlite3
(the system SQLite), cache_size 256 MiB, medians of 21 rounds, every form in turn within a
round (inserts: 200 rows after the tenant's last, rolled back). Prints the times, each tree's depth, the plans, and the ratios to the
legacy table and of ten tenants to one.
"""
import os, random, sqlite3, statistics, sys, time

N = 8000
TENANTS = 10
PAYLOAD = "x" * 300
DIR = sys.argv[1] if len(sys.argv) > 1 else "target/tenantry-bench/wide-rows"
os.makedirs(DIR, exist_ok=True)

def ddl(form):
    if form == "legacy":
        return ["""CREATE TABLE sync_log (id INTEGER PRIMARY KEY, entity_type TEXT NOT NULL,
                   entity_id TEXT NOT NULL, operation TEXT NOT NULL, payload TEXT, device_id TEXT NOT NULL,
                   synced INTEGER NOT NULL DEFAULT 0, synced_at TEXT, created_at TEXT NOT NULL)""",
                "CREATE INDEX idx_synced ON sync_log(synced, id)",
                "CREATE INDEX idx_entity ON sync_log(entity_type, entity_id)"]
    cols = """id INTEGER NOT NULL, entity_type TEXT NOT NULL,
              entity_id TEXT NOT NULL, operation TEXT NOT NULL, payload TEXT, device_id TEXT NOT NULL,
              synced INTEGER NOT NULL DEFAULT 0, synced_at TEXT, created_at TEXT NOT NULL,
              tenant_id VARCHAR(255) NOT NULL"""
    idx = ["CREATE INDEX idx_synced ON sync_log(tenant_id, synced, id)",
           "CREATE INDEX idx_entity ON sync_log(tenant_id, entity_type, entity_id)",
           "CREATE INDEX idx_sync_log_tenant_id ON sync_log(tenant_id)"]
    if form == "wr":
        return [f"CREATE TABLE sync_log ({cols}, PRIMARY KEY (tenant_id, id)) WITHOUT ROWID"] + idx
    if form == "rr":
        return [f"CREATE TABLE sync_log ({cols}, UNIQUE (tenant_id, id))"] + idx
    raise ValueError(form)

def row(i):
    return (f"product", f"p{i % 997}", "update", PAYLOAD, "dev-1", i % 2, None, f"2025-01-{1 + i % 28:02d}T09:00:00Z")

def build(form, tenants):
    path = f"{DIR}/{form}-{tenants}.db"
    if os.path.exists(path):
        return path
    c = sqlite3.connect(path + ".tmp", isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    for s in ddl(form):
        c.execute(s)
    c.execute("BEGIN")
    for i in range(1, N + 1):
        for slot in range(tenants):
            t = "t3" if tenants == 1 else f"t{slot}"
            s = 3 if tenants == 1 else slot
            r = row(i)
            if form == "legacy":
                c.execute("INSERT INTO sync_log (id, entity_type, entity_id, operation, payload, device_id, synced, synced_at, created_at) VALUES (?,?,?,?,?,?,?,?,?)", (i,) + r)
            elif form == "wr":
                c.execute("INSERT INTO sync_log (id, entity_type, entity_id, operation, payload, device_id, synced, synced_at, created_at, tenant_id) VALUES (?,?,?,?,?,?,?,?,?,?)", (i,) + r + (t,))
            else:
                c.execute("INSERT INTO sync_log (rowid, id, entity_type, entity_id, operation, payload, device_id, synced, synced_at, created_at, tenant_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)", ((s << 40) | i, i) + r + (t,))
    c.execute("COMMIT")
    c.execute("ANALYZE")
    c.close()
    os.rename(path + ".tmp", path)
    for ext in ("-wal", "-shm"):
        if os.path.exists(path + ".tmp" + ext):
            os.remove(path + ".tmp" + ext)
    return path

def depth(c):
    return dict(c.execute("""SELECT name, max(length(path) - length(replace(path, '/', ''))) FROM dbstat GROUP BY name"""))

ROUNDS = 21

def statements(form, c):
    """The measured operations on connection c, each a function timed once per round."""
    tf = "" if form == "legacy" else " AND tenant_id = 't3'"
    tw = "" if form == "legacy" else " WHERE tenant_id = 't3'"
    keys = random.Random(1).sample(range(1, N + 1), 1000)
    q_point = f"SELECT payload, created_at FROM sync_log WHERE id = ?{tf}"
    def point():
        for k in keys:
            c.execute(q_point, (k,)).fetchall()
    q_scan = f"SELECT count(*), sum(length(payload)), max(created_at) FROM sync_log{tw}"
    def scan():
        c.execute(q_scan).fetchall()
    q_entity = f"SELECT count(*) FROM sync_log WHERE entity_type = 'product' AND entity_id = 'p5'{tf}"
    def entity():
        for _ in range(100):
            c.execute(q_entity).fetchall()
    q_upd = f"UPDATE sync_log SET synced = 1, synced_at = 'now' WHERE synced = 0 AND id <= 120{tf}"
    def upd():
        c.execute("BEGIN"); c.execute(q_upd); c.execute("ROLLBACK")
    cols = "id, entity_type, entity_id, operation, payload, device_id, synced, synced_at, created_at"
    def ins():
        # 200 new rows after the tenant's last, rolled back (the same rows every round).
        c.execute("BEGIN")
        for i in range(N + 1, N + 201):
            r = row(i)
            if form == "legacy":
                c.execute(f"INSERT INTO sync_log ({cols}) VALUES (?,?,?,?,?,?,?,?,?)", (i,) + r)
            elif form == "wr":
                c.execute(f"INSERT INTO sync_log ({cols}, tenant_id) VALUES (?,?,?,?,?,?,?,?,?,'t3')", (i,) + r)
            else:
                c.execute(f"INSERT INTO sync_log (rowid, {cols}, tenant_id) VALUES (?,?,?,?,?,?,?,?,?,?,'t3')", ((3 << 40) | i, i) + r)
        c.execute("ROLLBACK")
    ops = {"point x1000": point, "entity x100": entity, "scan": scan, "update 60 rows": upd, "insert x200": ins}
    plans = [r[-1] for q in (q_point, q_scan) for r in c.execute("EXPLAIN QUERY PLAN " + q, (1,) if "?" in q else ())]
    return ops, plans

sides = [("legacy", 1), ("wr", 1), ("wr", TENANTS), ("rr", 1), ("rr", TENANTS)]
conns, ops, times = {}, {}, {}
for side in sides:
    c = sqlite3.connect(build(*side), isolation_level=None)
    c.execute("PRAGMA cache_size=-262144")
    conns[side] = c
    ops[side], plans = statements(side[0], c)
    print(f"{side[0]:6} tenants={side[1]:2} depth {depth(c)} plans {plans}")
    times[side] = {k: [] for k in ops[side]}
# Rounds, every side in turn within a round, so the machine's slow spells fall on all.
for _ in range(ROUNDS):
    for side in sides:
        for name, f in ops[side].items():
            t = time.perf_counter()
            f()
            times[side][name].append((time.perf_counter() - t) * 1e3)
med = {side: {k: statistics.median(v) for k, v in times[side].items()} for side in sides}
print(f"\nmedian ms of {ROUNDS} rounds")
for side in sides:
    print(f"{side[0]:6} tenants={side[1]:2}  " + "  ".join(f"{k} {v:7.2f}" for k, v in med[side].items()))
base = med[("legacy", 1)]
print("\nratios to legacy (before migration) | ten tenants ÷ one")
for form in ("wr", "rr"):
    for k in base:
        a, s_ = med[(form, 1)][k], med[(form, TENANTS)][k]
        print(f"{form:3} {k:16} alone/legacy {a / base[k]:5.2f}  shared/legacy {s_ / base[k]:5.2f}  shared/alone {s_ / a:5.2f}")
