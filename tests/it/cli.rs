//! The `lbsim` binary: exit codes and output formats.

use std::path::Path;

use crate::support::{command, json, lbsim, ok};

/// Runs the binary, which must succeed and print a JSON document.
fn json_of(args: &[&str]) -> serde_json::Value {
    json(lbsim(args))
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
    assert!(schema["anyOf"][0]["properties"]["pool"].is_object());
    assert!(schema["anyOf"][0]["properties"]["vpc_channel"].is_object());
    let sweep = lbsim(&["schema", "--sweep"]);
    assert_eq!(sweep.status.code(), Some(0));
    let sweep: serde_json::Value = serde_json::from_slice(&sweep.stdout).expect("JSON schema");
    assert!(sweep["properties"]["parameters"].is_object());
    let version = lbsim(&["--version"]);
    assert_eq!(version.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("lbsim "));
    assert_eq!(lbsim(&["--help"]).status.code(), Some(0));
}

#[test]
fn run_prints_a_deterministic_json_report() {
    let args = [
        "run",
        "scenarios/bench/wrr-64.json",
        "--json",
        "--duration",
        "2",
    ];
    let a = lbsim(&args);
    assert_eq!(
        a.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&a.stderr)
    );
    let b = lbsim(&args);
    assert_eq!(
        a.stdout, b.stdout,
        "same scenario and seed must give identical bytes"
    );
    let report: serde_json::Value = serde_json::from_slice(&a.stdout).expect("JSON report");
    assert_eq!(report["scenario"]["seed"], 1);
    assert_eq!(report["scenario"]["duration_s"], 2.0);
    assert_eq!(report["members"].as_array().expect("members").len(), 64);
    let other = lbsim(&[
        "run",
        "scenarios/bench/wrr-64.json",
        "--json",
        "--duration",
        "2",
        "--seed",
        "2",
    ]);
    assert_ne!(
        a.stdout, other.stdout,
        "another seed must give another report"
    );
}

#[test]
fn run_writes_a_trace_row_per_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = dir.path().join("trace.csv");
    let report = json_of(&[
        "run",
        "scenarios/api-examples/seed001-create-vpc-channel.json",
        "--json",
        "--duration",
        "3",
        "--trace",
        trace.to_str().expect("utf-8 path"),
    ]);
    let text = std::fs::read_to_string(&trace).expect("trace written");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("t_s,request,connection,client,az,member,outcome,latency_ms,status,attempts,method")
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(
        rows.len() as u64,
        report["summary"]["requests"].as_u64().expect("requests")
    );
    assert!(rows.iter().all(|r| r.split(',').count() == 11));
    let leftovers = std::fs::read_dir(dir.path()).expect("dir").count();
    assert_eq!(leftovers, 1, "only the trace itself, no temporary file");
}

