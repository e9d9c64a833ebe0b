//! Lowering a VPC channel into a [`PoolConfig`].

use super::{ChannelKind, VpcChannel, VpcMember};
use crate::model::{self, Algorithm, HealthCheck, PoolConfig, Protocol, Tier};
use crate::scenario::keys;
use crate::time::SimTime;

/// APIG members are keyed by their address as the API compares it (`keys::canonical`), so a
/// channel update that spells an address another way names the same member; duplicate addresses
/// keep only the first definition (seed 004).
pub fn member_keys(members: &[VpcMember]) -> Vec<String> {
    first_definitions(members)
        .map(|m| keys::canonical(m.address().unwrap_or_default()).into_owned())
        .collect()
}

fn first_definitions(members: &[VpcMember]) -> impl Iterator<Item = &VpcMember> {
    let mut seen = std::collections::BTreeSet::new();
    members.iter().filter(move |m| {
        m.address()
            .is_some_and(|addr| seen.insert(keys::canonical(addr)))
    })
}

/// Members of the channel that take traffic (`status` not 2), duplicates counted once.
pub fn enabled_members(ch: &VpcChannel) -> usize {
    let members = ch.members.as_deref().unwrap_or_default();
    first_definitions(members)
        .filter(|m| m.status != Some(2))
        .count()
}

/// Lowers an APIG VPC channel; also used for live `update_vpc_channel` events.
pub fn lower_channel(ch: &VpcChannel, zones: &[String]) -> PoolConfig {
    let algorithm = match ch.balance_strategy {
        Some(2) => Algorithm::LeastConnections,
        Some(3) => Algorithm::SourceIp,
        Some(4) => Algorithm::UriHash,
        _ => Algorithm::RoundRobin,
    };
    // seed 001, member `weight`: "valid only when the VPC channel type is set to 2" (server)
    let own_weights = ch.kind() == ChannelKind::Server;
    let groups = ch.member_groups.as_deref().unwrap_or_default();
    let channel_members = ch.members.as_deref().unwrap_or_default();
    let keys = member_keys(channel_members);
    let members = first_definitions(channel_members)
        .zip(keys)
        .map(|(m, key)| {
            // Seeds 001/003: a group's weight "is automatically used to assign weights to
            // servers in this group": each member takes it (docs/scenario-format.md).
            let group_weight = m.group_weight(groups);
            model::Member {
                key,
                address: m.address().unwrap_or_default().to_string(),
                port: match m.port {
                    Some(p) if p > 0 => p.min(65535) as u16,
                    _ => ch.port.unwrap_or(0).clamp(0, 65535) as u16,
                },
                weight: group_weight
                    .or(m.weight.filter(|_| own_weights))
                    .unwrap_or(1)
                    .max(0) as u32,
                zone: keys::zone_id(zones, m.availability_zone.as_deref()),
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
            reads_response: matches!(h.protocol.as_deref(), Some("HTTP" | "HTTPS")),
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
