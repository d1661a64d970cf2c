"""Who speaks in a paragraph: actors named next to an attribution verb, mapped to actor groups.

Plain Python (`re`, no scikit-learn): the fitted model's ActorAttribution (features.py) and the exported
model a reprocess worker loads (exported.py) compute the same columns here.

The labelling guide labels a paragraph by who speaks or acts, not by which country is named. Word n-grams
see "Turkey" in every paragraph; this transformer adds the signal "a Turkish official is the one saying
it" ("Akar said", "according to Mikheev", "U.S. officials argued"), which carries across outlets that
phrase the rest differently.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable
from functools import lru_cache

from wirestance.classifiers.word_gate import GatedPattern, GateScan, WordGate

ACTOR_GROUPS = ("russian_supplier", "turkish_government", "us_objection", "nato")

# Specific people and institutions: naming one is already a hint, speaking makes it a strong one.
_NAMED_ACTORS: dict[str, tuple[str, ...]] = {
    "russian_supplier": (
        "rosoboronexport",
        "rostec",
        "mikheev",
        "chemezov",
        "shugaev",
        "kozhin",
        "fsvts",
        "federal service for military-technical cooperation",
        "kremlin",
        "peskov",
        "putin",
        "lavrov",
        "shoigu",
        "zakharova",
        "ryabkov",
        "belousov",
        "borisov",
        "fomin",
        "ushakov",
    ),
    "turkish_government": (
        "erdogan",
        "akar",
        "cavusoglu",
        "kalin",
        "ismail demir",
        "demir",
        "altun",
        "fidan",
        "guler",
        "presidency of defence industries",
        "presidency of defense industries",
        "ssb",
        "savunma sanayii",
        "msb",
        "canikli",
        "isik",
        "yildirim",
        "aksoy",
        "kilic",
        "oktay",
        "bilgic",
    ),
    "us_objection": (
        "pentagon",
        "state department",
        "white house",
        "trump",
        "biden",
        "pompeo",
        "blinken",
        "esper",
        "shanahan",
        "ellen lord",
        "satterfield",
        "jeffrey",
        "ortagus",
        "nauert",
        "ned price",
        "menendez",
        "lindsey graham",
        "congress",
        "senate",
        "senators?",
        "congressm[ae]n",
        "lawmakers",
        "lloyd austin",
        "mattis",
        "tillerson",
        "pence",
        "shaheen",
        "tillis",
        "risch",
        "inhofe",
        "van hollen",
        "engel",
        "jake sullivan",
        "wess mitchell",
        "scaparrotti",
        "wheelbarger",
        "hoffman",
    ),
    "nato": ("stoltenberg", "rutte", "nato secretary general", "nato officials?", "nato spokes\\w+"),
}
# A country or its adjective followed by an office ("Turkish Defense Minister", "U.S. officials").
_COUNTRY_WORDS: dict[str, str] = {
    "russian_supplier": r"russian|russia's|russia|moscow's|moscow",
    "turkish_government": r"turkish|turkey's|turkey|ankara's|turkiye's|turkiye",
    "us_objection": r"united states'?|american|america's|washington's",
    "nato": r"nato's|nato|alliance's|alliance",
}
_OFFICES = (
    r"(?:\w+ ){0,2}(?:minister|ministry|president|presidency|spokes\w+|officials?|government|"
    r"diplomats?|ambassador|envoy|secretary|side|administration|sources|senators?|lawmakers|authorities|"
    r"leader|leadership|counterpart|delegation|embassy|negotiators|military|armed forces|army|air force|"
    r"prime minister|chief|head)"
)
# Countries themselves act in news prose ("Turkey emphasized", "Russia delivered"); they count as a
# speaker only next to an attribution verb, never as a mere mention.
_COUNTRY_ACTORS: dict[str, str] = {
    "russian_supplier": r"russia|moscow",
    "turkish_government": r"turkey|ankara|turkiye",
    "us_objection": r"united states|washington",
    "nato": r"nato",
}
_ATTRIBUTION_VERBS = (
    r"said|says|say|told|tells|argued|argues|warned|warns|stressed|stresses|emphasi[sz]ed|emphasi[sz]es|"
    r"underlined|underscored|added|stated|declared|announced|insisted|insists|claimed|"
    r"reiterated|urged|confirmed|explained|maintained|asserted|threatened|responded|replied|denied|"
    r"dismissed|rejected|asked|wrote|tweeted|quoted|cited|commented|remarked|vowed|pledged|"
    r"in a statement|in an interview|"
    # Stance verbs: a side acting on its position is the one whose position the paragraph carries.
    r"proposed|proposes|offered|offers|refused|refuses|rejects|condemned|condemns|critici[sz]ed|critici[sz]es|"
    r"accused|accuses|defended|defends|demanded|demands|called on|called for|slammed|blasted|hit back|"
    r"promised|expects|expected|hopes|objected|objects|opposed|opposes|protested|countered|noted|notes|"
    r"believes|recalled|pointed out|went on|continued|concluded|specified|admitted|acknowledged"
)
_ACCORDING_TO = "according to"
# Voices that are not officials of any side (labelling guide rule 10): when one of them is the nearest
# speaker, the paragraph is an outsider's view, not the side whose country is named next to it ("said
# Ahmet Kaya, an analyst in Ankara" is not Ankara speaking).
_OTHER_VOICES = (
    r"analysts?|experts?|observers?|researchers?|scholars?|professors?|commentators?|columnists?|"
    r"(?:senior |research )?fellows?|think[- ]tanks?|people familiar|critics|economists?|historians?"
)
_OTHER_GROUP = "other"
# "he said" after a quote: the speaker was named earlier in the article, outside this paragraph.
_PRONOUN_GROUP = "pronoun"


def _alternation(patterns: Iterable[str]) -> str:
    return "|".join(sorted(patterns, key=len, reverse=True))


#: The group name of the bare country alternative in each group's `every` pattern: a match of any other
#: alternative is a named actor.
_COUNTRY_ONLY = "country_only"


def _actor_patterns() -> dict[str, tuple[GatedPattern, GatedPattern]]:
    """Per group: (named actors incl. country+office, every actor incl. bare country names).

    In `every`, the bare country alternative is captured as `_COUNTRY_ONLY` (capturing changes no match);
    the alternatives are ordered by length before that, as they always were."""
    patterns = {}
    for group in ACTOR_GROUPS:
        named = [*_NAMED_ACTORS[group], rf"(?:{_COUNTRY_WORDS[group]}) {_OFFICES}"]
        country = _COUNTRY_ACTORS[group]
        every = [
            rf"(?P<{_COUNTRY_ONLY}>{a})" if a is country else a
            for a in sorted([*named, country], key=len, reverse=True)
        ]
        patterns[group] = (GatedPattern.words(_alternation(named)), GatedPattern.words("|".join(every)))
    return patterns


_ACTOR_PATTERNS = _actor_patterns()
_VERBS = GatedPattern.words(_ATTRIBUTION_VERBS)
_ACCORDING_PATTERN = re.compile(rf"\b{_ACCORDING_TO}\b")
_PRONOUNS = GatedPattern.words("he|she")
_QUOTE_PATTERN = re.compile(r"[\"“”«»]")
_TOKEN_PATTERN = re.compile(r"\S+")
_OTHERS = GatedPattern.words(_OTHER_VOICES)
# Within this many leading tokens an actor is the paragraph's subject: the side it opens with, which
# settles a paragraph two sides share about equally (rule 13).
OPENING_TOKENS = 8

_MONTHS = r"january|february|march|april|may|june|july|august|september|october|november|december"
# A dated past event (rule 11): "in December 2020", "on July 12, 2019", "back in 2017", "in mid-2019".
_PAST_DATE = GatedPattern.bounded(
    rf"\b(?:in|on|since|by|until|back in|as early as|as of)\s+(?:(?:early|late|mid)[- ])?"
    rf"(?:(?:{_MONTHS})\s+(?:\d{{1,2}},?\s+)?)?(?:19|20)\d\d\b"
)
# A past action told as background: pluperfect, or "X years ago" / "the previous year".
_BACKGROUND_TENSE = re.compile(
    r"\bhad (?:\w+ly )?(?:been|\w+ed|made|signed|paid|bought|taken|begun|sent|said|told|won|given|led)\b|"
    r"\b(?:\w+ )?years? ago\b|\b(?:the )?previous (?:year|month)\b|\blast year\b"
)
# A standing position keeps its actor (rule 11): "has repeatedly warned", "have long argued", "continues to".
_STANDING_POSITION = GatedPattern.bounded(
    r"\b(?:has|have)\s+(?:repeatedly |long |consistently |always |so far |also )?"
    r"(?:warned|said|insisted|argued|urged|maintained|made clear|stated|threatened|objected|rejected|"
    r"defended|called|demanded|stressed|emphasi[sz]ed|opposed)\b|\bcontinues? to\b|\bremains? (?:opposed|committed)\b"
)
# A line that carries no position (rule 12).
_NO_POSITION = GatedPattern.bounded(
    r"\b(?:did not|didn't|has not|have not|had not|could not) (?:immediately )?(?:respond|reply|return)\w*(?: to)? "
    r"(?:\w+ ){0,3}(?:requests?|calls?|e-?mails?|messages?|inquir\w+|questions?)\b|"
    r"\b(?:did not|didn't|has not|have not|had not) (?:immediately )?"
    r"(?:comment|elaborate|specify|give details|disclose)|"
    r"\bdeclined to (?:comment|elaborate|give|say|specify|disclose)|\bcould not (?:immediately )?be reached|"
    r"\b(?:were|was) not (?:immediately )?(?:available|disclosed|given|made public|released)|"
    r"\bno (?:immediate )?comment\b|\brequests? for comment\b"
)
# Substrings of which every match of the pattern holds one: a paragraph with none of them is not scanned
# (cheaper than even the gated scan; the background pattern cannot be gated: "(\w+ )?years ago").
_PAST_DATE_NEEDS = ("19", "20")
_BACKGROUND_TENSE_NEEDS = ("had ", "year", "previous ")
# An interviewer's question: "Q: ...", "Question: ...", or a paragraph that is one question.
_QUESTION_OPENER = re.compile(r"^\W*(?:q\s*[:.-]|question\s*:)")

# Every gated pattern of a paragraph, found from one pass over its distinct words (word_gate.py).
_GATE = WordGate(
    {
        **{f"every:{group}": every for group, (_named, every) in _ACTOR_PATTERNS.items()},
        **{f"named:{group}": named for group, (named, _every) in _ACTOR_PATTERNS.items()},
        "verb": _VERBS,
        "pronoun": _PRONOUNS,
        "other": _OTHERS,
        "past_date": _PAST_DATE,
        "standing_position": _STANDING_POSITION,
        "no_position": _NO_POSITION,
    }
)


_US_ABBREVIATION = re.compile(r"\bU\.\s?S\.(?:\s?A\.)?|\bUSA?\b")


# The combining-mark blocks NFKD splits Latin accents into ("ğ" -> "g" + U+0306): removed by one regex
# substitution instead of a Python-level test per character (normalising was a third of labelling time).
_COMBINING_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


@lru_cache(maxsize=8192)
def normalize(text: str) -> str:
    """Lower-case ASCII text: "Erdoğan" is "erdogan"; "U.S." and "US" are "united states", not "us".

    Cached: the actor features, the context stage's opener flags and the topic score read the same
    paragraphs. Texts joined by " \n" normalize to their normalized forms joined the same way (the topic
    score relies on it): no abbreviation spans the two joining characters, lower-casing and NFKD act per
    character (whitespace is a starter, neither cased nor case-ignorable) and marks are removed one by one."""
    # Every match holds "U." or "US": most paragraphs skip the substitution.
    spelled_out = _US_ABBREVIATION.sub("United States", text) if "U." in text or "US" in text else text
    if spelled_out.isascii():
        return spelled_out.lower()
    decomposed = unicodedata.normalize("NFKD", spelled_out.replace("ı", "i").replace("İ", "I"))
    return _COMBINING_MARKS.sub("", decomposed).lower().replace("’", "'")


def _flag(scan: GateScan, name: str) -> float:
    return 1.0 if scan.search(name) else 0.0


#: The columns `actor_features` returns, in order. Later columns were appended after the first 15, so a
#: model fitted with fewer keeps its own (shorter) prefix and the context stage's column slices hold.
ACTOR_FEATURE_NAMES: tuple[str, ...] = (
    *(f"speaks:{g}" for g in (*ACTOR_GROUPS, _PRONOUN_GROUP)),
    *(f"named:{g}" for g in ACTOR_GROUPS),
    "quote",
    f"speaks:{_OTHER_GROUP}",
    *(f"opens:{g}" for g in (*ACTOR_GROUPS, _OTHER_GROUP, _PRONOUN_GROUP)),
    "past_date",
    "background_tense",
    "standing_position",
    "no_position",
    "question",
)


def actor_features(text: str, window: int) -> list[float]:
    """The ACTOR_FEATURE_NAMES columns of one paragraph: `speaks:<group>` when an attribution verb's nearest
    actor within `window` tokens belongs to the group ("according to" looks forward only); `speaks:pronoun`
    when that nearest speaker is "he"/"she", someone named earlier in the article; `named:<group>` when a
    named actor of the group appears at all; `quote` when the paragraph carries quoted speech; `opens:<group>`
    the actor the paragraph opens with; then the flags of labelling-guide rules 11-12 and questions."""
    plain = normalize(text)
    scan = _GATE.scan(plain)
    # (start, last character, group) of every actor mention.
    spans: list[tuple[int, int, str]] = []
    named = dict.fromkeys(ACTOR_GROUPS, 0.0)
    for group in ACTOR_GROUPS:
        found = scan.finditer(f"every:{group}")
        if not found:
            # `every` holds all of `named`'s alternatives: where it matches nowhere, `named` matches
            # nowhere either (every position was tried), so `named` need not be run.
            continue
        # A match by any alternative but the bare country is a named actor: `named` matches there.
        if any(m.lastgroup != _COUNTRY_ONLY for m in found) or scan.search(f"named:{group}"):
            named[group] = 1.0
        spans.extend((m.start(), m.end() - 1, group) for m in found)
    for group, name in ((_PRONOUN_GROUP, "pronoun"), (_OTHER_GROUP, "other")):
        spans.extend((m.start(), m.end() - 1, group) for m in scan.finditer(name))

    speaks = dict.fromkeys((*ACTOR_GROUPS, _PRONOUN_GROUP, _OTHER_GROUP), 0.0)
    # (first token, last token, group) of every actor mention: "the turkish defence minister" ends next
    # to the verb in "the turkish defence minister said", however long the title.
    mentions: list[tuple[int, int, str]] = []
    if spans:  # with no actor, no verb has a speaker and nothing opens the paragraph
        token_at = _token_locator(plain)
        mentions = [(token_at(start), token_at(last), group) for start, last, group in spans]
        for verb in scan.finditer("verb"):
            group = nearest_speaker(mentions, token_at(verb.start()), window, forward_only=False)
            if group is not None:
                speaks[group] = 1.0
        if _ACCORDING_TO in plain:
            for phrase in _ACCORDING_PATTERN.finditer(plain):
                group = nearest_speaker(mentions, token_at(phrase.end()), window, forward_only=True)
                if group is not None:
                    speaks[group] = 1.0

    quote = 1.0 if _QUOTE_PATTERN.search(text) else 0.0
    opens = dict.fromkeys((*ACTOR_GROUPS, _OTHER_GROUP, _PRONOUN_GROUP), 0.0)
    opening = [(first, group) for first, _last, group in mentions if first < OPENING_TOKENS]
    if opening:
        opens[min(opening)[1]] = 1.0
    original = [*(speaks[g] for g in (*ACTOR_GROUPS, _PRONOUN_GROUP)), *named.values(), quote]
    return [
        *original,
        speaks[_OTHER_GROUP],
        *opens.values(),
        _flag(scan, "past_date") if any(part in plain for part in _PAST_DATE_NEEDS) else 0.0,
        1.0 if any(part in plain for part in _BACKGROUND_TENSE_NEEDS) and _BACKGROUND_TENSE.search(plain) else 0.0,
        _flag(scan, "standing_position"),
        _flag(scan, "no_position"),
        1.0 if _QUESTION_OPENER.match(plain) or plain.rstrip().endswith("?") else 0.0,
    ]


def _token_locator(plain: str) -> Callable[[int], int]:
    """offset -> the index of the whitespace-separated token at or before it (`_TOKEN_PATTERN`'s tokens).

    Most paragraphs are single-spaced: there, the token index is the count of spaces before the offset."""
    tokens = plain.split()
    if tokens and " ".join(tokens) == plain:
        return lambda offset: plain.count(" ", 0, offset)
    token_starts = [match.start() for match in _TOKEN_PATTERN.finditer(plain)]
    return lambda offset: bisect_right(token_starts, offset) - 1


def nearest_speaker(
    mentions: list[tuple[int, int, str]], position: int, window: int, *, forward_only: bool
) -> str | None:
    """The group of the mention (first token, last token, group) nearest token `position`, within `window`
    tokens; a mention ending before the position wins a tie."""
    best: tuple[int, int, str] | None = None  # (distance, prefer-preceding tie-break, group)
    for first, last, group in mentions:
        if forward_only and first < position:
            continue
        preceding = last <= position
        distance = position - last if preceding else max(first - position, 0)
        if distance > window:
            continue
        candidate = (distance, 0 if preceding else 1, group)
        if best is None or candidate < best:
            best = candidate
    return None if best is None else best[2]
