//! `lbsim compare` through the binary: common seeds, refusal of invalid variants, JSON shape.

use serde_json::Value;

use crate::support::{json, lbsim};

const SCENARIO: &str = "scenarios/heterogeneous-backends.json";

/// `lbsim compare SCENARIO --duration 2 ARGS… --json`, parsed.
fn compare_json(args: &[&str]) -> Value {
    let mut all = vec!["compare", SCENARIO, "--duration", "2", "--json"];
    all.extend(args);
    json(lbsim(&all))
}

#[test]
fn identical_variants_get_identical_reports() {
    let v = compare_json(&["--set", "backends.default.capacity=4,4"]);
    let variants = v["variants"].as_array().expect("array");
    assert_eq!(variants.len(), 2);
    assert_eq!(variants[0]["report"], variants[1]["report"]);
    // and they equal `lbsim run` with the same change (replication 0 is the scenario's seed)
    let run = json(lbsim(&[
        "run",
        SCENARIO,
        "--duration",
        "2",
        "--set",
        "backends.default.capacity=4",
        "--json",
    ]));
    assert_eq!(variants[0]["report"], run);
}

#[test]
fn variants_are_the_product_in_order_with_their_settings() {
    let v = compare_json(&[
        "--set",
        "pool.lb_algorithm=ROUND_ROBIN,LEAST_CONNECTIONS",
        "--set",
        "backends.default.capacity=4,8",
    ]);
    let sets: Vec<(String, u64)> = v["variants"]
        .as_array()
        .expect("array")
        .iter()
        .map(|x| {
            let set = &x["set"];
            (
                set["pool.lb_algorithm"].as_str().unwrap().to_string(),
                set["backends.default.capacity"].as_u64().unwrap(),
            )
        })
        .collect();
    let want = [
        ("ROUND_ROBIN", 4),
        ("ROUND_ROBIN", 8),
        ("LEAST_CONNECTIONS", 4),
        ("LEAST_CONNECTIONS", 8),
    ]
    .map(|(a, c)| (a.to_string(), c));
    assert_eq!(sets, want);
    for x in v["variants"].as_array().unwrap() {
        assert!(x["report"]["summary"]["requests"].as_u64().unwrap() > 0);
        assert!(x["metrics"]["p99_ms"].is_number());
        assert!(x["metrics"]["failover_s"].is_null());
    }
}

#[test]
fn replications_keep_every_report_and_aggregate_them() {
    let v = compare_json(&[
        "--set",
        "pool.lb_algorithm=ROUND_ROBIN,LEAST_CONNECTIONS",
        "--replications",
        "3",
    ]);
    let variants = v["variants"].as_array().expect("array");
    let seeds = |x: &Value| -> Vec<u64> {
        x["replications"]
            .as_array()
            .expect("replications")
            .iter()
            .map(|r| r["seed"].as_u64().unwrap())
            .collect()
    };
    let s0 = seeds(&variants[0]);
    assert_eq!(s0.len(), 3);
    assert_eq!(s0[0], 19, "replication 0 uses the scenario's seed");
    assert_eq!(
        s0,
        seeds(&variants[1]),
        "the same streams for every variant"
    );
    let p99: Vec<f64> = variants[0]["replications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["report"]["summary"]["latency_ms"]["p99"]
                .as_f64()
                .unwrap()
        })
        .collect();
    let agg = &variants[0]["aggregates"]["p99_ms"];
    let mean = p99.iter().sum::<f64>() / 3.0;
    assert!((agg["mean"].as_f64().unwrap() - mean).abs() < 1e-9);
    assert_eq!(agg["n"], 3);
    assert!(agg["ci95"].as_f64().unwrap() > 0.0);
}

