//! The anthropic SDK's own spans (`normalize/anthropic_native.py`): current names except the cache-write
//! name and the stop reason, and output messages without a `finish_reason`.

use super::mapping::{Edit, Table, OUTPUT_MESSAGES};
use super::pyjson::{dump_json, parse_json};
use super::pyvalue::{PV, R};

pub const RENAMES: Table = &[
    (
        "gen_ai.usage.cache_write.input_tokens",
        "gen_ai.usage.cache_creation.input_tokens",
    ),
    (
        "anthropic.message.stop_reason",
        "gen_ai.response.finish_reasons",
    ),
];

/// `add_finish_reason`: the output-message schema requires one; the SDK leaves it out.
fn add_finish_reason(edit: &mut Edit) -> R<()> {
    let Some(raw) = edit.view.get_str(OUTPUT_MESSAGES).map(str::to_string) else {
        return Ok(());
    };
    let Some(reasons) = edit.finish_reasons()?.filter(|r| !r.is_empty()) else {
        return Ok(());
    };
    let PV::List(mut messages) = parse_json(&raw)? else {
        return Ok(());
    };
    let mut changed = false;
    for message in &mut messages {
        if let PV::Dict(items) = message {
            if super::pyvalue::dict_get(items, "finish_reason").is_none() {
                items.push(("finish_reason".into(), PV::Str(reasons[0].clone())));
                changed = true;
            }
        }
    }
    if changed {
        edit.set(OUTPUT_MESSAGES, PV::Str(dump_json(&PV::List(messages))?))?;
    }
    Ok(())
}

pub fn normalize(edit: &mut Edit) -> R<()> {
    edit.apply(RENAMES)?;
    add_finish_reason(edit)
}
