"""Sample backend: a small JSON API over a MySQL/MariaDB table.

Configuration comes from the environment, read on every request so a changed
value (or a test's monkeypatch) takes effect without a restart:
DB_HOST, DB_PORT (3306), DB_USER, DB_PASSWORD, DB_NAME, DB_CONNECT_TIMEOUT (5 s).
"""
import os

import pymysql
from flask import Flask, jsonify


def db_config():
    return {
        "host": os.environ.get("DB_HOST", "localhost"),
        "port": int(os.environ.get("DB_PORT", "3306")),
        "user": os.environ.get("DB_USER", "sample"),
        "password": os.environ.get("DB_PASSWORD", ""),
        "database": os.environ.get("DB_NAME", "sample"),
        "connect_timeout": int(os.environ.get("DB_CONNECT_TIMEOUT", "5")),
    }


def connect():
    return pymysql.connect(cursorclass=pymysql.cursors.DictCursor, charset="utf8mb4", **db_config())


def fetch_items():
    conn = connect()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT id, name FROM items ORDER BY id")
            return [{"id": row["id"], "name": row["name"]} for row in cur.fetchall()]
    finally:
        conn.close()


app = Flask(__name__)


@app.get("/healthz")
def healthz():
    # liveness/readiness only: never touches the database
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}


@app.get("/api/items")
def list_items():
    try:
        items = fetch_items()
    except pymysql.MySQLError as exc:
        app.logger.warning("database error: %s", exc)
        return jsonify({"error": f"database unavailable: {exc}"}), 503
    return jsonify(items)
