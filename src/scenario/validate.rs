//! Validation of a whole scenario: size limits first, then the pool in its dialect, lbsim's
//! own sections and the timeline. Every finding is collected; a scenario without errors
//! becomes a [`ValidScenario`].

use super::diag::{Code, Findings};
use super::valid::{PoolDef, ValidScenario};
use super::{
    events, front, keys, Scenario, DEFAULT_DURATION_S, MAX_DURATION_S, MAX_EVENTS, MAX_MEMBERS,
};
use crate::text::number;
use serde_json::Value;

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

pub fn validate(mut s: Scenario, f: &mut Findings) -> Option<ValidScenario> {
    // Size limits first: every later check may be linear in members × events.
    let members = defined_members(&s);
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
        return None;
    }
    let pool = pool_def(s.pool.take(), s.vpc_channel.take(), f);
    let keys = pool.as_ref().map(PoolDef::member_keys).unwrap_or_default();
    let given_lb = s.loadbalancer.take();
    let lb = given_lb.clone().unwrap_or_default();
    let member_zones = pool.as_ref().map(PoolDef::member_zones).unwrap_or_default();
    let zones = keys::zone_names(
        lb.availability_zones.as_deref().unwrap_or_default(),
        &member_zones,
    );
    if let (Some(def), true) = (&pool, keys.is_empty()) {
        f.warn(
            def.members_path(),
            "",
            "has no members: the pool validates, but `lbsim run` needs members to simulate",
        );
    }
    // a bare channel's name is the channel's, checked by the channel's own rule
    let channel_name = match &pool {
        Some(PoolDef::Apig(c)) => c.name.as_ref(),
        _ => None,
    };
    if let Some(name) = s.name.as_ref().filter(|n| Some(*n) != channel_name) {
        f.name_length("name", name, Code::NONE);
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
                format!(
                    "must be at least 0 and below duration_s {}",
                    number(duration)
                ),
                Code::NONE,
            );
        }
    }
    let backends = s.backends.take();
    let workload = s.workload.take();
    if let Some(lb) = &given_lb {
        lb.validate(f);
    }
    if let Some(w) = &workload {
        w.validate(f);
    }
    let (listener, api) = (s.listener.take(), s.api.take());
    let front = (listener.as_ref(), api.as_ref());
    front::validate(front.0, front.1, pool.as_ref(), workload.as_ref(), f);
    let events = s.events.take().unwrap_or_default();
    let (timeline, keys_ever) =
        events::validate(&events, pool.as_ref(), &keys, &zones, duration, f);
    // backends may name members added by events
    if let Some(b) = &backends {
        b.validate(&keys_ever, f);
    }
    if f.has_errors() {
        return None;
    }
    Some(ValidScenario {
        name: s.name.unwrap_or_else(|| "scenario".into()),
        seed: s.seed,
        duration_s: s.duration_s,
        warmup_s: s.warmup_s,
        pool: pool?,
        listener,
        api,
        zones,
        keys,
        loadbalancer: lb,
        backends: backends.unwrap_or_default().canonical(),
        workload: workload.unwrap_or_default(),
        events: timeline,
    })
}

/// Exactly one pool definition: `None` (with an error) when the file has none; with both, the
/// `pool` is checked further (and the error stands).
fn pool_def(
    pool: Option<super::elb::Pool>,
    channel: Option<super::apig::VpcChannel>,
    f: &mut Findings,
) -> Option<PoolDef> {
    match (&pool, &channel) {
        (Some(_), Some(_)) => f.error("", "", "has both `pool` and `vpc_channel`: a scenario defines exactly one pool", Code::NONE),
        (None, None) => f.error("", "", "has no pool definition: add `pool` (an ELB v3 pool body) or `vpc_channel` (an APIG VPC channel body)", Code::NONE),
        _ => {}
    }
    if let Some(p) = &pool {
        p.validate("pool", f);
    }
    if let Some(c) = &channel {
        c.validate("vpc_channel", f);
    }
    pool.map(PoolDef::Elb).or(channel.map(PoolDef::Apig))
}
