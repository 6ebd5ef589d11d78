//! The built-in detectors of `detectors.py`: gates, windows, regexes and validators, in tie-break order.
//!
//! Same algorithm as the Python `Detector`: a cheap gate (a literal, or a small regex, in the text or in
//! its shape) locates candidate areas, a window grows around each hit over the detector's shape bytes, and
//! the detector's regex (with Python's lookarounds, through `fancy-regex`) runs inside that window only.
//! The regexes spell Python's `\w` as `[\p{L}\p{N}_]` and `\s` as `[\s\x1c-\x1f]` (Python's classes).

use fancy_regex::Regex as FancyRegex;
use memchr::memmem;

use super::text::{next_char, py_is_digit, py_is_word, shape_byte, PyClasses};
use super::validators;

/// A regex search gave up (its backtracking limit): the string's scan did not finish.
#[derive(Debug, Clone, Copy)]
pub struct ScanError;

/// `validator(candidate, scanned_text, start)` → keep the candidate?
pub type Validator = fn(&str, &str, usize) -> bool;

/// A family-wide whole-request condition (Python's `Detector.prerequisite`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Prerequisite {
    None,
    TokenRun,
    DigitRun,
}

/// A gate: `literal` must occur (in the text, or in its shape when `on_shape`); `regex`, when given, is
/// what is searched. A shape gate's literal prefix (`0000`) lets the regex crate find hits at memmem speed.
pub struct Hot {
    finder: memmem::Finder<'static>,
    /// Bytes of the literal that come before the match start (`[Bb]earer` is found by `earer`).
    lead: usize,
    /// The rest of the gate's pattern, checked at a literal hit: `(start, end)` of the gate match.
    verify: Option<Verify>,
    pub on_shape: bool,
    /// Byte classes that must all occur in a string for this gate to hit (each: any of its bytes): a
    /// string missing one is skipped without a search.
    pub requires: Vec<&'static [u8]>,
    /// `requires` as bits of the scanner's byte-class table (set by `Scanner::new`).
    pub required_bits: u64,
}

