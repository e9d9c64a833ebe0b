//! A scenario that validated: the only input lowering takes. Validation builds it once, with
//! the dialect decided, member keys and zones computed and every event's member reference
//! resolved to a member index, so lowering has nothing left to check and cannot fail on
//! anything validation checked.

use super::sections::{Backends, LoadBalancer, Workload};
use super::{apig, elb};
use crate::model::{self, MemberIdx, Tier, ZoneId};
use crate::sim::Failure;

/// The one pool a scenario defines, in its vendor's dialect.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // one per scenario
pub enum PoolDef {
    /// An ELB v3 backend server group (`pool`).
    Elb(elb::Pool),
    /// An APIG / ROMA Connect VPC channel (`vpc_channel`, or a bare channel body).
    Apig(apig::VpcChannel),
}

#[derive(Debug, Clone)]
pub struct ValidScenario {
    pub name: String,
    pub seed: Option<u64>,
    pub duration_s: Option<f64>,
    pub warmup_s: Option<f64>,
    pub pool: PoolDef,
    /// The ELB listener (ELB scenarios only; `None`: the pool's default listener).
    pub listener: Option<elb::Listener>,
    /// The APIG API (VPC channel scenarios only; `None`: the API defaults).
    pub api: Option<apig::Api>,
    /// Every AZ: the load balancer's, then the members' in order of appearance.
    pub zones: Vec<String>,
    /// Keys of the pool's own members, by member index.
    pub keys: Vec<String>,
    pub loadbalancer: LoadBalancer,
    pub backends: Backends,
    pub workload: Workload,
    /// The timeline in time order (file order among equal times).
    pub events: Vec<TimedAction>,
}

#[derive(Debug, Clone)]
pub struct TimedAction {
    pub at_s: f64,
    pub action: EventAction,
}

#[derive(Debug, Clone)]
pub enum EventAction {
    MemberDown(MemberIdx),
    MemberUp(MemberIdx),
    MemberSlow {
        member: MemberIdx,
        factor: f64,
    },
    MemberFail {
        member: MemberIdx,
        failure: Failure,
    },
    AzDown(ZoneId),
    AzUp(ZoneId),
    SetWeight {
        member: MemberIdx,
        weight: u32,
    },
    RemoveMember(MemberIdx),
    SetRate(f64),
    /// ELB add-members: the new members with their keys; they take the next indices.
    AddMembers(Vec<model::Member>),
    /// The pool as this `PUT` body (seed 000) and the earlier ones leave it.
    UpdatePool(Box<elb::Pool>),
    /// A VPC channel change: a `PUT` body (seed 003) or an add-members body (seed 004).
    UpdateChannel(Box<ChannelChange>),
}

/// What a channel body changes, in the order the vendor applies it: members that disappear
/// are removed, kept members take their new settings, new members are added (next indices).
#[derive(Debug, Clone)]
pub struct ChannelChange {
    pub removed: Vec<MemberIdx>,
    pub changed: Vec<(MemberIdx, MemberChange)>,
    pub added: Vec<model::Member>,
    /// A `PUT` body's channel, whose algorithm and health check apply live; `None` for
    /// add-members, which changes members only.
    pub channel: Option<apig::VpcChannel>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MemberChange {
    Weight(u32),
    Enabled(bool),
    Tier(Tier),
}

/// The dialect decisions shared code needs, each made here once.
impl PoolDef {
    /// Member keys in pool order (members without an address have none).
    pub fn member_keys(&self) -> Vec<String> {
        match self {
            PoolDef::Elb(p) => elb::member_keys(p.members.as_deref().unwrap_or_default()),
            PoolDef::Apig(c) => apig::member_keys(c.members.as_deref().unwrap_or_default()),
        }
    }

    /// The AZs the members name, in order of appearance (repeats included).
    pub fn member_zones(&self) -> Vec<String> {
        match self {
            PoolDef::Elb(p) => zones_of(p.members.iter().flatten().map(|m| &m.availability_zone)),
            PoolDef::Apig(c) => zones_of(c.members.iter().flatten().map(|m| &m.availability_zone)),
        }
    }

    /// Where the members sit in the file.
    pub fn members_path(&self) -> &'static str {
        match self {
            PoolDef::Elb(_) => "pool.members",
            PoolDef::Apig(_) => "vpc_channel.members",
        }
    }

    /// The pool lowered to engine types.
    pub fn lower(&self, zones: &[String]) -> model::PoolConfig {
        match self {
            PoolDef::Elb(p) => elb::lower_pool(p, zones),
            PoolDef::Apig(c) => apig::lower_channel(c, zones),
        }
    }
}

fn zones_of<'a>(zones: impl Iterator<Item = &'a Option<String>>) -> Vec<String> {
    zones.flatten().cloned().collect()
}
