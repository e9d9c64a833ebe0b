//! `lbsim schema`: every shipped file passes its schema under a real JSON Schema validator, and
//! files lbsim refuses are refused by the schema too (where a schema can say why; the rest are
//! listed in docs/scenario-format.md).

use lbsim::pipeline::{self, Source};
use lbsim::scenario::{self, Severity};
use lbsim::sweep;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn validator(schema: &str) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(schema).expect("the schema is JSON");
    jsonschema::draft202012::new(&schema).expect("a valid draft 2020-12 schema")
}

fn scenario_schema() -> jsonschema::Validator {
    validator(&scenario::json_schema())
}

/// Every `.json` file under `scenarios/`.
fn shipped() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("scenarios/").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&root().join("scenarios"), &mut files);
    files.sort();
    files
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("readable");
    serde_json::from_str(&text).expect("JSON")
}

/// The schema's complaints about `instance`, one line each.
fn complaints(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn every_shipped_scenario_and_sweep_spec_passes_its_schema() {
    let scenarios = scenario_schema();
    let specs = validator(&sweep::json_schema());
    let (mut n_scenarios, mut n_specs) = (0, 0);
    let mut problems = Vec::new();
    for path in shipped() {
        let (v, counter) = match sweep::is_spec(&path) {
            true => (&specs, &mut n_specs),
            false => (&scenarios, &mut n_scenarios),
        };
        *counter += 1;
        let wrong = complaints(v, &read(&path));
        if !wrong.is_empty() {
            problems.push(format!("{}: {wrong:#?}", path.display()));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(n_scenarios >= 20, "only {n_scenarios} scenarios");
    assert!(n_specs >= 3, "only {n_specs} sweep specs");
}

/// lbsim's errors for `text` (none: it validates).
fn lbsim_errors(text: &str) -> usize {
    let source = Source::Text {
        file: "case.json",
        text,
        trace: None,
    };
    pipeline::validate(&source, &[])
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count()
}

/// A valid ELB scenario with `change` applied at the JSON pointer `at` (the last segment is
/// the key set).
fn elb_with(at: &str, value: Value) -> Value {
    let mut s = json!({
        "pool": {"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN", "members": [
            {"name": "a", "address": "10.0.0.1", "protocol_port": 80, "weight": 1},
            {"name": "b", "address": "10.0.0.2", "protocol_port": 80, "weight": 1}
        ]},
        "events": [{"at_s": 5, "member_down": "a"}]
    });
    set(&mut s, at, value);
    s
}

fn set(doc: &mut Value, at: &str, value: Value) {
    let (parent, key) = at.rsplit_once('/').expect("a pointer");
    let target = doc.pointer_mut(parent).expect("the parent exists");
    match target {
        Value::Array(items) => items[key.parse::<usize>().expect("an index")] = value,
        other => {
            other[key] = value;
        }
    }
}

/// Each case is refused by lbsim and by the schema.
fn assert_both_refuse(cases: &[(&str, Value)]) {
    let v = scenario_schema();
    let mut problems = Vec::new();
    for (name, doc) in cases {
        let text = doc.to_string();
        if lbsim_errors(&text) == 0 {
            problems.push(format!("{name}: lbsim accepts it"));
        }
        if v.is_valid(doc) {
            problems.push(format!("{name}: the schema accepts it"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_schema_refuses_what_validation_refuses() {
    // the base case is valid for both, so each case fails for its one change
    let base = elb_with("/seed", json!(1));
    assert_eq!(lbsim_errors(&base.to_string()), 0);
    assert!(scenario_schema().is_valid(&base), "{base}");
    let channel = json!({"name": "chan", "port": 80, "balance_strategy": 1, "member_type": "ip"});
    assert_both_refuse(&[
        ("misspelt field", elb_with("/duraton_s", json!(60))),
        (
            "misspelt member field",
            elb_with("/pool/members/0/wieght", json!(1)),
        ),
        (
            "ROUND_ROBIM",
            elb_with("/pool/lb_algorithm", json!("ROUND_ROBIM")),
        ),
        ("weight 101", elb_with("/pool/members/0/weight", json!(101))),
        (
            "port 70000",
            elb_with("/pool/members/0/protocol_port", json!(70000)),
        ),
        ("negative duration", elb_with("/duration_s", json!(-5))),
        ("negative event time", elb_with("/events/0/at_s", json!(-1))),
        (
            "both pool and vpc_channel",
            elb_with("/vpc_channel", channel),
        ),
        (
            "an event with two actions",
            elb_with("/events/0/member_up", json!("b")),
        ),
        (
            "an event without action",
            elb_with("/events/0", json!({"at_s": 1})),
        ),
        (
            "set_weight 101 in a pool",
            elb_with(
                "/events/0",
                json!({"at_s": 1, "set_weight": {"member": "a", "weight": 101}}),
            ),
        ),
        (
            "unknown failure mode",
            elb_with("/backends", json!({"default": {"failure": "explode"}})),
        ),
        (
            "slow start of 10 s",
            elb_with("/pool/slow_start", json!({"enable": true, "duration": 10})),
        ),
        (
            "persistence without type",
            elb_with("/pool/session_persistence", json!({"cookie_name": "x"})),
        ),
        (
            "health monitor without delay",
            elb_with(
                "/pool/healthmonitor",
                json!({"type": "HTTP", "timeout": 3, "max_retries": 3}),
            ),
        ),
        (
            "a channel member added to a pool",
            elb_with(
                "/events/0",
                json!({"at_s": 1, "add_members": {"members": [{"host": "10.0.0.3"}]}}),
            ),
        ),
        (
            "a misspelt field in a pool update",
            elb_with(
                "/events/0",
                json!({"at_s": 1, "update_pool": {"pool": {"lb_algoritm": "SOURCE_IP"}}}),
            ),
        ),
        (
            "listener timeout 301",
            elb_with("/listener", json!({"listener": {"member_timeout": 301}})),
        ),
    ]);
}

#[test]
fn vendor_fields_lbsim_does_not_model_pass_both() {
    let v = scenario_schema();
    for (at, value) in [
        ("/pool/members/0/subnet_cidr_id", json!("subnet-1")),
        ("/pool/description", json!("checkout")),
        ("/request_id", json!("req-1")),
        ("/listener", json!({"name": "web", "protocol": "HTTP"})),
    ] {
        let doc = elb_with(at, value);
        assert_eq!(lbsim_errors(&doc.to_string()), 0, "{at}");
        assert!(v.is_valid(&doc), "{at}: {:#?}", complaints(&v, &doc));
    }
}

#[test]
fn a_channel_takes_wider_event_weights_than_a_pool() {
    let channel = json!({
        "vpc_channel": {"name": "chan", "port": 80, "balance_strategy": 1, "member_type": "ip",
            "members": [{"host": "10.0.0.1", "weight": 5}, {"host": "10.0.0.2"}]},
        "events": [{"at_s": 1, "set_weight": {"member": "10.0.0.1", "weight": 5000}}]
    });
    assert_eq!(lbsim_errors(&channel.to_string()), 0);
    assert!(scenario_schema().is_valid(&channel));
    let mut bare = channel["vpc_channel"].clone();
    bare["events"] = channel["events"].clone();
    assert_eq!(lbsim_errors(&bare.to_string()), 0);
    assert!(scenario_schema().is_valid(&bare), "a bare channel body");
    bare["events"][0]["set_weight"]["weight"] = json!(10001);
    assert!(lbsim_errors(&bare.to_string()) > 0);
    assert!(!scenario_schema().is_valid(&bare));
}

/// Files of the bad-input corpus the schema must refuse too (the others break rules between
/// values, or are not JSON at all: docs/scenario-format.md lists why).
#[test]
fn the_schema_refuses_bad_inputs() {
    let v = scenario_schema();
    let mut problems = Vec::new();
    for name in [
        "unknown-top-level-key",
        "listener-unknown-field",
        "listener-wrapped-unknown-field",
        "api-backend-unknown-field",
        "service-time-unknown-field",
        "unknown-algorithm",
        "port-70000",
        "duration-negative",
        "duration-zero",
        "duration-over-a-week",
        "duration-string",
        "both-pool-and-channel",
        "no-pool",
        "event-two-actions",
        "event-no-action",
        "event-missing-time",
        "event-negative-time",
        "event-weight-101",
        "event-unknown-action",
        "event-body-array",
        "api-in-pool",
        "listener-in-vpc-channel",
        "event-slow-factor-zero",
        "failure-unknown",
        "failure-error-rate-zero",
        "failure-error-rate-above-one",
        "capacity-zero",
        "capacity-negative",
        "speed-zero",
        "rate-zero",
        "clients-zero",
        "clients-over-limit",
        "uris-over-limit",
        "weight-negative",
        "weight-string",
        "vpc-weight-20000",
        "vpc-bad-strategy",
        "undrained-unknown",
        "forwarding-latency-negative",
        "forwarding-latency-over-10000",
        "traffic-weight-too-large",
        "migration-probability-2",
        "pareto-shape-1",
        "requests-per-connection-zero",
        "methods-unknown",
        "methods-share-zero",
        "listener-protocol-unknown",
        "listener-member-timeout-301",
        "listener-keepalive-http-over-4000",
        "listener-cps-over-limit",
        "listener-connection-negative",
        "listener-client-timeout-zero",
        "listener-timeout-float",
        "api-req-method-unknown",
        "api-timeout-zero",
        "api-timeout-over-600000",
        "seed-negative",
        "seed-float",
        "members-object",
        "top-level-array",
        "top-level-string",
        "top-level-null",
    ] {
        let path = root().join(format!("tests/bad_inputs/{name}.json"));
        let doc = read(&path);
        let refused = pipeline::validate(&Source::File(&path), &[])
            .iter()
            .any(|f| f.severity == Severity::Error);
        if !refused {
            problems.push(format!("{name}: lbsim accepts it"));
        }
        if v.is_valid(&doc) {
            problems.push(format!("{name}: the schema accepts it"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_sweep_schema_refuses_what_sweep_refuses() {
    let v = validator(&sweep::json_schema());
    let spec = json!({
        "base": "two-az-tcp.json",
        "parameters": [{"path": "pool.lb_algorithm", "values": ["ROUND_ROBIN"]}],
        "objective": {"minimize": "summary.latency_ms.p99"}
    });
    assert!(v.is_valid(&spec), "{:#?}", complaints(&v, &spec));
    let with = |at: &str, value: Value| {
        let mut s = spec.clone();
        set(&mut s, at, value);
        s
    };
    for (name, doc) in [
        ("misspelt key", with("/replication", json!(3))),
        ("no replications", with("/replications", json!(0))),
        (
            "two sources of values",
            with(
                "/parameters/0/range",
                json!({"from": 1, "to": 2, "step": 1}),
            ),
        ),
        (
            "no source of values",
            with("/parameters/0", json!({"path": "seed"})),
        ),
        (
            "a step of 0",
            with(
                "/parameters/0",
                json!({"path": "seed", "range": {"from": 1, "to": 2, "step": 0}}),
            ),
        ),
        (
            "unknown goal",
            with("/objective", json!({"minimise": "summary.failed"})),
        ),
        ("negative duration", with("/duration_s", json!(-1))),
    ] {
        let text = doc.to_string();
        let parsed = serde_json::from_str::<sweep::Spec>(&text);
        let refused = match parsed {
            Err(_) => true,
            Ok(spec) => sweep::Plan::new(spec, String::new()).is_err(),
        };
        assert!(refused, "{name}: lbsim sweep accepts it");
        assert!(!v.is_valid(&doc), "{name}: the schema accepts it");
    }
}

/// Editors find a file's schema in its `"$schema"` key: lbsim takes it in scenarios (bare VPC
/// channel bodies too) and sweep specs, and the schemas allow it.
#[test]
fn a_schema_key_is_accepted_for_editors() {
    let v = scenario_schema();
    let url = json!("./lbsim-scenario.schema.json");
    let wrapped = elb_with("/$schema", url.clone());
    let mut bare = json!({"name": "chan", "port": 80, "balance_strategy": 1, "member_type": "ip",
        "members": [{"host": "10.0.0.1"}]});
    bare["$schema"] = url;
    for doc in [wrapped, bare] {
        assert_eq!(lbsim_errors(&doc.to_string()), 0, "{doc}");
        assert!(v.is_valid(&doc), "{:#?}", complaints(&v, &doc));
    }
    let spec = json!({
        "$schema": "./lbsim-sweep.schema.json",
        "base": "two-az-tcp.json",
        "parameters": [{"path": "seed", "values": [1, 2]}],
        "objective": {"minimize": "summary.failed"}
    });
    let parsed: sweep::Spec = serde_json::from_value(spec.clone()).expect("a spec");
    assert!(sweep::Plan::new(parsed, String::new()).is_ok());
    assert!(validator(&sweep::json_schema()).is_valid(&spec));
}

/// Values validation reads in any case (`http_method`) pass the schema in any case, and only
/// those values.
#[test]
fn case_blind_values_pass_in_any_case_only() {
    let v = scenario_schema();
    let monitor = |method: &str| {
        elb_with(
            "/pool/healthmonitor",
            json!({"type": "HTTP", "delay": 5, "timeout": 3, "max_retries": 3,
                   "url_path": "/", "http_method": method}),
        )
    };
    for method in ["GET", "get", "Head", "pOsT"] {
        let doc = monitor(method);
        assert_eq!(lbsim_errors(&doc.to_string()), 0, "{method}");
        assert!(v.is_valid(&doc), "{method}: {:#?}", complaints(&v, &doc));
    }
    for method in ["PUT", "GETS", " get", "G.T"] {
        let doc = monitor(method);
        assert!(lbsim_errors(&doc.to_string()) > 0, "{method}");
        assert!(!v.is_valid(&doc), "{method}");
    }
}
