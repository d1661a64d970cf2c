"""End to end on one real `wirestance serve`: it starts its own Prefect server (SQLite in a temp
PREFECT_HOME) and serves the deployments; backfills are triggered through the API, the CLI and the
browser, over the offline sample site replayed on loopback. The tests run in file order and share the
one server; the last one stops it with SIGTERM.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from deploy_support import (
    OUTPUT,
    Child,
    api,
    base_env,
    expected_articles,
    free_port,
    healthy,
    lake_tables,
    record_timing,
    wait_for,
    wirestance_argv,
)
from prefect.client.schemas.objects import FlowRun

from wirestance.deployments import BACKFILL, INGEST_LATEST, MAINTAIN_LAKE, RETRAIN
from wirestance.replay import ReplayServer

pytestmark = pytest.mark.slow

RUN_TIMEOUT = 180.0
CHROMIUM = Path("/usr/bin/chromium")
#: Flags measured to keep Debian's Chromium quiet and local here (see shared notes on the Prefect UI).
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@dataclass
class Served:
    child: Child
    home: Path
    api_url: str
    ui_url: str
    lake_url: str
    models_dir: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("prefect-home")
    lake = tmp_path_factory.mktemp("served") / "lake"
    port = free_port()
    env = base_env(
        home,
        WIRESTANCE_LAKE_URL=str(lake),
        WIRESTANCE_MODELS_DIR=str(models_dir),
        # A schedule that exists (checked below) but cannot fire during the tests.
        WIRESTANCE_INGEST_CRON="0 0 1 1 *",
    )
    child = Child("wirestance serve", wirestance_argv("serve", "--port", str(port)), env, home / "serve.log")
    api_url, ui_url = f"http://127.0.0.1:{port}/api", f"http://127.0.0.1:{port}/v2"
    try:
        wait_for(lambda: "serving these deployments" in child.output(), 120, "serve start", child)
        up = re.search(r"Prefect server up in ([\d.]+) s", child.output())
        assert up, child.tail()
        record_timing("prefect server start (cold, fresh PREFECT_HOME)", float(up.group(1)))
        with api(api_url):
            names = {BACKFILL, INGEST_LATEST, RETRAIN, MAINTAIN_LAKE}
            wait_for(lambda: _deployment_ids(api_url).keys() >= names, 60, "deployments", child)
            record_timing("wirestance serve start until deployments are served", time.monotonic() - child.started)
            yield Served(child, home, api_url, ui_url, str(lake), models_dir)
    finally:
        child.stop()
        _stop_leftover_server(home)


def _stop_leftover_server(home: Path) -> None:
    """If serve died without stopping the server it started, stop that server (its pid is in the lock)."""
    try:
        pid = json.loads((home / "wirestance-serve.lock").read_text(encoding="utf-8") or "{}").get("server_pid")
    except (OSError, ValueError):
        return
    if pid:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)


def _deployment_ids(api_url: str) -> dict[str, UUID]:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return {f"{_flow_name(client, d.flow_id)}/{d.name}": d.id for d in client.read_deployments()}


def _flow_name(client: Any, flow_id: UUID) -> str:
    return str(client.read_flow(flow_id).name)


def _start(parameters: dict[str, Any]) -> UUID:
    from prefect.deployments import run_deployment

    run = run_deployment(BACKFILL, parameters=parameters, timeout=0)
    assert isinstance(run, FlowRun)  # sync here: run_deployment dispatches on the context
    return run.id


def _wait_final(run_ids: list[UUID], timeout: float = RUN_TIMEOUT) -> dict[UUID, Any]:
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            runs = {run_id: client.read_flow_run(run_id) for run_id in run_ids}
            if all(run.state is not None and run.state.is_final() for run in runs.values()):
                return runs
            if time.monotonic() > deadline:
                states = {str(k): (r.state.type if r.state else None) for k, r in runs.items()}
                pytest.fail(f"runs not finished after {timeout:.0f} s: {states}")
            time.sleep(0.5)


def _artifacts(run_id: UUID) -> dict[str, Any]:
    """The run's artifacts by key (the latest of each key), data decoded."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
    by_key: dict[str, list[Any]] = {}
    for artifact in sorted(found, key=lambda a: str(a.created)):
        data = artifact.data
        if artifact.type == "table" and isinstance(data, str):
            data = json.loads(data)
        by_key.setdefault(artifact.key or artifact.type or "", []).append(data)
    return by_key


def _task_runs(run_id: UUID) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        return list(client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))))


