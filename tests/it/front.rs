//! The front of the pool (ELB `listener`, APIG `api`), request methods, member failure modes and
//! the load balancer's latency and undrained-connection settings, as validation reads them and
//! lowering hands them to the engine.

use lbsim::model::Protocol;
use lbsim::pipeline::{self, Overrides, Source};
use lbsim::scenario::patch::Setting;
use lbsim::scenario::{self, Finding, Severity};
use lbsim::sim::{
    Action, Failure, FrontConfig, FrontKind, Method, RetryPolicy, SimConfig, Undrained,
    DEFAULT_FORWARDING_LATENCY, ELB_CONNECT_TIMEOUT,
};
use lbsim::time::SimTime;
use serde_json::{json, Value};

const TWO_MEMBERS: &str = r#"[{"name": "web-1", "address": "10.0.0.1", "protocol_port": 80},
                              {"name": "web-2", "address": "10.0.0.2", "protocol_port": 80}]"#;

/// An ELB pool of `protocol` with two members and `extra` top-level keys.
fn elb(protocol: &str, extra: &str) -> String {
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!(", {extra}")
    };
    let persistence = match protocol {
        "QUIC" => r#", "session_persistence": {"type": "SOURCE_IP"}"#,
        _ => "",
    };
    format!(
        r#"{{"pool": {{"protocol": "{protocol}", "members": {TWO_MEMBERS}{persistence}}}{extra}}}"#
    )
}

/// A VPC channel with three members, the third disabled, and `extra` top-level keys.
fn channel(extra: &str) -> String {
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!(", {extra}")
    };
    format!(
        r#"{{"vpc_channel": {{"name": "chan", "port": 80, "balance_strategy": 1, "member_type": "ip",
            "members": [{{"host": "10.0.0.1"}}, {{"host": "10.0.0.2"}}, {{"host": "10.0.0.3"}},
                        {{"host": "10.0.0.4", "status": 2}}]}}{extra}}}"#
    )
}

fn set(path: &str, value: Value) -> Setting {
    Setting {
        path: path.into(),
        value,
    }
}

/// The lowered config of `text` with `sets` applied; panics with the refusal otherwise.
fn lowered_with(text: &str, sets: &[Setting]) -> SimConfig {
    let source = Source::Text {
        file: "t.json",
        text,
        trace: None,
    };
    match pipeline::prepare(&source, sets, Overrides::default()) {
        Ok(p) => p.config,
        Err(refusal) => panic!("{text}\n{:?}", refusal.lines()),
    }
}

fn lowered(text: &str) -> SimConfig {
    lowered_with(text, &[])
}

fn findings(text: &str) -> Vec<Finding> {
    match scenario::parse("t.json", text, None, &[]) {
        Ok(loaded) => loaded.findings,
        Err(findings) => findings,
    }
}

/// The finding of `severity` at `path`, which must exist.
fn finding(text: &str, severity: Severity, path: &str) -> Finding {
    let all = findings(text);
    all.iter()
        .find(|f| f.severity == severity && f.path == path)
        .cloned()
        .unwrap_or_else(|| panic!("no {severity:?} at {path} for {text}; got {all:#?}"))
}

fn no_errors(text: &str) {
    let errors: Vec<String> = findings(text)
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(Finding::to_string)
        .collect();
    assert!(errors.is_empty(), "{text}\n{errors:#?}");
}

fn secs(s: u64) -> SimTime {
    SimTime::from_secs(s)
}

