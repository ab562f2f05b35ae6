// The SQLite schema of the embedded CommerceStore; statements are idempotent so migrate() can run at every start.
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;
INSERT OR IGNORE INTO meta (key, value) VALUES ('catalog_version', 1);

CREATE TABLE IF NOT EXISTS categories (
  id TEXT PRIMARY KEY,
  slug TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  position INTEGER NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS products (
  rid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  slug TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  category_id TEXT NOT NULL,
  images TEXT NOT NULL,
  featured INTEGER NOT NULL,
  min_price INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS products_category ON products (category_id, created_at);
CREATE INDEX IF NOT EXISTS products_price ON products (min_price);
CREATE INDEX IF NOT EXISTS products_created ON products (created_at);

CREATE VIRTUAL TABLE IF NOT EXISTS products_fts USING fts5 (
  name, description, content = 'products', content_rowid = 'rid', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS products_fts_insert AFTER INSERT ON products BEGIN
  INSERT INTO products_fts (rowid, name, description) VALUES (new.rid, new.name, new.description);
END;
CREATE TRIGGER IF NOT EXISTS products_fts_delete AFTER DELETE ON products BEGIN
  INSERT INTO products_fts (products_fts, rowid, name, description) VALUES ('delete', old.rid, old.name, old.description);
END;
CREATE TRIGGER IF NOT EXISTS products_fts_update AFTER UPDATE OF name, description ON products BEGIN
  INSERT INTO products_fts (products_fts, rowid, name, description) VALUES ('delete', old.rid, old.name, old.description);
  INSERT INTO products_fts (rowid, name, description) VALUES (new.rid, new.name, new.description);
END;

CREATE TABLE IF NOT EXISTS variants (
  sku TEXT PRIMARY KEY,
  product_id TEXT NOT NULL,
  name TEXT NOT NULL,
  options TEXT NOT NULL,
  price INTEGER NOT NULL CHECK (price >= 0),
  position INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS variants_product ON variants (product_id, position);

CREATE TABLE IF NOT EXISTS inventory (
  sku TEXT PRIMARY KEY,
  available INTEGER NOT NULL CHECK (available >= 0),
  reserved INTEGER NOT NULL CHECK (reserved >= 0)
) STRICT;

CREATE TABLE IF NOT EXISTS stock_holds (
  order_id TEXT NOT NULL,
  sku TEXT NOT NULL,
  qty INTEGER NOT NULL CHECK (qty > 0),
  PRIMARY KEY (order_id, sku)
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS restocks (
  restock_id TEXT NOT NULL,
  sku TEXT NOT NULL,
  qty INTEGER NOT NULL,
  PRIMARY KEY (restock_id, sku)
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE,
  name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS users_role ON users (role, created_at);

CREATE TABLE IF NOT EXISTS failed_logins (user_id TEXT NOT NULL, at INTEGER NOT NULL) STRICT;
CREATE INDEX IF NOT EXISTS failed_logins_user ON failed_logins (user_id, at);

CREATE TABLE IF NOT EXISTS api_tokens (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  created_at TEXT NOT NULL,
  revoked_at TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS api_tokens_user ON api_tokens (user_id, created_at);

CREATE TABLE IF NOT EXISTS carts (
  id TEXT PRIMARY KEY,
  user_id TEXT UNIQUE,
  items TEXT NOT NULL,
  coupon_code TEXT,
  version INTEGER NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS coupons (
  code TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  value INTEGER NOT NULL,
  min_subtotal INTEGER NOT NULL,
  expires_at TEXT,
  usage_limit INTEGER,
  used_count INTEGER NOT NULL,
  active INTEGER NOT NULL,
  description TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS coupon_redemptions (
  code TEXT NOT NULL,
  order_id TEXT NOT NULL,
  PRIMARY KEY (code, order_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS orders (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  status TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  doc TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (user_id, idempotency_key)
) STRICT;
CREATE INDEX IF NOT EXISTS orders_user ON orders (user_id, created_at);
CREATE INDEX IF NOT EXISTS orders_status ON orders (status, created_at);
CREATE INDEX IF NOT EXISTS orders_created ON orders (created_at);

CREATE TABLE IF NOT EXISTS refunds (
  id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL,
  doc TEXT NOT NULL,
  created_at TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS refunds_status ON refunds (status, created_at);

CREATE TABLE IF NOT EXISTS saved_queries (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  query TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (user_id, name)
) STRICT;
`
