//! OpenLIT (`normalize/openlit.py`): current names with three value quirks: Anthropic input tokens without
//! the cache (added back), a zero cost meaning "unknown price" (dropped), and Anthropic block lists inside
//! text parts (expanded).

use super::mapping::{
    content_to_parts, normalize_provider, py_deep_eq, Edit, Table, CACHE_CREATION_TOKENS,
    CACHE_READ_TOKENS, INPUT_MESSAGES, INPUT_TOKENS, OUTPUT_MESSAGES, PROVIDER, SYSTEM,
};
use super::pyjson::{dump_json, parse_json};
use super::pyvalue::{as_float, as_int, as_str, dict_get, dict_set, Fallback, PV, R};

pub const RENAMES: Table = &[
    (
        "gen_ai.usage.reasoning_tokens",
        "gen_ai.usage.reasoning.output_tokens",
    ),
    (
        "gen_ai.usage.completion_tokens_details.reasoning_tokens",
        "gen_ai.usage.reasoning.output_tokens",
    ),
    (
        "gen_ai.usage.prompt_tokens_details.cached_tokens",
        "gen_ai.usage.cache_read.input_tokens",
    ),
    (
        "gen_ai.server.time_to_first_token",
        "gen_ai.response.time_to_first_chunk",
    ),
    ("gen_ai.system", "gen_ai.provider.name"),
];

const COST: &str = "gen_ai.usage.cost";
const ZERO_COST_DROPPED: &str = "zero_cost_dropped";
const UNCACHED_INPUT_FIXED: &str = "uncached_input_fixed";

fn int_or_zero(value: &PV) -> R<i64> {
    Ok(match as_int(value)? {
        PV::Int(i) => i,
        _ => 0,
    })
}

/// `add_cache_to_input`: Anthropic's raw input count plus cache read and creation.
fn add_cache_to_input(edit: &mut Edit) -> R<()> {
    let provider = edit.view.get(PROVIDER);
    let chosen = if provider.truthy() {
        provider
    } else {
        edit.view.get(SYSTEM)
    };
    if normalize_provider(as_str(&chosen)?.as_deref()).as_deref() != Some("anthropic") {
        return Ok(());
    }
    let PV::Int(uncached) = as_int(&edit.view.get(INPUT_TOKENS))? else {
        return Ok(());
    };
    let cache_read = int_or_zero(&edit.view.get(CACHE_READ_TOKENS))?;
    let cache_creation = int_or_zero(&edit.view.get(CACHE_CREATION_TOKENS))?;
    if cache_read != 0 || cache_creation != 0 {
        let total = uncached
            .checked_add(cache_read)
            .and_then(|t| t.checked_add(cache_creation))
            .ok_or(Fallback("token sum out of int64"))?;
        edit.set(INPUT_TOKENS, PV::Int(total))?;
        edit.notes.push(UNCACHED_INPUT_FIXED);
    }
    Ok(())
}

/// `drop_zero_cost`: OpenLIT's "unknown price" marker is removed whatever keep_original says.
fn drop_zero_cost(edit: &mut Edit) -> R<()> {
    let cost = edit.view.get(COST);
    if !cost.is_none() && matches!(as_float(&cost)?, PV::Float(f) if f == 0.0) {
        edit.delete(COST)?;
        edit.notes.push(ZERO_COST_DROPPED);
    }
    Ok(())
}

/// `expand_block_parts`: text parts whose content is a list of provider blocks become those parts.
fn expand_block_parts(messages: &mut PV) -> R<bool> {
    let PV::List(messages) = messages else {
        return Ok(false);
    };
    let mut changed = false;
    for message in messages.iter_mut() {
        let PV::Dict(items) = message else { continue };
        let Some(PV::List(parts)) = dict_get(items, "parts") else {
            continue;
        };
        let mut expanded = Vec::with_capacity(parts.len());
        for part in parts {
            let content = match part {
                PV::Dict(p) if dict_get(p, "type").and_then(PV::as_str_ref) == Some("text") => {
                    dict_get(p, "content")
                }
                _ => None,
            };
            let blockish = matches!(content, Some(PV::List(_)))
                || matches!(content, Some(PV::Str(s)) if s.starts_with("[{"));
            if let (true, Some(content)) = (blockish, content) {
                let blocks = content_to_parts(content.clone(), true)?;
                let same = blocks.len() == 1
                    && py_deep_eq(blocks[0].get("content").unwrap_or(&PV::None), content)?;
                if !blocks.is_empty() && !same {
                    expanded.extend(blocks);
                    changed = true;
                    continue;
                }
            }
            expanded.push(part.clone());
        }
        dict_set(items, "parts", PV::List(expanded));
    }
    Ok(changed)
}

fn fix_content(edit: &mut Edit) -> R<()> {
    for key in [INPUT_MESSAGES, OUTPUT_MESSAGES] {
        let Some(raw) = edit.view.get_str(key) else {
            continue;
        };
        if !raw.replace(' ', "").contains("\"content\":[") {
            continue;
        }
        let mut messages = parse_json(raw)?;
        if expand_block_parts(&mut messages)? {
            edit.set(key, PV::Str(dump_json(&messages)?))?;
        }
    }
    Ok(())
}

pub fn normalize(edit: &mut Edit) -> R<()> {
    edit.apply(RENAMES)?;
    add_cache_to_input(edit)?;
    fix_content(edit)?;
    drop_zero_cost(edit)
}
