//! The JSON Schema of scenario files (`lbsim schema`). schemars derives it from the wire types,
//! whose attributes name the same constants validation checks (`within(PORTS)`,
//! `one_of(ALGORITHMS)`), so a range or an enumeration lives in one place. [`scenario`] then
//! adds what a derive cannot state: exactly one pool, a bare VPC channel body, a wrapped
//! listener body, exactly one action per event, and each dialect's front and event bodies.
//! Rules between values (a protocol allowing an algorithm, members an event names) are left to
//! `lbsim validate`; `docs/scenario-format.md` lists them.

use super::{dialect, elb, Scenario, MAX_DURATION_S};
use schemars::Schema;
use serde_json::{json, Map, Value};
use std::ops::RangeInclusive;

/// A number within `bounds` (an optional field may still be null).
pub fn within<T: Copy + Into<Value>>(bounds: RangeInclusive<T>) -> impl FnMut(&mut Schema) {
    move |s: &mut Schema| {
        s.insert("minimum".into(), (*bounds.start()).into());
        s.insert("maximum".into(), (*bounds.end()).into());
    }
}

/// A number at or above `min`.
pub fn at_least<T: Copy + Into<Value>>(min: T) -> impl FnMut(&mut Schema) {
    move |s: &mut Schema| {
        s.insert("minimum".into(), min.into());
    }
}

/// A number above `min`.
pub fn above<T: Copy + Into<Value>>(min: T) -> impl FnMut(&mut Schema) {
    move |s: &mut Schema| {
        s.insert("exclusiveMinimum".into(), min.into());
    }
}

/// A run's `duration_s`: above 0, at most [`MAX_DURATION_S`].
pub fn duration(s: &mut Schema) {
    s.insert("exclusiveMinimum".into(), 0.into());
    s.insert("maximum".into(), MAX_DURATION_S.into());
}

/// One of `values` (or null, where the field is optional).
pub fn one_of<T: Copy + Into<Value>>(values: &'static [T]) -> impl FnMut(&mut Schema) {
    move |s: &mut Schema| {
        let mut allowed: Vec<Value> = values.iter().map(|v| (*v).into()).collect();
        if nullable(s) {
            allowed.push(Value::Null);
        }
        s.insert("enum".into(), allowed.into());
    }
}

/// One of `values` in any letter case, as a pattern (JSON Schema has no case-blind `enum`).
pub fn any_case(values: &'static [&'static str]) -> impl FnMut(&mut Schema) {
    move |s: &mut Schema| {
        let blind = |v: &str| {
            v.chars()
                .map(|c| match (c.to_ascii_lowercase(), c.to_ascii_uppercase()) {
                    (l, u) if l != u => format!("[{u}{l}]"),
                    _ => regex_literal(c),
                })
                .collect::<String>()
        };
        let words: Vec<String> = values.iter().map(|v| blind(v)).collect();
        s.insert(
            "pattern".into(),
            format!("^(?:{})$", words.join("|")).into(),
        );
    }
}

fn regex_literal(c: char) -> String {
    if c.is_ascii_alphanumeric() || c == '_' {
        c.to_string()
    } else {
        format!("\\{c}")
    }
}

/// A string of at most `max` characters.
pub fn max_chars(max: usize) -> impl FnMut(&mut Schema) {
    move |s: &mut Schema| {
        s.insert("maxLength".into(), max.into());
    }
}

/// A string of `bounds` characters.
pub fn chars(bounds: RangeInclusive<usize>) -> impl FnMut(&mut Schema) {
    move |s: &mut Schema| {
        s.insert("minLength".into(), (*bounds.start()).into());
        s.insert("maxLength".into(), (*bounds.end()).into());
    }
}

/// A vendor body: the fields lbsim models (the derived properties) and the vendor's other
/// fields, which validation notes but accepts; any other key is an error, as in validation.
pub fn vendor_body(not_modelled: &'static [&'static str]) -> impl FnMut(&mut Schema) {
    move |s: &mut Schema| {
        let props = s.ensure_object().entry("properties").or_insert(json!({}));
        if let Value::Object(props) = props {
            for name in not_modelled {
                props.entry(*name).or_insert_with(
                    || json!({"description": "A vendor field lbsim accepts but does not model."}),
                );
            }
        }
        closed(s);
    }
}

/// An object without keys other than its properties.
pub fn closed(s: &mut Schema) {
    s.insert("additionalProperties".into(), false.into());
}

/// Whether the schema admits null (an `Option` field).
fn nullable(s: &Schema) -> bool {
    match s.get("type") {
        Some(Value::Array(types)) => types.iter().any(|t| t == "null"),
        Some(t) => t == "null",
        None => false,
    }
}

/// The object holds exactly one of `names` with a non-null value (a JSON `null` is an absent
/// `Option` for serde).
pub fn exactly_one(names: &[&str]) -> Value {
    let branches: Vec<Value> = names
        .iter()
        .map(|n| json!({"required": [n], "properties": {*n: {"not": {"type": "null"}}}}))
        .collect();
    json!(branches)
}

