//! Lowering: a [`ValidScenario`] becomes a [`SimConfig`]. The pool lowers in its dialect's
//! folder; the simulation sections' defaults live here (`docs/scenario-format.md` lists them),
//! and timeline actions map one to one, their members already resolved by validation.

use super::sections::{
    self, Backend, Popularity as WirePopularity, ServiceTime, DEFAULT_CIDR, DEFAULT_CLIENTS,
};
use super::valid::{EventAction, MemberChange, PoolDef, ValidScenario};
use super::{apig, elb, front, DEFAULT_DURATION_S};
use crate::model::{Algorithm, Member, PoolConfig};
use crate::sim::{
    Action, ArrivalProcess, ArrivalsConfig, BackendConfig, ClientsConfig, Distribution, Failure,
    LbZone, Method, Popularity, QuicConfig, RequestsPerConnection, SimConfig, TimedEvent,
    WorkloadConfig,
};
use crate::time::SimTime;
use std::net::{IpAddr, Ipv4Addr};

pub const DEFAULT_CAPACITY: u32 = 8;
pub const DEFAULT_QUEUE_LIMIT: u32 = 1000;
pub const DEFAULT_SERVICE_MEAN_MS: f64 = 4.0;
pub const DEFAULT_RATE_PER_S: f64 = 1000.0;
pub const DEFAULT_TIMEOUT_MS: f64 = 30_000.0;
pub const DEFAULT_URIS: u32 = 1000;
/// RFC 9000 §7.2: a client's first Initial carries a DCID of at least 8 bytes.
pub const DEFAULT_DCID_LEN: u8 = 8;
/// The longest delay before an LB node applies an API change, ELB pools (elb_faq_0125: "within
/// 5 s").
pub const DEFAULT_ELB_PROPAGATION_S: f64 = 5.0;
/// The listener address clients connect to (a documentation address, RFC 5737).
pub const LISTENER_ADDRESS: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 10);

/// Why a valid scenario cannot be simulated (it validates, but `run` needs more).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum NotRunnable {
    #[error("{0} has no members to simulate: add members (ELB member objects with `address` and `protocol_port`, or VPC channel members with `host`)")]
    NoMembers(&'static str),
    #[error("workload.arrivals.trace was not read: load the scenario from its file")]
    TraceNotRead,
    #[error("duration_s: {} is not above warmup_s {} (from the file, or --duration / a sweep's duration_s)", crate::text::number(*.duration), crate::text::number(*.warmup))]
    WarmupBeyondDuration { duration: f64, warmup: f64 },
    #[error("the run would need about {} MiB for its per-member tables, clients and trace, more than the limit of {} MiB: shorten duration_s or use fewer members, clients, URIs or trace rows", .estimated >> 20, .limit >> 20)]
    TooLarge { estimated: u64, limit: u64 },
}

/// The most memory a run's tables may take, estimated before anything is allocated.
pub const MAX_MEMORY_BYTES: u64 = 4 << 30;

/// Bytes a run's tables and its replayed trace take: per member a latency histogram, two counters per second of the
/// run, a bit per URI and (per LB node) its share of a Maglev table of up to 200 four-byte
/// slots per member; per client a cookie and a persistence slot per LB node; the URI set.
fn memory_estimate(c: &SimConfig) -> u64 {
    // 3,456 buckets: four bytes each in the histogram, two in its tally while the run lasts
    const HISTOGRAM: u64 = 3_456 * 6;
    let members = c.members_ever();
    let buckets = c.duration.as_secs_f64().ceil() as u64 + 1;
    let uris = c.workload.uri_table().len() as u64;
    let nodes = c.lb_zones.len().max(1) as u64;
    let per_member = HISTOGRAM + 16 * buckets + uris / 8 + 800 * nodes;
    let clients = u64::from(c.workload.clients.count) * (4 + 16 * nodes);
    members
        .saturating_mul(per_member)
        .saturating_add(clients)
        .saturating_add(uris * 48)
        .saturating_add(c.workload.trace.as_ref().map_or(0, |t| t.bytes()))
}

