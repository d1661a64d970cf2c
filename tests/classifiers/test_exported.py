"""The exported model (classifiers/exported.py) labels as the fitted model does, without scikit-learn.

Compared on every article of data/labeled/ and the offline sample and on hostile text; the tf-idf blocks
against the fitted vectorizers' own matrices (other settings too); the registry writes the export with its
SHA-256 and refuses a modified one; a process that loads it imports no scikit-learn.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from labeled_texts import labeled_articles, sample_articles
from sklearn.feature_extraction.text import TfidfVectorizer

from wirestance.classifiers.article_model import ArticleStanceModel, ArticleText
from wirestance.classifiers.exported import (
    EXPORT_FILE,
    ExportedModel,
    ExportError,
    check_export,
    export_model,
    load_export,
)
from wirestance.classifiers.exported_text import TextBlock, char_wb_ngrams
from wirestance.classifiers.predict import StanceModel
from wirestance.classifiers.registry import METADATA_FILE, ModelRegistry, load_champion
from wirestance.settings import Settings

HOSTILE = [
    "",
    "   ",
    "Erdoğan İstanbul Çavuşoğlu ŞEKER ığdır",
    "naïve café ﬁnance Ⅻ ＡＢＣ",
    "tab\tseparated\u00a0non-breaking\u2003em space\nnew line",
    "a¨b ́x",
    "“Quoted,” he said. «Guillemets» — dash",
    "U.S. officials warned; the U.S.A. said",
    "x" * 300,
    "S-400 F-35 CAATSA 2019 12.07.2019",
    "Ölçü ΣΊΣΥΦΟΣ straße",
]


def _articles() -> list[ArticleText]:
    found = [ArticleText(paragraphs, title=paragraphs[0][:80]) for paragraphs in labeled_articles().values()]
    return found + [ArticleText(paragraphs, title=title) for title, paragraphs in sample_articles().values()]


ARTICLES = _articles()


def _assert_same_labelling(fitted, exported: ExportedModel, articles) -> None:
    expected = fitted.predict_articles(articles)
    actual = exported.predict_articles(articles)
    for want, got in zip(expected, actual, strict=True):
        np.testing.assert_allclose(got.predictions.probabilities, want.predictions.probabilities, rtol=0, atol=1e-12)
        assert got.predictions.labels == want.predictions.labels
        assert (got.on_topic, got.topic_score) == (want.on_topic, want.topic_score)


def test_the_export_labels_every_article_as_the_fitted_model(context_model):
    exported = export_model(context_model.article_model, context_model.version)
    _assert_same_labelling(context_model, exported, ARTICLES)
    _assert_same_labelling(context_model, exported, [ArticleText(HOSTILE, title="Ankara"), ArticleText([])])
    texts = [text for article in ARTICLES[:40] for text in article.paragraphs] + HOSTILE
    np.testing.assert_allclose(
        exported.predict(texts).probabilities, context_model.predict(texts).probabilities, rtol=0, atol=1e-12
    )


def test_a_paragraph_stage_only_model_is_exported_too(stance_model):
    exported = export_model(stance_model.article_model, stance_model.version)
    assert exported.context is None
    _assert_same_labelling(stance_model, exported, ARTICLES[:200])


def test_the_export_survives_its_file(tmp_path: Path, context_model):
    exported = export_model(context_model.article_model, context_model.version)
    exported.save(tmp_path / EXPORT_FILE)
    loaded = ExportedModel.load(tmp_path / EXPORT_FILE, "v1")
    assert loaded.version == "v1"
    _assert_same_labelling(context_model, loaded, ARTICLES[:100])


def _rewrite_header(path: Path, change) -> None:
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    header = json.loads(str(arrays["header"]))
    change(header)
    arrays["header"] = np.array(json.dumps(header))
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def test_an_export_written_before_the_second_pass_still_loads_and_an_unknown_format_is_refused(
    tmp_path: Path, context_model
):
    fitted = context_model.article_model
    assert fitted.second_pass is not None
    one_pass = StanceModel(ArticleStanceModel(fitted.paragraph_pipeline, fitted.context_classifier), "v0")
    path = tmp_path / EXPORT_FILE
    export_model(one_pass.article_model, "v0").save(path)

    def as_format_1(header: dict) -> None:  # its layout: no second-pass field
        header["format"] = 1
        del header["second_pass_classes"]

    _rewrite_header(path, as_format_1)
    loaded = ExportedModel.load(path, "v0")
    assert loaded.context is not None and loaded.second_pass is None
    _assert_same_labelling(one_pass, loaded, ARTICLES[:100])
    with pytest.raises(AssertionError):  # the two-pass model labels otherwise: the test can tell them apart
        _assert_same_labelling(context_model, loaded, ARTICLES[:100])

    _rewrite_header(path, lambda header: header.update(format=4))
    with pytest.raises(ExportError, match="export format 4"):
        ExportedModel.load(path, "v0")


def test_an_export_written_before_the_network_member_still_loads(tmp_path: Path, context_model):
    """A format-2 file: the paragraph stage is the SVM and the NB-SVM only, and the header has no network."""
    fitted = context_model.article_model
    linear_only = copy.deepcopy(fitted.paragraph_pipeline)
    ensemble = linear_only.named_steps["classifier"]
    assert [type(member.estimator).__name__ for member in ensemble.members[::2]] == [
        "LinearSVC",
        "EpochCappedNetwork",
    ]
    ensemble.members = ensemble.members[:2]
    model = StanceModel(
        ArticleStanceModel(linear_only, fitted.context_classifier, second_pass=fitted.second_pass), "v2"
    )
    path = tmp_path / EXPORT_FILE
    export_model(model.article_model, "v2").save(path)

    def as_format_2(header: dict) -> None:  # its layout: no network field
        header["format"] = 2
        assert header.pop("network_units") is None

    _rewrite_header(path, as_format_2)
    loaded = ExportedModel.load(path, "v2")
    assert loaded.networks is None and loaded.second_pass is not None
    _assert_same_labelling(model, loaded, ARTICLES[:100])
    with pytest.raises(AssertionError):  # the model with its network labels otherwise
        _assert_same_labelling(context_model, loaded, ARTICLES[:100])


@pytest.mark.parametrize(
    "settings",
    [
        {"analyzer": "word", "ngram_range": (1, 2), "strip_accents": "unicode", "sublinear_tf": True},
        {"analyzer": "word", "ngram_range": (2, 3), "lowercase": False, "norm": None},
        {"analyzer": "word", "token_pattern": r"(?u)\b\w+\b", "use_idf": False},
        {"analyzer": "word", "ngram_range": (2, 2), "strip_accents": "unicode"},
        {"analyzer": "word", "token_pattern": r"(?u)\b[a-z]\w+\b", "ngram_range": (1, 2)},
        {"analyzer": "char_wb", "ngram_range": (3, 5), "strip_accents": "unicode", "sublinear_tf": True},
        {"analyzer": "char_wb", "ngram_range": (1, 4), "lowercase": False},
    ],
    ids=[
        "model-word",
        "bigrams-trigrams-cased-unnormalised",
        "single-letters-no-idf",
        "bigrams-only",
        "custom-pattern-text-by-text",
        "model-char",
        "char-1-4",
    ],
)
def test_a_text_block_is_the_vectorizers_own_transform(settings: dict):
    texts = [text for article in ARTICLES[:150] for text in article.paragraphs]
    vectorizer = TfidfVectorizer(min_df=1, **settings).fit(texts + HOSTILE)
    block = TextBlock.from_vectorizer(vectorizer)
    sample = texts[:300] + HOSTILE
    np.testing.assert_allclose(block.transform(sample).toarray(), vectorizer.transform(sample).toarray(), atol=1e-15)


def test_char_ngrams_of_short_and_long_words():
    assert char_wb_ngrams("a bc", 3, 5) == [" a ", " bc", "bc ", " bc "]
    assert char_wb_ngrams("", 3, 5) == []
    analyzer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 6), lowercase=False).build_analyzer()
    for text in ["a", "ab", "abcdefgh", "x y  z", *HOSTILE]:
        assert char_wb_ngrams(text, 2, 6) == analyzer(text)


def test_parts_the_export_does_not_compute_are_refused():
    texts = [text for article in ARTICLES[:20] for text in article.paragraphs]
    with pytest.raises(ExportError, match="stop_words"):
        TextBlock.from_vectorizer(TfidfVectorizer(stop_words="english").fit(texts))
    with pytest.raises(ExportError, match="analyzer 'char'"):
        TextBlock.from_vectorizer(TfidfVectorizer(analyzer="char").fit(texts))
    with pytest.raises(ExportError, match="not a fitted"):
        TextBlock.from_vectorizer(TfidfVectorizer())


def test_an_export_that_labels_differently_is_caught(context_model):
    exported = export_model(context_model.article_model, context_model.version)
    exported.intercepts = exported.intercepts + 1e-3  # as a wrong reading of the fitted model would
    with pytest.raises(ExportError, match="differs from the fitted model"):
        check_export(exported, context_model.article_model)


def test_the_registry_writes_the_export_and_refuses_a_modified_one(settings: Settings):
    champion = load_champion(settings)
    folder = Path(settings.models_dir) / champion.version
    meta = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
    assert meta["export_sha256"] and meta["export_note"] == ""
    assert "model.npz" in (folder / "MODEL_CARD.md").read_text(encoding="utf-8")
    loaded = load_export(settings.models_dir, champion.version)
    assert loaded is not None
    _assert_same_labelling(ModelRegistry(settings.models_dir).load(champion.version), loaded, ARTICLES[:50])

    with open(folder / EXPORT_FILE, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ExportError, match="does not match"):
        load_export(settings.models_dir, champion.version)
    (folder / EXPORT_FILE).unlink()
    with pytest.raises(ExportError, match="missing"):
        load_export(settings.models_dir, champion.version)


def test_a_version_without_an_export_loads_through_the_registry(settings: Settings):
    from wirestance.classifiers.champion import RegisteredVersion
    from wirestance.classifiers.predict import StanceModel

    champion = load_champion(settings)
    folder = Path(settings.models_dir) / champion.version
    meta = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
    meta["export_sha256"] = ""
    (folder / METADATA_FILE).write_text(json.dumps(meta), encoding="utf-8")
    assert load_export(settings.models_dir, champion.version) is None
    assert isinstance(RegisteredVersion(settings.models_dir, champion.version)(), StanceModel)


def test_a_process_that_labels_with_the_export_imports_no_scikit_learn(settings: Settings):
    champion = load_champion(settings)
    script = (
        "import sys\n"
        "from wirestance.classifiers.champion import RegisteredVersion\n"
        "from wirestance.classifiers.article_model import ArticleText\n"
        f"model = RegisteredVersion({settings.models_dir!r}, {champion.version!r})()\n"
        "result = model.predict_articles([ArticleText(['Akar said the S-400 deal stands.', 'He added more.'])])\n"
        "print(type(model).__name__, result[0].predictions.labels, 'sklearn' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    name, *_rest, imported = done.stdout.split()
    assert name == "ExportedModel"
    assert imported == "False"


def test_a_reprocess_worker_labels_with_the_export_and_loads_neither_scikit_learn_nor_the_lake(settings: Settings):
    from datetime import UTC, datetime

    from worker_probe import heavy_modules

    from wirestance.articles import Article
    from wirestance.classifiers.champion import RegisteredVersion
    from wirestance.lake.schema import ARTICLE_ROWS, PARAGRAPH_ROWS, rows_table
    from wirestance.pipeline import article_rows
    from wirestance.workers import ModelRef, WorkerPool, label_job, pack

    champion = load_champion(settings)
    fetched = datetime(2026, 7, 1, tzinfo=UTC)
    articles = [
        Article(
            url=f"https://www.aa.com.tr/en/turkiye/story/{number}",
            canonical_url=f"https://www.aa.com.tr/en/turkiye/story/{number}",
            source="anadolu",
            article_id=str(number),
            title=article.title or "",
            lede=None,
            authors=[],
            published=fetched,
            updated=None,
            dateline=None,
            category=None,
            tags=[],
            language="en",
            paragraphs=list(article.paragraphs),
            parser_version="test",
        )
        for number, article in enumerate(ARTICLES[:30])
    ]
    reference = ModelRegistry(settings.models_dir).load(champion.version)
    expected_articles, expected_paragraphs = article_rows([(a, fetched) for a in articles], reference)
    model = ModelRef(champion.version, RegisteredVersion(settings.models_dir, champion.version))
    with WorkerPool(1, model=model) as pool:
        rows_articles, rows_paragraphs = pool.submit(label_job, [pack(a, fetched).packed for a in articles])()
        imported = pool.submit(heavy_modules, None)()

    assert imported == []
    rows_articles = rows_table(rows_articles, ARTICLE_ROWS)
    rows_paragraphs = rows_table(rows_paragraphs, PARAGRAPH_ROWS)
    assert rows_paragraphs.column("label").to_pylist() == [row["label"] for row in expected_paragraphs]
    assert rows_paragraphs.column("model_version").to_pylist() == [champion.version] * len(expected_paragraphs)
    expected_topics = pa.Table.from_pylist(expected_articles, schema=ARTICLE_ROWS).select(["on_topic", "topic_score"])
    assert rows_articles.select(["on_topic", "topic_score"]).equals(expected_topics)


def test_a_full_piece_cache_is_emptied_and_the_word_counts_stay_exact():
    from wirestance.classifiers.fast_words import WordPieceCounter

    texts = [text for article in ARTICLES[:60] for text in article.paragraphs] + HOSTILE
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), strip_accents="unicode", min_df=2).fit(texts)
    block = TextBlock.from_vectorizer(vectorizer)
    small = WordPieceCounter(block._vocabulary, block.token_pattern, block.ngram_range, block.preprocess, 3)
    counts = small.counts(texts)
    assert len(small._pieces) <= 3
    assert (counts != block._word_counts_by_text(texts)).nnz == 0


def test_a_model_the_export_does_not_cover_is_registered_without_one(settings: Settings):
    from wirestance.classifiers.dataset import load_labeled_data
    from wirestance.classifiers.model import split_for_evaluation, train_model
    from wirestance.classifiers.predict import StanceModel

    split = split_for_evaluation(load_labeled_data(Path(settings.labeled_dir)), 0.25, seed=3)
    trained = train_model(split, cv_folds=0)
    evaluation = StanceModel(trained.pipeline, "challenger").evaluate(split.evaluation)
    words = trained.pipeline.paragraph_pipeline.named_steps["features"].named_transformers["word"]
    words.stop_words = ["the"]  # a vectorizer setting the export does not compute
    registry = ModelRegistry(settings.models_dir)

    version = registry.register(trained, evaluation).version

    meta = json.loads((Path(settings.models_dir) / version / METADATA_FILE).read_text(encoding="utf-8"))
    assert meta["export_sha256"] == ""
    assert "stop_words" in meta["export_note"]
    assert not (Path(settings.models_dir) / version / EXPORT_FILE).exists()
    assert load_export(settings.models_dir, version) is None
    assert registry.load(version).predict(["Ankara said the deal stands."]).labels
