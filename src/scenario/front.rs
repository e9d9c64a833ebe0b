//! What stands in front of the pool: the ELB `listener` or the APIG `api`, whichever the
//! dialect has. The wrapped listener body is unwrapped, the other dialect's section refused,
//! the workload's request methods checked against the front, and the front lowered with the
//! load balancer's own settings.

use super::diag::{Code, Findings};
use super::sections::Workload;
use super::valid::{PoolDef, ValidScenario};
use super::{apig, elb};
use crate::sim::{FrontConfig, Method, Undrained};
use crate::time::SimTime;
use serde_json::{Map, Value};

/// `"listener": {"listener": {…}}` (the create body as the API takes it) becomes the inner
/// object (see [`listener_object`]); findings name every key where the file has it.
pub fn unwrap_listener(root: &mut Map<String, Value>, f: &mut Findings) {
    let Some(section) = root.get_mut("listener") else {
        return;
    };
    match section.get("listener") {
        None => return,
        Some(Value::Object(inner)) => {
            for key in inner.keys().filter(|k| section.get(k.as_str()).is_none()) {
                f.rename(
                    &format!("listener.{key}"),
                    &format!("listener.listener.{key}"),
                );
            }
        }
        Some(_) => {
            let rule = "must be a JSON object (the listener body)";
            f.error("listener.listener", "", rule, Code::NONE);
        }
    }
    let merged = listener_object(section);
    *section = Value::Object(merged);
}

/// The listener body a `listener` section holds: the bare object, or the wrapped body's keys
/// replaced by any beside the wrapper (as `--set listener.KEY=…` writes them).
pub fn listener_object(section: &Value) -> Map<String, Value> {
    let mut outer = section.as_object().cloned().unwrap_or_default();
    match outer.remove("listener") {
        Some(Value::Object(mut inner)) => {
            inner.extend(outer);
            inner
        }
        _ => outer,
    }
}

/// The front's rules: the section of the pool's dialect, checked against the pool, and the
/// workload's methods against the front.
pub fn validate(
    listener: Option<&elb::Listener>,
    api: Option<&apig::Api>,
    pool: Option<&PoolDef>,
    workload: Option<&Workload>,
    f: &mut Findings,
) {
    let methods = workload.and_then(|w| w.methods.as_ref());
    match pool {
        Some(PoolDef::Elb(pool)) => {
            if api.is_some() {
                let rule = "is an APIG API definition: an ELB pool's front is `listener`";
                f.error("api", "", rule, Code::NONE);
            }
            if let Some(l) = listener {
                l.validate("listener", pool.protocol(), pool.ip_version.as_deref(), f);
            }
            let protocol = elb::protocol_of(listener, pool.protocol());
            if methods.is_some() && !elb::is_l7(protocol) {
                let rule = format!(
                    "has no effect: a {protocol} listener forwards connections, not HTTP requests"
                );
                f.warn("workload.methods", "", rule);
            }
        }
        Some(PoolDef::Apig(channel)) => {
            if listener.is_some() {
                let rule = "is an ELB listener: a VPC channel's front is `api` (the API's backend definition)";
                f.error("listener", "", rule, Code::NONE);
            }
            let Some(api) = api else { return };
            api.validate("api", apig::enabled_members(channel), f);
            let fixed = api.method();
            let others: Vec<&str> = methods
                .into_iter()
                .flat_map(|m| m.keys())
                .map(String::as_str)
                .filter(|m| fixed.is_some_and(|fixed| fixed != *m))
                .collect();
            if let (Some(fixed), false) = (fixed, others.is_empty()) {
                let rule = format!(
                    "names {}, but the API's members are called with {fixed} only; simulated as written",
                    others.join(", ")
                );
                f.warn("workload.methods", "", rule);
            }
        }
        None => {}
    }
}

/// The front as the engine's config, with the load balancer's forwarding latency and
/// undrained connections.
pub fn lower(s: &ValidScenario) -> FrontConfig {
    let front = match &s.pool {
        PoolDef::Elb(pool) => elb::lower_listener(s.listener.as_ref(), pool.protocol()),
        PoolDef::Apig(_) => apig::lower_api(s.api.as_ref()),
    };
    let lb = &s.loadbalancer;
    FrontConfig {
        forwarding_latency: lb
            .forwarding_latency_ms
            .map_or(front.forwarding_latency, |ms| {
                SimTime::from_secs_f64(ms / 1000.0)
            }),
        undrained: match lb.undrained_connections.as_deref() {
            Some("idle_timeout") => Undrained::UntilIdle,
            _ => Undrained::Cut,
        },
        ..front
    }
}

/// The request methods and their shares, in [`Method::ALL`] order: the workload's, else the
/// one method an APIG API fixes; empty (every request a GET) otherwise.
pub fn methods(s: &ValidScenario) -> Vec<(Method, f64)> {
    if let Some(m) = &s.workload.methods {
        return Method::ALL
            .into_iter()
            .filter_map(|method| Some((method, *m.get(method.as_str())?)))
            .collect();
    }
    let fixed = match &s.pool {
        PoolDef::Apig(_) => s.api.as_ref().and_then(apig::Api::method),
        PoolDef::Elb(_) => None,
    };
    match fixed.and_then(Method::parse) {
        Some(m) if m != Method::Get => vec![(m, 1.0)],
        _ => Vec::new(),
    }
}

/// The port clients connect to when the listener names one (`protocol_port` 0 listens on
/// port ranges: the caller's default applies).
pub fn listener_port(s: &ValidScenario) -> Option<u16> {
    let port = s.listener.as_ref()?.protocol_port?;
    u16::try_from(port).ok().filter(|p| *p > 0)
}
