//! ELB pool rules: ranges and enumerations cite seed 000/002 or `huawei-semantics.md` (§ numbers).

use super::*;
use crate::scenario::diag::{Code, Findings};
use crate::scenario::keys;

impl Pool {
    pub fn validate(&self, p: &str, f: &mut Findings) {
        self.validate_as(p, Some(self.is_master_slave()), f);
    }

    /// The rules of the pool as an update body (seed 000) leaves it: its settings, not its
    /// members, which the update cannot change and validation has checked already.
    pub fn validate_update(&self, p: &str, master_slave: bool, f: &mut Findings) {
        self.validate_as(p, None, f);
        if master_slave {
            self.validate_master_slave(p, self.protocol(), self.algorithm(), false, f);
        }
    }

    /// `master_slave` is `Some` when the members are to be checked too.
    fn validate_as(&self, p: &str, master_slave: Option<bool>, f: &mut Findings) {
        if self.protocol.is_none() {
            f.warn(
                &format!("{p}.protocol"),
                "",
                "is not given (update bodies omit it); simulating a TCP pool",
            );
        }
        let protocol = self.protocol();
        let protocol_ok = f.one_of(&format!("{p}.protocol"), protocol, PROTOCOLS, Code::NONE);
        if self.admin_state_up == Some(false) {
            f.error(
                &format!("{p}.admin_state_up"),
                false,
                "can only be true (seed 000)",
                Code::NONE,
            );
        }
        if let Some(v) = &self.ip_version {
            let path = format!("{p}.ip_version");
            // seed 002: "当协议为HTTP时,ip_version为v4" (an HTTP pool's ip_version is v4)
            if f.one_of(&path, v, IP_VERSIONS, Code::NONE) && protocol == "HTTP" && v != "v4" {
                f.warn(
                    &path,
                    v,
                    "is v4 on HTTP pools (seed 002); the run does not use the field",
                );
            }
        }
        let algorithm = self.algorithm();
        let algo_path = format!("{p}.lb_algorithm");
        if f.one_of(&algo_path, algorithm, ALGORITHMS, Code::NONE) && protocol_ok {
            if algorithm == "QUIC_CID" && protocol != "QUIC" {
                f.error(
                    &algo_path,
                    algorithm,
                    format!("is only allowed on QUIC pools, not {protocol}"),
                    Code::NONE,
                );
            }
            if algorithm.ends_with("_TUPLE_HASH") && protocol != "IP" {
                f.error(
                    &algo_path,
                    algorithm,
                    format!("is only allowed on IP pools, not {protocol}"),
                    Code::NONE,
                );
            }
            // huawei-semantics §1 documents the tuple hashes as IP-only, not IP pools as
            // tuple-only: the API is not known to refuse another algorithm there
            if protocol == "IP" && !algorithm.ends_with("_TUPLE_HASH") {
                f.warn(
                    &algo_path,
                    algorithm,
                    "is not one the vendor documents for IP pools (2_TUPLE_HASH, 3_TUPLE_HASH, \
                     5_TUPLE_HASH); simulated as given",
                );
            }
        }
        if let Some(t) = &self.pool_type {
            if f.one_of(&format!("{p}.type"), t, POOL_TYPES, Code::NONE)
                && t == "ip"
                && protocol == "IP"
            {
                f.error(
                    &format!("{p}.type"),
                    t,
                    "is not allowed when the pool protocol is IP",
                    Code::NONE,
                );
            }
        }
        self.validate_features(p, protocol, algorithm, f);
        if let Some(hm) = &self.healthmonitor {
            hm.validate(&format!("{p}.healthmonitor"), protocol, f);
            // huawei-semantics §9 (the SDKs' create_health_monitor_option): "monitor_port is
            // required in any-port pools" — the members have no port of their own to probe
            if self.any_port_enable == Some(true) && hm.monitor_port.is_none() {
                f.missing(
                    &format!("{p}.healthmonitor.monitor_port"),
                    " when the pool has any_port_enable",
                    Code::NONE,
                );
            }
        }
        if let Some(master_slave) = master_slave {
            self.validate_members(p, f);
            if master_slave {
                self.validate_master_slave(p, protocol, algorithm, true, f);
            }
        }
        if let Some(ps) = &self.protection_status {
            f.one_of(
                &format!("{p}.protection_status"),
                ps,
                PROTECTION_STATUSES,
                Code::NONE,
            );
        }
        if let Some(reason) = &self.protection_reason {
            let path = format!("{p}.protection_reason");
            if reason.chars().count() > MAX_REASON_CHARS {
                f.error(
                    &path,
                    reason.chars().count() as u64,
                    format!("characters exceed the maximum of {MAX_REASON_CHARS}"),
                    Code::NONE,
                );
            }
            if reason.contains(['<', '>']) {
                f.error(&path, reason, "must not contain < or >", Code::NONE);
            }
        }
    }

