"""Classify: the article-aware champion against bare predict_proba of its paragraph stage's linear members
(the SVM and NB-SVM mean), which is what the model before the context stage and the network member (issue 9)
was: `classify_ratio_vs_previous` must stay >= 0.8."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bench.results import Results, best_seconds, ratio
from wirestance.settings import Settings

if TYPE_CHECKING:
    from wirestance.classifiers.predict import StanceModel

#: The texts arrive page after page, in paragraph order; consecutive runs of this many paragraphs stand in
#: for articles (about the length of an agency story).
ARTICLE_PARAGRAPHS = 8


def load_model(settings: Settings) -> StanceModel:
    """The champion of the sandbox's registry (trained from the labelled data on first use)."""
    from wirestance.classifiers.registry import load_champion

    return load_champion(settings)


def run(results: Results, texts: Sequence[str], settings: Settings, repeats: int) -> None:
    from wirestance.classifiers.article_model import ArticleText
    from wirestance.classifiers.model import linear_paragraph_stage

    model = load_model(settings)
    pipeline = linear_paragraph_stage(model.pipeline)
    batch = list(texts)
    articles = [ArticleText(batch[i : i + ARTICLE_PARAGRAPHS]) for i in range(0, len(batch), ARTICLE_PARAGRAPHS)]
    model.predict(batch[:50])  # first-call costs (lazy imports, caches) out of the timing
    model.predict_articles(articles[:5])
    ours = len(batch) / best_seconds(lambda: model.predict(batch), repeats)
    whole = len(batch) / best_seconds(lambda: model.predict_articles(articles), repeats)
    floor = len(batch) / best_seconds(lambda: pipeline.predict_proba(batch), repeats)
    results.note(
        f"classify: {len(batch)} paragraphs in one call ({len(articles)} articles of {ARTICLE_PARAGRAPHS}), "
        f"model {model.version}"
    )
    results.add("classify_paragraphs_per_s", ours, "StanceModel.predict (paragraphs alone), one core")
    results.add("classify_articles_paragraphs_per_s", whole, "StanceModel.predict_articles: context stage + topic")
    results.add(
        "classify_floor_paragraphs_per_s", floor, "pipeline.predict_proba of the paragraph stage's linear members"
    )
    results.add("classify_ratio_vs_floor", ratio(ours, floor), "target >= 0.8")
    results.add(
        "classify_ratio_vs_previous",
        ratio(whole, floor),
        "article-aware labeller vs the paragraph-only model it replaced; target >= 0.8",
    )
