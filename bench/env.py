"""The benchmark's sandbox (temp dirs and environment) and what it records about the machine."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

LIBRARIES = (
    "wirestance",
    "prefect",
    "lxml",
    "trafilatura",
    "scikit-learn",
    "numpy",
    "scipy",
    "pyarrow",
    "requests",
    "warcio",
)

# Prefect settings that would point a run at a real server or the user's profile.
_PREFECT_ESCAPES = ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILES_PATH", "PREFECT_PROFILE")


@dataclass(frozen=True)
class Sandbox:
    """Everything a run writes lives under `root`: lake, raw archive, model registry, Prefect home."""

    root: Path

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def prefect_home(self) -> Path:
        return self.root / "prefect"

    def environ(self, **extra: str) -> dict[str, str]:
        """The environment of the current process, made safe for benchmark runs (and child processes)."""
        env = {k: v for k, v in os.environ.items() if k not in _PREFECT_ESCAPES and not k.startswith("WIRESTANCE_")}
        env.update(
            DO_NOT_TRACK="1",
            PREFECT_HOME=str(self.prefect_home),
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            # Ephemeral mode: the flow starts a throwaway local API server with SQLite under PREFECT_HOME.
            PREFECT_SERVER_ALLOW_EPHEMERAL_MODE="true",
            # Its start is timed apart; on a loaded machine it takes longer than Prefect's default 20 s wait.
            PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180",
            WIRESTANCE_MODELS_DIR=str(self.models_dir),
            WIRESTANCE_LAKE_URL=str(self.root / "lake-unused"),
            WIRESTANCE_RAW_URL=str(self.root / "raw-unused"),
            PYTHONPATH=os.pathsep.join(p for p in (str(repo_root()), env_get("PYTHONPATH")) if p),
        )
        env.update(extra)
        return env

    def enter(self) -> None:
        """Apply `environ()` to this process (before Prefect is imported)."""
        env = self.environ()
        for key in [k for k in os.environ if k not in env]:
            del os.environ[key]
        os.environ.update(env)


def env_get(name: str) -> str:
    return os.environ.get(name, "")


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def memory_total_bytes() -> int:
    with open("/proc/meminfo", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return 0


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def machine_info() -> dict[str, str]:
    """Cores, memory, platform and library versions, for RESULTS.md."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0
    info = {
        "cores": f"{usable} usable of {os.cpu_count()}",
        "memory": f"{memory_total_bytes() / 1024**3:.1f} GiB",
        "cpu": _cpu_model(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
    }
    for name in LIBRARIES:
        try:
            info[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            info[name] = "not installed"
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
