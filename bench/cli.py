"""`python -m bench`: build the synthetic corpus, run the parts, print `name: value` lines, write RESULTS.md."""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bench.env import Sandbox, load_average, machine_info, repo_root
from wirestance.classifiers.champion import CHAMPION_FILE

if TYPE_CHECKING:
    from bench.corpus import Archive
    from bench.results import Results

PARTS = ("parse", "classify", "e2e", "growth", "fetch", "lake")
MAX_N = 100_000
#: Pages timed by the parse part (its rate does not depend on N) and paragraphs by the classify part.
PARSE_PAGES = 300
CLASSIFY_PARAGRAPHS = 3_000
#: Articles ingested over loopback by the fetch part.
FETCH_PAGES = 500


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--n", type=int, default=2_000, help=f"articles in the synthetic archive (1..{MAX_N:,})")
    parser.add_argument(
        "--only", action="append", choices=PARTS, metavar="NAME", help=f"run only this part ({', '.join(PARTS)})"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic pages")
    parser.add_argument(
        "--repeats", type=int, default=3, help="passes of each parse/classify timing, rounds of e2e runs (best kept)"
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="results file (default: bench/out/RESULTS.md; bench/RESULTS.md only with --write-results)",
    )
    parser.add_argument(
        "--write-results", action="store_true", help="write the committed bench/RESULTS.md (replacing its run)"
    )
    parser.add_argument("--append", action="store_true", help="add this run to the results file, keep earlier ones")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (lake, archive, logs)")
    parser.add_argument(
        "--models",
        type=Path,
        metavar="DIR",
        help="bench the champion of this model registry (copied into the temp dir, never written to); "
        "default: train one from data/labeled, as a fresh clone does",
    )
    return parser


#: The extra `python -m bench` needs beyond wirestance itself (the parse part compares with trafilatura).
BENCH_EXTRA_MODULES = ("trafilatura", "lxml_html_clean")
INSTALL_HINT = "python -m bench needs its extra: pip install -e '.[bench]'"


def missing_extra() -> list[str]:
    import importlib

    missing = []
    for name in BENCH_EXTRA_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not 1 <= args.n <= MAX_N:
        print(f"python -m bench: --n must be between 1 and {MAX_N:,}", file=sys.stderr)
        return 2
    missing = missing_extra()
    if missing:
        print(f"{INSTALL_HINT} ({', '.join(missing)} missing)", file=sys.stderr)
        return 2
    if args.output is None:
        args.output = repo_root() / "bench" / ("RESULTS.md" if args.write_results else "out/RESULTS.md")
        args.output.parent.mkdir(parents=True, exist_ok=True)
    parts = [p for p in PARTS if p in (args.only or PARTS)]
    if args.models is not None and not (args.models / CHAMPION_FILE).is_file():
        print(f"python -m bench: --models {args.models}: no model registry with a champion there", file=sys.stderr)
        return 2
    sandbox = Sandbox(Path(tempfile.mkdtemp(prefix="wirestance-bench-")))
    sandbox.enter()  # before anything imports Prefect
    if args.models is not None:
        shutil.copytree(args.models, sandbox.models_dir)
    try:
        return _run(args, parts, sandbox)
    except KeyboardInterrupt:
        # The child processes (the e2e run, the replay server) are stopped by the context managers and
        # subprocess.run on the way out; nothing is written.
        print("python -m bench: interrupted; no results written", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"# kept {sandbox.root}")
        else:
            shutil.rmtree(sandbox.root, ignore_errors=True)


def _run(args: argparse.Namespace, parts: list[str], sandbox: Sandbox) -> int:
    from bench import report
    from bench.results import Results

    started, load_before = time.perf_counter(), load_average()
    results = Results()
    print(f"# wirestance bench: N={args.n}, parts {', '.join(parts)}, temp dir {sandbox.root}", flush=True)
    from wirestance.cli.progress import print_summary, progress_bar

    with progress_bar("bench", len(parts), "parts") as advance:
        _run_parts(results, args, parts, sandbox, advance)
    command = "python -m bench " + shlex.join(argv_for_report(args))
    section = report.render(
        results,
        command=command.strip(),
        n=args.n,
        parts=parts,
        machine=machine_info(),
        load_before=load_before,
        load_after=load_average(),
        seconds=time.perf_counter() - started,
    )
    report.write(args.output, section, append=args.append)
    print(f"# results written to {args.output}")
    print_summary(
        "Bench",
        [
            ("parts", ", ".join(parts)),
            ("articles (N)", f"{args.n:,}"),
            ("seconds", f"{time.perf_counter() - started:.0f}"),
            ("results written to", args.output),
            ("lake, archive and logs", sandbox.root if args.keep else f"{sandbox.root} (removed; --keep keeps it)"),
        ],
    )
    return 0


def _run_parts(
    results: Results, args: argparse.Namespace, parts: list[str], sandbox: Sandbox, advance: Callable[[], None]
) -> None:
    """Each part in order; `advance` moves the progress bar once per part done."""
    # Imported here, after Sandbox.enter(): these import Prefect, which reads its settings on import.
    from bench import classify, corpus, e2e, fetch, parse
    from wirestance.settings import Settings

    settings = Settings.from_env()
    model = classify.load_model(settings) if set(parts) - {"parse", "lake"} else None  # trains the champion once
    if "parse" in parts or "classify" in parts:
        pages = corpus.sample_pages(min(args.n, PARSE_PAGES), args.seed)
        if "parse" in parts:
            parse.run(results, pages, args.repeats)
            advance()
        if "classify" in parts:
            texts = [t for p in pages for t in parse.ours_paragraphs(p)]
            if len(texts) < CLASSIFY_PARAGRAPHS:  # small --n: more pages, for a steady figure
                more = corpus.sample_pages(CLASSIFY_PARAGRAPHS // 10, args.seed + 1)
                texts += [t for p in more for t in parse.ours_paragraphs(p)]
            classify.run(results, texts[:CLASSIFY_PARAGRAPHS], settings, args.repeats)
            advance()
    flow_at_n = None
    workers = settings.workers
    if "e2e" in parts or "growth" in parts:
        archive = _archive(results, sandbox, args.n, args.seed)
        # Rounds of the flow, plain and one-worker runs, interleaved, the fastest of each kept: on a shared
        # machine a slow spell only slows a run down, and interleaving spreads such spells over the configurations.
        # Every other round runs them in reverse order, so that a steady drift of the machine's speed favours
        # neither run of an adjacent pair (the paired figures, below).
        rounds = max(1, args.repeats) if "e2e" in parts else 1
        configurations = [("flow", workers)]
        if "e2e" in parts:
            configurations += [("plain", workers), ("plain", 1)]
        runs: dict[tuple[str, int], list[e2e.Run]] = {configuration: [] for configuration in configurations}
        for round_index in range(rounds):
            for mode, count in configurations if round_index % 2 == 0 else configurations[::-1]:
                runs[mode, count].append(e2e.run_once(sandbox, archive, mode, count))
                results.note(e2e.describe(runs[mode, count][-1]))
        flow_at_n = e2e.fastest(runs["flow", workers])
        if "e2e" in parts:
            floor = e2e.run_once(sandbox, archive, "floor", 0)
            results.note(e2e.describe(floor))
            if rounds > 1:
                results.note(f"e2e figures: the fastest of {rounds} interleaved rounds of each run (memory: largest)")
            e2e.record_e2e(
                results, flow_at_n, e2e.fastest(runs["plain", workers]), e2e.fastest(runs["plain", 1]), floor
            )
            if rounds > 1:
                e2e.record_paired(results, runs["flow", workers], runs["plain", workers], runs["plain", 1])
            advance()
        shutil.rmtree(archive.raw.parent, ignore_errors=True)
    if "growth" in parts and flow_at_n is not None:
        large_archive = _archive(results, sandbox, 10 * args.n, args.seed)
        large = e2e.run_once(sandbox, large_archive, "flow", workers)
        results.note(e2e.describe(large))
        e2e.record_growth(results, flow_at_n, large)
        shutil.rmtree(large_archive.raw.parent, ignore_errors=True)
        advance()
    if "fetch" in parts:
        assert model is not None
        fetch.run(results, sandbox, min(args.n, FETCH_PAGES), args.seed, model)
        advance()
    if "lake" in parts:
        from bench import lake

        # The default N (2,000) gives 30 days of 100 articles and 20 timed batches; the smoke run a small lake.
        lake.run(
            results,
            sandbox.root,
            args.repeats,
            history_days=min(30, max(5, args.n // 70)),
            growth_batch=min(500, max(50, args.n // 4)),
        )
        advance()


def _archive(results: Results, sandbox: Sandbox, n: int, seed: int) -> Archive:
    from bench import corpus

    archive = corpus.build_archive(sandbox.root / f"archive-{n}", n, seed)
    results.note(
        f"archive of {n:,} pages ({archive.paragraphs:,} paragraphs, {archive.bytes / 1024**2:.0f} MiB of WARC) "
        f"built by WarcWriter in {archive.build_seconds:.1f} s"
    )
    return archive


def argv_for_report(args: argparse.Namespace) -> list[str]:
    out = ["--n", str(args.n)]
    for part in args.only or []:
        out += ["--only", part]
    if args.models is not None:
        out += ["--models", str(args.models)]
    return out
