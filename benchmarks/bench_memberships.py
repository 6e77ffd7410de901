"""What several workspaces cost a signed-in person: each request, and a switch (JSON report).

    python benchmarks/bench_memberships.py --memberships 1 20 --requests 400 \\
        --json benchmarks/results/memberships.json

Every console request looks up the person's active memberships (the switcher); this measures a
light signed-in request (the bell's count) for a person with one membership and with many, and
the round trip of a switch (membership checked again, session replaced, two audit records), on
embedded SQLite, in process (no network). Reports p50/p95/max milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from socialdesk.config import Settings
from socialdesk.core.db import make_engine, make_session_factory
from socialdesk.core.workspaces import ensure_workspace
from socialdesk.web.app import create_app
from socialdesk.web.auth import create_user

PASSWORD = "benchmark-password"
EMAIL = "olga@outsource.example"


def _timed(times: int, call: Callable[[], int]) -> dict[str, float]:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        status = call()
        samples.append((time.perf_counter() - started) * 1000)
        if status >= 400:
            raise RuntimeError(f"request failed with {status}")
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 2),
        "max_ms": round(samples[-1], 2),
    }


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if match is None:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)


def run(memberships: int, requests: int, folder: Path) -> dict[str, Any]:
    engine = make_engine(f"sqlite:///{folder / f'm{memberships}.sqlite3'}")
    app = create_app(Settings(default_workspace="brand-0", data_dir=folder), engine=engine)
    factory = make_session_factory(engine)
    ids = []
    with factory() as s:
        for n in range(memberships):
            ws = ensure_workspace(s, f"brand-{n}", f"Brand {n}")
            create_user(s, ws.id, EMAIL, "Olga", PASSWORD, "agent")
            ids.append(ws.id)
        s.commit()
    client = TestClient(app, base_url="https://testserver")
    form = client.get("/login")
    client.post(
        "/login",
        data={"email": EMAIL, "password": PASSWORD, "csrf_token": _csrf(form.text)},
        follow_redirects=False,
    )
    csrf = [_csrf(client.get("/console").text)]
    light = _timed(requests, lambda: client.get("/console/notifications/count").status_code)
    turn = [0]

    def switch() -> int:
        turn[0] += 1
        target = ids[turn[0] % len(ids)]
        status = client.post(
            "/switch-workspace",
            data={"csrf_token": csrf[0], "workspace_id": str(target)},
            follow_redirects=False,
        ).status_code
        csrf[0] = _csrf(client.get("/console/notifications").text)
        return status

    switching = _timed(min(requests, 100), switch) if memberships > 1 else None
    engine.dispose()
    return {"memberships": memberships, "signed_in_request": light, "switch": switching}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memberships", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = [run(m, args.requests, Path(tmp)) for m in args.memberships]
    report = {
        "benchmark": "memberships",
        "database": "sqlite",
        "requests": args.requests,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "results": results,
        "note": "switch includes loading the next page (the new CSRF token)",
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
