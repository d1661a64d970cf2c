"""`wirestance reprocess` that finds no archived article pages of a source says why and what to select:
the hosts the archive has (--host), or, when the pages read are another site's, --source."""

from __future__ import annotations

import pytest
from stand_ins import FakeModel
from test_reprocess import ingest_with_archive

from wirestance.settings import Settings


@pytest.fixture
def archived_sample(settings: Settings, model: FakeModel, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample ingested through the archive (pages fetched from 127.0.0.1, not from aa.com.tr), the CLI
    pointed at its lake and raw archive, and a stand-in champion."""
    ingest_with_archive(settings, model)
    monkeypatch.setenv("WIRESTANCE_LAKE_URL", settings.lake_url)
    monkeypatch.setenv("WIRESTANCE_RAW_URL", settings.raw_url)
    import wirestance.flows.reprocess

    monkeypatch.setattr(wirestance.flows.reprocess, "champion_ref", lambda settings: FakeModel("champion-2"))


@pytest.mark.usefixtures("prefect_harness", "archived_sample")
def test_reprocess_without_the_mirror_host_names_the_hosts_found(capsys: pytest.CaptureFixture[str]):
    from wirestance.cli import main

    assert main(["reprocess", "--since", "2019-11-01", "--until", "2019-11-30"]) == 0
    printed = capsys.readouterr().out
    assert (
        "no archived article pages of anadolu (aa.com.tr); the raw archive has pages of these hosts: 127.0.0.1; "
        "select one with --host, e.g. --host 127.0.0.1"
    ) in printed


@pytest.mark.usefixtures("prefect_harness", "archived_sample")
def test_reprocess_of_a_source_whose_parser_knows_none_of_the_host_pages_says_so(capsys: pytest.CaptureFixture[str]):
    """--host 127.0.0.1 holds AA pages: RT's parser finds no article among them. The hint must not suggest
    the host already given, but say that the pages are not RT's and point to --source."""
    from wirestance.cli import main

    window = ["--since", "2019-11-01", "--until", "2019-11-30", "--host", "127.0.0.1"]
    assert main(["reprocess", *window, "--source", "anadolu", "--source", "rt"]) == 0
    printed = capsys.readouterr().out
    hints = [line for line in printed.splitlines() if line.startswith("no archived article pages")]
    assert len(hints) == 1, printed  # anadolu found its pages
    assert hints[0].startswith("no archived article pages of rt: the "), hints
    assert "archived pages read from rt.com, 127.0.0.1 are not articles its parser knows" in hints[0]
    assert "--source" in hints[0] and "--host" not in hints[0]
