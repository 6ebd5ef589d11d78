//! Character helpers with Python `str` semantics, so offsets and classes match the Python stage.
//!
//! The Rust side works on UTF-8 byte offsets; the Python stage counts characters. Every place where a
//! count of characters matters (a window's last character, a look-back of N characters) goes through here.

use std::sync::OnceLock;

/// Python's `str.isspace()` (Unicode White_Space plus the ASCII separators `\x1c`..`\x1f`).
pub fn py_isspace(c: char) -> bool {
    matches!(c, '\t'..='\r' | '\x1c'..='\x1f' | ' ') || (c as u32 >= 0x80 && (c.is_whitespace()))
}

/// Python's own `\w` and `\d` beyond ASCII, as code point ranges computed by Python (`re` on every
/// character): Python's Unicode tables are older than the regex crate's, and a character new in between
/// (a letter to one, unassigned to the other) would decide a lookaround differently.
pub struct PyClasses {
    word: Vec<(u32, u32)>,
    digit: Vec<(u32, u32)>,
}

static INSTALLED: OnceLock<PyClasses> = OnceLock::new();

fn in_ranges(ranges: &[(u32, u32)], c: char) -> bool {
    let cp = c as u32;
    let i = ranges.partition_point(|&(lo, _)| lo <= cp);
    i > 0 && ranges[i - 1].1 >= cp
}

/// Sorted ranges of Unicode scalar values: surrogates (no `char`, no regex) and out-of-range bounds cut.
fn scalar_ranges(ranges: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    let mut out = Vec::with_capacity(ranges.len());
    for (lo, hi) in ranges {
        let hi = hi.min(0x10FFFF);
        for (a, b) in [(lo, hi.min(0xD7FF)), (lo.max(0xE000), hi)] {
            if a <= b {
                out.push((a, b));
            }
        }
    }
    out.sort_unstable();
    out
}

fn class_text(ranges: &[(u32, u32)]) -> String {
    let mut out = String::new();
    for &(lo, hi) in ranges {
        out.push_str(&format!("\\x{{{lo:x}}}-\\x{{{hi:x}}}"));
    }
    out
}

impl PyClasses {
    /// The tables for this process (the first given wins: one Python runs one Unicode version).
    pub fn install(word: Vec<(u32, u32)>, digit: Vec<(u32, u32)>) -> &'static PyClasses {
        INSTALLED.get_or_init(|| PyClasses {
            word: scalar_ranges(word),
            digit: scalar_ranges(digit),
        })
    }

    /// `pattern` with `\p{L}\p{N}_` (inside a class) and `\d` spelled with Python's tables.
    pub fn spell(&self, pattern: &str) -> String {
        let word = format!("_0-9A-Za-z{}", class_text(&self.word));
        let digit = format!("[0-9{}]", class_text(&self.digit));
        pattern
            .replace(r"\p{L}\p{N}_", &word)
            .replace(r"\d", &digit)
    }
}

/// Python's `\w` for a `str` pattern (`str.isalnum()` or `_`).
pub fn py_is_word(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || c == '_';
    }
    match INSTALLED.get() {
        Some(classes) => in_ranges(&classes.word, c),
        None => c.is_alphanumeric(),
    }
}

/// Python's `\d` for a `str` pattern (Unicode decimal digits).
pub fn py_is_digit(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    match INSTALLED.get() {
        Some(classes) => in_ranges(&classes.digit, c),
        None => c.is_numeric(),
    }
}

/// Byte offset of the character after the one at `pos` (`pos + 1` in Python's character offsets).
pub fn next_char(text: &str, pos: usize) -> usize {
    match text[pos..].chars().next() {
        Some(c) => pos + c.len_utf8(),
        None => pos + 1,
    }
}

/// Byte offset `n` characters before `pos`, not before `floor`.
pub fn back_chars(text: &str, pos: usize, n: usize, floor: usize) -> usize {
    let mut at = pos;
    let bytes = text.as_bytes();
    for _ in 0..n {
        if at <= floor {
            return floor;
        }
        at -= 1;
        while at > floor && (bytes[at] & 0xC0) == 0x80 {
            at -= 1;
        }
    }
    at
}

/// Number of characters in `text` (Python's `len`).
pub fn char_len(text: &str) -> usize {
    text.as_bytes()
        .iter()
        .filter(|&&b| (b & 0xC0) != 0x80)
        .count()
}

/// `text` with leading Python whitespace removed (`str.lstrip()`).
pub fn py_lstrip(text: &str) -> &str {
    text.trim_start_matches(py_isspace)
}

/// Shape byte of one UTF-8 byte: digits `0`, upper case `A`, lower case `a`, non-ASCII `?`, the rest as is.
#[inline]
pub fn shape_byte(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b'0',
        b'A'..=b'Z' => b'A',
        b'a'..=b'z' => b'a',
        0x80..=0xFF => b'?',
        _ => b,
    }
}

/// Whether the byte makes up keys and tokens (Python's `RUN_TABLE`: ASCII alphanumerics and `_-.+/=~`).
#[inline]
pub fn is_run_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'+' | b'/' | b'=' | b'~')
}
