"""One import namespace: the wheel's only top-level package is `wirestance`, so another distribution named
`deployments`, `flows` or `classifiers` cannot shadow a part of it; the layers contract covers every module."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

import wirestance

REPO = Path(__file__).resolve().parents[2]
SEED_PAGE = REPO / "data" / "samples" / "anadolu_en" / "pages" / "1656284.html"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("wirestance-*.whl")
    return built


def test_wheel_has_one_top_level_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/", 1)[0] for name in names if not name.split("/", 1)[0].endswith((".dist-info", ".data"))}
    assert top == {"wirestance"}
    for moved in ("flows/ingest.py", "classifiers/registry.py", "deployments/__init__.py"):
        assert f"wirestance/{moved}" in names


@pytest.mark.slow
def test_installed_wheel_runs_beside_a_distribution_named_deployments(wheel: Path, tmp_path: Path) -> None:
    """A clean environment: the wheel, a dummy `deployments` distribution, and the dependencies from this
    checkout's environment (a path entry, so the editable install of this checkout is not seen)."""
    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True, timeout=120)
    python = env_dir / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    dummy = site / "deployments"
    dummy.mkdir()
    (dummy / "__init__.py").write_text("raise ImportError('the dummy deployments distribution was imported')\n")
    info = site / "deployments-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: deployments\nVersion: 1.0\n")
    (info / "RECORD").write_text("")
    # The dependencies: this environment's site-packages as a plain path entry, appended after the new
    # environment's own (a .pth line adds the folder without running the .pth files inside it).
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(python), "-m", "wirestance.cli", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
        )

    where = subprocess.run(
        [str(python), "-c", "import wirestance, wirestance.deployments as d; print(wirestance.__file__, d.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert where.returncode == 0, where.stderr
    assert str(site) in where.stdout and str(REPO) not in where.stdout
    parsed = run("parse", str(SEED_PAGE))
    assert parsed.returncode == 0, parsed.stderr
    assert '"article_id": "1656284"' in parsed.stdout
    served = run("serve", "--help")
    assert served.returncode == 0, served.stderr
    assert "usage: wirestance serve" in served.stdout


def test_every_core_module_is_under_the_import_contract() -> None:
    """The contract that keeps core modules from reaching up lists them by name: a new one must join it."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    (core,) = (c for c in contracts if c["type"] == "forbidden")
    upper = {"cli", "flows", "classifiers", "deployments", "__init__", "__main__", "py"}
    package = Path(wirestance.__file__).parent
    modules = {f"wirestance.{p.stem}" for p in package.iterdir() if p.suffix == ".py" or (p / "__init__.py").is_file()}
    modules = {m for m in modules if m.split(".", 1)[1] not in upper}
    assert modules <= set(core["source_modules"]), sorted(modules - set(core["source_modules"]))
