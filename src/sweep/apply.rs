//! The best point as the vendor API calls that apply it: what operators paste into their
//! tooling. Works on the scenario's JSON (base vs. base with the point's settings), so a body
//! carries the fields exactly as the vendor spells them.
//!
//! ELB (seed 000): the pool's own fields go in `PUT /v3/{project_id}/elb/pools/{pool_id}`,
//! the health monitor in `PUT /v3/{project_id}/elb/healthmonitors/{healthmonitor_id}`, a
//! member's weight in `PUT …/pools/{pool_id}/members/{member_id}`, the listener's fields in
//! `PUT /v3/{project_id}/elb/listeners/{listener_id}`. APIG (seed 003): the VPC channel update
//! overwrites the member list, so its body carries the whole channel; an API update carries
//! the whole API definition.

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::plan::Plan;
use crate::pipeline::{self, Source};
use crate::scenario::dialect::{self, Dialect, OWN_KEYS};
use crate::scenario::elb::{LISTENER_PUT_FIELDS, POOL_PUT_FIELDS};
use crate::scenario::{listener_object, patch, Finding, Severity};

/// Fields a member update body may carry (ELB v3 "Updating a Backend Server").
const MEMBER_PUT_FIELDS: &[&str] = &["admin_state_up", "name", "weight"];

/// One API call.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ApiCall {
    /// What the call changes, for people: `pool`, `health monitor`, `member web-a (10.0.0.1:80)`.
    pub resource: String,
    pub method: &'static str,
    /// The vendor's URI template; `{…}` are the caller's IDs.
    pub path: String,
    pub body: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Recommendation {
    pub point: usize,
    pub calls: Vec<ApiCall>,
    /// Settings of the best point that describe the simulation, not the pool (workload,
    /// backends, events): no API call applies them.
    pub simulation_only: Vec<String>,
    /// Pool changes no update call can make (e.g. a different member list on ELB).
    pub notes: Vec<String>,
}

fn parse_base(plan: &Plan) -> Value {
    serde_json::from_str(&plan.base_text).unwrap_or(Value::Null)
}

/// The scenario's JSON with `point`'s settings applied.
pub(super) fn variant(plan: &Plan, point: usize) -> Value {
    let mut v = parse_base(plan);
    for s in plan.settings(point) {
        // the plan validated every point, so every path applies
        let _ = patch::apply(&mut v, &s.path, s.value);
    }
    v
}

/// How many of `point`'s settings change the base scenario: a value equal to the base's own
/// changes nothing (the tie rule prefers points that change least).
pub fn changed_settings(plan: &Plan, point: usize) -> usize {
    let base = parse_base(plan);
    plan.settings(point)
        .into_iter()
        .filter(|s| {
            let mut v = base.clone();
            let _ = patch::apply(&mut v, &s.path, s.value.clone());
            v != base
        })
        .count()
}

/// The VPC channel body inside a scenario (`vpc_channel`, or a bare body without lbsim's own
/// keys), found by the dialect detection loading uses; `None` for an ELB pool.
fn channel(root: &Value) -> Option<Value> {
    let obj = root.as_object()?;
    match dialect::detect(obj)? {
        Dialect::Elb => None,
        Dialect::Apig { bare: false } => obj.get("vpc_channel").cloned(),
        Dialect::Apig { bare: true } => {
            let wrapped = dialect::wrap_bare_channel(obj.clone());
            wrapped.get("vpc_channel").cloned()
        }
    }
}

fn is_pool_path(path: &str) -> bool {
    let top = path.split(['.', '[']).next().unwrap_or("");
    !OWN_KEYS.contains(&top)
}

