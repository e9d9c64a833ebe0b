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
    added_members, apply_pool_update, lower_pool, member_keys, own_key_uses, protocol_named,
};
pub use monitor::check_code_list;

use schemars::JsonSchema;
use serde::Deserialize;

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
    "ip_version",
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
pub struct Pool {
    pub admin_state_up: Option<bool>,
    /// ROUND_ROBIN, LEAST_CONNECTIONS, SOURCE_IP, QUIC_CID, 2_TUPLE_HASH, 3_TUPLE_HASH, 5_TUPLE_HASH.
    pub lb_algorithm: Option<String>,
    /// TCP, UDP, IP, TLS, GRPC, HTTP, HTTPS, QUIC. Update bodies omit it: TCP is assumed.
    pub protocol: Option<String>,
    /// `instance`, `ip` or `""`.
    #[serde(rename = "type")]
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
    pub protection_status: Option<String>,
    pub protection_reason: Option<String>,
}

/// An ELB member (`POST …/pools/{id}/members` body, or a master-slave member with `role`).
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
pub struct Member {
    pub address: Option<String>,
    pub protocol_port: Option<i64>,
    /// 0..=100, default 1.
    pub weight: Option<i64>,
    pub name: Option<String>,
    pub availability_zone: Option<String>,
    /// `master` or `slave` (master-slave pools only).
    pub role: Option<String>,
    pub admin_state_up: Option<bool>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
pub struct HealthMonitor {
    /// TCP, UDP_CONNECT, HTTP, HTTPS, TLS, GRPC (allowed set depends on the pool protocol).
    #[serde(rename = "type")]
    pub monitor_type: Option<String>,
    pub delay: Option<i64>,
    pub timeout: Option<i64>,
    pub max_retries: Option<i64>,
    pub max_retries_down: Option<i64>,
    pub admin_state_up: Option<bool>,
    pub expected_codes: Option<String>,
    pub url_path: Option<String>,
    /// Checked against seed 002's rules, not simulated (probes go to the member's port).
    pub monitor_port: Option<i64>,
    pub http_method: Option<String>,
    pub domain_name: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
pub struct SessionPersistence {
    /// SOURCE_IP, HTTP_COOKIE, APP_COOKIE.
    #[serde(rename = "type")]
    pub persistence_type: Option<String>,
    pub cookie_name: Option<String>,
    /// Minutes.
    pub persistence_timeout: Option<i64>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
pub struct SlowStart {
    pub enable: Option<bool>,
    /// Seconds, 30..=1200, default 30.
    pub duration: Option<i64>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
pub struct ConnectionDrain {
    pub enable: Option<bool>,
    /// Seconds, 10..=4000.
    pub timeout: Option<i64>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
pub struct PoolHealth {
    /// 0 (off) or 1 (forward to all members when none is ONLINE).
    pub minimum_healthy_member_count: Option<i64>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
pub struct QuicCidHashStrategy {
    /// 1..=20, default 3.
    pub len: Option<i64>,
    /// 0..=19, default 1.
    pub offset: Option<i64>,
}

#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
pub struct AzAffinity {
    pub enable: Option<bool>,
    pub az_minimum_healthy_member_percentage: Option<i64>,
    pub az_minimum_healthy_member_count: Option<i64>,
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

    pub fn slow_start_enabled(&self) -> bool {
        self.slow_start.as_ref().and_then(|s| s.enable) == Some(true)
    }
}
