//! The two walks of `Batch.redact` over every string a span carries, in `BatchRedactor.redact` order.

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use pyo3::prelude::*;
use pyo3::types::PyList;

use super::content::{apply, is_marker, json_in_place_ok, json_probe, may_be_json};
use super::keys::KeyAction;
use super::pyjson::dumps_any;
use super::scanner::{Finding, RequestFacts, Scratch};
use super::{Decisions, Redactor};

/// The shortest built-in match ("a@b.co"): shorter strings are not scanned.
const MIN_LENGTH: usize = 6;
const DENIED_TYPE: &str = "custom";
const DENIED_LABEL: &str = "REDACTED";
const WITHHELD: &str = "<REDACTED>";
pub const WITHHELD_TYPE: &str = "withheld";

fn long_enough(text: &str) -> bool {
    let n = text.len();
    n >= MIN_LENGTH * 4 || (n >= MIN_LENGTH && text.chars().count() >= MIN_LENGTH)
}

/// What happens at each scannable string and at each denied value.
trait Visitor {
    fn string(&mut self, owner: usize, value: &mut String) -> PyResult<()>;
    fn deny(&mut self, owner: usize, value: &mut Option<AnyValue>);
}

struct Walker<'a> {
    redactor: &'a Redactor,
    cache: &'a mut Decisions,
    /// The key decisions of the first walk, in visit order, replayed by the second (same order).
    actions: Vec<KeyAction>,
    replay: Option<usize>,
}