/// The calls that turn the base into `point`.
pub fn recommend(plan: &Plan, point: usize) -> Recommendation {
    let (base, best) = (parse_base(plan), variant(plan, point));
    let simulation_only = plan.points[point]
        .iter()
        .flat_map(|coords| coords.iter().zip(&plan.axes))
        .filter(|(_, a)| !is_pool_path(&a.path))
        .map(|(&c, a)| match a.path == a.name {
            true => format!("{} = {}", a.path, a.labels[c]),
            false => format!("{} = {} ({})", a.name, a.labels[c], a.path),
        })
        .collect();
    let mut calls = Vec::new();
    let mut notes = Vec::new();
    if let (Some(a), Some(b)) = (channel(&base), channel(&best)) {
        if a != b {
            let mut body = b;
            for m in body["members"].as_array_mut().into_iter().flatten() {
                if let Some(m) = m.as_object_mut() {
                    // lbsim's simulation-side field, not the vendor's
                    m.remove("availability_zone");
                }
            }
            calls.push(ApiCall {
                resource: "VPC channel".into(),
                method: "PUT",
                path:
                    "/v2/{project_id}/apigw/instances/{instance_id}/vpc-channels/{vpc_channel_id}"
                        .into(),
                body,
            });
        }
    } else {
        elb_calls(&base["pool"], &best["pool"], &mut calls, &mut notes);
    }
    front_calls(&base, &best, &mut calls, &mut notes);
    Recommendation {
        point,
        calls,
        simulation_only,
        notes,
    }
}

