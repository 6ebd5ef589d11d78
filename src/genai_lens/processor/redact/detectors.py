"""Pattern detectors for personal data and credentials: hot-spot hints, a compiled regex, a validator.

Each detector is one :class:`Detector`: the regex finds candidates, the validator (Luhn, mod-97,
``ipaddress``, SSN ranges, JWT header, ...) throws out look-alikes so ids, timestamps, versions and prices
survive. The regex never scans a whole string: literal hints (``@``, ``sk-``, four digits in a row in the
string's *shape*) are found at ``str.find`` speed and the regex runs only in a small window around each hit,
which is what keeps the common case (content with no PII) cheap.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from bisect import bisect_right, insort
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from genai_lens.semconv import GenaiLensRedactionTypesValues as RedactionType

Validator = Callable[[str, str, int], bool]
"""``validator(candidate, whole_text, start)`` → keep the candidate?"""


def _shape_byte(byte: int) -> int:
    char = chr(byte)
    if "0" <= char <= "9":
        return ord("0")
    if "A" <= char <= "Z":
        return ord("A")
    if "a" <= char <= "z":
        return ord("a")
    return byte


SHAPE_TABLE = bytes(_shape_byte(b) for b in range(256))
"""Byte → its shape: every digit becomes ``0``, upper-case letters ``A``, lower-case ``a``."""


RUN_TABLE = bytes(
    ord("x") if chr(b).isalnum() and b < 128 or chr(b) in "_-.+/=~" else ord(" ") for b in range(256)
)
"""Byte → ``x`` for characters that make up keys and tokens, a space for the rest."""

TOKEN_RUN = b"x" * 16
"""Every credential the detectors know has at least this many token characters in a row."""

DIGIT_RUN = b"000"
"""Cards, SSNs, IBANs and most phone formats have three digits in a row (in the shape)."""

PREREQUISITES = ("", "token_run", "digit_run")

CONTEXT = 12
"""How far before a window its regex (lookbehinds) and validators (a version word before an IPv4) look."""


def shape_of(text: str) -> bytes:
    """One byte per character (non-ASCII → ``?``), so shape offsets are text offsets.

    Searching the shape for a literal such as ``0000`` or ``000-00-0000`` runs at ``bytes.find`` speed,
    where a ``\\d``-led regex over the text would try every position; the real regex then runs only near
    the hits.
    """
    return text.encode("ascii", "replace").translate(SHAPE_TABLE)


@dataclass(frozen=True)
class Hot:
    """A cheap hint that a detector may match here: ``literal`` must occur, ``regex`` (if any) confirms."""

    literal: bytes | str
    regex: re.Pattern[Any] | None = None

    @property
    def on_shape(self) -> bool:
        return isinstance(self.literal, bytes)


@dataclass(frozen=True)
class Detector:
    """One kind of sensitive value: ``label`` names its placeholder (``<EMAIL>``), ``type`` its family.

    ``hots`` locate candidate areas fast; around each hit the window grows over the shape bytes in
    ``left``/``right`` (at most ``max_left``/``max_right``) and ``regex`` runs inside that window only.
    A detector without hots (user patterns) runs its regex over the whole text.
    """

    name: str
    type: str
    label: str
    regex: re.Pattern[str]
    hots: tuple[Hot, ...] = ()
    left: bytes = b""
    right: bytes = b""
    max_left: int = 0
    max_right: int = 0
    validator: Validator | None = None
    group: int = 0
    """Which regex group is the sensitive part (``Bearer <token>`` keeps the word ``Bearer``)."""
    shrink: bool = False
    """On a failed validation, retry the candidate cut back at its separators (see :meth:`_matches`)."""
    min_digits: int = 0
    """Fewest digits a match holds (a phone has 8); a string with fewer is skipped without a search."""
    prerequisite: str = ""
    """A cheap whole-string condition checked before any hot: ``token_run`` (:data:`TOKEN_RUN`) or
    ``digit_run`` (:data:`DIGIT_RUN`); one failed check skips a whole family of detectors."""

    def __post_init__(self) -> None:
        if self.prerequisite not in PREREQUISITES:
            raise ValueError(f"unknown prerequisite {self.prerequisite!r}")
        right = re.compile(b"[" + re.escape(self.right) + b"]*") if self.right else None
        object.__setattr__(self, "_right_run", right)
        gates = tuple((hot.literal, hot.regex, hot.on_shape) for hot in self.hots)
        object.__setattr__(self, "gates", gates)

    def find(self, text: str, shape: bytes) -> list[tuple[int, int]]:
        """Spans ``(start, end)`` of validated matches in ``text`` (``shape`` is ``shape_of(text)``)."""
        if not self.hots:
            return self._matches(text, 0, len(text))
        spans: list[tuple[int, int]] = []
        windows: list[tuple[int, int]] = []
        seen: set[tuple[int, int]] = set()
        for literal, hot_regex, on_shape in self.gates:  # type: ignore[attr-defined]
            source: Any = shape if on_shape else text
            if literal in source:
                self.around_hits(text, shape, source, literal, hot_regex, spans, windows, seen)
        return spans

    def _window(self, shape: bytes, size: int, hit_start: int, hit_end: int) -> tuple[int, int]:
        """The stretch around a hit where the regex runs: grown over ``left``/``right`` shape bytes."""
        window_start = hit_start
        if self.max_left:
            floor = max(0, hit_start - self.max_left)
            window_start = floor + len(shape[floor:hit_start].rstrip(self.left))
        window_end = hit_end
        right_run = self._right_run  # type: ignore[attr-defined]
        if right_run is not None:
            window_end = right_run.match(shape, hit_end, min(size, hit_end + self.max_right)).end()
        return window_start, window_end

    def around_hits(
        self,
        text: str,
        shape: bytes,
        source: Any,
        literal: Any,
        hot_regex: Any,
        spans: list[tuple[int, int]],
        windows: list[tuple[int, int]],
        seen: set[tuple[int, int]],
    ) -> None:
        """Find the hits of one hot in ``source`` and run the regex in a window around each.

        ``windows`` (sorted) and ``seen`` (the spans already in ``spans``) are shared by all of a
        detector's hots over one text, so a window another hot already searched is skipped.
        """
        size = len(text)
        pos = 0
        while True:
            if hot_regex is None:
                hit_start = source.find(literal, pos)
                if hit_start < 0:
                    return
                hit_end = hit_start + len(literal)
            else:
                match = hot_regex.search(source, pos)
                if match is None:
                    return
                hit_start, hit_end = match.span()
            # Windows are kept sorted; those of one hot never overlap, so a window holding this hit is
            # one of the last two that start at or before it.
            i = bisect_right(windows, (hit_start, size + 1))
            if (i and windows[i - 1][1] >= hit_end) or (i > 1 and windows[i - 2][1] >= hit_end):
                pos = hit_end
                continue
            window_start, window_end = self._window(shape, size, hit_start, hit_end)
            insort(windows, (window_start, window_end))
            for span in self._matches(text, window_start, min(size, window_end + 1)):
                if span not in seen:  # windows may overlap
                    seen.add(span)
                    spans.append(span)
            pos = max(window_end, hit_end)

    def around_indexed_hits(
        self,
        text: str,
        shape: bytes,
        hits: Sequence[tuple[int, int]],
        spans: list[tuple[int, int]],
        windows: list[tuple[int, int]],
        seen: set[tuple[int, int]],
        memo: dict[tuple[str, str, int], list[tuple[int, int]]],
    ) -> None:
        """:meth:`around_hits` for hits found beforehand (sorted pairs from a ``GateIndex``), on long texts.

        ``memo`` remembers each window's matches by its text (with :data:`CONTEXT` characters before it),
        so content repeated within the text is matched once.
        """
        size = len(text)
        name = self.name
        pos = 0
        for hit_start, hit_end in hits:
            if hit_start < pos:
                continue
            if windows:
                last_start, last_end = windows[-1]
                if last_start <= hit_start:
                    contained = last_end >= hit_end or (len(windows) > 1 and windows[-2][1] >= hit_end)
                else:  # a window of another hot of this detector lies further on
                    i = bisect_right(windows, (hit_start, size + 1))
                    contained = (i and windows[i - 1][1] >= hit_end) or (
                        i > 1 and windows[i - 2][1] >= hit_end
                    )
                if contained:
                    pos = hit_end
                    continue
            window_start, window_end = self._window(shape, size, hit_start, hit_end)
            if not windows or windows[-1][0] <= window_start:
                windows.append((window_start, window_end))
            else:
                insort(windows, (window_start, window_end))
            stop = min(size, window_end + 1)
            # Lookbehinds and validators see at most CONTEXT characters before the window, nothing after it.
            context = window_start if window_start < CONTEXT else CONTEXT
            key = (name, text[window_start - context : stop], context)
            relative = memo.get(key)
            if relative is None:
                base = context - window_start
                relative = memo[key] = [
                    (a + base, b + base) for a, b in self._matches(text, window_start, stop)
                ]
            if relative:
                shift = window_start - context
                for a, b in relative:
                    span = (a + shift, b + shift)
                    if span not in seen:  # windows may overlap
                        seen.add(span)
                        spans.append(span)
            pos = window_end if window_end > hit_end else hit_end

    def _matches(self, text: str, pos: int, endpos: int) -> list[tuple[int, int]]:
        """Validated matches in ``text[pos:endpos]``.

        A candidate that fails validation may have swallowed a neighbour ("+44 20 7946 0958 4111 1111 ...":
        a phone then a card). With ``shrink`` the candidate is cut back at its separators, longest first,
        until it validates; either way the search resumes right after what was kept, or one character
        after a rejected start, so the neighbour is still found.
        """
        spans: list[tuple[int, int]] = []
        validate = self.validator
        group = self.group
        search = self.regex.search
        while pos < endpos:
            match = search(text, pos, endpos)
            if match is None:
                break
            start, end = match.span(group)
            if start < 0 or start == end:
                pos = match.end() if match.end() > pos else pos + 1
                continue
            if validate is None or validate(text[start:end], text, start):
                spans.append((start, end))
                pos = max(match.end(), pos + 1)
                continue
            kept = self._shrink(text, start, end) if self.shrink else None
            if kept is not None:
                spans.append((start, kept))
                pos = kept
            else:
                pos = match.start() + 1
        return spans

    def _shrink(self, text: str, start: int, end: int) -> int | None:
        """The longest prefix ``text[start:cut]``, cut just before a separator, that validates."""
        assert self.validator is not None
        candidate = text[start:end]
        for cut in range(len(candidate) - 1, 0, -1):
            if candidate[cut] in " .-" and candidate[cut - 1] not in " .-(":
                if self.validator(candidate[:cut], text, start):
                    return start + cut
        return None


# -- validators -------------------------------------------------------------------------------------


_DOUBLED = tuple((2 * d) - 9 if d > 4 else 2 * d for d in range(10))


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check every payment card number passes."""
    values = [ord(ch) - 48 for ch in digits]
    return (sum(values[-1::-2]) + sum(_DOUBLED[d] for d in values[-2::-2])) % 10 == 0


