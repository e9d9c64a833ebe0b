//! Scenario files: parsing, validation and lowering.
//!
//! A scenario is one JSON file holding exactly one pool definition in the vendor's own shape —
//! an ELB v3 `pool` or an APIG `vpc_channel` (or a bare VPC channel body) — plus lbsim's own
//! sections. Loading never panics: every problem becomes a [`Finding`] naming the file, the
//! JSON path, the value and the rule, and all findings of a file are reported together.

pub mod apig;
mod diag;
pub mod elb;
mod fields;
mod lower;
pub mod patch;
pub mod sections;
pub mod simulate;
mod strict;
mod suggest;
pub mod trace;

pub use diag::{Finding, Severity};
pub use lower::{lower_pool, member_keys};

use diag::{Code, Findings};
use fields::Seg;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};
use trace::TraceRow;

/// The top level of a scenario file.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
pub struct Scenario {
    /// Default: the file name without extension (or the VPC channel name of a bare body).
    pub name: Option<String>,
    pub description: Option<String>,
    /// RNG seed (default 1).
    pub seed: Option<u64>,
    /// Simulated seconds (default 60).
    pub duration_s: Option<f64>,
    /// Seconds excluded from metrics at the start (default 0).
    pub warmup_s: Option<f64>,
    /// An ELB v3 backend server group.
    pub pool: Option<elb::Pool>,
    /// An APIG / ROMA VPC channel.
    pub vpc_channel: Option<apig::VpcChannel>,
    pub loadbalancer: Option<sections::LoadBalancer>,
    pub backends: Option<sections::Backends>,
    pub workload: Option<sections::Workload>,
    pub events: Option<Vec<sections::Event>>,
}

/// lbsim's own top-level keys; in a bare VPC channel body every other key belongs to the channel.
pub const OWN_KEYS: &[&str] = &[
    "seed",
    "duration_s",
    "warmup_s",
    "description",
    "loadbalancer",
    "backends",
    "workload",
    "events",
];

/// Keys that only a VPC channel body has at its top level.
const CHANNEL_KEYS: &[&str] = &[
    "balance_strategy",
    "member_type",
    "vpc_health_config",
    "member_groups",
    "vpc_channel_type",
];

pub const DEFAULT_DURATION_S: f64 = 60.0;
/// The longest run a scenario may ask for (one simulated week).
pub const MAX_DURATION_S: f64 = 7.0 * 86_400.0;
/// The most members a pool may have (including members added by events).
pub const MAX_MEMBERS: usize = 100_000;
/// The most timeline events a scenario may hold.
pub const MAX_EVENTS: usize = 100_000;

/// A scenario that parsed; `findings` holds its warnings and notes (and errors, if any).
#[derive(Debug)]
pub struct Loaded {
    pub scenario: Scenario,
    pub findings: Vec<Finding>,
}

impl Loaded {
    pub fn is_valid(&self) -> bool {
        !self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// Reads, parses and validates a scenario file. `Err` holds findings when the file could not be
/// read or parsed at all; `Ok` holds the scenario with every finding of validation.
/// `sets` are `--set` changes applied to the file's JSON before validation.
pub fn load(path: &Path, sets: &[patch::Setting]) -> Result<Loaded, Vec<Finding>> {
    let file = path.display().to_string();
    let fail = |rule: String| {
        let mut f = Findings::new(&file);
        f.error("", "", rule, Code::NONE);
        f.items
    };
    if path.is_dir() {
        return Err(fail("is a directory, not a scenario file".into()));
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(fail("no such file".into()))
        }
        Err(e) => return Err(fail(format!("cannot be read: {e}"))),
    };
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t,
        Err(e) => {
            return Err(fail(format!(
                "is not UTF-8 text (invalid byte at offset {})",
                e.valid_up_to()
            )))
        }
    };
    let default_name = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    let mut loaded = parse(&file, text, default_name, sets)?;
    if let Some(trace) = trace_path(&loaded, path.parent().unwrap_or(Path::new("."))) {
        attach_trace(&mut loaded, &file, trace::read(&trace));
    }
    Ok(loaded)
}

