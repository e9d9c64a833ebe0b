//! Plain simulation configuration: what `scenario::lower` produces and [`crate::sim::run`]
//! consumes.
//!
//! No serde here: the scenario wire types mirror the vendor bodies and the workload file, and the
//! lowering turns them into these values after validation. The engine still re-checks what it
//! relies on (see [`crate::sim::SimError::InvalidConfig`]) so that a bad value is an error, never a
//! panic or a silent NaN in a report.

use std::net::IpAddr;

use crate::model::{Member, PoolConfig, Protocol, ZoneId};
use crate::time::SimTime;

/// Everything one run needs. Runs are pure functions of this value.
#[derive(Clone, Debug, PartialEq)]
pub struct SimConfig {
    /// Scenario name, copied into the report.
    pub name: String,
    /// Seeds the run's single `ChaCha8Rng`.
    pub seed: u64,
    /// Simulated length of the run; events after it are not processed.
    pub duration: SimTime,
    /// Requests arriving before this instant are excluded from every metric.
    pub warmup: SimTime,
    /// The pool as it is when the run starts (members present at t = 0 are ONLINE).
    pub pool: PoolConfig,
    /// Load-balancer nodes, one per LB availability zone. Empty means one node with no zone.
    pub lb_zones: Vec<LbZone>,
    /// One-way penalty added to a response when the LB node and the member are in different AZs.
    pub cross_az_latency: SimTime,
    /// Listener address and port the clients connect to (the balancer sees them as `dst`).
    pub listener: (IpAddr, u16),
    pub workload: WorkloadConfig,
    /// Backend behaviour of `pool.members[i]`, same order and length.
    pub backends: Vec<BackendConfig>,
    /// Actions applied during the run; stable-sorted by time before the run starts.
    pub timeline: Vec<TimedEvent>,
    /// Width of the report's timeline buckets.
    pub bucket: SimTime,
}

/// One load-balancer node's AZ and its share of the incoming connections.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LbZone {
    /// Index into `pool.zones`; `None` when the load balancer has no AZ information.
    pub zone: Option<ZoneId>,
    /// Relative traffic weight (DNS spreads clients evenly unless weighted).
    pub weight: u32,
}

/// What the clients do.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadConfig {
    pub clients: ClientsConfig,
    pub arrivals: ArrivalsConfig,
    /// Requests carried by each connection, sent one after another.
    pub requests_per_connection: RequestsPerConnection,
    /// Pause between a response and the next request on the same connection.
    pub think_time: Option<Distribution>,
    /// Normally the pool's protocol; decides per-connection or per-request balancing.
    pub protocol: Protocol,
    /// A request without a response after this long fails (`workload.timeout_ms`).
    pub timeout: Option<SimTime>,
    /// URI paths requests draw from (for URI hashing). Empty means every request asks for `/`.
    pub uris: Vec<String>,
    pub uri_popularity: Popularity,
    pub quic: QuicConfig,
}

/// The client population.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientsConfig {
    /// Number of distinct clients (sessions pick one by `popularity`).
    pub count: u32,
    pub popularity: Popularity,
    /// First address of the client CIDR; client addresses are `first + slot`.
    pub first_address: IpAddr,
    /// Distinct source addresses: `count` normally, fewer behind NAT (client `i` uses address
    /// slot `i % addresses`). The lowering checks the CIDR holds this many.
    pub addresses: u32,
}

/// How often each element of a finite set is chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Popularity {
    Uniform,
    /// Element `k` (1-based) has weight `k^-s`.
    Zipf(f64),
}

/// New connections (sessions) arrive by this process; the request rate is the connection rate
/// times the mean requests per connection.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ArrivalsConfig {
    pub process: ArrivalProcess,
    /// Connections per second at t = 0. A `schedule` lowers to [`Action::SetRate`] events.
    pub rate_per_s: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArrivalProcess {
    /// Exponential interarrival times.
    Poisson,
    /// Exactly `1 / rate` apart.
    Constant,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RequestsPerConnection {
    Fixed(u32),
    /// Geometric on {1, 2, …} with this mean (≥ 1).
    Geometric {
        mean: f64,
    },
}

/// QUIC connection identity and path changes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuicConfig {
    /// Destination connection ID length in bytes (0..=20).
    pub dcid_len: u8,
    /// Probability that a connection changes client address and port once (NAT rebinding,
    /// network change) before one of its later requests.
    pub migration_probability: f64,
}

/// A member's service behaviour.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BackendConfig {
    /// Requests served concurrently.
    pub capacity: u32,
    /// Requests waiting beyond `capacity`; more are rejected.
    pub queue_limit: u32,
    pub service_time: Distribution,
    /// Service times are divided by this (> 0).
    pub speed: f64,
}

/// A duration distribution, parameters in milliseconds (the scenario's unit).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Distribution {
    Constant {
        value_ms: f64,
    },
    Exponential {
        mean_ms: f64,
    },
    /// Parameterised by mean and 99th percentile, as operators describe latency.
    LogNormal {
        mean_ms: f64,
        p99_ms: f64,
    },
    /// Parameterised by mean and shape (> 1).
    Pareto {
        mean_ms: f64,
        shape: f64,
    },
    Uniform {
        min_ms: f64,
        max_ms: f64,
    },
}

/// A timeline entry.
#[derive(Clone, Debug, PartialEq)]
pub struct TimedEvent {
    pub at: SimTime,
    pub action: Action,
}

/// Member indices follow `pool.members`; members added by [`Action::AddMembers`] take the next
/// indices in timeline order (the order after a stable sort by time).
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// The member crashes: it fails the requests it holds, new ones and health probes.
    MemberDown(u32),
    /// The member's process is back; health checks bring it ONLINE again.
    MemberUp(u32),
    /// Service times are multiplied by `factor` from now on (1 restores).
    Slow {
        member: u32,
        factor: f64,
    },
    /// Every member in the AZ crashes and the LB node there stops taking new connections.
    AzDown(ZoneId),
    AzUp(ZoneId),
    SetWeight {
        member: u32,
        weight: u32,
    },
    AddMembers(Vec<(Member, BackendConfig)>),
    /// Refused (and reported) when the pool has deletion protection.
    RemoveMember(u32),
    /// A live pool update (ELB `PUT` pool body already lowered); members are unchanged.
    UpdatePool(Box<PoolConfig>),
    /// New connection arrival rate per second.
    SetRate(f64),
    SetEnabled {
        member: u32,
        enabled: bool,
    },
}
