"""Mail-merge benchmark (``make bench``): pieces/s, pages/s, peak memory, sizes, vs naive.

For each size in ``BENCH_SIZES`` (default ``200,1000`` households) it writes a synthetic
roster (bench/roster_gen.py, fixed seed) and runs the real merge as a subprocess
(``python -m kenpo_docs merge``) with the standard packet: the ``kakuninsho`` letter, the
prefilled ``form:bessou1`` and the ``notice:539`` enclosure, piece codes and customer
barcodes, twice in alternation: without the members' 資格確認書 cards (``--no-cards``, the
packet before issue 19: the reference) and with them (the roster has 性別, so the letter
encloses the cards on A4 sheets); the cards' cost is the pieces/s (wall, and per CPU
second) they lose against the reference in the same run. While it runs, the whole process
tree's resident memory is sampled from /proc every 50 ms and the pieces folder is watched
for the first finished piece.

Then a reference: the naive approach (one WeasyPrint document per letter and per form, the
notice appended and every page stamped with pypdf, one process) on ``BENCH_NAIVE`` households
(default 20), and our pieces/s over its pieces/s.

Medians of ``BENCH_RUNS`` runs (default 3 at up to 200 households, 1 above). The default
keeps ``make bench`` to a few minutes on 2 cores; ``BENCH_SIZES=1000,10000`` (the issue's
sizes) takes ~2-2.5 minutes a run (~1.5 minutes for the 10,000, at ~95-130 pieces/s), so
``BENCH_RUNS=3`` for medians takes about 8.
Results are printed and appended to bench/results.md with the
commit, the date and the core count. Only synthetic people; nothing personal is printed.

Environment: ``BENCH_SIZES=200`` for a quick run, ``BENCH_RUNS``, ``BENCH_WORKERS`` (0 = all
cores), ``BENCH_NAIVE``, ``BENCH_KEEP=1`` to keep the output folders (printed).

Big batches (issue 23): ``BENCH_SIZES=10000,100000,1000000``. A size above
``BENCH_PARTIAL_ABOVE`` (default 100,000) is a *partial run*: the merge is stopped (Ctrl+C,
as staff would) once the first ``BENCH_PARTIAL`` (default 10 %) of its pieces are written,
and its row says "partial". Every size above the reference ``BENCH_REFERENCE`` (default
10,000 households) is measured beside that reference in the same run (the reference is run
first when it is not among the sizes), and its peak RSS is given as a ratio to the
reference's: on a shared machine only figures from the same run compare.
``BENCH_VARIANTS=letter`` runs only the reference packet (no cards), to halve a long run.
``BENCH_CLUSTER=local:2`` (issue 21) measures the chunks on a Dask cluster (``merge
--cluster``) against the local process pool instead of the cards: the same packet without
cards, both runs alternating, and the cluster's overhead per chunk (its extra wall seconds
over the number of chunks). ``tcp://HOST:PORT`` measures a running scheduler instead.
``BENCH_TAGS=1`` (issue 22) measures the tagged packet against the same packet untagged
instead of the cards: the same code, the untagged runs with ``KENPO_DOCS_BENCH_UNTAGGED=1``
(a measurement aid read only by kenpo_docs.render.options, never for staff output), both
alternating, no cards; the tagging's cost in % of pieces/s (wall) and of pieces per CPU
second against the untagged reference (budget: at most 15 %).
``BENCH_CHECK=1`` also times ``kenpo-docs check`` on each roster (wall, peak RSS).
``BENCH_SORT=roster`` merges with ``--sort roster`` (default ``workplace``): the rosters are
written in household order, so the merge's early start renders the first chunks while the
roster is read (issue 23); "first piece rendered" is when the first piece exists anywhere,
in the batch folder or held in the run's private staging folder (the merge's TMPDIR, a
folder of the bench's) until the whole roster is checked; "first piece" is when one is in
the batch folder.
Each row also gives the pieces/s after the first piece (the rendering's own rate, which a
partial run measures as well as a whole one).
"""

from __future__ import annotations

import csv
import io
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from roster_gen import write_roster  # noqa: E402

