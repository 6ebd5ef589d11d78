//! JSON exactly as the Python stage reads and writes it: `json.loads` (NaN/Infinity accepted, big ints,
//! last duplicate key wins in first position) and `json.JSONEncoder(ensure_ascii=False,
//! separators=(",", ":"))`, so the produced `gen_ai.*.messages` text is byte-identical.

use super::pyvalue::{dict_set, Fallback, PV, R};
use crate::pyjson::{float_repr, short_escape, short_unescape, write_items, Cursor, Scalar};

const MAX_DEPTH: usize = 200;
const MAX_INT_DIGITS: usize = 4300;

/// `parse_json`: the parsed value, `PV::None` where Python returns None (not JSON, or `null`), Fallback
/// where Python would produce something this port does not model (lone surrogates, very deep nesting).
pub fn parse_json(text: &str) -> R<PV> {
    Ok(parse_strict(text)?.unwrap_or(PV::None))
}

fn parse_strict(text: &str) -> R<Option<PV>> {
    if text.is_empty() {
        return Ok(None);
    }
    let mut parser = Parser {
        c: Cursor::new(text.as_bytes()),
        text,
    };
    parser.c.ws();
    let value = match parser.value(0)? {
        Some(v) => v,
        None => return Ok(None),
    };
    parser.c.ws();
    if parser.c.i != parser.c.s.len() {
        return Ok(None);
    }
    Ok(Some(value))
}

struct Parser<'a> {
    c: Cursor<'a>,
    text: &'a str,
}

impl Parser<'_> {
    /// One value; `Ok(None)` on a syntax error.
    fn value(&mut self, depth: usize) -> R<Option<PV>> {
        if depth > MAX_DEPTH {
            return Err(Fallback("JSON nesting deeper than the port models"));
        }
        match self.c.peek() {
            Some(b'"') => {
                self.c.i += 1;
                Ok(self.string()?.map(PV::Str))
            }
            Some(b'{') => {
                self.c.i += 1;
                self.object(depth)
            }
            Some(b'[') => {
                self.c.i += 1;
                self.array(depth)
            }
            _ => Ok(self.c.scalar().and_then(|scalar| self.scalar(scalar))),
        }
    }

    /// An int without fraction or exponent (big ones kept as text), else a float.
    fn scalar(&self, scalar: Scalar) -> Option<PV> {
        let (start, is_float) = match scalar {
            Scalar::Null => return Some(PV::None),
            Scalar::Bool(b) => return Some(PV::Bool(b)),
            Scalar::Float(f) => return Some(PV::Float(f)),
            Scalar::Number { start, is_float } => (start, is_float),
        };
        let text = &self.text[start..self.c.i];
        if is_float {
            return text.parse::<f64>().ok().map(PV::Float);
        }
        match text.parse::<i64>() {
            Ok(i) => Some(PV::Int(i)),
            Err(_) => {
                if text.trim_start_matches('-').len() > MAX_INT_DIGITS {
                    None // Python: ValueError (int max str digits), so not JSON
                } else {
                    Some(PV::BigInt(text.to_string()))
                }
            }
        }
    }

    /// A string body after its opening quote.
    fn string(&mut self) -> R<Option<String>> {
        let c = &mut self.c;
        let mut out = String::new();
        loop {
            let start = c.i;
            while c.i < c.s.len() {
                let b = c.s[c.i];
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                c.i += 1;
            }
            out.push_str(&self.text[start..c.i]);
            let Some(b) = c.peek() else {
                return Ok(None);
            };
            c.i += 1;
            match b {
                b'"' => return Ok(Some(out)),
                b'\\' => {
                    let Some(esc) = c.peek() else {
                        return Ok(None);
                    };
                    c.i += 1;
                    if let Some(ch) = short_unescape(esc) {
                        out.push(ch);
                        continue;
                    }
                    if esc != b'u' {
                        return Ok(None);
                    }
                    let Some(code) = c.hex4() else {
                        return Ok(None);
                    };
                    if (0xd800..0xdc00).contains(&code) {
                        if c.s[c.i..].starts_with(b"\\u") {
                            let save = c.i;
                            c.i += 2;
                            match c.hex4() {
                                Some(low) if (0xdc00..0xe000).contains(&low) => {
                                    let code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
                                    out.push(
                                        char::from_u32(code)
                                            .ok_or(Fallback("bad surrogate pair"))?,
                                    );
                                    continue;
                                }
                                _ => c.i = save,
                            }
                        }
                        return Err(Fallback("lone surrogate in JSON string"));
                    }
                    if (0xdc00..0xe000).contains(&code) {
                        return Err(Fallback("lone surrogate in JSON string"));
                    }
                    out.push(char::from_u32(code).ok_or(Fallback("bad escape"))?);
                }
                _ => return Ok(None), // a raw control character (strict mode)
            }
        }
    }

    fn object(&mut self, depth: usize) -> R<Option<PV>> {
        let mut items: Vec<(String, PV)> = Vec::new();
        self.c.ws();
        if self.c.peek() == Some(b'}') {
            self.c.i += 1;
            return Ok(Some(PV::Dict(items)));
        }
        loop {
            if self.c.peek() != Some(b'"') {
                return Ok(None);
            }
            self.c.i += 1;
            let Some(key) = self.string()? else {
                return Ok(None);
            };
            self.c.ws();
            if self.c.peek() != Some(b':') {
                return Ok(None);
            }
            self.c.i += 1;
            self.c.ws();
            let Some(value) = self.value(depth + 1)? else {
                return Ok(None);
            };
            dict_set(&mut items, &key, value);
            match self.c.item_end(b'}') {
                Some(false) => {}
                Some(true) => return Ok(Some(PV::Dict(items))),
                None => return Ok(None),
            }
        }
    }

    fn array(&mut self, depth: usize) -> R<Option<PV>> {
        let mut items = Vec::new();
        self.c.ws();
        if self.c.peek() == Some(b']') {
            self.c.i += 1;
            return Ok(Some(PV::List(items)));
        }
        loop {
            let Some(value) = self.value(depth + 1)? else {
                return Ok(None);
            };
            items.push(value);
            match self.c.item_end(b']') {
                Some(false) => {}
                Some(true) => return Ok(Some(PV::List(items))),
                None => return Ok(None),
            }
        }
    }
}

