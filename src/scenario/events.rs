//! The events: each is checked where it stands in the file (its action, its body as the vendor
//! API would check it), then all are replayed in time order (`timeline.rs`), as the run will,
//! to resolve member references to indices. A reference is resolved against the members that
//! exist at the event's time, so validation and the run can never disagree about which member
//! an event names.

use super::de::{deserialize_at, Seg};
use super::diag::{Code, Findings};
use super::sections::{self, Event};
use super::timeline::Timeline;
use super::valid::{PoolDef, TimedAction};
use super::{apig, elb};
use crate::model::ZoneId;
use crate::sim::Failure;
use crate::text::number;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// An event's action as the file gives it, body deserialized, members still named by key.
pub(super) enum Given {
    MemberDown(String),
    MemberUp(String),
    MemberSlow(String, f64),
    MemberFail(String, Failure),
    AzDown(ZoneId),
    AzUp(ZoneId),
    SetWeight(String, i64),
    RemoveMember(String),
    SetRate(f64),
    AddElbMembers(Vec<elb::Member>),
    AddChannelMembers(Vec<apig::VpcMember>),
    /// A pool update body, and the settings it turned off with `null`.
    UpdatePool {
        body: Box<elb::Pool>,
        nulls: Vec<&'static str>,
    },
    UpdateChannel(Box<apig::VpcChannel>),
}

/// Checks every event and returns the timeline in time order with member indices. `keys` are
/// the pool's own members; `pool` is `None` when the file defines no pool (or two).
pub fn validate(
    events: &[Event],
    pool: Option<&PoolDef>,
    keys: &[String],
    zones: &[String],
    duration: f64,
    f: &mut Findings,
) -> (Vec<TimedAction>, Vec<String>) {
    let master_slave = matches!(pool, Some(PoolDef::Elb(p)) if p.is_master_slave());
    let given: Vec<Option<Given>> = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let p = format!("events[{i}]");
            check(e, &p, pool, master_slave, zones, duration, f)
        })
        .collect();
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by(|&a, &b| at(&events[a]).total_cmp(&at(&events[b])));
    let mut timeline = Timeline::new(pool, keys, zones, f);
    let mut out = Vec::with_capacity(events.len());
    for i in order {
        if let Some(g) = &given[i] {
            let p = format!("events[{i}]");
            if let Some(action) = timeline.resolve(g, &p, f) {
                out.push(TimedAction {
                    at_s: at(&events[i]),
                    action,
                });
            }
        }
    }
    (out, timeline.keys_ever())
}

fn at(e: &Event) -> f64 {
    e.at_s.unwrap_or(0.0)
}

/// The checks one event needs on its own; its action when it has exactly one.
fn check(
    e: &Event,
    p: &str,
    pool: Option<&PoolDef>,
    master_slave: bool,
    zones: &[String],
    duration: f64,
    f: &mut Findings,
) -> Option<Given> {
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
            format!(
                "is after the end of the run ({} s); the event never happens",
                number(duration)
            ),
        ),
        _ => {}
    }
    let actions = e.actions();
    if actions.len() != 1 {
        let rule = if actions.is_empty() {
            "has no action: add one of member_down, member_up, member_slow, member_fail, az_down, az_up, set_weight, add_members, remove_member, update_pool, update_vpc_channel, set_rate".to_string()
        } else {
            format!(
                "has {} actions ({}); give exactly one per event",
                actions.len(),
                actions.join(", ")
            )
        };
        f.error(p, "", rule, Code::NONE);
    }
    let zone = |field: &str, name: &String, f: &mut Findings| {
        let id = super::keys::zone_id(zones, Some(name));
        if id.is_none() {
            f.error(
                &format!("{p}.{field}"),
                name,
                format!("is not an AZ of this scenario ({})", zones.join(", ")),
                Code::NONE,
            );
        }
        id
    };
    let az_down = e.az_down.as_ref().and_then(|z| zone("az_down", z, f));
    let az_up = e.az_up.as_ref().and_then(|z| zone("az_up", z, f));
    if let Some(m) = &e.member_slow {
        sections::positive(f, &format!("{p}.member_slow.factor"), Some(m.factor));
    }
    if let Some(m) = &e.member_fail {
        m.failure.validate(&format!("{p}.member_fail.failure"), f);
    }
    if let Some(w) = &e.set_weight {
        let weights = if matches!(pool, Some(PoolDef::Apig(_))) {
            apig::MEMBER_WEIGHTS
        } else {
            elb::MEMBER_WEIGHTS
        };
        f.range(
            &format!("{p}.set_weight.weight"),
            w.weight,
            weights,
            "",
            Code::NONE,
        );
    }
    sections::positive(f, &format!("{p}.set_rate"), e.set_rate);
    let add_members = e
        .add_members
        .as_ref()
        .and_then(|body| add_members(pool, master_slave, body, &format!("{p}.add_members"), f));
    let update_pool = e
        .update_pool
        .as_ref()
        .and_then(|body| update_pool(pool, body, &format!("{p}.update_pool"), f));
    let update_channel = e.update_vpc_channel.as_ref().and_then(|body| {
        let at = format!("{p}.update_vpc_channel");
        if !matches!(pool, Some(PoolDef::Apig(_))) {
            f.error(
                &at,
                "",
                "applies only to a vpc_channel scenario",
                Code::NONE,
            );
        }
        let canon = [Seg::Key("vpc_channel".into())];
        let ch = deserialize_at::<apig::VpcChannel>(body, &at, &canon, f)?;
        ch.validate(&at, f);
        if let Some(PoolDef::Apig(base)) = pool {
            ch.warn_kind_change(&at, base, f);
        }
        if ch.members.is_none() {
            // seed 003 lists `members` as optional, yet its own example answers a body without
            // them with APIG.2001 "parameter name:members"; an empty list deletes them all
            f.warn(
                &at,
                "",
                "has no members: the vendor's docs disagree on such a body (seed 003: optional, \
                 yet answered APIG.2001 \"parameter name:members\" in its example); the run \
                 keeps the channel's members (\"members\": [] deletes them all)",
            );
        }
        Some(ch)
    });
    if actions.len() != 1 {
        return None;
    }
    // exactly one action is present: the first that is
    e.member_down
        .as_ref()
        .map(|k| Given::MemberDown(k.clone()))
        .or_else(|| e.member_up.as_ref().map(|k| Given::MemberUp(k.clone())))
        .or_else(|| {
            let m = e.member_slow.as_ref()?;
            Some(Given::MemberSlow(m.member.clone(), m.factor))
        })
        .or_else(|| {
            let m = e.member_fail.as_ref()?;
            Some(Given::MemberFail(m.member.clone(), failure(m.failure)))
        })
        .or_else(|| az_down.map(Given::AzDown))
        .or_else(|| az_up.map(Given::AzUp))
        .or_else(|| {
            let w = e.set_weight.as_ref()?;
            Some(Given::SetWeight(w.member.clone(), w.weight))
        })
        .or_else(|| {
            e.remove_member
                .as_ref()
                .map(|k| Given::RemoveMember(k.clone()))
        })
        .or_else(|| e.set_rate.map(Given::SetRate))
        .or(add_members)
        .or_else(|| {
            update_pool.map(|(body, nulls)| Given::UpdatePool {
                body: Box::new(body),
                nulls,
            })
        })
        .or_else(|| update_channel.map(|c| Given::UpdateChannel(Box::new(c))))
}