AS_OF = "2026-12-01"
ENCLOSURES = ("form:bessou1", "notice:539")
LETTER = "kakuninsho"
#: The packets measured, in the same run and alternately (so load on a shared machine hits
#: both alike): today's packet without the cards (the reference) and with the members'
#: 資格確認書 cards on A4 sheets after the letter (issue 19; the roster has 性別, so cards are
#: printed by default). Their cost is the pieces/s lost against the reference.
VARIANTS = (("letter", ("--no-cards",)), ("letter + cards", ()))
#: ``BENCH_TAGS=1``: the untagged reference (first) and today's tagged packet.
UNTAGGED = "letter, untagged (reference)"
TAG_VARIANTS = ((UNTAGGED, ("--no-cards",)), ("letter, tagged", ("--no-cards",)))


@dataclass
class Run:
    households: int
    seconds: float
    pieces: int
    pages: int
    peak_rss: int  # bytes, whole process tree
    first_piece: float | None  # seconds from start
    piece_sizes: list[int] = field(default_factory=list)
    print_bytes: int = 0
    static_bytes: int = 0
    cpu_seconds: float = 0.0  # user + system of the whole tree
    exit_code: int = 0
    partial: bool = False  # stopped after the first part of its pieces
    last_piece: float | None = None  # seconds from start to the last piece counted
    #: seconds from start to the first piece rendered anywhere: in the batch folder, or held
    #: in the run's private staging folder by the early start (mailing/early.py) until the
    #: whole roster is read and checked
    first_rendered: float | None = None

    @property
    def render_rate(self) -> float:
        """Pieces/s from the first piece to the last one counted: the rendering's own rate."""
        if self.first_piece is None or self.last_piece is None or self.pieces < 2:
            return float("nan")
        return (self.pieces - 1) / max(self.last_piece - self.first_piece, 1e-9)

    @property
    def pieces_per_s(self) -> float:
        return self.pieces / self.seconds

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants, from /proc/<pid>/task/*/children."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except OSError:
            continue
    return out


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _count_pieces(pieces: Path) -> int:
    with os.scandir(pieces) as it:
        return sum(1 for e in it if e.name.endswith(".pdf") and not e.name.startswith("."))


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_check(roster: Path) -> tuple[float, int]:
    """``kenpo-docs check`` on ``roster``: (wall seconds, peak RSS of its tree)."""
    cmd = [sys.executable, "-m", "kenpo_docs", "check", str(roster), "--as-of", AS_OF]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, sum(_rss(p) for p in _tree(proc.pid)))
        time.sleep(0.05)
    seconds = time.monotonic() - started
    _, stderr = proc.communicate()
    if proc.returncode not in (0, 1):
        sys.exit(f"check failed ({proc.returncode}):\n{stderr.decode()[-3000:]}")
    return seconds, peak


def run_merge(roster: Path, out: Path, workers: int, extra: tuple[str, ...] = (),
              stop_at: int | None = None, untagged: bool = False) -> Run:
    """Run the CLI merge as a subprocess, sampling its tree's memory and the first piece.
    ``stop_at``: stop it (SIGINT) once that many pieces are written (a partial run);
    ``untagged``: the untagged reference of ``BENCH_TAGS`` (a measurement aid)."""
    cmd = [sys.executable, "-m", "kenpo_docs", "merge", str(roster), "--letter", LETTER,
           "--as-of", AS_OF, "--out", str(out), "--db", str(out.parent / f"{out.name}.sqlite"),
           "--workers", str(workers), "--notice", "539", *extra]
    for enc in ENCLOSURES:
        cmd += ["--enclose", enc]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    # Ctrl+C as staff would press it: a shell starting this run in the background leaves
    # SIGINT ignored, and the merge would inherit that.
    log = (out.parent / f"{out.name}.log").open("w+b")  # not a pipe: never full
    # The merge's staging folder (and the early start's pieces in it) in a folder of ours.
    stage = out.parent / f"{out.name}.stage"
    stage.mkdir()
    env = dict(os.environ, TMPDIR=str(stage))
    env.pop("KENPO_DOCS_BENCH_UNTAGGED", None)
    if untagged:
        env["KENPO_DOCS_BENCH_UNTAGGED"] = "1"
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            preexec_fn=_default_sigint, env=env)
    peak, first, last, done, stopped = 0, None, None, 0, False
    rendered: float | None = None
    pieces = out / "pieces"
    checked = 0.0
    while proc.poll() is None:
        peak = max(peak, sum(_rss(p) for p in _tree(proc.pid)))
        now = time.monotonic()
        if rendered is None and any(_count_pieces(early) for early in
                                    stage.glob("kenpo-docs-stage-*/early/pieces")):
            rendered = now - started
        if pieces.is_dir() and not stopped and (first is None or (stop_at is not None
                                                and now - checked > 0.5)):
            checked = now
            count = _count_pieces(pieces)
            if count and first is None:
                first = now - started
            if count > done:
                done, last = count, now - started
            if stop_at is not None and done >= stop_at:
                proc.send_signal(signal.SIGINT)
                stopped = True
        time.sleep(0.05)
    seconds = time.monotonic() - started
    proc.wait()
    shutil.rmtree(stage, ignore_errors=True)
    if rendered is None or (first is not None and first < rendered):
        rendered = first
    log.seek(0)
    stderr = log.read()
    log.close()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if stopped:
        sizes = [e.stat().st_size for e in os.scandir(pieces)
                 if e.name.endswith(".pdf") and not e.name.startswith(".")]
        return Run(households=0, seconds=last or seconds, pieces=len(sizes), pages=0,
                   peak_rss=peak, first_piece=first, piece_sizes=sizes, cpu_seconds=cpu,
                   exit_code=proc.returncode, partial=True, last_piece=last,
                   first_rendered=rendered)
    if proc.returncode not in (0, 1):
        sys.exit(f"merge failed ({proc.returncode}):\n{stderr.decode()[-3000:]}")
    if first is not None and last is None:
        last = seconds
    text = (out / "manifest.csv").read_bytes().decode("utf-8-sig")
    pages: dict[str, int] = {}
    for row in csv.DictReader(io.StringIO(text)):
        if row["piece_id"]:
            pages[row["piece_id"]] = int(row["pages"])
    sizes = [e.stat().st_size for e in os.scandir(pieces) if e.name.endswith(".pdf")]
    return Run(
        households=0, seconds=seconds, pieces=len(pages), pages=sum(pages.values()),
        peak_rss=peak, first_piece=first, piece_sizes=sizes,
        print_bytes=sum(p.stat().st_size for p in (out / "print").glob("*.pdf")),
        static_bytes=sum(p.stat().st_size for p in (out / "static").glob("*.pdf")),
        cpu_seconds=cpu, exit_code=proc.returncode,
        last_piece=_last_piece(pieces, started_wall=time.time() - seconds),
        first_rendered=rendered,
    )


