//! The vendor's API and load balancers, rule by rule: what the API accepts is accepted (with a
//! warning where the docs say a setting has no effect), and the run behaves as the vendor does.
//! Each test names its source.

use lbsim::pipeline::{self, Overrides, Source};
use lbsim::scenario::Severity;

/// `text` prepared as a scenario: its findings (rendered) and, when valid, whether the pool
/// the run simulates has session persistence.
fn prepare(text: &str) -> (Vec<String>, Option<bool>) {
    let source = Source::Text {
        file: "f.json",
        text,
        trace: None,
    };
    match pipeline::prepare(&source, &[], Overrides::default()) {
        Ok(p) => {
            let errors = p.findings.iter().filter(|f| f.severity == Severity::Error);
            assert_eq!(errors.count(), 0);
            let findings = p.findings.iter().map(ToString::to_string).collect();
            (findings, Some(p.config.pool.persistence.is_some()))
        }
        Err(e) => (vec![format!("{e:?}")], None),
    }
}

/// huawei-semantics §3 and the SDKs' `SessionPersistence.type`: "when the pool's protocol is
/// HTTP, only HTTP_COOKIE or APP_COOKIE take effect" — the API accepts SOURCE_IP on an HTTP,
/// HTTPS or GRPC pool, and the pool then has no persistence.
#[test]
fn source_ip_persistence_on_an_http_pool_is_accepted_without_effect() {
    for protocol in ["HTTP", "HTTPS", "GRPC"] {
        let text = format!(
            r#"{{"pool": {{"protocol": "{protocol}", "lb_algorithm": "ROUND_ROBIN",
                  "session_persistence": {{"type": "SOURCE_IP"}},
                  "members": [{{"address": "10.0.0.1", "protocol_port": 80}}]}}}}"#
        );
        let (findings, persistent) = prepare(&text);
        assert_eq!(persistent, Some(false), "{protocol}: {findings:?}");
        assert!(
            findings.iter().any(|f| f.contains("warning")
                && f.contains("pool.session_persistence.type")
                && f.contains("has no effect")),
            "{protocol}: {findings:?}"
        );
    }
    // the cookie types do take effect
    let (_, persistent) = prepare(
        r#"{"pool": {"protocol": "HTTP", "session_persistence": {"type": "HTTP_COOKIE"},
              "members": [{"address": "10.0.0.1", "protocol_port": 80}]}}"#,
    );
    assert_eq!(persistent, Some(true));
}
