//! Lowering: a validated scenario's pool becomes a [`PoolConfig`] (plain Rust types, no serde).
//! Where the vendor docs leave a behaviour open, the choice is stated here and in
//! ARCHITECTURE.md.

use super::{apig, elb, Scenario};
use crate::model::{
    Algorithm, AzAffinity, AzFallback, AzThreshold, HealthCheck, Member, Persistence, PoolConfig,
    Protocol, Tier, TupleFields, ZoneId,
};
use crate::time::SimTime;

/// Member keys in pool order: `name` if given, else the address, with `:port` when the address
/// alone is ambiguous (ELB allows one address on several ports).
pub fn member_keys(s: &Scenario) -> Vec<String> {
    if let Some(pool) = &s.pool {
        elb_member_keys(pool.members.as_deref().unwrap_or_default())
    } else if let Some(ch) = &s.vpc_channel {
        apig_member_keys(ch.members.as_deref().unwrap_or_default())
    } else {
        Vec::new()
    }
}

pub fn elb_member_keys(members: &[elb::Member]) -> Vec<String> {
    let simulated: Vec<&elb::Member> = members.iter().filter(|m| m.address.is_some()).collect();
    let raw: Vec<(Option<&str>, &str, i64)> = simulated
        .iter()
        .map(|m| {
            (
                m.name.as_deref(),
                m.address.as_deref().unwrap_or_default(),
                m.protocol_port.unwrap_or(0),
            )
        })
        .collect();
    disambiguate(&raw)
}

/// APIG members: duplicate addresses keep only the first definition (seed 004).
pub fn apig_member_keys(members: &[apig::VpcMember]) -> Vec<String> {
    let raw: Vec<(Option<&str>, &str, i64)> = first_definitions(members)
        .map(|m| (None, m.address().unwrap_or_default(), m.port.unwrap_or(0)))
        .collect();
    disambiguate(&raw)
}

fn first_definitions(members: &[apig::VpcMember]) -> impl Iterator<Item = &apig::VpcMember> {
    let mut seen = std::collections::BTreeSet::new();
    members
        .iter()
        .filter(move |m| m.address().is_some_and(|addr| seen.insert(addr)))
}

fn disambiguate(raw: &[(Option<&str>, &str, i64)]) -> Vec<String> {
    let base: Vec<String> = raw
        .iter()
        .map(|(name, addr, _)| name.map_or_else(|| addr.to_string(), str::to_string))
        .collect();
    let mut uses: std::collections::BTreeMap<&str, usize> = Default::default();
    for key in &base {
        *uses.entry(key).or_default() += 1;
    }
    raw.iter()
        .zip(&base)
        .map(|((_, addr, port), key)| {
            if uses.get(key.as_str()).copied().unwrap_or(0) > 1 {
                format!("{addr}:{port}")
            } else {
                key.clone()
            }
        })
        .collect()
}

/// Every AZ of the scenario: the load balancer's first (default: the first member AZ, or
/// `az1`), then the members' in order of appearance.
pub fn zone_names(s: &Scenario) -> Vec<String> {
    let mut zones: Vec<String> = s
        .loadbalancer
        .as_ref()
        .and_then(|lb| lb.availability_zones.clone())
        .unwrap_or_default();
    let member_zones: Vec<String> = if let Some(p) = &s.pool {
        p.members
            .iter()
            .flatten()
            .filter_map(|m| m.availability_zone.clone())
            .collect()
    } else if let Some(c) = &s.vpc_channel {
        c.members
            .iter()
            .flatten()
            .filter_map(|m| m.availability_zone.clone())
            .collect()
    } else {
        Vec::new()
    };
    if zones.is_empty() {
        zones.push(
            member_zones
                .first()
                .cloned()
                .unwrap_or_else(|| "az1".into()),
        );
    }
    let mut listed: std::collections::BTreeSet<String> = zones.iter().cloned().collect();
    for z in member_zones {
        if listed.insert(z.clone()) {
            zones.push(z);
        }
    }
    zones
}

/// Seed 000 update semantics: fields present in the `PUT` body replace the pool's; members and
/// the health monitor are separate resources and stay, and the protocol is fixed at creation.
pub fn apply_pool_update(base: &elb::Pool, update: &elb::Pool) -> elb::Pool {
    let u = update.clone();
    let b = base.clone();
    elb::Pool {
        admin_state_up: u.admin_state_up.or(b.admin_state_up),
        lb_algorithm: u.lb_algorithm.or(b.lb_algorithm),
        protocol: b.protocol,
        pool_type: u.pool_type.or(b.pool_type),
        members: b.members,
        healthmonitor: b.healthmonitor,
        session_persistence: if update.session_persistence.is_some() {
            u.session_persistence
        } else {
            b.session_persistence
        },
        slow_start: u.slow_start.or(b.slow_start),
        connection_drain: u.connection_drain.or(b.connection_drain),
        pool_health: u.pool_health.or(b.pool_health),
        quic_cid_hash_strategy: u.quic_cid_hash_strategy.or(b.quic_cid_hash_strategy),
        az_affinity: u.az_affinity.or(b.az_affinity),
        any_port_enable: u.any_port_enable.or(b.any_port_enable),
        member_deletion_protection_enable: u
            .member_deletion_protection_enable
            .or(b.member_deletion_protection_enable),
        protection_status: u.protection_status.or(b.protection_status),
        protection_reason: u.protection_reason.or(b.protection_reason),
    }
}

