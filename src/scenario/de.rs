//! Deserializing wire types from JSON values: type errors with their JSON path in a JSON
//! file's words, every key serde skipped classified (a vendor field lbsim does not model, or
//! an unknown key with a suggestion), and arrays refused where an object is expected.

use super::diag::{Code, Findings};
pub use super::fields::Seg;
use super::{fields, suggest};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Deserializes `value` (found at canonical path `at`) into `T`, recording type errors and
/// classifying every key serde skipped. `None` when the value has the wrong shape.
pub fn deserialize<T: DeserializeOwned>(value: Value, at: &[Seg], f: &mut Findings) -> Option<T> {
    let errors = f.items.len();
    refuse_arrays_for_objects(&value, &mut at.to_vec(), f);
    if f.items.len() > errors {
        return None;
    }
    let mut ignored: Vec<Vec<Seg>> = Vec::new();
    let mut record = |p: serde_ignored::Path<'_>| ignored.push(fields::segments(&p));
    let result =
        serde_path_to_error::deserialize(serde_ignored::Deserializer::new(value, &mut record));
    for rel in ignored {
        let mut full = at.to_vec();
        full.extend(rel);
        classify_ignored(&full, f);
    }
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            let inner = e.path().to_string();
            let base = fields::render(at);
            let path = match (base.is_empty(), inner == ".") {
                (true, _) => inner,
                (false, true) => base,
                (false, false) if inner.starts_with('[') => format!("{base}{inner}"),
                (false, false) => format!("{base}.{inner}"),
            };
            f.error(&path, "", plain(&e.inner().to_string(), &path), Code::NONE);
            None
        }
    }
}

/// serde's type errors in the words of a JSON file: `invalid type: map, expected a sequence`
/// becomes `has the wrong type: an object, expected an array`. `path` is where it occurred.
fn plain(message: &str, path: &str) -> String {
    if message == "invalid type: unit variant, expected newtype variant" {
        // `"popularity": "zipf"`: the variant's name alone, where `{"zipf": s}` is needed
        let name = path.rsplit('.').next().unwrap_or(path);
        return format!("needs a value: write {{\"{name}\": …}}, not \"{name}\" alone");
    }
    let (problem, rest) = if let Some(rest) = message.strip_prefix("invalid type: ") {
        ("has the wrong type", rest)
    } else if let Some(rest) = message.strip_prefix("invalid value: ") {
        ("has a value out of range", rest)
    } else {
        return message.to_string();
    };
    let Some((found, expected)) = rest.rsplit_once(", expected ") else {
        return format!("{problem}: {rest}");
    };
    let json_word = |serde: &str| match serde {
        "map" | "a map" => "an object",
        "sequence" | "a sequence" => "an array",
        "floating point" => "a number",
        _ => "",
    };
    let found = match json_word(found) {
        "" => found.replace("floating point", "number"),
        word => word.to_string(),
    };
    let expected = match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" => {
            let max = match expected {
                "u8" => u64::from(u8::MAX),
                "u16" => u64::from(u16::MAX),
                "u32" => u64::from(u32::MAX),
                _ => u64::MAX,
            };
            format!("a whole number from 0 to {max}")
        }
        // the field's own range check follows once the type is right
        "i32" | "i64" => "a whole number".to_string(),
        "f32" | "f64" => "a number".to_string(),
        e if e.starts_with("struct ") => "an object".to_string(),
        e => match json_word(e) {
            "" => e.to_string(),
            word => word.to_string(),
        },
    };
    format!("{problem}: {found}, expected {expected}")
}

/// Reports every JSON array standing where an object is expected. The API rejects one, but
/// serde's derived structs read it by position (`"slow_start": [true, 30]` would pass as
/// `{"enable": true, "duration": 30}`). `path` is the canonical path of `value`.
fn refuse_arrays_for_objects(value: &Value, path: &mut Vec<Seg>, f: &mut Findings) {
    match value {
        Value::Array(items) if expects_object(path) => {
            let rule = format!("must be a JSON object, not an array of {}", items.len());
            f.error(&fields::render(path), "", rule, Code::NONE);
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                refuse_arrays_for_objects(item, path, f);
                path.pop();
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                path.push(Seg::Key(key.clone()));
                refuse_arrays_for_objects(item, path, f);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Whether a struct is deserialized at canonical `path`: an object kind, a service-time
/// distribution's parameters, or `{"geometric": mean}`.
fn expects_object(path: &[Seg]) -> bool {
    let key = |i: usize| match path.get(i) {
        Some(Seg::Key(k)) => Some(k.as_str()),
        _ => None,
    };
    let n = path.len();
    let service_time = n >= 2 && key(n - 2) == Some("service_time_ms");
    let geometric =
        key(0) == Some("workload") && n == 2 && key(1) == Some("requests_per_connection");
    service_time || geometric || fields::kind_at(path).is_some()
}

fn classify_ignored(path: &[Seg], f: &mut Findings) {
    let rendered = fields::render(path);
    let (parent, key) = match path.split_last() {
        Some((Seg::Key(k), parent)) => (parent, k.as_str()),
        _ => {
            f.error(&rendered, "", "is not expected here", Code::NONE);
            return;
        }
    };
    match fields::kind_at(parent) {
        Some(kind) if kind.vendor.contains(&key) => {
            f.note(
                &rendered,
                "is a vendor field lbsim accepts but does not model",
            );
        }
        Some(kind) => {
            let mut rule = String::from("is not a known field");
            let candidates = kind.modelled.iter().chain(kind.vendor).copied();
            if let Some(s) = suggest::closest(key, candidates) {
                rule.push_str(&format!("; did you mean `{s}`?"));
            }
            f.error(&rendered, "", rule, Code::NONE);
        }
        None => f.error(&rendered, "", "is not a known field", Code::NONE),
    }
}

/// Deserializes an embedded API body (an event payload): findings are reported under `at`, and
/// skipped keys classified as if the body stood at canonical path `canon`.
pub fn deserialize_at<T: DeserializeOwned>(
    body: &Value,
    at: &str,
    canon: &[Seg],
    f: &mut Findings,
) -> Option<T> {
    // serde's derived structs also read JSON arrays (fields by position); an API body is an
    // object, and the run reads it by key, so anything else would be accepted and then ignored
    let kind = match body {
        Value::Object(_) => None,
        Value::Array(_) => Some("an array"),
        Value::String(_) => Some("a string"),
        Value::Number(_) => Some("a number"),
        Value::Bool(_) => Some("a boolean"),
        Value::Null => Some("null"),
    };
    if let Some(kind) = kind {
        let rule = format!("must be a JSON object (the API request body), not {kind}");
        f.error(at, "", rule, Code::NONE);
        return None;
    }
    let mut sub = Findings::new("");
    let parsed = deserialize::<T>(body.clone(), canon, &mut sub);
    let canon_text = fields::render(canon);
    for item in sub.items {
        let rest = item.path.strip_prefix(&canon_text).unwrap_or(&item.path);
        let path = if rest.is_empty() || rest.starts_with('[') || rest.starts_with('.') {
            format!("{at}{rest}")
        } else {
            format!("{at}.{rest}")
        };
        f.push(item.severity, &path, item.value, item.rule, item.code);
    }
    parsed
}
