"""A small synthetic labelled corpus, written by the tests themselves, and settings pointing at tmp dirs."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from wirestance.settings import Settings

_SPEAKERS = {
    "russian_supplier": [
        "Alexander Mikheev, head of Rosoboronexport,",
        "Kremlin spokesman Dmitry Peskov",
        "Rostec chief Sergei Chemezov",
        "Dmitry Shugaev of the Federal Service for Military-Technical Cooperation",
    ],
    "turkish_government": [
        "Turkish President Recep Tayyip Erdogan",
        "Defence Minister Hulusi Akar",
        "Foreign Minister Mevlut Cavusoglu",
        "Ismail Demir, head of the Presidency of Defence Industries,",
    ],
    "us_objection": [
        "State Department spokeswoman Morgan Ortagus",
        "Pentagon acquisition chief Ellen Lord",
        "Senator Lindsey Graham",
        "Secretary of State Mike Pompeo",
    ],
}
_CLAIMS = {
    "russian_supplier": [
        "the delivery of the first regiment is complete",
        "the customer paid in full and all components were shipped",
        "a second batch could be produced partly on Turkish soil",
        "the training of combat crews in Gatchina ends this year",
        "Moscow is ready to offer its Su-57 fighters as well",
    ],
    "turkish_government": [
        "the purchase is a sovereign decision that nobody can reverse",
        "the batteries will not be integrated into alliance networks",
        "a joint technical commission could settle every doubt",
        "threats of sanctions will not change the decision",
        "the country needed air defence after allies refused to sell Patriots",
    ],
    "us_objection": [
        "the system is incompatible with alliance equipment",
        "the country will be removed from the F-35 programme",
        "CAATSA sanctions are mandatory under the law",
        "the radar would expose the stealth fighter to Moscow",
        "the deadline to drop the deal expires at the end of July",
    ],
}
_TEMPLATES = ["{s} said {c}.", "{c}, {s} told reporters.", "According to {s}, {c}.", "{s} stressed that {c}."]
_BACKGROUND = [
    "The S-400 can track dozens of targets at ranges of up to 400 kilometres.",
    "The contract for the four batteries was signed in December 2017.",
    "The first components arrived at Murted air base near the capital in July 2019.",
    "Greece operates the older S-300 system, bought in the late 1990s.",
    "Lira weakness has made imported weapons more expensive this year.",
    "The alliance summit will take place in London in December.",
    "Analysts expect the system to reach operational status next spring.",
    "The F-35 is built by Lockheed Martin with parts from several countries.",
    "Air defence exercises were held over the Black Sea last week.",
    "The exhibition in Moscow drew delegations from forty countries.",
    "A cargo plane carrying parts landed early on Friday morning.",
    "Satellite images showed launchers parked at the base.",
    "The system's radar can be mounted on a mast for longer range.",
    "Defence spending in the region has doubled over the decade.",
    "Weather delayed the flights for two days.",
    "The missile family includes interceptors of several ranges.",
    "India and China have also bought the system.",
    "Shares in defence companies rose after the announcement.",
    "The batteries are stored at a base outside the capital.",
    "Officials from both countries met in the capital last month.",
]


def synthetic_rows(n_per_label: int = 20, paragraphs_per_article: int = 5) -> list[dict[str, Any]]:
    """Distinct paragraphs; labels cycle within each article, so every article holds every label and any
    split by article keeps them all."""
    by_label: dict[str, list[str]] = {}
    for label, speakers in _SPEAKERS.items():
        combos = itertools.product(_TEMPLATES, speakers, _CLAIMS[label])
        texts = [template.format(s=speaker, c=claim) for template, speaker, claim in combos]
        by_label[label] = [text[0].upper() + text[1:] for text in texts[:: max(1, len(texts) // n_per_label)]]
        by_label[label] = by_label[label][:n_per_label]
    by_label["none"] = _BACKGROUND[:n_per_label]
    # Interleave the labels: r, t, u, n, r, t, u, n, ...
    interleaved = [
        (label, text)
        for group in zip(*by_label.values(), strict=True)
        for label, text in zip(by_label, group, strict=True)
    ]
    rows = []
    for position, (label, text) in enumerate(interleaved):
        rows.append(
            {
                "text": text,
                "label": label,
                "article_id": f"a{position // paragraphs_per_article:02d}",
                "para_index": position % paragraphs_per_article,
                "source": "synthetic",
                "date": "2019-11-26",
                "note": "",
            }
        )
    return rows


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture
def labeled_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "labeled"
    write_jsonl(directory / "synthetic.jsonl", synthetic_rows())
    return directory


@pytest.fixture
def settings(tmp_path: Path, labeled_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings on tmp dirs, also exported to the environment for code that reads Settings.from_env()."""
    models_dir = tmp_path / "models"
    monkeypatch.setenv("WIRESTANCE_MODELS_DIR", str(models_dir))
    monkeypatch.setenv("WIRESTANCE_LABELED_DIR", str(labeled_dir))
    yield Settings(models_dir=str(models_dir), labeled_dir=str(labeled_dir))


