CREATE TABLE tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO tenants VALUES ('caps-automotive', 'Caps Automotive'), ('store-b', 'Store B'),
                           ('store-c', 'Store C');
CREATE TABLE products (id INTEGER PRIMARY KEY, sku TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
                       price REAL NOT NULL);
CREATE TABLE stock (product_id INTEGER PRIMARY KEY REFERENCES products(id), qty INTEGER NOT NULL);
CREATE TABLE currencies (code TEXT PRIMARY KEY, symbol TEXT NOT NULL);
INSERT INTO currencies VALUES ('USD', '$'), ('EUR', 'E');
INSERT INTO products (sku, name, price) VALUES ('OIL-5W30', 'Motor oil', 24.5);
INSERT INTO stock VALUES (1, 12);
