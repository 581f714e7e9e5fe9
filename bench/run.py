"""Load a production-like Ally360 server and report requests/s, latency, SQL and memory.

    python bench/run.py                       # after bench/generate.py (make bench does both)
    python bench/run.py --scenarios pos_sale --concurrency 8 --duration 10 --profile

The server is gunicorn (2 workers, DEBUG off) on PostgreSQL and Redis over loopback; the load
comes from a closed-loop asyncio client (aiohttp): N connections, each sends its next request as
soon as the previous answer arrives. Every answer carries `X-Query-Count` (QUERY_COUNT_HEADER=1),
so queries per request are measured, not guessed. The raw-SQL baseline replays the statements of
one POS sale (bench/pos_sale.sql) with pgbench at the same concurrency, right after the API's
load, in rounds (--rounds).

Results: bench/results/results.json and a table on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))
import wrk_client  # noqa: E402

SECRET = "bench-only-secret-0f3c9a7d21e84b6f9d0c5a3e7b1f2d48"
SCENARIOS = [
    "pos_sale",
    "invoice_list_first",
    "invoice_list_deep",
    "barcode_lookup",
    "product_list",
    "receivables",
    "bill_list",
    "payables",
    "login",
    "health",
    "current_company",
]
CHEAP = 80_000  # 3 lines of at most this stay under the 5 UVT POS limit


def server_env(args) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "APP_SECRET_STRING": SECRET,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "QUERY_COUNT_HEADER": "1",
        # The per-company limit (600/min) would refuse a load test by design; the counters still
        # run on every request. Login limits key on the client IP, which the client varies.
        "API_RATE_LIMIT": "100000000/m",
        "RATELIMIT_IP_META_KEY": "HTTP_X_REAL_IP",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        # Connections kept for the whole run: a backend replaced inside a measured window takes
        # the CPU it spent there with it (/proc forgets an ended process), and reconnecting once
        # a minute costs production nothing worth measuring.
        "CONN_MAX_AGE": "3600",
        "DJANGO_SETTINGS_MODULE": "ally360.settings",
    }


# --------------------------------------------------------------------------------------------
# Preparation (in-process Django, before the server starts)
# --------------------------------------------------------------------------------------------


def cursor_for(position) -> str:
    """DRF's CursorPagination encoding of a position, to jump to a deep page directly."""
    return base64.b64encode(urlencode({"p": str(position)}).encode("ascii")).decode("ascii")


def prepare(args, manifest: dict) -> dict:
    """Open a shift for each selling company, mint context tokens, find a deep cursor."""
    os.environ.update(server_env(args))
    import django

    django.setup()
    from accounts.models import User
    from accounts.tokens import context_token_for
    from ally360.tenancy import tenant_context
    from contacts.models import Contact
    from inventory.models import Stock
    from invoices.models import Invoice, NumberingRange
    from pos.models import CashRegister, Shift
    from pos.services import shift_open
    from products.models import PriceList, Variant

    tenants = manifest["tenants"]
    big, small = tenants[0], tenants[1:]
    sellers_needed = max(args.concurrency)
    if len(small) < sellers_needed:
        sys.exit(f"The data set has {len(small)} small companies; {sellers_needed} are needed.")

    def token(tenant) -> str:
        user = User.objects.get(email=tenant["owner"])
        return str(context_token_for(user, tenant["company_id"], "owner")), user

    sellers = []
    for tenant in small[:sellers_needed]:
        access, user = token(tenant)
        with tenant_context(tenant["company_id"]):
            register = CashRegister.objects.select_related("pdv").order_by("created_at").first()
            shift = Shift.objects.filter(register=register, status=Shift.Status.OPEN).first()
            if shift is None:
                shift = shift_open(register=register, user=user, role="owner", opening_cash=0)
            cheap = [v for v, price in tenant["variants"] if float(price) <= CHEAP][:3]
            if len(cheap) != 3:  # the scenario and bench/pos_sale.sql sell three lines
                sys.exit(f"{tenant['company_id']} has {len(cheap)} variants priced ≤ {CHEAP}.")
            products = {
                variant_id: str(product_id)
                for variant_id, product_id in Variant.objects.filter(pk__in=cheap).values_list(
                    "pk", "product_id"
                )
            }
            stocks = dict(
                Stock.objects.filter(variant_id__in=cheap, pdv=register.pdv).values_list(
                    "variant_id", "id"
                )
            )
            sellers.append(
                {
                    "token": access,
                    "body": {
                        "lines": [{"variant": v, "quantity": "1"} for v in cheap],
                        "tenders": [{"method": "cash", "amount": "1000000"}],
                    },
                    "row": {
                        "tenant_id": tenant["company_id"],
                        "user_id": str(user.pk),
                        "pdv_id": str(register.pdv_id),
                        "range_id": str(
                            NumberingRange.objects.get(pdv=register.pdv, document_type="pos").pk
                        ),
                        "shift_id": str(shift.pk),
                        "consumer_id": str(Contact.objects.get(is_final_consumer=True).pk),
                        "price_list_id": str(PriceList.objects.get(is_default=True).pk),
                        **{f"v{i + 1}": v for i, v in enumerate(cheap)},
                        **{f"p{i + 1}": products[uuid.UUID(v)] for i, v in enumerate(cheap)},
                        **{f"s{i + 1}": str(stocks[uuid.UUID(v)]) for i, v in enumerate(cheap)},
                    },
                }
            )
    big_token, _ = token(big)
    with tenant_context(big["company_id"]):
        depth = min(args.deep_offset, Invoice.objects.count() - 1)
        position = Invoice.objects.order_by("-created_at").values_list("created_at", flat=True)[
            depth
        ]
    return {
        "sellers": sellers,
        "big_token": big_token,
        "deep_cursor": cursor_for(position),
        "deep_offset": depth,
        "barcodes": big["barcodes"],
        "logins": [t["owner"] for t in tenants],
        "password": manifest["password"],
    }


