//! The bad-input corpus (`tests/bad_inputs/`): every `NAME.json` is run through the built binary
//! and its first error line compared with `NAME.expected`.
//!
//! `NAME.expected` is either one line, the first error line both `validate` (stdout) and `run`
//! (stderr, warnings skipped) print, or lines prefixed `validate: ` and `run: ` when they
//! differ. `run` always exits 2; `validate` exits 2 unless its expected line is a warning or
//! `…: valid` (what the vendor API accepts but lbsim cannot simulate passes validation with a
//! warning; a run over the work or memory limit is refused by `run` only).
//! Inputs too large to commit are generated below.

use crate::support::lbsim;
use std::path::Path;
use std::process::Output;

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The first line of `run`'s stderr that is not a warning.
fn first_run_error(out: &Output) -> String {
    stderr(out)
        .lines()
        .find(|l| !l.contains(": warning: "))
        .unwrap_or_default()
        .to_string()
}

/// Checks `validate` and `run` of `file` (relative to the crate root); returns the mismatches.
fn check(file: &str, validate_line: &str, run_line: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let v = lbsim(&["validate", file]);
    let want_status = if validate_line.contains(": warning: ") || validate_line.ends_with(": valid")
    {
        0
    } else {
        2
    };
    let first = stdout(&v).lines().next().unwrap_or_default().to_string();
    if v.status.code() != Some(want_status) || first != validate_line {
        problems.push(format!(
            "validate {file}: exit {:?} (want {want_status}), first line\n    {first}\nwant\n    {validate_line}\nstderr: {}",
            v.status.code(),
            stderr(&v)
        ));
    }
    let r = lbsim(&["run", file]);
    let first = first_run_error(&r);
    if r.status.code() != Some(2) || first != run_line || !r.stdout.is_empty() {
        problems.push(format!(
            "run {file}: exit {:?} (want 2), first error line\n    {first}\nwant\n    {run_line}\nstdout bytes: {}, stderr: {}",
            r.status.code(),
            r.stdout.len(),
            stderr(&r)
        ));
    }
    problems
}

#[test]
fn every_bad_input_gives_its_expected_first_error_line() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_inputs");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/bad_inputs")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".json").map(str::to_string))
        .collect();
    names.sort();
    assert!(names.len() >= 50, "only {} bad inputs", names.len());
    let mut problems = Vec::new();
    for name in &names {
        let expected = std::fs::read_to_string(dir.join(format!("{name}.expected")))
            .unwrap_or_else(|_| panic!("tests/bad_inputs/{name}.expected is missing"));
        let lines: Vec<&str> = expected.lines().collect();
        let prefixed = |p: &str| lines.iter().find_map(|l| l.strip_prefix(p));
        let (validate_line, run_line) = match (prefixed("validate: "), prefixed("run: ")) {
            (Some(v), Some(r)) => (v, r),
            _ if lines.len() == 1 => (lines[0], lines[0]),
            _ => panic!("{name}.expected: one line, or a `validate: ` and a `run: ` line"),
        };
        problems.extend(check(
            &format!("tests/bad_inputs/{name}.json"),
            validate_line,
            run_line,
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// Writes a generated input to a temporary file and checks both commands print
/// `FILE: {line}` first.
fn check_generated(name: &str, text: &str, line: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write generated input");
    let file = path.display().to_string();
    let line = format!("{file}: {line}");
    let problems = check(&file, &line, &line);
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

const ONE_MEMBER: &str =
    r#""pool":{"protocol":"TCP","members":[{"address":"10.0.0.1","protocol_port":80}]}"#;

#[test]
fn a_million_members_are_refused_before_validation() {
    let members = vec![r#"{"address":"10.0.0.1","protocol_port":80}"#; 1_000_000].join(",");
    check_generated(
        "million.json",
        &format!(r#"{{"pool":{{"protocol":"TCP","members":[{members}]}}}}"#),
        "1000000 members (including added ones) exceed the limit of 100000",
    );
}

#[test]
fn too_many_events_are_refused_before_validation() {
    let events = vec![r#"{"at_s":1,"set_rate":5}"#; 100_001].join(",");
    check_generated(
        "events.json",
        &format!(r#"{{{ONE_MEMBER},"events":[{events}]}}"#),
        "events: 100001 events exceed the limit of 100000",
    );
}

#[test]
fn members_added_by_events_count_towards_the_limit() {
    let added = vec![r#"{"address":"10.0.0.2","protocol_port":80}"#; 60_000].join(",");
    let event = format!(r#"{{"at_s":1,"add_members":{{"members":[{added}]}}}}"#);
    check_generated(
        "added.json",
        &format!(r#"{{{ONE_MEMBER},"events":[{event},{event}]}}"#),
        "120001 members (including added ones) exceed the limit of 100000",
    );
}
#[test]
fn a_deep_set_path_is_a_usage_error() {
    let path = vec!["a"; 10_000].join(".");
    let out = lbsim(&[
        "run",
        "scenarios/bench/wrr-64.json",
        "--set",
        &format!("{path}=1"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.lines()
            .next()
            .unwrap_or_default()
            .ends_with("path has more than 32 keys and indices"),
        "{err}"
    );
}
