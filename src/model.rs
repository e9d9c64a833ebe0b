//! Engine configuration: a scenario's pool lowered to plain Rust types.
//!
//! Both vendor dialects (ELB v3 pools and APIG VPC channels) lower to [`PoolConfig`], so the
//! balancer and the simulator never see serde types or dialect spellings. Only `scenario::lower`
//! builds these values; everything here has already passed validation.

use crate::time::SimTime;

/// Index of a member in [`PoolConfig::members`] order; members added later take the next
/// indices, and an index is never reused, so reports and events can key on it.
pub type MemberIdx = u32;

/// Pool protocol (ELB `protocol`; APIG channels carry HTTP(S) traffic).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
    Ip,
    Tls,
    Grpc,
    Http,
    Https,
    Quic,
}

impl Protocol {
    /// TCP/UDP/TLS/IP/QUIC pools balance each connection; HTTP, HTTPS and gRPC balance each
    /// request (ELB FAQ elb_faq_0125: "new connections" vs "new requests use the new weight").
    pub fn balances_per_connection(self) -> bool {
        matches!(
            self,
            Protocol::Tcp | Protocol::Udp | Protocol::Ip | Protocol::Tls | Protocol::Quic
        )
    }

    /// Connection drain exists only on TCP, UDP and QUIC pools (seed 000, `connection_drain`).
    pub fn supports_drain(self) -> bool {
        matches!(self, Protocol::Tcp | Protocol::Udp | Protocol::Quic)
    }
}

/// Which header fields a tuple hash covers (Huawei does not list them; industry convention).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TupleFields {
    /// Source IP + destination IP.
    Two,
    /// Source IP + destination IP + protocol.
    Three,
    /// Source/destination IP, protocol, source/destination port.
    Five,
}

/// The member-selection algorithm (ELB `lb_algorithm`, APIG `balance_strategy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// ELB `ROUND_ROBIN`, APIG strategy 1: smooth weighted round robin.
    RoundRobin,
    /// ELB `LEAST_CONNECTIONS`, APIG strategy 2: lowest active/weight.
    LeastConnections,
    /// ELB `SOURCE_IP`, APIG strategy 3: consistent hash of the client address.
    SourceIp,
    /// APIG strategy 4: consistent hash of the request URI.
    UriHash,
    /// ELB `QUIC_CID`: consistent hash of destination-CID bytes `[offset, offset + len)`.
    QuicCid { offset: u8, len: u8 },
    /// ELB `2_TUPLE_HASH` / `3_TUPLE_HASH` / `5_TUPLE_HASH` on IP pools.
    TupleHash(TupleFields),
}

impl Algorithm {
    /// Whether the algorithm is a consistent hash (a Maglev table), not a weighted picker.
    pub fn hashes(self) -> bool {
        !matches!(self, Algorithm::RoundRobin | Algorithm::LeastConnections)
    }
}

/// Which traffic tier a member belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    /// An ordinary member.
    Primary,
    /// APIG `is_backup`: used only while every primary is faulty.
    Standby,
    /// ELB master-slave pool, `role: master`.
    Master,
    /// ELB master-slave pool, `role: slave`: used only while the master is OFFLINE.
    Slave,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Primary => "primary",
            Tier::Standby => "standby",
            Tier::Master => "master",
            Tier::Slave => "slave",
        }
    }
}

/// Index of an availability zone in [`PoolConfig::zones`].
pub type ZoneId = u16;

/// One backend member.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    /// Report and event key: the member's `name` if it has one, else its address
    /// (with `:port` when the address alone is ambiguous).
    pub key: String,
    /// IP address, or for APIG `ecs` members the ECS id.
    pub address: String,
    /// Backend port (0 in any-port pools: the listener port is used).
    pub port: u16,
    /// Configured weight (ELB 0..=100, APIG 0..=10000; APIG group weights already applied).
    pub weight: u32,
    pub zone: Option<ZoneId>,
    pub tier: Tier,
    /// Administrative switch (APIG member `status` 1 = enabled; ELB members are always enabled).
    pub enabled: bool,
    /// APIG member group name, for reports.
    pub group: Option<String>,
}

/// Session persistence (ELB `session_persistence`), already resolved per pool protocol:
/// TCP/UDP/QUIC pools always act as source-IP persistence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Persistence {
    /// Bind the client address to a member for `timeout` after its last use.
    SourceIp { timeout: SimTime },
    /// The load balancer inserts its own cookie, valid for `timeout`.
    HttpCookie { timeout: SimTime },
    /// The backend sets cookie `cookie_name`; no timeout.
    AppCookie { cookie_name: String },
}

/// AZ affinity threshold: below it the local AZ counts as unhealthy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AzThreshold {
    /// `az_minimum_healthy_member_percentage` (0..=100), rounded up: ceil(members × pct / 100).
    Percentage(u8),
    /// `az_minimum_healthy_member_count` (0..=10000).
    Count(u32),
}

/// `az_unhealthy_fallback_strategy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AzFallback {
    /// `forward_to_all_member_of_local_az` (the vendor default).
    AllMembersOfLocalAz,
    /// `forward_to_healthy_member_of_remote_az`.
    HealthyMembersOfRemoteAz,
    /// `forward_to_all_healthy_member`.
    AllHealthyMembers,
    /// `forward_to_all_member`.
    AllMembers,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AzAffinity {
    pub threshold: AzThreshold,
    pub fallback: AzFallback,
}

/// Active health checking (ELB health monitor or APIG `vpc_health_config`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthCheck {
    /// Probe interval (ELB `delay`, APIG `time_interval`).
    pub interval: SimTime,
    /// Probe timeout (ELB `timeout`, APIG `timeout`).
    pub timeout: SimTime,
    /// Consecutive successes OFFLINE → ONLINE (ELB `max_retries`, APIG `threshold_normal`).
    pub rise: u32,
    /// Consecutive failures ONLINE → OFFLINE (ELB `max_retries_down`, APIG `threshold_abnormal`).
    pub fall: u32,
    /// The probe waits for a response (HTTP, HTTPS, gRPC monitors), not just a connection
    /// (TCP, UDP_CONNECT): a hung member fails it.
    pub reads_response: bool,
}

/// A pool ready for the balancer and the simulator.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolConfig {
    pub protocol: Protocol,
    pub algorithm: Algorithm,
    pub members: Vec<Member>,
    /// Every AZ named by the load balancer or a member; [`ZoneId`] indexes this list.
    pub zones: Vec<String>,
    /// `slow_start.duration` when slow start is enabled.
    pub slow_start: Option<SimTime>,
    pub persistence: Option<Persistence>,
    /// `connection_drain.timeout` when drain is enabled.
    pub drain_timeout: Option<SimTime>,
    pub az_affinity: Option<AzAffinity>,
    /// `pool_health.minimum_healthy_member_count` = 1: forward to all members when none is ONLINE.
    pub all_offline_forwarding: bool,
    /// `None`: no monitor (or disabled), members count as online (ELB `NO_MONITOR`).
    pub health_check: Option<HealthCheck>,
    /// `member_deletion_protection_enable`: member removal is refused.
    pub deletion_protection: bool,
}