def fill_pgbench_targets(args, sellers: list[dict]) -> None:
    import psycopg
    from psycopg import sql

    columns = list(sellers[0]["row"])
    app_role = re.match(r"postgres(?:ql)?://([^:@/]+)", args.database_url).group(1)
    with psycopg.connect(args.admin_url, autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS bench_pos_target")
        definitions = sql.SQL(", ").join(
            sql.SQL("{} uuid NOT NULL").format(sql.Identifier(c)) for c in columns
        )
        connection.execute(
            sql.SQL("CREATE TABLE bench_pos_target (idx int PRIMARY KEY, {})").format(definitions)
        )
        connection.execute(
            sql.SQL("GRANT SELECT ON bench_pos_target TO {}").format(sql.Identifier(app_role))
        )
        insert = sql.SQL("INSERT INTO bench_pos_target (idx, {}) VALUES (%s, {})").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(", ").join(sql.Placeholder() * len(columns)),
        )
        with connection.cursor() as cursor:
            cursor.executemany(
                insert, [[i, *seller["row"].values()] for i, seller in enumerate(sellers)]
            )


# --------------------------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------------------------


class Server:
    def __init__(self, args):
        self.args = args
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [
            str(BIN / "gunicorn"),
            "ally360.wsgi:application",
            "--workers",
            str(self.args.workers),
            "--worker-class",
            self.args.worker_class,
            "--threads",
            str(self.args.threads),
            "--bind",
            f"127.0.0.1:{self.args.port}",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
        ]
        self.log = open(RESULTS / "server.log", "w")  # noqa: SIM115
        # The server runs the code under --code-root (bench/ab.py: a base commit's worktree),
        # measured by this harness either way.
        self.process = subprocess.Popen(
            command,
            cwd=self.args.code_root,
            env=server_env(self.args),
            stdout=self.log,
            stderr=self.log,
        )
        import urllib.request

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.base}/health", timeout=1)  # noqa: S310
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        sys.exit(f"gunicorn did not answer; see {RESULTS / 'server.log'}")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.args.port}"

    def worker_pids(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def rss_mib(self) -> dict:
        def rss(pid: int) -> float:
            status = Path(f"/proc/{pid}/status").read_text()
            return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024

        workers = [rss(pid) for pid in self.worker_pids()]
        return {
            "worker_max_mib": round(max(workers), 1),
            "total_mib": round(sum(workers) + rss(self.process.pid), 1),
        }

    def cpu_seconds(self) -> dict[int, float]:
        return {pid: process_cpu_seconds(pid) for pid in self.worker_pids()}

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def client_cpu_seconds() -> float:
    """This process (the asyncio client) and its finished children (wrk runs)."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def other_databases_backends(database_url: str) -> set[int]:
    """Backends serving other databases of the cluster (a test run beside the benchmark): their
    CPU is not the benchmark's. pid and database are visible to any role."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname IS NOT NULL AND datname <> current_database()"
        ).fetchall()
    return {pid for (pid,) in rows}


