//! Lowering an ELB pool into a [`PoolConfig`]. Where the vendor docs leave a behaviour open, the
//! choice is stated here and in `docs/model.md`.

use super::{Member, Pool};
use crate::model::{
    self, Algorithm, AzAffinity, AzFallback, AzThreshold, HealthCheck, Persistence, PoolConfig,
    Protocol, Tier, TupleFields,
};
use crate::scenario::keys;
use crate::time::SimTime;

/// Keys of the members that have an address, in pool order.
pub fn member_keys(members: &[Member]) -> Vec<String> {
    keys::disambiguate(&key_parts(members), |_| 0)
}

/// `(name, address, port)` of each member that has an address, in order.
fn key_parts(members: &[Member]) -> Vec<(Option<&str>, &str, i64)> {
    let with_address = members.iter().filter_map(|m| {
        let addr = m.address.as_deref()?;
        Some((m.name.as_deref(), addr, m.protocol_port.unwrap_or(0)))
    });
    with_address.collect()
}

/// The settings of a pool update body a `null` turns off. Seed 000's own response shows
/// `"session_persistence": null` for a pool without persistence; the other object-valued
/// settings (and the protection reason) are read the same way: null is "not set", the default.
pub const NULLABLE_POOL_FIELDS: &[&str] = &[
    "session_persistence",
    "slow_start",
    "connection_drain",
    "pool_health",
    "quic_cid_hash_strategy",
    "az_affinity",
    "protection_reason",
];

/// Seed 000 update semantics: fields present in the `PUT` body replace the pool's; the health
/// monitor is a separate resource and stays, and the protocol is fixed at creation. Members are
/// a separate resource too: the result has none (`None`), so an update costs nothing per member.
///
/// `nulls`: the [`NULLABLE_POOL_FIELDS`] the body set to `null`, which in the vendor's PUT turns
/// the setting off (a field left out keeps the pool's).
pub fn apply_pool_update(base: &Pool, update: &Pool, nulls: &[&str]) -> Pool {
    // a null turns the setting off; otherwise the body's value, else the pool's
    fn set<T>(new: Option<T>, old: Option<T>, nulls: &[&str], field: &str) -> Option<T> {
        if nulls.contains(&field) {
            None
        } else {
            new.or(old)
        }
    }
    let u = update.clone();
    let b = Pool {
        admin_state_up: base.admin_state_up,
        lb_algorithm: base.lb_algorithm.clone(),
        protocol: base.protocol.clone(),
        pool_type: base.pool_type.clone(),
        members: None,
        healthmonitor: base.healthmonitor.clone(),
        session_persistence: base.session_persistence.clone(),
        slow_start: base.slow_start.clone(),
        connection_drain: base.connection_drain.clone(),
        pool_health: base.pool_health.clone(),
        quic_cid_hash_strategy: base.quic_cid_hash_strategy.clone(),
        az_affinity: base.az_affinity.clone(),
        any_port_enable: base.any_port_enable,
        member_deletion_protection_enable: base.member_deletion_protection_enable,
        protection_status: base.protection_status.clone(),
        protection_reason: base.protection_reason.clone(),
        ip_version: base.ip_version.clone(),
    };
    Pool {
        admin_state_up: u.admin_state_up.or(b.admin_state_up),
        lb_algorithm: u.lb_algorithm.or(b.lb_algorithm),
        protocol: b.protocol,
        pool_type: u.pool_type.or(b.pool_type),
        members: b.members,
        healthmonitor: b.healthmonitor,
        session_persistence: set(
            u.session_persistence,
            b.session_persistence,
            nulls,
            "session_persistence",
        ),
        slow_start: set(u.slow_start, b.slow_start, nulls, "slow_start"),
        connection_drain: set(
            u.connection_drain,
            b.connection_drain,
            nulls,
            "connection_drain",
        ),
        pool_health: set(u.pool_health, b.pool_health, nulls, "pool_health"),
        quic_cid_hash_strategy: set(
            u.quic_cid_hash_strategy,
            b.quic_cid_hash_strategy,
            nulls,
            "quic_cid_hash_strategy",
        ),
        az_affinity: set(u.az_affinity, b.az_affinity, nulls, "az_affinity"),
        any_port_enable: u.any_port_enable.or(b.any_port_enable),
        member_deletion_protection_enable: u
            .member_deletion_protection_enable
            .or(b.member_deletion_protection_enable),
        protection_status: u.protection_status.or(b.protection_status),
        protection_reason: set(
            u.protection_reason,
            b.protection_reason,
            nulls,
            "protection_reason",
        ),
        // not a field of the update body (seed 000 UpdatePoolOption)
        ip_version: b.ip_version,
    }
}

