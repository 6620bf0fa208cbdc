-- Golden rewrites for tenant 'A' over the schema of tests/it/support.rs.
-- Regenerate after a reviewed change: TENANTRY_BLESS=1 cargo test -p tenantry-rewrite --test it golden

-- plain select: the table becomes its tenant's slice, with the legacy columns only
-- sql:
SELECT * FROM customers WHERE id = ?1
-- rewritten:
SELECT * FROM (SELECT "id", "name", "email", "tier", "city" FROM main."customers" WHERE +"tenant_id" = 'A') AS customers WHERE id = ?1

-- alias, letter case and quoting are kept
-- sql:
SELECT C.Name FROM [Customers] AS C WHERE c.city = :city
-- rewritten:
SELECT C.Name FROM [Customers] AS C WHERE +C."tenant_id" = 'A' AND (c.city = :city)

-- main-qualified table
-- sql:
SELECT id FROM main.customers
-- rewritten:
SELECT id FROM main.customers WHERE +customers."tenant_id" = 'A'

-- OR keeps its precedence: the predicate lives inside the derived table
-- sql:
SELECT id FROM orders WHERE status = 'open' OR total > 10
-- rewritten:
SELECT id FROM orders WHERE +orders."tenant_id" = 'A' AND (status = 'open' OR total > 10)

-- comma join: every table scoped
-- sql:
SELECT c.name, o.total FROM customers c, orders o WHERE o.customer_id = c.id
-- rewritten:
SELECT c.name, o.total FROM customers c, orders o WHERE +c."tenant_id" = 'A' AND +o."tenant_id" = 'A' AND (o.customer_id = c.id)

-- LEFT JOIN: the right side is filtered before the join, so unmatched rows keep their NULLs
-- sql:
SELECT c.name, o.id FROM customers c LEFT JOIN orders o ON o.customer_id = c.id
-- rewritten:
SELECT c.name, o.id FROM customers c LEFT JOIN (SELECT "id", "customer_id" FROM main."orders" WHERE +"tenant_id" = 'A') AS o ON o.customer_id = c.id WHERE +c."tenant_id" = 'A'

-- RIGHT and FULL joins
-- sql:
SELECT c.name, o.id FROM orders o RIGHT JOIN customers c ON o.customer_id = c.id FULL JOIN items i ON i.order_id = o.id
-- rewritten:
SELECT c.name, o.id FROM (SELECT "id", "customer_id" FROM main."orders" WHERE +"tenant_id" = 'A') AS o RIGHT JOIN (SELECT "id", "name" FROM main."customers" WHERE +"tenant_id" = 'A') AS c ON o.customer_id = c.id FULL JOIN (SELECT "order_id" FROM main."items" WHERE +"tenant_id" = 'A') AS i ON i.order_id = o.id

-- NATURAL and USING joins: the tenant column is not visible, so it does not join
-- sql:
SELECT * FROM customers NATURAL JOIN customers
-- rewritten:
SELECT * FROM (SELECT "id", "name", "email", "tier", "city" FROM main."customers" WHERE +"tenant_id" = 'A') AS customers NATURAL JOIN (SELECT "id", "name", "email", "tier", "city" FROM main."customers" WHERE +"tenant_id" = 'A') AS customers

-- sql:
SELECT * FROM (SELECT id AS order_id FROM orders) o JOIN items USING (order_id)
-- rewritten:
SELECT * FROM (SELECT id AS order_id FROM orders WHERE +orders."tenant_id" = 'A') o JOIN (SELECT "order_id", "sku", "qty" FROM main."items" WHERE +"tenant_id" = 'A') AS items USING (order_id)

-- self join
-- sql:
SELECT a.name, b.name FROM customers a JOIN customers b ON a.city = b.city AND a.id < b.id
-- rewritten:
SELECT a.name, b.name FROM customers a JOIN customers b ON a.city = b.city AND a.id < b.id WHERE +a."tenant_id" = 'A' AND +b."tenant_id" = 'A'

