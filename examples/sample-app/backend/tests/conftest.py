import os
import uuid

import pymysql
import pytest

import app as backend


@pytest.fixture
def client():
    backend.app.config.update(TESTING=True)
    return backend.app.test_client()


@pytest.fixture(scope="session")
def db():
    """A connection to the real database named by DB_HOST, DB_PORT, DB_USER, DB_PASSWORD, DB_NAME."""
    cfg = backend.db_config()
    try:
        conn = pymysql.connect(autocommit=True, **cfg)
    except pymysql.MySQLError as exc:
        pytest.fail(
            f"cannot reach the test database {cfg['user']}@{cfg['host']}:{cfg['port']}/{cfg['database']} "
            f"(set DB_HOST, DB_PORT, DB_USER, DB_PASSWORD, DB_NAME): {exc}"
        )
    yield conn
    conn.close()


@pytest.fixture
def new_item(db):
    """Inserts a uniquely named row and deletes it afterwards."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    with db.cursor() as cur:
        cur.execute("INSERT INTO items (name) VALUES (%s)", (name,))
        item_id = cur.lastrowid
    yield {"id": item_id, "name": name}
    with db.cursor() as cur:
        cur.execute("DELETE FROM items WHERE id = %s", (item_id,))