@pytest.fixture
def rows_writer(tmp_path: Path) -> Callable[[str, list[dict[str, Any]]], Path]:
    def write(name: str, rows: list[dict[str, Any]]) -> Path:
        return write_jsonl(tmp_path / name, rows)

    return write


@pytest.fixture
def make_rows() -> Callable[..., list[dict[str, Any]]]:
    """synthetic_rows, for tests that build variants of the corpus."""
    return synthetic_rows


@pytest.fixture(scope="session")
def stance_model(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One StanceModel trained on the synthetic corpus, shared by read-only tests."""
    from wirestance.classifiers.dataset import load_labeled_data
    from wirestance.classifiers.model import fit_pipeline
    from wirestance.classifiers.predict import StanceModel

    path = write_jsonl(tmp_path_factory.mktemp("corpus") / "synthetic.jsonl", synthetic_rows())
    return StanceModel(fit_pipeline(load_labeled_data(path)), "test-model")


# Paragraphs that carry no side of their own: only the speaker of an earlier paragraph says whose they are.
_CONTINUATIONS = [
    "He added that the talks would continue next week.",
    "She said more details would follow in the coming days.",
    '"We will keep working on this," he added.',
    "The official also said a further meeting was planned.",
    "He went on to say that the timetable remained the same.",
    "She noted that the question had been raised many times.",
]


def context_rows(n_articles: int = 72) -> list[dict[str, Any]]:
    """Articles of 4 paragraphs: a named speaker of one side, a continuation that names nobody (labelled
    with that speaker's side, guide rule 9), a background line, and a second named speaker."""
    sides = list(_SPEAKERS)
    rows = []
    for a in range(n_articles):
        first, second = sides[a % 3], sides[(a + 1 + a // 3) % 3]
        speaker = _SPEAKERS[first][a % 4]
        claim = _CLAIMS[first][a % 5]
        other = _SPEAKERS[second][(a + 1) % 4]
        other_claim = _CLAIMS[second][(a + 2) % 5]
        paragraphs = [
            (f"{speaker} said {claim} (story {a}).", first),
            (_CONTINUATIONS[(a // 3) % len(_CONTINUATIONS)].replace(".", f" ({a}).", 1), first),
            (_BACKGROUND[a % len(_BACKGROUND)].replace(".", f" (note {a}).", 1), "none"),
            (f"According to {other}, {other_claim} (item {a}).", second),
        ]
        for index, (text, label) in enumerate(paragraphs):
            rows.append({"text": text, "label": label, "article_id": f"c{a:03d}", "para_index": index, "source": "ctx"})
    return rows


@pytest.fixture(scope="session")
def context_model(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """An article-aware StanceModel trained on context_rows (its context stage is trained)."""
    from wirestance.classifiers.dataset import load_labeled_data
    from wirestance.classifiers.model import fit_article_model
    from wirestance.classifiers.predict import StanceModel

    path = write_jsonl(tmp_path_factory.mktemp("context") / "articles.jsonl", context_rows())
    model = fit_article_model(load_labeled_data(path))
    assert model.context_classifier is not None and model.second_pass is not None
    return StanceModel(model, "context-model")