#[test]
fn run_refuses_a_pool_without_members_and_invalid_files() {
    let out = lbsim(&["run", "scenarios/api-examples/seed000-update-pool.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing on stdout when refused");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("seed000-update-pool.json: pool.members has no members to simulate"),
        "{err}"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = write(
        dir.path(),
        "bad.json",
        r#"{"pool": {"protocol": "TCP", "lb_algorithm": "RR"}}"#,
    );
    let out = lbsim(&["run", &bad]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pool.lb_algorithm: \"RR\" is not one of")
    );
    let out = lbsim(&["run", "scenarios/bench/wrr-64.json", "--duration", "-1"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn run_refuses_work_beyond_the_limit_before_starting() {
    let out = lbsim(&["run", "scenarios/bench/wrr-64.json", "--max-events", "1000"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("more than the limit of 1000") && err.contains("--max-events"),
        "{err}"
    );
}

#[test]
fn run_set_changes_the_scenario_and_is_validated() {
    let base = [
        "run",
        "scenarios/bench/wrr-64.json",
        "--json",
        "--duration",
        "1",
    ];
    let set = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        lbsim(&args)
    };
    let mut args = base.to_vec();
    args.extend_from_slice(&["--set", "pool.members[0].weight=0"]);
    let report = json_of(&args);
    assert_eq!(report["members"][0]["requests"], 0, "weight 0 gets nothing");
    assert!(report["members"][1]["requests"].as_u64().expect("count") > 0);
    let bad = set(&["--set", "pool.lb_algorithm=LEAST_CONECTIONS"]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("pool.lb_algorithm: \"LEAST_CONECTIONS\" is not one of")
            && err.contains("did you mean LEAST_CONNECTIONS"),
        "{err}"
    );
}

/// A URI-hash channel whose arrivals come from a trace file beside it.
fn traced_channel(dir: &Path, trace: &str) -> String {
    std::fs::write(dir.join("arrivals.csv"), trace).expect("write trace");
    write(
        dir,
        "traced.json",
        r#"{"name": "traced", "port": 80, "balance_strategy": 4, "member_type": "ip",
            "members": [{"host": "10.0.0.1"}, {"host": "10.0.0.2"}, {"host": "10.0.0.3"}],
            "duration_s": 10, "workload": {"arrivals": {"trace": "arrivals.csv"}}}"#,
    )
}

#[test]
fn run_replays_a_trace() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 200 requests; connection c0 carries three of them; URIs repeat, so URI hashing must
    // send every request for one URI to the same member
    let mut trace = String::from("t_s,client,uri,connection\n");
    for i in 0..197 {
        trace.push_str(&format!(
            "{:.3},{},/page/{},\n",
            0.01 * f64::from(i),
            i % 7,
            i % 5
        ));
    }
    trace.push_str("2.5,1,/page/0,c0\n2.6,1,/page/1,c0\n2.7,1,/page/2,c0\n");
    let scenario = traced_channel(dir.path(), &trace);
    let trace_out = dir.path().join("out.csv");
    let report = json_of(&[
        "run",
        &scenario,
        "--json",
        "--trace",
        trace_out.to_str().expect("utf-8"),
    ]);
    assert_eq!(report["summary"]["requests"], 200);
    assert_eq!(report["summary"]["connections"]["opened"], 198);
    // request ids follow the replayed rows, so each output row can be matched to its URI; URI
    // hashing must send every request for one URI to the same member, and clients are kept
    let uri_of = |id: usize| if id < 197 { id % 5 } else { id - 197 };
    let mut owner: [Option<String>; 5] = Default::default();
    let text = std::fs::read_to_string(&trace_out).expect("trace out");
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let id: usize = cols[1].parse().expect("request id");
        let client: u32 = cols[3].parse().expect("client id");
        assert!(client < 7, "{line}");
        let slot = &mut owner[uri_of(id)];
        let member = cols[5].to_string();
        assert_eq!(
            slot.get_or_insert_with(|| member.clone()),
            &member,
            "URI {} moved: {line}",
            uri_of(id)
        );
    }
    assert!(owner.iter().all(Option::is_some));
}

#[test]
fn a_bad_trace_is_refused_with_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = traced_channel(dir.path(), "t_s,client\n1.0,1\n0.5,2\n2.0,x\n");
    let out = lbsim(&["validate", &scenario]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("arrivals.csv: line 3, t_s: \"0.5\" goes back in time"),
        "{text}"
    );
    assert!(
        text.contains("arrivals.csv: line 4, client: \"x\" is not a client id"),
        "{text}"
    );
    let empty = traced_channel(dir.path(), "");
    let out = lbsim(&["run", &empty]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("arrivals.csv: has no rows"));
}

#[test]
fn run_never_overwrites_an_output_without_force() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = write(dir.path(), "trace.csv", "keep me\n");
    let args = [
        "run",
        "scenarios/bench/wrr-64.json",
        "--duration",
        "1",
        "--trace",
        trace.as_str(),
    ];
    let out = lbsim(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("trace.csv: exists; pass --force to overwrite it"));
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&trace).expect("trace"), "keep me\n");
    let mut forced = args.to_vec();
    forced.push("--force");
    assert_eq!(lbsim(&forced).status.code(), Some(0));
    assert!(std::fs::read_to_string(&trace)
        .expect("trace")
        .starts_with("t_s,request,"));
}

/// Ctrl-C while a trace is being written leaves no file behind: not the trace, not a temporary.
#[cfg(unix)]
#[test]
fn an_interrupted_run_leaves_no_partial_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = dir.path().join("trace.csv");
    let mut child = command(&[
        "run",
        "scenarios/bench/wrr-64.json",
        "--duration",
        "3600",
        "--max-events",
        "10000000000",
        "--trace",
    ])
    .arg(&trace)
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .expect("spawn lbsim");
    // wait until the temporary trace exists and is growing
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::read_dir(dir.path()).expect("dir").count() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no temporary trace appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(130));
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").collect();
    assert!(left.is_empty(), "{left:?}");
}

