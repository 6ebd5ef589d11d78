//! Which instrumentation wrote a span (`normalize/detect.py`), from marker keys only: a non-GenAI span costs
//! one pass over its keys with a string match each and nothing else.

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::KeyValue;

/// The dialects in `ALL_DIALECTS` order (their index is the bit in `Normalizer`'s enabled set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    OpenLLMetry = 0,
    OpenLLMetryLegacy = 1,
    OpenInference = 2,
    OpenLit = 3,
    OtelGenaiLegacy = 4,
    OtelGenai = 5,
    GenaiOtel = 6,
    VercelAi = 7,
    AnthropicNative = 8,
}

pub const ALL: [Dialect; 9] = [
    Dialect::OpenLLMetry,
    Dialect::OpenLLMetryLegacy,
    Dialect::OpenInference,
    Dialect::OpenLit,
    Dialect::OtelGenaiLegacy,
    Dialect::OtelGenai,
    Dialect::GenaiOtel,
    Dialect::VercelAi,
    Dialect::AnthropicNative,
];

impl Dialect {
    /// The `genai_lens.normalize.source_dialect` value.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::OpenLLMetry => "openllmetry",
            Dialect::OpenLLMetryLegacy => "openllmetry_legacy",
            Dialect::OpenInference => "openinference",
            Dialect::OpenLit => "openlit",
            Dialect::OtelGenaiLegacy => "otel_genai_legacy",
            Dialect::OtelGenai => "otel_genai",
            Dialect::GenaiOtel => "genai_otel_instrument",
            Dialect::VercelAi => "vercel_ai",
            Dialect::AnthropicNative => "anthropic_native",
        }
    }

    pub fn from_name(name: &str) -> Option<Dialect> {
        ALL.iter().copied().find(|d| d.name() == name)
    }
}

pub const SOURCE_DIALECT: &str = "genai_lens.normalize.source_dialect";
const ANTHROPIC_SCOPE: &str = "com.anthropic.sdk.python";
const OPENLIT_SCOPE_PREFIX: &str = "openlit.";
const OPENLIT_SDK_KEY: &str = "telemetry.sdk.name";

// One bit per marker key.
const M_SOURCE: u64 = 1 << 0;
const M_PROVIDER: u64 = 1 << 1;
const M_SYSTEM: u64 = 1 << 2;
const M_OPERATION: u64 = 1 << 3;
const M_REQUEST_MODEL: u64 = 1 << 4;
const M_OI_KIND: u64 = 1 << 5;
const M_VERCEL_OPERATION: u64 = 1 << 6;
const M_VERCEL_MODEL: u64 = 1 << 7;
const M_OPENLIT_SDK: u64 = 1 << 8;
const M_OLL_REQUEST_TYPE: u64 = 1 << 9;
const M_OLL_LEGACY_OTHER: u64 = 1 << 10;
const M_OLL_NEW: u64 = 1 << 11;
const M_GENAI_OTEL: u64 = 1 << 12;
const M_OPENLIT: u64 = 1 << 13;
const M_OTEL_LEGACY: u64 = 1 << 14;

const IDENTITY: u64 = M_PROVIDER | M_SYSTEM | M_OPERATION | M_REQUEST_MODEL;
const OLL_LEGACY: u64 = M_OLL_REQUEST_TYPE | M_OLL_LEGACY_OTHER;

fn marker(key: &str) -> u64 {
    match key {
        SOURCE_DIALECT => M_SOURCE,
        "gen_ai.provider.name" => M_PROVIDER,
        "gen_ai.system" => M_SYSTEM,
        "gen_ai.operation.name" => M_OPERATION,
        "gen_ai.request.model" => M_REQUEST_MODEL,
        "openinference.span.kind" => M_OI_KIND,
        "ai.operationId" => M_VERCEL_OPERATION,
        "ai.model.id" => M_VERCEL_MODEL,
        OPENLIT_SDK_KEY => M_OPENLIT_SDK,
        "llm.request.type" => M_OLL_REQUEST_TYPE,
        "llm.usage.total_tokens"
        | "gen_ai.prompt.0.content"
        | "gen_ai.prompt.0.role"
        | "gen_ai.completion.0.content"
        | "gen_ai.completion.0.role"
        | "gen_ai.usage.cache_read_input_tokens"
        | "gen_ai.usage.cache_creation_input_tokens" => M_OLL_LEGACY_OTHER,
        "gen_ai.usage.total_tokens"
        | "gen_ai.is_streaming"
        | "gen_ai.usage.reasoning_tokens"
        | "gen_ai.openai.api_base" => M_OLL_NEW,
        "gen_ai.usage.token_count_estimated" | "gen_ai.request.type" | "gen_ai.server.ttft" => {
            M_GENAI_OTEL
        }
        "gen_ai.client.token.usage" | "gen_ai.sdk.version" => M_OPENLIT,
        "gen_ai.usage.prompt_tokens"
        | "gen_ai.usage.completion_tokens"
        | "gen_ai.prompt"
        | "gen_ai.completion" => M_OTEL_LEGACY,
        _ => 0,
    }
}

/// The dialect of a span; `None` for a span that is not a GenAI call or is already normalized.
pub fn detect(attributes: &[KeyValue], scope_name: &str) -> Option<Dialect> {
    let mut present = 0u64;
    for kv in attributes {
        let first = kv.key.as_bytes().first().copied();
        if matches!(first, Some(b'g' | b'o' | b'a' | b't' | b'l')) {
            present |= marker(&kv.key);
        }
    }
    if present == 0 || present & M_SOURCE != 0 {
        return None;
    }
    if present & IDENTITY == 0 {
        if present & M_OI_KIND != 0 {
            return Some(Dialect::OpenInference);
        }
        if present & (M_VERCEL_OPERATION | M_VERCEL_MODEL) != 0 {
            return Some(Dialect::VercelAi);
        }
        if present & M_OLL_REQUEST_TYPE != 0 {
            return Some(Dialect::OpenLLMetryLegacy);
        }
        return None;
    }
    if present & M_OI_KIND != 0 {
        return Some(Dialect::OpenInference);
    }
    if present & M_VERCEL_OPERATION != 0 {
        return Some(Dialect::VercelAi);
    }
    if scope_name == ANTHROPIC_SCOPE {
        return Some(Dialect::AnthropicNative);
    }
    // `view.get` reads the last copy of a repeated key (the index keeps the last position).
    let sdk_is_openlit = present & M_OPENLIT_SDK != 0
        && matches!(
            attributes.iter().rev().find(|kv| kv.key == OPENLIT_SDK_KEY).and_then(|kv| kv.value.as_ref()).and_then(|v| v.value.as_ref()),
            Some(Value::StringValue(s)) if s == "openlit"
        );
    if scope_name.starts_with(OPENLIT_SCOPE_PREFIX) || sdk_is_openlit || present & M_OPENLIT != 0 {
        return Some(Dialect::OpenLit);
    }
    let has_system = present & M_SYSTEM != 0;
    if (has_system && present & M_PROVIDER != 0) || present & M_GENAI_OTEL != 0 {
        return Some(Dialect::GenaiOtel);
    }
    if present & OLL_LEGACY != 0 {
        return Some(Dialect::OpenLLMetryLegacy);
    }
    if present & M_OLL_NEW != 0 {
        return Some(Dialect::OpenLLMetry);
    }
    if has_system || present & M_OTEL_LEGACY != 0 {
        return Some(Dialect::OtelGenaiLegacy);
    }
    Some(Dialect::OtelGenai)
}
