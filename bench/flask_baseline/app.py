"""The Flask baseline: what the app Verdict replaces did, measured beside it, never shipped.

A Flask 3 app served by gunicorn's sync workers (one per core), as the original was:
- ``GET /login`` and ``GET /login/callback``: Authlib's Flask client (requests underneath)
  runs the same code flow with PKCE and the same ID-token checks (signature from the
  provider's keys, issuer, audience, expiry, nonce) against ``BASELINE_ISSUER``;
- ``GET /problems``: the problem list rendered from Verdict's own database (``BASELINE_DB``);
- ``POST /submit`` ``{"problem", "source"}``: judges a Python submission inside the request,
  test after test, with ``subprocess`` and rlimits, as a Flask ``evaluator.py`` called from a
  view did (tests read from ``BASELINE_PROBLEMS/<slug>/data``).

Settings come from the environment: ``BASELINE_ISSUER``, ``BASELINE_CLIENT_ID``,
``BASELINE_CLIENT_SECRET``, ``BASELINE_DB`` (Verdict's SQLite file), ``BASELINE_USERS`` (the
baseline's own SQLite file for people), ``BASELINE_PROBLEMS``, ``BASELINE_SECRET``.
"""

from __future__ import annotations

import os
import resource
import sqlite3
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Flask, abort, jsonify, redirect, render_template, request, session, url_for

app = Flask(__name__)
app.secret_key = os.environ["BASELINE_SECRET"]
ISSUER = os.environ["BASELINE_ISSUER"].rstrip("/")
PROBLEMS = Path(os.environ["BASELINE_PROBLEMS"])
TIME_LIMIT_SECONDS = 2
MEMORY_BYTES = 512 * 1024 * 1024

oauth = OAuth(app)
oauth.register(
    name="google",
    client_id=os.environ["BASELINE_CLIENT_ID"],
    client_secret=os.environ["BASELINE_CLIENT_SECRET"],
    server_metadata_url=ISSUER + "/.well-known/openid-configuration",
    client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
)


def users_db() -> sqlite3.Connection:
    """Open the baseline's own people table (created on first use)."""
    connection = sqlite3.connect(os.environ["BASELINE_USERS"], timeout=30)
    connection.execute(
        "CREATE TABLE IF NOT EXISTS people (sub TEXT PRIMARY KEY, email TEXT, name TEXT)"
    )
    return connection


@app.get("/login")
def login() -> Any:
    """Send the browser to the provider."""
    return oauth.google.authorize_redirect(url_for("callback", _external=True))


@app.get("/login/callback")
def callback() -> Any:
    """Exchange the code (blocking this worker while the provider answers), check the token."""
    token = oauth.google.authorize_access_token()
    person = token["userinfo"]
    if not person.get("email_verified"):
        abort(403)
    with users_db() as db:
        db.execute(
            "INSERT INTO people (sub, email, name) VALUES (?, ?, ?) "
            "ON CONFLICT(sub) DO UPDATE SET email = excluded.email, name = excluded.name",
            (person["sub"], person["email"], person.get("name", "")),
        )
    session["user"] = {"sub": person["sub"], "name": person.get("name", "")}
    return redirect("/")


@app.get("/")
def home() -> Any:
    """Say who is signed in."""
    user = session.get("user")
    return f"signed in as {user['name']}" if user else "not signed in"


@app.get("/problems")
def problems() -> Any:
    """List the visible problems of Verdict's database."""
    user = session.get("user")
    if not user:
        return redirect("/login")
    connection = sqlite3.connect(os.environ["BASELINE_DB"], timeout=30)
    connection.row_factory = sqlite3.Row
    try:
        rows = connection.execute(
            "SELECT slug, name, time_limit, memory_mb, test_count FROM problems "
            "WHERE hidden = 0 ORDER BY name"
        ).fetchall()
    finally:
        connection.close()
    return render_template("problems.html", problems=rows, user=user)


def limit_child() -> None:
    """Apply the run's rlimits in the child before it executes the program."""
    resource.setrlimit(resource.RLIMIT_CPU, (TIME_LIMIT_SECONDS, TIME_LIMIT_SECONDS + 1))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def judge(slug: str, source: str) -> dict[str, Any]:
    """Run ``source`` on every test of problem ``slug`` in order; stop at the first failure."""
    tests = sorted((PROBLEMS / slug / "data").glob("*/**/*.in"))
    if not tests:
        abort(404)
    results = []
    verdict = "AC"
    with tempfile.TemporaryDirectory(prefix="baseline-") as workdir:
        program = Path(workdir) / "main.py"
        program.write_text(source)
        for test in tests:
            try:
                run = subprocess.run(
                    ["python3", str(program)],
                    stdin=test.open("rb"),
                    capture_output=True,
                    timeout=TIME_LIMIT_SECONDS * 2,
                    preexec_fn=limit_child,  # what a Flask-era evaluator did
                    cwd=workdir,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                result = "TLE"
            else:
                expected = test.with_suffix(".ans").read_bytes().split()
                if run.returncode != 0:
                    result = "RE"
                else:
                    result = "AC" if run.stdout.split() == expected else "WA"
            results.append({"name": test.stem, "verdict": result})
            if result != "AC":
                verdict = result
                break
    return {"problem": slug, "verdict": verdict, "tests": results}


@app.post("/submit")
def submit() -> Any:
    """Judge a submission before answering, as the original evaluator did."""
    if not session.get("user"):
        abort(401)
    body = request.get_json(force=True)
    return jsonify(judge(str(body["problem"]), str(body["source"])))