def card_brand_ok(digits: str) -> bool:
    """Known issuer prefixes (IIN ranges) with the lengths each network issues."""
    n = len(digits)
    two, four, six = int(digits[:2]), int(digits[:4]), int(digits[:6])
    if digits[0] == "4":  # Visa
        return n in (13, 16, 19)
    if 51 <= two <= 55 or 2221 <= four <= 2720:  # Mastercard
        return n == 16
    if two in (34, 37):  # American Express
        return n == 15
    if four == 6011 or two == 65 or 644 <= int(digits[:3]) <= 649 or 622126 <= six <= 622925:  # Discover
        return 16 <= n <= 19
    if 3528 <= four <= 3589:  # JCB
        return 16 <= n <= 19
    if two in (36, 38, 39) or 300 <= int(digits[:3]) <= 305:  # Diners Club
        return 14 <= n <= 19
    if two == 62:  # UnionPay
        return 16 <= n <= 19
    if two in (50, 56, 57, 58) or two in (63, 67):  # Maestro
        return 12 <= n <= 19
    return False


_NO_SEPARATORS = str.maketrans("", "", " -")


def _credit_card_ok(candidate: str, text: str, start: int) -> bool:
    if (
        " " in candidate and "-" in candidate
    ):  # "4111 1111-1111 1111" mixes separators: not how cards are written
        return False
    digits = candidate.translate(_NO_SEPARATORS)
    return 13 <= len(digits) <= 19 and card_brand_ok(digits) and luhn_ok(digits)


