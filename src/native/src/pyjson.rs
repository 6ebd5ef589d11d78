//! The parts of Python's `json` module that more than one stage reproduces: the token grammar of
//! `json.loads` (white space, constants, numbers, escapes, the step between items) and the text of a
//! float. Each stage keeps its own parser for what it builds (normalize: values; redact: "an object with
//! this key") on top of [`Cursor`], so the grammar lives once.

/// A read position in JSON bytes.
pub struct Cursor<'a> {
    pub s: &'a [u8],
    pub i: usize,
}

/// A value that is not a string, object or array, as the cursor found it.
pub enum Scalar {
    Null,
    Bool(bool),
    /// `NaN`, `Infinity`, `-Infinity` (Python accepts them).
    Float(f64),
    /// A number from `start` to the cursor; `is_float` when it has a fraction or an exponent.
    Number {
        start: usize,
        is_float: bool,
    },
}

impl<'a> Cursor<'a> {
    #[inline]
    pub fn new(s: &'a [u8]) -> Self {
        Cursor { s, i: 0 }
    }

    #[inline]
    pub fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// JSON white space (not Python's `str.isspace`).
    #[inline]
    pub fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    #[inline]
    fn lit(&mut self, word: &[u8]) -> bool {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    /// The constant or number at the cursor (past it), `None` where none starts.
    #[inline]
    pub fn scalar(&mut self) -> Option<Scalar> {
        match self.peek()? {
            b'n' if self.lit(b"null") => Some(Scalar::Null),
            b't' if self.lit(b"true") => Some(Scalar::Bool(true)),
            b'f' if self.lit(b"false") => Some(Scalar::Bool(false)),
            b'N' if self.lit(b"NaN") => Some(Scalar::Float(f64::NAN)),
            b'I' if self.lit(b"Infinity") => Some(Scalar::Float(f64::INFINITY)),
            b'-' if self.lit(b"-Infinity") => Some(Scalar::Float(f64::NEG_INFINITY)),
            b'-' | b'0'..=b'9' => {
                let start = self.i;
                let is_float = self.number()?;
                Some(Scalar::Number { start, is_float })
            }
            _ => None,
        }
    }

    #[inline]
    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.i < self.s.len() && self.s[self.i].is_ascii_digit() {
            self.i += 1;
        }
        self.i - start
    }

    /// `(-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?`: whether it has a fraction or an exponent.
    fn number(&mut self) -> Option<bool> {
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
        let mut is_float = false;
        if self.peek() == Some(b'.') && self.s.get(self.i + 1).is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
            self.digits();
            is_float = true;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            let save = self.i;
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                self.i = save;
            } else {
                is_float = true;
            }
        }
        Some(is_float)
    }

    /// The four hex digits of a `\u` escape (the cursor after the `u`).
    pub fn hex4(&mut self) -> Option<u32> {
        let chunk = self.s.get(self.i..self.i + 4)?;
        let text = std::str::from_utf8(chunk).ok()?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.i += 4;
        u32::from_str_radix(text, 16).ok()
    }

    /// After an object's or array's item: `Some(true)` past its `close`, `Some(false)` past a `,` and
    /// the white space after it, `None` (a syntax error) otherwise.
    #[inline]
    pub fn item_end(&mut self, close: u8) -> Option<bool> {
        self.ws();
        match self.peek()? {
            b',' => {
                self.i += 1;
                self.ws();
                Some(false)
            }
            b if b == close => {
                self.i += 1;
                Some(true)
            }
            _ => None,
        }
    }
}

/// What a one-letter escape (`\n`, `\"`, ...) stands for; `None` for `u` and anything invalid.
#[inline]
pub fn short_unescape(esc: u8) -> Option<char> {
    Some(match esc {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        _ => return None,
    })
}

/// The short escape Python's encoder writes for an ASCII character, where it has one.
#[inline]
pub fn short_escape(c: u8) -> Option<&'static str> {
    Some(match c {
        b'"' => "\\\"",
        b'\\' => "\\\\",
        b'\n' => "\\n",
        b'\r' => "\\r",
        b'\t' => "\\t",
        0x08 => "\\b",
        0x0c => "\\f",
        _ => return None,
    })
}

/// `json.dumps`' layout of a list or dict: `open`, the items with `separator` between them, `close`.
#[inline]
pub fn write_items<T, E>(
    out: &mut String,
    [open, close]: [char; 2],
    separator: &str,
    items: impl IntoIterator<Item = T>,
    mut write: impl FnMut(T, &mut String) -> Result<(), E>,
) -> Result<(), E> {
    out.push(open);
    for (n, item) in items.into_iter().enumerate() {
        if n > 0 {
            out.push_str(separator);
        }
        write(item, out)?;
    }
    out.push(close);
    Ok(())
}

/// How `json.dumps` writes a float: `NaN`, `Infinity`, `-Infinity`, else `repr`.
pub fn float_repr(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        finite_float_repr(x)
    }
}

/// Python's `repr(float)` of a finite value: shortest round-trip digits, exponent form outside
/// `1e-4 <= |x| < 1e16`.
pub fn finite_float_repr(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    let text = format!("{f:e}"); // "-1.2345e-5": shortest digits
    let (mantissa, exp) = match text.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (text.as_str(), 0),
    };
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let decpt = exp + 1;
    let mut out = String::with_capacity(digits.len() + 8);
    if negative {
        out.push('-');
    }
    if decpt > -4 && decpt <= 16 {
        if decpt <= 0 {
            out.push_str("0.");
            for _ in 0..(-decpt) {
                out.push('0');
            }
            out.push_str(&digits);
        } else {
            let point = decpt as usize;
            if point >= digits.len() {
                out.push_str(&digits);
                for _ in 0..(point - digits.len()) {
                    out.push('0');
                }
                out.push_str(".0");
            } else {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let abs = exp.unsigned_abs();
        if abs < 10 {
            out.push('0');
        }
        out.push_str(&abs.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Cursor, Scalar};

    /// Where `json.loads`' scanner stops in `text`, and whether it read a float (`None`: no value starts).
    fn scan(text: &str) -> Option<(usize, Option<bool>)> {
        let mut cursor = Cursor::new(text.as_bytes());
        let kind = match cursor.scalar()? {
            Scalar::Number { start, is_float } => {
                assert_eq!(start, 0);
                Some(is_float)
            }
            _ => None,
        };
        Some((cursor.i, kind))
    }

    #[test]
    fn scalars_follow_python_json_scanner() {
        // Python: json.loads raises "Extra data" past the returned end, e.g. "1e" reads 1 and stops at "e".
        assert_eq!(scan("1e"), Some((1, Some(false))));
        assert_eq!(scan("1e+5"), Some((4, Some(true))));
        assert_eq!(scan("01"), Some((1, Some(false))));
        assert_eq!(scan("-0.5E-3"), Some((7, Some(true))));
        assert_eq!(scan("1."), Some((1, Some(false))));
        assert_eq!(scan("-Infinity"), Some((9, None)));
        assert_eq!(scan("-"), None);
        assert_eq!(scan("nul"), None);
        assert_eq!(scan("true"), Some((4, None)));
    }

    #[test]
    fn item_end_steps_over_separators() {
        let mut cursor = Cursor::new(b" , 2]");
        assert_eq!(cursor.item_end(b']'), Some(false));
        assert_eq!(cursor.i, 3);
        cursor.i = 4;
        assert_eq!(cursor.item_end(b']'), Some(true));
        assert_eq!(Cursor::new(b" }").item_end(b']'), None);
    }
}
