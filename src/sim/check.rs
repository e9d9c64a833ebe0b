//! What is checked before a run: the work estimate, and every configuration value the engine
//! relies on (the lowering should have rejected a bad one; the engine still refuses it rather
//! than panic or report a NaN).

use super::config::{Action, Distribution, Failure, LbZone, RetryPolicy, SimConfig, TimedEvent};
use super::sample::CountSampler;
use super::server::Server;
use super::SimError;
use crate::model::MemberIdx;
use crate::model::PoolConfig;
use crate::time::SimTime;

pub(super) fn invalid(msg: impl Into<String>) -> SimError {
    SimError::InvalidConfig(msg.into())
}

/// Events the run will process, roughly: requests × events per request, plus probes.
pub(super) fn estimate_events(cfg: &SimConfig) -> Result<u64, SimError> {
    let rpc = CountSampler::new(&cfg.workload.requests_per_connection)
        .map_err(SimError::InvalidConfig)?;
    let max_rate = cfg
        .timeline
        .iter()
        .filter_map(|e| match e.action {
            Action::SetRate(r) => Some(r),
            _ => None,
        })
        .fold(cfg.workload.arrivals.rate_per_s, f64::max);
    if !(max_rate.is_finite() && max_rate >= 0.0) {
        return Err(SimError::InvalidConfig(format!("arrival rate {max_rate}")));
    }
    let secs = cfg.duration.as_secs_f64();
    // per request: arrival or next-request, completion, a timeout when configured, an idle
    // close when the keep-alive can expire, and where members can fail, an end per attempt
    let front = &cfg.front;
    let think_max = match cfg.workload.think_time {
        None => 0.0,
        Some(Distribution::Constant { value_ms }) => value_ms / 1000.0,
        Some(Distribution::Uniform { max_ms, .. }) => max_ms / 1000.0,
        Some(_) => f64::INFINITY,
    };
    let idles = front
        .keepalive_timeout
        .is_some_and(|k| k == SimTime::ZERO || think_max > k.as_secs_f64());
    let can_fail = cfg.backends.iter().any(|b| b.failure != Failure::None)
        || cfg.timeline.iter().any(|e| match &e.action {
            Action::SetFailure { .. } | Action::AzDown(_) => true,
            Action::AddMembers(added) => added.iter().any(|(_, b)| b.failure != Failure::None),
            _ => false,
        });
    let attempts = match (can_fail, front.retry) {
        (false, _) => 0,
        (true, RetryPolicy::Never) => 1,
        (true, RetryPolicy::Elb) => 5,
        (true, RetryPolicy::Apig(n)) => 1 + n.max(1) as u32,
    };
    let per_request = 2.0
        + f64::from(u8::from(cfg.workload.timeout.is_some()))
        + f64::from(u8::from(idles))
        + f64::from(attempts);
    let requests = match &cfg.workload.trace {
        None => max_rate * secs * rpc.mean(),
        Some(t) => t.connections.iter().map(|a| f64::from(a.requests)).sum(),
    };
    let probes = cfg.pool.health_check.map_or(0.0, |h| {
        2.0 * cfg.pool.members.len() as f64 * secs / h.interval.as_secs_f64().max(1e-3)
    });
    Ok((requests * per_request + probes + rebuild_work(cfg)).min(u64::MAX as f64) as u64)
}

/// Table rebuilds, in events of equal cost: an action that changes the candidates or weights
/// rebuilds every LB node's candidate list on its next pick (an upper bound: a weight change an
/// unweighted hash table ignores rebuilds nothing), and a crash or recovery does again when
/// health checks see it. A candidate list costs about 3 events per member and a Maglev table
/// about 25 (at 10,000 members: 2.5 ms against 25 ms, at about 0.1 µs per event); nodes with
/// equal candidates share one table (`balancer::SharedTables`), so a change fills one table, or
/// one per node when AZ affinity gives each node its own candidates. Each node applying a change
/// (`propagation`) is one more event, well inside that bound.
fn rebuild_work(cfg: &SimConfig) -> f64 {
    let mut members = cfg.pool.members.len() as f64;
    let mut hashing = cfg.pool.algorithm.hashes();
    let mut affinity = cfg.pool.az_affinity.is_some();
    let probed = f64::from(u8::from(cfg.pool.health_check.is_some()));
    let mut changes = 0.0;
    for e in &cfg.timeline {
        changes += match &e.action {
            Action::SetRate(_) | Action::Slow { .. } => 0.0,
            Action::AddMembers(added) => {
                members += added.len() as f64;
                1.0
            }
            Action::UpdatePool(p) => {
                hashing |= p.algorithm.hashes();
                affinity |= p.az_affinity.is_some();
                1.0
            }
            Action::SetFailure { .. } | Action::AzDown(_) | Action::AzUp(_) => 1.0 + probed,
            _ => 1.0,
        };
    }
    let nodes = cfg.lb_zones.len().max(1) as f64;
    let fills = match (hashing, affinity) {
        (false, _) => 0.0,
        (true, false) => 1.0,
        (true, true) => nodes,
    };
    changes * members * (3.0 * nodes + 25.0 * fills)
}

