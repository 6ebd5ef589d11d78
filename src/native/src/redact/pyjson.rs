//! The two bits of Python's `json` module the redact stage depends on, with Python's exact behaviour:
//! `json.loads(bytes)` deciding "an object with this key" (the JWT header check), and
//! `json.dumps(any_to_python(value), sort_keys=True, default=repr)` (the text a denied non-string value is
//! hashed from in hash mode).

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::AnyValue;

use crate::pyjson::{float_repr, short_escape, short_unescape, write_items, Cursor};
use std::convert::Infallible;

/// Python decodes JSON bytes as UTF-8 with `surrogatepass`: encoded surrogates are accepted.
fn utf8_surrogatepass_ok(bytes: &[u8]) -> bool {
    if std::str::from_utf8(bytes).is_ok() {
        return true;
    }
    let mut patched = bytes.to_vec();
    let mut i = 0;
    while i + 2 < patched.len() {
        if patched[i] == 0xED
            && (0xA0..=0xBF).contains(&patched[i + 1])
            && (0x80..=0xBF).contains(&patched[i + 2])
        {
            patched[i] = 0xEF;
            patched[i + 1] = 0xBF;
            patched[i + 2] = 0xBD;
            i += 3;
        } else {
            i += 1;
        }
    }
    std::str::from_utf8(&patched).is_ok()
}

/// Whether `json.loads(data)` gives a `dict` holding `key` (Python's grammar: NaN, Infinity, lone
/// surrogate escapes, duplicate keys are all accepted; control characters in strings are not).
pub fn is_object_with_key(data: &[u8], key: &str) -> bool {
    if data.starts_with(b"\xEF\xBB\xBF") || data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return false; // BOMs and UTF-16/32 encodings: never what a JWT header starts with ("eyJ" = '{"')
    }
    if !utf8_surrogatepass_ok(data) {
        return false;
    }
    let mut parser = Parser {
        c: Cursor::new(data),
        depth: 0,
    };
    parser.c.ws();
    if parser.c.peek() != Some(b'{') {
        // A top-level value that is not an object can never be a dict.
        return false;
    }
    let Some(found) = parser.object(Some(key)) else {
        return false;
    };
    parser.c.ws();
    parser.c.i == data.len() && found
}

struct Parser<'a> {
    c: Cursor<'a>,
    depth: usize,
}

impl Parser<'_> {
    fn value(&mut self) -> Option<()> {
        match self.c.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' => self.object(None).map(|_| ()),
            b'[' => self.array(),
            _ => self.c.scalar().map(|_| ()),
        }
    }

    /// A string at the cursor (the opening quote); its decoded text when `want` compares keys.
    fn string(&mut self) -> Option<Vec<u16>> {
        let c = &mut self.c;
        c.i += 1;
        let mut units: Vec<u16> = Vec::new();
        loop {
            let b = c.peek()?;
            match b {
                b'"' => {
                    c.i += 1;
                    return Some(units);
                }
                b'\\' => {
                    c.i += 1;
                    let e = c.peek()?;
                    c.i += 1;
                    let unit = match short_unescape(e) {
                        Some(ch) => ch as u16,
                        None if e == b'u' => c.hex4()? as u16,
                        None => return None,
                    };
                    units.push(unit);
                }
                0..=0x1F => return None,
                _ => {
                    // Keys are compared as UTF-16 units; a non-ASCII byte never equals an ASCII key.
                    units.push(if b < 0x80 { b as u16 } else { 0xFFFF });
                    c.i += 1;
                }
            }
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        if self.depth > 900 {
            None
        } else {
            Some(())
        }
    }

    /// An object; with `want`, whether one of its keys equals it.
    fn object(&mut self, want: Option<&str>) -> Option<bool> {
        self.enter()?;
        self.c.i += 1;
        let want_units: Option<Vec<u16>> = want.map(|w| w.encode_utf16().collect());
        let mut found = false;
        self.c.ws();
        if self.c.peek() == Some(b'}') {
            self.c.i += 1;
            self.depth -= 1;
            return Some(false);
        }
        loop {
            if self.c.peek() != Some(b'"') {
                return None;
            }
            let key = self.string()?;
            if want_units.as_ref().is_some_and(|w| *w == key) {
                found = true;
            }
            self.c.ws();
            if self.c.peek() != Some(b':') {
                return None;
            }
            self.c.i += 1;
            self.c.ws();
            self.value()?;
            if self.c.item_end(b'}')? {
                self.depth -= 1;
                return Some(found);
            }
        }
    }

    fn array(&mut self) -> Option<()> {
        self.enter()?;
        self.c.i += 1;
        self.c.ws();
        if self.c.peek() == Some(b']') {
            self.c.i += 1;
            self.depth -= 1;
            return Some(());
        }
        loop {
            self.value()?;
            if self.c.item_end(b']')? {
                self.depth -= 1;
                return Some(());
            }
        }
    }
}

/// `json.dumps(text)` with `ensure_ascii=True`.
fn dump_str(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        if let Some(escape) = u8::try_from(c).ok().and_then(short_escape) {
            out.push_str(escape);
            continue;
        }
        match c {
            c if (c as u32) < 0x20 || (c as u32) > 0x7E => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{:04x}", unit));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Python's `repr(bytes)`.
fn bytes_repr(data: &[u8]) -> String {
    let quote = if data.contains(&b'\'') && !data.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from("b");
    out.push(quote);
    for &b in data {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b if b as char == quote => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7E => out.push(b as char),
            _ => out.push_str(&format!("\\x{:02x}", b)),
        }
    }
    out.push(quote);
    out
}

/// `json.dumps(any_to_python(value), sort_keys=True, default=repr)`.
pub fn dumps_any(value: Option<&AnyValue>, out: &mut String) {
    match value.and_then(|v| v.value.as_ref()) {
        // `any_to_python` gives None for an empty value and for a string-table index.
        None | Some(Value::StringValueStrindex(_)) => out.push_str("null"),
        Some(Value::StringValue(s)) => dump_str(s, out),
        Some(Value::BoolValue(b)) => out.push_str(if *b { "true" } else { "false" }),
        Some(Value::IntValue(i)) => out.push_str(&i.to_string()),
        Some(Value::DoubleValue(d)) => out.push_str(&float_repr(*d)),
        Some(Value::BytesValue(b)) => dump_str(&bytes_repr(b), out),
        Some(Value::ArrayValue(array)) => {
            let Ok(()) =
                write_items::<_, Infallible>(out, ['[', ']'], ", ", &array.values, |item, out| {
                    dumps_any(Some(item), out);
                    Ok(())
                });
        }
        Some(Value::KvlistValue(kvlist)) => {
            // A dict: the last value of a repeated key wins; sort_keys orders by code point.
            let mut entries: Vec<(&str, Option<&AnyValue>)> = Vec::new();
            for kv in &kvlist.values {
                match entries.iter_mut().find(|(k, _)| *k == kv.key) {
                    Some(entry) => entry.1 = kv.value.as_ref(),
                    None => entries.push((kv.key.as_str(), kv.value.as_ref())),
                }
            }
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let Ok(()) =
                write_items::<_, Infallible>(out, ['{', '}'], ", ", entries, |(key, item), out| {
                    dump_str(key, out);
                    out.push_str(": ");
                    dumps_any(item, out);
                    Ok(())
                });
        }
    }
}
