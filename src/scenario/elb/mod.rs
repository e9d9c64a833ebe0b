//! ELB v3 backend server groups as the API takes and returns them (seed 000 `PUT …/pools/{id}`,
//! seed 002 `POST …/master-slave-pools`, the create-pool body and the `GET` response), and
//! their rules (`rules.rs`) and lowering (`lower.rs`).

mod listener;
mod lower;
mod monitor;
mod rules;

pub use listener::{
    is_l7, lower_listener, protocol_of, Listener, LISTENER_NOT_MODELLED, LISTENER_PROTOCOLS,
    LISTENER_PUT_FIELDS,
};
pub use lower::{
    added_members, apply_pool_update, base_key, lower_pool, member_keys, protocol_named,
    NULLABLE_POOL_FIELDS,
};
pub use monitor::check_code_list;

use super::diag::MAX_NAME_CHARS;
use super::schema::{any_case, max_chars, one_of, vendor_body, within};
use schemars::JsonSchema;
use serde::Deserialize;
use std::ops::RangeInclusive;

/// Fields a pool update body may carry (seed 000, "Updating a Pool", `UpdatePoolOption`).
pub const POOL_PUT_FIELDS: &[&str] = &[
    "admin_state_up",
    "description",
    "lb_algorithm",
    "name",
    "session_persistence",
    "slow_start",
    "member_deletion_protection_enable",
    "vpc_id",
    "type",
    "protection_status",
    "protection_reason",
    "any_port_enable",
    "connection_drain",
    "pool_health",
    "quic_cid_hash_strategy",
    "az_affinity",
];

/// Vendor pool fields lbsim accepts and does not simulate.
pub const POOL_NOT_MODELLED: &[&str] = &[
    "id",
    "name",
    "description",
    "project_id",
    "tenant_id",
    "enterprise_project_id",
    "vpc_id",
    "listener_id",
    "loadbalancer_id",
    "listeners",
    "loadbalancers",
    "healthmonitor_id",
    "created_at",
    "updated_at",
    "public_border_group",
    "provisioning_status",
    "operating_status",
];

pub const MEMBER_NOT_MODELLED: &[&str] = &[
    "id",
    "project_id",
    "tenant_id",
    "subnet_cidr_id",
    "ip_version",
    "device_owner",
    "device_id",
    "member_type",
    "instance_id",
    "status",
    "reason",
    "operating_status",
    "created_at",
    "updated_at",
    "pool_id",
    "loadbalancer_id",
];

pub const MONITOR_NOT_MODELLED: &[&str] = &[
    "id",
    "name",
    "project_id",
    "tenant_id",
    "pools",
    "pool_id",
    "created_at",
    "updated_at",
];

/// `pool`: a backend server group (create, update, master-slave create, or `GET` response).
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(transform = vendor_body(POOL_NOT_MODELLED))]
pub struct Pool {
    pub admin_state_up: Option<bool>,
    /// ROUND_ROBIN, LEAST_CONNECTIONS, SOURCE_IP, QUIC_CID, 2_TUPLE_HASH, 3_TUPLE_HASH, 5_TUPLE_HASH.
    #[schemars(transform = one_of(ALGORITHMS))]
    pub lb_algorithm: Option<String>,
    /// TCP, UDP, IP, TLS, GRPC, HTTP, HTTPS, QUIC. Update bodies omit it: TCP is assumed.
    #[schemars(transform = one_of(PROTOCOLS))]
    pub protocol: Option<String>,
    /// `instance`, `ip` or `""`.
    #[serde(rename = "type")]
    #[schemars(transform = one_of(POOL_TYPES))]
    pub pool_type: Option<String>,
    pub members: Option<Vec<Member>>,
    pub healthmonitor: Option<HealthMonitor>,
    pub session_persistence: Option<SessionPersistence>,
    pub slow_start: Option<SlowStart>,
    pub connection_drain: Option<ConnectionDrain>,
    pub pool_health: Option<PoolHealth>,
    pub quic_cid_hash_strategy: Option<QuicCidHashStrategy>,
    pub az_affinity: Option<AzAffinity>,
    pub any_port_enable: Option<bool>,
    pub member_deletion_protection_enable: Option<bool>,
    /// `nonProtection` or `consoleProtection`.
    #[schemars(transform = one_of(PROTECTION_STATUSES))]
    pub protection_status: Option<String>,
    #[schemars(transform = max_chars(MAX_REASON_CHARS))]
    pub protection_reason: Option<String>,
    /// `v4`, `v6` or `dualstack`: checked, not simulated (the members' addresses are).
    #[schemars(transform = one_of(IP_VERSIONS))]
    pub ip_version: Option<String>,
}

