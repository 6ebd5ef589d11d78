//! The validators of `detectors.py` (Luhn, card networks, mod-97, SSN-free phone digits, IP rules, JWT
//! header): they throw out look-alikes so ids, timestamps, versions and prices survive.
//!
//! Candidates holding non-ASCII digits (which Python's `\d` matches) are rejected here; see the report.

use std::sync::OnceLock;

use regex::Regex;

use super::pyjson;
use super::text::back_chars;

fn ascii_digits(text: &str) -> Option<Vec<u32>> {
    text.chars()
        .map(|c| {
            if c.is_ascii_digit() {
                Some(c as u32 - 48)
            } else {
                None
            }
        })
        .collect()
}

/// The Luhn (mod 10) check every payment card number passes.
pub fn luhn_ok(digits: &[u32]) -> bool {
    let mut sum = 0u32;
    for (i, &d) in digits.iter().rev().enumerate() {
        sum += if i % 2 == 1 {
            if d > 4 {
                2 * d - 9
            } else {
                2 * d
            }
        } else {
            d
        };
    }
    sum.is_multiple_of(10)
}

fn number(digits: &[u32], n: usize) -> u32 {
    digits[..n].iter().fold(0, |acc, &d| acc * 10 + d)
}

/// Known issuer prefixes (IIN ranges) with the lengths each network issues.
pub fn card_brand_ok(digits: &[u32]) -> bool {
    let n = digits.len();
    if n < 6 {
        return false;
    }
    let (two, three, four, six) = (
        number(digits, 2),
        number(digits, 3),
        number(digits, 4),
        number(digits, 6),
    );
    if digits[0] == 4 {
        return n == 13 || n == 16 || n == 19;
    }
    if (51..=55).contains(&two) || (2221..=2720).contains(&four) {
        return n == 16;
    }
    if two == 34 || two == 37 {
        return n == 15;
    }
    if four == 6011 || two == 65 || (644..=649).contains(&three) || (622126..=622925).contains(&six)
    {
        return (16..=19).contains(&n);
    }
    if (3528..=3589).contains(&four) {
        return (16..=19).contains(&n);
    }
    if two == 36 || two == 38 || two == 39 || (300..=305).contains(&three) {
        return (14..=19).contains(&n);
    }
    if two == 62 {
        return (16..=19).contains(&n);
    }
    if matches!(two, 50 | 56 | 57 | 58 | 63 | 67) {
        return (12..=19).contains(&n);
    }
    false
}

pub fn credit_card_ok(candidate: &str, _text: &str, _start: usize) -> bool {
    if candidate.contains(' ') && candidate.contains('-') {
        return false; // mixed separators: not how cards are written
    }
    let compact: String = candidate
        .chars()
        .filter(|&c| c != ' ' && c != '-')
        .collect();
    let Some(digits) = ascii_digits(&compact) else {
        return false;
    };
    (13..=19).contains(&digits.len()) && card_brand_ok(&digits) && luhn_ok(&digits)
}

/// IBAN length by country (ISO 13616 registry), as `IBAN_LENGTHS`.
fn iban_length(country: &str) -> Option<usize> {
    const LENGTHS: &[(&str, usize)] = &[
        ("AD", 24),
        ("AE", 23),
        ("AL", 28),
        ("AT", 20),
        ("AZ", 28),
        ("BA", 20),
        ("BE", 16),
        ("BG", 22),
        ("BH", 22),
        ("BI", 27),
        ("BR", 29),
        ("BY", 28),
        ("CH", 21),
        ("CR", 22),
        ("CY", 28),
        ("CZ", 24),
        ("DE", 22),
        ("DJ", 27),
        ("DK", 18),
        ("DO", 28),
        ("EE", 20),
        ("EG", 29),
        ("ES", 24),
        ("FI", 18),
        ("FK", 18),
        ("FO", 18),
        ("FR", 27),
        ("GB", 22),
        ("GE", 22),
        ("GI", 23),
        ("GL", 18),
        ("GR", 27),
        ("GT", 28),
        ("HR", 21),
        ("HU", 28),
        ("IE", 22),
        ("IL", 23),
        ("IQ", 23),
        ("IS", 26),
        ("IT", 27),
        ("JO", 30),
        ("KW", 30),
        ("KZ", 20),
        ("LB", 28),
        ("LC", 32),
        ("LI", 21),
        ("LT", 20),
        ("LU", 20),
        ("LV", 21),
        ("LY", 25),
        ("MC", 27),
        ("MD", 24),
        ("ME", 22),
        ("MK", 19),
        ("MN", 20),
        ("MR", 27),
        ("MT", 31),
        ("MU", 30),
        ("NI", 28),
        ("NL", 18),
        ("NO", 15),
        ("OM", 23),
        ("PK", 24),
        ("PL", 28),
        ("PS", 29),
        ("PT", 25),
        ("QA", 29),
        ("RO", 24),
        ("RS", 22),
        ("RU", 33),
        ("SA", 24),
        ("SC", 31),
        ("SD", 18),
        ("SE", 24),
        ("SI", 19),
        ("SK", 24),
        ("SM", 27),
        ("SO", 23),
        ("ST", 25),
        ("SV", 28),
        ("TL", 23),
        ("TN", 24),
        ("TR", 26),
        ("UA", 29),
        ("VA", 22),
        ("VG", 24),
        ("XK", 20),
        ("YE", 30),
    ];
    LENGTHS.iter().find(|(c, _)| *c == country).map(|&(_, n)| n)
}

