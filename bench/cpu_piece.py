"""CPU seconds per piece of the standard packet, merged in one process (``workers=1``).

A shared machine skews wall time; CPU time of one process is the stable figure. Each run is a
fresh process (so per-process work, such as laying out the form backgrounds, is counted in
every run) on the bench roster (bench/roster_gen.py, fixed seed). Prints one line per run and
the medians. Usage::

    .venv/bin/python bench/cpu_piece.py [HOUSEHOLDS=50] [RUNS=3]

``BENCH_NO_CARDS=1`` leaves the 資格確認書 cards out (the packet before issue 19, for the
cards' cost on the same code). ``BENCH_NO_LETTER_OVERLAY=1`` lays every letter out in full
(the path before the letter overlay) for a comparison on the same code. Run it from another
checkout (``cd /tmp/wt-before && /work/main/.venv/bin/python /work/main/bench/cpu_piece.py``)
to measure that checkout's code: the current directory's ``kenpo_docs`` is imported first.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent


def one(households: int) -> dict[str, float]:
    sys.path.insert(0, os.getcwd())
    sys.path.insert(1, str(HERE))
    from roster_gen import write_roster

    import kenpo_docs
    from kenpo_docs.mailing.options import MergeOptions
    from kenpo_docs.mailing.run import merge

    counts = {"forms": 0, "overlaid": 0, "letters": 0, "letters_overlaid": 0}
    import importlib

    merge_module = importlib.import_module("kenpo_docs.mailing.run")
    render_chunk = merge_module.render_chunk

    def chunks(job, *args, **kw):  # type: ignore[no-untyped-def]
        counts["letters"] += len(job.pieces)
        counts["forms"] += len(job.pieces) * len(job.forms)
        return render_chunk(job, *args, **kw)

    merge_module.render_chunk = chunks  # type: ignore[attr-defined]
    try:
        from kenpo_docs.shapes import overlay
        original = overlay.render_overlay_pages

        def counting(pages, **kw):  # type: ignore[no-untyped-def]
            out = original(pages, **kw)
            counts["letters_overlaid"] += sum(a.startswith("piece-") for a in out)
            counts["overlaid"] += sum(a.startswith("form-") for a in out)
            return out

        overlay.render_overlay_pages = counting  # type: ignore[attr-defined]
        if os.environ.get("BENCH_NO_LETTER_OVERLAY"):
            from kenpo_docs.shapes import letters as letteroverlay
            letteroverlay.OVERLAY_LETTERS = frozenset()  # type: ignore[misc]
    except ImportError:
        pass
    with tempfile.TemporaryDirectory() as tmp:
        roster = write_roster(households, Path(tmp) / "roster.csv")
        options = MergeOptions(
            letter="kakuninsho", out=Path(tmp) / "out", as_of=date(2026, 12, 1),
            enclosures=("form:bessou1", "notice:539"), notice="539", workers=1,
            **({"cards": False} if os.environ.get("BENCH_NO_CARDS") else {}),
        )
        cpu = time.process_time()
        wall = time.monotonic()
        result = merge(roster, options=options)
        cpu = time.process_time() - cpu
        wall = time.monotonic() - wall
        sizes = [p.stat().st_size for p in (Path(tmp) / "out" / "pieces").glob("*.pdf")]
        prints = sum(p.stat().st_size for p in (Path(tmp) / "out" / "print").glob("*.pdf"))
    return {
        "code": str(Path(kenpo_docs.__file__).parent.parent),
        "pieces": result.pieces, "cpu_per_piece": cpu / result.pieces,
        "wall": wall, "piece_kb": statistics.mean(sizes) / 1024,
        "print_kb": prints / 1024, **counts,
    }


def main() -> None:
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(one(int(sys.argv[2]))))
        return
    households = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    results = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, __file__, "--one", str(households)],
                             check=True, capture_output=True, text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
        print(json.dumps(results[-1]))
    for key in ("cpu_per_piece", "piece_kb", "print_kb"):
        print(f"median {key}: {statistics.median(r[key] for r in results):.3f}")


if __name__ == "__main__":
    main()
