"""Load test: mixed reads and writes from concurrent clients against `havens serve` on
PostgreSQL, over loopback only, bounded in time. Prints throughput, latency percentiles (per kind
and per request type), errors and CPU time; exit status 1 if any request failed.

    .venv/bin/python benchmarks/load.py [--clients 50] [--duration 60] [--workers 2]
                                        [--think 1] [--warmup 5]

It creates a PostgreSQL database (on the server of HAVENS_BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/postgres), migrates it, loads the demo, gives each client
its own API token (a demo user: ``PERSONAS``), starts `havens serve --workers N` on a free
loopback port, runs the clients, stops the server and drops the database. Each client does what
its role does in the field (``operations``), pausing ``--think`` seconds on average between
requests (exponential; 0: flat out, a saturation test).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from havens.database import make_engine, normalise_url, session_factory

#: Role of the clients: (demo user's email, clients).
PERSONAS = (
    ("coordinator@unhcr.demo.havens.org", 7),
    ("coordinator@iom.demo.havens.org", 6),
    ("registrar@unhcr.demo.havens.org", 8),
    ("registrar@sarc.demo.havens.org", 7),
    ("protection@unhcr.demo.havens.org", 5),
    ("services@nrc.demo.havens.org", 8),
    ("liaison@molae.demo.havens.org", 5),
    ("viewer@ffo.demo.havens.org", 4),
)
#: Names field teams search for (Latin and Arabic script).
NAMES = ("ahmad", "mohammad", "ali", "fatima", "khaled", "hasan", "omar", "maryam",
         "محمد", "أحمد", "علي", "فاطمة", "جمال", "خالد")
READ_P95_TARGET_MS = 250.0


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


@dataclass
class Client:
    role: str
    organisation: str
    token: str


@dataclass
class World:
    clients: list[Client]
    zones: list[tuple[int, str]]
    sites: list[int]
    households: dict[str, list[int]]  # present households of each organisation


def prepare(url: str, clients: int) -> World:
    """Schema, demo data, and a token per client; what the clients need to know."""
    from havens.demo import loader
    from havens.migrations.runner import upgrade
    from havens.orgs import service as org_service
    from havens.orgs.models import Organisation
    from havens.orgs.permissions import Principal
    from havens.orgs.schemas import TokenCreate
    from havens.people.models import Household, HouseholdStatus
    from havens.zones.models import Site, Zone

    upgrade("head", url=url)
    engine = make_engine(url)
    people = [email for email, n in PERSONAS for _ in range(n)]
    with session_factory(engine)() as db:
        loader.load(db, actor=Principal.system())
        made = []
        for n in range(clients):
            user = org_service.get_user_by_email(db, email=people[n % len(people)])
            assert user is not None
            _row, token = org_service.create_token(db, actor=Principal.system(), user_id=user.id,
                                                   data=TokenCreate(name=f"load test {n}"))
            org = db.get(Organisation, user.organisation_id)
            made.append(Client(user.role.value, org.acronym if org else "", token))
        zones = [(z.id, z.code) for z in db.scalars(select(Zone).order_by(Zone.code))]
        sites = list(db.scalars(select(Site.id).where(Site.zone_id.is_not(None))))
        households: dict[str, list[int]] = defaultdict(list)
        for household_id, acronym in db.execute(
                select(Household.id, Organisation.acronym)
                .join(Organisation, Organisation.id == Household.organisation_id)
                .where(Household.status == HouseholdStatus.present)):
            households[acronym].append(household_id)
        db.commit()
    engine.dispose()
    return World(made, zones, sites, dict(households))


Request = tuple[str, str, dict[str, Any] | None]
#: (kind, name, weight by role, request factory)
Operation = tuple[str, str, dict[str, float], Callable[[Client], Request]]

_ALL = ("coordinator", "registrar", "protection_officer", "service_provider",
        "government_liaison", "viewer")


def _weights(default: float, **by_role: float) -> dict[str, float]:
    return {role: by_role.get(role, default) for role in _ALL}


def operations(world: World) -> list[Operation]:
    """What each role does, and how often (relative weights within the role)."""
    zone = lambda: random.choice(world.zones)  # noqa: E731
    site = lambda: random.choice(world.sites)  # noqa: E731
    today = dt.date.today()
    month_ago = today - dt.timedelta(days=29)

    def past_day() -> str:
        return (today - dt.timedelta(days=random.randint(0, 3 * 365))).isoformat()

    def population(_c: Client) -> Request:
        return ("POST", f"/api/v1/sites/{site()}/population", {
            "reported_on": past_day(), "girls": random.randint(5, 400),
            "boys": random.randint(5, 400), "women": random.randint(5, 400),
            "men": random.randint(5, 400), "families": random.randint(5, 300),
            "source": "load test"})

    def incident(c: Client) -> Request:
        kind = "gbv" if c.role == "protection_officer" else random.choice(
            ["fire", "crime", "eviction_threat", "other"])
        return ("POST", "/api/v1/incidents", {
            "zone": zone()[1], "occurred_at": f"{past_day()}T10:00:00Z",
            "incident_type": kind, "severity": random.randint(1, 2),
            "narrative": "load test report"})

    def measurement(_c: Client) -> Request:
        return ("POST", "/api/v1/assistance/measurements", {
            "zone": zone()[1], "measured_on": past_day(), "source": "load test",
            "values": {"water_delivered_lpd": float(random.randint(10_000, 90_000)),
                       "learning_spaces": float(random.randint(1, 40))}})

    def own_household(c: Client) -> Request:
        mine = world.households.get(c.organisation) or [1]
        return ("GET", f"/api/v1/households/{random.choice(mine)}", None)

    return [
        ("read", "GET /zones", _weights(3), lambda c: ("GET", "/api/v1/zones", None)),
        ("read", "GET /zones/{id}", _weights(2),
         lambda c: ("GET", f"/api/v1/zones/{zone()[0]}", None)),
        ("read", "GET /zones/{id}/occupancy", _weights(1),
         lambda c: ("GET", f"/api/v1/zones/{zone()[0]}/occupancy", None)),
        ("read", "GET /people/zones/{id}/occupancy", _weights(2),
         lambda c: ("GET", f"/api/v1/people/zones/{zone()[0]}/occupancy", None)),
        ("read", "GET /zones.geojson", _weights(1),
         lambda c: ("GET", "/api/v1/zones.geojson", None)),
        ("read", "GET /sites?zone=&limit=50", _weights(1),
         lambda c: ("GET", f"/api/v1/sites?zone={zone()[1]}&limit=50", None)),
        ("read", "GET /sites/{id}", _weights(1),
         lambda c: ("GET", f"/api/v1/sites/{site()}", None)),
        ("read", "GET /people/flows (30 days)", _weights(0.5, coordinator=1),
         lambda c: ("GET", f"/api/v1/people/flows?start={month_ago}&end={today}"
                           f"&zone_id={zone()[0]}", None)),
        ("read", "GET /incidents?zone=", _weights(1, protection_officer=3),
         lambda c: ("GET", f"/api/v1/incidents?zone={zone()[1]}&limit=50", None)),
        ("read", "GET /zones/{id}/safety", _weights(1),
         lambda c: ("GET", f"/api/v1/zones/{zone()[0]}/safety", None)),
        ("read", "GET /assistance/gaps", _weights(1, service_provider=3),
         lambda c: ("GET", "/api/v1/assistance/gaps", None)),
        ("read", "GET /zones/{id}/indicators", _weights(1, service_provider=2),
         lambda c: ("GET", f"/api/v1/zones/{zone()[0]}/indicators", None)),
        ("read", "GET /zones/{id}/departures", _weights(0.3, government_liaison=1, viewer=1),
         lambda c: ("GET", f"/api/v1/zones/{zone()[0]}/departures", None)),
        ("read", "GET /households?q= (own org)",
         _weights(0, registrar=4, coordinator=1, protection_officer=1),
         lambda c: ("GET", f"/api/v1/households?q={random.choice(NAMES)}&page_size=20", None)),
        ("read", "GET /households/{id} (own org)",
         _weights(0, registrar=2, coordinator=0.5, protection_officer=0.5), own_household),
        ("write", "POST /sites/{id}/population", _weights(0, coordinator=3), population),
        ("write", "POST /incidents",
         _weights(0.3, viewer=0, protection_officer=1, registrar=0.2), incident),
        ("write", "POST /assistance/measurements", _weights(0, service_provider=1.5),
         measurement),
    ]


@dataclass
class Results:
    latencies: dict[tuple[str, str], list[float]] = field(
        default_factory=lambda: defaultdict(list))
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)


async def client_loop(http: httpx.AsyncClient, client: Client, ops: list[Operation],
                      deadline: float, measure_from: float, think: float,
                      results: Results) -> None:
    mine = [op for op in ops if op[2].get(client.role, 0) > 0]
    weights = [op[2][client.role] for op in mine]
    headers = {"Authorization": f"Bearer {client.token}"}
    while time.perf_counter() < deadline:
        kind, name, _w, factory = random.choices(mine, weights)[0]
        method, path, body = factory(client)
        started = time.perf_counter()
        outcome = "ok"
        try:
            response = await http.request(method, path, json=body, headers=headers)
            if response.status_code >= 400:
                outcome = str(response.status_code)
        except httpx.HTTPError as exc:
            outcome = type(exc).__name__
        if started >= measure_from:
            results.latencies[(kind, name)].append(time.perf_counter() - started)
            if outcome != "ok":
                results.errors[(name, outcome)] += 1
        if think:  # never past the end: the window's throughput must not be diluted
            await asyncio.sleep(min(random.expovariate(1 / think),
                                    max(0.0, deadline - time.perf_counter())))


async def run_clients(base: str, world: World, ops: list[Operation], duration: float,
                      warmup: float, think: float, server_pid: int
                      ) -> tuple[Results, float, float, float]:
    """Results, measured wall time, and the server's and this process's CPU seconds over
    the measured time (after the warm-up)."""
    results = Results()
    clients = len(world.clients)
    # Idle connections are dropped before uvicorn's 5 s keep-alive does: a request sent on a
    # connection the server is closing fails (ReadError), a race of the test, not the server.
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients,
                          keepalive_expiry=4.0)
    cpu: dict[str, float] = {}

    async def mark() -> None:
        await asyncio.sleep(warmup)
        cpu["server"], cpu["client"] = cpu_seconds(server_pid), time.process_time()

    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
        measure_from = time.perf_counter() + warmup
        deadline = measure_from + duration
        await asyncio.gather(mark(), *(client_loop(http, c, ops, deadline, measure_from,
                                                   think, results) for c in world.clients))
        wall = time.perf_counter() - measure_from
        return (results, wall, cpu_seconds(server_pid) - cpu["server"],
                time.process_time() - cpu["client"])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (the server's workers)."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    pids = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            pids += [int(p) for p in (task / "children").read_text().split()]
        for p in pids:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    except (OSError, ValueError):
        return float("nan")
    return total


def start_server(url: str, data_dir: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """`havens serve` on a free loopback port, once every worker has started (each imports
    the app: on a busy machine one can be ready many seconds before the other)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {**os.environ, "HAVENS_DATABASE_URL": url, "HAVENS_DATA_DIR": data_dir,
           "HAVENS_SECRET_KEY": secrets.token_urlsafe(32)}
    script = Path(sys.executable).with_name("havens")  # the venv's `havens` command
    command = [str(script) if script.exists() else "havens", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ready = threading.Semaphore(0)

    def drain() -> None:  # uvicorn logs each worker's start on stderr; keep the pipe empty
        assert proc.stderr is not None
        for line in proc.stderr:
            if b"Application startup complete" in line:
                ready.release()

    threading.Thread(target=drain, daemon=True).start()
    for _ in range(workers):
        if not ready.acquire(timeout=120) or proc.poll() is not None:
            proc.kill()
            raise SystemExit("havens serve did not start its workers within 120 s")
    return proc, f"http://127.0.0.1:{port}"


def report(results: Results, wall: float, server_cpu: float, client_cpu: float) -> bool:
    by_kind: dict[str, list[float]] = defaultdict(list)
    for (kind, _name), values in results.latencies.items():
        by_kind[kind] += values
    total, errors = sum(len(v) for v in by_kind.values()), sum(results.errors.values())
    per_request = server_cpu / max(total, 1) * 1000
    print(f"\nrequests: {total}  in {wall:.1f} s  throughput: {total / wall:.1f} req/s  "
          f"errors: {errors}\nCPU: server {server_cpu:.1f} s ({per_request:.1f} ms per request), "
          f"load generator {client_cpu:.1f} s, over {wall:.1f} s wall on {os.cpu_count()} cores")

    def line(kind: str, name: str, values: list[float], end: str) -> None:
        print(f"  {kind:5s} {name:34s} {len(values):6d} {percentile(values, 50):8.1f} "
              f"{percentile(values, 95):8.1f} {percentile(values, 99):8.1f} {end}")

    print(f"\n  {'':5s} {'request':34s} {'n':>6s} {'p50 ms':>8s} {'p95 ms':>8s} "
          f"{'p99 ms':>8s} {'errors':>6s}")
    failed = Counter(op for (op, _outcome), n in results.errors.items() for _ in range(n))
    for (kind, name), values in sorted(results.latencies.items()):
        line(kind, name, values, f"{failed[name]:6d}")
    print()
    for kind, values in sorted(by_kind.items()):
        line(kind.upper(), "all", values, f"  mean {statistics.fmean(values) * 1000:.1f} ms")
    for (name, outcome), count in sorted(results.errors.items()):
        print(f"  error {name}: {outcome} x {count}")
    reads_p95 = percentile(by_kind["read"], 95) if by_kind.get("read") else float("nan")
    met = not errors and reads_p95 < READ_P95_TARGET_MS
    print(f"\ntarget: 0 errors and read p95 < {READ_P95_TARGET_MS:.0f} ms -> "
          f"{'met' if met else 'NOT met'} (errors {errors}, read p95 {reads_p95:.1f} ms)")
    return not errors


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0,
                        help="measured seconds (max 600)")
    parser.add_argument("--warmup", type=float, default=5.0,
                        help="seconds of load before measuring (not counted)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean pause of a client between requests, seconds (0: flat out)")
    args = parser.parse_args()
    duration, warmup = min(args.duration, 600.0), min(max(args.warmup, 0.0), 60.0)
    server = os.environ.get("HAVENS_BENCH_DATABASE_URL",
                            "postgresql://postgres@127.0.0.1:5432/postgres")
    with fresh_database(server) as url, tempfile.TemporaryDirectory() as data_dir:
        # The demo's personal data is encrypted with keys the server must share.
        os.environ["HAVENS_DATA_DIR"] = data_dir
        from havens.config import get_settings

        get_settings.cache_clear()
        print("preparing a database with the demo data ...", flush=True)
        world = prepare(url, args.clients)
        proc, base = start_server(url, data_dir, args.workers)
        try:
            roles = ", ".join(f"{n} {r}" for r, n in Counter(c.role for c in world.clients)
                              .items())
            print(f"{len(world.clients)} clients ({roles})"
                  f"\nfor {duration:.0f} s after {warmup:.0f} s of warm-up, think time "
                  f"{args.think:g} s, against `havens serve --workers {args.workers}` on "
                  f"PostgreSQL ({base}); load average {os.getloadavg()[0]:.2f}", flush=True)
            results, wall, server_cpu, client_cpu = asyncio.run(run_clients(
                base, world, operations(world), duration, warmup, args.think, proc.pid))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    ok = report(results, wall, server_cpu, client_cpu)
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
