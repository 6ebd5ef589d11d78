//! Markers and rewriting of one string (`modes.py` and `content.py`): placeholder or keyed-hash markers,
//! the JSON probe (escapes blanked, same length) and the in-place JSON rewrite safety check.

use std::sync::OnceLock;

use hmac::{Hmac, Mac};
use regex::Regex;
use sha2::Sha256;

use super::scanner::Finding;
use super::text::{py_isspace, py_lstrip};

/// How a sensitive value is replaced (drop mode never reaches the native path).
pub enum Replacer {
    Placeholder,
    /// The HMAC-SHA256 keyed once; each marker clones the keyed state.
    Hash(Hmac<Sha256>),
}

const HASH_HEX_CHARS: usize = 12;

impl Replacer {
    /// A keyed-hash replacer; `None` for an empty key (HMAC itself accepts any length).
    pub fn hash(key: &[u8]) -> Option<Replacer> {
        if key.is_empty() {
            return None;
        }
        <Hmac<Sha256> as Mac>::new_from_slice(key)
            .ok()
            .map(Replacer::Hash)
    }

    /// `<LABEL>` or `<LABEL:hmac:1a2b3c4d5e6f>` (HMAC-SHA256 of the value's UTF-8, first 12 hex digits).
    pub fn marker(&self, label: &str, value: &str, out: &mut String) {
        out.push('<');
        out.push_str(label);
        if let Replacer::Hash(keyed) = self {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str(":hmac:");
            let mut mac = keyed.clone();
            mac.update(value.as_bytes());
            let digest = mac.finalize().into_bytes();
            for &byte in digest.iter().take(HASH_HEX_CHARS / 2) {
                out.push(HEX[(byte >> 4) as usize] as char);
                out.push(HEX[(byte & 15) as usize] as char);
            }
        }
        out.push('>');
    }
}

/// What a redaction leaves behind; never redacted again.
pub fn marker_regex() -> &'static Regex {
    static REGEX: OnceLock<Regex> = OnceLock::new();
    REGEX.get_or_init(
        || match Regex::new(r"<[A-Z][A-Z0-9_]*(?::hmac:[0-9a-f]{8,64})?>") {
            Ok(regex) => regex,
            Err(err) => panic!("marker pattern does not compile: {err}"),
        },
    )
}

/// `MARKER.fullmatch(text)`.
pub fn is_marker(text: &str) -> bool {
    static REGEX: OnceLock<Regex> = OnceLock::new();
    let regex =
        REGEX.get_or_init(
            || match Regex::new(r"\A<[A-Z][A-Z0-9_]*(?::hmac:[0-9a-f]{8,64})?>\z") {
                Ok(regex) => regex,
                Err(err) => panic!("marker pattern does not compile: {err}"),
            },
        );
    regex.is_match(text)
}

/// Whether a string starts like a JSON document may (`JSON_STARTS`).
pub fn may_be_json(text: &str) -> bool {
    matches!(
        text.as_bytes().first(),
        Some(b'{' | b'[' | b' ' | b'\t' | b'\r' | b'\n')
    )
}

/// `json_probe`: `None` when the text does not look like a JSON document, `Some(None)` when it does and
/// holds no backslash (the probe is the text itself), else the probe with its escapes blanked.
pub fn json_probe(text: &str) -> Option<Option<String>> {
    let mut first = text.chars().next()?;
    if py_isspace(first) {
        first = py_lstrip(text).chars().next()?;
    }
    if first != '{' && first != '[' {
        return None;
    }
    let bytes = text.as_bytes();
    let Some(first_backslash) = memchr::memchr(b'\\', bytes) else {
        return Some(None);
    };
    // One pass equals Python's six `str.replace` passes: `\\\\` pairs are taken left to right first, and
    // a backslash left unpaired blanks itself with the escape letter after it (spaces make no new escape).
    let mut probe = bytes.to_vec();
    let mut skip_to = first_backslash;
    for i in memchr::memchr_iter(b'\\', &bytes[first_backslash..]).map(|i| i + first_backslash) {
        if i < skip_to || i + 1 >= bytes.len() {
            continue; // the second half of a pair already blanked, or a trailing backslash
        }
        if matches!(bytes[i + 1], b'\\' | b'n' | b't' | b'r' | b'"' | b'/') {
            probe[i] = b' ';
            probe[i + 1] = b' ';
            skip_to = i + 2;
        }
    }
    // Only ASCII bytes were replaced by ASCII bytes: still UTF-8.
    Some(Some(String::from_utf8(probe).unwrap_or_default()))
}

/// Whether `probe[start..end]` lies inside one string value (not a key) of a JSON document.
fn in_json_string_value(probe: &str, start: usize, end: usize) -> bool {
    let quotes = memchr::memchr_iter(b'"', &probe.as_bytes()[..start]).count();
    if quotes.is_multiple_of(2) {
        return false;
    }
    let Some(close) = memchr::memchr(b'"', &probe.as_bytes()[end..]).map(|i| end + i) else {
        return false;
    };
    let after = &probe[close + 1..];
    let limit = after
        .char_indices()
        .nth(63)
        .map(|(i, _)| i)
        .unwrap_or(after.len());
    !py_lstrip(&after[..limit]).starts_with(':')
}

/// `rewrite_json_in_place`'s safety check: every finding inside a string value, no backslash in or
/// right before it.
pub fn json_in_place_ok(text: &str, probe: &str, findings: &[Finding]) -> bool {
    let bytes = text.as_bytes();
    findings.iter().all(|f| {
        let escaped =
            text[f.start..f.end].contains('\\') || (f.start > 0 && bytes[f.start - 1] == b'\\');
        !escaped && in_json_string_value(probe, f.start, f.end)
    })
}

/// `text` with each finding replaced by its marker.
pub fn apply(text: &str, findings: &[Finding], replacer: &Replacer) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for f in findings {
        out.push_str(&text[last..f.start]);
        replacer.marker(f.label, &text[f.start..f.end], &mut out);
        last = f.end;
    }
    out.push_str(&text[last..]);
    out
}