def postgres_cpu_seconds(database_url: str) -> dict[int, float]:
    """CPU seconds per PostgreSQL process (this database's backends, WAL writer, autovacuum…),
    without the backends of other databases."""
    others = other_databases_backends(database_url)
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) not in others:
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found[int(entry.name)] = process_cpu_seconds(int(entry.name))
            except OSError:
                continue  # the process ended meanwhile
    return found


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """Processes alive at the end count from the start (or from zero if they started during the
    run); a process that ended during the run is lost, so this slightly undercounts."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


# --------------------------------------------------------------------------------------------
# Load client
# --------------------------------------------------------------------------------------------


def scenario_requests(name: str, ctx: dict):
    """A function (client index, request number) -> (method, path, headers, json body)."""
    big = {"Authorization": f"Bearer {ctx['big_token']}"}
    if name == "pos_sale":

        def request(client, _n):
            seller = ctx["sellers"][client % len(ctx["sellers"])]
            headers = {
                "Authorization": f"Bearer {seller['token']}",
                "Idempotency-Key": str(uuid.uuid4()),
            }
            return "POST", "/api/v1/pos/sales/", headers, seller["body"]

        def sold(status, payload):
            return status == 201 and json.loads(payload)["invoice"]["status"] == "paid"

        request.check = sold
        request.expect = '"status":"paid"'  # the same check for wrk (bench/wrk_client.py)

    elif name == "invoice_list_first":

        def request(_client, _n):
            return "GET", "/api/v1/invoices/", big, None

    elif name == "invoice_list_deep":

        def request(_client, _n):
            return "GET", f"/api/v1/invoices/?cursor={ctx['deep_cursor']}", big, None

    elif name == "barcode_lookup":

        def request(_client, _n):
            return "GET", f"/api/v1/variants/?barcode={random.choice(ctx['barcodes'])}", big, None

    elif name == "product_list":

        def request(_client, n):
            return "GET", f"/api/v1/products/?limit=20&offset={(n % 50) * 20}", big, None

    elif name == "receivables":

        def request(_client, _n):
            return "GET", "/api/v1/receivables/", big, None

    elif name == "bill_list":

        def request(_client, _n):
            return "GET", "/api/v1/bills/", big, None

    elif name == "payables":

        def request(_client, _n):
            return "GET", "/api/v1/payables/", big, None

    elif name == "login":
        counter = iter(range(10**9))

        def request(_client, _n):
            index = next(counter)
            # Rotate e-mails and client addresses: the limits (5/min per e-mail, 10/min per IP)
            # stay in the path but do not refuse the load.
            email = ctx["logins"][index % len(ctx["logins"])]
            ip = f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}"
            body = {"email": email, "password": ctx["password"]}
            return "POST", "/api/v1/auth/login", {"X-Real-IP": ip}, body

    elif name == "health":

        def request(_client, _n):
            return "GET", "/health", {}, None

    elif name == "current_company":

        def request(_client, _n):
            return "GET", "/api/v1/companies/current/", big, None

    else:
        raise SystemExit(f"unknown scenario {name}")
    return request


# A request slower than this is an error (599): it must end, and be counted, within the run.
REQUEST_TIMEOUT = 10.0


def succeeded(request, status: int, payload: bytes) -> bool:
    """A 2xx (redirects are not followed, so a 3xx is not a success), and whatever the
    scenario's own `check` asks of the answer (a sale: created and paid)."""
    if not 200 <= status < 300:
        return False
    check = getattr(request, "check", None)
    return check is None or check(status, payload)