-- subqueries in WHERE, select list, HAVING, ORDER BY, CASE and function arguments; changed
-- result columns keep their legacy names through an alias
-- sql:
SELECT name, (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)
-- rewritten:
SELECT name, (SELECT count(*) FROM orders o WHERE +o."tenant_id" = 'A' AND (o.customer_id = c.id)) AS "(SELECT count(*) FROM orders o WHERE o.customer_id = c.id)" FROM customers c WHERE +c."tenant_id" = 'A' AND (EXISTS (SELECT 1 FROM orders o WHERE +o."tenant_id" = 'A' AND (o.customer_id = c.id)))

-- sql:
SELECT city, count(*) FROM customers GROUP BY city HAVING count(*) > (SELECT count(*) FROM orders WHERE status = 'paid') ORDER BY (SELECT max(total) FROM orders)
-- rewritten:
SELECT city, count(*) FROM customers WHERE +customers."tenant_id" = 'A' GROUP BY city HAVING count(*) > (SELECT count(*) FROM orders WHERE +orders."tenant_id" = 'A' AND (status = 'paid')) ORDER BY (SELECT max(total) FROM orders WHERE +orders."tenant_id" = 'A')

-- sql:
SELECT CASE WHEN id IN (SELECT customer_id FROM orders) THEN 'buyer' END, coalesce((SELECT max(total) FROM orders), 0) FROM customers
-- rewritten:
SELECT CASE WHEN id IN (SELECT customer_id FROM orders WHERE +orders."tenant_id" = 'A') THEN 'buyer' END AS "CASE WHEN id IN (SELECT customer_id FROM orders) THEN 'buyer' END", coalesce((SELECT max(total) FROM orders WHERE +orders."tenant_id" = 'A'), 0) AS "coalesce((SELECT max(total) FROM orders), 0)" FROM customers WHERE +customers."tenant_id" = 'A'

-- SELECT without FROM around an EXISTS
-- sql:
SELECT EXISTS (SELECT 1 FROM orders WHERE total > 50)
-- rewritten:
SELECT EXISTS (SELECT 1 FROM orders WHERE +orders."tenant_id" = 'A' AND (total > 50)) AS "EXISTS (SELECT 1 FROM orders WHERE total > 50)"

-- CTE: the CTE gets no predicate, the table inside it does
-- sql:
WITH big AS (SELECT * FROM orders WHERE total > 6) SELECT count(*) FROM big
-- rewritten:
WITH big AS (SELECT * FROM (SELECT "id", "customer_id", "total", "status", "placed" FROM main."orders" WHERE +"tenant_id" = 'A') AS orders WHERE total > 6) SELECT count(*) FROM big

-- a CTE named like a table shadows it; main.orders inside is the real table
-- sql:
WITH orders AS (SELECT * FROM main.orders WHERE status = 'open') SELECT * FROM orders
-- rewritten:
WITH orders AS (SELECT * FROM (SELECT "id", "customer_id", "total", "status", "placed" FROM main."orders" WHERE +"tenant_id" = 'A') AS orders WHERE status = 'open') SELECT * FROM orders

-- recursive CTE: only the real table in the recursive member is scoped
-- sql:
WITH RECURSIVE chain(id, depth) AS (SELECT id, 0 FROM customers WHERE name = 'Alice' UNION ALL SELECT o.id, depth + 1 FROM orders o JOIN chain ON o.customer_id = chain.id WHERE depth < 3) SELECT * FROM chain
-- rewritten:
WITH RECURSIVE chain(id, depth) AS (SELECT id, 0 FROM customers WHERE +customers."tenant_id" = 'A' AND (name = 'Alice') UNION ALL SELECT o.id, depth + 1 FROM orders o JOIN chain ON o.customer_id = chain.id WHERE +o."tenant_id" = 'A' AND (depth < 3)) SELECT * FROM chain

-- compound select with ORDER BY and LIMIT
-- sql:
SELECT name AS n FROM customers UNION SELECT sku FROM items ORDER BY n LIMIT 4
-- rewritten:
SELECT name AS n FROM customers WHERE +customers."tenant_id" = 'A' UNION SELECT sku FROM items WHERE +items."tenant_id" = 'A' ORDER BY n LIMIT 4