/// The trace file the scenario replays (`workload.arrivals.trace`), relative to `dir`, the
/// directory of the scenario file.
pub fn trace_path(loaded: &Loaded, dir: &Path) -> Option<PathBuf> {
    let arrivals = loaded.scenario.workload.as_ref()?.arrivals.as_ref()?;
    arrivals.trace.as_ref().map(|name| dir.join(name))
}

/// Gives the scenario the rows of its trace (as [`trace::read`] returned them), adding the
/// trace's problems to the scenario's findings.
pub fn attach_trace(loaded: &mut Loaded, file: &str, rows: Result<Vec<TraceRow>, Vec<Finding>>) {
    let rows = match rows {
        Ok(rows) => rows,
        Err(findings) => return loaded.findings.extend(findings),
    };
    let Some(workload) = loaded.scenario.workload.as_mut() else {
        return;
    };
    let count = workload.clients.as_ref().and_then(|c| c.count);
    let largest = rows.iter().map(|r| r.client).max().unwrap_or(0);
    if let Some(n) = count.filter(|n| u64::from(largest) >= *n) {
        let mut f = Findings::new(file);
        let rule = format!("is too small for the trace's client id {largest} (ids start at 0)");
        f.error("workload.clients.count", n, rule, Code::NONE);
        loaded.findings.extend(f.items);
    }
    if let Some(arrivals) = workload.arrivals.as_mut() {
        arrivals.trace_rows = rows;
    }
}

/// Parses and validates scenario text; `file` names it in findings.
pub fn parse(
    file: &str,
    text: &str,
    default_name: Option<String>,
    sets: &[patch::Setting],
) -> Result<Loaded, Vec<Finding>> {
    let mut f = Findings::new(file);
    // A UTF-8 byte-order mark is legal at the start of a JSON file written by some editors.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        f.error("", "", "is empty: a scenario is a JSON object", Code::NONE);
        return Err(f.items);
    }
    let mut value: Value = match strict::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let what = e.to_string();
            let what = what.split(" at line ").next().unwrap_or(&what).to_string();
            let rule = format!(
                "line {} column {}: malformed JSON: {what}",
                e.line(),
                e.column()
            );
            f.error("", "", rule, Code::NONE);
            return Err(f.items);
        }
    };
    for set in sets {
        if let Err(why) = patch::apply(&mut value, &set.path, set.value.clone()) {
            f.error("", "", format!("--set: {why}"), Code::NONE);
        }
    }
    if f.has_errors() {
        return Err(f.items);
    }
    let Value::Object(mut root) = value else {
        f.error(
            "",
            "",
            "must be a JSON object (a scenario or an API request body)",
            Code::NONE,
        );
        return Err(f.items);
    };
    let bare_channel = !root.contains_key("pool")
        && !root.contains_key("vpc_channel")
        && CHANNEL_KEYS.iter().any(|k| root.contains_key(*k));
    if bare_channel {
        let mut wrapped = serde_json::Map::new();
        for key in OWN_KEYS {
            if let Some(v) = root.remove(*key) {
                wrapped.insert((*key).to_string(), v);
            }
        }
        wrapped.insert("vpc_channel".into(), Value::Object(root));
        root = wrapped;
        f.strip_prefix("vpc_channel");
    }
    let Some(mut scenario) = deserialize::<Scenario>(Value::Object(root), &[], &mut f) else {
        return Err(f.items);
    };
    if scenario.name.is_none() {
        scenario.name = if bare_channel {
            scenario.vpc_channel.as_ref().and_then(|c| c.name.clone())
        } else {
            None
        }
        .or(default_name);
    }
    validate(&scenario, &mut f);
    Ok(Loaded {
        scenario,
        findings: f.items,
    })
}

