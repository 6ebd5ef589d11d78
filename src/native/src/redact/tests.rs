//! Unit checks of the pure helpers against answers Python gave (`ipaddress`, `json.dumps`, `fnmatch`);
//! the parity tests in `tests/processor/redact/test_redact_native.py` hold the whole stage to Python.

use super::content::json_probe;
use super::keys::{KeyAction, KeyPolicy};
use super::pyjson::is_object_with_key;
use super::validators::{iban_ok, ipv6_int, luhn_ok};
use crate::pyjson::float_repr;

#[test]
fn ipv6_parsing_follows_python_ipaddress() {
    const IPV6: &[(&str, Option<u128>)] = &[
        (
            "2001:db8::8a2e:370:7334",
            Some(42540766411282592856904136881884656436),
        ),
        ("::1", Some(1)),
        ("::", Some(0)),
        ("fe80::1", Some(338288524927261089654018896841347694593)),
        ("1:2:3:4:5:6:7:8", Some(5192455318486707404433266433261576)),
        ("1:2:3:4:5:6:7:8:9", None),
        ("1::2::3", None),
        (":1:2:3:4:5:6:7", None),
        ("::ffff:192.0.2.1", Some(281473902969345)),
        ("::ffff:192.0.2.256", None),
        (
            "1:2:3:4:5:6:1.2.3.4",
            Some(5192455318486707404433266449711876),
        ),
        ("12:30:45", None),
        ("a::b", Some(51922968585348276285304963292200971)),
        ("1:2:3:4:5:6:7::", Some(5192455318486707404433266433261568)),
        ("::1:2:3:4:5:6:7", Some(79230580421244924994404089863)),
        ("1::", Some(5192296858534827628530496329220096)),
        ("::0:0", Some(0)),
        ("abcde::1", None),
        ("1:2:3:4:5:6:7:8::", None),
        ("0:0:0:0:0:0:0:1", Some(1)),
        ("::01.2.3.4", None),
    ];
    for &(text, want) in IPV6 {
        assert_eq!(ipv6_int(text), want, "{text}");
    }
}

#[test]
fn float_repr_follows_python_json_dumps() {
    const FLOATS: &[(f64, &str)] = &[
        (0.1_f64, "0.1"),
        (1e+22_f64, "1e+22"),
        (-2.5e-07_f64, "-2.5e-07"),
        (3.0_f64, "3.0"),
        (1e+16_f64, "1e+16"),
        (1000000000000000.0_f64, "1000000000000000.0"),
        (123456789.123_f64, "123456789.123"),
        (0.0001_f64, "0.0001"),
        (1e-05_f64, "1e-05"),
        (-0.0_f64, "-0.0"),
        (1.5_f64, "1.5"),
        (9007199254740992.0_f64, "9007199254740992.0"),
        (5e-324_f64, "5e-324"),
        (1.7976931348623157e+308_f64, "1.7976931348623157e+308"),
    ];
    for &(value, want) in FLOATS {
        assert_eq!(float_repr(value), want);
    }
}

#[test]
fn key_globs_follow_python_fnmatch() {
    const GLOBS: &[(&str, &str, bool)] = &[
        ("genai_lens.*", "genai_lens.redaction.count", true),
        ("genai_lens.*", "genai_lensx", false),
        ("a?c", "abc", true),
        ("a?c", "ac", false),
        ("[!a]x", "bx", true),
        ("[!a]x", "ax", false),
        ("x[a-c]", "xb", true),
        ("x[c-a]", "xb", false),
        ("x[", "x[", true),
        ("*.id", "enduser.id", true),
        ("*", "", true),
        ("a*b*c", "axxbyyc", true),
        ("a*b*c", "axxbyy", false),
        ("[]]", "]", true),
        ("[!]]", "a", true),
    ];
    for &(pattern, key, want) in GLOBS {
        let policy = KeyPolicy::new(&[pattern.to_string()], &[], &[], &[]);
        assert_eq!(
            policy.action(key) == KeyAction::Allow,
            want,
            "{pattern} {key}"
        );
    }
}

#[test]
fn checksums() {
    let digits = |s: &str| s.bytes().map(|b| (b - b'0') as u32).collect::<Vec<_>>();
    assert!(luhn_ok(&digits("4111111111111111")));
    assert!(!luhn_ok(&digits("4111111111111112")));
    assert!(iban_ok("GB82 WEST 1234 5698 7654 32"));
    assert!(!iban_ok("GB82 WEST 1234 5698 7654 33"));
    assert!(!iban_ok("XX82WEST12345698765432"));
}

#[test]
fn jwt_header_check_uses_python_json_rules() {
    assert!(is_object_with_key(br#"{"alg":"HS256","typ":"JWT"}"#, "alg"));
    assert!(is_object_with_key(br#"{"\u0061lg": NaN}"#, "alg"));
    assert!(!is_object_with_key(br#"{"typ":"JWT"}"#, "alg"));
    assert!(!is_object_with_key(br#"{"alg":"x",}"#, "alg"));
    assert!(!is_object_with_key(br#"{"alg":01}"#, "alg"));
    assert!(!is_object_with_key(b"{\"alg\":\"a\x01\"}", "alg"));
    assert!(!is_object_with_key(br#"["alg"]"#, "alg"));
}

#[test]
fn json_probe_blanks_escapes_like_six_replaces() {
    assert_eq!(json_probe("plain"), None);
    assert_eq!(json_probe(r#"{"a": "b"}"#), Some(None));
    assert_eq!(
        json_probe(r#" [ "x\\\n\ty\u00e9" ]"#),
        Some(Some(r#" [ "x      y\u00e9" ]"#.to_string()))
    );
    assert_eq!(
        json_probe(r#"{"k": "\\\\n"}"#),
        Some(Some(r#"{"k": "    n"}"#.to_string()))
    );
}