-- window function
-- sql:
SELECT id, sum(total) OVER (PARTITION BY status ORDER BY id) FROM orders
-- rewritten:
SELECT id, sum(total) OVER (PARTITION BY status ORDER BY id) FROM orders WHERE +orders."tenant_id" = 'A'

-- table-valued functions and global tables pass unchanged
-- sql:
SELECT j.value, settings.value FROM json_each(?1) AS j JOIN settings ON settings.key = j.value
-- rewritten:
SELECT j.value, settings.value FROM json_each(?1) AS j JOIN settings ON settings.key = j.value

-- result column names and hex literals are the caller's text
-- sql:
SELECT count( * ), 0x1F FROM orders
-- rewritten:
SELECT count( * ), 0x1F FROM orders WHERE +orders."tenant_id" = 'A'

-- rowid read through the scope: exposed by the derived table, named as before
-- sql:
SELECT rowid, name FROM customers WHERE rowid = ?
-- rewritten:
SELECT "customers"."id", name FROM (SELECT "id", "name" FROM main."customers" WHERE +"tenant_id" = 'A') AS customers WHERE "customers"."id" = ?

-- INSERT without a column list: the schema gives the list, the tenant goes last
-- sql:
INSERT INTO customers VALUES (200, 'Yan', 'yan@a.test', 'gold', 'Reno')
-- rewritten:
INSERT INTO customers ("id", "name", "email", "tier", "city", "tenant_id") VALUES (200, 'Yan', 'yan@a.test', 'gold', 'Reno', 'A')

-- multi-row VALUES with a subquery
-- sql:
INSERT INTO orders (customer_id, total) VALUES (?, ?), (?, (SELECT max(total) FROM orders))
-- rewritten:
INSERT INTO orders (customer_id, total, "tenant_id") VALUES (?, ?, 'A'), (?, (SELECT max(total) FROM orders WHERE +orders."tenant_id" = 'A'), 'A')

-- DEFAULT VALUES
-- sql:
INSERT INTO orders DEFAULT VALUES
-- rewritten:
INSERT INTO orders ("tenant_id") VALUES ('A')

-- INSERT ... SELECT: the source is scoped and each row gains the tenant
-- sql:
INSERT INTO items (order_id, sku, qty) SELECT id, 'NEW', 1 FROM orders WHERE status = 'open'
-- rewritten:
INSERT INTO items (order_id, sku, qty, "tenant_id") SELECT id, 'NEW', 1, 'A' FROM orders WHERE +orders."tenant_id" = 'A' AND (status = 'open')

-- a generated column is not inserted
-- sql:
INSERT INTO codes VALUES ('a-z', 'zulu')
-- rewritten:
INSERT INTO codes ("code", "label", "tenant_id") VALUES ('a-z', 'zulu', 'A')

-- explicit tenant column with the current tenant: accepted unchanged
-- sql:
INSERT INTO customers (name, tenant_id) VALUES ('Own', 'A')
-- rewritten:
INSERT INTO customers (name, tenant_id) VALUES ('Own', 'A')

-- explicit tenant column with another tenant: refused
-- sql:
INSERT INTO customers (name, tenant_id) VALUES ('x', 'B')
-- refused: statement 1 (INSERT INTO customers (name, tenant_id) VALUES ('x', 'B')) refused: INSERT into "customers" gives the tenant column the value "B", which is not the current tenant

-- upsert: DO UPDATE cannot touch another tenant's row
-- sql:
INSERT INTO customers (id, name) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET name = excluded.name
-- rewritten:
INSERT INTO customers (id, name, "tenant_id") VALUES (?1, ?2, 'A') ON CONFLICT (id) DO UPDATE SET name = excluded.name WHERE +customers."tenant_id" = 'A'

