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
from collections.abc import Iterable
from functools import lru_cache

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


def _top_level_alternatives(pattern: str) -> list[str]:
    """`a|b(?:c|d)|e` -> [a, b(?:c|d), e]: the alternatives of a pattern outside groups and classes."""
    parts, depth, in_class, escaped, start = [], 0, False, False, 0
    for position, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[start:position])
            start = position + 1
    return [*parts, pattern[start:]]


def _closing_parenthesis(pattern: str) -> int:
    """Where the group that opens `pattern` closes."""
    depth, escaped = 0, False
    for position, char in enumerate(pattern):
        if escaped:
            escaped = False
            continue
        escaped = char == "\\"
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return position
    raise ValueError(f"unbalanced group in {pattern!r}")


def _first_letters(pattern: str) -> set[str]:
    """The characters every match of `pattern` can start with; only the shapes used here are accepted
    (alternatives that start with a lower-case letter or a group of such alternatives;
    escapes and brackets inside a group are only skipped, so a group must not hold a `(` in a class)."""
    letters: set[str] = set()
    for alternative in _top_level_alternatives(pattern):
        group_opening = re.match(r"\(\?(?::|P<\w+>)", alternative)
        if group_opening:
            end = _closing_parenthesis(alternative)
            quantifier = alternative[end + 1 : end + 2]
            if quantifier == "{":
                raise ValueError(f"a counted group opens {alternative!r}")
            if quantifier in ("?", "*"):  # an optional group: what follows it can start a match too
                letters |= _first_letters(alternative[end + 2 :])
            letters |= _first_letters(alternative[group_opening.end() : end])
        elif alternative[:1].isascii() and alternative[:1].islower() and alternative[1:2] not in ("?", "*", "{"):
            letters.add(alternative[0])
        else:
            raise ValueError(f"cannot tell what {alternative!r} starts with")
    return letters


def _words(pattern: str) -> str:
    r"""`\b(?:pattern)\b`, with a look-ahead for the letters its matches start with: the same matches, but
    the regex engine turns away most word boundaries (every word's end, most words' starts) before trying
    dozens of alternatives there (twice as fast on news paragraphs)."""
    return rf"\b(?=[{''.join(sorted(_first_letters(pattern)))}])(?:{pattern})\b"


#: The group name of the bare country alternative in each group's `every` pattern: a match of any other
#: alternative is a named actor.
_COUNTRY_ONLY = "country_only"


def _compile_actor_patterns() -> dict[str, tuple[re.Pattern[str], re.Pattern[str]]]:
    """Per group: (named actors incl. country+office, every actor incl. bare country names).

    In `every`, the bare country alternative is captured as `_COUNTRY_ONLY` (capturing changes no match);
    the alternatives are ordered by length before that, as they always were."""
    compiled = {}
    for group in ACTOR_GROUPS:
        named = [*_NAMED_ACTORS[group], rf"(?:{_COUNTRY_WORDS[group]}) {_OFFICES}"]
        country = _COUNTRY_ACTORS[group]
        every = [
            rf"(?P<{_COUNTRY_ONLY}>{a})" if a is country else a
            for a in sorted([*named, country], key=len, reverse=True)
        ]
        compiled[group] = (re.compile(_words(_alternation(named))), re.compile(_words("|".join(every))))
    return compiled


_ACTOR_PATTERNS = _compile_actor_patterns()
_VERB_PATTERN = re.compile(_words(_ATTRIBUTION_VERBS))
_ACCORDING_PATTERN = re.compile(rf"\b{_ACCORDING_TO}\b")
_PRONOUN_PATTERN = re.compile(_words("he|she"))
_QUOTE_PATTERN = re.compile(r"[\"“”«»]")
_TOKEN_PATTERN = re.compile(r"\S+")
_OTHER_PATTERN = re.compile(_words(_OTHER_VOICES))
# Within this many leading tokens an actor is the paragraph's subject: the side it opens with, which
# settles a paragraph two sides share about equally (rule 13).
OPENING_TOKENS = 8

