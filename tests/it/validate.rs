//! Validation rules: one failing case per rule, each checked by JSON path and rule text.
//! Rules cite the vendor pages (seeds 000–004) and `huawei-semantics.md`.

use lbsim::pipeline::{self, Source};
use lbsim::scenario::{self, Finding, Severity};

fn findings(json: &str) -> Vec<Finding> {
    match scenario::parse("t.json", json, None, &[]) {
        Ok(loaded) => loaded.findings,
        Err(findings) => findings,
    }
}

/// A test's expected findings, each case checked as it is added; [`Cases::check`] then fails
/// with every case that did not hold, so one broken rule does not hide the others.
#[derive(Default)]
struct Cases {
    mismatches: Vec<String>,
}

impl Cases {
    /// `json` must produce a finding of `severity` at `path` whose rule contains `rule`.
    fn expect(&mut self, json: &str, severity: Severity, path: &str, rule: &str) {
        let all = findings(json);
        if !all
            .iter()
            .any(|f| f.severity == severity && f.path == path && f.rule.contains(rule))
        {
            self.mismatches.push(format!(
                "expected {severity:?} at {path} containing {rule:?} for {json}\ngot:\n{}",
                all.iter().map(|f| format!("  {f}\n")).collect::<String>()
            ));
        }
    }

    fn error(&mut self, json: &str, path: &str, rule: &str) {
        self.expect(json, Severity::Error, path, rule);
    }

    fn warning(&mut self, json: &str, path: &str, rule: &str) {
        self.expect(json, Severity::Warning, path, rule);
    }

    /// `json` must have no errors.
    fn valid(&mut self, json: &str) {
        let errors = errors(json);
        if !errors.is_empty() {
            self.mismatches
                .push(format!("expected no errors for {json}\ngot: {errors:#?}"));
        }
    }

    fn check(self) {
        assert!(
            self.mismatches.is_empty(),
            "{} case(s) failed:\n\n{}",
            self.mismatches.len(),
            self.mismatches.join("\n\n")
        );
    }
}

fn errors(json: &str) -> Vec<String> {
    findings(json)
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.to_string())
        .collect()
}

/// An ELB pool with one member and `extra` merged into the pool object.
fn pool(protocol: &str, extra: &str) -> String {
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!(", {extra}")
    };
    format!(
        r#"{{"pool": {{"protocol": "{protocol}", "members": [{{"address": "10.0.0.1", "protocol_port": 80}}]{extra}}}}}"#
    )
}

fn channel(extra: &str) -> String {
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!(", {extra}")
    };
    format!(
        r#"{{"name": "chan", "port": 80, "balance_strategy": 1, "member_type": "ip", "members": [{{"host": "10.0.0.1"}}]{extra}}}"#
    )
}

#[test]
fn shipped_api_examples_validate() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/api-examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).expect("api-examples directory") {
        let path = entry.expect("entry").path();
        let findings = pipeline::validate(&Source::File(&path), &[]);
        assert!(
            findings.iter().all(|f| f.severity != Severity::Error),
            "{path:?}: {findings:?}"
        );
        seen += 1;
    }
    assert!(seen >= 5, "expected the seed examples, found {seen}");
}

#[test]
fn a_valid_pool_has_no_errors() {
    let mut t = Cases::default();
    t.valid(&pool("HTTP", ""));
    t.valid(&channel(""));
    t.check();
}

#[test]
fn error_lines_name_file_path_value_rule_and_code() {
    let json = pool("HTTP", r#""slow_start": {"enable": true, "duration": 20}"#);
    assert_eq!(
        errors(&json),
        vec!["t.json: pool.slow_start.duration: 20 is outside 30..=1200 seconds"]
    );
}

#[test]
fn all_errors_of_a_file_are_reported() {
    let json = r#"{"pool": {"protocol": "HTTP", "lb_algorithm": "NOPE", "admin_state_up": false,
        "members": [{"address": "10.0.0.1", "protocol_port": 0, "weight": 500}]}}"#;
    assert_eq!(errors(json).len(), 4, "{:?}", errors(json));
}

