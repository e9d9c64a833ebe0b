//! VPC channel rules (`huawei-semantics.md` §11–§14, seeds 001, 003, 004).

use super::*;
use crate::scenario::diag::{Code, Findings};
use crate::scenario::elb::check_code_list;
use crate::scenario::keys;
use std::borrow::Cow;

const MISSING: Code = Code::APIG_MISSING;
const RANGE: Code = Code::APIG_RANGE;
const INVALID: Code = Code::APIG_INVALID;

impl VpcChannel {
    pub fn validate(&self, p: &str, f: &mut Findings) {
        match &self.name {
            Some(name) => {
                if let Err(why) = check_name(name) {
                    f.error(&format!("{p}.name"), name, why, INVALID);
                }
            }
            None => f.missing(&format!("{p}.name"), "", Code::APIG_MISSING_NAME),
        }
        match self.port {
            Some(port) => {
                f.range(&format!("{p}.port"), port, CHANNEL_PORTS, "", RANGE);
            }
            None => f.missing(&format!("{p}.port"), "", MISSING),
        }
        match self.balance_strategy {
            Some(s) => {
                f.range(
                    &format!("{p}.balance_strategy"),
                    s,
                    BALANCE_STRATEGIES,
                    "(1 WRR, 2 WLC, 3 source hash, 4 URI hash)",
                    RANGE,
                );
            }
            None => f.missing(&format!("{p}.balance_strategy"), "", MISSING),
        }
        match &self.member_type {
            Some(t) => {
                f.one_of(&format!("{p}.member_type"), t, MEMBER_TYPES, INVALID);
            }
            None => f.missing(&format!("{p}.member_type"), "", MISSING),
        }
        if let Some(t) = self.channel_type {
            f.one_of_int(&format!("{p}.type"), t, CHANNEL_TYPES, INVALID);
        }
        if let Some(vt) = &self.vpc_channel_type {
            let path = format!("{p}.vpc_channel_type");
            if f.one_of(&path, vt, VPC_CHANNEL_TYPES, INVALID)
                && self.channel_type.is_some_and(|t| t != 0)
            {
                // Seed 001: "If vpc_channel_type is non-empty and type is non-empty or non-zero,
                // an error occurs."
                f.error(
                    &path,
                    vt,
                    "conflicts with a non-zero `type`: give only one of them",
                    INVALID,
                );
            }
        }
        let groups = self.member_groups.as_deref().unwrap_or_default();
        for (i, g) in groups.iter().enumerate() {
            let gp = format!("{p}.member_groups[{i}]");
            match &g.member_group_name {
                Some(name) => {
                    if let Err(why) = check_name(name) {
                        f.error(&format!("{gp}.member_group_name"), name, why, INVALID);
                    } else if groups[..i]
                        .iter()
                        .any(|o| o.member_group_name.as_deref() == Some(name))
                    {
                        f.error(
                            &format!("{gp}.member_group_name"),
                            name,
                            "duplicates an earlier group name",
                            INVALID,
                        );
                    }
                }
                None => f.missing(&format!("{gp}.member_group_name"), "", MISSING),
            }
            f.opt_range(
                &format!("{gp}.member_group_weight"),
                g.member_group_weight,
                GROUP_WEIGHTS,
                "",
                RANGE,
            );
        }
        if let Some(ids) = &self.instance_ids {
            // seed 001 (project-level create): "IDs of associated instances (specify 1 to 10
            // IDs)"; an instance-level body has none
            if !(1..=10).contains(&ids.len()) {
                let rule = "IDs given: specify 1 to 10 (seed 001)";
                f.error(&format!("{p}.instance_ids"), ids.len() as u64, rule, RANGE);
            }
        }
        let ecs = self.member_type.as_deref() == Some("ecs");
        for (i, m) in self.members.iter().flatten().enumerate() {
            m.validate(&format!("{p}.members[{i}]"), ecs, groups, f);
            self.warn_unused_weight(&format!("{p}.members[{i}]"), m, groups, f);
        }
        warn_duplicate_members(self.members.as_deref().unwrap_or_default(), p, f);
        if let Some(hc) = &self.vpc_health_config {
            hc.validate(&format!("{p}.vpc_health_config"), f);
        }
    }

    /// A member's own `weight` counts only in a server channel (seed 001: "valid only when the
    /// VPC channel type is set to 2"), and not when its group has a weight (seeds 001/003: the
    /// group's weight "is automatically used to assign weights to servers in this group").
    fn warn_unused_weight(
        &self,
        mp: &str,
        m: &VpcMember,
        groups: &[MemberGroup],
        f: &mut Findings,
    ) {
        let Some(weight) = m.weight else { return };
        let group_weight = m.group_weight(groups);
        let path = format!("{mp}.weight");
        match group_weight {
            Some(gw) if gw != weight => f.warn(
                &path,
                weight,
                format!(
                    "is replaced by its group's member_group_weight {gw} (seeds 001/003: the \
                     group's weight is assigned to each of its servers)"
                ),
            ),
            Some(_) => {}
            None if self.kind() != ChannelKind::Server => f.warn(
                &path,
                weight,
                "has no effect: member weights count only in server channels (type 2, seed 001); \
                 simulated as 1",
            ),
            None => {}
        }
    }

    /// An update body that would change the channel's kind (seed 003: "the channel type will
    /// remain unchanged").
    pub fn warn_kind_change(&self, at: &str, base: &VpcChannel, f: &mut Findings) {
        let field = match (self.channel_type, &self.vpc_channel_type) {
            (_, Some(_)) => "vpc_channel_type",
            (Some(_), None) => "type",
            (None, None) => return,
        };
        if self.kind() != base.kind() {
            f.warn(
                &format!("{at}.{field}"),
                "",
                format!(
                    "asks for a {:?} channel, but a channel's type remains unchanged on update \
                     (seed 003): it stays {:?}",
                    self.kind(),
                    base.kind()
                ),
            );
        }
    }
}