_MONTHS = r"january|february|march|april|may|june|july|august|september|october|november|december"
# A dated past event (rule 11): "in December 2020", "on July 12, 2019", "back in 2017", "in mid-2019".
_PAST_DATE = re.compile(
    rf"\b(?:in|on|since|by|until|back in|as early as|as of)\s+(?:(?:early|late|mid)[- ])?"
    rf"(?:(?:{_MONTHS})\s+(?:\d{{1,2}},?\s+)?)?(?:19|20)\d\d\b"
)
# A past action told as background: pluperfect, or "X years ago" / "the previous year".
_BACKGROUND_TENSE = re.compile(
    r"\bhad (?:\w+ly )?(?:been|\w+ed|made|signed|paid|bought|taken|begun|sent|said|told|won|given|led)\b|"
    r"\b(?:\w+ )?years? ago\b|\b(?:the )?previous (?:year|month)\b|\blast year\b"
)
# A standing position keeps its actor (rule 11): "has repeatedly warned", "have long argued", "continues to".
_STANDING_POSITION = re.compile(
    r"\b(?:has|have)\s+(?:repeatedly |long |consistently |always |so far |also )?"
    r"(?:warned|said|insisted|argued|urged|maintained|made clear|stated|threatened|objected|rejected|"
    r"defended|called|demanded|stressed|emphasi[sz]ed|opposed)\b|\bcontinues? to\b|\bremains? (?:opposed|committed)\b"
)
# A line that carries no position (rule 12).
_NO_POSITION = re.compile(
    r"\b(?:did not|didn't|has not|have not|had not|could not) (?:immediately )?(?:respond|reply|return)\w*(?: to)? "
    r"(?:\w+ ){0,3}(?:requests?|calls?|e-?mails?|messages?|inquir\w+|questions?)\b|"
    r"\b(?:did not|didn't|has not|have not|had not) (?:immediately )?"
    r"(?:comment|elaborate|specify|give details|disclose)|"
    r"\bdeclined to (?:comment|elaborate|give|say|specify|disclose)|\bcould not (?:immediately )?be reached|"
    r"\b(?:were|was) not (?:immediately )?(?:available|disclosed|given|made public|released)|"
    r"\bno (?:immediate )?comment\b|\brequests? for comment\b"
)
# Substrings of which every match of the pattern holds one: a paragraph with none of them is not scanned
# (a scan of a paragraph by each of these alternations costs more than these substring tests).
_PAST_DATE_NEEDS = ("19", "20")
_BACKGROUND_TENSE_NEEDS = ("had ", "year", "previous ")
_STANDING_POSITION_NEEDS = ("has", "have", "continue", "remain")
_NO_POSITION_NEEDS = ("not", "n't", "declined to", "comment")
# The same for the actor scans that seldom match: most paragraphs name no NATO actor and no outsider.
_NATO_NEEDS = ("nato", "alliance", "stoltenberg", "rutte")
_OTHER_NEEDS = (
    *("analyst", "expert", "observer", "researcher", "scholar", "professor", "commentator", "columnist"),
    *("fellow", "think", "people familiar", "critics", "economist", "historian"),
)
# An interviewer's question: "Q: ...", "Question: ...", or a paragraph that is one question.
_QUESTION_OPENER = re.compile(r"^\W*(?:q\s*[:.-]|question\s*:)")


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
    spelled_out = _US_ABBREVIATION.sub("United States", text)
    if spelled_out.isascii():
        return spelled_out.lower()
    decomposed = unicodedata.normalize("NFKD", spelled_out.replace("ı", "i").replace("İ", "I"))
    return _COMBINING_MARKS.sub("", decomposed).lower().replace("’", "'")


def _flag(text: str, pattern: re.Pattern[str], needs: tuple[str, ...]) -> float:
    """1.0 when the pattern matches the text; `needs` (see above) skips the scan where it cannot."""
    return 1.0 if any(part in text for part in needs) and pattern.search(text) else 0.0


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
    # (start, last character, group) of every actor mention.
    spans: list[tuple[int, int, str]] = []
    named = dict.fromkeys(ACTOR_GROUPS, 0.0)
    for group, (named_pattern, every_pattern) in _ACTOR_PATTERNS.items():
        if group == "nato" and not any(part in plain for part in _NATO_NEEDS):
            continue
        found = list(every_pattern.finditer(plain))
        if not found:
            # `every` holds all of `named`'s alternatives: where it matches nowhere, `named` matches
            # nowhere either (every position was tried), so `named` need not be run.
            continue
        # A match by any alternative but the bare country is a named actor: `named` matches there.
        if any(m.lastgroup != _COUNTRY_ONLY for m in found) or named_pattern.search(plain):
            named[group] = 1.0
        spans.extend((m.start(), m.end() - 1, group) for m in found)
    spans.extend((m.start(), m.end() - 1, _PRONOUN_GROUP) for m in _PRONOUN_PATTERN.finditer(plain))
    if any(part in plain for part in _OTHER_NEEDS):
        spans.extend((m.start(), m.end() - 1, _OTHER_GROUP) for m in _OTHER_PATTERN.finditer(plain))

    speaks = dict.fromkeys((*ACTOR_GROUPS, _PRONOUN_GROUP, _OTHER_GROUP), 0.0)
    # (first token, last token, group) of every actor mention: "the turkish defence minister" ends next
    # to the verb in "the turkish defence minister said", however long the title.
    mentions: list[tuple[int, int, str]] = []
    if spans:  # with no actor, no verb has a speaker and nothing opens the paragraph
        token_starts = [match.start() for match in _TOKEN_PATTERN.finditer(plain)]

        def token_at(offset: int) -> int:
            return bisect_right(token_starts, offset) - 1

        mentions = [(token_at(start), token_at(last), group) for start, last, group in spans]
        for verb in _VERB_PATTERN.finditer(plain):
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
        _flag(plain, _PAST_DATE, _PAST_DATE_NEEDS),
        _flag(plain, _BACKGROUND_TENSE, _BACKGROUND_TENSE_NEEDS),
        _flag(plain, _STANDING_POSITION, _STANDING_POSITION_NEEDS),
        _flag(plain, _NO_POSITION, _NO_POSITION_NEEDS),
        1.0 if _QUESTION_OPENER.match(plain) or plain.rstrip().endswith("?") else 0.0,
    ]


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
