//! Finds every sensitive value in one string (`scanner.py`): all detectors, overlaps resolved (the longer
//! wins, then the earlier detector), our own markers left alone.

use super::content::marker_regex;
use super::detectors::{builtin_detectors, Detector, Prerequisite, ScanError, Search};
use super::text::{is_run_byte, shape_byte, PyClasses};

/// One sensitive value at `text[start..end]` (byte offsets).
#[derive(Clone, Copy, Debug)]
pub struct Finding {
    pub start: usize,
    pub end: usize,
    pub type_name: &'static str,
    pub label: &'static str,
}

/// What the whole joined request text tells the Python scanner before any gate is searched.
///
/// Python scans all of a request's strings joined by NULs, so these whole-text checks hold for the
/// request, not per string: a detector is skipped only when the request as a whole fails them.
#[derive(Default, Clone, Copy)]
pub struct RequestFacts {
    /// Whether the Python scanner has its gate index (then prerequisites only matter for short texts).
    pub gate_index: bool,
    pub chars: usize,
    pub strings: usize,
    pub digits: usize,
    pub token_run: bool,
    pub digit_run: bool,
}

impl RequestFacts {
    /// Account one scanned string.
    pub fn add(&mut self, text: &str) {
        let bytes = text.as_bytes();
        self.strings += 1;
        self.chars += if bytes.is_ascii() {
            bytes.len()
        } else {
            bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
        };
        let indexed = self.gate_index && self.chars + self.strings > INDEXED_LENGTH;
        if self.digits >= MAX_MIN_DIGITS && (indexed || (self.token_run && self.digit_run)) {
            return; // nothing more to learn: every check already passes (or is skipped)
        }
        let mut run = 0usize;
        let mut zeros = 0usize;
        for &b in bytes {
            if b.is_ascii_digit() {
                self.digits += 1;
                zeros += 1;
                if zeros >= 3 {
                    self.digit_run = true;
                }
            } else {
                zeros = 0;
            }
            if is_run_byte(b) {
                run += 1;
                if run >= 16 {
                    self.token_run = true;
                }
            } else {
                run = 0;
            }
        }
    }
}

/// The largest `min_digits` of any detector: counting digits further changes nothing.
const MAX_MIN_DIGITS: usize = 13;

/// The configured detectors, in tie-break order.
pub struct Scanner {
    detectors: Vec<Detector>,
    /// Byte → bits of the byte classes gates require (see `Hot::requires`), at most 64 classes.
    class_table: [u64; 256],
    /// Whether the Python stage has its one-pass gate index (Hyperscan): then long joined texts skip the
    /// family prerequisites (`_INDEXED_LENGTH`).
    gate_index: bool,
}

const INDEXED_LENGTH: usize = 4096;

/// Scratch space reused across strings.
#[derive(Default)]
pub struct Scratch {
    /// The string's shape (digits `0`, upper case `A`, lower case `a`, non-ASCII `?`), built on demand.
    shape: Vec<u8>,
    search: Search,
    candidates: Vec<(usize, isize, usize, Finding)>,
}

impl Scanner {
    pub fn new(types: &[String], gate_index: bool, classes: &PyClasses) -> Scanner {
        let mut detectors: Vec<Detector> = builtin_detectors(classes)
            .into_iter()
            .filter(|d| types.iter().any(|t| t == d.type_name))
            .collect();
        let mut classes: Vec<&'static [u8]> = Vec::new();
        let mut class_table = [0u64; 256];
        for hot in detectors.iter_mut().flat_map(|d| d.hots.iter_mut()) {
            for class in hot.requires.clone() {
                let bit = match classes.iter().position(|c| *c == class) {
                    Some(bit) => bit,
                    None => {
                        classes.push(class);
                        classes.len() - 1
                    }
                };
                if bit >= 64 {
                    continue; // never reached with the built-ins; the gate is then simply always tried
                }
                hot.required_bits |= 1 << bit;
                for &b in class {
                    class_table[b as usize] |= 1 << bit;
                }
            }
        }
        Scanner {
            detectors,
            class_table,
            gate_index,
        }
    }

    /// The byte classes occurring in `bytes`, as bits (four accumulators: one OR chain per lane).
    fn classes_of(&self, bytes: &[u8]) -> u64 {
        let table = &self.class_table;
        let (mut a, mut b, mut c, mut d) = (0u64, 0u64, 0u64, 0u64);
        let mut chunks = bytes.chunks_exact(4);
        for chunk in &mut chunks {
            a |= table[chunk[0] as usize];
            b |= table[chunk[1] as usize];
            c |= table[chunk[2] as usize];
            d |= table[chunk[3] as usize];
        }
        for &byte in chunks.remainder() {
            a |= table[byte as usize];
        }
        a | b | c | d
    }

    pub fn gate_index(&self) -> bool {
        self.gate_index
    }

    /// Which detectors run at all for a request with these facts (`min_digits`, prerequisites).
    pub fn enabled(&self, facts: &RequestFacts) -> Vec<bool> {
        let joined_chars = facts.chars + facts.strings.saturating_sub(1);
        let indexed = self.gate_index && joined_chars >= INDEXED_LENGTH;
        self.detectors
            .iter()
            .map(|d| {
                let prerequisite = indexed
                    || match d.prerequisite {
                        Prerequisite::None => true,
                        Prerequisite::TokenRun => facts.token_run,
                        Prerequisite::DigitRun => facts.digit_run,
                    };
                prerequisite && d.min_digits <= facts.digits
            })
            .collect()
    }

    /// Non-overlapping findings in text order into `out` (Python `Scanner.scan`).
    pub fn scan(
        &self,
        text: &str,
        enabled: &[bool],
        last_slot: bool,
        scratch: &mut Scratch,
        out: &mut Vec<Finding>,
    ) -> Result<(), ScanError> {
        out.clear();
        let present = self.classes_of(text.as_bytes());
        scratch.candidates.clear();
        let mut shaped = false;
        for (rank, detector) in self.detectors.iter().enumerate() {
            if !enabled[rank] {
                continue;
            }
            scratch.search.clear();
            for hot in &detector.hots {
                if !hot.possible(present) {
                    continue;
                }
                if hot.on_shape && !shaped {
                    scratch.shape.clear();
                    scratch.shape.extend(text.bytes().map(shape_byte));
                    shaped = true;
                }
                detector.around_hits(text, &scratch.shape, hot, last_slot, &mut scratch.search)?;
            }
            for &(start, end) in &scratch.search.spans {
                let finding = Finding {
                    start,
                    end,
                    type_name: detector.type_name,
                    label: detector.label,
                };
                scratch
                    .candidates
                    .push((start, start as isize - end as isize, rank, finding));
            }
        }
        if scratch.candidates.is_empty() {
            return Ok(());
        }
        scratch.candidates.sort_by_key(|c| (c.0, c.1, c.2));
        let blocked: Vec<(usize, usize)> = if text.contains('<') {
            marker_regex()
                .find_iter(text)
                .map(|m| (m.start(), m.end()))
                .collect()
        } else {
            Vec::new()
        };
        let mut last_end: Option<usize> = None;
        let mut next_block = 0;
        for &(start, _, _, finding) in &scratch.candidates {
            if last_end.is_some_and(|end| start < end) {
                continue;
            }
            while next_block < blocked.len() && blocked[next_block].1 <= start {
                next_block += 1;
            }
            if next_block < blocked.len() && blocked[next_block].0 < finding.end {
                continue; // overlaps one of our own markers
            }
            out.push(finding);
            last_end = Some(finding.end);
        }
        Ok(())
    }
}
