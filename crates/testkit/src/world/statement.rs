//! The root oracle's statements over a random [`World`]: selects with joins, subqueries,
//! CTEs, compound selects, windows, rowid reads; INSERT, upserts, UPDATE … FROM, DELETE.

use super::{Col, Tab, World};

/// A statement generated for a world, whether its result is ordered on every column, and
/// whether it names another tenant's key.
#[derive(Clone, Debug)]
pub struct Stmt {
    /// The SQL.
    pub sql: String,
    /// Its result is ordered on every column.
    pub ordered: bool,
    /// It writes with a key that is another tenant's: keys are global (a documented gap,
    /// see ARCHITECTURE.md), so on the single-tenant database the key is free and the two
    /// outcomes differ by design. Only isolation is checked.
    pub foreign_key: bool,
}

impl Stmt {
    /// A statement whose result is compared as a multiset.
    fn unordered(sql: String) -> Stmt {
        Stmt {
            sql,
            ordered: false,
            foreign_key: false,
        }
    }

    /// A statement whose result is ordered on every column.
    fn ordered(sql: String) -> Stmt {
        Stmt {
            ordered: true,
            ..Stmt::unordered(sql)
        }
    }
}

fn col_ref(tab: &Tab, alias: &str, pick: u8) -> String {
    let n = tab.cols.len() + 1 + usize::from(tab.parent.is_some());
    match usize::from(pick) % n {
        0 => format!("{alias}.id"),
        i if i <= tab.cols.len() => format!("{alias}.{}", tab.cols[i - 1].name),
        _ => format!("{alias}.ref"),
    }
}

