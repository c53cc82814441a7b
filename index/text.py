"""Product text as evidence: normalised text, model codes, attributes and character n-grams.

Cosine similarity cannot tell "RED MUG" from "BLUE MUG"; these features can. Everything
here is plain string work so it runs on any script (CJK titles need no word segmentation:
the lexical evidence is character n-grams).
"""

from __future__ import annotations

import functools
import html
import itertools
import re
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar, overload

import numpy as np

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
# Scripts written without spaces (Han, kana, Thai): a space-separated chunk there is a phrase
# rather than a word, and one ideograph beside digits ("点卡100元") is already text. Codes and
# numbers inside such a chunk end where the script starts: "首饰颈链r14141" carries the code r14141.
_UNSPACED = "\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RAW_TOKEN = re.compile(f"[^\\s,;()\\[\\]{{}}|\"'+{_UNSPACED}]+")
_CODE_JOINERS = re.compile(r"[-/._]")
_HAS_DIGIT = re.compile(r"\d")
_HAS_LETTER = re.compile(r"[a-z]")
_ASCII_WORD = re.compile(r"^[a-z0-9]+$")

# A token made of a number and a unit is an attribute, not a model code.
_UNIT = (
    r"(?:gb|tb|mb|kb|ghz|mhz|hz|khz|mp|mm|cm|m|km|in|inch|inches|ft|oz|fl|ml|cl|l|ltr|kg|g|mg|lb|lbs|"
    r"w|kw|v|mah|wh|rpm|p|i|x|k|pc|pcs|pk|pack|ct|cu|btu|db|hr|h|min|mins|s|th|st|nd|rd|yr|gal|qt)"
)
_MEASURE = re.compile(rf"^\d+(?:[.,]\d+)?{_UNIT}$")
_CAPACITY = re.compile(
    r"(?<![\w.\-/])(\d+(?:[.,]\d+)?)\s?(gb|tb|mb|ml|cl|l|ltr|oz|fl oz|kg|g|lb|lbs|mah|w|kw|v|cu ft|btu|ghz|mhz|rpm)"
    r"\b(?!\s?/\s?s|ps|/sec)"
)
_LENGTH = re.compile(r"(?<![\w.\-/])(\d+(?:[.,]\d+)?)\s?(cm|mm|m|in|inch|inches|ft|\"|')(?![a-z])")
_LETTER_SIZE = re.compile(r"\bsize:? ?(xxs|xs|s|m|l|xl|xxl|xxxl|\d+)\b")
_INCH = {"in": "in", "inch": "in", "inches": "in", '"': "in", "'": "in"}
_PACK_WORDS = r"(?:set|s|pack|pk|box|bag|case|tub|lot)"
_PACK = re.compile(
    r"(?:(?:pack|set|box|bag|case|lot) of (\d+))|(?:(\d+)\s?(?:pack|pk|pcs|pieces|piece|count|ct|pc)\b)"
    r"|(?:(\d+)\s?(?:er|x) ?(?:pack|set))|(?:\b(\d+)\s?x\b)"
    rf"|(?:\b{_PACK_WORDS}\s?/\s?(\d+)\b)"
)
_PACK_CUE = re.compile(r"\d\s?[pcex]|/\s?\d")  # every ``_PACK`` match has "of " or this
# Tokens that look like codes but are specs: a pack notation (SET/6, S/4), a ratio or list of numbers
# (10/100), a count of something (2-Line, 7.1-Channel) and a list of formats (CD/MP3/WMA: short parts,
# one of them letters only). Read as codes, two products of one range share them.
_NOT_A_CODE = re.compile(
    rf"^{_PACK_WORDS}/\d+$|^\d+(?:/\d+)+$|^\d{{1,2}}(?:\.\d)?-[a-z]{{3,}}$"
    r"|^(?=(?:[a-z0-9]{1,4}/)*[a-z]{2,4}(?:/|$))[a-z0-9]{1,4}(?:/[a-z0-9]{1,4})+$"
)
# A number standing on its own (DOOR SIGN 7, FOR 4, 3 WICK, 50'S): not part of a code, a decimal or a measure.
_NUMBER = re.compile(
    f"(?:(?<=[{_UNSPACED}])|(?<![\\w.,/\\-]))(\\d{{1,4}})(?=$|[\\s'\"’)\\-:!{_UNSPACED}]|[a-z]{{3,}}\\b)"
)
# Counts spelled out ("FOUR RABBIT EASTER DECORATIONS"), read as the number they name.
_SPELLED = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
_NUMBER_WORDS = {word: str(n) for n, word in enumerate(_SPELLED, 1)}
_LEADING_COUNT = re.compile(r"^(\d{1,3}) (?=[a-z]{3,})")  # a title that starts with a count of what it holds
_QUOTED_LETTER = re.compile(r"[\"'“‘](\w)[\"'”’]")  # LETTER "A" BLING KEY RING
_SHORT_CODE = re.compile(r"(?<![\w.,/\-])([a-z]{1,2}\d{1,2})(?![\w.,/\-])")  # A5 / A6 paper, G10 / G11 camera
_MODEL_TOKEN = re.compile(r"^(?=.*\d)(?=.*[a-z])[a-z0-9]{4,14}$")  # 9500ci, lcsx30, 20wlbk: a model in a series
# A place in a series: only one catalog's house style says it marks another product.
SERIES_ATTRIBUTES = frozenset(("number", "letter", "series", "model"))


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


