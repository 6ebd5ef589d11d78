//! Which attribute keys are never scanned (allow), always redacted whole (deny), or scanned (`keys.py`).
//!
//! Precedence: the user's deny list, the user's allow list, the default deny list, the default allow list.
//! Entries are exact keys or `fnmatch` globs (case-sensitive, `*` crosses dots).

use std::collections::HashSet;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum KeyAction {
    Scan,
    Allow,
    Deny,
}

#[derive(Debug)]
enum Token {
    Star,
    Any,
    Literal(char),
    Set {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// One `fnmatch` pattern, parsed as `fnmatch.translate` reads it.
#[derive(Debug)]
struct Glob(Vec<Token>);

impl Glob {
    fn parse(pattern: &str) -> Glob {
        let pat: Vec<char> = pattern.chars().collect();
        let n = pat.len();
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < n {
            let c = pat[i];
            i += 1;
            match c {
                '*' => {
                    if !matches!(tokens.last(), Some(Token::Star)) {
                        tokens.push(Token::Star);
                    }
                }
                '?' => tokens.push(Token::Any),
                '[' => {
                    let mut j = i;
                    if j < n && pat[j] == '!' {
                        j += 1;
                    }
                    if j < n && pat[j] == ']' {
                        j += 1;
                    }
                    while j < n && pat[j] != ']' {
                        j += 1;
                    }
                    if j >= n {
                        tokens.push(Token::Literal('['));
                        continue;
                    }
                    let mut stuff: &[char] = &pat[i..j];
                    i = j + 1;
                    let negated = stuff.first() == Some(&'!');
                    if negated {
                        stuff = &stuff[1..];
                    }
                    let mut ranges = Vec::new();
                    let mut k = 0;
                    while k < stuff.len() {
                        if k + 2 < stuff.len() && stuff[k + 1] == '-' {
                            if stuff[k] <= stuff[k + 2] {
                                ranges.push((stuff[k], stuff[k + 2]));
                            }
                            k += 3;
                        } else {
                            ranges.push((stuff[k], stuff[k]));
                            k += 1;
                        }
                    }
                    tokens.push(Token::Set { negated, ranges });
                }
                c => tokens.push(Token::Literal(c)),
            }
        }
        Glob(tokens)
    }

    fn one(token: &Token, c: char) -> bool {
        match token {
            Token::Any => true,
            Token::Literal(l) => *l == c,
            Token::Set { negated, ranges } => {
                if ranges.is_empty() {
                    return *negated; // "[!]"-like: any character; "[]"-like never
                }
                ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
            }
            Token::Star => true,
        }
    }

    /// Whole-key match with backtracking over `*`.
    fn matches(&self, key: &str) -> bool {
        let text: Vec<char> = key.chars().collect();
        let tokens = &self.0;
        let (mut t, mut p) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            if p < tokens.len()
                && !matches!(tokens[p], Token::Star)
                && Glob::one(&tokens[p], text[t])
            {
                t += 1;
                p += 1;
            } else if p < tokens.len() && matches!(tokens[p], Token::Star) {
                star = Some((p, t));
                p += 1;
            } else if let Some((sp, st)) = star {
                p = sp + 1;
                t = st + 1;
                star = Some((sp, st + 1));
            } else {
                return false;
            }
        }
        while p < tokens.len() && matches!(tokens[p], Token::Star) {
            p += 1;
        }
        p == tokens.len()
    }
}

struct KeyList {
    exact: HashSet<String>,
    globs: Vec<Glob>,
}

impl KeyList {
    fn new<S: AsRef<str>>(patterns: &[S]) -> KeyList {
        let mut exact = HashSet::new();
        let mut globs = Vec::new();
        for p in patterns {
            let p = p.as_ref();
            if p.contains(['*', '?', '[']) {
                globs.push(Glob::parse(p));
            } else {
                exact.insert(p.to_string());
            }
        }
        KeyList { exact, globs }
    }

    fn contains(&self, key: &str) -> bool {
        self.exact.contains(key) || self.globs.iter().any(|g| g.matches(key))
    }
}

/// The key policy; pure, so it needs no cache to give the same answers as Python's cached one.
pub struct KeyPolicy {
    layers: Vec<(KeyList, KeyAction)>,
}

impl KeyPolicy {
    /// The user's lists, then the default ones (`keys.py` owns them and passes them in; empty when the
    /// config turns the defaults off).
    pub fn new(
        allow: &[String],
        deny: &[String],
        default_allow: &[String],
        default_deny: &[String],
    ) -> KeyPolicy {
        let layers = vec![
            (KeyList::new(deny), KeyAction::Deny),
            (KeyList::new(allow), KeyAction::Allow),
            (KeyList::new(default_deny), KeyAction::Deny),
            (KeyList::new(default_allow), KeyAction::Allow),
        ];
        KeyPolicy { layers }
    }

    pub fn action(&self, key: &str) -> KeyAction {
        self.layers
            .iter()
            .find(|(keys, _)| keys.contains(key))
            .map(|(_, a)| *a)
            .unwrap_or(KeyAction::Scan)
    }
}
