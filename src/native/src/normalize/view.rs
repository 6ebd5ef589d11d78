//! A span's attributes with `SpanView`'s write semantics: `set` replaces in place or appends, `delete_many`
//! removes keys and leaves the rest in order. Lookups go through a parallel vector of key hashes, so a
//! GenAI span's dozens of `key in view` checks cost a few integer compares each.

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;

use super::mapping::Consumed;
use super::pyvalue::{from_any, into_any, PV, R};

/// A cheap fingerprint of a key (length and three 8-byte windows: start, middle, end), only used to skip
/// keys that cannot match; a match is always confirmed by comparing the keys.
#[inline]
pub fn key_hash(key: &str) -> u64 {
    let bytes = key.as_bytes();
    let n = bytes.len();
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(w)
    };
    if n < 8 {
        let mut h = n as u64;
        for &b in bytes {
            h = (h << 8) | u64::from(b);
        }
        return h;
    }
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = (n as u64).wrapping_mul(K);
    h = (h ^ word(0)).wrapping_mul(K);
    h = (h.rotate_left(23) ^ word((n - 8) / 2)).wrapping_mul(K);
    (h.rotate_left(23) ^ word(n - 8)).wrapping_mul(K)
}

pub struct View<'a> {
    pub span: &'a mut Span,
    hashes: Vec<u64>,
    /// How many attributes the span came with, and the values `set` replaced among them: enough to put
    /// the span back as it came when the port hands it to Python halfway (no copy of the span up front).
    original_len: usize,
    replaced: Vec<(usize, Option<AnyValue>)>,
}

impl<'a> View<'a> {
    /// A view over `span`; `None` when a key repeats (Python's index then hides the earlier copies, a state
    /// this port leaves to the Python stage).
    pub fn new(span: &'a mut Span) -> Option<Self> {
        let hashes: Vec<u64> = span.attributes.iter().map(|kv| key_hash(&kv.key)).collect();
        if hashes.len() <= 64 {
            for i in 0..hashes.len() {
                for j in (i + 1)..hashes.len() {
                    if hashes[i] == hashes[j] && span.attributes[i].key == span.attributes[j].key {
                        return None;
                    }
                }
            }
        } else {
            // many attributes: a set instead of the quadratic scan
            let mut seen = std::collections::HashSet::with_capacity(hashes.len());
            if !span
                .attributes
                .iter()
                .all(|kv| seen.insert(kv.key.as_str()))
            {
                return None;
            }
        }
        let original_len = span.attributes.len();
        Some(View {
            span,
            hashes,
            original_len,
            replaced: Vec::new(),
        })
    }

    pub fn position(&self, key: &str) -> Option<usize> {
        let h = key_hash(key);
        self.hashes
            .iter()
            .enumerate()
            .find(|(i, &x)| x == h && self.span.attributes[*i].key == key)
            .map(|(i, _)| i)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// The raw value (`None` when absent or an empty `AnyValue`).
    pub fn raw(&self, key: &str) -> Option<&Value> {
        self.position(key)
            .and_then(|i| self.span.attributes[i].value.as_ref())
            .and_then(|v| v.value.as_ref())
    }

    pub fn raw_mut(&mut self, key: &str) -> Option<&mut AnyValue> {
        let i = self.position(key)?;
        self.span.attributes[i].value.as_mut()
    }

    /// `view.get(key)`: `PV::None` when absent.
    pub fn get(&self, key: &str) -> PV {
        match self.position(key) {
            Some(i) => from_any(self.span.attributes[i].value.as_ref()),
            None => PV::None,
        }
    }

    /// The value if it is a string (no copy).
    pub fn get_str(&self, key: &str) -> Option<&str> {
        match self.raw(key) {
            Some(Value::StringValue(s)) => Some(s),
            _ => None,
        }
    }

    pub fn set(&mut self, key: &str, value: PV) -> R<()> {
        let any = into_any(value)?;
        self.set_any(key, any);
        Ok(())
    }

    pub fn set_any(&mut self, key: &str, any: AnyValue) {
        match self.position(key) {
            Some(i) => {
                let old = self.span.attributes[i].value.replace(any);
                if i < self.original_len {
                    self.replaced.push((i, old));
                }
            }
            None => {
                self.span.attributes.push(KeyValue {
                    key: key.to_string(),
                    value: Some(any),
                    ..Default::default()
                });
                self.hashes.push(key_hash(key));
            }
        }
    }

    pub fn set_str(&mut self, key: &str, value: &str) {
        self.set_any(
            key,
            AnyValue {
                value: Some(Value::StringValue(value.to_string())),
            },
        );
    }

    /// `SpanView.delete`: remove one key (not undone by `rollback`: callers keep their own copy).
    pub fn delete(&mut self, key: &str) -> bool {
        let Some(i) = self.position(key) else {
            return false;
        };
        self.span.attributes.remove(i);
        self.hashes.remove(i);
        self.original_len = 0;
        self.replaced.clear();
        true
    }

    /// Undo every `set` since the view was made (appended keys dropped, replaced values restored).
    pub fn rollback(&mut self) {
        self.span.attributes.truncate(self.original_len);
        self.hashes.truncate(self.original_len);
        while let Some((i, old)) = self.replaced.pop() {
            self.span.attributes[i].value = old;
        }
    }

    /// `delete_many`: drop the present keys; like Python, the kept attributes are rebuilt as fresh
    /// `KeyValue(key, value)` copies (no `key_strindex`, value always present).
    pub fn delete_many(&mut self, consumed: &[Consumed]) -> usize {
        let mut doomed: Vec<usize> = consumed
            .iter()
            .filter_map(|c| match c {
                Consumed::Key(key) => self.position(key),
                Consumed::At(pos) => Some(*pos),
            })
            .collect();
        if doomed.is_empty() {
            return 0;
        }
        doomed.sort_unstable();
        doomed.dedup();
        let old = std::mem::take(&mut self.span.attributes);
        let mut kept = Vec::with_capacity(old.len() - doomed.len());
        for (i, mut kv) in old.into_iter().enumerate() {
            if doomed.binary_search(&i).is_err() {
                kv.key_strindex = 0;
                if kv.value.is_none() {
                    kv.value = Some(AnyValue::default());
                }
                kept.push(kv);
            }
        }
        self.span.attributes = kept;
        self.original_len = 0; // not undoable: callers delete only once nothing can fail any more
        self.replaced.clear();
        self.hashes = self
            .span
            .attributes
            .iter()
            .map(|kv| key_hash(&kv.key))
            .collect();
        doomed.len()
    }
}