/// An ELB member (`POST …/pools/{id}/members` body, or a master-slave member with `role`).
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(transform = vendor_body(MEMBER_NOT_MODELLED))]
pub struct Member {
    pub address: Option<String>,
    /// 1..=65535; 0 in IP pools.
    #[schemars(transform = within(0..=*PORTS.end()))]
    pub protocol_port: Option<i64>,
    /// 0..=100, default 1.
    #[schemars(transform = within(MEMBER_WEIGHTS))]
    pub weight: Option<i64>,
    #[schemars(transform = max_chars(MAX_NAME_CHARS))]
    pub name: Option<String>,
    #[schemars(transform = max_chars(MAX_NAME_CHARS))]
    pub availability_zone: Option<String>,
    /// `master` or `slave` (master-slave pools only).
    #[schemars(transform = one_of(ROLES))]
    pub role: Option<String>,
    pub admin_state_up: Option<bool>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(transform = vendor_body(MONITOR_NOT_MODELLED))]
pub struct HealthMonitor {
    /// TCP, UDP_CONNECT, HTTP, HTTPS, TLS, GRPC (allowed set depends on the pool protocol).
    #[serde(rename = "type")]
    #[schemars(required, transform = one_of(MONITOR_TYPES))]
    pub monitor_type: Option<String>,
    /// Seconds between probes.
    #[schemars(required, transform = within(PROBE_SECONDS))]
    pub delay: Option<i64>,
    /// Seconds a probe waits.
    #[schemars(required, transform = within(PROBE_SECONDS))]
    pub timeout: Option<i64>,
    #[schemars(required, transform = within(PROBE_RETRIES))]
    pub max_retries: Option<i64>,
    #[schemars(transform = within(PROBE_RETRIES))]
    pub max_retries_down: Option<i64>,
    pub admin_state_up: Option<bool>,
    pub expected_codes: Option<String>,
    pub url_path: Option<String>,
    /// Checked against seed 002's rules, not simulated (probes go to the member's port).
    #[schemars(transform = within(PORTS))]
    pub monitor_port: Option<i64>,
    /// GET, HEAD or POST in any case.
    #[schemars(transform = any_case(PROBE_METHODS))]
    pub http_method: Option<String>,
    pub domain_name: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SessionPersistence {
    /// SOURCE_IP, HTTP_COOKIE, APP_COOKIE.
    #[serde(rename = "type")]
    #[schemars(required, transform = one_of(PERSISTENCE_TYPES))]
    pub persistence_type: Option<String>,
    #[schemars(transform = max_chars(MAX_COOKIE_CHARS))]
    pub cookie_name: Option<String>,
    /// Minutes: at most 60 on TCP, UDP and QUIC pools, 1440 on HTTP, HTTPS and GRPC pools.
    #[schemars(transform = within(PERSISTENCE_MINUTES_L7))]
    pub persistence_timeout: Option<i64>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct SlowStart {
    pub enable: Option<bool>,
    /// Seconds, 30..=1200, default 30.
    #[schemars(transform = within(SLOW_START_SECONDS))]
    pub duration: Option<i64>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ConnectionDrain {
    pub enable: Option<bool>,
    /// Seconds, 10..=4000.
    #[schemars(transform = within(DRAIN_SECONDS))]
    pub timeout: Option<i64>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct PoolHealth {
    /// 0 (off) or 1 (forward to all members when none is ONLINE).
    #[schemars(transform = one_of(MINIMUM_HEALTHY))]
    pub minimum_healthy_member_count: Option<i64>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct QuicCidHashStrategy {
    /// 1..=20, default 3.
    #[schemars(transform = within(CID_LEN))]
    pub len: Option<i64>,
    /// 0..=19, default 1.
    #[schemars(transform = within(CID_OFFSET))]
    pub offset: Option<i64>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct AzAffinity {
    pub enable: Option<bool>,
    /// -1 (off) or a percentage.
    #[schemars(transform = within(AZ_HEALTHY_PERCENTAGE))]
    pub az_minimum_healthy_member_percentage: Option<i64>,
    /// -1 (off) or a member count.
    #[schemars(transform = within(AZ_HEALTHY_COUNT))]
    pub az_minimum_healthy_member_count: Option<i64>,
    #[schemars(transform = one_of(FALLBACKS))]
    pub az_unhealthy_fallback_strategy: Option<String>,
}

pub const ALGORITHMS: &[&str] = &[
    "ROUND_ROBIN",
    "LEAST_CONNECTIONS",
    "SOURCE_IP",
    "QUIC_CID",
    "2_TUPLE_HASH",
    "3_TUPLE_HASH",
    "5_TUPLE_HASH",
];
pub const PROTOCOLS: &[&str] = &["TCP", "UDP", "IP", "TLS", "GRPC", "HTTP", "HTTPS", "QUIC"];
pub const FALLBACKS: &[&str] = &[
    "forward_to_all_member_of_local_az",
    "forward_to_healthy_member_of_remote_az",
    "forward_to_all_healthy_member",
    "forward_to_all_member",
];
pub const POOL_TYPES: &[&str] = &["instance", "ip", ""];
/// huawei-semantics "Other pool fields": `dualstack` or `v4` on dedicated load balancers, `v6`
/// in the Terraform provider.
pub const IP_VERSIONS: &[&str] = &["v4", "v6", "dualstack"];
pub const PROTECTION_STATUSES: &[&str] = &["nonProtection", "consoleProtection"];
pub const MAX_REASON_CHARS: usize = 255;
pub const ROLES: &[&str] = &["master", "slave"];
/// Member weights (seed 000).
pub const MEMBER_WEIGHTS: RangeInclusive<i64> = 0..=100;
/// Member, listener and probe ports (an IP pool's members and a port-range listener take 0).
pub const PORTS: RangeInclusive<i64> = 1..=65535;
/// Every probe type; which ones a pool takes depends on its protocol (`monitor.rs`).
pub const MONITOR_TYPES: &[&str] = &["TCP", "UDP_CONNECT", "HTTP", "HTTPS", "TLS", "GRPC"];
/// `delay` and `timeout`, seconds.
pub const PROBE_SECONDS: RangeInclusive<i64> = 1..=50;
/// `max_retries` and `max_retries_down`.
pub const PROBE_RETRIES: RangeInclusive<i64> = 1..=10;
/// `http_method` (seed 002: "取值:GET、HEAD、POST"; its own GET response shows "get").
pub const PROBE_METHODS: &[&str] = &["GET", "HEAD", "POST"];
pub const PERSISTENCE_TYPES: &[&str] = &["SOURCE_IP", "HTTP_COOKIE", "APP_COOKIE"];
pub const MAX_COOKIE_CHARS: usize = 1024;
/// `persistence_timeout` minutes on TCP, UDP and QUIC pools, and on HTTP, HTTPS and GRPC pools.
pub const PERSISTENCE_MINUTES_L4: RangeInclusive<i64> = 1..=60;
pub const PERSISTENCE_MINUTES_L7: RangeInclusive<i64> = 1..=1440;
pub const SLOW_START_SECONDS: RangeInclusive<i64> = 30..=1200;
pub const DRAIN_SECONDS: RangeInclusive<i64> = 10..=4000;
pub const MINIMUM_HEALTHY: &[i64] = &[0, 1];
/// `quic_cid_hash_strategy.len` (bytes) and `offset`.
pub const CID_LEN: RangeInclusive<i64> = 1..=20;
pub const CID_OFFSET: RangeInclusive<i64> = 0..=19;
/// AZ affinity thresholds, -1 meaning "not this one".
pub const AZ_HEALTHY_PERCENTAGE: RangeInclusive<i64> = -1..=100;
pub const AZ_HEALTHY_COUNT: RangeInclusive<i64> = -1..=10000;

impl Pool {
    /// The pool protocol, TCP when the body omits it (update bodies cannot change it).
    pub fn protocol(&self) -> &str {
        self.protocol.as_deref().unwrap_or("TCP")
    }

    /// The algorithm; an IP pool defaults to 5_TUPLE_HASH, any other to ROUND_ROBIN (§1).
    pub fn algorithm(&self) -> &str {
        match (&self.lb_algorithm, self.protocol()) {
            (Some(a), _) => a,
            (None, "IP") => "5_TUPLE_HASH",
            (None, _) => "ROUND_ROBIN",
        }
    }

    /// A pool whose members carry `role` is a master-slave pool (seed 002).
    pub fn is_master_slave(&self) -> bool {
        self.members.iter().flatten().any(|m| m.role.is_some())
    }

    /// The pool's `ip_version` is v4, or it is an HTTP pool, which seed 002 says is v4.
    pub fn supports_ipv4_only(&self) -> bool {
        self.ip_version.as_deref() == Some("v4")
            || (self.ip_version.is_none() && self.protocol() == "HTTP")
    }

    pub fn slow_start_enabled(&self) -> bool {
        self.slow_start.as_ref().and_then(|s| s.enable) == Some(true)
    }
}
