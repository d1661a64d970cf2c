"""Stance classification of news paragraphs about Turkey's S-400 purchase.

Plain functions and classes only: orchestration (Prefect) lives in flows/, the CLI in wirestance.cli.model.
"""

from wirestance.classifiers.labels import LABELS

__all__ = ["LABELS"]