# Lengths by country (ISO 13616 registry); the mod-97 check does the rest.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25,
    "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18,
    "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33,
    "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip


def iban_ok(iban: str) -> bool:
    """Country length plus the ISO 7064 mod-97 check (rearranged number mod 97 == 1)."""
    compact = iban.replace(" ", "")
    if IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def _iban_ok(candidate: str, text: str, start: int) -> bool:
    return iban_ok(candidate)


def _phone_ok(candidate: str, text: str, start: int) -> bool:
    digits = sum(ch.isdigit() for ch in candidate)
    if candidate.startswith("+"):
        if candidate.startswith("+1") and not candidate[2:3].isdigit():
            return digits == 11  # North American Numbering Plan: +1 and ten digits
        return 8 <= digits <= 15
    return 9 <= digits <= 12


_VERSION_CONTEXT = re.compile(r"(?:version|ver\.?|release|v)\s*$", re.IGNORECASE)


def _ipv4_ok(candidate: str, text: str, start: int) -> bool:
    # The regex guarantees four dot-separated runs of 1-3 digits; what ``ipaddress`` would reject on top
    # is an octet over 255 or with a leading zero (checked here without its cost, once per address).
    octets = candidate.split(".")
    for octet in octets:
        if (len(octet) > 1 and octet[0] == "0") or int(octet) > 255:
            return False
    if octets[0] == "127" or candidate == "0.0.0.0":  # loopback, unspecified
        return False
    # "version 1.2.3.4" / "v1.0.0.1" are four-part version numbers, not hosts.
    return _VERSION_CONTEXT.search(text, max(0, start - 12), start) is None