async def load(base: str, request, concurrency: int, duration: float, warmup: float) -> dict:
    """A closed loop of `concurrency` clients. Throughput and latency count the requests that
    end inside the measured window (those in flight when it opens are counted when they end;
    those still in flight when it closes are waited for, and count as errors if they fail).
    Percentiles are over successful requests only: fast failures must not flatter them."""
    import aiohttp

    latencies: list[float] = []
    queries: list[int] = []
    statuses: Counter = Counter()
    errors: list[str] = []
    late_failures = 0
    answered = 0  # every answer, warm-up and tail included: the CPU per request divides by it
    loop = asyncio.get_running_loop()
    started = loop.time()
    measure_from, stop_at = started + warmup, started + warmup + duration
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(base, connector=connector, timeout=timeout) as session:

        async def client(index: int):
            nonlocal late_failures, answered
            n = 0
            while loop.time() < stop_at:
                method, path, headers, body = request(index, n)
                n += 1
                begin = loop.time()
                try:
                    async with session.request(
                        method, path, headers=headers, json=body, allow_redirects=False
                    ) as resp:
                        payload = await resp.read()
                        status = resp.status
                        count = resp.headers.get("X-Query-Count")
                except (aiohttp.ClientError, TimeoutError) as exc:
                    status, payload, count = 599, f"{type(exc).__name__} {exc}".encode(), None
                end = loop.time()
                answered += 1
                ok = succeeded(request, status, payload)
                if end < measure_from:
                    continue
                if end > stop_at:  # started inside the window, ended after it
                    late_failures += 0 if ok else 1
                    continue
                # A 2xx that fails the scenario's check is shown apart ("201 unexpected").
                statuses[str(status) if ok or status >= 300 else f"{status} unexpected"] += 1
                if ok:
                    latencies.append(end - begin)
                if count is not None:
                    queries.append(int(count))
                if not ok and len(errors) < 5:
                    errors.append(f"{status} {payload[:300]!r}")

        await asyncio.gather(*(client(i) for i in range(concurrency)))
    requests = sum(statuses.values())
    ok = len(latencies)
    latencies.sort()

    def percentile(p: float) -> float:
        if not latencies:
            return float("nan")
        rank = max(1, math.ceil(p * len(latencies)))  # nearest rank
        return round(latencies[rank - 1] * 1000, 1)

    return {
        "requests": requests,
        "answered": answered,
        "ok": ok,
        "errors": requests - ok + late_failures,
        "rps": round(ok / duration, 1),
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
        "queries_per_request": round(statistics.mean(queries), 1) if queries else None,
        "statuses": dict(sorted(statuses.items())),
        "error_samples": errors,
    }


# --------------------------------------------------------------------------------------------
# pgbench baseline and profiling
# --------------------------------------------------------------------------------------------