/// The protocol named by a validated ELB `protocol` (or `workload.protocol`) value.
pub fn protocol_named(name: &str) -> Protocol {
    match name {
        "UDP" => Protocol::Udp,
        "IP" => Protocol::Ip,
        "TLS" => Protocol::Tls,
        "GRPC" => Protocol::Grpc,
        "HTTP" => Protocol::Http,
        "HTTPS" => Protocol::Https,
        "QUIC" => Protocol::Quic,
        _ => Protocol::Tcp,
    }
}

fn minutes(m: i64) -> SimTime {
    SimTime::from_secs(m.max(0) as u64 * 60)
}

/// Lowers an ELB pool; also used for live `update_pool` events.
pub fn lower_pool(pool: &Pool, zones: &[String]) -> PoolConfig {
    let protocol = protocol_named(pool.protocol());
    let quic = pool.quic_cid_hash_strategy.clone().unwrap_or_default();
    let algorithm = match pool.algorithm() {
        "LEAST_CONNECTIONS" => Algorithm::LeastConnections,
        "SOURCE_IP" => Algorithm::SourceIp,
        // Seed 000: len defaults to 3, offset to 1.
        "QUIC_CID" => Algorithm::QuicCid {
            offset: quic.offset.unwrap_or(1).clamp(0, 19) as u8,
            len: quic.len.unwrap_or(3).clamp(1, 20) as u8,
        },
        "2_TUPLE_HASH" => Algorithm::TupleHash(TupleFields::Two),
        "3_TUPLE_HASH" => Algorithm::TupleHash(TupleFields::Three),
        "5_TUPLE_HASH" => Algorithm::TupleHash(TupleFields::Five),
        _ => Algorithm::RoundRobin,
    };
    let sp = pool
        .session_persistence
        .as_ref()
        .filter(|sp| sp.persistence_type.is_some());
    let persistence = if algorithm == Algorithm::SourceIp {
        None
    } else {
        match protocol {
            // §3: TCP/UDP ignore `type` and act as SOURCE_IP; QUIC requires SOURCE_IP (validation
            // refuses a QUIC pool without it). API default timeout 1 minute.
            Protocol::Tcp | Protocol::Udp | Protocol::Quic => sp.map(|s| Persistence::SourceIp {
                timeout: minutes(s.persistence_timeout.unwrap_or(1)),
            }),
            Protocol::Http | Protocol::Https | Protocol::Grpc => {
                sp.and_then(|s| match s.persistence_type.as_deref() {
                    Some("HTTP_COOKIE") => Some(Persistence::HttpCookie {
                        timeout: minutes(s.persistence_timeout.unwrap_or(1440)),
                    }),
                    Some("APP_COOKIE") => Some(Persistence::AppCookie {
                        cookie_name: s.cookie_name.clone().unwrap_or_default(),
                    }),
                    _ => None,
                })
            }
            Protocol::Ip | Protocol::Tls => None,
        }
    };
    let slow_start = pool
        .slow_start
        .as_ref()
        .filter(|s| s.enable == Some(true))
        .map(|s| SimTime::from_secs(s.duration.unwrap_or(30).max(0) as u64));
    let drain_timeout = pool
        .connection_drain
        .as_ref()
        .filter(|d| d.enable == Some(true))
        .map(|d| SimTime::from_secs(d.timeout.unwrap_or(10).max(0) as u64));
    let az_affinity = pool
        .az_affinity
        .as_ref()
        .filter(|a| a.enable == Some(true) && !pool.is_master_slave())
        .map(|a| {
            let pct = a.az_minimum_healthy_member_percentage.filter(|p| *p >= 0);
            let threshold = match pct {
                Some(p) => AzThreshold::Percentage(p.min(100) as u8),
                None => {
                    AzThreshold::Count(a.az_minimum_healthy_member_count.unwrap_or(0).max(0) as u32)
                }
            };
            let fallback = match a.az_unhealthy_fallback_strategy.as_deref() {
                Some("forward_to_healthy_member_of_remote_az") => {
                    AzFallback::HealthyMembersOfRemoteAz
                }
                Some("forward_to_all_healthy_member") => AzFallback::AllHealthyMembers,
                Some("forward_to_all_member") => AzFallback::AllMembers,
                _ => AzFallback::AllMembersOfLocalAz,
            };
            AzAffinity {
                threshold,
                fallback,
            }
        });
    let health_check = pool
        .healthmonitor
        .as_ref()
        .filter(|h| h.admin_state_up != Some(false))
        .map(|h| HealthCheck {
            interval: SimTime::from_secs(h.delay.unwrap_or(5).max(1) as u64),
            timeout: SimTime::from_secs(h.timeout.unwrap_or(3).max(1) as u64),
            rise: h.max_retries.unwrap_or(3).max(1) as u32,
            fall: h.max_retries_down.unwrap_or(3).max(1) as u32,
            reads_response: matches!(h.monitor_type.as_deref(), Some("HTTP" | "HTTPS" | "GRPC")),
        });
    let members = pool.members.as_deref().unwrap_or_default();
    let keys = member_keys(members);
    let members = members
        .iter()
        .filter(|m| m.address.is_some())
        .zip(keys)
        .map(|(m, key)| lower_member(m, key, zones))
        .collect();
    PoolConfig {
        protocol,
        algorithm,
        members,
        zones: zones.to_vec(),
        slow_start,
        persistence,
        drain_timeout,
        az_affinity,
        all_offline_forwarding: pool
            .pool_health
            .as_ref()
            .and_then(|h| h.minimum_healthy_member_count)
            == Some(1),
        health_check,
        deletion_protection: pool.member_deletion_protection_enable == Some(true),
    }
}