def _ipv6_ok(candidate: str, text: str, start: int) -> bool:
    if candidate.count(":") < 2 or not any(ch.isdigit() for ch in candidate):
        return False  # "a::b" in C++/Rust paths and "12:30" clock times
    try:
        address = ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return not (address.is_loopback or address.is_unspecified)


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _jwt_ok(candidate: str, text: str, start: int) -> bool:
    try:
        header = json.loads(_b64url_decode(candidate.split(".", 1)[0]))
    except (ValueError, binascii.Error):
        return False
    return isinstance(header, dict) and "alg" in header


def _mixed_token_ok(candidate: str, text: str, start: int) -> bool:
    """A key body has letters and digits; ``sk-learn-style-words`` does not."""
    body = candidate.rsplit("-", 1)[-1] if len(candidate) > 60 else candidate
    return any(ch.isdigit() for ch in body) and any(ch.isalpha() for ch in body)


def _bearer_ok(candidate: str, text: str, start: int) -> bool:
    return any(ch.isdigit() for ch in candidate) or any(ch in "-._~+/=" for ch in candidate)


# -- built-in detectors ---------------------------------------------------------------------------

_NOT_BEFORE_WORD = r"(?<![\w.+%-])"
_EMAIL = re.compile(
    _NOT_BEFORE_WORD
    + r"[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?"
    + r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-]|\.[A-Za-z0-9])"
)

# International: "+" country code then 2-6 groups (optional parentheses), space/dot/dash separated.
# North American: (415) 555-2671, 415-555-2671, 415.555.2671, 1-415-555-2671 (area and exchange 2-9xx).
# National trunk-prefix forms with spaces: 020 7946 0958, (030) 901820 12. Bare digit runs never match.
_PHONE = re.compile(
    r"(?<![\w+.-])(?:"
    r"\+[1-9]\d{0,2}(?:[ .-]?\(\d{1,4}\)|[ .-]?\d{1,5}){2,6}"
    r"|(?:1[ .-])?(?:\([2-9]\d{2}\)[ ]?|[2-9]\d{2}[.-])[2-9]\d{2}[.-]\d{4}"
    r"|(?:1[ ])?[2-9]\d{2} [2-9]\d{2} \d{4}"
    r"|\(0\d{1,4}\)[ ]?\d{3,4}[ -]?\d{3,5}"
    r"|0\d{2,4} \d{3,4} \d{3,5}"
    r")(?![\w-]|[.,:/]\d)"
)

