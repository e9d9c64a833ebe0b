//! The ELB v3 listener in front of the pool (`POST /v3/{project_id}/elb/listeners`, its update
//! body and its `GET` response) and its rules: listener-and-logs §1, the vendor SDK's
//! `CreateListenerOption`, and the listener/pool protocol table of huawei-semantics §8.

use crate::scenario::diag::{Code, Findings};
use crate::scenario::schema::{one_of, vendor_body, within};
use crate::sim::{FrontConfig, FrontKind, RetryPolicy, ELB_CONNECT_TIMEOUT};
use crate::time::SimTime;
use schemars::JsonSchema;
use serde::Deserialize;
use std::ops::RangeInclusive;

/// `listener`: the create body's `listener` object (or the whole body, `{"listener": {…}}`).
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(transform = vendor_body(LISTENER_NOT_MODELLED))]
pub struct Listener {
    /// TCP, UDP, HTTP, HTTPS, TERMINATED_HTTPS, QUIC, TLS, IP (default: the pool's own).
    #[schemars(transform = one_of(LISTENER_PROTOCOLS))]
    pub protocol: Option<String>,
    /// 0..=65535; 0 listens on `port_ranges` (TCP, UDP and TLS listeners).
    #[schemars(transform = within(LISTENER_PORTS))]
    pub protocol_port: Option<i64>,
    /// Retry a failed attempt on other members (default true; HTTP, HTTPS and QUIC only).
    pub enable_member_retry: Option<bool>,
    /// Seconds to wait for a member's response, 1..=300 (default 60; HTTP, HTTPS, QUIC).
    #[schemars(transform = within(TIMEOUT_SECONDS))]
    pub member_timeout: Option<i64>,
    /// Seconds to wait for a client's request, 1..=300 (default 60; HTTP, HTTPS, QUIC).
    #[schemars(transform = within(TIMEOUT_SECONDS))]
    pub client_timeout: Option<i64>,
    /// Idle client connections close after this many seconds: TCP, UDP, IP, TLS 10..=4000
    /// (default 300); HTTP, HTTPS, QUIC 0..=4000 (default 60).
    #[schemars(transform = within(KEEPALIVE_SECONDS_L7))]
    pub keepalive_timeout: Option<i64>,
    /// Concurrent connections per AZ, 0..=1000000 (0, the default: unlimited).
    #[schemars(transform = within(LIMITS))]
    pub connection: Option<i64>,
    /// New connections per second per AZ, 0..=1000000 (0, the default: unlimited).
    #[schemars(transform = within(LIMITS))]
    pub cps: Option<i64>,
    /// HTTP/2 towards clients (HTTPS listeners; a GRPC pool needs it).
    pub http2_enable: Option<bool>,
}

/// Vendor listener fields lbsim accepts and does not simulate (`CreateListenerOption`,
/// `UpdateListenerOption`, the `Listener` response, and the response's `request_id`).
pub const LISTENER_NOT_MODELLED: &[&str] = &[
    "id",
    "name",
    "description",
    "project_id",
    "enterprise_project_id",
    "admin_state_up",
    "loadbalancer_id",
    "loadbalancers",
    "default_pool_id",
    "client_ca_tls_container_ref",
    "default_tls_container_ref",
    "sni_container_refs",
    "sni_match_algo",
    "tls_ciphers_policy",
    "security_policy_id",
    "insert_headers",
    "ipgroup",
    "transparent_client_ip_enable",
    "proxy_protocol_enable",
    "enhance_l7policy_enable",
    "quic_config",
    "protection_status",
    "protection_reason",
    "gzip_enable",
    "port_ranges",
    "ssl_early_data_enable",
    "nat64_enable",
    "connection_limit",
    "tags",
    "created_at",
    "updated_at",
    "request_id",
];

/// Fields a listener update body may carry (`UpdateListenerOption`).
pub const LISTENER_PUT_FIELDS: &[&str] = &[
    "admin_state_up",
    "client_ca_tls_container_ref",
    "default_pool_id",
    "default_tls_container_ref",
    "description",
    "http2_enable",
    "insert_headers",
    "name",
    "sni_container_refs",
    "sni_match_algo",
    "tls_ciphers_policy",
    "security_policy_id",
    "enable_member_retry",
    "member_timeout",
    "client_timeout",
    "keepalive_timeout",
    "ipgroup",
    "transparent_client_ip_enable",
    "proxy_protocol_enable",
    "enhance_l7policy_enable",
    "quic_config",
    "protection_status",
    "protection_reason",
    "gzip_enable",
    "ssl_early_data_enable",
    "cps",
    "connection",
    "nat64_enable",
];

pub const LISTENER_PROTOCOLS: &[&str] = &[
    "TCP",
    "UDP",
    "HTTP",
    "HTTPS",
    "TERMINATED_HTTPS",
    "QUIC",
    "TLS",
    "IP",
];

