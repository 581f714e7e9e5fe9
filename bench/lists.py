"""Every list endpoint of the API, on the big company of the benchmark data set, one request at
a time: the median time of its first page of 50 asked `--repeat` times, and the slowest SQL
statement and the statement count of the last of them.

    python bench/lists.py            # after bench/generate.py; make bench runs it last

The load scenarios (bench/run.py) cover the hot paths; this sweep covers the rest, so a list that
sorts a whole company's rows shows up here (it found the stock-movement ledger taking 11 s).
Results: bench/results/lists.json and a table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--database-url", default="postgres://ally360:ally360@127.0.0.1/ally360_bench"
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()
    os.environ.update(
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,  # the server's cache, as in production and bench/run.py
        APP_SECRET_STRING="bench-only-secret-0f3c9a7d21e84b6f9d0c5a3e7b1f2d48",
        ALLOWED_HOSTS="testserver",
        API_RATE_LIMIT="100000000/m",
        # The sweep measures reading each list; the catalog's page cache would answer the
        # repeats of products/ and variants/ without reading (bench/run.py measures it).
        CATALOG_CACHE_SECONDS="0",
        DJANGO_SETTINGS_MODULE="ally360.settings",
    )
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from accounts.tokens import context_token_for

    manifest = json.loads((RESULTS / "dataset.json").read_text())
    big = manifest["tenants"][0]
    owner = User.objects.get(email=big["owner"])
    token = context_token_for(owner, big["company_id"], "owner")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    spec = client.get("/api/v1/schema/?format=json").json()
    required = {"/api/v1/kardex/": {"variant": big["variants"][0][0]}}
    rows = []
    for path, operations in spec["paths"].items():
        get = operations.get("get")
        if not get or not get["operationId"].endswith("_list") or "{" in path:
            continue
        params = {"limit": 50, **required.get(path, {})}
        client.get(path, params)  # warm caches and connections
        times = []
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(path, params)
                times.append((time.perf_counter() - started) * 1000)
        rows.append(
            {
                "path": path,
                "status": response.status_code,
                "median_ms": round(statistics.median(times), 1),
                "slowest_sql_ms": round(
                    max((float(q["time"]) for q in queries.captured_queries), default=0) * 1000, 1
                ),
                "statements": len(queries.captured_queries),
            }
        )
    rows.sort(key=lambda row: -row["median_ms"])
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "lists.json").write_text(json.dumps(rows, indent=1))
    print(f"{'median ms':>10} {'slowest SQL ms':>15} {'SQL':>4} {'status':>6}  list")
    for row in rows:
        print(
            f"{row['median_ms']:>10} {row['slowest_sql_ms']:>15} {row['statements']:>4} "
            f"{row['status']:>6}  {row['path']}"
        )
    failed = [row["path"] for row in rows if row["status"] != 200]
    if failed:  # a list that did not answer 200 measured an error page, not the list
        sys.exit(f"\nNOT 200: {', '.join(failed)}")


if __name__ == "__main__":
    main()