impl Walker<'_> {
    fn spans<V: Visitor>(&mut self, visitor: &mut V, spans: &mut [&mut Span]) -> PyResult<()> {
        for (owner, span) in spans.iter_mut().enumerate() {
            self.pairs(visitor, owner, &mut span.attributes, "")?;
            for event in &mut span.events {
                self.pairs(visitor, owner, &mut event.attributes, "")?;
            }
            for link in &mut span.links {
                self.pairs(visitor, owner, &mut link.attributes, "")?;
            }
            if let Some(status) = span.status.as_mut() {
                if long_enough(&status.message) {
                    visitor.string(owner, &mut status.message)?;
                }
            }
        }
        Ok(())
    }

    fn pairs<V: Visitor>(
        &mut self,
        visitor: &mut V,
        owner: usize,
        pairs: &mut [KeyValue],
        prefix: &str,
    ) -> PyResult<()> {
        for kv in pairs.iter_mut() {
            let KeyValue {
                key: own_key,
                value,
                ..
            } = kv;
            if let Some(next) = self.replay.as_mut() {
                let action = self.actions.get(*next).copied().unwrap_or(KeyAction::Allow);
                *next += 1;
                match (action, value.as_mut()) {
                    (KeyAction::Scan, Some(value)) => self.value(visitor, owner, value, "")?,
                    (KeyAction::Deny, _) => visitor.deny(owner, value),
                    _ => {}
                }
                continue;
            }
            let joined;
            let key: &str = if prefix.is_empty() {
                own_key
            } else {
                joined = format!("{prefix}{own_key}");
                &joined
            };
            let action = self.redactor.action(self.cache, key);
            self.actions.push(action);
            match action {
                KeyAction::Allow => {}
                KeyAction::Deny => visitor.deny(owner, value),
                KeyAction::Scan => {
                    if let Some(value) = value.as_mut() {
                        self.value(visitor, owner, value, key)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn value<V: Visitor>(
        &mut self,
        visitor: &mut V,
        owner: usize,
        value: &mut AnyValue,
        key: &str,
    ) -> PyResult<()> {
        match value.value.as_mut() {
            Some(Value::StringValue(text)) if long_enough(text) => visitor.string(owner, text)?,
            Some(Value::ArrayValue(array)) => {
                for item in &mut array.values {
                    self.value(visitor, owner, item, key)?;
                }
            }
            Some(Value::KvlistValue(kvlist)) => {
                // The second walk replays decisions and needs no keys.
                let prefix = if self.replay.is_some() {
                    String::new()
                } else {
                    format!("{key}.")
                };
                self.pairs(visitor, owner, &mut kvlist.values, &prefix)?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// First walk: the deny rule, the whole-request facts, and the JSON probes (kept for the second walk).
struct Collect<'a> {
    redactor: &'a Redactor,
    found: Vec<Vec<&'static str>>,
    facts: RequestFacts,
    probes: Vec<Option<Option<String>>>,
}

impl Visitor for Collect<'_> {
    fn string(&mut self, _owner: usize, value: &mut String) -> PyResult<()> {
        let probe = if may_be_json(value) {
            json_probe(value)
        } else {
            None
        };
        match &probe {
            Some(Some(blanked)) => self.facts.add(blanked),
            _ => self.facts.add(value),
        }
        self.probes.push(probe);
        Ok(())
    }

    /// `SpanRedactor.deny`: the whole value (any type) becomes one `<REDACTED>` marker.
    fn deny(&mut self, owner: usize, value: &mut Option<AnyValue>) {
        let text = match value.as_ref().and_then(|v| v.value.as_ref()) {
            None => return,
            Some(Value::StringValue(s)) => {
                if s.is_empty() || is_marker(s) {
                    return; // empty, or already redacted by an earlier pass
                }
                s.clone()
            }
            Some(_) => {
                let mut text = String::new();
                if matches!(self.redactor.replacer, super::content::Replacer::Hash(_)) {
                    dumps_any(value.as_ref(), &mut text);
                }
                text
            }
        };
        self.found[owner].push(DENIED_TYPE);
        let mut marker = String::new();
        self.redactor
            .replacer
            .marker(DENIED_LABEL, &text, &mut marker);
        *value = Some(AnyValue {
            value: Some(Value::StringValue(marker)),
        });
    }
}

/// Second walk: scan each string and rewrite those with findings.
struct Rewrite<'a, 'py> {
    py: Python<'py>,
    redactor: &'a Redactor,
    found: Vec<Vec<&'static str>>,
    probes: std::vec::IntoIter<Option<Option<String>>>,
    enabled: Vec<bool>,
    slot: usize,
    last_slot: usize,
    scratch: Scratch,
    findings: Vec<Finding>,
    errors: usize,
}

impl Visitor for Rewrite<'_, '_> {
    fn string(&mut self, owner: usize, value: &mut String) -> PyResult<()> {
        let probe = self.probes.next().flatten();
        let is_last = self.slot == self.last_slot;
        self.slot += 1;
        let scanned: &str = match &probe {
            Some(Some(blanked)) => blanked,
            _ => value,
        };
        let scan = self.redactor.scanner.scan(
            scanned,
            &self.enabled,
            is_last,
            &mut self.scratch,
            &mut self.findings,
        );
        if scan.is_err() {
            self.withhold(owner, value);
            return Ok(());
        }
        if self.findings.is_empty() {
            return Ok(());
        }
        let replacer = &self.redactor.replacer;
        let new = match &probe {
            None => {
                self.found[owner].extend(self.findings.iter().map(|f| f.type_name));
                Some(apply(value, &self.findings, replacer))
            }
            Some(blanked) => {
                let probe_text: &str = blanked.as_deref().unwrap_or(value);
                if json_in_place_ok(value, probe_text, &self.findings) {
                    self.found[owner].extend(self.findings.iter().map(|f| f.type_name));
                    Some(apply(value, &self.findings, replacer))
                } else {
                    match self.json_fallback(owner, value, probe_text) {
                        Ok(new) => new,
                        Err(_) => {
                            self.withhold(owner, value);
                            return Ok(());
                        }
                    }
                }
            }
        };
        if let Some(new) = new {
            *value = new;
        }
        Ok(())
    }

    fn deny(&mut self, _owner: usize, _value: &mut Option<AnyValue>) {}
}

impl Rewrite<'_, '_> {
    /// Fail closed: a string whose scan did not finish is never forwarded; it becomes `<REDACTED>`
    /// (annotated as `custom`, counted as `withheld`, as the Python stage does for a failed span).
    fn withhold(&mut self, owner: usize, value: &mut String) {
        self.errors += 1;
        self.found[owner].push(WITHHELD_TYPE);
        *value = WITHHELD.to_string();
    }

    /// The Python `ContentRedactor.redact_json` for a JSON document not safe to rewrite in place.
    fn json_fallback(&mut self, owner: usize, text: &str, probe: &str) -> PyResult<Option<String>> {
        let Some(callback) = self.redactor.json_fallback.as_ref() else {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "redact: no JSON fallback configured",
            ));
        };
        let char_offset = |byte: usize| probe[..byte].chars().count();
        let hits: Vec<(usize, usize, &str, &str)> = self
            .findings
            .iter()
            .map(|f| {
                (
                    char_offset(f.start),
                    char_offset(f.end),
                    f.type_name,
                    f.label,
                )
            })
            .collect();
        let hits = PyList::new(self.py, hits)?;
        let result = callback.call1(self.py, (text, probe, hits))?;
        let (new, types): (Option<String>, Vec<String>) = result.extract(self.py)?;
        for kind in types {
            let known = [
                "secret",
                "email",
                "iban",
                "credit_card",
                "us_ssn",
                "phone",
                "ipv6",
                "ipv4",
                "custom",
            ];
            let kind: &'static str = known
                .iter()
                .find(|k| **k == kind)
                .copied()
                .unwrap_or("custom");
            self.found[owner].push(kind);
        }
        Ok(new)
    }
}

/// What a request's redaction gives the stage: types per span (request order) and failed scans.
pub struct Outcome {
    pub found: Vec<Vec<&'static str>>,
    pub errors: usize,
}

pub fn redact_spans(
    py: Python<'_>,
    redactor: &Redactor,
    cache: &mut Decisions,
    spans: &mut [&mut Span],
) -> PyResult<Outcome> {
    let mut walker = Walker {
        redactor,
        cache,
        actions: Vec::new(),
        replay: None,
    };
    let facts = RequestFacts {
        gate_index: redactor.scanner.gate_index(),
        ..RequestFacts::default()
    };
    let mut collect = Collect {
        redactor,
        found: vec![Vec::new(); spans.len()],
        facts,
        probes: Vec::new(),
    };
    walker.spans(&mut collect, spans)?;
    let slots = collect.probes.len();
    if slots == 0 {
        return Ok(Outcome {
            found: collect.found,
            errors: 0,
        });
    }
    let enabled = redactor.scanner.enabled(&collect.facts);
    let mut rewrite = Rewrite {
        py,
        redactor,
        found: collect.found,
        probes: collect.probes.into_iter(),
        enabled,
        slot: 0,
        last_slot: slots - 1,
        scratch: Scratch::default(),
        findings: Vec::new(),
        errors: 0,
    };
    walker.replay = Some(0);
    walker.spans(&mut rewrite, spans)?;
    Ok(Outcome {
        found: rewrite.found,
        errors: rewrite.errors,
    })
}