fn lower_member(m: &Member, key: String, zones: &[String]) -> model::Member {
    model::Member {
        key,
        address: m.address.clone().unwrap_or_default(),
        port: m.protocol_port.unwrap_or(0).clamp(0, 65535) as u16,
        weight: m.weight.unwrap_or(1).max(0) as u32,
        zone: keys::zone_id(zones, m.availability_zone.as_deref()),
        tier: match m.role.as_deref() {
            Some("master") => Tier::Master,
            Some("slave") => Tier::Slave,
            _ => Tier::Primary,
        },
        enabled: true,
        group: None,
    }
}

/// How many of the pool's own members each `name`-or-address stands for: what an added member's
/// key is disambiguated against (counted once, so adding members costs nothing per pool member).
/// A member's key before disambiguation: its name, else its address.
pub fn base_key(m: &Member) -> String {
    keys::base_key(m.name.as_deref(), m.address.as_deref().unwrap_or_default())
}

/// The members of an add-members body that have an address, lowered with their keys, each with
/// its index in the body. They are keyed as they would be in the pool itself: a `name` or address
/// that the pool's live members (`uses`: base key → how many use it) or the body also use
/// becomes `address:port`.
pub fn added_members(
    uses: impl Fn(&str) -> usize,
    added: &[Member],
    zones: &[String],
) -> Vec<(usize, model::Member)> {
    let keys = keys::disambiguate(&key_parts(added), uses);
    let with_address = added
        .iter()
        .enumerate()
        .filter(|(_, m)| m.address.is_some());
    with_address
        .zip(keys)
        .map(|((i, m), key)| (i, lower_member(m, key, zones)))
        .collect()
}