/// A configuration that passed [`check`]: the timeline stable-sorted by time, and the LB nodes
/// (one without a zone when the configuration names none).
pub(super) struct Checked {
    pub timeline: Vec<TimedEvent>,
    pub lb_zones: Vec<LbZone>,
}

/// Checks what does not belong to one member or sampler (those are checked as they are built).
pub(super) fn check(cfg: &SimConfig) -> Result<Checked, SimError> {
    let w = &cfg.workload;
    let pool = &cfg.pool;
    if cfg.backends.len() != pool.members.len() {
        return Err(invalid(format!(
            "{} backends for {} members",
            cfg.backends.len(),
            pool.members.len()
        )));
    }
    if w.clients.addresses == 0 || w.clients.addresses > w.clients.count {
        return Err(invalid("clients.addresses must be in 1..=clients.count"));
    }
    if w.quic.dcid_len > 20 || !(0.0..=1.0).contains(&w.quic.migration_probability) {
        return Err(invalid(
            "quic.dcid_len <= 20, migration_probability in [0, 1]",
        ));
    }
    if cfg.bucket == SimTime::ZERO || cfg.warmup > cfg.duration {
        return Err(invalid(
            "bucket must be positive and warmup within duration",
        ));
    }
    let mut timeline = cfg.timeline.clone();
    timeline.sort_by_key(|e| e.at);
    check_timeline(&timeline, pool)?;

    let mut lb_zones = cfg.lb_zones.clone();
    if lb_zones.is_empty() {
        lb_zones.push(LbZone {
            zone: None,
            weight: 1,
        });
    }
    if lb_zones.iter().all(|z| z.weight == 0) || lb_zones.len() > usize::from(u16::MAX) {
        return Err(invalid("lb_zones need a positive weight"));
    }
    Ok(Checked { timeline, lb_zones })
}

/// Checks member indices, zones and added members' backends, walking the timeline in order so
/// members added later count only from their addition on.
fn check_timeline(timeline: &[TimedEvent], pool: &PoolConfig) -> Result<(), SimError> {
    let mut members = pool.members.len() as u32;
    let zones = pool.zones.len();
    for e in timeline {
        let bad_member = |m: MemberIdx| {
            (m >= members).then(|| invalid(format!("event at {}: no member {m}", e.at)))
        };
        let err = match &e.action {
            Action::SetFailure { member: m, .. }
            | Action::RemoveMember(m)
            | Action::SetWeight { member: m, .. }
            | Action::SetEnabled { member: m, .. }
            | Action::SetTier { member: m, .. } => bad_member(*m),
            Action::AzDown(z) | Action::AzUp(z) => (usize::from(*z) >= zones)
                .then(|| invalid(format!("event at {}: no zone {z}", e.at))),
            Action::AddMembers(list) => {
                for (m, b) in list {
                    Server::new(m, b)?;
                    if m.zone.is_some_and(|z| usize::from(z) >= zones) {
                        return Err(invalid(format!("member {}: unknown zone", m.key)));
                    }
                }
                members += list.len() as u32;
                None
            }
            Action::SetRate(r) => (!(r.is_finite() && *r >= 0.0))
                .then(|| invalid(format!("event at {}: rate {r}", e.at))),
            Action::Slow { member, factor } => bad_member(*member).or_else(|| {
                (!(factor.is_finite() && *factor > 0.0))
                    .then(|| invalid(format!("event at {}: slow factor {factor}", e.at)))
            }),
            Action::UpdatePool(_) => None,
        };
        if let Some(err) = err {
            return Err(err);
        }
    }
    Ok(())
}