_COLOURS = _word_set(
    "black white red blue green yellow pink purple violet orange brown grey "
    "gray silver gold beige cream ivory navy teal turquoise aqua lilac lavender "
    "mint olive maroon burgundy charcoal khaki tan bronze copper rose coral magenta "
    "cyan chrome natural clear transparent multicolour multicolor"
)
_NOT_FRAGMENTS = _word_set(
    "a an the and or for with of to in on by "
    "new mid pro kit set box usb hd tv ssd hdd ram "
    "cpu gen ddr sata pc pci lga cl cas mhz ghz gb "
    "tb mb w v"
)
_SIZES = frozenset(("small", "medium", "large", "jumbo", "mini", "tall", "giant", "tiny"))
FILLER = frozenset(("a", "an", "the", "and", "of", "for", "with", "in", "new", "gift", "edition", "set", "style"))
ATTRIBUTE_WORDS = _COLOURS | _SIZES | frozenset(("xs", "s", "m", "l", "xl", "xxl", "size", "pack", "pcs"))


def normalize(text: str | None) -> str:
    """Lower-case, HTML-free, NFKC text with single spaces (the form every feature starts from)."""
    if not text:
        return ""
    text = html.unescape(_TAG.sub(" ", text))
    text = unicodedata.normalize("NFKC", text).lower()
    return _SPACE.sub(" ", text).strip()


def exact_key(text: str | None) -> str:
    """Text with punctuation and spaces removed: two titles with equal keys are the same text."""
    return _key(normalize(text))


def _key(norm: str) -> str:
    return _SPACE.sub("", _PUNCT.sub("", norm))


def _is_code(token: str) -> bool:
    return (
        len(token) >= 4
        and bool(_HAS_DIGIT.search(token))
        and bool(_HAS_LETTER.search(token))
        and bool(_ASCII_WORD.match(token))
        and not _MEASURE.match(token)
    ) or (token.isdigit() and len(token) >= 5)


def model_codes(text: str) -> frozenset[str]:
    """Model numbers and codes: letter+digit tokens with dashes, slashes and dots removed.

    Adjacent tokens are also joined ("KDL 40V4100" -> "kdl40v4100") so a code split by a
    space on one side still meets its unsplit form on the other.
    """
    return _codes(normalize(text))


def _codes(norm: str) -> frozenset[str]:
    tokens = [found for found in map(_code_token, _RAW_TOKEN.findall(norm)) if found.token]
    codes = {t.token for t in tokens if t.code}
    for left, right in itertools.pairwise(tokens):
        if (left.mixed or right.mixed) and left.joinable and right.joinable and _is_code(left.token + right.token):
            codes.add(left.token + right.token)
    return frozenset(codes)


class _CodeToken(NamedTuple):
    token: str  # the raw token with dashes, slashes and dots removed
    code: bool
    mixed: bool
    joinable: bool


@functools.lru_cache(maxsize=1 << 17)
def _code_token(raw: str) -> _CodeToken:
    """What ``_codes`` asks of a raw token, remembered: a catalog repeats its words title after title."""
    token = _CODE_JOINERS.sub("", raw)
    if _NOT_A_CODE.match(raw):
        return _CodeToken(token, False, False, False)
    return _CodeToken(token, _is_code(token), _mixed(token), _joinable(token))


def _joinable(token: str) -> bool:
    """A code fragment: a short letter group or a token with a digit (not a word like "drive" or "mid")."""
    if _HAS_DIGIT.search(token):
        return not _MEASURE.match(token)
    return len(token) <= 3 and token not in _NOT_FRAGMENTS


def _mixed(token: str) -> bool:
    return bool(_HAS_DIGIT.search(token)) and bool(_HAS_LETTER.search(token))