# Card layouts as printed: 4-4-4-4(-1..3), Amex/Diners 4-6-5/4-6-4 (one separator kind), or 13-19 digits.
_CREDIT_CARD = re.compile(
    r"(?<![\w.,+-])(?:\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?|\d{4}([ -])\d{6}\2\d{4,5}|\d{13,19})"
    r"(?![\w-]|[.,]\d)"
)

_US_SSN = re.compile(r"(?<![\w.-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-]|\.\d)")

_IBAN = re.compile(r"(?<![\w-])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![\w-])")

_IPV4 = re.compile(r"(?<![\w.:-])(?:\d{1,3}\.){3}\d{1,3}(?![\w-]|\.\d)")

# A liberal candidate (hex groups and colons, optionally an IPv4 tail); ``ipaddress`` decides.
_IPV6 = re.compile(
    r"(?<![\w:.-])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?![\w:]|\.\d)"
)

_ANTHROPIC_KEY = re.compile(r"(?<![\w-])sk-ant-[A-Za-z0-9_-]{20,}")
_OPENAI_KEY = re.compile(r"(?<![\w-])sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}")
_AWS_ACCESS_KEY = re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])")
_GITHUB_TOKEN = re.compile(r"(?<![\w-])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})")
_GOOGLE_API_KEY = re.compile(r"(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])")
_SLACK_TOKEN = re.compile(r"(?<![\w-])xox[abposr]-[A-Za-z0-9-]{10,}")
_BEARER = re.compile(r"\b(?:[Bb]earer|BEARER)\s+([A-Za-z0-9\-._~+/]{16,}=*)")
_JWT = re.compile(r"(?<![\w-])eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*(?![\w-])")
_PEM_PRIVATE_KEY = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[A-Za-z0-9+/=:,\s\\-]*?"
    r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|(?=\x00)|$)"  # NUL: the end of a string in a joined scan
)

SECRET = RedactionType.SECRET.value