/// A layer-7 listener: it forwards requests, retries them and answers with HTTP status codes.
/// TERMINATED_HTTPS is the shared load balancer's HTTPS (a dedicated one turns it into HTTPS).
pub fn is_l7(protocol: &str) -> bool {
    matches!(protocol, "HTTP" | "HTTPS" | "TERMINATED_HTTPS" | "QUIC")
}

/// The pool protocols a listener of `protocol` forwards to (huawei-semantics §8; a TLS
/// listener also takes a TCP pool of `ip_version` v4).
fn pool_protocols(protocol: &str) -> &'static [&'static str] {
    match protocol {
        "UDP" => &["UDP", "QUIC"],
        "TCP" => &["TCP"],
        "IP" => &["IP"],
        "HTTP" | "TERMINATED_HTTPS" => &["HTTP"],
        "HTTPS" | "QUIC" => &["HTTP", "HTTPS", "GRPC"],
        "TLS" => &["TLS", "TCP"],
        _ => &[],
    }
}

/// A TLS listener forwards to a TCP pool only of `ip_version` v4 (huawei-semantics §8): an
/// error for another version; a warning when the pool does not say (a dedicated load
/// balancer's TCP pool is dualstack, seed 000).
fn tls_to_tcp(path: &str, ip_version: Option<&str>, f: &mut Findings) {
    const RULE: &str =
        "a TLS listener takes a TCP pool only of ip_version v4 (huawei-semantics §8)";
    match ip_version {
        Some("v4") => {}
        Some(v) => {
            let rule = format!("cannot forward to the pool (TCP, ip_version {v}): {RULE}");
            f.error(path, "TLS", rule, Code::NONE);
        }
        None => {
            let rule = format!(
                "{RULE}; the pool does not give its ip_version (a dedicated load balancer's TCP pool is dualstack)"
            );
            f.warn(path, "TLS", rule);
        }
    }
}

/// The listener a pool of `pool_protocol` gets when the scenario does not say: a QUIC pool
/// sits behind a UDP listener, a GRPC pool behind an HTTPS one, any other behind its own.
pub fn default_protocol(pool_protocol: &str) -> &str {
    match pool_protocol {
        "QUIC" => "UDP",
        "GRPC" => "HTTPS",
        p => p,
    }
}

/// The protocol the listener has: its own, else the pool's default.
pub fn protocol_of<'a>(listener: Option<&'a Listener>, pool_protocol: &'a str) -> &'a str {
    listener
        .and_then(|l| l.protocol.as_deref())
        .unwrap_or_else(|| default_protocol(pool_protocol))
}

/// Default `keepalive_timeout` in seconds (listener-and-logs §1.1).
pub fn default_keepalive(protocol: &str) -> i64 {
    if is_l7(protocol) {
        60
    } else {
        300
    }
}

/// Default `member_timeout` and `client_timeout` in seconds.
pub const DEFAULT_MEMBER_TIMEOUT: i64 = 60;
/// `member_timeout` and `client_timeout`, seconds.
const TIMEOUT_SECONDS: RangeInclusive<i64> = 1..=300;
/// `keepalive_timeout` seconds on TCP, UDP, IP and TLS listeners, and on layer-7 ones.
const KEEPALIVE_SECONDS_L4: RangeInclusive<i64> = 10..=4000;
const KEEPALIVE_SECONDS_L7: RangeInclusive<i64> = 0..=4000;
/// `protocol_port`: 0 listens on `port_ranges`.
const LISTENER_PORTS: RangeInclusive<i64> = 0..=65535;
/// `cps` and `connection` (0: unlimited).
const LIMITS: RangeInclusive<i64> = 0..=1_000_000;

impl Listener {
    /// The listener's rules in front of a pool of `pool_protocol` and `pool_ip_version`; `p`
    /// is its path.
    pub fn validate(
        &self,
        p: &str,
        pool_protocol: &str,
        pool_ip_version: Option<&str>,
        f: &mut Findings,
    ) {
        let at = |field: &str| format!("{p}.{field}");
        let protocol = protocol_of(Some(self), pool_protocol);
        match &self.protocol {
            // the only listener the pool can have (TCP, UDP, IP pools) or its plainest: a note,
            // so that `--set listener.member_timeout=…` needs no protocol
            None => f.note(
                &at("protocol"),
                format!(
                    "is not given; simulating a {protocol} listener, the {pool_protocol} pool's"
                ),
            ),
            Some(given) => {
                let known_pool = super::PROTOCOLS.contains(&pool_protocol);
                if f.one_of(&at("protocol"), given, LISTENER_PROTOCOLS, Code::NONE) && known_pool {
                    let takes = pool_protocols(given);
                    if !takes.contains(&pool_protocol) {
                        let rule = format!(
                            "cannot forward to the pool (protocol {pool_protocol}): a {given} listener takes only {} pools (huawei-semantics §8)",
                            takes.join(", ")
                        );
                        f.error(&at("protocol"), given, rule, Code::NONE);
                    } else if (given.as_str(), pool_protocol) == ("TLS", "TCP") {
                        tls_to_tcp(&at("protocol"), pool_ip_version, f);
                    }
                }
            }
        }
        if !LISTENER_PROTOCOLS.contains(&protocol) {
            return;
        }
        self.validate_ports_and_limits(p, protocol, f);
        self.validate_timeouts(p, protocol, f);
        if let Some(retry) = self.enable_member_retry {
            if !is_l7(protocol) {
                let rule =
                    format!("is only accepted on HTTP, HTTPS and QUIC listeners, not {protocol}");
                f.error(&at("enable_member_retry"), retry, rule, Code::NONE);
            }
        }
        match (protocol, self.http2_enable) {
            ("QUIC", Some(false)) => f.warn(
                &at("http2_enable"),
                false,
                "is fixed to true on QUIC listeners (the API ignores it)",
            ),
            ("HTTPS" | "TERMINATED_HTTPS", h) if pool_protocol == "GRPC" && h != Some(true) => {
                let rule = "must be true: a GRPC pool needs HTTP/2 on its HTTPS listener (huawei-semantics §8)";
                f.error(&at("http2_enable"), h.unwrap_or(false), rule, Code::NONE);
            }
            _ => {}
        }
    }