def shared_code(a: Collection[str], b: Collection[str]) -> str | None:
    """The longest code both sides carry, allowing one to contain the other (``LX350H`` in ``PSLX350HBK``).

    Ties go to the code that sorts last, so the answer is the same in every run.
    """
    best = None
    for x in a:
        for y in b:
            if x == y:
                found = x
            elif len(x) >= 5 and len(y) >= 5 and (x in y or y in x):
                found = x if len(x) <= len(y) else y
            else:
                continue
            if best is None or (len(found), found) > (len(best), best):
                best = found
    return best


def _covered(code: str, others: Collection[str]) -> bool:
    if code in others:
        return True
    return len(code) >= 5 and any(len(o) >= 5 and (code in o or o in code) for o in others)


def ranked_codes(codes: Collection[str]) -> tuple[str, ...]:
    """Codes longest first (then alphabetically): the order ``related_codes`` tries them in."""
    return tuple(sorted(codes, key=lambda code: (-len(code), code)))


def related_codes(a: Sequence[str], b: Sequence[str]) -> tuple[str, str] | None:
    """Two different codes of one product line (``LN46A850`` / ``LN52A850``), neither found on the other side.

    Same first character, same letters-and-digits shape and about the same length:
    a different model of the same series, not an unrelated SKU or barcode. ``a`` and
    ``b`` come as ``ranked_codes``.
    """
    for x in a:
        if _covered(x, b):
            continue
        for y in b:
            if x[0] == y[0] and abs(len(x) - len(y)) <= 1 and _letters(x) == _letters(y) and not _covered(y, a):
                return x, y
    return None


_ID_SUFFIX = re.compile(r"^(.*\d)[-_ ]?([a-z]*)$")  # a stem ending in a digit, then suffix letters


def sibling_ids(a: str, b: str) -> bool:
    """Two product ids of one stem with other suffix letters: 84509G / 84509B, 90135 / 90135A, SKU-12-RED / SKU-12-BLU.

    A merchant numbers a range's members that way (the letter is often the colour). Ids that
    differ only in case (72801C / 72801c) are one id typed twice, so they are not siblings.
    """
    x, y = _ID_SUFFIX.match(a.strip().lower()), _ID_SUFFIX.match(b.strip().lower())
    return x is not None and y is not None and x[1] == y[1] and x[2] != y[2]


@functools.lru_cache(maxsize=65536)
def _letters(code: str) -> str:
    return re.sub(r"\d+", "#", code)


def attributes(text: str) -> dict[str, frozenset[str]]:
    """Size, colour, capacity and pack count in a title, keyed by kind and unit ("capacity:gb").

    Keying by unit means "1TB ... 64MB cache" and "3TB ... 64MB cache" conflict on
    terabytes even though both mention 64MB.
    """
    norm = normalize(text)
    return _attributes(norm, frozenset(_words(norm)))


def _attributes(norm: str, words: frozenset[str]) -> dict[str, frozenset[str]]:
    """``attributes`` of a normalised text and its words; a pattern runs only where its cue is present."""
    found: dict[str, set[str]] = {}
    measured = bool(_HAS_DIGIT.search(norm))  # capacities, lengths and most pack counts start with a number
    spelled = set()  # capacities as written ("1000gb"), which are not model tokens either
    for number, unit in _CAPACITY.findall(norm) if measured else ():
        unit = unit.replace(" ", "")
        spelled.add(f"{number}{unit}")
        if unit in ("gb", "tb"):  # 500GB / 1TB is one clash on storage, not two one-sided sizes
            found.setdefault("capacity:gb", set()).add(_storage(number, unit))
        else:
            found.setdefault(f"capacity:{unit}", set()).add(f"{_number(number)}{unit}")
    for number, unit in _LENGTH.findall(norm) if measured else ():
        unit = _INCH.get(unit, unit)
        found.setdefault(f"size:{unit}", set()).add(f"{_number(number)}{unit}")
    for value in _LETTER_SIZE.findall(norm) if "size" in norm else ():
        found.setdefault("size:letter", set()).add(f"size {value}")
    if words & _SIZES:
        found["size:word"] = set(words & _SIZES)
    if words & _COLOURS:
        found["colour"] = set(words & _COLOURS)
    if "of " in norm or _PACK_CUE.search(norm):
        pack = {_number(next(g for g in groups if g)) for groups in _PACK.findall(norm)}
        if pack:
            found["pack"] = pack
    if measured or words & _NUMBER_WORDS.keys():
        _series_numbers(norm, words, found)
        short = set(_SHORT_CODE.findall(norm))
        if short:
            found["series"] = short
        claimed = {value.replace(" ", "") for values in found.values() for value in values} | spelled
        models = {t for t in words if _MODEL_TOKEN.match(t) and t not in claimed and t not in short}
        if models:
            found["model"] = models
    if "'" in norm or '"' in norm or "‘" in norm or "“" in norm:
        letters = {f'"{letter}"' for letter in _QUOTED_LETTER.findall(norm)}
        if letters:
            found["letter"] = letters
    return {name: frozenset(values) for name, values in found.items()}


