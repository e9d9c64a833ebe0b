//! The `lbsim` binary: exit codes and output formats.

use std::path::Path;
use std::process::{Command, Output};

fn lbsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lbsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run lbsim")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write scenario");
    path.display().to_string()
}

#[test]
fn validate_exits_0_for_valid_files() {
    let out = lbsim(&[
        "validate",
        "scenarios/api-examples/seed001-create-vpc-channel.json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stdout).ends_with("seed001-create-vpc-channel.json: valid\n")
    );
}

#[test]
fn validate_exits_2_and_reports_every_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = write(
        dir.path(),
        "bad.json",
        r#"{"pool": {"protocol": "TCP", "lb_algorithm": "RR"}}"#,
    );
    let out = lbsim(&[
        "validate",
        &bad,
        "scenarios/api-examples/seed000-update-pool.json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("bad.json: pool.lb_algorithm: \"RR\" is not one of"),
        "{text}"
    );
    assert!(text.contains("bad.json: invalid (1 error)"), "{text}");
    assert!(text.contains("seed000-update-pool.json: valid"), "{text}");
}

#[test]
fn validate_json_lists_findings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = write(
        dir.path(),
        "bad.json",
        r#"{"name": "x", "port": 80, "balance_strategy": 9, "member_type": "ip"}"#,
    );
    let out = lbsim(&["validate", "--json", &bad]);
    assert_eq!(out.status.code(), Some(2));
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON array");
    let range = findings
        .as_array()
        .expect("array")
        .iter()
        .find(|f| f["path"] == "balance_strategy")
        .expect("balance_strategy finding");
    assert_eq!(range["value"], "9");
    assert_eq!(range["code"], "APIG.2004");
    assert_eq!(range["severity"], "error");
    assert!(range["rule"].as_str().expect("rule").contains("1..=4"));
}

#[test]
fn validate_verbose_lists_unmodelled_vendor_fields() {
    let file = "scenarios/api-examples/seed000-get-pool-response.json";
    let quiet = String::from_utf8_lossy(&lbsim(&["validate", file]).stdout).into_owned();
    let verbose =
        String::from_utf8_lossy(&lbsim(&["validate", "--verbose", file]).stdout).into_owned();
    assert!(!quiet.contains("pool.vpc_id"));
    assert!(
        verbose.contains("note: pool.vpc_id: is a vendor field lbsim accepts but does not model")
    );
}

#[test]
fn missing_files_and_usage_errors_exit_2() {
    let out = lbsim(&["validate", "no/such/file.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().next(),
        Some("no/such/file.json: no such file")
    );
    assert_eq!(lbsim(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(lbsim(&["validate"]).status.code(), Some(2));
}

#[test]
fn schema_is_json_and_version_and_help_exit_0() {
    let out = lbsim(&["schema"]);
    assert_eq!(out.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON schema");
    assert!(schema["properties"]["pool"].is_object());
    assert!(schema["properties"]["vpc_channel"].is_object());
    let version = lbsim(&["--version"]);
    assert_eq!(version.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("lbsim "));
    assert_eq!(lbsim(&["--help"]).status.code(), Some(0));
}
