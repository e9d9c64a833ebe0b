//! Which vendor dialect a scenario's JSON is written in, decided once from its top-level keys
//! and used by loading and by the sweep's API calls alike.

use serde_json::{Map, Value};

/// lbsim's own top-level keys; in a bare VPC channel body every other key belongs to the channel.
pub const OWN_KEYS: &[&str] = &[
    "$schema",
    "seed",
    "duration_s",
    "warmup_s",
    "description",
    "loadbalancer",
    "backends",
    "workload",
    "events",
];

/// The front's vendor bodies (an ELB listener, an APIG API): top-level sections of their own,
/// which stay beside a bare VPC channel body too.
pub const FRONT_KEYS: &[&str] = &["listener", "api"];

/// Keys that only a VPC channel body has at its top level.
pub const CHANNEL_KEYS: &[&str] = &[
    "balance_strategy",
    "member_type",
    "vpc_health_config",
    "member_groups",
    "vpc_channel_type",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// An ELB v3 `pool` (a file with both `pool` and `vpc_channel` is refused by validation).
    Elb,
    /// An APIG VPC channel: under `vpc_channel`, or the file is a bare channel body.
    Apig { bare: bool },
}

/// The dialect of a scenario's top level; `None` when it defines no pool.
pub fn detect(root: &Map<String, Value>) -> Option<Dialect> {
    if root.contains_key("pool") {
        Some(Dialect::Elb)
    } else if root.contains_key("vpc_channel") {
        Some(Dialect::Apig { bare: false })
    } else if CHANNEL_KEYS.iter().any(|k| root.contains_key(*k)) {
        Some(Dialect::Apig { bare: true })
    } else {
        None
    }
}

/// A bare channel body as a scenario: lbsim's own keys and the front's stay at the top, the
/// rest moves under `vpc_channel`.
pub fn wrap_bare_channel(mut root: Map<String, Value>) -> Map<String, Value> {
    let mut wrapped = Map::new();
    for key in OWN_KEYS.iter().chain(FRONT_KEYS) {
        if let Some(v) = root.remove(*key) {
            wrapped.insert((*key).to_string(), v);
        }
    }
    wrapped.insert("vpc_channel".into(), Value::Object(root));
    wrapped
}
