//! Member keys and zone names, shared by both dialects: how events and `backends.members` name
//! a member, and which AZs a scenario has.

use std::collections::{BTreeMap, BTreeSet};

/// A member's key before disambiguation: its `name` if given, else its address as the API
/// compares addresses ([`canonical`]).
pub fn base_key(name: Option<&str>, addr: &str) -> String {
    match name {
        Some(name) => name.to_string(),
        None => canonical(addr).into_owned(),
    }
}

/// `address:port`, `[address]:port` for IPv6, the address in its canonical text.
fn address_port(addr: &str, port: i64) -> String {
    match canonical(addr) {
        a if a.contains(':') => format!("[{a}]:{port}"),
        a => format!("{a}:{port}"),
    }
}

/// A member reference as keys are written: an address or `address:port` in its canonical text
/// (`2001:0DB8::1` is `2001:db8::1`), anything else as given.
pub fn canonical_reference(key: &str) -> std::borrow::Cow<'_, str> {
    match key.parse::<std::net::SocketAddr>() {
        Ok(sa) => address_port(&sa.ip().to_string(), i64::from(sa.port())).into(),
        Err(_) => canonical(key),
    }
}

/// Member keys from `(name, address, port)` in order: the [`base_key`], or `address:port`
/// (`[address]:port` for IPv6) when that is used more than once, here or by the members of
/// `elsewhere` (base key → how many members use it; ELB allows one address on several ports).
pub fn disambiguate(
    raw: &[(Option<&str>, &str, i64)],
    elsewhere: impl Fn(&str) -> usize,
) -> Vec<String> {
    let base: Vec<String> = raw
        .iter()
        .map(|(name, addr, _)| base_key(*name, addr))
        .collect();
    let mut uses: BTreeMap<&str, usize> = BTreeMap::new();
    for key in &base {
        *uses.entry(key).or_default() += 1;
    }
    raw.iter()
        .zip(&base)
        .map(|((_, addr, port), key)| {
            let here = uses.get(key.as_str()).copied().unwrap_or(0);
            if here + elsewhere(key) > 1 {
                address_port(addr, *port)
            } else {
                key.clone()
            }
        })
        .collect()
}

/// Every AZ of the scenario: the load balancer's first (default: the first member AZ, or
/// `az1`), then the members' in order of appearance.
pub fn zone_names(lb_zones: &[String], member_zones: &[String]) -> Vec<String> {
    let mut zones = lb_zones.to_vec();
    if zones.is_empty() {
        zones.push(
            member_zones
                .first()
                .cloned()
                .unwrap_or_else(|| "az1".into()),
        );
    }
    let mut listed: BTreeSet<String> = zones.iter().cloned().collect();
    for z in member_zones {
        if listed.insert(z.clone()) {
            zones.push(z.clone());
        }
    }
    zones
}

/// The index of a zone name among `zones`.
pub fn zone_id(zones: &[String], name: Option<&str>) -> Option<crate::model::ZoneId> {
    let name = name?;
    zones
        .iter()
        .position(|z| z == name)
        .map(|i| i as crate::model::ZoneId)
}

/// An address as the API compares addresses: an IP address in its canonical text (RFC 5952 for
/// IPv6: `2001:DB8:0::1` is `2001:db8::1`), anything else (an ECS id) as written.
pub fn canonical(addr: &str) -> std::borrow::Cow<'_, str> {
    match addr.parse::<std::net::IpAddr>() {
        Ok(ip) if ip.to_string() != addr => ip.to_string().into(),
        _ => addr.into(),
    }
}