const DIGITS: &[u8] = b"0123456789";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Every byte of a text literal, each as its own class.
fn literal_bytes(literal: &'static str) -> Vec<&'static [u8]> {
    let bytes: &'static [u8] = literal.as_bytes();
    (0..bytes.len()).map(|i| &bytes[i..i + 1]).collect()
}

/// `verify(source, literal_at)`: the gate match around a hit of its literal, if the pattern holds there.
type Verify = fn(&[u8], usize) -> Option<(usize, usize)>;

impl Hot {
    fn literal(literal: &'static str, on_shape: bool) -> Hot {
        let requires = if on_shape {
            Vec::new()
        } else {
            literal_bytes(literal)
        };
        Hot {
            finder: memmem::Finder::new(literal.as_bytes()),
            lead: 0,
            verify: None,
            on_shape,
            requires,
            required_bits: 0,
        }
    }

    /// A gate pattern spelled as a literal every match holds plus `verify` (Python gives the regex).
    fn pattern(literal: &'static str, lead: usize, verify: Verify, on_shape: bool) -> Hot {
        Hot {
            verify: Some(verify),
            lead,
            ..Hot::literal(literal, on_shape)
        }
    }

    fn requiring(mut self, classes: &[&'static [u8]]) -> Hot {
        self.requires.extend_from_slice(classes);
        self
    }

    /// Whether a string whose byte classes are `present` (bits from `Scanner`'s class table) can hold a hit.
    pub fn possible(&self, present: u64) -> bool {
        present & self.required_bits == self.required_bits
    }

    /// The leftmost gate match `(start, end)` starting at or after `pos` in `source`.
    pub fn next_hit(&self, source: &[u8], pos: usize) -> Option<(usize, usize)> {
        let mut from = pos + self.lead;
        loop {
            if from > source.len() {
                return None;
            }
            let at = from + self.finder.find(&source[from..])?;
            match self.verify {
                None => return Some((at, at + self.finder.needle().len())),
                Some(verify) => {
                    if let Some(hit) = verify(source, at) {
                        return Some(hit);
                    }
                }
            }
            from = at + 1;
        }
    }
}

fn run_of(source: &[u8], at: usize, class: impl Fn(u8) -> bool, most: usize) -> usize {
    source[at.min(source.len())..]
        .iter()
        .take(most + 1)
        .take_while(|&&b| class(b))
        .count()
}

/// `gh[pousr]_` at the literal `gh`.
fn github_gate(source: &[u8], at: usize) -> Option<(usize, usize)> {
    let rest = source.get(at + 2..at + 4)?;
    (b"pousr".contains(&rest[0]) && rest[1] == b'_').then_some((at, at + 4))
}

/// `[Bb]earer` at the literal `earer`.
fn bearer_gate(source: &[u8], at: usize) -> Option<(usize, usize)> {
    (at >= 1 && matches!(source[at - 1], b'B' | b'b')).then_some((at - 1, at + 5))
}

/// `AA00 ?[A0]{4} ?[A0]{4}` (shape) at the literal `AA00`.
fn iban_gate(source: &[u8], at: usize) -> Option<(usize, usize)> {
    let mut k = at + 4;
    for _ in 0..2 {
        if source.get(k) == Some(&b' ') {
            k += 1;
        }
        if run_of(source, k, |b| b == b'A' || b == b'0', 4) < 4 {
            return None;
        }
        k += 4;
    }
    Some((at, k))
}

/// `0000[ -]?0000[ -]?00` (shape) at the literal `0000`.
fn card_gate(source: &[u8], at: usize) -> Option<(usize, usize)> {
    let mut k = at + 4;
    for digits in [4, 2] {
        if matches!(source.get(k), Some(b' ' | b'-')) {
            k += 1;
        }
        if run_of(source, k, |b| b == b'0', digits) < digits {
            return None;
        }
        k += digits;
    }
    Some((at, k))
}

/// `000(?:\) ?| |[-.])000` (shape) at the literal `000`.
fn phone_gate(source: &[u8], at: usize) -> Option<(usize, usize)> {
    let mut k = at + 3;
    match source.get(k)? {
        b')' => {
            k += 1;
            if source.get(k) == Some(&b' ') {
                k += 1;
            }
        }
        b' ' | b'-' | b'.' => k += 1,
        _ => return None,
    }
    (run_of(source, k, |b| b == b'0', 3) >= 3).then_some((at, k + 3))
}

/// `0\.0{1,3}\.0{1,3}\.0` (shape) at the literal `0.`.
fn ipv4_gate(source: &[u8], at: usize) -> Option<(usize, usize)> {
    let mut k = at + 2;
    for _ in 0..2 {
        let zeros = run_of(source, k, |b| b == b'0', 3);
        if !(1..=3).contains(&zeros) || source.get(k + zeros) != Some(&b'.') {
            return None;
        }
        k += zeros + 1;
    }
    (source.get(k) == Some(&b'0')).then_some((at, k + 1))
}

/// `:(?::|[0-9A-Fa-f]{1,4}:)` at the literal `:`.
fn ipv6_gate(source: &[u8], at: usize) -> Option<(usize, usize)> {
    let k = at + 1;
    if source.get(k) == Some(&b':') {
        return Some((at, k + 1));
    }
    let hex = run_of(source, k, |b| b.is_ascii_hexdigit(), 4);
    ((1..=4).contains(&hex) && source.get(k + hex) == Some(&b':')).then_some((at, k + hex + 1))
}

/// One kind of sensitive value, as in `detectors.py`.
pub struct Detector {
    pub type_name: &'static str,
    pub label: &'static str,
    regex: FancyRegex,
    /// The regex without its lookarounds and back-references (it matches wherever `regex` does, and
    /// more): a fast DFA search that skips windows, and start positions, where `regex` cannot match.
    superset: Option<regex::Regex>,
    /// When `superset`'s first-priority match is exactly the body of `regex` (no back-reference, no
    /// interior lookaround beyond `interior`): the lookarounds to check by hand. When they hold, that
    /// match is what the backtracking regex returns, and the VM is not run.
    look: Option<Look>,
    /// Interior lookaheads of the body, checked on the text at the match start (SSN ranges, `sk-ant-`).
    interior: Option<fn(&str) -> bool>,
    /// The PEM detector's regex for windows that do not reach the end of their string (see `pem_regexes`).
    regex_inner: Option<FancyRegex>,
    pub hots: Vec<Hot>,
    left: [bool; 256],
    right: [bool; 256],
    has_right: bool,
    max_left: usize,
    max_right: usize,
    validator: Option<Validator>,
    group: usize,
    shrink: bool,
    pub min_digits: usize,
    pub prerequisite: Prerequisite,
}

fn compile_fancy(pattern: &str) -> FancyRegex {
    match fancy_regex::RegexBuilder::new(pattern)
        .backtrack_limit(50_000_000)
        .build()
    {
        Ok(regex) => regex,
        Err(err) => panic!("built-in detector pattern does not compile: {err}"),
    }
}

/// A 256-entry table over text bytes: whether the byte's shape (`A` upper case, `a` lower case, `0`
/// digits, `?` non-ASCII) is one of `chars`.
fn shape_set(chars: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    for (b, slot) in table.iter_mut().enumerate() {
        *slot = chars.contains(&shape_byte(b as u8));
    }
    table
}

/// Python's `\w` in a class; `PyClasses::spell` swaps in Python's own table (its Unicode version).
const W: &str = r"\p{L}\p{N}_";
const S: &str = r"\s\x1c-\x1f";

struct Spec {
    type_name: &'static str,
    label: &'static str,
    pattern: String,
    hots: Vec<Hot>,
    left: &'static [u8],
    right: &'static [u8],
    max_left: usize,
    max_right: usize,
    validator: Option<Validator>,
    group: usize,
    shrink: bool,
    min_digits: usize,
    prerequisite: Prerequisite,
    look: Option<Look>,
    interior: Option<fn(&str) -> bool>,
    /// An exact back-reference-free spelling of the body, when the stripped pattern is not one.
    body: Option<String>,
}

impl Spec {
    fn new(type_name: &'static str, label: &'static str, pattern: String, hots: Vec<Hot>) -> Spec {
        Spec {
            type_name,
            label,
            pattern,
            hots,
            left: b"",
            right: b"",
            max_left: 0,
            max_right: 0,
            validator: None,
            group: 0,
            shrink: false,
            min_digits: 0,
            prerequisite: Prerequisite::None,
            look: None,
            interior: None,
            body: None,
        }
    }

    /// A credential (type `secret`): looked for only where the request holds a token-like run.
    fn secret(pattern: String, hots: Vec<Hot>) -> Spec {
        Spec {
            prerequisite: Prerequisite::TokenRun,
            ..Spec::new(SECRET, "SECRET", pattern, hots)
        }
    }

    /// An API key after its prefix literal: a credential not glued to a word character or `-` before
    /// it, whose window grows right over key characters (`most` bytes at the most).
    fn api_key(pattern: String, prefix: &'static str, most: usize) -> Spec {
        Spec::secret(pattern, vec![Hot::literal(prefix, false)])
            .look(Look::new("-", None, None))
            .right(KEY_CHARS, most)
    }

    /// The window grows left over bytes whose shape is in `chars`, `most` bytes at the most.
    fn left(self, chars: &'static [u8], most: usize) -> Spec {
        Spec {
            left: chars,
            max_left: most,
            ..self
        }
    }

    /// The window grows right over bytes whose shape is in `chars`, `most` bytes at the most.
    fn right(self, chars: &'static [u8], most: usize) -> Spec {
        Spec {
            right: chars,
            max_right: most,
            ..self
        }
    }

    fn look(self, look: Look) -> Spec {
        Spec {
            look: Some(look),
            ..self
        }
    }

    fn validator(self, validator: Validator) -> Spec {
        Spec {
            validator: Some(validator),
            ..self
        }
    }

    /// A candidate that fails validation is cut back to its longest valid prefix (`shrink_to`).
    fn shrink(self) -> Spec {
        Spec {
            shrink: true,
            ..self
        }
    }

    /// A string with fewer digits than `min_digits` cannot hold a match.
    fn digits(self, min_digits: usize) -> Spec {
        Spec { min_digits, ..self }
    }

    /// `digits`, and looked for only where the request holds a run of digits.
    fn digit_run(self, min_digits: usize) -> Spec {
        Spec {
            prerequisite: Prerequisite::DigitRun,
            ..self.digits(min_digits)
        }
    }

    fn build(self, classes: &PyClasses) -> Detector {
        let is_pem = self.label == "SECRET" && self.pattern.starts_with("-----BEGIN");
        let python = |pattern: &str| classes.spell(pattern);
        let (regex, regex_inner) = if is_pem {
            // Python's `$` also matches before a final newline of the searched stretch, and `(?=\x00)` at
            // the end of a string inside the joined request text: see `Detector::regex_for`.
            let at_end = compile_fancy(&python(&self.pattern.replace("$TAIL", r"(?=\x00)|\z")));
            let inner = compile_fancy(&python(
                &self.pattern.replace("$TAIL", r"(?=\x00)|\z|(?=\n\z)"),
            ));
            (at_end, Some(inner))
        } else {
            (compile_fancy(&python(&self.pattern)), None)
        };
        let superset = match (&self.body, is_pem) {
            (_, true) => None,
            (Some(body), false) => Some(compile_regex(&python(body))),
            (None, false) => Some(compile_regex(&python(&superset_of(&self.pattern)))),
        };
        Detector {
            type_name: self.type_name,
            label: self.label,
            regex,
            superset,
            look: self.look,
            interior: self.interior,
            regex_inner,
            hots: self.hots,
            left: shape_set(self.left),
            right: shape_set(self.right),
            has_right: !self.right.is_empty(),
            max_left: self.max_left,
            max_right: self.max_right,
            validator: self.validator,
            group: self.group,
            shrink: self.shrink,
            min_digits: self.min_digits,
            prerequisite: self.prerequisite,
        }
    }
}

/// `pattern` with its lookarounds dropped and back-references widened to their group (`[ -]`).
fn superset_of(pattern: &str) -> String {
    let mut out = pattern.to_string();
    if out.starts_with("(?<![") {
        if let Some(end) = out.find("])") {
            out = out[end + 2..].to_string();
        }
    }
    for interior in ["(?!000|666|9\\d\\d)", "(?!00)", "(?!0000)", "(?!ant-)"] {
        out = out.replace(interior, "");
    }
    if let Some(start) = out.rfind("(?!") {
        out.truncate(start); // the trailing lookahead, the only one left
    }
    out.replace("\\1", "[ -]").replace("\\2", "[ -]")
}

fn compile_regex(pattern: &str) -> regex::Regex {
    match regex::Regex::new(pattern) {
        Ok(regex) => regex,
        Err(err) => panic!("superset of a built-in pattern does not compile: {err}"),
    }
}

/// What may not come right after a match: a character of `first`, or a `pair` separator followed by a
/// character of the pair's class.
#[derive(Clone, Copy)]
pub struct Look {
    behind: Class,
    ahead: Option<Class>,
    pair: Option<(&'static str, Follow)>,
}

/// A set of characters: Python's `\w` (or ASCII letters and digits only) plus extra characters.
#[derive(Clone, Copy)]
pub struct Class {
    word: Word,
    extra: &'static str,
}

#[derive(Clone, Copy)]
enum Word {
    Python,
    AsciiAlnum,
}

#[derive(Clone, Copy)]
pub enum Follow {
    Digit,
    AsciiAlnum,
}

const fn word(extra: &'static str) -> Class {
    Class {
        word: Word::Python,
        extra,
    }
}

impl Class {
    fn contains(&self, c: char) -> bool {
        self.extra.contains(c)
            || match self.word {
                Word::Python => py_is_word(c),
                Word::AsciiAlnum => c.is_ascii_alphanumeric(),
            }
    }
}

impl Follow {
    fn matches(&self, c: char) -> bool {
        match self {
            Follow::Digit => py_is_digit(c),
            Follow::AsciiAlnum => c.is_ascii_alphanumeric(),
        }
    }
}

impl Look {
    /// Not after Python's `\w` or a character of `behind`; not before `\w` or a character of `ahead`
    /// (when given), nor before a `pair` separator followed by a character of the pair's class.
    fn new(
        behind: &'static str,
        ahead: Option<&'static str>,
        pair: Option<(&'static str, Follow)>,
    ) -> Look {
        Look {
            behind: word(behind),
            ahead: ahead.map(word),
            pair,
        }
    }

    /// The lookbehind at `start` and the lookahead at `end` of `haystack` (the text up to the window's end).
    fn holds(&self, haystack: &str, start: usize, end: usize) -> bool {
        if haystack[..start]
            .chars()
            .next_back()
            .is_some_and(|c| self.behind.contains(c))
        {
            return false;
        }
        let mut after = haystack[end..].chars();
        let Some(first) = after.next() else {
            return true;
        };
        if self.ahead.is_some_and(|class| class.contains(first)) {
            return false;
        }
        match self.pair {
            Some((separators, follow)) if separators.contains(first) => {
                !after.next().is_some_and(|c| follow.matches(c))
            }
            _ => true,
        }
    }
}

fn ssn_interior(m: &str) -> bool {
    let area: String = m.chars().take(3).collect();
    let group: String = m.chars().skip(4).take(2).collect();
    let serial: String = m.chars().skip(7).take(4).collect();
    area != "000" && area != "666" && !area.starts_with('9') && group != "00" && serial != "0000"
}

fn openai_interior(m: &str) -> bool {
    !m[3..].starts_with("ant-")
}

const SECRET: &str = "secret";
const KEY_CHARS: &[u8] = b"Aa0_-";

/// Every built-in detector, in tie-break order (credentials first), as `BUILTIN_DETECTORS`.
pub fn builtin_detectors(classes: &PyClasses) -> Vec<Detector> {
    let alnum = Class {
        word: Word::AsciiAlnum,
        extra: "",
    };
    let specs = vec![
        Spec::secret(
            format!(
                r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[A-Za-z0-9+/=:,{S}\\-]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|$TAIL)"
            ),
            vec![Hot::literal("-----BEGIN", false)],
        )
        .right(b"Aa0+/=:,\\- \t\r\n", 20000),
        Spec::secret(
            format!(
                r"(?<![{W}-])eyJ[A-Za-z0-9_-]{{5,}}\.[A-Za-z0-9_-]{{5,}}\.[A-Za-z0-9_-]*(?![{W}-])"
            ),
            vec![Hot::literal("eyJ", false)],
        )
        .right(b"Aa0_-.", 16000)
        .validator(validators::jwt_ok)
        .look(Look::new("-", Some("-"), None)),
        Spec::api_key(format!(r"(?<![{W}-])sk-ant-[A-Za-z0-9_-]{{20,}}"), "sk-ant-", 400),
        Spec {
            interior: Some(openai_interior),
            ..Spec::api_key(
                format!(r"(?<![{W}-])sk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{{20,}}"),
                "sk-",
                400,
            )
        }
        .validator(validators::mixed_token_ok),
        Spec::secret(
            r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])".to_string(),
            vec![Hot::literal("AKIA", false), Hot::literal("ASIA", false)],
        )
        .look(Look {
            behind: alnum,
            ahead: Some(alnum),
            pair: None,
        })
        .right(b"A0", 20),
        Spec::secret(
            format!(
                r"(?<![{W}-])(?:gh[pousr]_[A-Za-z0-9]{{36,255}}|github_pat_[A-Za-z0-9_]{{60,255}})"
            ),
            vec![
                Hot::pattern("gh", 0, github_gate, false).requiring(&[b"_"]),
                Hot::literal("github_pat_", false),
            ],
        )
        .look(Look::new("-", None, None))
        .right(b"Aa0_", 300),
        Spec::api_key(format!(r"(?<![{W}-])AIza[0-9A-Za-z_-]{{35}}(?![{W}-])"), "AIza", 40)
            .look(Look::new("-", Some("-"), None)),
        Spec::api_key(format!(r"(?<![{W}-])xox[abposr]-[A-Za-z0-9-]{{10,}}"), "xox", 300),
        Spec {
            group: 1,
            ..Spec::secret(
                // Python's `\b` before a word character: the character before is not a word character.
                format!(r"(?<![{W}])(?:[Bb]earer|BEARER)[{S}]+([A-Za-z0-9\-._~+/]{{16,}}=*)"),
                vec![
                    Hot::pattern("earer", 1, bearer_gate, false).requiring(&[b"Bb"]),
                    Hot::literal("BEARER", false),
                ],
            )
        }
        .right(b"Aa0-._~+/= \t", 8000)
        .validator(validators::bearer_ok),
        Spec::new(
            "email",
            "EMAIL",
            format!(
                r"(?<![{W}.+%-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{{0,62}}[A-Za-z0-9_%+-])?@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{{0,61}}[A-Za-z0-9])?\.)+[A-Za-z]{{2,24}}(?![{W}-]|\.[A-Za-z0-9])"
            ),
            vec![Hot::literal("@", false)],
        )
        .look(Look::new(".+%-", Some("-"), Some((".", Follow::AsciiAlnum))))
        .left(b"Aa0._%+-", 64)
        .right(b"Aa0.-", 260),
        Spec::new(
            "iban",
            "IBAN",
            format!(
                r"(?<![{W}-])[A-Z]{{2}}\d{{2}}(?: ?[A-Z0-9]{{4}}){{2,7}}(?: ?[A-Z0-9]{{1,3}})?(?![{W}-])"
            ),
            vec![Hot::pattern("AA00", 0, iban_gate, true).requiring(&[UPPER, DIGITS])],
        )
        .right(b"A0 ", 42)
        .validator(validators::iban_candidate_ok)
        .look(Look::new("-", Some("-"), None))
        .shrink()
        .digit_run(6),
        Spec {
            // The back-references spelled out: at a given start only the separator present can match,
            // so the first matching alternative is the one the back-referencing regex takes.
            body: Some(
                r"(?:\d{4} \d{4} \d{4} \d{4}(?: \d{1,3})?|\d{4}-\d{4}-\d{4}-\d{4}(?:-\d{1,3})?|\d{4} \d{6} \d{4,5}|\d{4}-\d{6}-\d{4,5}|\d{13,19})"
                    .to_string(),
            ),
            ..Spec::new(
                "credit_card",
                "CREDIT_CARD",
                format!(
                    r"(?<![{W}.,+-])(?:\d{{4}}([ -])\d{{4}}\1\d{{4}}\1\d{{4}}(?:\1\d{{1,3}})?|\d{{4}}([ -])\d{{6}}\2\d{{4,5}}|\d{{13,19}})(?![{W}-]|[.,]\d)"
                ),
                vec![Hot::pattern("0000", 0, card_gate, true).requiring(&[DIGITS])],
            )
        }
        .left(b"0 -", 24)
        .right(b"0 -", 30)
        .validator(validators::credit_card_ok)
        .look(Look::new(".,+-", Some("-"), Some((".,", Follow::Digit))))
        .digit_run(13),
        Spec {
            interior: Some(ssn_interior),
            ..Spec::new(
                "us_ssn",
                "US_SSN",
                format!(
                    r"(?<![{W}.-])(?!000|666|9\d\d)\d{{3}}-(?!00)\d{{2}}-(?!0000)\d{{4}}(?![{W}-]|\.\d)"
                ),
                vec![Hot::literal("000-00-0000", true).requiring(&[DIGITS, b"-"])],
            )
        }
        .look(Look::new(".-", Some("-"), Some((".", Follow::Digit))))
        .digit_run(9),
        Spec::new(
            "phone",
            "PHONE",
            format!(
                r"(?<![{W}+.-])(?:\+[1-9]\d{{0,2}}(?:[ .-]?\(\d{{1,4}}\)|[ .-]?\d{{1,5}}){{2,6}}|(?:1[ .-])?(?:\([2-9]\d{{2}}\)[ ]?|[2-9]\d{{2}}[.-])[2-9]\d{{2}}[.-]\d{{4}}|(?:1[ ])?[2-9]\d{{2}} [2-9]\d{{2}} \d{{4}}|\(0\d{{1,4}}\)[ ]?\d{{3,4}}[ -]?\d{{3,5}}|0\d{{2,4}} \d{{3,4}} \d{{3,5}})(?![{W}-]|[.,:/]\d)"
            ),
            vec![
                Hot::literal("+0", true).requiring(&[b"+", DIGITS]),
                Hot::pattern("000", 0, phone_gate, true).requiring(&[DIGITS, b") -."]),
            ],
        )
        .left(b"0 .()+-", 24)
        .right(b"0 .()-", 30)
        .validator(validators::phone_ok)
        .look(Look::new("+.-", Some("-"), Some((".,:/", Follow::Digit))))
        .shrink()
        .digits(8),
        Spec::new(
            "ipv6",
            "IPV6",
            format!(
                r"(?<![{W}:.-])(?:[0-9A-Fa-f]{{0,4}}:){{2,7}}(?:(?:\d{{1,3}}\.){{3}}\d{{1,3}}|[0-9A-Fa-f]{{1,4}})?(?![{W}:]|\.\d)"
            ),
            vec![Hot::pattern(":", 0, ipv6_gate, false)],
        )
        .left(b"0aA:.", 45)
        .right(b"0aA:.", 45)
        .validator(validators::ipv6_ok)
        .look(Look::new(":.-", Some(":"), Some((".", Follow::Digit)))),
        Spec::new(
            "ipv4",
            "IPV4",
            format!(r"(?<![{W}.:-])(?:\d{{1,3}}\.){{3}}\d{{1,3}}(?![{W}-]|\.\d)"),
            vec![Hot::pattern("0.", 0, ipv4_gate, true).requiring(&[b".", DIGITS])],
        )
        .left(b"0", 3)
        .right(b"0.", 12)
        .validator(validators::ipv4_ok)
        .look(Look::new(".:-", Some("-"), Some((".", Follow::Digit))))
        .digits(4),
    ];
    specs.into_iter().map(|spec| spec.build(classes)).collect()
}

/// Per-detector state over one scanned string: the windows searched so far and the spans already kept.
#[derive(Default)]
pub struct Search {
    pub spans: Vec<(usize, usize)>,
    windows: Vec<(usize, usize)>,
    found: Vec<(usize, usize)>,
}

impl Search {
    pub fn clear(&mut self) {
        self.spans.clear();
        self.windows.clear();
    }
}

impl Detector {
    /// The window around a hit: grown over the `left`/`right` shape bytes (Python `Detector._window`).
    fn window(&self, text: &[u8], hit_start: usize, hit_end: usize) -> (usize, usize) {
        let mut start = hit_start;
        if self.max_left > 0 {
            let floor = hit_start.saturating_sub(self.max_left);
            while start > floor && self.left[text[start - 1] as usize] {
                start -= 1;
            }
        }
        let mut end = hit_end;
        if self.has_right {
            let limit = text.len().min(hit_end + self.max_right);
            while end < limit && self.right[text[end] as usize] {
                end += 1;
            }
        }
        (start, end)
    }

    /// Python `Detector.around_hits`: every hit of one gate, a regex search in a window around each.
    ///
    /// `shape` is the text's shape (only read by shape gates); `last_slot` says the string ends the joined request text (no separator after it: see `regex_for`).
    pub fn around_hits(
        &self,
        text: &str,
        shape: &[u8],
        hot: &Hot,
        last_slot: bool,
        search: &mut Search,
    ) -> Result<(), ScanError> {
        let source = if hot.on_shape { shape } else { text.as_bytes() };
        let size = text.len();
        let mut pos = 0;
        while let Some((hit_start, hit_end)) = hot.next_hit(source, pos) {
            // Windows are sorted; those of one hot never overlap: a window holding this hit is one of the
            // last two starting at or before it.
            let i = search.windows.partition_point(|&(s, _)| s <= hit_start);
            if (i >= 1 && search.windows[i - 1].1 >= hit_end)
                || (i >= 2 && search.windows[i - 2].1 >= hit_end)
            {
                pos = hit_end;
                continue;
            }
            let (window_start, window_end) = self.window(text.as_bytes(), hit_start, hit_end);
            let at = search
                .windows
                .partition_point(|&w| w <= (window_start, window_end));
            search.windows.insert(at, (window_start, window_end));
            // One character past the window, so the lookaheads see what follows it.
            let stop = if window_end < size {
                next_char(text, window_end)
            } else {
                size
            };
            search.found.clear();
            self.matches(
                text,
                window_start,
                stop,
                window_end < size || last_slot,
                &mut search.found,
            )?;
            for &span in &search.found {
                if !search.spans.contains(&span) {
                    search.spans.push(span);
                }
            }
            pos = window_end.max(hit_end);
        }
        Ok(())
    }

    /// The regex for one window: the PEM tail differs where Python's `$` can also match before a final
    /// newline (`open_end`: a window ending inside its string, or in the last string of the request);
    /// elsewhere the joined text's separator follows and only `(?=\x00)` can match at the string's end.
    fn regex_for(&self, open_end: bool) -> &FancyRegex {
        match &self.regex_inner {
            Some(inner) if open_end => inner,
            _ => &self.regex,
        }
    }

    /// Validated matches in `text[pos..endpos]` (Python `Detector._matches`, shrink included).
    fn matches(
        &self,
        text: &str,
        mut pos: usize,
        endpos: usize,
        open_end: bool,
        out: &mut Vec<(usize, usize)>,
    ) -> Result<(), ScanError> {
        let regex = self.regex_for(open_end);
        let haystack = &text[..endpos];
        while pos < endpos {
            let mut quick = None;
            if let Some(superset) = &self.superset {
                // No match of `regex` starts before the superset's leftmost match.
                match superset.find_at(haystack, pos) {
                    Some(m) => {
                        pos = m.start();
                        if let Some(look) = &self.look {
                            if look.holds(haystack, m.start(), m.end())
                                && self.interior.is_none_or(|ok| ok(&haystack[m.start()..]))
                            {
                                quick = Some((m.start(), m.end()));
                            }
                        }
                    }
                    None => break,
                }
            }
            let (m_start, m_end, start, end) = match quick {
                Some((a, b)) => (a, b, a, b),
                None => {
                    let Some(caps) = regex
                        .captures_from_pos(haystack, pos)
                        .map_err(|_| ScanError)?
                    else {
                        break;
                    };
                    let Some(whole) = caps.get(0) else { break };
                    let (m_start, m_end) = (whole.start(), whole.end());
                    match caps.get(self.group) {
                        Some(g) if g.start() != g.end() => (m_start, m_end, g.start(), g.end()),
                        _ => {
                            pos = if m_end > pos {
                                m_end
                            } else {
                                next_char(text, pos)
                            };
                            continue;
                        }
                    }
                }
            };
            let valid = match self.validator {
                None => true,
                Some(validate) => validate(&text[start..end], text, start),
            };
            if valid {
                out.push((start, end));
                let after = next_char(text, pos);
                pos = m_end.max(after);
                continue;
            }
            match if self.shrink {
                self.shrink_to(text, start, end)
            } else {
                None
            } {
                Some(kept) => {
                    out.push((start, kept));
                    pos = kept;
                }
                None => pos = next_char(text, m_start),
            }
        }
        Ok(())
    }

    /// The longest prefix `text[start..cut]`, cut just before a separator, that validates.
    fn shrink_to(&self, text: &str, start: usize, end: usize) -> Option<usize> {
        let validate = self.validator?;
        let candidate = &text[start..end];
        let bytes = candidate.as_bytes();
        for cut in (1..bytes.len()).rev() {
            if matches!(bytes[cut], b' ' | b'.' | b'-')
                && !matches!(bytes[cut - 1], b' ' | b'.' | b'-' | b'(')
                && validate(&candidate[..cut], text, start)
            {
                return Some(start + cut);
            }
        }
        None
    }
}
