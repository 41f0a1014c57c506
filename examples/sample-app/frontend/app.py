"""Sample frontend: an HTML page listing the items the backend serves.

BACKEND_URL (default http://backend:8000) is read on every request; BACKEND_TIMEOUT (5 s)
bounds each call. If the backend fails, the page is a 502 that says so.
"""
import os

import requests
from flask import Flask, render_template

app = Flask(__name__)


def backend_url():
    return os.environ.get("BACKEND_URL", "http://backend:8000").rstrip("/")


class BackendError(Exception):
    pass


def fetch_items():
    url = f"{backend_url()}/api/items"
    timeout = float(os.environ.get("BACKEND_TIMEOUT", "5"))
    try:
        resp = requests.get(url, timeout=timeout)
    except requests.RequestException as exc:
        raise BackendError(f"cannot reach the backend at {url}: {exc}") from exc
    if resp.status_code != 200:
        detail = ""
        try:
            detail = resp.json().get("error", "")
        except ValueError:
            pass
        raise BackendError(f"the backend at {url} answered {resp.status_code}" + (f": {detail}" if detail else ""))
    try:
        items = resp.json()
    except ValueError as exc:
        raise BackendError(f"the backend at {url} did not return JSON") from exc
    if not isinstance(items, list):
        raise BackendError(f"the backend at {url} did not return a list")
    return items


@app.get("/healthz")
def healthz():
    # liveness/readiness only: never calls the backend
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}


@app.get("/")
def index():
    try:
        items = fetch_items()
    except BackendError as exc:
        app.logger.warning("%s", exc)
        return render_template("error.html", message=str(exc)), 502
    return render_template("index.html", items=items)