/// The scenario file's schema: the wrapped form (`pool` or `vpc_channel` beside lbsim's
/// sections) or a bare VPC channel body.
pub fn scenario() -> Value {
    let mut root = schemars::schema_for!(Scenario).to_value();
    let defs = root
        .as_object_mut()
        .and_then(|r| r.remove("$defs"))
        .unwrap_or_default();
    let mut defs = match defs {
        Value::Object(d) => d,
        _ => Map::new(),
    };
    one_action_per_event(&mut defs);
    let Value::Object(mut wrapped) = root else {
        return Value::Null;
    };
    let mut head = Map::new();
    for key in ["$schema", "title", "description"] {
        if let Some(v) = wrapped.remove(key) {
            head.insert(key.into(), v);
        }
    }
    accept_wrapped_listener(&mut wrapped, &defs);
    let bare = bare_channel(&wrapped, &defs);
    wrapped.insert("oneOf".into(), one_pool());
    head.insert("anyOf".into(), json!([wrapped, bare]));
    head.insert("$defs".into(), Value::Object(defs));
    Value::Object(head)
}

/// Every field of an event but `at_s` is an action; an event has exactly one.
fn one_action_per_event(defs: &mut Map<String, Value>) {
    let Some(event) = defs.get_mut("Event").and_then(Value::as_object_mut) else {
        return;
    };
    let actions: Vec<&str> = event
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|p| p.keys().map(String::as_str))
        .filter(|k| *k != "at_s")
        .collect();
    let rule = exactly_one(&actions);
    event.insert("oneOf".into(), rule);
}

/// Exactly one of `pool` (an object) and `vpc_channel`, each with its dialect's rules.
fn one_pool() -> Value {
    let mut pool = dialect_rules(dialect::Dialect::Elb);
    pool["required"] = json!(["pool"]);
    pool["properties"]["pool"] = json!({"type": "object"});
    let mut channel = dialect_rules(dialect::Dialect::Apig { bare: false });
    channel["required"] = json!(["vpc_channel"]);
    channel["properties"]["vpc_channel"] = json!({"type": "object"});
    json!([pool, channel])
}

/// What differs between the dialects outside the pool body: the other dialect's front and
/// events are refused, `add_members` takes the dialect's members, and a pool's `set_weight`
/// the ELB member weight range rather than the channel's wider one.
fn dialect_rules(d: dialect::Dialect) -> Value {
    let absent = json!({"type": "null"});
    let members = |body: &str| json!({"anyOf": [{"$ref": format!("#/$defs/{body}")}, absent]});
    match d {
        dialect::Dialect::Elb => json!({"properties": {
            "api": absent,
            "events": {"items": {"properties": {
                "set_weight": {"properties": {"weight": {"maximum": *elb::MEMBER_WEIGHTS.end()}}},
                "add_members": members("ElbMembersBody"),
                "update_vpc_channel": absent
            }}}
        }}),
        dialect::Dialect::Apig { .. } => json!({"properties": {
            "listener": absent,
            "events": {"items": {"properties": {
                "add_members": members("ApigMembersBody"),
                "update_pool": absent
            }}}
        }}),
    }
}

/// `"listener": {"listener": {…}}`, the create body, besides the bare listener object: its keys
/// may also stand beside the wrapper (`--set listener.KEY=…` writes them there).
fn accept_wrapped_listener(wrapped: &mut Map<String, Value>, defs: &Map<String, Value>) {
    let Some(listener) = defs.get("Listener").and_then(Value::as_object) else {
        return;
    };
    let mut body = listener.clone();
    for key in ["title", "description"] {
        body.remove(key);
    }
    if let Some(Value::Object(props)) = body.get_mut("properties") {
        props.insert("listener".into(), json!({"$ref": "#/$defs/Listener"}));
    }
    body.insert("required".into(), json!(["listener"]));
    let alternatives = wrapped
        .get_mut("properties")
        .and_then(|p| p.get_mut("listener"))
        .and_then(|l| l.get_mut("anyOf"))
        .and_then(Value::as_array_mut);
    if let Some(alternatives) = alternatives {
        alternatives.push(Value::Object(body));
    }
}

/// A bare VPC channel body: the channel's fields at the top (at least one only a channel has),
/// beside lbsim's own sections and the front's.
fn bare_channel(wrapped: &Map<String, Value>, defs: &Map<String, Value>) -> Value {
    let mut body = defs
        .get("VpcChannel")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for key in ["title", "description"] {
        body.remove(key);
    }
    let own = wrapped.get("properties").and_then(Value::as_object);
    if let (Some(Value::Object(props)), Some(own)) = (body.get_mut("properties"), own) {
        for key in dialect::OWN_KEYS.iter().chain(dialect::FRONT_KEYS) {
            if let Some(schema) = own.get(*key) {
                props.insert((*key).into(), schema.clone());
            }
        }
    }
    let channel_keys: Vec<Value> = dialect::CHANNEL_KEYS
        .iter()
        .map(|k| json!({"required": [k]}))
        .collect();
    body.insert("anyOf".into(), channel_keys.into());
    body.insert(
        "allOf".into(),
        json!([dialect_rules(dialect::Dialect::Apig { bare: true })]),
    );
    Value::Object(body)
}