/// `--duration` at or below the file's `warmup_s` is refused with both values named, before
/// anything runs.
#[test]
fn duration_below_warmup_is_refused_by_name() {
    let o = lbsim(&[
        "run",
        "scenarios/az-outage-fallback.json",
        "--duration",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).lines().next(),
        Some(
            "scenarios/az-outage-fallback.json: duration_s: 1 is not above warmup_s 40 \
             (from the file, or --duration / a sweep's duration_s)"
        )
    );
}

/// An HTML path that cannot be written fails before the run, and the trace asked for beside it
/// is not written either: a run's outputs appear together or not at all.
#[test]
fn outputs_are_written_together_or_not_at_all() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = dir.path().join("t.csv").display().to_string();
    let html = dir.path().join("missing-dir/x.html").display().to_string();
    let o = lbsim(&[
        "run",
        "scenarios/bench/wrr-64.json",
        "--duration",
        "1",
        "--trace",
        &trace,
        "--html",
        &html,
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with(&format!("cannot write the HTML report: {html}: ")),
        "{err}"
    );
    assert!(
        !err.contains(" at path "),
        "names the temporary file: {err}"
    );
    assert!(!Path::new(&trace).exists());
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}

/// The text report's member rows split unserved requests as the summary line does: per column,
/// the members' failed, rejected and reset add up to the summary's.
#[test]
fn run_text_member_rows_add_up_to_the_summary() {
    let out = lbsim(&["run", "scenarios/mixed-fleet-source-ip.json"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let summary: Vec<u64> = text
        .lines()
        .find(|l| l.starts_with("requests "))
        .expect("summary line")
        .split_whitespace()
        .skip(1)
        .step_by(2)
        .map(|v| v.parse().expect("count"))
        .collect();
    let [requests, completed, failed, rejected, reset] = summary[..] else {
        panic!("{summary:?}");
    };
    let mut lines = text.lines().skip_while(|l| !l.starts_with("member "));
    let header = lines.next().expect("member table");
    // the columns are right-aligned: a cell ends where its header does
    let end = |name: &str| header.find(&format!(" {name} ")).expect(name) + 1 + name.len();
    let ends = ["requests", "completed", "failed", "rejected", "reset"].map(end);
    let mut sums = [0u64; 5];
    for row in lines.take_while(|l| !l.is_empty()) {
        for (sum, e) in sums.iter_mut().zip(ends) {
            let cell = row[..e].rsplit(' ').next().expect(row);
            *sum += cell.parse::<u64>().expect(row);
        }
    }
    assert_eq!(sums, [requests, completed, failed, rejected, reset]);
    assert!(rejected > 0, "the scenario's small members refuse work");
}

const BENCH: &str = "scenarios/bench/wrr-64.json";

/// Output targets that are not regular files are written through or refused, never replaced:
/// `--trace /dev/null --force` replaced the device with a file, a symbolic link became a file,
/// `--trace DIR` failed after the run had written the HTML page, and `--trace X --html X` lost
/// the HTML page without a word.
#[cfg(unix)]
#[test]
fn outputs_never_replace_what_is_not_a_regular_file() {
    use std::os::unix::fs::FileTypeExt;
    let run = |extra: &[&str]| {
        let mut args = vec!["run", BENCH, "--duration", "0.2"];
        args.extend(extra);
        lbsim(&args)
    };
    let out = run(&["--trace", "/dev/null", "--force"]);
    assert_eq!(out.status.code(), Some(0));
    let null = std::fs::symlink_metadata("/dev/null").expect("/dev/null");
    assert!(null.file_type().is_char_device());

    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("target.csv");
    std::fs::write(&target, "old").unwrap();
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let link_s = link.display().to_string();
    assert_eq!(run(&["--trace", &link_s, "--force"]).status.code(), Some(0));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(&target)
        .unwrap()
        .starts_with("t_s,"));

    let html = dir.path().join("p.html").display().to_string();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    let refused = run(&["--trace", &sub.display().to_string(), "--html", &html]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is a directory"));
    assert!(!Path::new(&html).exists(), "no page without its trace");

    let both = run(&["--trace", "-", "--html", "-"]);
    assert_eq!(
        both.status.code(),
        Some(2),
        "two outputs on standard output"
    );
    let refused = run(&["--trace", &html, "--html", &html]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr)
        .contains("is both the --trace and the --html file"));

    // `-` is standard output: the trace, then the report
    let out = run(&["--trace", "-"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("t_s,request,") && text.contains("\nscenario wrr-64"));
}

/// SIGTERM (what `timeout`, Kubernetes and Slurm send) left the temporary files of a run in
/// flight; it now cleans up as Ctrl-C does.
#[cfg(unix)]
#[test]
fn sigterm_leaves_no_temporary_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trace = dir.path().join("t.csv").display().to_string();
    // an hour of simulated time: the run is still going when the signal comes
    let mut child = command(&[
        "run",
        BENCH,
        "--duration",
        "3600",
        "--max-events",
        "10000000000",
        "--trace",
        &trace,
    ])
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .expect("spawn");
    // wait until the run has its temporary file
    let started = std::time::Instant::now();
    while std::fs::read_dir(dir.path()).unwrap().count() == 0 {
        assert!(
            started.elapsed().as_secs() < 30,
            "no temporary file appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(130));
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

/// A scenario or trace that is a device was read until memory ran out, and a FIFO blocked for
/// ever: inputs are regular files (or `-`, standard input) read within their limits.
#[cfg(unix)]
#[test]
fn inputs_are_regular_files_or_standard_input() {
    let out = lbsim(&["validate", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/dev/zero: is not a regular file"), "{err}");

    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = std::fs::read_to_string(BENCH).unwrap().replacen(
        "\"process\": \"poisson\",",
        "\"trace\": \"/dev/zero\",",
        1,
    );
    let path = write(dir.path(), "s.json", &scenario);
    let out = lbsim(&["validate", &path]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/dev/zero: is not a regular file"), "{err}");

    use std::io::Write;
    let mut child = command(&["run", "-", "--duration", "0.2", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let text = std::fs::read(BENCH).unwrap();
    child.stdin.take().unwrap().write_all(&text).unwrap();
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(report["scenario"]["name"], "wrr-64");
}

/// Every command's `--help`, the listed ones and `sweep merge`, ends with an example of it.
#[test]
fn every_command_help_shows_an_example() {
    let top = String::from_utf8(ok(lbsim(&["--help"])).stdout).expect("UTF-8");
    let commands: Vec<&str> = top
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 7, "{commands:?}");
    let mut helps = vec![(String::new(), top.clone())];
    for command in commands
        .iter()
        .map(|c| vec![*c])
        .chain([vec!["sweep", "merge"]])
    {
        let out = ok(lbsim(&[&command[..], &["--help"]].concat()));
        helps.push((
            command.join(" "),
            String::from_utf8(out.stdout).expect("UTF-8"),
        ));
    }
    for (command, help) in helps {
        let examples = help
            .split("Example")
            .nth(1)
            .unwrap_or_else(|| panic!("{command}: {help}"));
        assert!(
            examples.contains(&format!("lbsim {command}")),
            "{command}: {examples}"
        );
    }
}

/// Completion scripts and the manual come from the command definitions: they know every
/// command and option.
#[test]
fn completions_and_man_pages_are_generated_from_the_commands() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = String::from_utf8(ok(lbsim(&["completions", shell])).stdout).expect("UTF-8");
        for word in ["compare", "sweep", "replications", "quiet"] {
            assert!(script.contains(word), "{shell}: {word}");
        }
    }
    let page = String::from_utf8(ok(lbsim(&["man"])).stdout).expect("UTF-8");
    assert!(page.contains(".TH lbsim 1"), "{page}");
    assert!(page.contains("lbsim\\-compare(1)") && page.contains("Examples:"));
    let dir = tempfile::tempdir().expect("tempdir");
    ok(lbsim(&["man", dir.path().to_str().expect("UTF-8 path")]));
    let compare = std::fs::read_to_string(dir.path().join("lbsim-compare.1")).expect("page");
    assert!(compare.contains("\\-\\-replications"), "{compare}");
    let refused = lbsim(&["man", "/nonexistent/lbsim-man"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("cannot write the manual pages"));
}