_KEY_CHARS = b"Aa0_-"
BUILTIN_DETECTORS: tuple[Detector, ...] = (
    # Credentials first: on overlap, the earlier detector wins a tie.
    Detector(
        "pem_private_key",
        SECRET,
        "SECRET",
        _PEM_PRIVATE_KEY,
        (Hot("-----BEGIN"),),
        right=b"Aa0+/=:,\\- \t\r\n",
        max_right=20000,
        prerequisite="token_run",
    ),
    Detector(
        "jwt",
        SECRET,
        "SECRET",
        _JWT,
        (Hot("eyJ"),),
        right=b"Aa0_-.",
        max_right=16000,
        validator=_jwt_ok,
        prerequisite="token_run",
    ),
    Detector(
        "anthropic_key",
        SECRET,
        "SECRET",
        _ANTHROPIC_KEY,
        (Hot("sk-", re.compile(r"sk-ant-")),),
        right=_KEY_CHARS,
        max_right=400,
        prerequisite="token_run",
    ),
    Detector(
        "openai_key",
        SECRET,
        "SECRET",
        _OPENAI_KEY,
        (Hot("sk-"),),
        right=_KEY_CHARS,
        max_right=400,
        validator=_mixed_token_ok,
        prerequisite="token_run",
    ),
    Detector(
        "aws_access_key_id",
        SECRET,
        "SECRET",
        _AWS_ACCESS_KEY,
        (Hot("AKIA"), Hot("ASIA")),
        right=b"A0",
        max_right=20,
        prerequisite="token_run",
    ),
    Detector(
        "github_token",
        SECRET,
        "SECRET",
        _GITHUB_TOKEN,
        (Hot("gh", re.compile(r"gh[pousr]_")), Hot("github_pat_")),
        right=b"Aa0_",
        max_right=300,
        prerequisite="token_run",
    ),
    Detector(
        "google_api_key",
        SECRET,
        "SECRET",
        _GOOGLE_API_KEY,
        (Hot("AIza"),),
        right=_KEY_CHARS,
        max_right=40,
        prerequisite="token_run",
    ),
    Detector(
        "slack_token",
        SECRET,
        "SECRET",
        _SLACK_TOKEN,
        (Hot("xox"),),
        right=_KEY_CHARS,
        max_right=300,
        prerequisite="token_run",
    ),
    Detector(
        "bearer_token",
        SECRET,
        "SECRET",
        _BEARER,
        (Hot("earer", re.compile(r"[Bb]earer")), Hot("EARER", re.compile(r"BEARER"))),
        right=b"Aa0-._~+/= \t",
        max_right=8000,
        validator=_bearer_ok,
        group=1,
        prerequisite="token_run",
    ),
    Detector(
        "email",
        RedactionType.EMAIL.value,
        "EMAIL",
        _EMAIL,
        (Hot("@"),),
        left=b"Aa0._%+-",
        max_left=64,
        right=b"Aa0.-",
        max_right=260,
    ),
    Detector(
        "iban",
        RedactionType.IBAN.value,
        "IBAN",
        _IBAN,
        (Hot(b"AA00", re.compile(rb"AA00 ?[A0]{4} ?[A0]{4}")),),
        right=b"A0 ",
        max_right=42,
        validator=_iban_ok,
        shrink=True,
        prerequisite="digit_run",
        min_digits=6,
    ),
    Detector(
        "credit_card",
        RedactionType.CREDIT_CARD.value,
        "CREDIT_CARD",
        _CREDIT_CARD,
        (Hot(b"0000", re.compile(rb"0000[ -]?0000[ -]?00")),),
        left=b"0 -",
        max_left=24,
        right=b"0 -",
        max_right=30,
        validator=_credit_card_ok,
        prerequisite="digit_run",
        min_digits=13,
    ),
    Detector(
        "us_ssn",
        RedactionType.US_SSN.value,
        "US_SSN",
        _US_SSN,
        (Hot(b"000-00-0000"),),
        validator=None,
        prerequisite="digit_run",
        min_digits=9,
    ),
    Detector(
        "phone",
        RedactionType.PHONE.value,
        "PHONE",
        _PHONE,
        (Hot(b"+", re.compile(rb"\+0")), Hot(b"000", re.compile(rb"000(?:\) ?| |[-.])000"))),
        left=b"0 .()+-",
        max_left=24,
        right=b"0 .()-",
        max_right=30,
        validator=_phone_ok,
        shrink=True,
        min_digits=8,
    ),
    Detector(
        "ipv6",
        RedactionType.IPV6.value,
        "IPV6",
        _IPV6,
        (Hot(":", re.compile(r":(?::|[0-9A-Fa-f]{1,4}:)")),),
        left=b"0aA:.",
        max_left=45,
        right=b"0aA:.",
        max_right=45,
        validator=_ipv6_ok,
    ),
    Detector(
        "ipv4",
        RedactionType.IPV4.value,
        "IPV4",
        _IPV4,
        (Hot(b".", re.compile(rb"0\.0{1,3}\.0{1,3}\.0")),),
        left=b"0",
        max_left=3,
        right=b"0.",
        max_right=12,
        validator=_ipv4_ok,
        min_digits=4,
    ),
)
"""Every built-in detector, in tie-break order."""

BUILTIN_TYPES: tuple[str, ...] = tuple(dict.fromkeys(d.type for d in BUILTIN_DETECTORS))

_CUSTOM_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,40}")


def custom_detector(name: str, pattern: str) -> Detector:
    """A user-configured pattern; ``ValueError`` (with the reason) when the name or pattern is unusable."""
    if not _CUSTOM_NAME.fullmatch(name):
        raise ValueError(f"name {name!r} must be a letter followed by letters, digits or '_' (at most 41)")
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"pattern for {name!r} does not compile: {exc}") from exc
    if regex.match(""):
        raise ValueError(f"pattern for {name!r} matches the empty string")
    return Detector(f"custom:{name}", RedactionType.CUSTOM.value, name.upper(), regex)


def select_detectors(types: Sequence[str]) -> tuple[Detector, ...]:
    """The built-in detectors whose type is in ``types``, in tie-break order."""
    wanted = set(types)
    return tuple(d for d in BUILTIN_DETECTORS if d.type in wanted)