def _backfill_parameters(first: str, last: str, chunk_days: int, feed_base_url: str) -> dict[str, Any]:
    """A backfill's parameters as the API takes them: the first day and the number of days (last included)."""
    days = (date.fromisoformat(last) - date.fromisoformat(first)).days + 1
    return {"dates": {"start_date": first, "days": days}, "chunk_days": chunk_days, "feed_base_url": feed_base_url}


def _check_lake(lake_url: str, champion: str) -> tuple[Any, Any]:
    articles, paragraphs = lake_tables(lake_url)
    assert not articles.duplicated(["source", "article_id"]).any(), "an article is stored twice"
    assert not paragraphs.duplicated(["source", "article_id", "para_index"]).any(), "a paragraph is stored twice"
    assert len(paragraphs) == int(articles["n_paragraphs"].sum()) > 0
    assert set(paragraphs["label"]) <= {"russian_supplier", "turkish_government", "us_objection", "none"}
    assert paragraphs["label"].notna().all() and paragraphs["confidence"].between(0, 1).all()
    assert set(paragraphs["model_version"]) == {champion}
    return articles, paragraphs


def test_serve_prints_the_ui_and_serves_four_deployments(served: Served):
    out = served.child.output()
    assert f"Prefect UI: {served.ui_url}/" in out
    for name in (INGEST_LATEST, BACKFILL, RETRAIN, MAINTAIN_LAKE):
        assert f"  {name}" in out
    from prefect.client.orchestration import get_client

    ids = _deployment_ids(served.api_url)
    assert set(ids) == {INGEST_LATEST, BACKFILL, RETRAIN, MAINTAIN_LAKE}
    with get_client(sync_client=True) as client:
        ingest = client.read_deployment(ids[INGEST_LATEST])
        backfill = client.read_deployment(ids[BACKFILL])
    assert [s.schedule.cron for s in ingest.schedules] == ["0 0 1 1 *"]  # type: ignore[union-attr]
    assert ingest.global_concurrency_limit is not None and ingest.global_concurrency_limit.limit == 1
    assert not backfill.schedules and backfill.entrypoint == "wirestance.flows.backfill.backfill"
    assert (backfill.parameter_openapi_schema or {})["required"] == ["dates"]
    from prefect.deployments import run_deployment
    from prefect.exceptions import PrefectHTTPStatusError

    with pytest.raises(PrefectHTTPStatusError, match="'dates' is a required property"):
        run_deployment(BACKFILL, timeout=0)  # a quick run: no dates