/// Lowers a valid scenario. `seed` and `duration_s` override the file's.
pub fn lower(
    s: &ValidScenario,
    seed: Option<u64>,
    duration_s: Option<f64>,
) -> Result<SimConfig, NotRunnable> {
    let pool = s.pool.lower(&s.zones);
    if pool.members.is_empty() {
        return Err(NotRunnable::NoMembers(s.pool.members_path()));
    }
    let backends = s.keys.iter().map(|k| backend_for(&s.backends, k)).collect();
    let duration = duration_s.or(s.duration_s).unwrap_or(DEFAULT_DURATION_S);
    let zones = &s.zones;
    let lb = &s.loadbalancer;
    let lb_names = lb
        .availability_zones
        .clone()
        .unwrap_or_else(|| vec![zones[0].clone()]);
    let lb_zones = lb_names
        .iter()
        .map(|name| LbZone {
            zone: super::keys::zone_id(zones, Some(name)),
            weight: lb.traffic_weights.as_ref().map_or(1000, |w| {
                (w.get(name).copied().unwrap_or(0.0) * 1000.0).round() as u32
            }),
        })
        .collect();
    let mut timeline = lower_events(s);
    for step in s
        .workload
        .arrivals
        .iter()
        .flat_map(|a| a.schedule.iter().flatten())
    {
        timeline.push(TimedEvent {
            at: SimTime::from_secs_f64(step.at_s),
            action: Action::SetRate(step.rate_per_s),
        });
    }
    timeline.sort_by_key(|e| e.at);
    let warmup = s.warmup_s.unwrap_or(0.0);
    if warmup >= duration {
        return Err(NotRunnable::WarmupBeyondDuration { duration, warmup });
    }
    let listener_port = front::listener_port(s).unwrap_or_else(|| {
        pool.members
            .first()
            .map_or(80, |m| if m.port == 0 { 80 } else { m.port })
    });
    let config = SimConfig {
        name: s.name.clone(),
        seed: seed.or(s.seed).unwrap_or(1),
        duration: SimTime::from_secs_f64(duration),
        warmup: SimTime::from_secs_f64(warmup),
        workload: lower_workload(
            &s.workload,
            &pool,
            uri_hashing(&pool, &timeline),
            front::methods(s),
        )?,
        pool,
        lb_zones,
        cross_az_latency: SimTime::from_secs_f64(lb.cross_az_latency_ms.unwrap_or(0.0) / 1000.0),
        weighted_hashing: lb.weighted_hashing.unwrap_or(false),
        propagation: SimTime::from_secs_f64(lb.propagation_s.unwrap_or(match s.pool {
            // elb_faq_0125: a change takes effect "within 5 s"; APIG documents no delay
            PoolDef::Elb(_) => DEFAULT_ELB_PROPAGATION_S,
            PoolDef::Apig(_) => 0.0,
        })),
        listener: (IpAddr::V4(LISTENER_ADDRESS), listener_port),
        backends,
        front: front::lower(s),
        timeline,
        bucket: SimTime::from_secs(1),
    };
    let estimated = memory_estimate(&config);
    if estimated > MAX_MEMORY_BYTES {
        return Err(NotRunnable::TooLarge {
            estimated,
            limit: MAX_MEMORY_BYTES,
        });
    }
    Ok(config)
}

fn backend_for(b: &sections::Backends, key: &str) -> BackendConfig {
    let d = b.default.clone().unwrap_or_default();
    let m: Backend = b
        .members
        .as_ref()
        .and_then(|m| m.get(key))
        .cloned()
        .unwrap_or_default();
    BackendConfig {
        capacity: m.capacity.or(d.capacity).map_or(DEFAULT_CAPACITY, saturate),
        queue_limit: m
            .queue_limit
            .or(d.queue_limit)
            .map_or(DEFAULT_QUEUE_LIMIT, saturate),
        service_time: m.service_time_ms.or(d.service_time_ms).map_or(
            Distribution::Exponential {
                mean_ms: DEFAULT_SERVICE_MEAN_MS,
            },
            distribution,
        ),
        speed: m.speed.or(d.speed).unwrap_or(1.0),
        failure: m
            .failure
            .or(d.failure)
            .map_or(Failure::None, super::events::failure),
    }
}