/// A failure mode as the engine takes it.
pub(super) fn failure(mode: sections::FailureMode) -> Failure {
    match mode {
        sections::FailureMode::Refuse => Failure::Refuse,
        sections::FailureMode::Blackhole => Failure::Blackhole,
        sections::FailureMode::Hang => Failure::Hang,
        sections::FailureMode::HealthOnly => Failure::HealthOnly,
        sections::FailureMode::ErrorRate(r) => Failure::ErrorRate(r),
    }
}

/// `update_pool`'s body.
#[derive(Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(super) struct PoolBody {
    pool: elb::Pool,
}

/// `add_members`' body in a pool scenario.
#[derive(Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(super) struct ElbMembersBody {
    members: Vec<elb::Member>,
}

/// `add_members`' body in a VPC channel scenario.
#[derive(Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(super) struct ApigMembersBody {
    members: Vec<apig::VpcMember>,
}

/// `add_members` in the schema: either dialect's body (the scenario's dialect narrows it).
pub(super) fn add_members_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let (elb, apig) = (
        g.subschema_for::<ElbMembersBody>(),
        g.subschema_for::<ApigMembersBody>(),
    );
    schemars::json_schema!({"anyOf": [elb, apig, {"type": "null"}]})
}

/// Seed 000: the `PUT …/pools/{id}` body, `{"pool": {…}}`; the pool's protocol carries over.
/// The pool's rules for the result are checked in time order (timeline.rs).
fn update_pool(
    pool: Option<&PoolDef>,
    body: &Value,
    at: &str,
    f: &mut Findings,
) -> Option<(elb::Pool, Vec<&'static str>)> {
    let Some(PoolDef::Elb(_)) = pool else {
        f.error(at, "", "applies only to a pool scenario", Code::NONE);
        return None;
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
    let update = deserialize_at::<PoolBody>(body, at, &[], f)?;
    // in the vendor's PUT a null turns a setting off; serde reads null and absent alike
    let nulls: Vec<&'static str> = elb::NULLABLE_POOL_FIELDS
        .iter()
        .copied()
        .filter(|k| {
            body.pointer(&format!("/pool/{k}"))
                .is_some_and(Value::is_null)
        })
        .collect();
    Some((update.pool, nulls))
}

/// Seed 004: `{"members": [...]}`, ELB or channel members per dialect.
fn add_members(
    pool: Option<&PoolDef>,
    master_slave: bool,
    body: &Value,
    at: &str,
    f: &mut Findings,
) -> Option<Given> {
    let members_at = |i: usize| format!("{at}.members[{i}]");
    match pool? {
        PoolDef::Elb(_) => {
            let canon = [Seg::Key("pool".into())];
            let b = deserialize_at::<ElbMembersBody>(body, at, &canon, f)?;
            // roles here (a pool is master-slave or not for good); each member's own rules,
            // duplicates and role counts against the pool at the event's time (timeline.rs)
            for (i, m) in b.members.iter().enumerate() {
                if master_slave {
                    elb::Pool::validate_role(&members_at(i), m, f);
                } else if let Some(role) = &m.role {
                    let rule = "is a field of master-slave pool members only (seed 002)";
                    f.error(&format!("{}.role", members_at(i)), role, rule, Code::NONE);
                }
            }
            Some(Given::AddElbMembers(b.members))
        }
        PoolDef::Apig(_) => {
            let canon = [Seg::Key("vpc_channel".into())];
            // each member is checked against the channel at the event's time (timeline.rs)
            let b = deserialize_at::<ApigMembersBody>(body, at, &canon, f)?;
            apig::warn_duplicate_members(&b.members, at, f);
            Some(Given::AddChannelMembers(b.members))
        }
    }
}