#[test]
fn table_has_one_column_per_variant() {
    let out = lbsim(&[
        "compare",
        SCENARIO,
        "--duration",
        "2",
        "--set",
        "pool.lb_algorithm=ROUND_ROBIN,LEAST_CONNECTIONS",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let header = text.lines().nth(2).expect("header");
    assert!(header.contains("ROUND_ROBIN") && header.contains("LEAST_CONNECTIONS"));
    let p99 = text
        .lines()
        .find(|l| l.starts_with("p99 ms"))
        .expect("p99 row");
    assert_eq!(p99.split_whitespace().count(), 4, "{p99}");
}

#[test]
fn an_invalid_variant_gets_the_validators_error_and_nothing_runs() {
    let out = lbsim(&[
        "compare",
        SCENARIO,
        "--set",
        "pool.lb_algorithm=ROUND_ROBIN,QUIC_CID",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("heterogeneous-backends.json: pool.lb_algorithm: \"QUIC_CID\""),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_bad_path_or_repeated_path_is_a_usage_error() {
    let out = lbsim(&["compare", SCENARIO, "--set", "pool.members[9].weight=1,2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("past the end"));
    let out = lbsim(&[
        "compare",
        SCENARIO,
        "--set",
        "pool.lb_algorithm=ROUND_ROBIN",
        "--set",
        "pool.lb_algorithm=LEAST_CONNECTIONS",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("given twice"));
}

/// A variant label longer than 65,535 characters (a `--set` value) panicked the text table
/// (formatting pads to at most 65,535): the label is cut with `…` and the table stays whole.
#[test]
fn a_very_long_label_does_not_break_the_table() {
    let long = "d".repeat(70_000);
    let set = format!("description={long},short");
    let out = crate::support::ok(lbsim(&[
        "compare",
        SCENARIO,
        "--duration",
        "1",
        "--set",
        &set,
    ]));
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let header = text.lines().nth(2).expect("header");
    assert!(header.contains(&format!("{}…  ", &long[..4000])), "cut");
    assert!(header.ends_with("short"));
    let p99 = text.lines().find(|l| l.starts_with("p99 ms")).expect("p99");
    assert_eq!(p99.split_whitespace().count(), 4, "{p99}");
}

/// `compare --replications` on a long run held every report's timeline until memory ran out;
/// the reports it will hold are checked before any run.
#[test]
fn the_reports_a_comparison_holds_are_bounded_up_front() {
    let out = lbsim(&[
        "compare",
        SCENARIO,
        "--duration",
        "86400",
        "--replications",
        "10000",
        "--set",
        "pool.lb_algorithm=ROUND_ROBIN,LEAST_CONNECTIONS",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("replications would hold about"), "{err}");
}

/// Counts are integers in `compare --json`, in each replication's metrics too; measured
/// quantities stay numbers with a fraction.
#[test]
fn json_counts_are_integers() {
    let counts = [
        "failed",
        "rejected",
        "reset",
        "retries",
        "retried_ok",
        "status_502",
        "connections_opened",
        "connection_cuts",
        "drain_resets",
        "migrations",
        "migration_resets",
        "connections_dropped",
        "idle_closes",
        "distinct_uris",
    ];
    let check = |metrics: &Value| {
        for key in counts {
            assert!(metrics[key].is_u64(), "{key}: {}", metrics[key]);
        }
        assert!(metrics["throughput_rps"].is_f64());
        assert!(metrics["p99_ms"].is_f64());
    };
    let one = compare_json(&["--set", "pool.lb_algorithm=ROUND_ROBIN,LEAST_CONNECTIONS"]);
    for v in one["variants"].as_array().expect("variants") {
        check(&v["metrics"]);
    }
    let reps = compare_json(&["--replications", "2"]);
    for r in reps["variants"][0]["replications"]
        .as_array()
        .expect("replications")
    {
        check(&r["metrics"]);
    }
}

/// Progress goes to stderr only when it is a terminal: piped, stderr stays empty and stdout is
/// the same with `--quiet` and without.
#[test]
fn progress_never_reaches_a_pipe() {
    let args = [
        "compare",
        SCENARIO,
        "--duration",
        "2",
        "--set",
        "pool.lb_algorithm=ROUND_ROBIN,LEAST_CONNECTIONS",
    ];
    let plain = crate::support::ok(lbsim(&args));
    assert!(
        plain.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );
    let quiet = crate::support::ok(lbsim(&[&args[..], &["--quiet"]].concat()));
    assert_eq!(plain.stdout, quiet.stdout);
}
