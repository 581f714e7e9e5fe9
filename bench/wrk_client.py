"""The load client in C: wrk (Debian's `wrk`), driven by a generated Lua script.

The asyncio client (bench/run.py `load`) costs 0.5–1 ms of CPU per request, taken from the same
two cores the server and PostgreSQL use; wrk costs a few microseconds. Each wrk thread holds one
connection (`-t C -c C`), so a client is one company as with the asyncio client, and replays the
requests bench/run.py's scenario builds for it (an `Idempotency-Key` of the form below is made
fresh for every request). A request is a success when it is a 2xx whose body holds the
scenario's `expect` text (a sale: its invoice `"status":"paid"`). wrk's p50/p99 are over every
answer, failures included (wrk cannot tell them apart): a run with errors fails its targets
anyway.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

FRESH_KEY = "00000000-0000-4000-8000-000000000000"  # replaced per request in Lua
PLANNED = 200  # requests planned per client, replayed in turn


def lua_string(value: str) -> str:
    return "[==[" + value + "]==]"


def script(plans: list[list[tuple]], expect: str | None) -> str:
    threads = []
    for plan in plans:
        requests = []
        for method, path, headers, body in plan:
            header_items = ", ".join(
                f"[ {lua_string(k)} ] = {lua_string(v)}" for k, v in headers.items()
            )
            payload = lua_string(json.dumps(body)) if body is not None else "nil"
            requests.append(
                f"{{ {lua_string(method)}, {lua_string(path)}, {{ {header_items} }}, {payload} }}"
            )
        threads.append("{ " + ",\n".join(requests) + " }")
    expect_lua = lua_string(expect) if expect else "nil"
    return f"""
local plans = {{ {",".join(threads)} }}
local expect = {expect_lua}
local fresh_key = "{FRESH_KEY}"
local threads, counter = {{}}, 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  plan = plans[((id - 1) % #plans) + 1]
  turn, ok, bad, queries, counted, sample = 0, 0, 0, 0, 0, ""
  math.randomseed(id * 7919 + os.time())
end

local function uuid4()
  return string.format("%08x-%04x-4%03x-%04x-%012x", math.random(0, 0xffffffff),
    math.random(0, 0xffff), math.random(0, 0xfff), 0x8000 + math.random(0, 0x3fff),
    math.random(0, 0xffffffffffff))
end

function request()
  turn = turn % #plan + 1
  local r = plan[turn]
  local headers = {{}}
  for k, v in pairs(r[3]) do
    headers[k] = (v == fresh_key) and uuid4() or v
  end
  if r[4] then headers["Content-Type"] = "application/json" end
  return wrk.format(r[1], r[2], headers, r[4])
end

function response(status, headers, body)
  local good = status >= 200 and status < 300
  if good and expect then good = string.find(body, expect, 1, true) ~= nil end
  if good then ok = ok + 1 else
    bad = bad + 1
    if #sample < 600 then
      local text = string.sub(body, 1, 200):gsub("[^%w%s%p]", "?"):gsub('[\\\\"]', "'"):gsub("%s", " ")
      sample = sample .. status .. " " .. text .. " | "
    end
  end
  local count = headers["X-Query-Count"]
  if count then queries = queries + tonumber(count); counted = counted + 1 end
end

function done(summary, latency, requests)
  local totals = {{ok = 0, bad = 0, queries = 0, counted = 0, sample = ""}}
  for _, t in ipairs(threads) do
    totals.ok = totals.ok + t:get("ok")
    totals.bad = totals.bad + t:get("bad")
    totals.queries = totals.queries + t:get("queries")
    totals.counted = totals.counted + t:get("counted")
    totals.sample = totals.sample .. t:get("sample")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK-RESULT {{"ok": %d, "bad": %d, "socket_errors": %d, "requests": %d, "duration_us": %d,'
    .. ' "p50_us": %d, "p99_us": %d, "queries": %d, "counted": %d, "sample": "%s"}}\\n',
    totals.ok, totals.bad, e.connect + e.read + e.write + e.timeout, summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(99), totals.queries,
    totals.counted, totals.sample))
end
"""


def run_wrk(base: str, path_script: Path, concurrency: int, seconds: float) -> dict:
    command = ["wrk", f"-t{concurrency}", f"-c{concurrency}", f"-d{max(1, int(seconds))}s"]
    command += ["--timeout", "10s", "-s", str(path_script), base + "/"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("WRK-RESULT "):
            return json.loads(line.removeprefix("WRK-RESULT "))
    raise SystemExit(f"wrk gave no result: {done.stdout[-500:]} {done.stderr[-500:]}")


def fresh_keys(method, path, headers, body):
    """An idempotency key is made anew for every request in Lua, not replayed."""
    if "Idempotency-Key" in headers:
        headers = {**headers, "Idempotency-Key": FRESH_KEY}
    return method, path, headers, body


def planned(request, concurrency: int) -> list[list[tuple]]:
    """Each client's requests, asked of the scenario turn by turn across the clients (as the
    asyncio clients ask them), so requests sent at the same moment are consecutive ones."""
    plans: list[list[tuple]] = [[] for _ in range(concurrency)]
    for n in range(PLANNED):
        for client in range(concurrency):
            plans[client].append(fresh_keys(*request(client, n)))
    return plans


def load(base: str, request, concurrency: int, duration: float, warmup: float) -> dict:
    """The same figures as bench/run.py's asyncio `load`, measured by wrk."""
    expect = getattr(request, "expect", None)
    with tempfile.TemporaryDirectory() as folder:
        answered = 0
        if warmup:
            warm = Path(folder) / "warmup.lua"
            warm.write_text(script(planned(request, concurrency), expect))
            answered += run_wrk(base, warm, concurrency, warmup)["requests"]
        # Planned anew: requests that must not repeat (logins under their per-e-mail and per-IP
        # limits) continue where the warm-up's stopped.
        lua = Path(folder) / "scenario.lua"
        lua.write_text(script(planned(request, concurrency), expect))
        result = run_wrk(base, lua, concurrency, duration)
    answered += result["requests"]
    seconds = result["duration_us"] / 1e6
    errors = result["bad"] + result["socket_errors"]
    return {
        "client": "wrk",
        "requests": result["ok"] + result["bad"],
        "answered": answered,
        "ok": result["ok"],
        "errors": errors,
        "rps": round(result["ok"] / seconds, 1),
        "p50_ms": round(result["p50_us"] / 1000, 1),
        "p99_ms": round(result["p99_us"] / 1000, 1),
        "queries_per_request": (
            round(result["queries"] / result["counted"], 1) if result["counted"] else None
        ),
        "statuses": {},
        "error_samples": [result["sample"][:1500]] if result["sample"] else [],
    }
