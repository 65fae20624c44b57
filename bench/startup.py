"""Start-up: `werkbank db upgrade` at head and the terminal chat's first reply, each as a
whole process, beside a bare `python -c pass` in the same run.

    python bench/startup.py                  # 7 rounds
    python bench/startup.py --rounds 15
    python bench/startup.py --tree /tmp/old  # another checkout (e.g. `git archive` of a
                                             # commit), to compare before and after

Each round runs the three processes one after another (bare, upgrade, chat), so a busy
machine slows all three alike; the figures are medians of wall time and of CPU time
(user + system), and each is also given as a multiple of the bare interpreter. Modules
are compiled once before the rounds and their bytecode cached (in a temporary
directory), as an installed package has it: PYTHONDONTWRITEBYTECODE=1 would compile
Werkbank's modules at every start.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float


def run(command: list[str], env: dict[str, str], cwd: Path) -> Timing:
    """One process from start to exit: wall time, and the CPU time it used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(
        command, env=env, cwd=cwd, input="", capture_output=True, text=True, timeout=300
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout to time")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="werkbank-startup-") as tmp:
        work = Path(tmp)
        database = work / "werkbank.db"
        env = {
            **os.environ,
            "PYTHONPATH": str(args.tree.resolve()),
            "PYTHONPYCACHEPREFIX": str(work / "pycache"),
            "WERKBANK_DATABASE_URL": f"sqlite:///{database}",
            "HOME": str(work),
        }
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        werkbank = [sys.executable, "-m", "bot"]
        bare = [sys.executable, "-c", "pass"]
        upgrade = [*werkbank, "db", "upgrade"]
        # The database is made, and the demo data loaded, before the rounds: they time
        # a start on a database in use, with a new member each time (the welcome).
        run(upgrade, env, work)
        run([*werkbank, "demo-data"], env, work)
        for warm in (bare, upgrade, [*werkbank, "chat", "--as", "warm-up"]):
            run(warm, env, work)  # compiles and caches the bytecode

        figures: dict[str, list[Timing]] = {"bare": [], "upgrade": [], "chat": []}
        for n in range(args.rounds):
            figures["bare"].append(run(bare, env, work))
            figures["upgrade"].append(run(upgrade, env, work))
            chat = [*werkbank, "chat", "--as", f"member{n}"]
            figures["chat"].append(run(chat, env, work))

    base = statistics.median(t.wall for t in figures["bare"])
    base_cpu = statistics.median(t.cpu for t in figures["bare"])
    names = {
        "bare": "python -c pass (baseline)",
        "upgrade": "werkbank db upgrade (at head)",
        "chat": "werkbank chat, first reply",
    }
    print(f"Start-up of {args.tree} ({args.rounds} rounds, medians)\n")
    print("| process | wall s | × bare | CPU s | × bare |")
    print("|---|---:|---:|---:|---:|")
    for key, label in names.items():
        wall = statistics.median(t.wall for t in figures[key])
        cpu = statistics.median(t.cpu for t in figures[key])
        print(f"| {label} | {wall:.2f} | {wall / base:.0f} | {cpu:.2f} | {cpu / base_cpu:.0f} |")
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
