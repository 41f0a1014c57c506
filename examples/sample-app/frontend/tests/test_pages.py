"""Runs against the real backend at BACKEND_URL (default http://backend:8000), whose database holds db/schema.sql."""
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests

import app as frontend

SEEDS = ("anchor", "buoy", "capstan")


@pytest.fixture(scope="session")
def backend_items():
    """The items straight from the real backend (fails clearly when it is not there)."""
    url = f"{frontend.backend_url()}/api/items"
    try:
        resp = requests.get(url, timeout=5)
    except requests.RequestException as exc:
        pytest.fail(f"the backend is not reachable at {url} (set BACKEND_URL): {exc}")
    assert resp.status_code == 200, f"{url} answered {resp.status_code}: {resp.text[:200]}"
    return resp.json()


def test_healthz(client, monkeypatch):
    monkeypatch.setenv("BACKEND_URL", "http://127.0.0.1:9")
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_data(as_text=True) == "ok"


def test_backend_health(backend_items):
    resp = requests.get(f"{frontend.backend_url()}/healthz", timeout=5)
    assert resp.status_code == 200
    assert resp.text == "ok"


def test_page_lists_the_seed_items(client, backend_items):
    resp = client.get("/")
    assert resp.status_code == 200
    assert resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    for name in SEEDS:
        assert f">{name}</li>" in html


def test_page_shows_the_backend_items_in_order(client, backend_items):
    # only the seed rows are compared: other rows may come and go while the tests run
    seeds = [item for item in backend_items if item["name"] in SEEDS]
    assert len(seeds) == len(SEEDS)
    html = client.get("/").get_data(as_text=True)
    positions = [html.index(f'<li data-id="{item["id"]}">{item["name"]}</li>') for item in seeds]
    assert positions == sorted(positions)


def test_backend_down_gives_502(client, monkeypatch):
    monkeypatch.setenv("BACKEND_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    resp = client.get("/")
    assert resp.status_code == 502
    html = resp.get_data(as_text=True)
    assert "Backend unavailable" in html
    assert "cannot reach the backend at http://127.0.0.1:9/api/items" in html


class _Failing(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"error": "database unavailable: <boom>"}'
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_backend_error_status_gives_502_with_its_message_escaped(client, monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), _Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("BACKEND_URL", f"http://127.0.0.1:{server.server_port}")
        resp = client.get("/")
    finally:
        server.shutdown()
        server.server_close()
    assert resp.status_code == 502
    html = resp.get_data(as_text=True)
    assert "answered 503: database unavailable: &lt;boom&gt;" in html
    assert "<boom>" not in html