def pgbench(args, concurrency: int) -> dict:
    """The raw-SQL baseline at one concurrency, after a warm-up as long as the API's."""
    command = [
        "pgbench",
        "--no-vacuum",
        "-M",
        "prepared",
        "-f",
        str(BENCH / "pos_sale.sql"),
        "-c",
        str(concurrency),
        "-j",
        "2",
        "-r",
        args.database_url,
    ]
    if args.warmup >= 1:
        subprocess.run([*command, "-T", str(int(args.warmup))], capture_output=True, check=False)
    command += ["-T", str(int(args.duration))]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout)[-800:]}
    tps = re.search(r"tps = ([\d.]+) \(without initial", done.stdout)
    latency = re.search(r"latency average = ([\d.]+) ms", done.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    return {
        "tps": round(float(tps.group(1)), 1) if tps else None,
        "latency_avg_ms": float(latency.group(1)) if latency else None,
        "failed": int(failed.group(1)) if failed else 0,
    }


def measure(server: Server, args, ctx: dict, name: str, concurrency: int) -> dict:
    """One scenario's load at one concurrency, with the CPU its server and database spent."""
    request = scenario_requests(name, ctx)
    cpu_before = (
        server.cpu_seconds(),
        postgres_cpu_seconds(args.database_url),
        client_cpu_seconds(),
    )
    if args.client == "wrk":
        result = wrk_client.load(server.base, request, concurrency, args.duration, args.warmup)
    else:
        result = asyncio.run(load(server.base, request, concurrency, args.duration, args.warmup))
    cpu_after = (
        server.cpu_seconds(),
        postgres_cpu_seconds(args.database_url),
        client_cpu_seconds(),
    )
    result["rss"] = server.rss_mib()
    # CPU over the whole load (warm-up and tail included) per answer in it
    answered = max(result["answered"], 1)
    app = cpu_delta(cpu_before[0], cpu_after[0])
    db = cpu_delta(cpu_before[1], cpu_after[1])
    client = cpu_after[2] - cpu_before[2]
    result["cpu_ms_per_request"] = {
        "app": round(app * 1000 / answered, 2),
        "postgres": round(db * 1000 / answered, 2),
        "load_client": round(client * 1000 / answered, 2),
    }
    print(
        f"{name} c={concurrency}: {result['rps']} req/s, p99 {result['p99_ms']} ms,"
        f" {result['errors']} errors",
        flush=True,
    )
    return result


def pos_sale_against_raw(server: Server, args, ctx: dict, concurrency: int) -> tuple[dict, dict]:
    """The POS sale and its raw-SQL baseline back to back, `--rounds` times, so each ratio
    compares two loads of the same minute (these machines drift by a third within minutes, and
    pgbench's own rate falls as the run's sales pile up). The round with the median ratio is the
    one reported; every round's figures are kept, and errors count over all of them."""
    rounds = []
    for number in range(args.rounds):
        api = measure(server, args, ctx, "pos_sale", concurrency)
        raw = pgbench(args, concurrency)
        ratio = api["rps"] / raw["tps"] if raw.get("tps") else 0.0
        print(f"  round {number + 1}: raw SQL {raw.get('tps')} sales/s, API/raw {ratio:.3f}")
        rounds.append((ratio, api, raw))
    _ratio, api, raw = sorted(rounds, key=lambda r: r[0])[(len(rounds) - 1) // 2]
    api["rounds"] = [
        {"rps": a["rps"], "raw_tps": r.get("tps"), "api_raw_ratio": round(q, 3)}
        for q, a, r in rounds
    ]
    api["errors_all_rounds"] = sum(a["errors"] for _q, a, _r in rounds)
    return api, raw


def profile(server: Server, name: str, seconds: float) -> subprocess.Popen:
    """py-spy samples one worker while the load runs; raw (collapsed) stacks to a file."""
    worker = server.worker_pids()
    command = [str(BIN / "py-spy"), "record", "--format", "raw", "--rate", "100"]
    command += ["--duration", str(int(seconds)), "-o", str(RESULTS / f"{name}.profile.txt")]
    command += ["--pid", str(worker[0])]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# Where a sample's innermost frame is decides its bucket (self time), first match wins.
PROFILE_BUCKETS = [
    ("waiting for PostgreSQL", ("Connection.wait", "wait_conn", "PGconn")),
    ("psycopg: adapt/load values", ("psycopg/",)),
    ("Redis (rate limit, cache)", ("redis/", "django_redis", "django_ratelimit")),
    (
        "ORM: build and compile SQL",
        (
            "django/db/models/sql/",
            "django/db/models/lookups",
            "django/db/models/expressions",
            "django/db/models/query_utils",
            "django/db/backends/",
        ),
    ),
    ("ORM: querysets and model instances", ("django/db/models/",)),
    (
        "DRF: serializers and fields",
        (
            "rest_framework/serializers",
            "rest_framework/fields",
            "rest_framework/relations",
            "rest_framework/utils",
        ),
    ),
    ("JWT and authentication", ("simplejwt", "jwt/", "accounts/authentication")),
    ("password hashing (PBKDF2, on purpose)", ("pbkdf2", "hashers.py", "crypto.py")),
    ("JSON encode/decode", ("json/", "rest_framework/renderers", "rest_framework/parsers")),
    (
        "Ally360 code (services, selectors)",
        (
            "/work/",
            "ally360/",
            "invoices/",
            "inventory/",
            "products/",
            "accounts/",
            "pos/",
            "contacts/",
        ),
    ),
    ("Django request handling, middleware", ("django/",)),
    ("gunicorn, Python runtime, other", ("",)),
]


def summarize_profile(name: str) -> list[dict]:
    """Self time per bucket, from py-spy's collapsed stacks (idle accept() excluded)."""
    path = RESULTS / f"{name}.profile.txt"
    if not path.exists():
        return []
    totals: Counter = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit() or "handle_request" not in stack:
            continue  # a worker blocked in accept() is idle, not slow
        frames = stack.split(";")
        innermost = frames[-1]
        if any("Connection.wait" in frame or "_wait_conn" in frame for frame in frames[-4:]):
            innermost = "Connection.wait"
        for label, needles in PROFILE_BUCKETS:
            if any(needle in innermost for needle in needles):
                totals[label] += int(count)
                break
    busy = sum(totals.values())
    return [
        {"where": label, "share": round(totals[label] / busy, 3)}
        for label, _ in PROFILE_BUCKETS
        if busy and totals[label]
    ]


# --------------------------------------------------------------------------------------------


# The targets (figures on a 2-core machine): (scenario, what is measured, bound).
TARGETS = [
    ("pos_sale", "rps", ">=", 200),
    ("pos_sale", "api_raw_ratio", ">=", 0.25),
    ("product_list", "rps", ">=", 300),
    ("product_list", "p99_ms", "<=", 100),
    ("invoice_list_first", "p99_ms", "<=", 50),
    ("invoice_list_deep", "p99_ms", "<=", 50),
]


def target_verdicts(results: dict) -> list[dict]:
    """Each target per measured concurrency, and 0 errors per scenario: measured, bound, met."""
    verdicts = []
    for name, measure, op, bound in TARGETS:
        for concurrency, r in results["scenarios"].get(name, {}).items():
            if measure == "api_raw_ratio":
                raw = results.get("pgbench", {}).get(concurrency, {}).get("tps")
                value = r["rps"] / raw if raw else None
            else:
                value = r[measure]
            # Compared unrounded (0.249 is not 0.25), shown rounded.
            met = value is not None and (value >= bound if op == ">=" else value <= bound)
            if measure == "api_raw_ratio" and value is not None:
                value = round(value, 3)
            verdicts.append(
                {
                    "scenario": name,
                    "concurrency": int(concurrency),
                    "measure": measure,
                    "target": f"{op} {bound}",
                    "value": value,
                    "met": met,
                }
            )
    for name, by_concurrency in results["scenarios"].items():
        for concurrency, r in by_concurrency.items():
            verdicts.append(
                {
                    "scenario": name,
                    "concurrency": int(concurrency),
                    "measure": "errors",
                    "target": "== 0",
                    "value": r.get("errors_all_rounds", r["errors"]),
                    "met": r.get("errors_all_rounds", r["errors"]) == 0,
                }
            )
    return verdicts


def table(results: dict) -> str:
    rows = [
        # RSS: the largest worker, and the whole server (gunicorn's master and its workers).
        "scenario              conc    req/s  p50 ms  p99 ms errors SQL/req  RSS MiB worker/all "
        "CPU ms/req app+db",
        "-" * 110,
    ]
    for name, by_concurrency in results["scenarios"].items():
        for concurrency, r in by_concurrency.items():
            cpu = r["cpu_ms_per_request"]
            rows.append(
                f"{name:<21} {concurrency:>4} {r['rps']:>8} {r['p50_ms']:>7} {r['p99_ms']:>7} "
                f"{r['errors']:>6} {r['queries_per_request'] if r['queries_per_request'] is not None else '-':>7} "
                f"{r['rss']['worker_max_mib']:>9} / {r['rss']['total_mib']:<8} "
                f"{cpu['app']:>8} + {cpu['postgres']}"
            )
    for concurrency, raw in results.get("pgbench", {}).items():
        api = results["scenarios"].get("pos_sale", {}).get(concurrency)
        ratio = f"{api['rps'] / raw['tps']:.2f}" if api and raw.get("tps") else "-"
        rows.append(
            f"{'raw SQL POS sale':<21} {concurrency:>4} {raw.get('tps') or '-':>8} "
            f"{raw.get('latency_avg_ms') or '-':>7} (avg)  failed {raw.get('failed', '-')}"
            f"   API/raw = {ratio}"
        )
        if api and len(api.get("rounds", ())) > 1:
            rows.append(
                f"{'':<27}rounds, sales/s API / raw: "
                + ", ".join(
                    f"{r['rps']} / {r['raw_tps']} = {r['api_raw_ratio']}" for r in api["rounds"]
                )
            )

    verdicts = results.get("targets", [])
    if verdicts:
        rows.append("\ntargets (figures on a 2-core machine):")
        for v in verdicts:
            if v["measure"] != "errors":
                mark = "met" if v["met"] else "NOT MET"
                rows.append(
                    f"  {v['scenario']:<21} {v['concurrency']:>4} {v['measure']:<13} "
                    f"{v['target']:<8} {v['value'] if v['value'] is not None else '-':>8}  {mark}"
                )
        failing = [v for v in verdicts if v["measure"] == "errors" and not v["met"]]
        rows.append(
            "  0 errors in every scenario: "
            + ("met" if not failing else f"NOT MET ({len(failing)} runs with errors)")
        )

    for name, buckets in results.get("profile", {}).items():
        rows.append(f"\nwhere a {name} request spends its worker time (py-spy, self time):")
        rows.extend(f"  {item['share']:>6.1%}  {item['where']}" for item in buckets)

    return "\n".join(rows)


def positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--database-url", default="postgres://ally360:ally360@127.0.0.1/ally360_bench"
    )
    parser.add_argument("--admin-url", default="postgres://postgres@127.0.0.1/ally360_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--port", type=int, default=8401)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--duration", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--deep-offset", type=int, default=50_000)
    parser.add_argument("--scenarios", nargs="+", default=SCENARIOS, choices=SCENARIOS)
    parser.add_argument("--no-pgbench", action="store_true")
    parser.add_argument(
        "--rounds",
        type=positive_int,
        default=3,
        help="POS sale and raw-SQL loads back to back, this many times (the median ratio's "
        "round is reported)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="py-spy one worker in an extra, unmeasured pass of each scenario",
    )
    parser.add_argument("--output", default=str(RESULTS / "results.json"))
    parser.add_argument(
        "--client",
        choices=["asyncio", "wrk"],
        default="asyncio",
        help="the load client: Python asyncio (default) or Debian's wrk, which leaves the server "
        "the CPU the Python client takes (bench/wrk_client.py)",
    )
    parser.add_argument(
        "--code-root",
        default=str(ROOT),
        help="the checkout whose code the server runs (default this one; bench/ab.py passes a "
        "base commit's worktree)",
    )

    args = parser.parse_args()

    manifest_path = RESULTS / "dataset.json"
    if not manifest_path.exists():
        sys.exit("No data set: run bench/generate.py first (make bench does).")
    manifest = json.loads(manifest_path.read_text())
    RESULTS.mkdir(parents=True, exist_ok=True)
    ctx = prepare(args, manifest)
    if not args.no_pgbench:
        fill_pgbench_targets(args, ctx["sellers"])
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    results: dict = {
        "dataset": {k: v for k, v in manifest.items() if k != "tenants"},
        "server": {
            "workers": args.workers,
            "worker_class": args.worker_class,
            "threads": args.threads,
            "cpus": os.cpu_count(),
        },
        "client": args.client,
        "duration_s": args.duration,
        "deep_offset": ctx["deep_offset"],
        "scenarios": defaultdict(dict),
        "pgbench": {},
    }
    server = Server(args)
    server.start()
    try:
        for name in args.scenarios:
            for concurrency in args.concurrency:
                if name == "pos_sale" and not args.no_pgbench:
                    result, raw = pos_sale_against_raw(server, args, ctx, concurrency)
                    results["pgbench"][str(concurrency)] = raw
                else:
                    result = measure(server, args, ctx, name, concurrency)
                results["scenarios"][name][str(concurrency)] = result
            if args.profile:
                # A separate, unmeasured pass: py-spy's sampling costs CPU the figures must not
                # pay.
                spy = profile(server, name, args.duration)
                request = scenario_requests(name, ctx)
                asyncio.run(load(server.base, request, args.concurrency[0], args.duration, 0))
                spy.wait(timeout=120)

    finally:
        server.stop()
    if args.profile:
        results["profile"] = {name: summarize_profile(name) for name in args.scenarios}
    results["targets"] = target_verdicts(results)

    Path(args.output).write_text(json.dumps(results, indent=1))
    print(table(results))
    print(f"\nwritten: {args.output}")


if __name__ == "__main__":
    main()