/// Lowers the scenario's pool. Call only on a scenario that validated without errors.
pub fn lower_pool(s: &Scenario) -> Result<PoolConfig, String> {
    let zones = zone_names(s);
    if let Some(pool) = &s.pool {
        Ok(lower_elb(pool, &zones))
    } else if let Some(ch) = &s.vpc_channel {
        Ok(lower_apig(ch, &zones))
    } else {
        Err("the scenario has no pool definition".into())
    }
}

fn zone_id(zones: &[String], name: Option<&str>) -> Option<ZoneId> {
    let name = name?;
    zones.iter().position(|z| z == name).map(|i| i as ZoneId)
}

fn minutes(m: i64) -> SimTime {
    SimTime::from_secs(m.max(0) as u64 * 60)
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

/// Lowers an ELB pool; also used for live `update_pool` events.
pub fn lower_elb(pool: &elb::Pool, zones: &[String]) -> PoolConfig {
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
            // §3: TCP/UDP ignore `type` and act as SOURCE_IP; QUIC requires SOURCE_IP. API
            // default timeout 1 minute.
            Protocol::Tcp | Protocol::Udp | Protocol::Quic => {
                let explicit = sp.is_some();
                (explicit || protocol == Protocol::Quic).then(|| Persistence::SourceIp {
                    timeout: minutes(sp.and_then(|s| s.persistence_timeout).unwrap_or(1)),
                })
            }
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
        .filter(|a| a.enable == Some(true))
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
        });
    let members = pool.members.as_deref().unwrap_or_default();
    let keys = elb_member_keys(members);
    let members = members
        .iter()
        .filter(|m| m.address.is_some())
        .zip(keys)
        .map(|(m, key)| Member {
            key,
            address: m.address.clone().unwrap_or_default(),
            port: m.protocol_port.unwrap_or(0).clamp(0, 65535) as u16,
            weight: m.weight.unwrap_or(1).max(0) as u32,
            zone: zone_id(zones, m.availability_zone.as_deref()),
            tier: match m.role.as_deref() {
                Some("master") => Tier::Master,
                Some("slave") => Tier::Slave,
                _ => Tier::Primary,
            },
            enabled: true,
            group: None,
        })
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

/// Lowers an APIG VPC channel; also used for live `update_vpc_channel` events.
pub fn lower_apig(ch: &apig::VpcChannel, zones: &[String]) -> PoolConfig {
    let algorithm = match ch.balance_strategy {
        Some(2) => Algorithm::LeastConnections,
        Some(3) => Algorithm::SourceIp,
        Some(4) => Algorithm::UriHash,
        _ => Algorithm::RoundRobin,
    };
    let groups = ch.member_groups.as_deref().unwrap_or_default();
    let channel_members = ch.members.as_deref().unwrap_or_default();
    let keys = apig_member_keys(channel_members);
    let members = first_definitions(channel_members)
        .zip(keys)
        .map(|(m, key)| {
            // §12 [inferred]: a group weight, when set, becomes each member's weight.
            let group_weight = m.member_group_name.as_deref().and_then(|g| {
                groups
                    .iter()
                    .find(|x| x.member_group_name.as_deref() == Some(g))
                    .and_then(|x| x.member_group_weight)
            });
            Member {
                key,
                address: m.address().unwrap_or_default().to_string(),
                port: match m.port {
                    Some(p) if p > 0 => p.min(65535) as u16,
                    _ => ch.port.unwrap_or(0).clamp(0, 65535) as u16,
                },
                weight: group_weight.or(m.weight).unwrap_or(1).max(0) as u32,
                zone: zone_id(zones, m.availability_zone.as_deref()),
                tier: if m.is_backup == Some(true) {
                    Tier::Standby
                } else {
                    Tier::Primary
                },
                enabled: m.status != Some(2),
                group: m.member_group_name.clone(),
            }
        })
        .collect();
    let health_check = ch
        .vpc_health_config
        .as_ref()
        .filter(|h| h.status != Some(2))
        .map(|h| HealthCheck {
            interval: SimTime::from_secs(h.time_interval.unwrap_or(10).max(1) as u64),
            timeout: SimTime::from_secs(h.timeout.unwrap_or(5).max(1) as u64),
            rise: h.threshold_normal.unwrap_or(2).max(1) as u32,
            fall: h.threshold_abnormal.unwrap_or(5).max(1) as u32,
        });
    PoolConfig {
        protocol: Protocol::Http,
        algorithm,
        members,
        zones: zones.to_vec(),
        slow_start: None,
        persistence: None,
        drain_timeout: None,
        az_affinity: None,
        all_offline_forwarding: false,
        health_check,
        deletion_protection: false,
    }
}