#[test]
fn elb_algorithm_and_protocol() {
    let mut t = Cases::default();
    t.error(
        &pool("TCP", r#""lb_algorithm": "ROUND_ROBBIN""#),
        "pool.lb_algorithm",
        "did you mean ROUND_ROBIN",
    );
    t.error(
        &pool("TCP", r#""lb_algorithm": "QUIC_CID""#),
        "pool.lb_algorithm",
        "only allowed on QUIC pools",
    );
    t.error(
        &pool("TCP", r#""lb_algorithm": "5_TUPLE_HASH""#),
        "pool.lb_algorithm",
        "only allowed on IP pools",
    );
    t.error(&pool("SCTP", ""), "pool.protocol", "is not one of");
    t.error(
        &pool("TCP", r#""admin_state_up": false"#),
        "pool.admin_state_up",
        "can only be true",
    );
    t.error(
        &pool("TCP", r#""type": "virtual""#),
        "pool.type",
        "is not one of",
    );
    t.check();
}

#[test]
fn elb_slow_start_seed_000() {
    let mut t = Cases::default();
    t.error(
        &pool(
            "HTTP",
            r#""slow_start": {"enable": true, "duration": 1201}"#,
        ),
        "pool.slow_start.duration",
        "30..=1200",
    );
    t.error(
        &pool("TCP", r#""slow_start": {"enable": true, "duration": 60}"#),
        "pool.slow_start",
        "only allowed on HTTP, HTTPS and GRPC",
    );
    t.warning(
        &pool(
            "HTTP",
            r#""lb_algorithm": "LEAST_CONNECTIONS", "slow_start": {"enable": true, "duration": 60}"#,
        ),
        "pool.slow_start",
        "has no effect with LEAST_CONNECTIONS",
    );
    t.warning(
        &pool(
            "HTTP",
            r#""slow_start": {"enable": true, "duration": 60}, "session_persistence": {"type": "HTTP_COOKIE"}"#,
        ),
        "pool.session_persistence",
        "ignored while slow start is enabled",
    );
    t.check();
}

#[test]
fn elb_connection_drain_and_any_port() {
    let mut t = Cases::default();
    t.error(
        &pool(
            "TCP",
            r#""connection_drain": {"enable": true, "timeout": 9}"#,
        ),
        "pool.connection_drain.timeout",
        "10..=4000",
    );
    t.error(
        &pool(
            "HTTP",
            r#""connection_drain": {"enable": true, "timeout": 60}"#,
        ),
        "pool.connection_drain",
        "only allowed on TCP, UDP and QUIC",
    );
    t.error(
        &pool("TCP", r#""connection_drain": {"enable": true}"#),
        "pool.connection_drain.timeout",
        "is required",
    );
    t.error(
        &pool("HTTP", r#""any_port_enable": true"#),
        "pool.any_port_enable",
        "only allowed on TCP, UDP and QUIC",
    );
    t.check();
}

#[test]
fn elb_session_persistence() {
    let mut t = Cases::default();
    t.error(
        &pool("HTTP", r#""session_persistence": {"type": "COOKIE"}"#),
        "pool.session_persistence.type",
        "is not one of",
    );
    t.error(
        &pool(
            "HTTP",
            r#""session_persistence": {"type": "HTTP_COOKIE", "cookie_name": "a"}"#,
        ),
        "pool.session_persistence.cookie_name",
        "only allowed with type APP_COOKIE",
    );
    let long = "c".repeat(1025);
    t.error(
        &pool(
            "HTTP",
            &format!(r#""session_persistence": {{"type": "APP_COOKIE", "cookie_name": "{long}"}}"#),
        ),
        "pool.session_persistence.cookie_name",
        "maximum of 1024",
    );
    t.error(
        &pool(
            "TCP",
            r#""session_persistence": {"type": "SOURCE_IP", "persistence_timeout": 61}"#,
        ),
        "pool.session_persistence.persistence_timeout",
        "1..=60 minutes",
    );
    t.error(
        &pool(
            "HTTP",
            r#""session_persistence": {"type": "HTTP_COOKIE", "persistence_timeout": 1441}"#,
        ),
        "pool.session_persistence.persistence_timeout",
        "1..=1440 minutes",
    );
    t.error(
        &pool(
            "TCP",
            r#""lb_algorithm": "SOURCE_IP", "session_persistence": {"type": "SOURCE_IP"}"#,
        ),
        "pool.session_persistence",
        "cannot be set with lb_algorithm SOURCE_IP",
    );
    // the API accepts it; only the cookie types take effect on HTTP pools (huawei-semantics §3,
    // the SDKs' SessionPersistence.type: "当后端云服务器的protocol为HTTP时，只按HTTP_COOKIE或
    // APP_COOKIE生效")
    t.warning(
        &pool("HTTP", r#""session_persistence": {"type": "SOURCE_IP"}"#),
        "pool.session_persistence.type",
        "has no effect on HTTP pools",
    );
    t.warning(
        &pool("TCP", r#""session_persistence": {"type": "HTTP_COOKIE"}"#),
        "pool.session_persistence.type",
        "acts as SOURCE_IP",
    );
    // accepted on TLS (and IP) pools, but the vendor documents no behaviour there
    t.warning(
        &pool("TLS", r#""session_persistence": {"type": "SOURCE_IP"}"#),
        "pool.session_persistence",
        "is not simulated on TLS pools",
    );
    t.check();
}

#[test]
fn elb_quic_cid_hash_strategy() {
    let mut t = Cases::default();
    let quic = |s: &str| {
        pool(
            "QUIC",
            &format!(
                r#""lb_algorithm": "QUIC_CID", "session_persistence": {{"type": "SOURCE_IP"}}, "quic_cid_hash_strategy": {s}"#
            ),
        )
    };
    t.error(
        &quic(r#"{"len": 21}"#),
        "pool.quic_cid_hash_strategy.len",
        "1..=20",
    );
    t.error(
        &quic(r#"{"len": 0}"#),
        "pool.quic_cid_hash_strategy.len",
        "1..=20",
    );
    t.error(
        &quic(r#"{"offset": 20}"#),
        "pool.quic_cid_hash_strategy.offset",
        "0..=19",
    );
    // The docs mark both mandatory yet give defaults: either may be omitted.
    t.valid(&quic("{}"));
    t.warning(
        &pool("TCP", r#""quic_cid_hash_strategy": {"len": 3}"#),
        "pool.quic_cid_hash_strategy",
        "only with QUIC_CID",
    );
    t.check();
}

#[test]
fn elb_az_affinity() {
    let mut t = Cases::default();
    let az = |s: &str| pool("TCP", &format!(r#""az_affinity": {s}"#));
    t.error(
        &az(
            r#"{"enable": true, "az_minimum_healthy_member_percentage": 101, "az_minimum_healthy_member_count": -1}"#,
        ),
        "pool.az_affinity.az_minimum_healthy_member_percentage",
        "-1..=100",
    );
    t.error(
        &az(
            r#"{"enable": true, "az_minimum_healthy_member_percentage": -1, "az_minimum_healthy_member_count": 10001}"#,
        ),
        "pool.az_affinity.az_minimum_healthy_member_count",
        "-1..=10000",
    );
    t.error(
        &az(
            r#"{"enable": true, "az_minimum_healthy_member_percentage": -1, "az_minimum_healthy_member_count": -1}"#,
        ),
        "pool.az_affinity",
        "exactly one",
    );
    t.error(
        &az(
            r#"{"enable": true, "az_minimum_healthy_member_percentage": 50, "az_minimum_healthy_member_count": 2}"#,
        ),
        "pool.az_affinity",
        "exactly one",
    );
    t.error(
        &az(
            r#"{"enable": true, "az_minimum_healthy_member_percentage": 50, "az_minimum_healthy_member_count": -1, "az_unhealthy_fallback_strategy": "forward_to_all"}"#,
        ),
        "pool.az_affinity.az_unhealthy_fallback_strategy",
        "is not one of",
    );
    t.error(
        &pool(
            "HTTP",
            r#""az_affinity": {"enable": true, "az_minimum_healthy_member_percentage": 50, "az_minimum_healthy_member_count": -1}"#,
        ),
        "pool.az_affinity",
        "only allowed on IP, TCP and UDP",
    );
    t.check();
}

#[test]
fn elb_pool_health_and_protection() {
    let mut t = Cases::default();
    t.error(
        &pool(
            "TCP",
            r#""pool_health": {"minimum_healthy_member_count": 2}"#,
        ),
        "pool.pool_health.minimum_healthy_member_count",
        "is not one of 0, 1",
    );
    let long = "r".repeat(256);
    t.error(
        &pool("TCP", &format!(r#""protection_reason": "{long}""#)),
        "pool.protection_reason",
        "maximum of 255",
    );
    t.error(
        &pool("TCP", r#""protection_reason": "<b>""#),
        "pool.protection_reason",
        "must not contain < or >",
    );
    t.check();
}

#[test]
fn elb_members() {
    let mut t = Cases::default();
    let member = |m: &str| format!(r#"{{"pool": {{"protocol": "TCP", "members": [{m}]}}}}"#);
    t.error(
        &member(r#"{"address": "10.0.0.1", "protocol_port": 80, "weight": 101}"#),
        "pool.members[0].weight",
        "0..=100",
    );
    t.error(
        &member(r#"{"address": "10.0.0.1", "protocol_port": 0}"#),
        "pool.members[0].protocol_port",
        "1..=65535",
    );
    t.error(
        &member(r#"{"address": "10.0.0.1", "protocol_port": 65536}"#),
        "pool.members[0].protocol_port",
        "1..=65535",
    );
    t.error(
        &member(r#"{"address": "10.0.0.1"}"#),
        "pool.members[0].protocol_port",
        "is required",
    );
    t.error(
        &member(r#"{"address": "10.0.0.300", "protocol_port": 80}"#),
        "pool.members[0].address",
        "not an IPv4 or IPv6",
    );
    t.error(
        &member(
            r#"{"address": "10.0.0.1", "protocol_port": 80}, {"address": "10.0.0.1", "protocol_port": 80}"#,
        ),
        "pool.members[1].address",
        "duplicates pool.members[0]",
    );
    // Seed 002: members may omit protocol_port in an any-port pool.
    let any_port = r#"{"pool": {"protocol": "TCP", "any_port_enable": true, "members": [{"address": "10.0.0.1"}]}}"#;
    t.valid(any_port);
    t.check();
}

#[test]
fn elb_master_slave_seed_002() {
    let mut t = Cases::default();
    let ms = |protocol: &str, members: &str, extra: &str| {
        format!(
            r#"{{"pool": {{"protocol": "{protocol}", "lb_algorithm": "ROUND_ROBIN", "type": "ip", "members": [{members}]{extra}}}}}"#
        )
    };
    let hm = r#", "healthmonitor": {"type": "TCP", "delay": 5, "timeout": 3, "max_retries": 3}"#;
    let two = r#"{"address": "10.0.0.1", "protocol_port": 80, "role": "master"}, {"address": "10.0.0.2", "protocol_port": 80, "role": "slave"}"#;
    t.valid(&ms("TCP", two, hm));
    let three =
        format!(r#"{two}, {{"address": "10.0.0.3", "protocol_port": 80, "role": "slave"}}"#);
    t.error(
        &ms("TCP", &three, hm),
        "pool.members",
        "exactly one master and one slave",
    );
    t.error(&ms("TCP", two, ""), "pool.healthmonitor", "is required");
    t.error(&ms("HTTP", two, hm), "pool.protocol", "master-slave");
    t.error(
        &ms(
            "TCP",
            r#"{"address": "10.0.0.1", "protocol_port": 80, "role": "boss"}"#,
            hm,
        ),
        "pool.members[0].role",
        "is not one of",
    );
    let untyped = format!(r#"{{"pool": {{"protocol": "TCP", "members": [{two}]{hm}}}}}"#);
    t.error(&untyped, "pool.type", "is required");
    // both mandatory in the master-slave create body
    t.error(
        &untyped,
        "pool.lb_algorithm",
        "is required in a master-slave pool",
    );
    let no_protocol = ms("TCP", two, hm).replace(r#""protocol": "TCP", "#, "");
    t.error(
        &no_protocol,
        "pool.protocol",
        "is required in a master-slave pool",
    );
    // healthmonitor.type: TCP, UDP_CONNECT, HTTP, HTTPS only, even on a TLS pool
    let tls_hm =
        r#", "healthmonitor": {"type": "TLS", "delay": 5, "timeout": 3, "max_retries": 3}"#;
    t.error(
        &ms("TLS", two, tls_hm),
        "pool.healthmonitor.type",
        "is not one of TCP, UDP_CONNECT, HTTP, HTTPS",
    );
    t.valid(&ms("TLS", two, hm));
    t.check();
}

#[test]
fn elb_health_monitor() {
    let mut t = Cases::default();
    let hm = |protocol: &str, m: &str| pool(protocol, &format!(r#""healthmonitor": {m}"#));
    let base = r#""type": "TCP", "delay": 5, "timeout": 3, "max_retries": 3"#;
    // seed 002: fields lbsim does not simulate are still checked as the API checks them
    let with = |extra: &str| hm("HTTP", &format!("{{{base}, {extra}}}"));
    t.error(
        &with(r#""monitor_port": 70000"#),
        "pool.healthmonitor.monitor_port",
        "outside 1..=65535",
    );
    t.error(
        &with(r#""http_method": "DELETE""#),
        "pool.healthmonitor.http_method",
        "GET, HEAD, POST",
    );
    t.error(
        &with(r#""domain_name": "-x.example""#),
        "pool.healthmonitor.domain_name",
        "must start with",
    );
    t.error(
        &with(r#""domain_name": "a_b.example""#),
        "pool.healthmonitor.domain_name",
        "only letters",
    );
    let fine =
        with(r#""monitor_port": 8080, "http_method": "get", "domain_name": "www.example.com""#);
    t.valid(&fine);
    t.valid(&with(r#""domain_name": """#));
    t.error(
        &hm(
            "UDP",
            r#"{"type": "TCP", "delay": 5, "timeout": 3, "max_retries": 3}"#,
        ),
        "pool.healthmonitor.type",
        "not allowed for a UDP pool",
    );
    t.error(
        &hm(
            "TCP",
            r#"{"type": "TCP", "delay": 51, "timeout": 3, "max_retries": 3}"#,
        ),
        "pool.healthmonitor.delay",
        "1..=50 seconds",
    );
    t.error(
        &hm(
            "TCP",
            r#"{"type": "TCP", "delay": 5, "timeout": 0, "max_retries": 3}"#,
        ),
        "pool.healthmonitor.timeout",
        "1..=50 seconds",
    );
    t.error(
        &hm(
            "TCP",
            r#"{"type": "TCP", "delay": 5, "timeout": 3, "max_retries": 11}"#,
        ),
        "pool.healthmonitor.max_retries",
        "1..=10",
    );
    t.error(
        &hm("TCP", &format!(r#"{{{base}, "max_retries_down": 0}}"#)),
        "pool.healthmonitor.max_retries_down",
        "1..=10",
    );
    t.error(
        &hm("TCP", r#"{"type": "TCP", "delay": 5, "timeout": 3}"#),
        "pool.healthmonitor.max_retries",
        "is required",
    );
    t.error(
        &hm(
            "HTTP",
            r#"{"type": "HTTP", "delay": 5, "timeout": 3, "max_retries": 3, "expected_codes": "200-"}"#,
        ),
        "pool.healthmonitor.expected_codes",
        "not a code or a range",
    );
    t.error(
        &hm(
            "HTTP",
            r#"{"type": "HTTP", "delay": 5, "timeout": 3, "max_retries": 3, "expected_codes": "600"}"#,
        ),
        "pool.healthmonitor.expected_codes",
        "outside 200..=599",
    );
    t.error(
        &hm(
            "HTTP",
            r#"{"type": "HTTP", "delay": 5, "timeout": 3, "max_retries": 3, "expected_codes": "200,201,202,203,204,205"}"#,
        ),
        "pool.healthmonitor.expected_codes",
        "at most 5",
    );
    t.error(
        &hm(
            "HTTP",
            r#"{"type": "HTTP", "delay": 5, "timeout": 3, "max_retries": 3, "url_path": "health"}"#,
        ),
        "pool.healthmonitor.url_path",
        "must start with /",
    );
    // Seed 002's own example sends timeout 30 with delay 1: recommended against, not refused.
    t.warning(
        &hm(
            "TCP",
            r#"{"type": "TCP", "delay": 1, "timeout": 30, "max_retries": 3}"#,
        ),
        "pool.healthmonitor.timeout",
        "recommends",
    );
    t.check();
}

#[test]
fn vpc_channel_fields_seed_001() {
    let mut t = Cases::default();
    t.error(
        &channel(r#""vpc_channel_type": "builtin", "type": 2"#),
        "vpc_channel_type",
        "conflicts with a non-zero `type`",
    );
    let named = |n: &str| {
        format!(r#"{{"name": "{n}", "port": 80, "balance_strategy": 1, "member_type": "ip"}}"#)
    };
    t.error(&named("ab"), "name", "3 to 64");
    t.error(&named("9lives"), "name", "must start with a letter");
    t.error(&named("a b c"), "name", "only letters, digits");
    // Chinese names are allowed (seed 001)
    t.valid(&named("通道_demo"));
    let strategy = r#"{"name": "chan", "port": 80, "balance_strategy": 5, "member_type": "ip"}"#;
    t.error(strategy, "balance_strategy", "1..=4");
    let port = r#"{"name": "chan", "port": 0, "balance_strategy": 1, "member_type": "ip"}"#;
    t.error(port, "port", "1..=65535");
    let mtype = r#"{"name": "chan", "port": 80, "balance_strategy": 1, "member_type": "instance"}"#;
    t.error(mtype, "member_type", "is not one of ip, ecs");
    let missing = r#"{"vpc_channel": {"port": 80, "balance_strategy": 1}}"#;
    t.error(missing, "vpc_channel.name", "is required");
    t.error(missing, "vpc_channel.member_type", "is required");
    t.check();
}

#[test]
fn vpc_channel_members_and_groups() {
    let mut t = Cases::default();
    let m = |member: &str| {
        format!(
            r#"{{"name": "chan", "port": 80, "balance_strategy": 1, "member_type": "ip", "member_groups": [{{"member_group_name": "grp", "member_group_weight": 3}}], "members": [{member}]}}"#
        )
    };
    t.error(
        &m(r#"{"host": "10.0.0.1", "weight": 10001}"#),
        "members[0].weight",
        "0..=10000",
    );
    t.error(
        &m(r#"{"host": "10.0.0.1", "status": 3}"#),
        "members[0].status",
        "is not one of 1, 2",
    );
    t.error(
        &m(r#"{"host": "10.0.0.1", "member_group_name": "grq"}"#),
        "members[0].member_group_name",
        "did you mean grp",
    );
    t.warning(
        &m(r#"{"host": "10.0.0.1"}, {"host": "10.0.0.1", "weight": 5}"#),
        "members[1]",
        "first definition wins",
    );
    let group = |g: &str| {
        format!(
            r#"{{"name": "chan", "port": 80, "balance_strategy": 1, "member_type": "ip", "member_groups": [{g}]}}"#
        )
    };
    t.error(
        &group(r#"{"member_group_name": "grp", "member_group_weight": 101}"#),
        "member_groups[0].member_group_weight",
        "0..=100",
    );
    t.error(
        &group(r#"{"member_group_name": "g"}"#),
        "member_groups[0].member_group_name",
        "3 to 64",
    );
    t.check();
}

#[test]
fn vpc_health_config() {
    let mut t = Cases::default();
    let hc = |h: &str| channel(&format!(r#""vpc_health_config": {h}"#));
    let base =
        r#""threshold_normal": 2, "threshold_abnormal": 5, "time_interval": 10, "timeout": 5"#;
    // The seeds' own examples write the protocol in lower case.
    t.valid(&hc(&format!(
        r#"{{"protocol": "http", "path": "/", "http_code": "200", {base}}}"#
    )));
    t.error(
        &hc(&format!(r#"{{"protocol": "udp", {base}}}"#)),
        "vpc_health_config.protocol",
        "is not one of TCP, HTTP, HTTPS",
    );
    t.error(
        &hc(&format!(
            r#"{{"protocol": "HTTP", "http_code": "200", {base}}}"#
        )),
        "vpc_health_config.path",
        "is required",
    );
    // a valid TCP check with one value changed out of range: (changes, field at fault, rule)
    type Changes = &'static [(&'static str, u32)];
    let ranges: [(Changes, &str, &str); 5] = [
        (&[("threshold_normal", 11)], "threshold_normal", "1..=10"),
        (&[("threshold_abnormal", 0)], "threshold_abnormal", "1..=10"),
        (&[("time_interval", 301)], "time_interval", "1..=300"),
        (
            &[("time_interval", 40), ("timeout", 31)],
            "timeout",
            "1..=30",
        ),
        (
            &[("time_interval", 5)],
            "timeout",
            "less than time_interval",
        ),
    ];
    for (changes, field, rule) in ranges {
        let mut check: serde_json::Value =
            serde_json::from_str(&format!(r#"{{"protocol": "TCP", {base}}}"#)).unwrap();
        for &(key, value) in changes {
            check[key] = value.into();
        }
        let path = format!("vpc_health_config.{field}");
        t.error(&hc(&check.to_string()), &path, rule);
    }
    t.error(
        &hc(&format!(
            r#"{{"protocol": "HTTP", "path": "/", "http_code": "99,200-299", {base}}}"#
        )),
        "vpc_health_config.http_code",
        "outside 100..=599",
    );
    t.error(
        &hc(&format!(
            r#"{{"protocol": "HTTP", "path": "/", "http_code": "299-200", {base}}}"#
        )),
        "vpc_health_config.http_code",
        "start exceeds its end",
    );
    t.check();
}

#[test]
fn unknown_fields_are_errors_with_suggestions_and_vendor_fields_are_notes() {
    let mut t = Cases::default();
    t.error(
        &pool("TCP", r#""lb_algorith": "ROUND_ROBIN""#),
        "pool.lb_algorith",
        "did you mean `lb_algorithm`",
    );
    t.error(
        r#"{"pool": {"protocol": "TCP"}, "worklod": {}}"#,
        "worklod",
        "did you mean `workload`",
    );
    let notes: Vec<_> = findings(&pool("TCP", r#""vpc_id": "v", "listeners": [{"id": "l"}]"#))
        .into_iter()
        .filter(|f| f.severity == Severity::Note)
        .map(|f| f.path)
        .collect();
    assert_eq!(notes, vec!["pool.listeners", "pool.vpc_id"]);
    t.check();
}

#[test]
fn pool_definitions_exactly_one() {
    let mut t = Cases::default();
    t.error(r#"{"name": "x"}"#, "", "has no pool definition");
    t.error(
        r#"{"pool": {"protocol": "TCP"}, "vpc_channel": {}}"#,
        "",
        "exactly one pool",
    );
    t.warning(
        r#"{"pool": {"protocol": "TCP"}}"#,
        "pool.members",
        "needs members",
    );
    t.check();
}

#[test]
fn simulation_sections() {
    let mut t = Cases::default();
    let p = |extra: &str| {
        format!(
            r#"{{"pool": {{"protocol": "TCP", "members": [{{"address": "10.0.0.1", "protocol_port": 80}}]}}, {extra}}}"#
        )
    };
    t.error(&p(r#""duration_s": -1"#), "duration_s", "is outside");
    t.error(
        &p(r#""duration_s": 10, "warmup_s": 10"#),
        "warmup_s",
        "below duration_s",
    );
    t.error(
        &p(r#""backends": {"default": {"capacity": 0}}"#),
        "backends.default.capacity",
        "at least 1",
    );
    t.error(
        &p(r#""backends": {"members": {"10.0.0.2": {"speed": 2}}}"#),
        "backends.members.10.0.0.2",
        "names no member",
    );
    t.error(
        &p(r#""backends": {"default": {"speed": 0}}"#),
        "backends.default.speed",
        "above 0",
    );
    t.error(
        &p(r#""backends": {"default": {"service_time_ms": {"pareto": {"mean": 4, "shape": 1}}}}"#),
        "backends.default.service_time_ms.pareto.shape",
        "must exceed 1",
    );
    t.error(
        &p(r#""workload": {"arrivals": {"rate_per_s": 0}}"#),
        "workload.arrivals.rate_per_s",
        "above 0",
    );
    t.error(
        &p(r#""workload": {"clients": {"cidr": "10.0.0.0/33"}}"#),
        "workload.clients.cidr",
        "prefix length",
    );
    t.error(
        &p(r#""events": [{"at_s": 5, "member_down": "10.0.0.9"}]"#),
        "events[0].member_down",
        "names no member",
    );
    t.error(
        &p(r#""events": [{"at_s": 5}]"#),
        "events[0]",
        "has no action",
    );
    t.error(
        &p(r#""events": [{"at_s": 5, "member_down": "10.0.0.1", "set_rate": 10}]"#),
        "events[0]",
        "exactly one per event",
    );
    t.error(
        &p(r#""events": [{"at_s": 5, "set_weight": {"member": "10.0.0.1", "weight": 101}}]"#),
        "events[0].set_weight.weight",
        "0..=100",
    );
    t.warning(
        &p(r#""events": [{"at_s": 500, "member_down": "10.0.0.1"}]"#),
        "events[0].at_s",
        "after the end",
    );
    t.error(
        &p(r#""events": [{"at_s": 5, "update_pool": {"pool": {"lb_algorithm": "QUIC_CID"}}}]"#),
        "events[0].update_pool.pool.lb_algorithm",
        "only allowed on QUIC pools",
    );
    // seed 000's UpdatePoolOption has no health monitor, members or protocol
    for key in ["healthmonitor", "protocol"] {
        let value = if key == "protocol" {
            r#""UDP""#
        } else {
            r#"{"type": "TCP", "delay": 1, "timeout": 1, "max_retries": 1}"#
        };
        t.warning(
            &p(&format!(
                r#""events": [{{"at_s": 5, "update_pool": {{"pool": {{"{key}": {value}}}}}}}]"#
            )),
            &format!("events[0].update_pool.pool.{key}"),
            "is not a field of the pool update",
        );
    }
    t.error(
        &p(
            r#""events": [{"at_s": 5, "add_members": {"members": [{"address": "10.0.0.2", "protocol_port": 80, "weigth": 2}]}}]"#,
        ),
        "events[0].add_members.members[0].weigth",
        "did you mean `weight`",
    );
    t.check();
}

#[test]
fn added_members_can_be_named_by_later_events() {
    let mut t = Cases::default();
    let json = r#"{"pool": {"protocol": "TCP", "members": [{"address": "10.0.0.1", "protocol_port": 80}]},
        "events": [{"at_s": 5, "add_members": {"members": [{"address": "10.0.0.2", "protocol_port": 80}]}},
                   {"at_s": 9, "member_down": "10.0.0.2"}]}"#;
    t.valid(json);
    t.check();
}

#[test]
fn malformed_files_get_one_clear_line() {
    let mut t = Cases::default();
    t.error(
        "{\"pool\": {\n  \"protocol\": \"TCP\",\n}",
        "",
        "line 3 column 1: malformed JSON",
    );
    t.error("", "", "is empty");
    t.error("[1, 2]", "", "must be a JSON object");
    t.error(
        &pool("TCP", "").replace("80", "\"80\""),
        "pool.members[0].protocol_port",
        "has the wrong type",
    );
    // serde's vocabulary is translated into JSON's
    let mut v: serde_json::Value = serde_json::from_str(&pool("TCP", "")).unwrap();
    v["workload"] = serde_json::json!({"clients": {"popularity": "zipf"}, "timeout_ms": "5"});
    t.error(
        &v.to_string(),
        "workload.clients.popularity.zipf",
        r#"needs a value: write {"zipf": …}, not "zipf" alone"#,
    );
    v["workload"] = serde_json::json!({"timeout_ms": "5"});
    t.error(
        &v.to_string(),
        "workload.timeout_ms",
        r#"has the wrong type: string "5", expected a number"#,
    );
    // A byte-order mark is legal at the start of a file.
    t.valid(&format!("\u{feff}{}", pool("TCP", "")));
    t.check();
}

#[test]
fn arrays_are_refused_where_the_api_expects_objects() {
    let mut t = Cases::default();
    // serde alone would read these by position
    let rule = "must be a JSON object, not an array of 2";
    t.error(
        &pool("HTTP", r#""slow_start": [true, 30]"#),
        "pool.slow_start",
        rule,
    );
    t.error(
        &pool("TCP", "").replace(
            r#"[{"address": "10.0.0.1", "protocol_port": 80}]"#,
            r#"[["m", "10.0.0.1"]]"#,
        ),
        "pool.members[0]",
        "must be a JSON object, not an array of 2",
    );
    t.error(
        &channel(r#""vpc_health_config": [1, 2]"#),
        "vpc_health_config",
        rule,
    );
    let beside = |key: &str, json: &str| {
        let mut v: serde_json::Value = serde_json::from_str(&pool("HTTP", "")).unwrap();
        v[key] = serde_json::from_str(json).unwrap();
        v.to_string()
    };
    t.error(
        &beside(
            "backends",
            r#"{"default": {"service_time_ms": {"lognormal": [4, 20]}}}"#,
        ),
        "backends.default.service_time_ms.lognormal",
        rule,
    );
    t.error(
        &beside("workload", r#"{"requests_per_connection": [2.5]}"#),
        "workload.requests_per_connection",
        "must be a JSON object, not an array of 1",
    );
    // inside an event's API body too
    t.error(
        &beside(
            "events",
            r#"[{"at_s": 1, "update_pool": {"pool": {"connection_drain": [true, 20]}}}]"#,
        ),
        "events[0].update_pool.pool.connection_drain",
        rule,
    );
    // arrays the API does define are still read
    t.valid(&channel(r#""member_groups": []"#));
    t.check();
}

#[test]
fn lb_availability_zones() {
    let mut t = Cases::default();
    let with_zones = |zones: Vec<String>| {
        let mut v: serde_json::Value = serde_json::from_str(&pool("HTTP", "")).unwrap();
        v["loadbalancer"] = serde_json::json!({ "availability_zones": zones });
        v.to_string()
    };
    let names = |n: usize| (0..n).map(|i| format!("az-{i}")).collect::<Vec<_>>();
    t.valid(&with_zones(names(1000)));
    t.error(
        &with_zones(names(1001)),
        "loadbalancer.availability_zones",
        "lists more than 1000 AZs",
    );
    t.error(
        &with_zones(vec!["az-1".into(), "az-2".into(), "az-1".into()]),
        "loadbalancer.availability_zones[2]",
        "is listed twice",
    );
    t.error(
        &with_zones(Vec::new()),
        "loadbalancer.availability_zones",
        "must name at least one AZ",
    );
    t.check();
}

#[test]
fn documented_examples_validate() {
    let mut t = Cases::default();
    let doc = include_str!("../../docs/scenario-format.md");
    let blocks: Vec<&str> = doc
        .split("```json\n")
        .skip(1)
        .map(|rest| rest.split("```").next().expect("closed block"))
        .collect();
    assert_eq!(blocks.len(), 2, "one example per dialect");
    for block in blocks {
        t.valid(block);
    }
    t.check();
}

#[test]
fn client_block_must_hold_the_clients() {
    let mut t = Cases::default();
    let json = r#"{"pool": {"protocol": "TCP", "members": [{"address": "10.0.0.1", "protocol_port": 80}]},
        "workload": {"clients": {"count": 10, "cidr": "192.0.2.0/29"}}}"#;
    t.error(
        json,
        "workload.clients.cidr",
        "holds 6 addresses, fewer than the 10 clients need",
    );
    let nat = json.replace("\"count\": 10", "\"count\": 10, \"nat_addresses\": 6");
    t.valid(&nat);
    t.check();
}

/// `validate` on a sweep spec checks it as `sweep` would (the spec, its base, every point) and
/// says that it is one; scenarios given beside it are still checked as scenarios.
#[test]
fn validate_checks_a_sweep_spec_as_a_sweep() {
    use crate::support::lbsim;
    let spec = "scenarios/sweeps/health-check-timing.json";
    let out = lbsim(&["validate", spec, "scenarios/gray-failure.json"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "{spec}: valid sweep spec (17 points x 8 replications = 136 runs)\n"
        )),
        "{text}"
    );
    assert!(
        text.contains("scenarios/gray-failure.json: valid\n"),
        "{text}"
    );

    let dir = tempfile::tempdir().expect("temporary directory");
    let sweeps = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweeps");
    let base = std::fs::read_to_string(sweeps.join("tcp-health-check.json")).expect("base");
    std::fs::write(dir.path().join("tcp-health-check.json"), base).expect("write base");
    let mut bad: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(sweeps.join("health-check-timing.json")).expect("spec"),
    )
    .expect("JSON");
    bad["parameters"][0]["values"] = serde_json::json!([1, 200]);
    let bad_path = dir.path().join("bad.json");
    std::fs::write(&bad_path, bad.to_string()).expect("write spec");
    let bad_path = bad_path.to_str().expect("UTF-8 path");
    let out = lbsim(&["validate", bad_path]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("pool.healthmonitor.delay: 200 is outside 1..=50 seconds"),
        "{text}"
    );
    assert!(
        text.ends_with(&format!("{bad_path}: invalid sweep spec (1 error)\n")),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&lbsim(&["validate", "--json", bad_path]).stdout).expect("JSON");
    assert_eq!(json[0]["file"], bad_path);
    assert_eq!(json[0]["severity"], "error");
}

/// Seed 002 and huawei-semantics "Other pool fields": `ip_version` is `v4`, `v6` or
/// `dualstack`, and an HTTP pool's is `v4` ("当协议为HTTP时,ip_version为v4"). Any string was
/// accepted before.
#[test]
fn elb_pool_ip_version() {
    let mut t = Cases::default();
    t.error(
        &pool("TCP", r#""ip_version": "foo""#),
        "pool.ip_version",
        "is not one of",
    );
    t.warning(
        &pool("HTTP", r#""ip_version": "dualstack""#),
        "pool.ip_version",
        "is v4 on HTTP pools",
    );
    t.valid(&pool("TCP", r#""ip_version": "dualstack""#));
    t.valid(&pool("HTTP", r#""ip_version": "v4""#));
    t.check();
}

/// The rules of the fidelity pass on fields that were accepted unchecked.
#[test]
fn elb_and_apig_fields_checked_by_the_seeds() {
    let mut t = Cases::default();
    // huawei-semantics §9: "monitor_port is required in any-port pools"
    let any_port = r#"{"pool": {"protocol": "TCP", "any_port_enable": true,
        "members": [{"address": "10.0.0.1"}],
        "healthmonitor": {"type": "TCP", "delay": 5, "timeout": 3, "max_retries": 3}}}"#;
    t.error(
        any_port,
        "pool.healthmonitor.monitor_port",
        "is required when the pool has any_port_enable",
    );
    t.valid(&any_port.replace(
        r#""max_retries": 3}"#,
        r#""max_retries": 3, "monitor_port": 8080}"#,
    ));
    // seed 002 url_path: "/" first, then letters, digits and -/.%?#& _;~!()*[]@$^:',+
    let monitor = |url: &str, kind: &str| {
        pool(
            "HTTP",
            &format!(
                r#""healthmonitor": {{"type": "{kind}", "delay": 5, "timeout": 3, "max_retries": 3, "url_path": "{url}"}}"#
            ),
        )
    };
    t.valid(&monitor("/health/a-b_c.d?x&y%20#f;~!()*[]@$^:',+", "HTTP"));
    t.error(
        &monitor("/a b", "HTTP"),
        "pool.healthmonitor.url_path",
        "contains ' '",
    );
    t.error(
        &monitor("/a<b", "HTTP"),
        "pool.healthmonitor.url_path",
        "contains '<'",
    );
    // '=' is not in the seed's list
    t.error(
        &monitor("/a?b=1", "HTTP"),
        "pool.healthmonitor.url_path",
        "contains '='",
    );
    t.error(
        &monitor("health", "HTTP"),
        "pool.healthmonitor.url_path",
        "must start with /",
    );
    t.warning(
        &monitor("/health", "TCP"),
        "pool.healthmonitor.url_path",
        "has no effect",
    );
    // seeds 000/002: ip_version is the version the pool supports; HTTP means v4
    t.warning(
        &pool("TCP", r#""ip_version": "v4""#).replace("10.0.0.1", "2001:db8::1"),
        "pool.members[0].address",
        "supports IPv4 only",
    );
    t.warning(
        &pool("HTTP", "").replace("10.0.0.1", "2001:db8::1"),
        "pool.members[0].address",
        "supports IPv4 only",
    );
    t.valid(&pool("TCP", r#""ip_version": "dualstack""#).replace("10.0.0.1", "2001:db8::1"));
    // seed 002's master-slave body has no az_affinity
    t.warning(
        r#"{"pool": {"protocol": "TCP", "lb_algorithm": "ROUND_ROBIN", "type": "ip",
            "az_affinity": {"enable": true},
            "healthmonitor": {"type": "TCP", "delay": 5, "timeout": 3, "max_retries": 3},
            "members": [{"address": "10.0.0.1", "protocol_port": 80, "role": "master"},
                        {"address": "10.0.0.2", "protocol_port": 80, "role": "slave"}]}}"#,
        "pool.az_affinity",
        "is not a field of a master-slave pool",
    );
    // seed 001: instance_ids, "specify 1 to 10 IDs" (absent in instance-level bodies)
    t.error(
        &channel(r#""instance_ids": []"#),
        "instance_ids",
        "specify 1 to 10",
    );
    t.valid(&channel(
        r#""instance_ids": ["eea73cde015940908ae0117d67bf7330"]"#,
    ));
    t.valid(&channel(""));
    t.check();
}