def _chunk_count(pieces: int) -> int:
    """How many chunks the merge cuts ``pieces`` pieces into (its default chunk size)."""
    from kenpo_docs.mailing.executor import chunks
    from kenpo_docs.mailing.options import MergeOptions

    size = MergeOptions.__dataclass_fields__["chunk_size"].default
    return sum(1 for _ in chunks(range(pieces), size))  # type: ignore[arg-type]


def _last_piece(pieces: Path, started_wall: float) -> float | None:
    """Seconds from the start to the newest piece file (its mtime)."""
    times = [e.stat().st_mtime for e in os.scandir(pieces) if e.name.endswith(".pdf")]
    return max(times) - started_wall if times else None


def run_naive(roster: Path, out: Path, households: int) -> tuple[int, float]:
    """The naive way, in this process: one document per letter and per form.

    Returns (pieces, CPU seconds): CPU time, like the merge's, so that other load on a
    shared machine does not flatter or hurt the ratio.
    """
    from pypdf import PdfReader, PdfWriter

    from kenpo_docs.barcodes.piececode import piece_code_text, stamp_page
    from kenpo_docs.documents import forms
    from kenpo_docs.documents.letters import get_letter, load_envelope
    from kenpo_docs.input.roster import read_roster
    from kenpo_docs.mailing.chunk import ChunkJob, letter_context
    from kenpo_docs.mailing.plan import plan_batch
    from kenpo_docs.publish.notices import render_notice
    from kenpo_docs.render import RenderOptions, render_pdf

    as_of = date.fromisoformat(AS_OF)
    out.mkdir(parents=True, exist_ok=True)
    started = time.process_time()
    letter = get_letter(LETTER)
    plan = plan_batch(read_roster(roster, as_of=as_of), letter, as_of=as_of, batch_id="NAIVE")
    options = RenderOptions(as_of=as_of, pdf_tags=False)
    notice = PdfReader(io.BytesIO(render_notice(539, "pdf")))
    envelope = load_envelope("naga3")
    pieces = plan.pieces[:households]
    for piece in pieces:
        job = ChunkJob(pieces=(piece,), letter=LETTER, as_of=as_of, notice="539",
                       envelope=envelope, forms=(), static=(), pieces_dir=out)
        writer = PdfWriter()
        writer.append(PdfReader(io.BytesIO(
            render_pdf(letter.template, letter_context(job), options=options))))
        item = forms.form_context("bessou1", piece.household, as_of=as_of,
                                  anchor=f"form-bessou1-{piece.piece_id}")
        writer.append(PdfReader(io.BytesIO(render_pdf(
            forms.FORMS["bessou1"].template, {"forms": [item]}, options=options))))
        writer.append(notice)
        total = len(writer.pages)
        for i, page in enumerate(writer.pages, start=1):
            stamp_page(page, piece_code_text(piece.piece_id, i, total))
        with open(out / f"{piece.piece_id}.pdf", "wb") as fh:
            writer.write(fh)
    return len(pieces), time.process_time() - started


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _mib(n: float) -> str:
    return f"{n / 2**20:.0f} MiB"


