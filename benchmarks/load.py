"""Load test: mixed reads and writes from concurrent clients against `havens serve` on
PostgreSQL, over loopback only, bounded in time. Prints throughput, latency percentiles and
errors; exit status 1 if any request failed.

    .venv/bin/python benchmarks/load.py [--clients 50] [--duration 60] [--workers 2]

It creates a fresh PostgreSQL database (from HAVENS_BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/postgres as the server to use), loads the demo into it,
serves it on a free loopback port, runs the clients, then drops the database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from havens.database import make_engine, normalise_url, session_factory


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    base = make_url(normalise_url(server_url))
    name = f"havens_load_{secrets.token_hex(3)}"
    admin = make_engine(base.set(database="postgres").render_as_string(hide_password=False),
                        isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def prepare(url: str) -> dict[str, Any]:
    """Schema, demo data, and a token for a coordinator; returns what the clients need."""
    from havens.demo import loader
    from havens.demo.orgs import USERS
    from havens.migrations.runner import upgrade
    from havens.orgs import service as org_service
    from havens.orgs.permissions import Principal
    from havens.orgs.schemas import TokenCreate
    from havens.zones.models import Site, Zone

    upgrade("head", url=url)
    engine = make_engine(url)
    with session_factory(engine)() as db:
        loader.load(db, actor=Principal.system())
        coordinator = next(u for u in USERS if u.role.value == "coordinator")
        user = org_service.get_user_by_email(db, email=coordinator.email)
        assert user is not None
        _row, token = org_service.create_token(db, actor=Principal.system(), user_id=user.id,
                                               data=TokenCreate(name="load test"))
        zone_ids = [z.id for z in db.query(Zone).all()]
        site_ids = [s.id for s in db.query(Site).filter(Site.zone_id.is_not(None)).all()]
        db.commit()
    engine.dispose()
    return {"token": token, "zone_ids": zone_ids, "site_ids": site_ids}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def operations(ctx: dict[str, Any]) -> list[tuple[str, float, Any]]:
    """(kind, weight, request factory) — reads dominate, as in the field."""
    zones, sites = ctx["zone_ids"] or [1], ctx["site_ids"] or [1]
    day = iter(range(10_000_000))

    def population() -> dict[str, Any]:
        n = next(day)
        return {"reported_on": f"{2024 + n // 365 % 3}-{n % 12 + 1:02d}-{n % 28 + 1:02d}",
                "girls": random.randint(5, 400), "boys": random.randint(5, 400),
                "women": random.randint(5, 400), "men": random.randint(5, 400),
                "families": random.randint(5, 300), "source": "load test"}

    return [
        ("read", 3, lambda: ("GET", "/api/v1/zones", None)),
        ("read", 2, lambda: ("GET", f"/api/v1/zones/{random.choice(zones)}", None)),
        ("read", 2, lambda: ("GET", f"/api/v1/zones/{random.choice(zones)}/occupancy", None)),
        ("read", 2, lambda: ("GET", f"/api/v1/sites?zone_id={random.choice(zones)}", None)),
        ("read", 1, lambda: ("GET", f"/api/v1/sites/{random.choice(sites)}", None)),
        ("read", 1, lambda: ("GET", "/api/v1/zones.geojson", None)),
        ("write", 2, lambda: ("POST", f"/api/v1/sites/{random.choice(sites)}/population",
                              population())),
    ]


async def client_loop(client: httpx.AsyncClient, ops: list[Any], deadline: float,
                      results: dict[str, list[float]], errors: dict[str, int]) -> None:
    kinds = [op for op in ops]
    weights = [op[1] for op in ops]
    while time.perf_counter() < deadline:
        kind, _w, factory = random.choices(kinds, weights)[0]
        method, path, body = factory()
        started = time.perf_counter()
        try:
            response = await client.request(method, path, json=body)
            ok = response.status_code < 400 or (kind == "write" and response.status_code == 409)
        except httpx.HTTPError:
            ok = False
        elapsed = time.perf_counter() - started
        results[kind].append(elapsed)
        if not ok:
            errors[f"{method} {path.split('?')[0]}"] += 1


async def run_clients(base: str, token: str, ops: list[Any], clients: int,
                      duration: float) -> tuple[dict[str, list[float]], dict[str, int], float]:
    results: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"},
                                 timeout=30, limits=limits) as client:
        started = time.perf_counter()
        deadline = started + duration
        await asyncio.gather(*(client_loop(client, ops, deadline, results, errors)
                               for _ in range(clients)))
        return results, errors, time.perf_counter() - started


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds (max 600)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    duration = min(args.duration, 600.0)
    server = os.environ.get("HAVENS_BENCH_DATABASE_URL",
                            "postgresql://postgres@127.0.0.1:5432/postgres")
    with fresh_database(server) as url:
        print("preparing database with the demo data ...", flush=True)
        ctx = prepare(url)
        port = free_port()
        env = {**os.environ, "HAVENS_DATABASE_URL": url,
               "HAVENS_SECRET_KEY": secrets.token_urlsafe(32)}
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "havens.main:create_app",
                                 "--factory", "--host", "127.0.0.1", "--port", str(port),
                                 "--workers", str(args.workers), "--log-level", "warning"],
                                env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            print(f"{args.clients} clients for {duration:.0f} s against {base} "
                  f"({args.workers} workers, PostgreSQL)", flush=True)
            results, errors, wall = asyncio.run(run_clients(
                base, ctx["token"], operations(ctx), args.clients, duration))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    total = sum(len(v) for v in results.values())
    print(f"requests: {total}  throughput: {total / wall:.0f} req/s  errors: "
          f"{sum(errors.values())}")
    for kind, values in sorted(results.items()):
        print(f"  {kind:5s} n={len(values):6d}  p50={percentile(values, 50):7.1f} ms  "
              f"p95={percentile(values, 95):7.1f} ms  p99={percentile(values, 99):7.1f} ms  "
              f"mean={statistics.fmean(values) * 1000:7.1f} ms")
    for name, count in sorted(errors.items()):
        print(f"  errors {name}: {count}")
    reads_p95 = percentile(results["read"], 95) if results["read"] else float("nan")
    print(f"target: 0 errors and read p95 < 250 ms -> "
          f"{'met' if not errors and reads_p95 < 250 else 'NOT met'}")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