def _series_numbers(norm: str, words: frozenset[str], found: dict[str, set[str]]) -> None:
    """Numbers standing on their own that no measure or pack count has claimed: a series, a count, a year."""
    claimed = {value.rstrip("abcdefghijklmnopqrstuvwxyz\"' ") for values in found.values() for value in values}
    leading = _LEADING_COUNT.match(norm)
    if leading and "pack" not in found:  # "4 ROSE PINK DINNER CANDLES" is "S/4 ROSE PINK DINNER CANDLES"
        found["pack"] = {str(int(leading.group(1)))}
        claimed.add(str(int(leading.group(1))))
    numbers = {str(int(n)) for n in _NUMBER.findall(norm)} | {_NUMBER_WORDS[w] for w in words if w in _NUMBER_WORDS}
    numbers -= claimed
    if numbers:
        found["number"] = numbers


AttributeKey = tuple[tuple[str, frozenset[str]], ...]
_ATTRIBUTE_KEYS: dict[AttributeKey, AttributeKey] = {}  # a catalog has few distinct attribute sets


def _storage(number: str, unit: str) -> str:
    """Gigabytes and terabytes in one spelling: "1000GB" and "1TB" are both "1tb"."""
    gigabytes = _float(number) * (1000 if unit == "tb" else 1)
    if gigabytes >= 1000 and gigabytes % 1000 == 0:
        return f"{_plain(gigabytes / 1000)}tb"
    return f"{_plain(gigabytes)}gb"


def _number(text: str) -> str:
    return _plain(_float(text))


def _float(text: str) -> float:
    return float(text.replace(",", "."))  # a decimal comma ("1,5 L") reads as a point


def _plain(value: float) -> str:
    """A number as titles write it: "2" for 2.0, "1.5" for 1.5."""
    return str(int(value)) if value.is_integer() else str(value)


def char_ngrams(text: str, n: int = 3) -> frozenset[str]:
    """Character n-grams of the normalised text (works for any script, no segmentation)."""
    norm = f" {normalize(text)} "
    if len(norm) <= n:
        return frozenset({norm})
    return frozenset(norm[i : i + n] for i in range(len(norm) - n + 1))


_EMPTY_GRAM = (32 << 42) | (32 << 21) | 0x1FFFFF  # the two-space "gram" of an empty title, never a real 3-gram


