"""Runs against a real MySQL/MariaDB (DB_HOST, DB_PORT, DB_USER, DB_PASSWORD, DB_NAME) loaded with db/schema.sql."""
import app as backend


def test_healthz_needs_no_database(client, monkeypatch):
    monkeypatch.setenv("DB_HOST", "127.0.0.1")
    monkeypatch.setenv("DB_PORT", "9")
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_data(as_text=True) == "ok"


def test_items_lists_the_seed_rows(client, db):
    resp = client.get("/api/items")
    assert resp.status_code == 200
    items = resp.get_json()
    assert isinstance(items, list)
    assert all(set(item) == {"id", "name"} for item in items)
    names = [item["name"] for item in items]
    for seed in ("anchor", "buoy", "capstan"):
        assert seed in names
    ids = [item["id"] for item in items]
    assert ids == sorted(ids)


def test_items_shows_an_inserted_row(client, new_item):
    items = client.get("/api/items").get_json()
    assert new_item in items


def test_items_matches_the_table(client, db, new_item):
    with db.cursor() as cur:
        cur.execute("SELECT id, name FROM items ORDER BY id")
        rows = [{"id": i, "name": n} for i, n in cur.fetchall()]
    assert client.get("/api/items").get_json() == rows


def test_deleted_row_disappears(client, db, new_item):
    with db.cursor() as cur:
        cur.execute("DELETE FROM items WHERE id = %s", (new_item["id"],))
    assert new_item not in client.get("/api/items").get_json()


def test_wrong_password_gives_503_json(client, db, monkeypatch):
    monkeypatch.setenv("DB_PASSWORD", "definitely-not-the-password")
    resp = client.get("/api/items")
    assert resp.status_code == 503
    body = resp.get_json()
    assert "error" in body
    assert "Access denied" in body["error"]


def test_unreachable_database_gives_503_json(client, monkeypatch):
    monkeypatch.setenv("DB_HOST", "127.0.0.1")
    monkeypatch.setenv("DB_PORT", "9")
    monkeypatch.setenv("DB_CONNECT_TIMEOUT", "2")
    resp = client.get("/api/items")
    assert resp.status_code == 503
    assert "error" in resp.get_json()


def test_missing_table_gives_503_json(client, db, monkeypatch):
    # a database the test user cannot use: the query fails after connecting
    monkeypatch.setenv("DB_NAME", "information_schema")
    resp = client.get("/api/items")
    assert resp.status_code == 503
    assert "error" in resp.get_json()


def test_db_config_defaults(monkeypatch):
    for key in ("DB_HOST", "DB_PORT", "DB_USER", "DB_PASSWORD", "DB_NAME", "DB_CONNECT_TIMEOUT"):
        monkeypatch.delenv(key, raising=False)
    cfg = backend.db_config()
    assert cfg["host"] == "localhost"
    assert cfg["port"] == 3306
    assert cfg["connect_timeout"] == 5