fn saturate(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn distribution(s: ServiceTime) -> Distribution {
    match s {
        ServiceTime::Constant { value } => Distribution::Constant { value_ms: value },
        ServiceTime::Exponential { mean } => Distribution::Exponential { mean_ms: mean },
        ServiceTime::Lognormal { mean, p99 } => Distribution::LogNormal {
            mean_ms: mean,
            p99_ms: p99,
        },
        ServiceTime::Pareto { mean, shape } => Distribution::Pareto {
            mean_ms: mean,
            shape,
        },
        ServiceTime::Uniform { min, max } => Distribution::Uniform {
            min_ms: min,
            max_ms: max,
        },
    }
}

fn popularity(p: &Option<WirePopularity>) -> Popularity {
    match p {
        Some(WirePopularity::Zipf(s)) => Popularity::Zipf(*s),
        _ => Popularity::Uniform,
    }
}

/// Whether URI hashing is the algorithm at any time of the run.
fn uri_hashing(pool: &PoolConfig, timeline: &[TimedEvent]) -> bool {
    let hashes = |p: &PoolConfig| p.algorithm == Algorithm::UriHash;
    hashes(pool)
        || timeline
            .iter()
            .any(|e| matches!(&e.action, Action::UpdatePool(p) if hashes(p)))
}

/// `uri_hashing`: requests need URIs even if the scenario names none (then 1000 are generated);
/// otherwise URIs exist only when `workload.uris` or the trace gives them, and every request
/// asks for `/` without spending a random draw. `methods` are the request methods as the front
/// decided them.
fn lower_workload(
    w: &sections::Workload,
    pool: &PoolConfig,
    uri_hashing: bool,
    methods: Vec<(Method, f64)>,
) -> Result<WorkloadConfig, NotRunnable> {
    let arrivals = w.arrivals.clone().unwrap_or_default();
    if arrivals.trace.is_some() && arrivals.replayed.is_none() {
        return Err(NotRunnable::TraceNotRead);
    }
    let clients = w.clients.clone().unwrap_or_default();
    let largest_id = arrivals
        .replayed
        .as_ref()
        .map(|t| t.largest_client.saturating_add(1));
    let count = clients
        .count
        .map(saturate)
        .or(largest_id)
        .unwrap_or(DEFAULT_CLIENTS as u32);
    let addresses = clients.nat_addresses.map_or(count, saturate).min(count);
    let cidr = clients.cidr.as_deref().unwrap_or(DEFAULT_CIDR);
    // Validation checked the block parses and holds `addresses` usable hosts.
    let (network, prefix) =
        sections::parse_cidr(cidr).unwrap_or((Ipv4Addr::new(100, 64, 0, 0), 10));
    let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
    let skip_network =
        u32::from(sections::usable_hosts(prefix) < (1u64 << (32 - u32::from(prefix))));
    let first = (u32::from(network) & mask) + skip_network;
    let protocol = match w.protocol.as_deref() {
        Some(p) => elb::protocol_named(p),
        None => pool.protocol,
    };
    let uris = w.uris.clone().unwrap_or_default();
    let quic = w.quic.clone().unwrap_or_default();
    Ok(WorkloadConfig {
        clients: ClientsConfig {
            count,
            popularity: popularity(&clients.popularity),
            first_address: IpAddr::V4(Ipv4Addr::from(first)),
            addresses,
        },
        arrivals: ArrivalsConfig {
            process: match arrivals.process.as_deref() {
                Some("constant") => ArrivalProcess::Constant,
                _ => ArrivalProcess::Poisson,
            },
            rate_per_s: arrivals.rate_per_s.unwrap_or(DEFAULT_RATE_PER_S),
        },
        requests_per_connection: match w.requests_per_connection {
            Some(sections::RequestsPerConnection::Fixed(n)) => {
                RequestsPerConnection::Fixed(saturate(n))
            }
            Some(sections::RequestsPerConnection::Geometric { geometric }) => {
                RequestsPerConnection::Geometric { mean: geometric }
            }
            None => RequestsPerConnection::Fixed(1),
        },
        think_time: w
            .think_time_ms
            .filter(|t| *t > 0.0)
            .map(|t| Distribution::Constant { value_ms: t }),
        protocol,
        timeout: Some(SimTime::from_secs_f64(
            w.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS) / 1000.0,
        )),
        // a trace brings its own URIs (none without a URI column)
        uris: if arrivals.replayed.is_some() {
            Vec::new()
        } else if w.uris.is_some() || uri_hashing {
            (0..uris.count.map_or(DEFAULT_URIS, saturate))
                .map(|i| format!("/item/{i}"))
                .collect()
        } else {
            Vec::new()
        },
        uri_popularity: popularity(&uris.popularity),
        quic: QuicConfig {
            dcid_len: quic.dcid_len.map_or(DEFAULT_DCID_LEN, |l| l.min(20) as u8),
            migration_probability: quic.migration_probability.unwrap_or(0.0),
        },
        methods,
        trace: arrivals.replayed,
    })
}

