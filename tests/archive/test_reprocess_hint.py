"""`wirestance reprocess` that finds no archived article pages of a source says which hosts the archive has
and how to select them."""

from __future__ import annotations

import pytest
from stand_ins import FakeModel
from test_reprocess import ingest_with_archive

from wirestance.settings import Settings


@pytest.mark.usefixtures("prefect_harness")
def test_reprocess_without_the_mirror_host_names_the_hosts_found(
    settings: Settings, model: FakeModel, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    ingest_with_archive(settings, model)  # pages fetched from the sample on 127.0.0.1, not from aa.com.tr
    monkeypatch.setenv("WIRESTANCE_LAKE_URL", settings.lake_url)
    monkeypatch.setenv("WIRESTANCE_RAW_URL", settings.raw_url)
    import wirestance.flows.reprocess

    monkeypatch.setattr(wirestance.flows.reprocess, "champion_ref", lambda settings: FakeModel("champion-2"))
    from wirestance.cli import main

    assert main(["reprocess", "--since", "2019-11-01", "--until", "2019-11-30"]) == 0
    printed = capsys.readouterr().out
    assert (
        "no archived article pages of anadolu (aa.com.tr); the raw archive has pages of these hosts: 127.0.0.1; "
        "select one with --host, e.g. --host 127.0.0.1"
    ) in printed