    fn validate_features(&self, p: &str, protocol: &str, algorithm: &str, f: &mut Findings) {
        let http_like = matches!(protocol, "HTTP" | "HTTPS" | "GRPC");
        let l4 = matches!(protocol, "TCP" | "UDP" | "QUIC");
        if let Some(ss) = &self.slow_start {
            let path = format!("{p}.slow_start");
            f.opt_range(
                &format!("{path}.duration"),
                ss.duration,
                SLOW_START_SECONDS,
                "seconds",
                Code::NONE,
            );
            if ss.enable == Some(true) {
                if !http_like {
                    f.error(&path, "", format!("is only allowed on HTTP, HTTPS and GRPC pools, not {protocol} (seed 000)"), Code::NONE);
                } else if algorithm != "ROUND_ROBIN" {
                    f.warn(&path, "", format!("has no effect with {algorithm}: slow start works only with ROUND_ROBIN"));
                }
            }
        }
        if let Some(cd) = &self.connection_drain {
            let path = format!("{p}.connection_drain");
            f.opt_range(
                &format!("{path}.timeout"),
                cd.timeout,
                DRAIN_SECONDS,
                "seconds",
                Code::NONE,
            );
            if cd.enable == Some(true) {
                if !l4 {
                    f.error(
                        &path,
                        "",
                        format!("is only allowed on TCP, UDP and QUIC pools, not {protocol}"),
                        Code::NONE,
                    );
                }
                if cd.timeout.is_none() {
                    f.missing(&format!("{path}.timeout"), " when drain is enabled (\"Connection drain timeout must be explict defined.\")", Code::ELB_DRAIN_TIMEOUT);
                }
            }
        }
        if self.any_port_enable == Some(true) && !l4 {
            f.error(
                &format!("{p}.any_port_enable"),
                true,
                format!("is only allowed on TCP, UDP and QUIC pools, not {protocol}"),
                Code::NONE,
            );
        }
        if let Some(sp) = &self.session_persistence {
            validate_persistence(
                &format!("{p}.session_persistence"),
                sp,
                protocol,
                algorithm,
                f,
            );
            if self.slow_start_enabled() && sp.persistence_type.is_some() {
                f.warn(
                    &format!("{p}.session_persistence"),
                    "",
                    "is ignored while slow start is enabled (seed 000)",
                );
            }
        } else if protocol == "QUIC" && algorithm != "SOURCE_IP" {
            // huawei-semantics §3: on a QUIC pool "session persistence is mandatory, with type
            // SOURCE_IP"
            f.missing(
                &format!("{p}.session_persistence"),
                " on QUIC pools, with type SOURCE_IP (unless lb_algorithm is SOURCE_IP)",
                Code::NONE,
            );
        }
        if let Some(q) = &self.quic_cid_hash_strategy {
            let path = format!("{p}.quic_cid_hash_strategy");
            f.opt_range(&format!("{path}.len"), q.len, CID_LEN, "bytes", Code::NONE);
            f.opt_range(
                &format!("{path}.offset"),
                q.offset,
                CID_OFFSET,
                "",
                Code::NONE,
            );
            if algorithm != "QUIC_CID" {
                f.warn(
                    &path,
                    "",
                    format!("has no effect with {algorithm}: only with QUIC_CID"),
                );
            }
        }
        if let Some(az) = &self.az_affinity {
            validate_az_affinity(&format!("{p}.az_affinity"), az, protocol, f);
        }
        if let Some(ph) = &self.pool_health {
            let path = format!("{p}.pool_health.minimum_healthy_member_count");
            if let Some(n) = ph.minimum_healthy_member_count {
                if !MINIMUM_HEALTHY.contains(&n) {
                    f.one_of_int(&path, n, MINIMUM_HEALTHY, Code::NONE);
                } else if n == 1 && self.az_affinity.as_ref().and_then(|a| a.enable) == Some(true) {
                    f.warn(&path, n, "is ignored while AZ affinity is enabled");
                }
            }
        }
    }