/// `dump_json`: compact, non-ASCII kept; bytes are not JSON (Python raises TypeError).
pub fn dump_json(value: &PV) -> R<String> {
    let mut out = String::with_capacity(size_hint(value));
    dump_into(value, &mut out, 0)?;
    Ok(out)
}

/// Roughly the dumped length (exact for text without escapes), so the output is allocated once.
fn size_hint(value: &PV) -> usize {
    match value {
        PV::Str(s) => s.len() + 2,
        PV::List(items) => 2 + items.iter().map(|v| size_hint(v) + 1).sum::<usize>(),
        PV::Dict(items) => {
            2 + items
                .iter()
                .map(|(k, v)| k.len() + 4 + size_hint(v))
                .sum::<usize>()
        }
        _ => 24,
    }
}

fn dump_into(value: &PV, out: &mut String, depth: usize) -> R<()> {
    if depth > MAX_DEPTH {
        return Err(Fallback("JSON nesting deeper than the port models"));
    }
    match value {
        PV::None => out.push_str("null"),
        PV::Bool(true) => out.push_str("true"),
        PV::Bool(false) => out.push_str("false"),
        PV::Int(i) => out.push_str(&i.to_string()),
        PV::BigInt(text) => out.push_str(text),
        PV::Float(f) => out.push_str(&float_repr(*f)),
        PV::Str(s) => dump_str(s, out),
        PV::Bytes(_) => return Err(Fallback("bytes are not JSON serializable")),
        PV::List(items) => write_items(out, ['[', ']'], ",", items, |item, out| {
            dump_into(item, out, depth + 1)
        })?,
        PV::Dict(items) => write_items(out, ['{', '}'], ",", items, |(key, item), out| {
            dump_str(key, out);
            out.push(':');
            dump_into(item, out, depth + 1)
        })?,
    }
    Ok(())
}

/// Whether any byte of `word` is a control character, `"` or `\\` (SWAR: eight bytes per step).
fn needs_escape(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word;
    let quote = word ^ (ONES * b'"' as u64);
    let backslash = word ^ (ONES * b'\\' as u64);
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v;
    (below_space | has_zero(quote) | has_zero(backslash)) & HIGHS != 0
}

/// How many leading bytes of `bytes` need no escaping (16 at a time with SSE2, baseline on x86-64).
#[cfg(target_arch = "x86_64")]
fn plain_prefix(bytes: &[u8]) -> usize {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    let mut i = 0;
    // SAFETY: SSE2 is part of the x86-64 baseline; every load reads 16 bytes inside `bytes` (i + 16 <= len).
    unsafe {
        let control = _mm_set1_epi8(0x1f);
        let quote = _mm_set1_epi8(b'"' as i8);
        let backslash = _mm_set1_epi8(b'\\' as i8);
        while i + 16 <= bytes.len() {
            let chunk = _mm_loadu_si128(bytes.as_ptr().add(i) as *const __m128i);
            let is_control = _mm_cmpeq_epi8(_mm_max_epu8(chunk, control), control);
            let special = _mm_or_si128(
                is_control,
                _mm_or_si128(
                    _mm_cmpeq_epi8(chunk, quote),
                    _mm_cmpeq_epi8(chunk, backslash),
                ),
            );
            let mask = _mm_movemask_epi8(special);
            if mask != 0 {
                return i + mask.trailing_zeros() as usize;
            }
            i += 16;
        }
    }
    i + plain_prefix_swar(&bytes[i..])
}

#[cfg(not(target_arch = "x86_64"))]
fn plain_prefix(bytes: &[u8]) -> usize {
    plain_prefix_swar(bytes)
}

/// `plain_prefix` eight bytes at a time, then byte by byte.
fn plain_prefix_swar(bytes: &[u8]) -> usize {
    let mut i = 0;
    while i + 8 <= bytes.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[i..i + 8]);
        if needs_escape(u64::from_le_bytes(word)) {
            break;
        }
        i += 8;
    }
    while i < bytes.len() && !matches!(bytes[i], 0..=0x1f | b'"' | b'\\') {
        i += 1;
    }
    i
}

/// A JSON string literal as Python's encoder writes it (`ensure_ascii=False`).
pub fn dump_str(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut i = 0;
    loop {
        let plain = plain_prefix(&bytes[i..]);
        // the escaped bytes are ASCII, so `i + plain` is a char boundary
        out.push_str(&s[i..i + plain]);
        i += plain;
        let Some(&b) = bytes.get(i) else { break };
        match short_escape(b) {
            Some(escape) => out.push_str(escape),
            None => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xf) as usize] as char);
            }
        }
        i += 1;
    }
    out.push('"');
}
