//! OpenLLMetry >= 0.55 (`normalize/openllmetry.py`): current names plus a few of its own, renamed.

use super::mapping::{Edit, Table};
use super::pyvalue::R;

pub const RENAMES: Table = &[
    (
        "gen_ai.usage.reasoning_tokens",
        "gen_ai.usage.reasoning.output_tokens",
    ),
    ("gen_ai.is_streaming", "gen_ai.request.stream"),
    (
        "gen_ai.usage.cache_read_input_tokens",
        "gen_ai.usage.cache_read.input_tokens",
    ),
    (
        "gen_ai.usage.cache_creation_input_tokens",
        "gen_ai.usage.cache_creation.input_tokens",
    ),
    (
        "gen_ai.openai.response.system_fingerprint",
        "openai.response.system_fingerprint",
    ),
    (
        "gen_ai.openai.response.service_tier",
        "openai.response.service_tier",
    ),
    (
        "gen_ai.openai.request.service_tier",
        "openai.request.service_tier",
    ),
];

pub fn normalize(edit: &mut Edit) -> R<()> {
    edit.apply(RENAMES)
}