    fn validate_members(&self, p: &str, f: &mut Findings) {
        let members = match &self.members {
            Some(m) => m,
            None => return,
        };
        // (address, port) → index of its first definition; a map keeps large pools linear-log
        let mut seen: std::collections::BTreeMap<(String, i64), usize> = Default::default();
        for (i, m) in members.iter().enumerate() {
            let mp = format!("{p}.members[{i}]");
            self.validate_member(&mp, m, f);
            let Some(addr) = &m.address else { continue };
            let port = m.protocol_port.unwrap_or(0);
            let at = (keys::canonical(addr).into_owned(), port);
            if let Some(first) = seen.get(&at) {
                f.error(
                    &format!("{mp}.address"),
                    addr,
                    format!("with port {port} duplicates {p}.members[{first}]"),
                    Code::NONE,
                );
            } else {
                seen.insert(at, i);
            }
        }
    }

    /// The rules one member meets on its own (a pool's or an add-members body's), at `mp`.
    pub fn validate_member(&self, mp: &str, m: &Member, f: &mut Findings) {
        let any_port = self.any_port_enable == Some(true);
        if let Some(name) = &m.name {
            f.name_length(&format!("{mp}.name"), name, Code::NONE);
        }
        if let Some(zone) = &m.availability_zone {
            f.name_length(&format!("{mp}.availability_zone"), zone, Code::NONE);
        }
        f.opt_range(
            &format!("{mp}.weight"),
            m.weight,
            MEMBER_WEIGHTS,
            "",
            Code::NONE,
        );
        if let Some(port) = m.protocol_port {
            if self.protocol() == "IP" {
                if port != 0 {
                    f.error(
                        &format!("{mp}.protocol_port"),
                        port,
                        "must be 0 in IP pools",
                        Code::NONE,
                    );
                }
            } else {
                f.range(&format!("{mp}.protocol_port"), port, PORTS, "", Code::NONE);
            }
        } else if !any_port && self.protocol() != "IP" && m.address.is_some() {
            f.missing(
                &format!("{mp}.protocol_port"),
                " unless the pool has any_port_enable",
                Code::NONE,
            );
        }
        if m.admin_state_up == Some(false) {
            f.error(
                &format!("{mp}.admin_state_up"),
                false,
                "can only be true in requests",
                Code::NONE,
            );
        }
        match &m.address {
            None => f.warn(
                mp,
                "",
                "has no address (a GET reference by id?); it is not simulated",
            ),
            Some(addr) => match addr.parse::<std::net::IpAddr>() {
                Err(_) => f.error(
                    &format!("{mp}.address"),
                    addr,
                    "is not an IPv4 or IPv6 address",
                    Code::NONE,
                ),
                // seeds 000/002: `ip_version` is "the IP address version supported by the
                // backend server group", v4 on HTTP pools; whether the API refuses such a
                // member is not documented
                Ok(std::net::IpAddr::V6(_)) if self.supports_ipv4_only() => f.warn(
                    &format!("{mp}.address"),
                    addr,
                    "is an IPv6 address in a pool that supports IPv4 only (ip_version v4, or an \
                     HTTP pool: seed 002); simulated as a member",
                ),
                Ok(_) => {}
            },
        }
    }

    /// A master-slave pool's member has a role, `master` or `slave` (seed 002).
    pub fn validate_role(mp: &str, m: &Member, f: &mut Findings) {
        match &m.role {
            Some(r) => {
                f.one_of(&format!("{mp}.role"), r, ROLES, Code::NONE);
            }
            None => f.missing(&format!("{mp}.role"), " in a master-slave pool", Code::NONE),
        }
    }