/// Country length plus the ISO 7064 mod-97 check (rearranged number mod 97 == 1).
pub fn iban_ok(iban: &str) -> bool {
    let compact: Vec<u8> = iban.bytes().filter(|&b| b != b' ').collect();
    if !compact.is_ascii() || compact.len() < 4 {
        return false;
    }
    let Ok(text) = std::str::from_utf8(&compact) else {
        return false;
    };
    if iban_length(&text[..2]) != Some(compact.len()) {
        return false;
    }
    let mut remainder: u32 = 0;
    for &b in compact[4..].iter().chain(compact[..4].iter()) {
        let value = match b {
            b'0'..=b'9' => (b - b'0') as u32,
            b'A'..=b'Z' => (b - b'A') as u32 + 10,
            b'a'..=b'z' => (b - b'a') as u32 + 10,
            _ => return false,
        };
        remainder = if value < 10 {
            (remainder * 10 + value) % 97
        } else {
            (remainder * 100 + value) % 97
        };
    }
    remainder == 1
}

pub fn iban_candidate_ok(candidate: &str, _text: &str, _start: usize) -> bool {
    iban_ok(candidate)
}

pub fn phone_ok(candidate: &str, _text: &str, _start: usize) -> bool {
    // Only `\d` and ASCII punctuation reach here: a non-ASCII character is a digit.
    let is_digit = |c: char| c.is_ascii_digit() || !c.is_ascii();
    let digits = candidate.chars().filter(|&c| is_digit(c)).count();
    if candidate.starts_with('+') {
        if candidate.starts_with("+1") && !candidate.chars().nth(2).is_some_and(is_digit) {
            return digits == 11; // North American Numbering Plan: +1 and ten digits
        }
        return (8..=15).contains(&digits);
    }
    (9..=12).contains(&digits)
}

fn version_context() -> &'static Regex {
    static REGEX: OnceLock<Regex> = OnceLock::new();
    REGEX.get_or_init(
        || match Regex::new(r"(?i)(?:version|ver\.?|release|v)[\s\x1c-\x1f]*$") {
            Ok(regex) => regex,
            Err(err) => panic!("version context pattern does not compile: {err}"),
        },
    )
}

pub fn ipv4_ok(candidate: &str, text: &str, start: usize) -> bool {
    let octets: Vec<&str> = candidate.split('.').collect();
    for octet in &octets {
        let Some(digits) = ascii_digits(octet) else {
            return false;
        };
        if digits.is_empty()
            || (digits.len() > 1 && digits[0] == 0)
            || number(&digits, digits.len()) > 255
        {
            return false;
        }
    }
    if octets[0] == "127" || candidate == "0.0.0.0" {
        return false; // loopback, unspecified
    }
    // "version 1.2.3.4" / "v1.0.0.1" are four-part version numbers, not hosts.
    let from = back_chars(text, start, 12, 0);
    !version_context().is_match(&text[from..start])
}