fn elb_calls(base: &Value, best: &Value, calls: &mut Vec<ApiCall>, notes: &mut Vec<String>) {
    let empty = Map::new();
    let (a, b) = (
        base.as_object().unwrap_or(&empty),
        best.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut pool = Map::new();
    for key in keys {
        let (old, new) = (a.get(key), b.get(key));
        if old == new {
            continue;
        }
        let new = new.cloned().unwrap_or(Value::Null);
        match key.as_str() {
            "healthmonitor" if old.is_some() => calls.push(ApiCall {
                resource: "health monitor".into(),
                method: "PUT",
                path: "/v3/{project_id}/elb/healthmonitors/{healthmonitor_id}".into(),
                body: json!({ "healthmonitor": new }),
            }),
            "healthmonitor" => {
                let mut hm = new;
                if let Some(o) = hm.as_object_mut() {
                    o.insert("pool_id".into(), json!("{pool_id}"));
                }
                calls.push(ApiCall {
                    resource: "health monitor (new)".into(),
                    method: "POST",
                    path: "/v3/{project_id}/elb/healthmonitors".into(),
                    body: json!({ "healthmonitor": hm }),
                });
            }
            "members" => member_calls(old, &new, calls, notes),
            k if POOL_PUT_FIELDS.contains(&k) => {
                pool.insert(k.to_string(), new);
            }
            k => notes.push(format!(
                "pool.{k} changes, but a pool update cannot change it: recreate the pool"
            )),
        }
    }
    if !pool.is_empty() {
        calls.insert(
            0,
            ApiCall {
                resource: "pool".into(),
                method: "PUT",
                path: "/v3/{project_id}/elb/pools/{pool_id}".into(),
                body: json!({ "pool": pool }),
            },
        );
    }
}

/// The listener's changed fields in its update body (fields the update cannot change are
/// notes); a changed API in its update body, the whole definition.
fn front_calls(base: &Value, best: &Value, calls: &mut Vec<ApiCall>, notes: &mut Vec<String>) {
    let (a, b) = (
        listener_object(&base["listener"]),
        listener_object(&best["listener"]),
    );
    let mut keys: Vec<&String> = a
        .keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .collect();
    keys.sort();
    keys.dedup();
    let mut listener = Map::new();
    for key in keys {
        match LISTENER_PUT_FIELDS.contains(&key.as_str()) {
            true => {
                listener.insert(key.clone(), b.get(key).cloned().unwrap_or(Value::Null));
            }
            false => notes.push(format!(
                "listener.{key} changes, but a listener update cannot change it: recreate the listener"
            )),
        }
    }
    if !listener.is_empty() {
        calls.push(ApiCall {
            resource: "listener".into(),
            method: "PUT",
            path: "/v3/{project_id}/elb/listeners/{listener_id}".into(),
            body: json!({ "listener": listener }),
        });
    }
    if base.get("api") != best.get("api") {
        let api = best.get("api").cloned().unwrap_or(Value::Null);
        if api.get("name").is_none() {
            notes.push("the API update body carries the whole API definition: merge the recommended backend_api into the API as it is".into());
        }
        calls.push(ApiCall {
            resource: "API".into(),
            method: "PUT",
            path: "/v2/{project_id}/apigw/instances/{instance_id}/apis/{api_id}".into(),
            body: api,
        });
    }
}

fn member_calls(
    old: Option<&Value>,
    new: &Value,
    calls: &mut Vec<ApiCall>,
    notes: &mut Vec<String>,
) {
    let none = Vec::new();
    let old = old.and_then(Value::as_array).unwrap_or(&none);
    let new = new.as_array().unwrap_or(&none);
    if old.len() != new.len() {
        notes.push(format!(
            "the member list changes from {} to {} members: add or remove members with the member APIs",
            old.len(),
            new.len()
        ));
        return;
    }
    for (o, n) in old.iter().zip(new) {
        let (Some(o), Some(n)) = (o.as_object(), n.as_object()) else {
            continue;
        };
        let changed: Vec<&String> = o
            .keys()
            .chain(n.keys())
            .filter(|k| o.get(*k) != n.get(*k))
            .collect();
        let who = format!(
            "member {} ({}:{})",
            n.get("name").and_then(Value::as_str).unwrap_or("-"),
            n.get("address").and_then(Value::as_str).unwrap_or("?"),
            n.get("protocol_port").map_or("?".into(), Value::to_string),
        );
        let body: Map<String, Value> = changed
            .iter()
            .filter(|k| MEMBER_PUT_FIELDS.contains(&k.as_str()))
            .map(|k| ((*k).clone(), n.get(*k).cloned().unwrap_or(Value::Null)))
            .collect();
        for k in changed
            .iter()
            .filter(|k| !MEMBER_PUT_FIELDS.contains(&k.as_str()))
        {
            notes.push(format!(
                "{who}: {k} changes, but a member update cannot change it"
            ));
        }
        if !body.is_empty() {
            calls.push(ApiCall {
                resource: who,
                method: "PUT",
                path: "/v3/{project_id}/elb/pools/{pool_id}/members/{member_id}".into(),
                body: json!({ "member": body }),
            });
        }
    }
}

/// Errors lbsim's validator finds in a call's body, checked the way the vendor checks it: a
/// pool, monitor or member body against the pool's protocol (an update cannot change it), a
/// member body with the member's address; a listener body with the listener's protocol before
/// the pool; an API body before the channel; a VPC channel body as it stands. Empty = valid.
pub fn validate(plan: &Plan, call: &ApiCall) -> Vec<Finding> {
    let base = parse_base(plan);
    let protocol = base["pool"]["protocol"].clone();
    let scenario_json = if let Some(listener) = call.body.get("listener") {
        let mut l = listener.clone();
        let given = listener_object(&base["listener"]);
        if let (Some(p), Some(l)) = (given.get("protocol"), l.as_object_mut()) {
            l.insert("protocol".into(), p.clone());
        }
        json!({ "pool": base["pool"], "listener": l })
    } else if call.path.ends_with("/apis/{api_id}") {
        json!({ "vpc_channel": channel(&base), "api": call.body })
    } else if let Some(pool) = call.body.get("pool") {
        let mut p = pool.clone();
        p["protocol"] = protocol;
        json!({ "pool": p })
    } else if let Some(hm) = call.body.get("healthmonitor") {
        let mut hm = hm.clone();
        if let Some(o) = hm.as_object_mut() {
            o.remove("pool_id");
        }
        json!({ "pool": { "protocol": protocol, "healthmonitor": hm } })
    } else if let Some(m) = call.body.get("member") {
        // the member this call addresses, by its address in the resource name
        let mut member = base["pool"]["members"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|b| {
                call.resource
                    .contains(&format!("({}:", b["address"].as_str().unwrap_or("?")))
            })
            .cloned()
            .unwrap_or(Value::Null);
        for (k, v) in m.as_object().into_iter().flatten() {
            member[k] = v.clone();
        }
        let mut pool = json!({ "protocol": protocol, "members": [member] });
        if let Some(any) = base["pool"].get("any_port_enable") {
            pool["any_port_enable"] = any.clone();
        }
        json!({ "pool": pool })
    } else {
        call.body.clone()
    };
    let file = format!("{} {}", call.method, call.path);
    let text = scenario_json.to_string();
    let source = Source::Text {
        file: &file,
        text: &text,
        trace: None,
    };
    pipeline::validate(&source, &[])
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .collect()
}