#[test]
fn a_pool_without_a_listener_gets_the_vendor_default_listener() {
    for (protocol, pool) in [
        ("HTTP", Protocol::Http),
        ("TCP", Protocol::Tcp),
        ("QUIC", Protocol::Quic),
    ] {
        let c = lowered(&elb(protocol, ""));
        assert_eq!(c.front, FrontConfig::elb_default(pool), "{protocol}");
    }
    let http = FrontConfig::elb_default(Protocol::Http);
    assert_eq!(
        (
            http.kind,
            http.retry,
            http.member_timeout,
            http.keepalive_timeout
        ),
        (
            FrontKind::ElbL7,
            RetryPolicy::Elb,
            Some(secs(60)),
            Some(secs(60))
        )
    );
    // a QUIC pool sits behind a UDP listener (QUIC listeners take HTTP, HTTPS and GRPC pools)
    let quic = FrontConfig::elb_default(Protocol::Quic);
    assert_eq!(
        (
            quic.kind,
            quic.retry,
            quic.member_timeout,
            quic.keepalive_timeout
        ),
        (FrontKind::ElbL4, RetryPolicy::Never, None, Some(secs(300)))
    );
}

#[test]
fn an_l7_listener_lowers_its_timeouts_limits_retry_and_port() {
    let c = lowered(&elb(
        "HTTP",
        r#""listener": {"protocol": "HTTP", "protocol_port": 8080, "member_timeout": 5,
            "client_timeout": 10, "keepalive_timeout": 0, "cps": 100, "connection": 2000,
            "enable_member_retry": false, "name": "web", "insert_headers": {"X-Real-IP": true}}"#,
    ));
    assert_eq!(
        c.front,
        FrontConfig {
            kind: FrontKind::ElbL7,
            retry: RetryPolicy::Never,
            connect_timeout: ELB_CONNECT_TIMEOUT,
            member_timeout: Some(secs(5)),
            keepalive_timeout: Some(SimTime::ZERO),
            cps: 100,
            max_connections: 2000,
            forwarding_latency: DEFAULT_FORWARDING_LATENCY,
            undrained: Undrained::Cut,
        }
    );
    assert_eq!(c.listener.1, 8080);
    // retry is on unless switched off
    let on = lowered(&elb("HTTPS", r#""listener": {"protocol": "HTTPS"}"#));
    assert_eq!(on.front.retry, RetryPolicy::Elb);
}

#[test]
fn an_l4_listener_has_no_member_timeout_or_retry() {
    let c = lowered(&elb(
        "TCP",
        r#""listener": {"protocol": "TCP", "keepalive_timeout": 900}"#,
    ));
    assert_eq!(
        (
            c.front.kind,
            c.front.retry,
            c.front.member_timeout,
            c.front.keepalive_timeout
        ),
        (FrontKind::ElbL4, RetryPolicy::Never, None, Some(secs(900)))
    );
    let tls = lowered(&elb("TCP", r#""listener": {"protocol": "TLS"}"#));
    assert_eq!(tls.front.kind, FrontKind::ElbL4);
    let udp = lowered(&elb("QUIC", r#""listener": {"protocol": "UDP"}"#));
    assert_eq!(udp.front, FrontConfig::elb_default(Protocol::Quic));
}

#[test]
fn a_create_listener_body_reads_as_its_listener_object() {
    let body = r#"{"protocol": "HTTP", "member_timeout": 7, "loadbalancer_id": "lb-1"}"#;
    let bare = lowered(&elb("HTTP", &format!(r#""listener": {body}"#)));
    let wrapped = lowered(&elb(
        "HTTP",
        &format!(r#""listener": {{"listener": {body}}}"#),
    ));
    assert_eq!(bare.front, wrapped.front);
    assert_eq!(wrapped.front.member_timeout, Some(secs(7)));
    // findings name the wrapped keys where the file has them
    let f = finding(
        &elb("HTTP", r#""listener": {"listener": {"member_timeout": 0}}"#),
        Severity::Error,
        "listener.listener.member_timeout",
    );
    assert!(f.rule.contains("1..=300"), "{f}");
    let note = finding(
        &elb("HTTP", r#""listener": {"listener": {"name": "web"}}"#),
        Severity::Note,
        "listener.listener.name",
    );
    assert!(note.rule.contains("vendor field"), "{note}");
}

#[test]
fn set_paths_reach_the_listener_the_api_and_the_methods() {
    let text = elb("HTTP", r#""listener": {"protocol": "HTTP"}"#);
    let c = lowered_with(&text, &[set("listener.member_timeout", json!(5))]);
    assert_eq!(c.front.member_timeout, Some(secs(5)));
    // a key beside a wrapped body replaces the body's own
    let wrapped = elb(
        "HTTP",
        r#""listener": {"listener": {"protocol": "HTTP", "member_timeout": 30}}"#,
    );
    let c = lowered_with(&wrapped, &[set("listener.member_timeout", json!(5))]);
    assert_eq!(c.front.member_timeout, Some(secs(5)));
    let c = lowered_with(
        &channel(""),
        &[set("api.backend_api.retry_count", json!("2"))],
    );
    assert_eq!(c.front.retry, RetryPolicy::Apig(2));
    let c = lowered_with(
        &elb("HTTP", ""),
        &[set("workload.methods", json!({"POST": 1}))],
    );
    assert_eq!(c.workload.methods, vec![(Method::Post, 1.0)]);
    // the values as `--set` parses them
    let (path, values) =
        scenario::patch::parse_assignment(r#"workload.methods={"GET":0.5,"PUT":0.5}"#).unwrap();
    assert_eq!((path.as_str(), values.len()), ("workload.methods", 1));
    let (_, values) = scenario::patch::parse_assignment("listener.member_timeout=5,60").unwrap();
    assert_eq!(values, vec![json!(5), json!(60)]);
}

#[test]
fn listener_rules_that_have_no_effect_are_warnings() {
    let cases = [
        (
            elb(
                "TCP",
                r#""listener": {"protocol": "TCP", "member_timeout": 5}"#,
            ),
            "listener.member_timeout",
            "has no effect on a TCP listener",
        ),
        (
            elb(
                "UDP",
                r#""listener": {"protocol": "UDP", "client_timeout": 5}"#,
            ),
            "listener.client_timeout",
            "has no effect on a UDP listener",
        ),
        (
            elb(
                "HTTP",
                r#""listener": {"protocol": "QUIC", "http2_enable": false}"#,
            ),
            "listener.http2_enable",
            "fixed to true",
        ),
        (
            elb("TCP", r#""workload": {"methods": {"GET": 1}}"#),
            "workload.methods",
            "has no effect: a TCP listener",
        ),
    ];
    for (text, path, rule) in cases {
        no_errors(&text);
        let f = finding(&text, Severity::Warning, path);
        assert!(f.rule.contains(rule), "{f}");
    }
}

/// A listener without `protocol` (`--set listener.member_timeout=5`, or an update body) is the
/// pool's own: a note, not a warning.
#[test]
fn a_listener_without_protocol_is_the_pools() {
    let text = elb("HTTP", r#""listener": {"member_timeout": 5}"#);
    no_errors(&text);
    let f = finding(&text, Severity::Note, "listener.protocol");
    assert!(f.rule.contains("simulating a HTTP listener"), "{f}");
}

#[test]
fn listener_and_pool_protocols_follow_the_vendor_table() {
    for (listener, pool) in [
        ("HTTPS", "HTTPS"),
        ("QUIC", "HTTP"),
        ("UDP", "QUIC"),
        ("TLS", "TCP"),
        ("TLS", "TLS"),
        ("TERMINATED_HTTPS", "HTTP"),
        ("IP", "IP"),
    ] {
        let listener = format!(r#""listener": {{"protocol": "{listener}"}}"#);
        let text = match pool {
            // an IP pool's members listen on port 0
            "IP" => format!(
                r#"{{"pool": {{"protocol": "IP", "members": [{{"address": "10.0.0.1", "protocol_port": 0}}]}}, {listener}}}"#
            ),
            _ => elb(pool, &listener),
        };
        no_errors(&text);
    }
    let f = finding(
        &elb("HTTP", r#""listener": {"protocol": "UDP"}"#),
        Severity::Error,
        "listener.protocol",
    );
    assert!(f.rule.contains("takes only UDP, QUIC pools"), "{f}");
    // a TLS listener takes a TCP pool only of ip_version v4: an error for dualstack, a warning
    // when the pool does not say
    let tls_before_tcp = |ip_version: &str| {
        format!(
            r#"{{"pool": {{"protocol": "TCP", {ip_version} "members": {TWO_MEMBERS}}}, "listener": {{"protocol": "TLS"}}}}"#
        )
    };
    let v4 = tls_before_tcp(r#""ip_version": "v4","#);
    assert!(
        findings(&v4).iter().all(|f| f.path != "listener.protocol"),
        "{:#?}",
        findings(&v4)
    );
    let dual = finding(
        &tls_before_tcp(r#""ip_version": "dualstack","#),
        Severity::Error,
        "listener.protocol",
    );
    assert!(
        dual.rule
            .starts_with("cannot forward to the pool (TCP, ip_version dualstack): a TLS listener takes a TCP pool only of ip_version v4"),
        "{dual}"
    );
    let unsaid = finding(&tls_before_tcp(""), Severity::Warning, "listener.protocol");
    assert!(
        unsaid.rule.contains("does not give its ip_version"),
        "{unsaid}"
    );
    // a GRPC pool behind HTTPS needs HTTP/2
    no_errors(&elb(
        "GRPC",
        r#""listener": {"protocol": "HTTPS", "http2_enable": true}"#,
    ));
}

#[test]
fn an_api_lowers_its_timeout_and_retry_count() {
    assert_eq!(lowered(&channel("")).front, FrontConfig::apig_default());
    let c = lowered(&channel(
        r#""api": {"name": "orders", "req_method": "GET", "backend_type": "HTTP",
            "backend_api": {"req_method": "GET", "timeout": 3000, "retry_count": "2",
                            "vpc_channel_info": {"vpc_channel_id": "x"}}}"#,
    ));
    let wait = SimTime::from_millis(3000);
    assert_eq!(
        c.front,
        FrontConfig {
            retry: RetryPolicy::Apig(2),
            connect_timeout: wait,
            member_timeout: Some(wait),
            ..FrontConfig::apig_default()
        }
    );
    let numeric = lowered(&channel(r#""api": {"backend_api": {"retry_count": 0}}"#));
    assert_eq!(numeric.front.retry, RetryPolicy::Apig(0));
    // above the default maximum: accepted, with the gateway feature named
    let text = channel(r#""api": {"backend_api": {"timeout": 120000}}"#);
    no_errors(&text);
    let f = finding(&text, Severity::Warning, "api.backend_api.timeout");
    assert!(f.rule.contains("backend_timeout.max_timeout"), "{f}");
    assert_eq!(
        lowered(&text).front.member_timeout,
        Some(SimTime::from_secs(120))
    );
}

#[test]
fn methods_lower_in_a_fixed_order_and_follow_an_apis_single_method() {
    let c = lowered(&elb(
        "HTTP",
        r#""workload": {"methods": {"POST": 0.1, "GET": 0.6, "DELETE": 0.3}}"#,
    ));
    assert_eq!(
        c.workload.methods,
        vec![
            (Method::Get, 0.6),
            (Method::Delete, 0.3),
            (Method::Post, 0.1)
        ]
    );
    assert!(lowered(&elb("HTTP", "")).workload.methods.is_empty());
    // an API fixing one method: every request is that method
    let post = lowered(&channel(r#""api": {"req_method": "POST"}"#));
    assert_eq!(post.workload.methods, vec![(Method::Post, 1.0)]);
    // the backend's own method wins; ANY passes the client's through
    let put = lowered(&channel(
        r#""api": {"req_method": "PUT", "backend_api": {"req_method": "ANY"}}"#,
    ));
    assert_eq!(put.workload.methods, vec![(Method::Put, 1.0)]);
    let backend = lowered(&channel(
        r#""api": {"req_method": "ANY", "backend_api": {"req_method": "PATCH"}}"#,
    ));
    assert_eq!(backend.workload.methods, vec![(Method::Patch, 1.0)]);
    assert!(lowered(&channel(r#""api": {"req_method": "ANY"}"#))
        .workload
        .methods
        .is_empty());
    // the workload's methods stand, with a warning when the API fixes another
    let text = channel(
        r#""api": {"backend_api": {"req_method": "GET"}},
            "workload": {"methods": {"GET": 0.5, "POST": 0.5}}"#,
    );
    let f = finding(&text, Severity::Warning, "workload.methods");
    assert!(
        f.rule.contains("names POST") && f.rule.contains("GET only"),
        "{f}"
    );
    assert_eq!(
        lowered(&text).workload.methods,
        vec![(Method::Get, 0.5), (Method::Post, 0.5)]
    );
}

#[test]
fn failures_lower_as_backend_properties_and_events() {
    let c = lowered(&elb(
        "HTTP",
        r#""backends": {"default": {"failure": {"error_rate": 0.05}},
                        "members": {"web-2": {"failure": "health_only"}}},
           "events": [{"at_s": 10, "member_fail": {"member": "web-2", "failure": "hang"}},
                      {"at_s": 20, "member_fail": {"member": "web-1", "failure": "blackhole"}},
                      {"at_s": 30, "member_down": "web-1"},
                      {"at_s": 40, "member_up": "web-1"}]"#,
    ));
    let failures: Vec<Failure> = c.backends.iter().map(|b| b.failure).collect();
    assert_eq!(failures, [Failure::ErrorRate(0.05), Failure::HealthOnly]);
    let actions: Vec<(u64, Action)> = c
        .timeline
        .iter()
        .map(|e| (e.at.as_secs_f64() as u64, e.action.clone()))
        .collect();
    let fail = |member, failure| Action::SetFailure { member, failure };
    assert_eq!(
        actions,
        vec![
            (10, fail(1, Failure::Hang)),
            (20, fail(0, Failure::Blackhole)),
            (30, fail(0, Failure::Refuse)),
            (40, fail(0, Failure::None)),
        ]
    );
    assert_eq!(lowered(&elb("HTTP", "")).backends[0].failure, Failure::None);
}

#[test]
fn load_balancer_latency_and_undrained_connections_reach_the_front() {
    let c = lowered(&elb(
        "TCP",
        r#""loadbalancer": {"forwarding_latency_ms": 1.5, "undrained_connections": "idle_timeout"}"#,
    ));
    assert_eq!(c.front.forwarding_latency, SimTime::from_micros(1500));
    assert_eq!(c.front.undrained, Undrained::UntilIdle);
    let apig = lowered(&channel(
        r#""loadbalancer": {"forwarding_latency_ms": 0, "undrained_connections": "cut"}"#,
    ));
    assert_eq!(apig.front.forwarding_latency, SimTime::ZERO);
    assert_eq!(apig.front.undrained, Undrained::Cut);
}

#[test]
fn a_bare_channel_keeps_its_api_beside_it() {
    let text = r#"{"name": "chan", "port": 80, "balance_strategy": 1, "member_type": "ip",
        "members": [{"host": "10.0.0.1"}, {"host": "10.0.0.2"}],
        "api": {"backend_api": {"retry_count": "1"}}}"#;
    assert_eq!(lowered(text).front.retry, RetryPolicy::Apig(1));
}

#[test]
fn the_schema_has_the_new_sections() {
    let schema = scenario::json_schema();
    for word in [
        "\"listener\"",
        "\"api\"",
        "\"backend_api\"",
        "\"retry_count\"",
        "\"methods\"",
        "\"member_fail\"",
        "\"failure\"",
        "\"health_only\"",
        "\"undrained_connections\"",
        "\"forwarding_latency_ms\"",
    ] {
        assert!(schema.contains(word), "schema lacks {word}");
    }
}