fn ipv4_int(text: &str) -> Option<u32> {
    let octets: Vec<&str> = text.split('.').collect();
    if octets.len() != 4 {
        return None;
    }
    let mut value: u32 = 0;
    for octet in octets {
        if octet.is_empty() || !octet.bytes().all(|b| b.is_ascii_digit()) || octet.len() > 3 {
            return None;
        }
        if octet != "0" && octet.starts_with('0') {
            return None;
        }
        let n: u32 = octet.parse().ok()?;
        if n > 255 {
            return None;
        }
        value = (value << 8) | n;
    }
    Some(value)
}

fn hextet(part: &str) -> Option<u128> {
    if !part.bytes().all(|b| b.is_ascii_hexdigit()) || part.len() > 4 || part.is_empty() {
        return None;
    }
    u128::from_str_radix(part, 16).ok()
}

/// Python's `ipaddress.IPv6Address(text)` as an integer, or `None` where it raises.
pub fn ipv6_int(text: &str) -> Option<u128> {
    if text.is_empty() || text.contains('%') || text.contains('/') {
        return None;
    }
    let mut parts: Vec<String> = text.split(':').map(str::to_string).collect();
    if parts.len() < 3 {
        return None;
    }
    if parts.last().is_some_and(|p| p.contains('.')) {
        let v4 = ipv4_int(&parts.pop()?)?;
        parts.push(format!("{:x}", (v4 >> 16) & 0xFFFF));
        parts.push(format!("{:x}", v4 & 0xFFFF));
    }
    if parts.len() > 9 {
        return None;
    }
    let mut skip_index = None;
    for (i, part) in parts.iter().enumerate().take(parts.len() - 1).skip(1) {
        if part.is_empty() {
            if skip_index.is_some() {
                return None;
            }
            skip_index = Some(i);
        }
    }
    let (parts_hi, parts_lo, parts_skipped) = if let Some(skip) = skip_index {
        let mut hi = skip as i64;
        let mut lo = (parts.len() - skip - 1) as i64;
        if parts[0].is_empty() {
            hi -= 1;
            if hi != 0 {
                return None;
            }
        }
        if parts[parts.len() - 1].is_empty() {
            lo -= 1;
            if lo != 0 {
                return None;
            }
        }
        let skipped = 8 - (hi + lo);
        if skipped < 1 {
            return None;
        }
        (hi as usize, lo as usize, skipped as u32)
    } else {
        if parts.len() != 8 || parts[0].is_empty() || parts[7].is_empty() {
            return None;
        }
        (parts.len(), 0, 0)
    };
    let mut value: u128 = 0;
    for part in &parts[..parts_hi] {
        value = (value << 16) | hextet(part)?;
    }
    value = value.checked_shl(16 * parts_skipped).unwrap_or(0);
    for part in &parts[parts.len() - parts_lo..] {
        value = (value << 16) | hextet(part)?;
    }
    Some(value)
}

pub fn ipv6_ok(candidate: &str, _text: &str, _start: usize) -> bool {
    if candidate.matches(':').count() < 2
        || !candidate
            .chars()
            .any(|c| c.is_ascii_digit() || !c.is_ascii())
    {
        return false; // "a::b" in C++/Rust paths and "12:30" clock times
    }
    match ipv6_int(candidate) {
        Some(address) => address != 1 && address != 0,
        None => false,
    }
}

fn b64url_decode(part: &str) -> Option<Vec<u8>> {
    let bytes = part.as_bytes();
    if bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4 + 2);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => continue,
        } as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

pub fn jwt_ok(candidate: &str, _text: &str, _start: usize) -> bool {
    let header = candidate.split('.').next().unwrap_or("");
    let Some(decoded) = b64url_decode(header) else {
        return false;
    };
    pyjson::is_object_with_key(&decoded, "alg")
}

/// A key body has letters and digits; `sk-learn-style-words` does not.
pub fn mixed_token_ok(candidate: &str, _text: &str, _start: usize) -> bool {
    let body = if candidate.chars().count() > 60 {
        candidate.rsplit('-').next().unwrap_or("")
    } else {
        candidate
    };
    body.bytes().any(|b| b.is_ascii_digit()) && body.chars().any(char::is_alphabetic)
}

pub fn bearer_ok(candidate: &str, _text: &str, _start: usize) -> bool {
    candidate
        .bytes()
        .any(|b| b.is_ascii_digit() || b"-._~+/=".contains(&b))
}