def _kb(n: float) -> str:
    return f"{n / 1000:.0f} KB"


def main() -> None:
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", "200,1000").split(",") if s]
    workers = int(os.environ.get("BENCH_WORKERS", "0"))
    naive_n = int(os.environ.get("BENCH_NAIVE", "20"))
    keep = os.environ.get("BENCH_KEEP") == "1"
    partial_above = int(os.environ.get("BENCH_PARTIAL_ABOVE", "100000"))
    share = float(os.environ.get("BENCH_PARTIAL", "0.1"))
    reference = int(os.environ.get("BENCH_REFERENCE", "10000"))
    wanted = os.environ.get("BENCH_VARIANTS", "letter,cards").split(",")
    variants = tuple(v for v in VARIANTS if ("cards" if not v[1] else "letter") in wanted)
    with_check = os.environ.get("BENCH_CHECK") == "1"
    cluster = os.environ.get("BENCH_CLUSTER")
    sort = os.environ.get("BENCH_SORT", "workplace")
    tagging = os.environ.get("BENCH_TAGS") == "1"
    if tagging:
        variants = TAG_VARIANTS
    elif cluster:
        variants = (("letter, local pool", ("--no-cards",)),
                    (f"letter, --cluster {cluster}", ("--no-cards", "--cluster", cluster)))
    if any(n > reference for n in sizes) and reference not in sizes:
        sizes = sorted({*sizes, reference})  # the same-run reference for the big sizes
    cores = os.cpu_count() or 1
    tmp = Path(tempfile.mkdtemp(prefix="kenpo-bench-"))
    lines = [f"## {datetime.now():%Y-%m-%d %H:%M} commit {_commit()}, {cores} cores, "
             f"workers {workers or cores}, load average at the start "
             f"{os.getloadavg()[0]:.1f}", ""]
    from importlib.metadata import version

    lines.append(f"Font subsetting: uharfbuzz {version('uharfbuzz')} (pinned); "
                 f"packet: letter {LETTER} + {' + '.join(ENCLOSURES)}, piece codes, "
                 f"customer barcodes; --sort {sort} (the rosters are in household order"
                 f"{': the early start applies' if sort == 'roster' else ''}).")
    lines.append("")
    lines.append("| households | packet | runs | pieces | pages | s (median) | pieces/s | "
                 "pages/s | CPU s/piece | peak RSS tree | first piece s | "
                 "first piece rendered s | pieces/s after the first | "
                 "piece KB median/p90/max | print files | sum of pieces |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    best: float | None = None
    peaks: dict[int, int] = {}
    cpu_rates: list[float] = []
    costs: list[str] = []
    checks: list[str] = []
    for n in sizes:
        roster = write_roster(n, tmp / f"roster-{n}.csv")
        partial = n > partial_above
        stop_at = max(1, int(n * share)) if partial else None
        if with_check:
            seconds, peak = run_check(roster)
            rows = sum(1 for _ in roster.open("rb")) - 1
            checks.append(f"{n:,} households ({rows:,} rows): {seconds:.1f} s, peak "
                          f"{_mib(peak)}")
            print(f"check {n} households: {seconds:.1f} s, peak {_mib(peak)}", flush=True)
        runs_n = int(os.environ.get("BENCH_RUNS", "3" if n <= 200 else "1"))
        runs: dict[str, list[Run]] = {name: [] for name, _ in variants}
        for i in range(runs_n):
            for v, (name, extra) in enumerate(variants):
                out = tmp / f"out-{n}-{i}-{v}"
                run = run_merge(roster, out, workers, (*extra, "--sort", sort),
                                stop_at=stop_at, untagged=name == UNTAGGED)
                run.households = n
                runs[name].append(run)
                print(f"{n} households, {name}, run {i + 1}/{runs_n}"
                      f"{' (partial)' if run.partial else ''}: {run.pieces} pieces in "
                      f"{run.seconds:.1f} s = {run.pieces_per_s:.1f} pieces/s, peak "
                      f"{_mib(run.peak_rss)}, first piece {run.first_piece or 0:.1f} s "
                      f"(rendered {run.first_rendered or 0:.1f} s), "
                      f"{run.render_rate:.1f} pieces/s after it", flush=True)
                if not keep:
                    shutil.rmtree(out, ignore_errors=True)
        rates: dict[str, float] = {}
        cpus: dict[str, float] = {}
        for name, _ in variants:
            done = runs[name]
            med = statistics.median(r.seconds for r in done)
            r0 = done[0]
            peak = max(r.peak_rss for r in done)
            peaks[n] = max(peaks.get(n, 0), peak)
            first = statistics.median(r.first_piece or float("nan") for r in done)
            rendered = statistics.median(r.first_rendered or float("nan") for r in done)
            after = statistics.median(r.render_rate for r in done)
            rate = rates[name] = r0.pieces / med
            if n == max(sizes) and name == variants[0][0]:
                best = rate
            sizes_sorted = sorted(r0.piece_sizes)
            cpu = cpus[name] = statistics.median(r.cpu_seconds for r in done) / r0.pieces
            if name == variants[0][0]:
                cpu_rates.append(1 / cpu)
            label = f"{n:,}" + (f" (partial: first {share:.0%})" if r0.partial else "")
            lines.append(
                f"| {label} | {name} | {runs_n} | {r0.pieces:,} | "
                f"{r0.pages:,} | {med:.1f} | "
                f"{rate:.1f} | {r0.pages / med:.1f} | {cpu:.3f} | {_mib(peak)} | {first:.1f} | "
                f"{rendered:.1f} | {after:.1f} | "
                f"{_kb(statistics.median(sizes_sorted))}/"
                f"{_kb(sizes_sorted[int(0.9 * (len(sizes_sorted) - 1))])}/"
                f"{_kb(sizes_sorted[-1])} | "
                f"{_mib(r0.print_bytes)} | {_mib(sum(r0.piece_sizes))} |"
            )
        if tagging:
            (ref, _), (tagged, _) = variants
            costs.append(f"{n:,} households: {rates[tagged]:.1f} vs {rates[ref]:.1f} pieces/s "
                         f"(median wall), cost {(1 - rates[tagged] / rates[ref]) * 100:.0f} %; "
                         f"CPU s/piece {cpus[tagged]:.4f} vs {cpus[ref]:.4f}, per CPU second "
                         f"{1 / cpus[tagged]:.1f} vs {1 / cpus[ref]:.1f} pieces, cost "
                         f"{(1 - cpus[ref] / cpus[tagged]) * 100:.1f} %")
        elif cluster:
            (ref, _), (on, _) = variants
            chunks = _chunk_count(runs[ref][0].pieces)
            walls = {k: statistics.median(r.seconds for r in runs[k]) for k in (ref, on)}
            costs.append(f"{n:,} households ({chunks} chunks): {rates[on]:.1f} vs "
                         f"{rates[ref]:.1f} pieces/s (median wall), "
                         f"{(walls[on] - walls[ref]) / chunks * 1000:+.0f} ms per chunk; "
                         f"per CPU second {1 / cpus[on]:.1f} vs {1 / cpus[ref]:.1f} pieces")
        elif len(variants) == 2:
            (ref, _), (cards, _) = variants
            costs.append(f"{n:,} households: {rates[cards]:.1f} vs {rates[ref]:.1f} pieces/s "
                         f"(median wall), cards cost {(1 - rates[cards] / rates[ref]) * 100:.0f}"
                         f" %; per CPU second {1 / cpus[cards]:.1f} vs {1 / cpus[ref]:.1f} "
                         f"pieces, cost {(1 - cpus[ref] / cpus[cards]) * 100:.0f} %")
    lines.append("")
    if costs and tagging:
        lines.append("Tagged pieces (issue 22) against the same packet untagged (same code, "
                     "KENPO_DOCS_BENCH_UNTAGGED=1, a measurement aid), no cards, same run, "
                     f"runs alternating, medians of {runs_n}; budget: the tagged packet costs "
                     "at most 15 % of the pieces/s (the CPU figure is the one a loaded machine "
                     "does not blur): " + "; ".join(costs) + ".")
    elif costs and cluster:
        lines.append(f"--cluster {cluster} against the local process pool (same packet, "
                     "no cards, runs alternating; the cluster's CPU figure counts only the "
                     "processes the merge waited for): " + "; ".join(costs) + ".")
    elif costs:
        lines.append("Cards (資格確認書 on A4 sheets after the letter) against the same packet "
                     "without them, same run, runs alternating (bar: at most 20 % fewer "
                     "pieces/s; the CPU figure is the one a loaded machine does not blur): "
                     + "; ".join(costs) + ".")
    if checks:
        lines.append("")
        lines.append("`kenpo-docs check` (wall, peak RSS of its process): "
                     + "; ".join(checks) + ".")
    if reference in peaks and any(n > reference for n in peaks):
        lines.append("")
        lines.append("Peak RSS against the same run's 10,000-household reference "
                     f"({_mib(peaks[reference])}): " + "; ".join(
                         f"{n:,}: {_mib(p)} ({p / peaks[reference] * 100 - 100:+.0f} %)"
                         for n, p in sorted(peaks.items()) if n > reference) + ".")
    elif len(peaks) > 1:
        lo, hi = min(peaks), max(peaks)
        lines.append("")
        lines.append(f"Peak RSS {hi:,} vs {lo:,} households: "
                     f"{peaks[hi] / peaks[lo] * 100 - 100:+.0f} %.")
    if os.environ.get("BENCH_NAIVE") == "0":
        _finish(lines, tmp, keep)
        return
    pieces, seconds = run_naive(tmp / f"roster-{sizes[0]}.csv", tmp / "naive", naive_n)
    naive_rate = pieces / seconds
    rate = best if best is not None else 0.0
    load = os.getloadavg()[0]
    lines.append("")
    lines.append(f"Naive reference (one WeasyPrint document per letter and per form, no print "
                 f"files, one process, {pieces} pieces): {seconds / pieces:.3f} CPU s/piece "
                 f"= {naive_rate:.2f} pieces/s per core. Ours at {max(sizes):,} households: "
                 f"{rate:.1f} pieces/s wall on {cores} cores = {rate / naive_rate:.1f}x the "
                 f"naive per-core rate; per CPU second {cpu_rates[-1] / naive_rate:.1f}x. "
                 f"Load average at the end: {load:.1f} (a shared machine slows the wall "
                 "figures, not the CPU ones).")
    _finish(lines, tmp, keep)


def _finish(lines: list[str], tmp: Path, keep: bool) -> None:
    lines.append("")
    text = "\n".join(lines)
    print(text)
    results = HERE / "results.md"
    if not results.exists():
        results.write_text("# Benchmark results (appended by `make bench`)\n\n", "utf-8")
    with results.open("a", encoding="utf-8") as fh:
        fh.write(text + "\n")
    if keep:
        print(f"outputs kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