    /// Seed 002 / §10: exactly one master and one slave, a health monitor, TCP/UDP/QUIC/TLS.
    fn validate_master_slave(
        &self,
        p: &str,
        protocol: &str,
        algorithm: &str,
        with_members: bool,
        f: &mut Findings,
    ) {
        let members = match with_members {
            true => self.members.as_deref().unwrap_or_default(),
            false => &[],
        };
        for (i, m) in members.iter().enumerate() {
            Pool::validate_role(&format!("{p}.members[{i}]"), m, f);
        }
        let count = |role: &str| {
            members
                .iter()
                .filter(|m| m.role.as_deref() == Some(role))
                .count()
        };
        if with_members && (members.len() != 2 || count("master") != 1 || count("slave") != 1) {
            f.error(
                &format!("{p}.members"),
                members.len() as u64,
                "members given: a master-slave pool needs exactly one master and one slave",
                Code::NONE,
            );
        }
        if self.healthmonitor.is_none() {
            f.missing(
                &format!("{p}.healthmonitor"),
                " in a master-slave pool",
                Code::NONE,
            );
        } else if self.healthmonitor.as_ref().and_then(|h| h.admin_state_up) == Some(false) {
            f.error(
                &format!("{p}.healthmonitor.admin_state_up"),
                false,
                "cannot be disabled in a master-slave pool",
                Code::NONE,
            );
        }
        // seed 002, healthmonitor.type: "取值:TCP、UDP_CONNECT、HTTP、HTTPS"
        if let Some(t) = self
            .healthmonitor
            .as_ref()
            .and_then(|h| h.monitor_type.as_ref())
        {
            if matches!(t.as_str(), "TLS" | "GRPC") {
                f.error(
                    &format!("{p}.healthmonitor.type"),
                    t,
                    "is not one of TCP, UDP_CONNECT, HTTP, HTTPS (master-slave pool)",
                    Code::NONE,
                );
            }
        }
        // seed 002 marks both mandatory in the master-slave create body
        if self.protocol.is_none() {
            f.missing(
                &format!("{p}.protocol"),
                " in a master-slave pool",
                Code::NONE,
            );
        }
        if self.lb_algorithm.is_none() {
            f.missing(
                &format!("{p}.lb_algorithm"),
                " in a master-slave pool",
                Code::NONE,
            );
        }
        if !matches!(protocol, "TCP" | "UDP" | "QUIC" | "TLS") {
            f.error(
                &format!("{p}.protocol"),
                protocol,
                "is not one of TCP, UDP, QUIC, TLS (master-slave pool)",
                Code::NONE,
            );
        }
        if !matches!(
            algorithm,
            "ROUND_ROBIN" | "LEAST_CONNECTIONS" | "SOURCE_IP" | "QUIC_CID"
        ) {
            f.error(
                &format!("{p}.lb_algorithm"),
                algorithm,
                "is not allowed in a master-slave pool",
                Code::NONE,
            );
        }
        if self.pool_type.is_none() {
            f.missing(&format!("{p}.type"), " in a master-slave pool", Code::NONE);
        }
        // seed 002's master-slave body has no az_affinity (the AZ fallbacks need two or more
        // active members; a master-slave pool has one)
        if self.az_affinity.is_some() {
            f.warn(
                &format!("{p}.az_affinity"),
                "",
                "is not a field of a master-slave pool (seed 002): ignored",
            );
        }
    }
}