-- sql:
INSERT INTO customers (id, name) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET name = excluded.name WHERE excluded.name <> '' OR 1 RETURNING *
-- rewritten:
INSERT INTO customers (id, name, "tenant_id") VALUES (1, 'x', 'A') ON CONFLICT (id) DO UPDATE SET name = excluded.name WHERE +customers."tenant_id" = 'A' AND (excluded.name <> '' OR 1) RETURNING "id", "name", "email", "tier", "city"

-- REPLACE deletes the conflicting row, whoever owns it: refused
-- sql:
INSERT OR REPLACE INTO customers (id, name) VALUES (1, 'x')
-- refused: statement 1 (INSERT OR REPLACE INTO customers (id, name) VALUES (1, 'x')) refused: INSERT OR REPLACE on tenant table "customers" could delete another tenant's row that shares a unique key; write INSERT ... ON CONFLICT (key) DO UPDATE SET ... instead, which the rewriter limits to this tenant's rows

-- UPDATE: original WHERE in parentheses, predicate qualified by the target
-- sql:
UPDATE orders SET status = 'closed' WHERE status = 'open' OR total = 0
-- rewritten:
UPDATE orders SET status = 'closed' WHERE +orders."tenant_id" = 'A' AND (status = 'open' OR total = 0)

-- UPDATE without WHERE, before a trailing comment
-- sql:
UPDATE orders SET status = 'x' -- everything
-- rewritten:
UPDATE orders SET status = 'x' WHERE +orders."tenant_id" = 'A' -- everything

-- UPDATE ... FROM with an alias and a subquery in SET
-- sql:
UPDATE orders AS o SET total = (SELECT sum(qty) FROM items WHERE items.order_id = o.id) FROM customers c WHERE c.id = o.customer_id RETURNING *
-- rewritten:
UPDATE orders AS o SET total = (SELECT sum(qty) FROM items WHERE +items."tenant_id" = 'A' AND (items.order_id = o.id)) FROM (SELECT "id" FROM main."customers" WHERE +"tenant_id" = 'A') AS c WHERE +o."tenant_id" = 'A' AND (c.id = o.customer_id) RETURNING "id", "customer_id", "total", "status", "placed"

-- SET tenant_id is refused
-- sql:
UPDATE customers SET tenant_id = 'B' WHERE id = 1
-- refused: statement 1 (UPDATE customers SET tenant_id = 'B' WHERE id = 1) refused: setting the tenant column "tenant_id" of "customers" would move a row to another tenant; a row keeps its tenant, so drop the assignment (in an upsert, the tenant of the row it inserts is checked already)

-- DELETE with a subquery and RETURNING
-- sql:
DELETE FROM orders WHERE id IN (SELECT order_id FROM items WHERE sku = ?) RETURNING id
-- rewritten:
DELETE FROM orders WHERE +orders."tenant_id" = 'A' AND (id IN (SELECT order_id FROM items WHERE +items."tenant_id" = 'A' AND (sku = ?))) RETURNING id

-- several statements: each rewritten
-- sql:
BEGIN; DELETE FROM items; PRAGMA foreign_keys = ON; COMMIT
-- rewritten:
BEGIN; DELETE FROM items WHERE +items."tenant_id" = 'A'; PRAGMA foreign_keys = ON; COMMIT

-- several statements: one refused refuses them all
-- sql:
SELECT * FROM customers; DROP TABLE customers
-- refused: statement 2 (DROP TABLE customers) refused: DROP changes the schema; schema changes are administrative work, not a tenant's

-- EXPLAIN QUERY PLAN rewrites its statement
-- sql:
EXPLAIN QUERY PLAN SELECT * FROM orders WHERE customer_id = 101
-- rewritten:
EXPLAIN QUERY PLAN SELECT * FROM (SELECT "id", "customer_id", "total", "status", "placed" FROM main."orders" WHERE +"tenant_id" = 'A') AS orders WHERE customer_id = 101

-- unknown table: refused rather than guessed
-- sql:
SELECT * FROM suppliers
-- refused: statement 1 (SELECT * FROM suppliers) refused: table "suppliers" is not in the schema; refusing rather than guessing whether it holds tenant rows (if it was just created, reload the schema)