    fn validate_ports_and_limits(&self, p: &str, protocol: &str, f: &mut Findings) {
        if let Some(port) = self.protocol_port {
            let path = format!("{p}.protocol_port");
            if f.range(&path, port, LISTENER_PORTS, "", Code::NONE)
                && port == 0
                && !matches!(protocol, "TCP" | "UDP" | "TLS")
            {
                let rule = format!("(listening on port_ranges) is only for TCP, UDP and TLS listeners, not {protocol}");
                f.error(&path, 0i64, rule, Code::NONE);
            }
        }
        f.opt_range(&format!("{p}.cps"), self.cps, LIMITS, "", Code::NONE);
        let connection = format!("{p}.connection");
        f.opt_range(&connection, self.connection, LIMITS, "", Code::NONE);
    }

    fn validate_timeouts(&self, p: &str, protocol: &str, f: &mut Findings) {
        if let Some(k) = self.keepalive_timeout {
            // HTTP listeners take 0 (the SDK's text and the console); OTC's English page says
            // 1..=4000 [conflict]
            let bounds = if is_l7(protocol) {
                KEEPALIVE_SECONDS_L7
            } else {
                KEEPALIVE_SECONDS_L4
            };
            let unit = format!("seconds for {protocol} listeners");
            f.range(
                &format!("{p}.keepalive_timeout"),
                k,
                bounds,
                &unit,
                Code::NONE,
            );
        }
        for (field, value) in [
            ("member_timeout", self.member_timeout),
            ("client_timeout", self.client_timeout),
        ] {
            let Some(v) = value else { continue };
            let path = format!("{p}.{field}");
            if f.range(&path, v, TIMEOUT_SECONDS, "seconds", Code::NONE) && !is_l7(protocol) {
                let rule = format!(
                    "has no effect on a {protocol} listener (HTTP, HTTPS and QUIC listeners take it)"
                );
                f.warn(&path, v, rule);
            }
        }
    }
}

/// The listener as the engine's front: the vendor's defaults for what it leaves out, and
/// [`FrontConfig::elb_default`] when the scenario has none. Forwarding latency and undrained
/// connections are the load balancer's (set by the caller).
pub fn lower_listener(listener: Option<&Listener>, pool_protocol: &str) -> FrontConfig {
    let Some(l) = listener else {
        return FrontConfig::elb_default(super::protocol_named(pool_protocol));
    };
    let protocol = protocol_of(Some(l), pool_protocol);
    let l7 = is_l7(protocol);
    let secs = |s: i64| SimTime::from_secs(s.max(0) as u64);
    let limit = |v: Option<i64>| v.map_or(0, |v| v.clamp(*LIMITS.start(), *LIMITS.end()) as u32);
    FrontConfig {
        kind: if l7 {
            FrontKind::ElbL7
        } else {
            FrontKind::ElbL4
        },
        retry: if l7 && l.enable_member_retry != Some(false) {
            RetryPolicy::Elb
        } else {
            RetryPolicy::Never
        },
        connect_timeout: ELB_CONNECT_TIMEOUT,
        member_timeout: l7.then(|| secs(l.member_timeout.unwrap_or(DEFAULT_MEMBER_TIMEOUT))),
        keepalive_timeout: Some(secs(
            l.keepalive_timeout
                .unwrap_or_else(|| default_keepalive(protocol)),
        )),
        cps: limit(l.cps),
        max_connections: limit(l.connection),
        ..FrontConfig::elb_default(super::protocol_named(pool_protocol))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An empty listener body is the listener a pool gets without one.
    #[test]
    fn an_empty_listener_is_the_default_listener() {
        for pool in super::super::PROTOCOLS {
            let empty = Listener::default();
            assert_eq!(
                lower_listener(Some(&empty), pool),
                lower_listener(None, pool),
                "{pool}"
            );
        }
    }
}
