//! Health monitor rules (seed 000/002, `huawei-semantics.md` §4): which probe types a pool
//! protocol allows, timing ranges, and the HTTP probe's fields.

use super::*;
use crate::scenario::diag::{Code, Findings};

/// The characters besides letters and digits seed 002 allows in `url_path`.
const URL_PATH_SYMBOLS: &str = "-/.%?#&_;~!()*[]@$^:',+";

impl HealthMonitor {
    pub fn validate(&self, p: &str, protocol: &str, f: &mut Findings) {
        let allowed: &[&str] = match protocol {
            "QUIC" | "UDP" => &["UDP_CONNECT"],
            "TCP" | "IP" => &["TCP", "HTTP", "HTTPS"],
            _ => &["TCP", "HTTP", "HTTPS", "TLS", "GRPC"],
        };
        match &self.monitor_type {
            Some(t) => {
                if !allowed.contains(&t.as_str()) {
                    f.error(
                        &format!("{p}.type"),
                        t,
                        format!(
                            "is not allowed for a {protocol} pool (allowed: {})",
                            allowed.join(", ")
                        ),
                        Code::NONE,
                    );
                }
            }
            None => f.missing(&format!("{p}.type"), "", Code::NONE),
        }
        for (name, v, bounds, required) in [
            ("delay", self.delay, PROBE_SECONDS, true),
            ("timeout", self.timeout, PROBE_SECONDS, true),
            ("max_retries", self.max_retries, PROBE_RETRIES, true),
            (
                "max_retries_down",
                self.max_retries_down,
                PROBE_RETRIES,
                false,
            ),
        ] {
            let path = format!("{p}.{name}");
            match v {
                Some(v) => {
                    f.range(
                        &path,
                        v,
                        bounds,
                        if name == "delay" || name == "timeout" {
                            "seconds"
                        } else {
                            ""
                        },
                        Code::NONE,
                    );
                }
                None if required => f.missing(&path, "", Code::NONE),
                None => {}
            }
        }
        if let (Some(d), Some(t)) = (self.delay, self.timeout) {
            if t >= d {
                f.warn(&format!("{p}.timeout"), t, format!("is not below delay {d}: the API recommends (does not enforce) a timeout shorter than the interval"));
            }
        }
        if let Some(codes) = &self.expected_codes {
            let grpc = self.monitor_type.as_deref() == Some("GRPC");
            let (lo, hi) = if grpc { (0, 99) } else { (200, 599) };
            if let Err(why) = check_code_list(codes, lo, hi, 5) {
                f.error(&format!("{p}.expected_codes"), codes, why, Code::NONE);
            }
        }
        if let Some(url) = &self.url_path {
            let path = format!("{p}.url_path");
            // seed 002: "以"/"开头 … 支持使用字母、数字和短划线(-)、正斜线(/)、半角句号(.)、百分号(%)、
            // 半角问号(?)、井号(#)和and(&)以及扩展字符集_;~!()*[]@$^:',+"; "当type为HTTP/HTTPS时生效"
            if !url.starts_with('/') {
                f.error(&path, url, "must start with /", Code::NONE);
            } else if let Some(c) = url
                .chars()
                .find(|&c| !c.is_ascii_alphanumeric() && !URL_PATH_SYMBOLS.contains(c))
            {
                let rule = format!(
                    "contains {c:?}: only letters, digits and {URL_PATH_SYMBOLS} are allowed \
                     (seed 002)"
                );
                f.error(&path, url, rule, Code::NONE);
            } else if url != "/"
                && !matches!(self.monitor_type.as_deref(), Some("HTTP" | "HTTPS") | None)
            {
                f.warn(
                    &path,
                    url,
                    "has no effect: it is used by HTTP and HTTPS checks only (seed 002)",
                );
            }
        }
        self.validate_unmodelled(p, f);
    }

    /// Seed 002's rules for the fields lbsim accepts without simulating them.
    fn validate_unmodelled(&self, p: &str, f: &mut Findings) {
        f.opt_range(
            &format!("{p}.monitor_port"),
            self.monitor_port,
            PORTS,
            "",
            Code::NONE,
        );
        // "取值:GET、HEAD、POST"; the seed's own GET response shows "get", so case is free
        if let Some(m) = &self.http_method {
            if !PROBE_METHODS.contains(&m.to_ascii_uppercase().as_str()) {
                f.error(
                    &format!("{p}.http_method"),
                    m,
                    "is not one of GET, HEAD, POST",
                    Code::NONE,
                );
            }
        }
        // "以数字或字母开头,只能包含数字、字母、'-'、'.'"; empty (the default) uses the VIP
        if let Some(d) = self.domain_name.as_deref().filter(|d| !d.is_empty()) {
            let starts = d.starts_with(|c: char| c.is_ascii_alphanumeric());
            if !starts
                || !d
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            {
                f.error(
                    &format!("{p}.domain_name"),
                    d,
                    "must start with a letter or digit and hold only letters, digits, '-' and '.'",
                    Code::NONE,
                );
            }
        }
        for (key, given) in [
            ("monitor_port", self.monitor_port.is_some()),
            ("http_method", self.http_method.is_some()),
            ("domain_name", self.domain_name.is_some()),
        ] {
            if given {
                f.note(
                    &format!("{p}.{key}"),
                    "is a vendor field lbsim accepts but does not model",
                );
            }
        }
    }
}

/// Status-code lists: `200`, `200,202`, `200-204,300-399`: each code or range bound within
/// `lo..=hi`, at most `max_items` comma-separated items (0 = unlimited).
pub fn check_code_list(text: &str, lo: u32, hi: u32, max_items: usize) -> Result<(), String> {
    let items: Vec<&str> = text.split(',').collect();
    if max_items > 0 && items.len() > max_items {
        return Err(format!(
            "has {} items; at most {max_items} codes or ranges",
            items.len()
        ));
    }
    for item in items {
        let bounds: Vec<&str> = item.trim().split('-').collect();
        let parsed: Result<Vec<u32>, _> = bounds.iter().map(|b| b.trim().parse::<u32>()).collect();
        match parsed.as_deref() {
            Ok([c]) | Ok([c, _]) | Ok([_, c]) if *c < lo || *c > hi => {
                return Err(format!("has code {c} outside {lo}..={hi}"));
            }
            Ok([_]) => {}
            Ok([a, b]) if a <= b => {}
            Ok([a, b]) => return Err(format!("has range {a}-{b} whose start exceeds its end")),
            _ => {
                let item = serde_json::to_string(item).unwrap_or_default();
                return Err(format!("has item {item}: not a code or a range a-b"));
            }
        }
    }
    Ok(())
}
