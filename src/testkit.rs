//! Builders for the engine's plain types, shared by unit tests, integration tests and benches.
//! Each gives the plainest value of its type; a test changes what it is about with struct update
//! syntax (`PoolConfig { protocol: Protocol::Http, ..testkit::pool(…) }`), so a new field of
//! these types is added here once. Hidden from the docs: not part of the library's interface.

use std::net::{IpAddr, Ipv4Addr};

use crate::balancer::Request;
use crate::model::{Algorithm, HealthCheck, Member, MemberIdx, PoolConfig, Protocol, Tier};
use crate::sim::{
    ArrivalProcess, ArrivalsConfig, BackendConfig, ClientsConfig, Distribution, Failure,
    FrontConfig, FrontKind, LbZone, Method, Outcome, Popularity, QuicConfig, RequestObs,
    RequestsPerConnection, SimConfig, WorkloadConfig,
};
use crate::time::SimTime;

/// An enabled primary member of weight 1 on port 80, in no AZ; `key` is also its address.
pub fn member(key: &str) -> Member {
    Member {
        key: key.into(),
        address: key.into(),
        port: 80,
        weight: 1,
        zone: None,
        tier: Tier::Primary,
        enabled: true,
        group: None,
    }
}

/// [`member`] at `address:port`, keyed so (as lowering keys members sharing an address).
pub fn member_at(address: &str, port: u16) -> Member {
    Member {
        address: address.into(),
        port,
        ..member(&format!("{address}:{port}"))
    }
}

/// An ELB TCP pool of `members` with nothing optional: no AZs, slow start, persistence, drain,
/// AZ affinity or health check.
pub fn pool(algorithm: Algorithm, members: Vec<Member>) -> PoolConfig {
    PoolConfig {
        protocol: Protocol::Tcp,
        algorithm,
        members,
        zones: Vec::new(),
        slow_start: None,
        persistence: None,
        drain_timeout: None,
        az_affinity: None,
        all_offline_forwarding: false,
        health_check: None,
        deletion_protection: false,
    }
}

pub fn health_check(interval_s: u64, timeout_s: u64, rise: u32, fall: u32) -> HealthCheck {
    HealthCheck {
        interval: SimTime::from_secs(interval_s),
        timeout: SimTime::from_secs(timeout_s),
        rise,
        fall,
        reads_response: false,
    }
}

/// A backend serving `capacity` requests at once in exponential time of mean `mean_ms`, with a
/// queue that never fills.
pub fn backend(capacity: u32, mean_ms: f64) -> BackendConfig {
    BackendConfig {
        capacity,
        queue_limit: 1 << 30,
        service_time: Distribution::Exponential { mean_ms },
        speed: 1.0,
        failure: Failure::None,
    }
}

/// `pool` with `backend` behind every member and one LB node in the first AZ, for `duration`
/// from seed 1 without warmup: 1000 clients with uniform popularity send Poisson arrivals of
/// one request per connection in the pool's protocol, with no timeout, URIs or timeline.
pub fn sim_config(
    pool: PoolConfig,
    backend: BackendConfig,
    rate_per_s: f64,
    duration: SimTime,
) -> SimConfig {
    SimConfig {
        name: "test".into(),
        seed: 1,
        duration,
        warmup: SimTime::ZERO,
        lb_zones: vec![LbZone {
            zone: Some(0),
            weight: 1,
        }],
        cross_az_latency: SimTime::from_millis(1),
        weighted_hashing: false,
        propagation: SimTime::ZERO,
        listener: (IpAddr::V4(Ipv4Addr::new(192, 168, 0, 1)), 80),
        workload: WorkloadConfig {
            clients: ClientsConfig {
                count: 1000,
                popularity: Popularity::Uniform,
                first_address: IpAddr::V4(Ipv4Addr::new(100, 64, 0, 0)),
                addresses: 1000,
            },
            arrivals: ArrivalsConfig {
                process: ArrivalProcess::Poisson,
                rate_per_s,
            },
            requests_per_connection: RequestsPerConnection::Fixed(1),
            think_time: None,
            protocol: pool.protocol,
            timeout: None,
            uris: vec![],
            uri_popularity: Popularity::Uniform,
            quic: QuicConfig {
                dcid_len: 8,
                migration_probability: 0.0,
            },
            methods: vec![],
            trace: None,
        },
        backends: vec![backend; pool.members.len()],
        front: FrontConfig::elb_default(pool.protocol),
        timeline: vec![],
        bucket: SimTime::from_secs(1),
        pool,
    }
}

/// A GET arriving at `arrival` that ended with `outcome` on `member` after `attempts` attempts
/// behind an ELB L7 listener, 2 ms after it arrived.
pub fn request_obs(
    arrival: SimTime,
    member: Option<MemberIdx>,
    outcome: Outcome,
    attempts: u8,
) -> RequestObs {
    RequestObs {
        arrival,
        request: 0,
        connection: 0,
        client: 0,
        lb_node: 0,
        member,
        outcome,
        status: outcome.status(FrontKind::ElbL7).unwrap_or(0),
        attempts,
        method: Method::Get,
        latency: SimTime::from_millis(2),
        cross_az: false,
        uri: None,
    }
}

/// A TCP request from `client_ip`, port 1024, to 192.0.2.1:80 for URI `/`, without a QUIC
/// packet or cookie.
pub fn request(client_ip: IpAddr) -> Request<'static> {
    Request {
        client_ip,
        client_port: 1024,
        dst_ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        dst_port: 80,
        ip_proto: 6,
        addr_slot: 0,
        uri: b"/",
        quic_packet: None,
        cookie: None,
    }
}