/// Deserializes `value` (found at canonical path `at`) into `T`, recording type errors and
/// classifying every key serde skipped. `None` when the value has the wrong shape.
fn deserialize<T: DeserializeOwned>(value: Value, at: &[Seg], f: &mut Findings) -> Option<T> {
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

/// Members the file defines, added members included (before any validation).
fn defined_members(s: &Scenario) -> usize {
    let base = match (&s.pool, &s.vpc_channel) {
        (Some(p), _) => p.members.as_ref().map_or(0, Vec::len),
        (None, Some(c)) => c.members.as_ref().map_or(0, Vec::len),
        (None, None) => 0,
    };
    let added = s.events.iter().flatten().map(|e| {
        let body = e.add_members.as_ref().or(e.update_vpc_channel.as_ref());
        body.and_then(|b| b.get("members"))
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
    });
    added.fold(base, usize::saturating_add)
}

fn validate(s: &Scenario, f: &mut Findings) {
    // Size limits first: every later check may be linear in members × events.
    let members = defined_members(s);
    let events = s.events.as_ref().map_or(0, Vec::len);
    if members > MAX_MEMBERS {
        let rule = format!("members (including added ones) exceed the limit of {MAX_MEMBERS}");
        f.error("", members as u64, rule, Code::NONE);
    }
    if events > MAX_EVENTS {
        let rule = format!("events exceed the limit of {MAX_EVENTS}");
        f.error("events", events as u64, rule, Code::NONE);
    }
    if f.has_errors() {
        return;
    }
    match (&s.pool, &s.vpc_channel) {
        (Some(_), Some(_)) => f.error("", "", "has both `pool` and `vpc_channel`: a scenario defines exactly one pool", Code::NONE),
        (None, None) => f.error("", "", "has no pool definition: add `pool` (an ELB v3 pool body) or `vpc_channel` (an APIG VPC channel body)", Code::NONE),
        _ => {}
    }
    if let Some(pool) = &s.pool {
        pool.validate("pool", f);
    }
    if let Some(channel) = &s.vpc_channel {
        channel.validate("vpc_channel", f);
    }
    let keys = member_keys(s);
    if keys.is_empty() && (s.pool.is_some() || s.vpc_channel.is_some()) {
        let at = if s.pool.is_some() {
            "pool.members"
        } else {
            "vpc_channel.members"
        };
        f.warn(
            at,
            "",
            "has no members: the pool validates, but `lbsim run` needs members to simulate",
        );
    }
    let duration = s.duration_s.unwrap_or(DEFAULT_DURATION_S);
    if let Some(d) = s.duration_s {
        if !(d.is_finite() && d > 0.0 && d <= MAX_DURATION_S) {
            f.error(
                "duration_s",
                d,
                format!("is outside (0, {MAX_DURATION_S}] seconds"),
                Code::NONE,
            );
        }
    }
    if let Some(w) = s.warmup_s {
        if !(w.is_finite() && w >= 0.0 && w < duration) {
            f.error(
                "warmup_s",
                w,
                format!("must be at least 0 and below duration_s {duration}"),
                Code::NONE,
            );
        }
    }
    if let Some(lb) = &s.loadbalancer {
        lb.validate(f);
    }
    if let Some(b) = &s.backends {
        b.validate(&keys, f);
    }
    if let Some(w) = &s.workload {
        w.validate(f);
    }
    validate_events(s, &keys, duration, f);
}

fn validate_events(s: &Scenario, keys: &[String], duration: f64, f: &mut Findings) {
    let events = s.events.as_deref().unwrap_or_default();
    let mut known: Vec<String> = keys.to_vec();
    // membership checks on a set: events × members stays fast for large pools
    let mut known_set: std::collections::BTreeSet<String> = keys.iter().cloned().collect();
    let zones = lower::zone_names(s);
    for (i, e) in events.iter().enumerate() {
        let p = format!("events[{i}]");
        match e.at_s {
            None => f.missing(&format!("{p}.at_s"), "", Code::NONE),
            Some(t) if !(t.is_finite() && t >= 0.0) => f.error(
                &format!("{p}.at_s"),
                t,
                "must be a finite time at or after 0",
                Code::NONE,
            ),
            Some(t) if t > duration => f.warn(
                &format!("{p}.at_s"),
                t,
                format!("is after the end of the run ({duration} s); the event never happens"),
            ),
            _ => {}
        }
        let actions = e.actions();
        if actions.len() != 1 {
            let rule = if actions.is_empty() {
                "has no action: add one of member_down, member_up, member_slow, az_down, az_up, set_weight, add_members, remove_member, update_pool, update_vpc_channel, set_rate".to_string()
            } else {
                format!(
                    "has {} actions ({}); give exactly one per event",
                    actions.len(),
                    actions.join(", ")
                )
            };
            f.error(&p, "", rule, Code::NONE);
        }
        let member_refs = [
            ("member_down", e.member_down.as_ref()),
            ("member_up", e.member_up.as_ref()),
            (
                "member_slow.member",
                e.member_slow.as_ref().map(|m| &m.member),
            ),
            (
                "set_weight.member",
                e.set_weight.as_ref().map(|m| &m.member),
            ),
            ("remove_member", e.remove_member.as_ref()),
        ];
        for (field, key) in member_refs {
            if let Some(key) = key {
                if !known_set.contains(key) {
                    let mut rule = String::from("names no member of the pool");
                    if let Some(sg) = suggest::closest(key, known.iter().map(String::as_str)) {
                        rule.push_str(&format!(" (did you mean {sg}?)"));
                    }
                    f.error(&format!("{p}.{field}"), key, rule, Code::NONE);
                }
            }
        }
        for (field, zone) in [("az_down", &e.az_down), ("az_up", &e.az_up)] {
            if let Some(z) = zone {
                if !zones.contains(z) {
                    f.error(
                        &format!("{p}.{field}"),
                        z,
                        format!("is not an AZ of this scenario ({})", zones.join(", ")),
                        Code::NONE,
                    );
                }
            }
        }
        if let Some(m) = &e.member_slow {
            sections::positive(f, &format!("{p}.member_slow.factor"), Some(m.factor));
        }
        if let Some(w) = &e.set_weight {
            let max = if s.vpc_channel.is_some() { 10000 } else { 100 };
            f.range(
                &format!("{p}.set_weight.weight"),
                w.weight,
                0,
                max,
                "",
                Code::NONE,
            );
        }
        sections::positive(f, &format!("{p}.set_rate"), e.set_rate);
        if let Some(body) = &e.add_members {
            let added = validate_add_members(s, body, &format!("{p}.add_members"), f);
            known_set.extend(added.iter().cloned());
            known.extend(added);
        }
        if e.remove_member.is_some()
            && s.pool
                .as_ref()
                .and_then(|p| p.member_deletion_protection_enable)
                == Some(true)
        {
            f.warn(
                &format!("{p}.remove_member"),
                "",
                "will be refused: the pool has member_deletion_protection_enable",
            );
        }
        if let Some(body) = &e.update_pool {
            validate_update_pool(s, body, &format!("{p}.update_pool"), f);
        }
        if let Some(body) = &e.update_vpc_channel {
            let at = format!("{p}.update_vpc_channel");
            if s.vpc_channel.is_none() {
                f.error(
                    &at,
                    "",
                    "applies only to a vpc_channel scenario",
                    Code::NONE,
                );
            }
            let canon = [Seg::Key("vpc_channel".into())];
            if let Some(ch) = deserialize_at::<apig::VpcChannel>(body, &at, &canon, f) {
                ch.validate(&at, f);
            }
        }
    }
}

/// Deserializes an embedded API body (an event payload): findings are reported under `at`, and
/// skipped keys classified as if the body stood at canonical path `canon`.
fn deserialize_at<T: DeserializeOwned>(
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

#[derive(Deserialize)]
struct PoolBody {
    pool: elb::Pool,
}

#[derive(Deserialize)]
struct ElbMembersBody {
    members: Vec<elb::Member>,
}

#[derive(Deserialize)]
struct ApigMembersBody {
    members: Vec<apig::VpcMember>,
}

/// Seed 000: the `PUT …/pools/{id}` body, `{"pool": {…}}`; the pool's protocol carries over.
fn validate_update_pool(s: &Scenario, body: &Value, at: &str, f: &mut Findings) {
    let Some(base) = &s.pool else {
        f.error(at, "", "applies only to a pool scenario", Code::NONE);
        return;
    };
    // a field the update API does not take (a health monitor, members, the protocol) has its
    // own API or is fixed at creation: the run keeps the pool's own
    for key in body
        .get("pool")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|o| o.keys())
        .filter(|k| !elb::POOL_PUT_FIELDS.contains(&k.as_str()))
    {
        f.warn(
            &format!("{at}.pool.{key}"),
            "",
            "is not a field of the pool update (seed 000 UpdatePoolOption); the run ignores it",
        );
    }
    if let Some(update) = deserialize_at::<PoolBody>(body, at, &[], f) {
        let merged = lower::apply_pool_update(base, &update.pool);
        let mut sub = Findings::new("");
        merged.validate("pool", &mut sub);
        for item in sub
            .items
            .into_iter()
            .filter(|i| i.severity == Severity::Error)
        {
            let path = item.path.replacen("pool", &format!("{at}.pool"), 1);
            f.push(item.severity, &path, item.value, item.rule, item.code);
        }
    }
}

/// Seed 004: `{"members": [...]}`; returns the keys of the members it adds.
fn validate_add_members(s: &Scenario, body: &Value, at: &str, f: &mut Findings) -> Vec<String> {
    let members_at = |i: usize| format!("{at}.members[{i}]");
    if let Some(pool) = &s.pool {
        let canon = [Seg::Key("pool".into())];
        let Some(b) = deserialize_at::<ElbMembersBody>(body, at, &canon, f) else {
            return Vec::new();
        };
        let mut merged = pool.clone();
        let start = merged.members.as_ref().map_or(0, Vec::len);
        merged
            .members
            .get_or_insert_with(Vec::new)
            .extend(b.members);
        let mut sub = Findings::new("");
        merged.validate("pool", &mut sub);
        let prefix = "pool.members[";
        for item in sub
            .items
            .into_iter()
            .filter(|i| i.severity == Severity::Error)
        {
            if let Some(rest) = item.path.strip_prefix(prefix) {
                let (idx, tail) = rest.split_once(']').unwrap_or((rest, ""));
                if let Ok(i) = idx.parse::<usize>() {
                    if i >= start {
                        f.push(
                            item.severity,
                            &format!("{}{tail}", members_at(i - start)),
                            item.value,
                            item.rule,
                            item.code,
                        );
                    }
                }
            }
        }
        // Members without an address have no key, so the added keys follow the pool's own keys
        // (not its member objects).
        let before = lower::elb_member_keys(pool.members.as_deref().unwrap_or_default()).len();
        let keys = lower::elb_member_keys(merged.members.as_deref().unwrap_or_default());
        keys.get(before..).unwrap_or_default().to_vec()
    } else if let Some(channel) = &s.vpc_channel {
        let canon = [Seg::Key("vpc_channel".into())];
        let Some(b) = deserialize_at::<ApigMembersBody>(body, at, &canon, f) else {
            return Vec::new();
        };
        let groups = channel.member_groups.as_deref().unwrap_or_default();
        let ecs = channel.member_type.as_deref() == Some("ecs");
        for (i, m) in b.members.iter().enumerate() {
            m.validate(&members_at(i), ecs, groups, f);
        }
        let mut all = channel.members.clone().unwrap_or_default();
        // duplicates and members without an address have no key of their own
        let before = lower::apig_member_keys(&all).len();
        all.extend(b.members);
        lower::apig_member_keys(&all)
            .get(before..)
            .unwrap_or_default()
            .to_vec()
    } else {
        Vec::new()
    }
}

/// A JSON Schema of the scenario format, for editors.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Scenario);
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}