/// The timeline as engine actions, in the time order validation gave it. A live pool update
/// carries no members: membership changes are actions of their own.
fn lower_events(s: &ValidScenario) -> Vec<TimedEvent> {
    let mut out = Vec::with_capacity(s.events.len());
    for e in &s.events {
        let at = SimTime::from_secs_f64(e.at_s);
        let mut push = |action| out.push(TimedEvent { at, action });
        match &e.action {
            EventAction::MemberDown(m) => push(Action::SetFailure {
                member: *m,
                failure: Failure::Refuse,
            }),
            EventAction::MemberUp(m) => push(Action::SetFailure {
                member: *m,
                failure: Failure::None,
            }),
            EventAction::MemberFail { member, failure } => push(Action::SetFailure {
                member: *member,
                failure: *failure,
            }),
            EventAction::MemberSlow { member, factor } => push(Action::Slow {
                member: *member,
                factor: *factor,
            }),
            EventAction::AzDown(z) => push(Action::AzDown(*z)),
            EventAction::AzUp(z) => push(Action::AzUp(*z)),
            EventAction::SetWeight { member, weight } => push(Action::SetWeight {
                member: *member,
                weight: *weight,
            }),
            EventAction::RemoveMember(m) => push(Action::RemoveMember(*m)),
            EventAction::SetRate(r) => push(Action::SetRate(*r)),
            EventAction::AddMembers(added) => {
                push(Action::AddMembers(with_backends(added, &s.backends)))
            }
            EventAction::UpdatePool(pool) => {
                let config = PoolConfig {
                    members: Vec::new(),
                    ..elb::lower_pool(pool, &s.zones)
                };
                push(Action::UpdatePool(Box::new(config)));
            }
            EventAction::UpdateChannel(change) => {
                for &m in &change.removed {
                    push(Action::RemoveMember(m));
                }
                for &(member, change) in &change.changed {
                    push(match change {
                        MemberChange::Weight(weight) => Action::SetWeight { member, weight },
                        MemberChange::Enabled(enabled) => Action::SetEnabled { member, enabled },
                        MemberChange::Tier(tier) => Action::SetTier { member, tier },
                    });
                }
                if !change.added.is_empty() {
                    push(Action::AddMembers(with_backends(
                        &change.added,
                        &s.backends,
                    )));
                }
                if let Some(channel) = &change.channel {
                    let config = PoolConfig {
                        members: Vec::new(),
                        ..apig::lower_channel(channel, &s.zones)
                    };
                    push(Action::UpdatePool(Box::new(config)));
                }
            }
        }
    }
    out
}

/// Added members with their backends.
fn with_backends(added: &[Member], backends: &sections::Backends) -> Vec<(Member, BackendConfig)> {
    added
        .iter()
        .map(|m| (m.clone(), backend_for(backends, &m.key)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A trace within the 10 M-row limit took gigabytes once read and lowered, uncounted; it is
    /// now held once, compactly, and counted as it is held.
    #[test]
    fn a_replayed_trace_counts_in_the_memory_check() {
        let mut config = crate::testkit::sim_config(
            crate::testkit::pool(
                crate::model::Algorithm::RoundRobin,
                vec![crate::testkit::member("a")],
            ),
            crate::testkit::backend(10, 5.0),
            10.0,
            SimTime::from_secs(10),
        );
        let without = memory_estimate(&config);
        let connection = |at| crate::sim::TraceConnection {
            at: SimTime::from_secs(at),
            client: 0,
            requests: 2,
            first_uri: 2 * at as u32,
        };
        let trace = crate::sim::Trace {
            connections: (0..1000).map(connection).collect(),
            request_uris: vec![0; 2000],
            uris: vec!["/a".into()],
            largest_client: 0,
        };
        assert_eq!(trace.bytes(), 24 * 1000 + 4 * 2000 + (2 + 24));
        config.workload.trace = Some(std::sync::Arc::new(trace));
        assert_eq!(
            memory_estimate(&config) - without,
            24 * 1000 + 4 * 2000 + (2 + 24) + 48
        );
    }
}
