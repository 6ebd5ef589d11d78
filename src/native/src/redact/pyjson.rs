//! The two bits of Python's `json` module the redact stage depends on, with Python's exact behaviour:
//! `json.loads(bytes)` deciding "an object with this key" (the JWT header check), and
//! `json.dumps(any_to_python(value), sort_keys=True, default=repr)` (the text a denied non-string value is
//! hashed from in hash mode).

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::AnyValue;

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
        s: data,
        i: 0,
        depth: 0,
    };
    parser.ws();
    if parser.peek() != Some(b'{') {
        // A top-level value that is not an object can never be a dict.
        return false;
    }
    let Some(found) = parser.object(Some(key)) else {
        return false;
    };
    parser.ws();
    parser.i == data.len() && found
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn lit(&mut self, word: &[u8]) -> Option<()> {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            Some(())
        } else {
            None
        }
    }

    fn value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' => self.object(None).map(|_| ()),
            b'[' => self.array(),
            b'n' => self.lit(b"null"),
            b't' => self.lit(b"true"),
            b'f' => self.lit(b"false"),
            b'N' => self.lit(b"NaN"),
            b'I' => self.lit(b"Infinity"),
            b'-' if self.s[self.i..].starts_with(b"-Infinity") => self.lit(b"-Infinity"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') && matches!(self.s.get(self.i + 1), Some(b'0'..=b'9')) {
            self.i += 1;
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            let save = self.i;
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                self.i = save;
            }
        }
        Some(())
    }

    /// A string at `self.i` (the opening quote); its decoded text when `want` compares keys.
    fn string(&mut self) -> Option<Vec<u16>> {
        self.i += 1;
        let mut units: Vec<u16> = Vec::new();
        loop {
            let b = self.peek()?;
            match b {
                b'"' => {
                    self.i += 1;
                    return Some(units);
                }
                b'\\' => {
                    self.i += 1;
                    let e = self.peek()?;
                    self.i += 1;
                    let unit = match e {
                        b'"' => b'"' as u16,
                        b'\\' => b'\\' as u16,
                        b'/' => b'/' as u16,
                        b'b' => 8,
                        b'f' => 12,
                        b'n' => 10,
                        b'r' => 13,
                        b't' => 9,
                        b'u' => {
                            let hex = self.s.get(self.i..self.i + 4)?;
                            let text = std::str::from_utf8(hex).ok()?;
                            if !text.bytes().all(|h| h.is_ascii_hexdigit()) {
                                return None;
                            }
                            self.i += 4;
                            u16::from_str_radix(text, 16).ok()?
                        }
                        _ => return None,
                    };
                    units.push(unit);
                }
                0..=0x1F => return None,
                _ => {
                    // Keys are compared as UTF-16 units; a non-ASCII byte never equals an ASCII key.
                    units.push(if b < 0x80 { b as u16 } else { 0xFFFF });
                    self.i += 1;
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
        self.i += 1;
        let want_units: Option<Vec<u16>> = want.map(|w| w.encode_utf16().collect());
        let mut found = false;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            self.depth -= 1;
            return Some(false);
        }
        loop {
            if self.peek() != Some(b'"') {
                return None;
            }
            let key = self.string()?;
            if want_units.as_ref().is_some_and(|w| *w == key) {
                found = true;
            }
            self.ws();
            if self.peek() != Some(b':') {
                return None;
            }
            self.i += 1;
            self.ws();
            self.value()?;
            self.ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b'}' => {
                    self.i += 1;
                    self.depth -= 1;
                    return Some(found);
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self) -> Option<()> {
        self.enter()?;
        self.i += 1;
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            self.depth -= 1;
            return Some(());
        }
        loop {
            self.value()?;
            self.ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.ws();
                }
                b']' => {
                    self.i += 1;
                    self.depth -= 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

/// `json.dumps(text)` with `ensure_ascii=True`.
fn dump_str(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
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

/// Python's `repr(float)`: shortest round-trip digits, exponent form outside `1e-4 <= |x| < 1e16`.
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let sci = format!("{:e}", x); // "-1.2345e-5": shortest digits
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let sign = if negative { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let point = exp + 1;
        let body = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if point as usize >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            format!(
                "{}.{}",
                &digits[..point as usize],
                &digits[point as usize..]
            )
        };
        format!("{sign}{body}")
    } else {
        let (first, rest) = digits.split_at(1);
        let mantissa = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        let exp_sign = if exp < 0 { "-" } else { "+" };
        format!("{sign}{mantissa}e{exp_sign}{:02}", exp.abs())
    }
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
            out.push('[');
            for (i, item) in array.values.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                dumps_any(Some(item), out);
            }
            out.push(']');
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
            out.push('{');
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                dump_str(key, out);
                out.push_str(": ");
                dumps_any(*item, out);
            }
            out.push('}');
        }
    }
}