def test_a_second_serve_says_one_is_running_instead_of_starting_a_twin(served: Served):
    env = base_env(served.home)
    started = time.monotonic()
    result = subprocess.run(
        wirestance_argv("serve", "--port", str(free_port())), env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "already running" in result.stderr and f"UI {served.ui_url}" in result.stderr
    assert time.monotonic() - started < 30
    assert served.child.alive()


def test_backfill_through_the_api_overlapping_runs_and_a_rerun(served: Served, replay: ReplayServer):
    from wirestance.classifiers.registry import ModelRegistry

    july = _backfill_parameters("2019-07-10", "2019-07-20", 5, replay.base_url)  # 3 chunks
    wide = _backfill_parameters("2019-07-15", "2019-11-30", 30, replay.base_url)  # overlaps july's last days
    started = time.monotonic()
    with api(served.api_url):
        first, second = _start(july), _start(wide)  # both at once: they write the same partitions
        runs = _wait_final([first, second])
        record_timing("two overlapping backfills through the API (model trained)", time.monotonic() - started)
        for run in runs.values():
            assert run.state.is_completed(), f"{run.name}: {run.state.message}\n{served.child.tail()}"

        wanted = expected_articles(date(2019, 7, 10), date(2019, 11, 30))
        assert len(wanted) == 5
        champion = ModelRegistry(served.models_dir).champion_version()
        assert champion
        articles, paragraphs = _check_lake(served.lake_url, champion)
        assert set(articles["article_id"]) == wanted

        chunks = sorted(t.name for t in _task_runs(first) if t.name.startswith("chunk "))
        assert chunks == ["chunk 2019-07-10..2019-07-14", "chunk 2019-07-15..2019-07-19", "chunk 2019-07-20"]
        artifacts = _artifacts(first)
        assert artifacts["backfill-progress"][-1] == 100
        per_chunk = {"backfill-2019-07-10-to-2019-07-14", "backfill-2019-07-15-to-2019-07-19", "backfill-2019-07-20"}
        assert per_chunk <= set(artifacts)  # one table per chunk, named by its days
        first_rows, second_rows = artifacts["backfill-summary"][-1], _artifacts(second)["backfill-summary"][-1]
        assert first_rows[-1]["chunk"] == second_rows[-1]["chunk"] == "total"
        rows = first_rows[:-1] + second_rows[:-1]
        assert sum(row["new"] for row in rows) == len(wanted)  # each article was new for exactly one run
        assert all(row["new"] + row["unchanged"] == row["discovered"] for row in rows)

        started = time.monotonic()
        rerun = _start(july)
        (done,) = _wait_final([rerun]).values()
        record_timing("identical backfill rerun through the API", time.monotonic() - started)
        assert done.state.is_completed(), done.state.message
        summary = _artifacts(rerun)["backfill-summary"][-1][:-1]  # without the totals row
        assert sum(row["new"] + row["updated"] for row in summary) == 0
        assert sum(row["unchanged"] for row in summary) == 3
        after_articles, after_paragraphs = _check_lake(served.lake_url, champion)
        assert len(after_articles) == len(articles) and len(after_paragraphs) == len(paragraphs)
        assert sorted(after_articles["content_hash"]) == sorted(articles["content_hash"])


def test_a_cancelled_backfill_run_again_ends_with_the_lake_of_a_clean_run(served: Served, replay: ReplayServer):
    from prefect.client.orchestration import get_client
    from prefect.states import Cancelling

    long = _backfill_parameters("2017-09-01", "2018-12-31", 7, replay.base_url)  # 70 chunks
    started = time.monotonic()
    with api(served.api_url):
        run_id = _start(long)

        def some_chunks_done() -> bool:
            progress = _artifacts(run_id).get("backfill-progress", [0])
            return 5 <= float(progress[-1]) < 100

        wait_for(some_chunks_done, RUN_TIMEOUT, "a backfill part way through", served.child)
        with get_client(sync_client=True) as client:  # what the UI's Cancel does
            client.set_flow_run_state(run_id, Cancelling(), force=True)
        (cancelled,) = _wait_final([run_id]).values()
        assert cancelled.state.is_cancelled(), cancelled.state
        assert float(_artifacts(run_id)["backfill-progress"][-1]) < 100

        rerun = _start({**long, "chunk_days": 60})  # same range; chunk size does not matter to the result
        (done,) = _wait_final([rerun]).values()
        record_timing("cancel a backfill part way, then run it again", time.monotonic() - started)
    assert done.state.is_completed(), done.state.message
    wanted = expected_articles(date(2017, 9, 1), date(2018, 12, 31))
    assert len(wanted) == 6
    articles, _ = _check_lake(served.lake_url, str(_champion(served)))
    stored = articles[articles["published"].dt.year.isin([2017, 2018])]
    assert set(stored["article_id"]) == wanted


def _champion(served: Served) -> str | None:
    from wirestance.classifiers.registry import ModelRegistry

    return ModelRegistry(served.models_dir).champion_version()


def test_the_trigger_hint_serve_prints_runs_as_copied(served: Served, tmp_path: Path):
    """The `prefect deployment run ...` line `wirestance serve` prints, run as is in a shell (with the offline
    sample served by `wirestance sample serve` where the hint says), creates a backfill run that completes."""
    (hint,) = [line.strip() for line in served.child.output().splitlines() if "prefect deployment run" in line]
    assert hint.startswith(f"PREFECT_API_URL={served.api_url} prefect deployment run {BACKFILL} ")
    sample_port = int(re.search(r"feed_base_url=http://127\.0\.0\.1:(\d+)", hint).group(1))  # type: ignore[union-attr]
    sample: Child | None = None
    if _port_free(sample_port):
        env = base_env(tmp_path / "sample-home", WIRESTANCE_LAKE_URL=str(tmp_path / "unused-lake"))
        argv = wirestance_argv("sample", "serve", "--port", str(sample_port))
        sample = Child("wirestance sample serve", argv, env, tmp_path / "sample.log")
    try:
        if sample is not None:
            wait_for(lambda: "base URL:" in sample.output(), 60, "sample serve start", sample)
        env = base_env(tmp_path / "prefect-home")
        env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"  # `prefect` of this environment
        result = subprocess.run(["bash", "-c", hint], env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        found = re.search(r"UUID:\s*([0-9a-f-]{36})", result.stdout)
        assert found, result.stdout
        with api(served.api_url):
            (run,) = _wait_final([UUID(found.group(1))]).values()
    finally:
        if sample is not None:
            sample.stop()
    assert run.parameters == {
        "dates": {"start_date": "2019-11-25", "days": 2},
        "mode": "feeds",
        "feed_base_url": f"http://127.0.0.1:{sample_port}",
    }
    if sample is not None:  # the sample answered where the hint says: a clean run
        assert run.state.is_completed(), run.state.message
        with api(served.api_url):
            (total,) = [row for row in _artifacts(run.id)["backfill-summary"][-1] if row["chunk"] == "total"]
        assert total["failed"] == 0 and total["discovered"] > 0


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_prefect_cli_refuses_a_range_that_ends_before_it_starts(served: Served, replay: ReplayServer, tmp_path: Path):
    """`prefect deployment run` with a number of days below 1 (what an end before the start is): the server
    checks the parameters against the deployment's schema and creates no run; the reason names the field."""
    argv = [
        sys.executable,
        "-m",
        "prefect",
        "deployment",
        "run",
        BACKFILL,
        "--param",
        'dates={"start_date": "2019-07-20", "days": -9}',
        "--param",
        f"feed_base_url={replay.base_url}",
    ]
    env = base_env(tmp_path / "prefect-home", PREFECT_API_URL=served.api_url)
    with api(served.api_url):
        before = _run_count()
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "'dates.days'" in output and "-9 is less than the minimum of 1" in output, output
    with api(served.api_url):
        assert _run_count() == before


def _run_count() -> int:
    """Runs of the backfill deployment (the scheduler adds ingest-latest's own, far in the future)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

    with get_client(sync_client=True) as client:
        backfills = DeploymentFilter(name=DeploymentFilterName(any_=[BACKFILL.split("/")[1]]))
        return len(client.read_flow_runs(deployment_filter=backfills, limit=200))


def test_cli_backfill_in_process_with_the_dask_task_runner(served: Served, replay: ReplayServer, tmp_path: Path):
    """`wirestance backfill` runs the flow in its own process; with WIRESTANCE_TASK_RUNNER=dask the chunk
    (fetch, parse, classify, store) runs on a local Dask worker process."""
    lake = tmp_path / "lake"
    env = base_env(
        tmp_path / "prefect-home",
        PREFECT_API_URL=served.api_url,
        WIRESTANCE_TASK_RUNNER="dask",
        WIRESTANCE_LAKE_URL=str(lake),
        WIRESTANCE_MODELS_DIR=str(served.models_dir),
    )
    argv = wirestance_argv("backfill", "--since", "2019-11-26", "--until", "2019-11-27", "--base-url", replay.base_url)
    started = time.monotonic()
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    record_timing("wirestance backfill in-process with Dask (2 chunks)", time.monotonic() - started)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "Creating a new Dask cluster" in output
    # chunk, source, discovered, skipped_stored, fetched, from_archive, new
    assert re.search(r"2019-11-26\s+anadolu\s+2\s+0\s+2\s+0\s+2\s", result.stdout), result.stdout
    articles, _ = lake_tables(str(lake))
    assert set(articles["article_id"]) == expected_articles(date(2019, 11, 26), date(2019, 11, 27)) != set()


def test_browser_custom_run_with_a_typed_date_range(served: Served, replay: ReplayServer):
    """Deployments > backfill > Run > Custom run, dates typed into the form, until the UI shows Completed."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (scripts/install-test-services.sh installs it)")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            # The UI asks an outside host for analytics settings: only loopback is allowed out of the browser.
            context.route(re.compile(r"^(?!http://127\.0\.0\.1[:/]).*"), _abort)
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{served.ui_url}/deployments")
            page.get_by_role("link", name="backfill", exact=True).first.click()
            page.wait_for_function("document.title.startsWith('Deployment: backfill')")
            page.get_by_role("button", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Custom run").click()
            page.wait_for_url(re.compile(r".*/deployments/deployment/[^/]+/run.*"))
            _pick_date(page, sync_api, "First day", "2019-04-02", "April 2nd, 2019")
            _number_of_days(page).fill("2")
            # feed_base_url is `str | None`: switch it to a string and point it at the replayed sample.
            page.get_by_role("tab", name="str", exact=True).click()
            page.get_by_role("tabpanel").get_by_role("textbox").fill(replay.base_url)
            page.screenshot(path=str(OUTPUT / "backfill-custom-run-form.png"), full_page=True)
            run_name = page.get_by_role("textbox", name="Run Name").input_value()
            page.get_by_role("button", name="Submit").click()
            try:
                page.get_by_role("link", name="View run").click()
            except sync_api.TimeoutError:
                page.screenshot(path=str(OUTPUT / "backfill-custom-run-not-submitted.png"), full_page=True)
                raise
            page.wait_for_function(f"document.title.startsWith({json.dumps('Flow Run: ' + run_name)})")
            completed = page.get_by_role("main").locator('[data-slot="badge"]', has_text=re.compile(r"^Completed$"))
            completed.first.wait_for(timeout=RUN_TIMEOUT * 1000)
            with contextlib.suppress(sync_api.TimeoutError):  # the logs arrive a moment later; nicer picture
                page.get_by_text("backfill 2019-04-02..2019-04-03 done").wait_for(timeout=10_000)
            page.screenshot(path=str(OUTPUT / "backfill-run-completed.png"), full_page=True)
            run_id = UUID(page.url.split("/flow-run/")[1].split("?")[0])
        finally:
            browser.close()
    record_timing("browser: custom run typed into the form until Completed", time.monotonic() - started)
    with api(served.api_url):
        (run,) = _wait_final([run_id], 10).values()
    assert run.name == run_name and run.state.is_completed()
    # The time zone is left empty in the form: each source's own (Europe/Istanbul for the AA sample).
    assert {**run.parameters["dates"], "timezone": run.parameters["dates"].get("timezone") or ""} == {
        "start_date": "2019-04-02",
        "days": 2,
        "timezone": "",
    }
    articles, _ = lake_tables(served.lake_url)
    assert expected_articles(date(2019, 4, 2), date(2019, 4, 3)) <= set(articles["article_id"])


def test_browser_form_refuses_a_range_that_ends_before_it_starts(served: Served, replay: ReplayServer):
    """Custom run of the backfill: a range typed to end before it starts (a number of days below 1) is refused
    in the form itself, on the field, with the reason; no run is created."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (scripts/install-test-services.sh installs it)")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with api(served.api_url):
        deployment_id = _deployment_ids(served.api_url)[BACKFILL]
        before = _run_count()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.route(re.compile(r"^(?!http://127\.0\.0\.1[:/]).*"), _abort)
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{served.ui_url}/deployments/deployment/{deployment_id}/run")
            _pick_date(page, sync_api, "First day", "2019-07-20", "July 20th, 2019")
            # The last day 2019-07-10 is 9 days before the first: -9 days.
            _number_of_days(page).fill("-9")
            page.get_by_role("button", name="Submit").click()
            # The field carries the schema's minimum: the form shows the browser's message on it and submits
            # nothing (the server's own check, with the same minimum, is the CLI test above).
            message = _number_of_days(page).evaluate("field => field.validationMessage")
            page.screenshot(path=str(OUTPUT / "backfill-form-refuses-end-before-start.png"), full_page=True)
            assert message == "Value must be greater than or equal to 1."
            assert _number_of_days(page).evaluate("field => field.validity.rangeUnderflow") is True
            page.wait_for_timeout(3_000)  # a run the form did create anyway would show by now
            assert "/run" in page.url and page.get_by_role("link", name="View run").count() == 0
        finally:
            browser.close()
    with api(served.api_url):
        assert _run_count() == before


def _pick_date(page: Any, sync_api: Any, label: str, day: str, shown: str) -> None:
    """A date field of the run form: a button that opens a popover with a typed date (see the shared notes)."""
    page.get_by_role("button", name=label, exact=True).click()
    popover = page.get_by_role("textbox", name="Date (yyyy-MM-dd)")
    popover.fill(day)
    page.keyboard.press("Escape")
    sync_api.expect(popover).to_have_count(0)  # closed, so the next one is the only one
    sync_api.expect(page.get_by_role("button", name=label, exact=True)).to_have_text(shown)


def _number_of_days(page: Any) -> Any:
    return page.get_by_label("Number of days", exact=True)


def _abort(route: Any) -> None:
    with contextlib.suppress(Exception):  # the page may be gone already
        route.abort()


def test_sigterm_stops_serve_and_its_server_cleanly(served: Served):
    served.child.popen.send_signal(signal.SIGTERM)
    started = time.monotonic()
    returncode = served.child.popen.wait(timeout=60)
    record_timing("serve shutdown on SIGTERM (runner, then server)", time.monotonic() - started)
    assert returncode == 0, served.child.tail()
    assert "wirestance serve stopped" in served.child.output()
    assert not healthy(served.api_url)