/// Seed 004: "If the request body contains multiple backend instance definitions with duplicate
/// addresses, the first definition is used" — a warning at each later one.
pub(crate) fn warn_duplicate_members(members: &[VpcMember], p: &str, f: &mut Findings) {
    let mut firsts: std::collections::BTreeMap<Cow<str>, usize> = Default::default();
    for (i, m) in members.iter().enumerate() {
        let Some(addr) = m.address() else { continue };
        let first = *firsts.entry(keys::canonical(addr)).or_insert(i);
        if first != i {
            f.warn(
                &format!("{p}.members[{i}]"),
                addr,
                format!("duplicates {p}.members[{first}]: the first definition wins (seed 004)"),
            );
        }
    }
}

impl VpcMember {
    pub fn validate(&self, p: &str, ecs: bool, groups: &[MemberGroup], f: &mut Findings) {
        if let Some(zone) = &self.availability_zone {
            f.name_length(&format!("{p}.availability_zone"), zone, Code::NONE);
        }
        if ecs && self.ecs_id.is_none() {
            f.missing(&format!("{p}.ecs_id"), " when member_type is ecs", MISSING);
        }
        if !ecs {
            match &self.host {
                Some(h) => {
                    if h.parse::<std::net::IpAddr>().is_err() {
                        f.error(
                            &format!("{p}.host"),
                            h,
                            "is not an IPv4 or IPv6 address",
                            INVALID,
                        );
                    }
                }
                None => f.missing(&format!("{p}.host"), " when member_type is ip", MISSING),
            }
        }
        f.opt_range(
            &format!("{p}.weight"),
            self.weight,
            MEMBER_WEIGHTS,
            "",
            RANGE,
        );
        f.opt_range(&format!("{p}.port"), self.port, MEMBER_PORTS, "", RANGE);
        if let Some(s) = self.status {
            f.one_of_int(&format!("{p}.status"), s, STATUSES, INVALID);
        }
        if let Some(g) = &self.member_group_name {
            if !groups
                .iter()
                .any(|x| x.member_group_name.as_deref() == Some(g))
            {
                let names = groups.iter().filter_map(|x| x.member_group_name.as_deref());
                let mut rule = String::from("names no group in member_groups");
                if let Some(s) = crate::scenario::suggest::closest(g, names) {
                    rule.push_str(&format!(" (did you mean {s}?)"));
                }
                f.error(&format!("{p}.member_group_name"), g, rule, INVALID);
            }
        }
    }
}

impl VpcHealthConfig {
    pub fn validate(&self, p: &str, f: &mut Findings) {
        let protocol = self.protocol.as_deref().map(str::to_ascii_uppercase);
        match protocol.as_deref() {
            Some(proto) => {
                if f.one_of(&format!("{p}.protocol"), proto, HEALTH_PROTOCOLS, INVALID)
                    && proto != "TCP"
                {
                    if self.path.is_none() {
                        f.missing(&format!("{p}.path"), " for http(s) health checks", MISSING);
                    }
                    if self.http_code.is_none() {
                        f.missing(
                            &format!("{p}.http_code"),
                            " for http(s) health checks",
                            MISSING,
                        );
                    }
                }
            }
            None => f.missing(&format!("{p}.protocol"), "", MISSING),
        }
        for (name, v, bounds, unit) in [
            ("threshold_normal", self.threshold_normal, THRESHOLDS, ""),
            (
                "threshold_abnormal",
                self.threshold_abnormal,
                THRESHOLDS,
                "",
            ),
            (
                "time_interval",
                self.time_interval,
                INTERVAL_SECONDS,
                "seconds",
            ),
            ("timeout", self.timeout, CHECK_TIMEOUT_SECONDS, "seconds"),
        ] {
            match v {
                Some(v) => {
                    f.range(&format!("{p}.{name}"), v, bounds, unit, RANGE);
                }
                None => f.missing(&format!("{p}.{name}"), "", MISSING),
            }
        }
        if let (Some(t), Some(i)) = (self.timeout, self.time_interval) {
            if t >= i {
                f.error(
                    &format!("{p}.timeout"),
                    t,
                    format!("must be less than time_interval {i}"),
                    INVALID,
                );
            }
        }
        if let Some(codes) = &self.http_code {
            if let Err(why) = check_code_list(codes, 100, 599, 0) {
                f.error(&format!("{p}.http_code"), codes, why, INVALID);
            }
        }
        if let Some(s) = self.status {
            f.one_of_int(&format!("{p}.status"), s, STATUSES, INVALID);
        }
    }
}

/// Channel and member-group names: 3–64 characters, starting with a letter (Chinese
/// included, seed 001), then letters, digits, `-`, `_` and `.`.
fn check_name(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if !NAME_CHARS.contains(&len) {
        let (lo, hi) = (NAME_CHARS.start(), NAME_CHARS.end());
        return Err(format!(
            "is {len} characters long; {lo} to {hi} are allowed"
        ));
    }
    if !name.chars().next().is_some_and(char::is_alphabetic) {
        return Err("must start with a letter".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "contains {c:?}: only letters, digits, -, _ and . are allowed"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_name;

    #[test]
    fn channel_names_follow_seed_001() {
        assert!(check_name("VPC_demo").is_ok());
        assert!(check_name("负载通道-1").is_ok());
        assert!(check_name("ab").is_err());
        assert!(check_name("1abc").is_err());
        assert!(check_name("abc def").is_err());
        assert!(check_name(&"a".repeat(65)).is_err());
    }
}
