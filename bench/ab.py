"""Compare the working tree with an earlier commit, side by side, on the same machine.

    python bench/ab.py --base ea24f42 --scenarios pos_sale invoice_list_first --rounds 3

A 2-core machine's speed drifts by a third within minutes, so two runs taken at different times
cannot be compared. This runs the working tree's `bench/run.py` against a server of the base
commit's code (a temporary git worktree) and against one of the working tree's, in turns — base
then new, new then base, … — on the same data set, and reports each pair and the median of the
pairs' ratios. Both sides are measured by the same harness; each side's server runs its own code; the
database is shared, so the base must run on the working tree's migrations (true for commits that
add no migration the base lacks).

Results: bench/results/ab.json and a table on stdout.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def run_side(root: Path, args, output: Path) -> dict:
    """One run of this harness against the server code of `root`: both sides are measured the
    same way, whatever the base commit's own harness did."""
    command = [
        sys.executable,
        str(ROOT / "bench" / "run.py"),
        "--code-root",
        str(root),
        "--database-url",
        args.database_url,
        "--scenarios",
        *args.scenarios,
        "--concurrency",
        *map(str, args.concurrency),
        "--duration",
        str(args.duration),
        "--no-pgbench",
        "--client",
        args.client,
        "--output",
        str(output),
    ]
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return json.loads(output.read_text())["scenarios"]


def figures(result: dict) -> tuple[float, float, float]:
    cpu = result["cpu_ms_per_request"]
    return result["rps"], result["p99_ms"], cpu["app"] + cpu["postgres"]


def report(pairs: list[dict], args) -> list[str]:
    lines = [
        f"{'scenario':<20} {'conc':>4}  {'req/s base → new (each pair)':<44} {'median':>7}  "
        f"{'p99 ms base → new':<18} CPU ms base → new"
    ]
    for name in args.scenarios:
        for concurrency in map(str, args.concurrency):
            base = [figures(pair["base"][name][concurrency]) for pair in pairs]
            new = [figures(pair["new"][name][concurrency]) for pair in pairs]
            each = ", ".join(f"{b[0]:.0f}→{n[0]:.0f}" for b, n in zip(base, new, strict=True))
            ratio = statistics.median(n[0] / b[0] for b, n in zip(base, new, strict=True))
            p99 = f"{statistics.median(b[1] for b in base):.0f} → {statistics.median(n[1] for n in new):.0f}"
            cpu = f"{statistics.median(b[2] for b in base):.1f} → {statistics.median(n[2] for n in new):.1f}"
            lines.append(
                f"{name:<20} {concurrency:>4}  {each:<44} {ratio - 1:>+7.0%}  {p99:<18} {cpu}"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--base", required=True, help="the commit to compare with (e.g. HEAD~3)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--database-url", default="postgres://ally360:ally360@127.0.0.1:5432/ally360_bench"
    )
    parser.add_argument("--scenarios", nargs="+", default=["pos_sale", "invoice_list_first"])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8])
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--client", choices=["asyncio", "wrk"], default="asyncio")
    parser.add_argument("--output", default=str(RESULTS / "ab.json"))
    args = parser.parse_args()

    dataset = RESULTS / "dataset.json"
    if not dataset.exists():
        sys.exit("No data set: run bench/generate.py first (make bench does).")
    base_commit = subprocess.run(
        ["git", "rev-parse", "--short", args.base],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    scratch = Path(tempfile.mkdtemp(prefix="ally360-ab-"))
    worktree = scratch / "base"
    subprocess.run(
        ["git", "worktree", "add", "--detach", "--quiet", str(worktree), base_commit],
        cwd=ROOT,
        check=True,
    )
    try:
        (worktree / "bench" / "results").mkdir(parents=True, exist_ok=True)
        shutil.copy(dataset, worktree / "bench" / "results" / "dataset.json")
        sides = {"base": worktree, "new": ROOT}
        pairs = []
        for number in range(args.rounds):
            # Alternate which side goes first, so a drift in either direction weighs on both.
            order = ["base", "new"] if number % 2 == 0 else ["new", "base"]
            pair = {}
            for side in order:
                output = scratch / f"{side}-{number}.json"
                pair[side] = run_side(sides[side], args, output)
                print(f"round {number + 1}/{args.rounds}: {side} done", flush=True)
            pairs.append(pair)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT)
        shutil.rmtree(scratch, ignore_errors=True)

    lines = [f"base {base_commit} against the working tree, {args.rounds} interleaved pairs", ""]
    lines += report(pairs, args)
    Path(args.output).write_text(
        json.dumps({"base": base_commit, "args": vars(args), "pairs": pairs}, indent=1)
    )
    print("\n".join(lines))
    print(f"\nwritten: {args.output}")


if __name__ == "__main__":
    main()