def gram_codes(norms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``char_ngrams`` (n = 3) of many normalised titles at once, as ``(indptr, codes)``.

    Row ``r``'s grams are ``codes[indptr[r]:indptr[r + 1]]``, sorted and unique; a gram is
    its three code points packed into one int64 (21 bits each), so equal codes are equal
    grams and set overlaps computed on codes are exact. Pure numpy: no set per record.
    """
    padded = [f" {t} " for t in norms]
    lengths = np.fromiter(map(len, padded), dtype=np.int64, count=len(padded))
    chars = np.frombuffer("".join(padded).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    counts = np.maximum(lengths - 2, 0)  # 3-grams per row
    rows = np.repeat(np.arange(len(padded), dtype=np.int64), counts)
    shift = (np.cumsum(lengths) - lengths) - (np.cumsum(counts) - counts)  # row start in chars minus in grams
    pos = np.arange(len(rows), dtype=np.int64) + np.repeat(shift, counts)
    codes = (chars[pos] << 42) | (chars[pos + 1] << 21) | chars[pos + 2]
    empty = np.flatnonzero(lengths < 3)
    rows = np.concatenate([rows, empty])
    codes = np.concatenate([codes, np.full(len(empty), _EMPTY_GRAM, dtype=np.int64)])
    order = np.lexsort((codes, rows))
    rows, codes = rows[order], codes[order]
    fresh = np.ones(len(codes), dtype=bool)
    fresh[1:] = (rows[1:] != rows[:-1]) | (codes[1:] != codes[:-1])
    rows, codes = rows[fresh], codes[fresh]
    indptr = np.zeros(len(padded) + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=len(padded)), out=indptr[1:])
    return indptr, codes


def words(text: str) -> list[str]:
    """Word tokens for display and token overlap."""
    return _words(normalize(text))


def _words(norm: str) -> list[str]:
    return _PUNCT.sub(" ", norm).split()


T = TypeVar("T")


class _memo(Generic[T]):  # lower case: used like functools.cached_property
    """``functools.cached_property`` without its lock: computed on first read, then kept in the instance.

    Python 3.11's takes a lock on every first read, which cost more than half of working
    out the cheaper features of a title (a million titles have ten each).
    """

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self.compute = compute
        self.name = compute.__name__
        self.__doc__ = compute.__doc__

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> _memo[T]: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...
    def __get__(self, instance: object | None, owner: type | None = None) -> T | _memo[T]:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.compute(instance)
        return value


@dataclass(frozen=True)
class TextFeatures:
    """Everything the pair scorer needs from one title, computed once per record."""

    text: str

    @classmethod
    def known(cls, text: str, **values: object) -> TextFeatures:
        """Features of ``text`` with some properties already worked out (``index.packed`` restores them)."""
        unknown = values.keys() - _PROPERTIES
        if unknown:
            raise TypeError(f"not a TextFeatures property: {', '.join(sorted(unknown))}")
        found = cls(text)
        found.__dict__.update(values)  # where each property keeps its value
        return found

    @_memo
    def norm(self) -> str:
        """The normalised text, computed once: every other feature starts from it."""
        return normalize(self.text)

    @_memo
    def key(self) -> str:
        return _key(self.norm)

    @_memo
    def codes(self) -> frozenset[str]:
        return _codes(self.norm)

    @_memo
    def ranked(self) -> tuple[str, ...]:
        """``codes`` in the order ``related_codes`` tries them."""
        return ranked_codes(self.codes)

    @_memo
    def attrs(self) -> dict[str, frozenset[str]]:
        return _attributes(self.norm, self.tokens)

    @_memo
    def attr_key(self) -> AttributeKey:
        """``attrs`` as a hashable value, so comparisons of attribute sets can be remembered.

        Interned: titles with equal attributes share one key, which a cache compares by identity.
        """
        key = tuple(sorted(self.attrs.items()))
        return _ATTRIBUTE_KEYS.setdefault(key, key)

    @_memo
    def grams(self) -> frozenset[str]:
        return char_ngrams(self.text)

    @_memo
    def tokens(self) -> frozenset[str]:
        return frozenset(_words(self.norm))

    @_memo
    def ordered(self) -> tuple[str, ...]:
        """Tokens sorted: a set's order depends on the process's string hashing, this one does not."""
        return tuple(sorted(self.tokens))

    @_memo
    def token_text(self) -> str:
        """Sorted tokens as one string (what the token-set ratio compares)."""
        return " ".join(self.ordered)

    @_memo
    def joined(self) -> str:
        """Tokens each preceded by NUL: ``"\\0" + prefix in joined`` finds a token starting with prefix."""
        return "".join("\0" + t for t in self.ordered)

    @_memo
    def long_initials(self) -> frozenset[str]:
        """First letters of the tokens of five or more characters (where scoring looks for typos)."""
        return frozenset(t[0] for t in self.tokens if len(t) >= 5)

    @_memo
    def covers(self) -> dict[str, bool]:
        """Scoring's memo: whether another title's word is covered by this title's tokens."""
        return {}

    @_memo
    def in_order(self) -> tuple[str, ...]:
        """The title's word tokens in their order ("GLASS BONBON JAR. D'AMANDES" ends in "amandes")."""
        return tuple(_words(self.norm))

    @_memo
    def last_word(self) -> str:
        """The title's last word: its noun, in English."""
        return self.in_order[-1] if self.in_order else ""

    @_memo
    def content_words(self) -> frozenset[str]:
        """Words that name the product: no filler, attribute words, or anything with a digit (codes, measures)."""
        return frozenset(t for t in self.tokens - FILLER - ATTRIBUTE_WORDS if not _HAS_DIGIT.search(t))


_PROPERTIES = frozenset(name for name, value in vars(TextFeatures).items() if isinstance(value, _memo))


UNSPACED_SCRIPT = re.compile(f"[{_UNSPACED}]")


def has_title(title: str | None) -> bool:
    """Whether a title carries text evidence: it has a word, not only codes and numbers (or nothing).

    A product sold without a description gets its id as title; two such ids (35940 / 35980A)
    look alike as text and say nothing about the products. An id that is a word ("Bread" at a
    bakery's till) is a title.
    """
    return any(
        (not _HAS_DIGIT.search(token) and len(token) > 1) or UNSPACED_SCRIPT.search(token)
        for token in _words(normalize(title))
    )