fn validate_persistence(
    path: &str,
    sp: &SessionPersistence,
    protocol: &str,
    algorithm: &str,
    f: &mut Findings,
) {
    let Some(kind) = &sp.persistence_type else {
        f.missing(&format!("{path}.type"), "", Code::NONE);
        return;
    };
    let tpath = format!("{path}.type");
    if !f.one_of(&tpath, kind, PERSISTENCE_TYPES, Code::NONE) {
        return;
    }
    if algorithm == "SOURCE_IP" {
        f.error(
            path,
            "",
            "cannot be set with lb_algorithm SOURCE_IP (the algorithm already binds by source IP)",
            Code::NONE,
        );
    }
    match protocol {
        // accepted by the API, without effect: "when the pool's protocol is HTTP, only
        // HTTP_COOKIE or APP_COOKIE take effect" (the SDKs' `type` description;
        // huawei-semantics §3)
        "HTTP" | "HTTPS" | "GRPC" if kind == "SOURCE_IP" => {
            f.warn(
                &tpath,
                kind,
                format!(
                    "has no effect on {protocol} pools (only HTTP_COOKIE and APP_COOKIE take \
                     effect there): simulated without session persistence"
                ),
            );
        }
        "TCP" | "UDP" if kind != "SOURCE_IP" => {
            f.warn(
                &tpath,
                kind,
                format!("is ignored on {protocol} pools: persistence acts as SOURCE_IP"),
            );
        }
        "QUIC" if kind != "SOURCE_IP" => {
            f.error(
                &tpath,
                kind,
                "is not allowed on QUIC pools (SOURCE_IP only)",
                Code::NONE,
            );
        }
        // accepted (seed 002 allows it on TLS master-slave pools) but documented for no such pool
        "TLS" | "IP" => {
            f.warn(
                path,
                "",
                format!(
                    "is not simulated on {protocol} pools: the vendor documents persistence for \
                     TCP, UDP, QUIC, HTTP, HTTPS and GRPC pools only"
                ),
            );
        }
        _ => {}
    }
    match &sp.cookie_name {
        Some(name) if kind != "APP_COOKIE" => {
            f.error(
                &format!("{path}.cookie_name"),
                name,
                "is only allowed with type APP_COOKIE",
                Code::NONE,
            );
        }
        Some(name) if name.chars().count() > MAX_COOKIE_CHARS => {
            f.error(
                &format!("{path}.cookie_name"),
                name.chars().count() as u64,
                format!("characters exceed the maximum of {MAX_COOKIE_CHARS}"),
                Code::NONE,
            );
        }
        None if kind == "APP_COOKIE" => f.missing(
            &format!("{path}.cookie_name"),
            " with type APP_COOKIE",
            Code::NONE,
        ),
        _ => {}
    }
    if let Some(t) = sp.persistence_timeout {
        let minutes = if matches!(protocol, "HTTP" | "HTTPS" | "GRPC") {
            PERSISTENCE_MINUTES_L7
        } else {
            PERSISTENCE_MINUTES_L4
        };
        f.range(
            &format!("{path}.persistence_timeout"),
            t,
            minutes,
            "minutes",
            Code::NONE,
        );
    }
}

fn validate_az_affinity(path: &str, az: &AzAffinity, protocol: &str, f: &mut Findings) {
    let pct = az.az_minimum_healthy_member_percentage;
    let count = az.az_minimum_healthy_member_count;
    f.opt_range(
        &format!("{path}.az_minimum_healthy_member_percentage"),
        pct,
        AZ_HEALTHY_PERCENTAGE,
        "",
        Code::NONE,
    );
    f.opt_range(
        &format!("{path}.az_minimum_healthy_member_count"),
        count,
        AZ_HEALTHY_COUNT,
        "",
        Code::NONE,
    );
    if let Some(s) = &az.az_unhealthy_fallback_strategy {
        f.one_of(
            &format!("{path}.az_unhealthy_fallback_strategy"),
            s,
            FALLBACKS,
            Code::NONE,
        );
    }
    if az.enable == Some(true) {
        if !matches!(protocol, "IP" | "TCP" | "UDP") {
            f.error(
                path,
                "",
                format!("is only allowed on IP, TCP and UDP pools, not {protocol}"),
                Code::NONE,
            );
        }
        let unset = [pct, count]
            .iter()
            .filter(|v| **v == Some(-1) || v.is_none())
            .count();
        if unset != 1 {
            f.error(path, "", "needs exactly one of az_minimum_healthy_member_percentage and az_minimum_healthy_member_count set to -1", Code::NONE);
        }
    }
}