/// Statements over `w`, from the bytes of `picks` (shrinks well: fewer, smaller bytes).
pub fn statement(w: &World, picks: &[u8]) -> Stmt {
    let p = |i: usize| picks.get(i).copied().unwrap_or(0);
    let nt = w.tables.len();
    let t1 = usize::from(p(1)) % nt;
    let t2 = usize::from(p(2)) % nt;
    let (a, b) = (&w.tables[t1], &w.tables[t2]);
    let ca = col_ref(a, "x", p(3));
    let cb = col_ref(b, "y", p(4));
    let lit = i64::from(p(5) % 8) - 1;
    let cond = match p(6) % 8 {
        0 => format!("{ca} > {lit}"),
        // Conditions that may raise an error (a function, `||`): the statement reads its
        // tables through their tenant index.
        6 => format!("abs({ca}) >= {lit}"),
        7 => format!("{ca} || 'z' <> 'n1z'"),
        1 => format!("{ca} IS NOT NULL"),
        2 => format!(
            "x.id IN (SELECT y.id FROM {} AS y WHERE {cb} <> {lit})",
            b.name
        ),
        3 => format!("EXISTS (SELECT 1 FROM {} AS y WHERE y.id = x.id)", b.name),
        4 => format!("{ca} = (SELECT max({cb}) FROM {} AS y)", b.name),
        _ => "1".to_owned(),
    };
    let join = [
        "JOIN",
        "LEFT JOIN",
        "RIGHT JOIN",
        "FULL JOIN",
        "CROSS JOIN",
        ",",
    ][usize::from(p(7)) % 6];
    let on = if join == "CROSS JOIN" || join == "," {
        String::new()
    } else {
        format!(" ON {ca} = {cb}")
    };
    let value = |tab: &Tab, c: &Col, k: u8| -> String {
        let _ = tab;
        if c.text {
            format!("'n{}'", k % 5)
        } else {
            format!("{}", i64::from(k % 7))
        }
    };
    // A rowid read by one of its names (SQLite names a result column reading it after the
    // INTEGER PRIMARY KEY, or "rowid"; a WITHOUT ROWID table has none: an error both ways).
    let rw = ["rowid", "oid", "_rowid_"][usize::from(p(10)) % 3];
    // The value column that writes set.
    let c = &a.cols[usize::from(p(8)) % a.cols.len()];
    match p(0) % 24 {
        22 => Stmt::unordered(format!(
            "SELECT x.{rw}, {rw}, {ca} FROM {} AS x WHERE {cond} AND x.{rw} > {lit}",
            a.name
        )),
        // The rowid read through the shapes where SQLite's lookup passes a source without
        // one (a subquery, the view), or cannot see a sibling.
        23 => Stmt::unordered(match p(8) % 8 {
            0 => format!(
                "SELECT x.id, (SELECT x.{rw} FROM (SELECT 1 AS id) AS x) FROM {} AS x",
                a.name
            ),
            1 => format!(
                "SELECT x.id, (SELECT s.r FROM {} AS x JOIN (SELECT x.{rw} AS r) AS s ON 1 \
                     LIMIT 1) FROM {} AS x",
                b.name, a.name
            ),
            2 => format!(
                "SELECT {rw}, x.id FROM {} AS x, (SELECT 1 AS id) AS d WHERE {cond}",
                a.name
            ),
            3 => format!(
                "SELECT * FROM (SELECT {rw}, id FROM {} WHERE id > {lit}) AS s",
                a.name
            ),
            4 => format!(
                "SELECT x.id, (SELECT {rw} FROM v LIMIT 1) FROM {} AS x",
                a.name
            ),
            5 => format!(
                "DELETE FROM {} WHERE {rw} IN (SELECT y.{rw} FROM {} AS y) RETURNING {rw}, id",
                a.name, b.name
            ),
            // ORDER BY inside a subquery: the inner table's rowid, not the outer one's
            // (which is the same for every row: `y.id` breaks the tie, so LIMIT picks
            // the same row on both sides).
            6 => format!(
                "SELECT x.id, (SELECT y.id FROM {} AS y ORDER BY {rw} DESC, y.id LIMIT 1) \
                     FROM {} AS x",
                b.name, a.name
            ),
            // A result alias named like the key, beside a rowid read from outside.
            _ => format!(
                "SELECT x.id, (SELECT 5 AS id WHERE {rw} > {lit}) FROM {} AS x \
                     ORDER BY {rw}",
                a.name
            ),
        }),
        14 => Stmt::ordered(format!(
            "SELECT * FROM v WHERE id IN (SELECT x.id FROM {} AS x) ORDER BY id",
            a.name
        )),
        15 => Stmt::unordered(format!(
            "SELECT v.val, count(*) FROM v JOIN {} AS x ON x.id = v.id GROUP BY v.val \
                 HAVING count(*) > 0",
            a.name
        )),
        16 => Stmt::unordered(format!(
            "SELECT * FROM {} AS x NATURAL JOIN {} AS y",
            a.name, b.name
        )),
        17 => Stmt::unordered(format!(
            "SELECT x.id, y.id FROM {} AS x JOIN {} AS y USING (id) WHERE {cond}",
            a.name, b.name
        )),
        18 => Stmt::unordered(format!(
            "SELECT x.id, (SELECT count(*) FROM {} AS y WHERE {cb} = {ca}), \
                 rank() OVER (PARTITION BY {ca} ORDER BY x.id) FROM {} AS x",
            b.name, a.name
        )),
        19 => Stmt::unordered(format!(
            "DELETE FROM {} AS x WHERE {cond} RETURNING x.id",
            a.name
        )),
        20 => Stmt::unordered(format!(
            "SELECT x.id FROM {} AS x INTERSECT SELECT y.id FROM {} AS y \
                 UNION ALL SELECT id FROM v",
            a.name, b.name
        )),
        21 => Stmt::unordered(format!(
            "SELECT count(*) FROM (SELECT x.id FROM {} AS x LEFT JOIN \
                 (SELECT y.id AS i FROM {} AS y) AS d ON d.i = x.id WHERE d.i IS NULL)",
            a.name, b.name
        )),
        0 => Stmt::unordered(format!("SELECT * FROM {} AS x WHERE {cond}", a.name)),
        1 => Stmt::ordered(format!(
            "SELECT {ca}, {cb} FROM {} AS x {join} {} AS y{on} ORDER BY 1, 2",
            a.name, b.name
        )),
        2 => Stmt::unordered(format!(
            "SELECT count(*), sum(x.id), max({ca}) FROM {} AS x {join} {} AS y{on} WHERE {cond}",
            a.name, b.name
        )),
        3 => Stmt::ordered(format!(
            "WITH w AS (SELECT {ca} AS v, x.id AS i FROM {} AS x WHERE {cond}) \
                 SELECT v, count(*) FROM w GROUP BY v ORDER BY 1, 2",
            a.name
        )),
        4 => Stmt::ordered(format!(
            "SELECT x.id FROM {} AS x UNION SELECT y.id FROM {} AS y ORDER BY 1 LIMIT 5",
            a.name, b.name
        )),
        5 => Stmt::ordered(format!(
            "SELECT x.id, row_number() OVER (ORDER BY x.id), sum(x.id) OVER () FROM {} AS x \
                 WHERE {cond} ORDER BY 1",
            a.name
        )),
        6 => Stmt::unordered(format!(
            "SELECT d.n, d.m FROM (SELECT count(*) AS n, min({cb}) AS m FROM {} AS y) AS d",
            b.name
        )),
        7 => Stmt::unordered(format!(
            "SELECT x.id FROM {} AS x EXCEPT SELECT y.id FROM {} AS y",
            a.name, b.name
        )),
        8 => Stmt::unordered(format!(
            "INSERT INTO {} ({}) VALUES ({}) RETURNING *",
            a.name,
            c.name,
            value(a, c, p(9))
        )),
        9 => Stmt::unordered(format!(
            "INSERT INTO {0} ({1}) SELECT {1} FROM {0} AS x WHERE {cond}",
            a.name, c.name
        )),
        10 => {
            // An upsert on an id that may be A's, B's or C's.
            let owner = usize::from(p(9)) % 3;
            let id = World::id(owner, usize::from(p(10)) % 3);
            Stmt {
                sql: format!(
                    "INSERT INTO {0} (id, {1}) VALUES ({id}, {2}) \
                     ON CONFLICT (id) DO UPDATE SET {1} = excluded.{1}",
                    a.name,
                    c.name,
                    value(a, c, p(11))
                ),
                ordered: false,
                foreign_key: owner != 2,
            }
        }
        11 => Stmt::unordered(format!(
            "UPDATE {} AS x SET {} = {} WHERE {cond} RETURNING x.id",
            a.name,
            c.name,
            value(a, c, p(9))
        )),
        12 => Stmt::unordered(format!(
            "UPDATE {0} SET {1} = y.id FROM {2} AS y WHERE {0}.id = y.id",
            a.name, c.name, b.name
        )),
        _ => Stmt::unordered(format!(
            "DELETE FROM {} WHERE id IN (SELECT y.id FROM {} AS y WHERE {cb} IS NOT NULL \
                 OR y.id > {})",
            a.name,
            b.name,
            World::id(usize::from(p(9)) % 3, 0)
        )),
    }
}
