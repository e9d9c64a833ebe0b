//! `lbsim sweep`: ranking, shards and merge, resume, thread-count independence, and the
//! recommended API bodies.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::{command, ok};
use lbsim::sweep::{apply, Plan, Spec};

/// Runs the binary with `args` and the scheduler variables `envs` set.
fn lbsim(args: &[&str], envs: &[(&str, &str)]) -> Output {
    command(args)
        .envs(envs.iter().copied())
        .output()
        .expect("run lbsim")
}

/// Three HTTP members; web-a is four times slower, so giving it less weight lowers latency.
const BASE: &str = r#"{
  "name": "slow-member",
  "duration_s": 3,
  "pool": {"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
           "members": [{"name": "web-a", "address": "10.0.0.1", "protocol_port": 80, "weight": 10},
                       {"name": "web-b", "address": "10.0.0.2", "protocol_port": 80, "weight": 10},
                       {"name": "web-c", "address": "10.0.0.3", "protocol_port": 80, "weight": 10}]},
  "backends": {"default": {"capacity": 4, "service_time_ms": {"exponential": {"mean": 4}}},
               "members": {"web-a": {"speed": 0.25}}},
  "workload": {"arrivals": {"rate_per_s": 900}, "timeout_ms": 2000},
  "events": [{"at_s": 1, "member_slow": {"member": "web-b", "factor": 2}}]
}"#;

const SPEC: &str = r#"{
  "base": "base.json",
  "master_seed": 5,
  "replications": 2,
  "parameters": [{"path": "pool.members[0].weight", "values": [1, 10, 40]}],
  "objective": {"minimize": "summary.latency_ms.p99"},
  "constraints": ["summary.failed / summary.requests <= 0.01"]
}"#;

/// A spec and its base in a fresh directory.
fn setup(spec: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("base.json"), BASE).unwrap();
    let path = dir.path().join("spec.json");
    std::fs::write(&path, spec).unwrap();
    (dir, path.display().to_string())
}

fn out_dir(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).display().to_string()
}

fn read(dir: &str, file: &str) -> Vec<u8> {
    std::fs::read(Path::new(dir).join(file)).unwrap_or_else(|e| panic!("{dir}/{file}: {e}"))
}

fn assert_same_reports(a: &str, b: &str) {
    for f in ["summary.json", "report.md", "report.html", "results.jsonl"] {
        assert!(read(a, f) == read(b, f), "{f} differs between {a} and {b}");
    }
}

fn summary(dir: &str) -> serde_json::Value {
    serde_json::from_slice(&read(dir, "summary.json")).unwrap()
}

#[test]
fn a_small_sweep_ranks_the_slow_members_weight() {
    // two replications cannot tell weight 1 from the base (the tie rule's t has 1 degree of
    // freedom); five can
    let (dir, spec) = setup(&SPEC.replace(r#""replications": 2"#, r#""replications": 5"#));
    let out = out_dir(&dir, "out");
    let printed = ok(lbsim(&["sweep", &spec, "--out", &out], &[]));
    let s = summary(&out);
    // point 0 is the base (weight 10), points 1..3 are weights 1, 10, 40
    let ranking: Vec<u64> = s["ranking"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(ranking.len(), 4);
    assert_eq!(ranking[0], 1, "{ranking:?}");
    assert_eq!(ranking[3], 3, "{ranking:?}");
    assert_eq!(s["best"], 1);
    assert_eq!(s["points"][1]["rank"], 1);
    let ci = s["points"][1]["objective"]["ci95"].as_f64().unwrap();
    assert!(ci > 0.0, "two replications give a CI");
    let call = &s["recommendation"]["calls"][0];
    assert_eq!(
        call["path"],
        "/v3/{project_id}/elb/pools/{pool_id}/members/{member_id}"
    );
    assert_eq!(call["body"], serde_json::json!({"member": {"weight": 1}}));
    let text = String::from_utf8_lossy(&printed.stdout);
    assert!(text.contains("best: point 1"), "{text}");
    assert!(
        text.contains("Recommended: point 1 (members[0].weight=1): summary.latency_ms.p99 = ")
            && text.contains("0 % of requests failed, meets every constraint."),
        "{text}"
    );
    let html = String::from_utf8(read(&out, "report.html")).unwrap();
    assert!(html.contains("<svg"));
    // the tail is read percentile by percentile, down to p99.99
    assert!(html.contains("Latency by percentile"));
    for p in ["p50", "p99", "p99.9", "p99.99"] {
        assert!(html.contains(&format!(">{p}</text>")), "{p} on the x axis");
    }
    // the traffic chart marks the scenario's event at 1 s and lists it
    assert!(
        html.contains("<td>1</td><td>1</td><td class=\"l\">member_slow {&quot;factor&quot;:2,&quot;member&quot;:&quot;web-b&quot;}</td>"),
        "{html}"
    );
    assert!(
        html.contains(r##"stroke="#555" stroke-dasharray="3 3""##),
        "a marker line"
    );
    for external in ["<script", "src=", "href=", "url("] {
        assert!(!html.contains(external), "self-contained: {external}");
    }
}

#[test]
fn no_feasible_point_means_no_recommendation() {
    let (dir, spec) = setup(&SPEC.replace("<= 0.01", "<= 0.01\", \"summary.throughput_rps >= 1e9"));
    let out = out_dir(&dir, "out");
    ok(lbsim(&["sweep", &spec, "--out", &out], &[]));
    let s = summary(&out);
    assert!(s["best"].is_null());
    assert!(s["recommendation"].is_null());
}

#[test]
fn merge_of_three_shards_is_byte_identical_to_one_run() {
    let (dir, spec) = setup(SPEC);
    let whole = out_dir(&dir, "whole");
    ok(lbsim(&["sweep", &spec, "--out", &whole], &[]));
    let shards: Vec<String> = (0..3)
        .map(|i| out_dir(&dir, &format!("shard{i}")))
        .collect();
    ok(lbsim(
        &["sweep", &spec, "--out", &shards[0], "--shard", "0/3"],
        &[],
    ));
    ok(lbsim(
        &["sweep", &spec, "--out", &shards[1], "--shard", "env/3"],
        &[("JOB_COMPLETION_INDEX", "1")],
    ));
    ok(lbsim(
        &["sweep", &spec, "--out", &shards[2], "--shard", "env/3"],
        &[("SLURM_ARRAY_TASK_ID", "2")],
    ));
    assert!(
        !Path::new(&shards[0]).join("summary.json").exists(),
        "a shard writes results only"
    );
    let merged = out_dir(&dir, "merged");
    ok(lbsim(
        &[
            "sweep", "merge", &shards[0], &shards[1], &shards[2], "--out", &merged,
        ],
        &[],
    ));
    assert_same_reports(&whole, &merged);

    let bad = lbsim(
        &[
            "sweep",
            "merge",
            &shards[0],
            &shards[2],
            "--out",
            &out_dir(&dir, "bad"),
        ],
        &[],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("runs are missing: 1, 4, 7"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let twice = lbsim(
        &[
            "sweep",
            "merge",
            &shards[0],
            &shards[1],
            &shards[2],
            &shards[1],
            "--out",
            &out_dir(&dir, "bad"),
        ],
        &[],
    );
    assert_eq!(twice.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&twice.stderr).contains("run 1 is in both"));

    let (other_dir, other_spec) = setup(&SPEC.replace("\"master_seed\": 5", "\"master_seed\": 6"));
    let other = out_dir(&other_dir, "shard1");
    ok(lbsim(
        &["sweep", &other_spec, "--out", &other, "--shard", "1/3"],
        &[],
    ));
    let mixed = lbsim(
        &[
            "sweep",
            "merge",
            &shards[0],
            &other,
            &shards[2],
            "--out",
            &out_dir(&dir, "bad"),
        ],
        &[],
    );
    assert_eq!(mixed.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&mixed.stderr).contains("differs from"));
}

#[test]
fn resume_after_an_interrupted_sweep_gives_the_same_reports() {
    let (dir, spec) = setup(SPEC);
    let whole = out_dir(&dir, "whole");
    ok(lbsim(&["sweep", &spec, "--out", &whole], &[]));
    // a sweep killed mid-write: the header, three runs and half of a fourth line
    let text = String::from_utf8(read(&whole, "results.jsonl")).unwrap();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let cut = format!("{}{}", lines[..4].concat(), &lines[4][..lines[4].len() / 2]);
    let resumed = out_dir(&dir, "resumed");
    std::fs::create_dir(&resumed).unwrap();
    std::fs::write(Path::new(&resumed).join("results.jsonl"), cut).unwrap();

    let refused = lbsim(&["sweep", &spec, "--out", &resumed], &[]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--resume"));

    ok(lbsim(&["sweep", &spec, "--out", &resumed, "--resume"], &[]));
    assert_same_reports(&whole, &resumed);
}

#[test]
fn one_and_two_threads_give_identical_results() {
    let (dir, spec) = setup(SPEC);
    let (one, two) = (out_dir(&dir, "one"), out_dir(&dir, "two"));
    ok(lbsim(
        &["sweep", &spec, "--out", &one, "--threads", "1"],
        &[],
    ));
    ok(lbsim(
        &["sweep", &spec, "--out", &two, "--threads", "2"],
        &[],
    ));
    assert_same_reports(&one, &two);
}

#[test]
fn an_invalid_variant_stops_the_sweep_before_any_run() {
    let (dir, spec) = setup(&SPEC.replace("[1, 10, 40]", "[1, 200]"));
    let out = out_dir(&dir, "out");
    let o = lbsim(&["sweep", &spec, "--out", &out], &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(
            "point 2 (members[0].weight=200): base.json: pool.members[0].weight: 200 is outside"
        ),
        "{err}"
    );
    assert!(!Path::new(&out).join("results.jsonl").exists());
    let (dir, spec) = setup(&SPEC.replace("summary.latency_ms.p99\"", "summary.latency.p99\""));
    let o = lbsim(&["sweep", &spec, "--out", &out_dir(&dir, "out")], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("summary.latency.p99 is not a report metric")
    );
    // beyond the event limit: refused up front too, not when its run comes
    let huge = SPEC.replace(
        r#"{"path": "pool.members[0].weight", "values": [1, 10, 40]}"#,
        r#"{"path": "workload.arrivals.rate_per_s", "values": [100, 1000000000]}"#,
    );
    let (dir, spec) = setup(&huge);
    let out = out_dir(&dir, "out");
    let o = lbsim(&["sweep", &spec, "--out", &out], &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("more than the limit of 1000000000"), "{err}");
    assert!(!Path::new(&out).join("results.jsonl").exists());
    // a misspelt parameter path fails every point but is reported once
    let typo = SPEC.replace(
        r#"{"path": "pool.members[0].weight", "values": [1, 10, 40]}"#,
        r#"{"path": "pool.lb_algoritm", "values": ["ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP"]}"#,
    );
    let (dir, spec) = setup(&typo);
    let o = lbsim(&["sweep", &spec, "--out", &out_dir(&dir, "out")], &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("pool.lb_algoritm").count(), 1, "{err}");
    assert!(
        err.contains("points 1–3: base.json: pool.lb_algoritm")
            && err.contains("did you mean `lb_algorithm`"),
        "{err}"
    );
}

fn plan(spec_path: &Path) -> Plan {
    Plan::load(spec_path).unwrap_or_else(|e| panic!("{}: {e}", spec_path.display()))
}

#[test]
fn recommended_api_bodies_pass_the_validator() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweeps");
    let mut plans: Vec<Plan> = [
        "slow-start-x-members",
        "health-check-timing",
        "az-threshold-x-fallback",
    ]
    .iter()
    .map(|n| plan(&root.join(format!("{n}.json"))))
    .collect();
    let (dir, spec) = setup(SPEC);
    plans.push(plan(Path::new(&spec)));
    // an APIG channel (seed 001's body with lbsim's own sections beside it): its update body
    // carries every member
    let mut channel: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("scenarios/api-examples/seed001-create-vpc-channel.json"),
        )
        .unwrap(),
    )
    .unwrap();
    channel["duration_s"] = 5.into();
    channel["workload"] = serde_json::json!({"arrivals": {"rate_per_s": 100}});
    std::fs::write(dir.path().join("channel.json"), channel.to_string()).unwrap();
    let spec: Spec = serde_json::from_str(
        r#"{"base": "channel.json", "parameters": [{"path": "members[1].weight", "values": [1, 5]},
            {"path": "vpc_health_config.time_interval", "values": [10, 30]},
            {"path": "api.backend_api.retry_count", "values": ["-1", "1"]}],
            "objective": {"minimize": "summary.latency_ms.p99"}}"#,
    )
    .unwrap();
    let text = std::fs::read_to_string(dir.path().join("channel.json")).unwrap();
    plans.push(Plan::new(spec, text).unwrap());
    // a listener pasted as its create body: the update body carries the changed fields
    let mut with_listener: serde_json::Value = serde_json::from_str(BASE).unwrap();
    with_listener["listener"] = serde_json::json!({"listener": {"protocol": "HTTP",
        "protocol_port": 80, "member_timeout": 30, "loadbalancer_id": "lb"}});
    let spec: Spec = serde_json::from_str(
        r#"{"base": "listener.json", "parameters": [
            {"path": "listener.member_timeout", "values": [30, 5]},
            {"path": "listener.keepalive_timeout", "values": [60, 0]}],
            "objective": {"minimize": "summary.latency_ms.p99"}}"#,
    )
    .unwrap();
    let listener_plan = Plan::new(spec, with_listener.to_string()).unwrap();
    let best = apply::recommend(&listener_plan, 3);
    assert_eq!(
        best.calls[0].body,
        serde_json::json!({"listener": {"member_timeout": 5, "keepalive_timeout": 60}})
    );
    assert!(
        best.simulation_only.is_empty() && best.notes.is_empty(),
        "{best:?}"
    );
    plans.push(listener_plan);

    let mut kinds = std::collections::BTreeSet::new();
    for plan in &plans {
        for point in 1..plan.points.len() {
            let r = apply::recommend(plan, point);
            for call in &r.calls {
                let errors = apply::validate(plan, call);
                assert!(
                    errors.is_empty(),
                    "{} {}: {call:?}: {errors:?}",
                    plan.name,
                    point
                );
                kinds.insert(call.path.clone());
            }
        }
    }
    let kinds: Vec<&str> = kinds.iter().map(String::as_str).collect();
    assert_eq!(
        kinds,
        [
            "/v2/{project_id}/apigw/instances/{instance_id}/apis/{api_id}",
            "/v2/{project_id}/apigw/instances/{instance_id}/vpc-channels/{vpc_channel_id}",
            "/v3/{project_id}/elb/healthmonitors/{healthmonitor_id}",
            "/v3/{project_id}/elb/listeners/{listener_id}",
            "/v3/{project_id}/elb/pools/{pool_id}",
            "/v3/{project_id}/elb/pools/{pool_id}/members/{member_id}",
        ]
    );
    // the channel body carries every member, without lbsim's own fields
    let channel_plan = &plans[plans.len() - 2];
    let body = &apply::recommend(channel_plan, 2).calls[0].body;
    assert_eq!(body["members"].as_array().unwrap().len(), 2);
    assert_eq!(body["members"][1]["weight"], 1);
    assert!(body.get("duration_s").is_none() && body.get("workload").is_none());
}

#[test]
fn a_body_the_validator_rejects_is_reported() {
    let (_dir, spec) = setup(SPEC);
    let plan = plan(Path::new(&spec));
    let mut call = apply::recommend(&plan, 1).calls.remove(0);
    call.body = serde_json::json!({"member": {"weight": 101}});
    let errors = apply::validate(&plan, &call);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].to_string().contains("weight: 101 is outside"),
        "{}",
        errors[0]
    );
}

#[test]
fn run_html_writes_a_self_contained_page() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.json");
    std::fs::write(&base, BASE).unwrap();
    let html = dir.path().join("run.html");
    ok(lbsim(
        &[
            "run",
            base.to_str().unwrap(),
            "--html",
            html.to_str().unwrap(),
        ],
        &[],
    ));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("Traffic per member")
            && page.contains("Latency of completed requests")
            && page.contains("Mean latency of completed requests per member")
    );
    assert!(page.contains("member_slow"), "events are listed");
    assert!(!page.contains("<script"));
}

/// Rows of a trace: `n` requests from 7 clients over the first two seconds.
fn trace_rows(n: u32) -> String {
    let mut text = String::from("t_s,client\n");
    for i in 0..n {
        text.push_str(&format!(
            "{:.4},{}\n",
            2.0 * f64::from(i) / f64::from(n),
            i % 7
        ));
    }
    text
}

#[test]
fn a_sweep_replays_each_points_trace() {
    let dir = tempfile::tempdir().expect("tempdir");
    // the trace is named relative to the base scenario, which sits in a subdirectory of the spec
    let sub = dir.path().join("base");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("short.csv"), trace_rows(120)).unwrap();
    std::fs::write(sub.join("long.csv"), trace_rows(300)).unwrap();
    let base = BASE.replace(
        r#""arrivals": {"rate_per_s": 900}"#,
        r#""arrivals": {"trace": "short.csv"}"#,
    );
    std::fs::write(sub.join("traced.json"), base).unwrap();
    let spec = dir.path().join("spec.json");
    std::fs::write(
        &spec,
        r#"{"base": "base/traced.json", "parameters": [
              {"path": "workload.arrivals.trace", "values": ["short.csv", "long.csv"]}],
            "objective": {"minimize": "summary.latency_ms.p99"}}"#,
    )
    .unwrap();
    let out = out_dir(&dir, "out");
    ok(lbsim(
        &["sweep", spec.to_str().unwrap(), "--out", &out],
        &[],
    ));
    let text = String::from_utf8(read(&out, "results.jsonl")).unwrap();
    let mut requests = std::collections::BTreeMap::new();
    for line in text.lines().skip(1) {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        requests.insert(
            record["point"].as_u64().unwrap(),
            record["metrics"]["summary.requests"].as_f64().unwrap(),
        );
    }
    // point 0 is the base (short.csv), then short.csv and long.csv
    let expected = std::collections::BTreeMap::from([(0, 120.0), (1, 120.0), (2, 300.0)]);
    assert_eq!(requests, expected);

    // a missing trace is named before any run
    std::fs::remove_file(sub.join("long.csv")).unwrap();
    let out = out_dir(&dir, "again");
    let o = lbsim(&["sweep", spec.to_str().unwrap(), "--out", &out], &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("point 2 (arrivals.trace=long.csv):")
            && err.contains("long.csv: no such trace file"),
        "{err}"
    );
    assert!(!Path::new(&out).join("results.jsonl").exists());
}

/// A sweep whose points complete no request (every weight 0: nothing can be forwarded) drew
/// its latency CDF on a log axis starting at 0 and allocated without end. The charts render
/// and say why they are empty.
#[test]
fn a_sweep_without_completed_requests_reports() {
    let spec = SPEC.replace(
        r#""parameters": [{"path": "pool.members[0].weight", "values": [1, 10, 40]}]"#,
        r#""parameters": [{"path": "pool.members[0].weight", "values": [0]}, {"path": "pool.members[1].weight", "values": [0]}, {"path": "pool.members[2].weight", "values": [0]}]"#,
    )
    .replace(r#"["summary.failed / summary.requests <= 0.01"]"#, "[]");
    let (dir, spec) = setup(&spec);
    let out = out_dir(&dir, "out");
    let run = lbsim(&["sweep", &spec, "--out", &out], &[]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let html = String::from_utf8(read(&out, "report.html")).expect("UTF-8");
    assert!(
        // the legend wraps the note onto two lines
        html.contains(">recommended: point 1: no</text>")
            && html.contains(">completed requests</text>"),
        "the latency chart says why it is empty"
    );
}

/// A last line torn inside a multi-byte character made the directory unreadable for good; a
/// record of a run outside the plan (or twice) panicked `--resume`, which now checks records
/// as `merge` does.
#[test]
fn resume_drops_any_torn_line_and_checks_its_records() {
    let (dir, spec) = setup(SPEC);
    let whole = out_dir(&dir, "whole");
    ok(lbsim(&["sweep", &spec, "--out", &whole], &[]));
    let bytes = read(&whole, "results.jsonl");
    let lines: Vec<&[u8]> = bytes.split_inclusive(|b| *b == b'\n').collect();
    let head = lines[..3].concat();
    let resume = |name: &str, content: &[u8]| {
        let out = out_dir(&dir, name);
        std::fs::create_dir(&out).unwrap();
        std::fs::write(Path::new(&out).join("results.jsonl"), content).unwrap();
        (
            lbsim(&["sweep", &spec, "--out", &out, "--resume"], &[]),
            out,
        )
    };
    // half of "é" (0xC3 0xA9) ends the file
    let torn = [head.as_slice(), b"{\"run\": 3, \"point\": \"\xc3"].concat();
    let (run, out) = resume("torn", &torn);
    ok(run);
    assert_same_reports(&whole, &out);
    // run 1 beyond the plan, recorded twice, or under another point (a panic before)
    let cases = [
        ("beyond", "\"run\":1", "\"run\":99", "run 99 is beyond"),
        ("twice", "\"run\":1", "\"run\":1", "run 1 is recorded twice"),
        (
            "point",
            "\"point\":0",
            "\"point\":7",
            "run 1 is recorded as point 7",
        ),
    ];
    for (name, from, to, expect) in cases {
        let line = String::from_utf8(lines[2].to_vec()).unwrap();
        assert!(line.contains(from), "{line}");
        let line = line.replacen(from, to, 1);
        let (run, _) = resume(name, &[head.as_slice(), line.as_bytes()].concat());
        assert_eq!(run.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(err.contains(expect), "{name}: {err}");
    }
}

/// A sweep held every run's per-member timeline until memory ran out (300 points of a long
/// scenario took 5–6 GB); what the runs will hold is checked before any run.
#[test]
fn the_results_a_sweep_holds_are_bounded_up_front() {
    let spec = SPEC
        .replace(
            r#""replications": 2"#,
            r#""replications": 100, "duration_s": 604800"#,
        )
        .replace(r#", "timeout_ms": 2000"#, "");
    let (dir, spec) = setup(&spec);
    let slow = BASE.replace(r#""rate_per_s": 900"#, r#""rate_per_s": 0.1"#);
    std::fs::write(dir.path().join("base.json"), slow).unwrap();
    let out = out_dir(&dir, "out");
    let run = lbsim(&["sweep", &spec, "--out", &out], &[]);
    assert_eq!(run.status.code(), Some(2));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("runs would hold about"), "{err}");
    assert!(!Path::new(&out).join("results.jsonl").exists());
}

/// Two parameters over the slow-member base (weight 10, round robin): point 1 is (1, RR),
/// 2 (1, LC), 3 (10, RR: the base's own values), 4 (10, LC).
const TWO_AXES: &str = r#"{
  "base": "base.json",
  "replications": 3,
  "parameters": [{"path": "pool.members[0].weight", "values": [1, 10]},
                 {"path": "pool.lb_algorithm", "values": ["ROUND_ROBIN", "LEAST_CONNECTIONS"]}],
  "objective": {"minimize": "summary.latency_ms.p99"},
  "constraints": ["summary.client_error_share <= 0.05"]
}"#;

/// Records of `plan` with these p99 replications and client error shares per point: results
/// constructed to put the tie rule to the test without running anything.
fn constructed(plan: &Plan, p99: &[[f64; 3]], errors: &[f64]) -> Vec<lbsim::sweep::RunRecord> {
    (0..plan.runs())
        .map(|run| {
            let (point, replication) = plan.locate(run);
            let metrics = [
                ("summary.latency_ms.p99", p99[point][replication as usize]),
                ("summary.client_error_share", errors[point]),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            lbsim::sweep::RunRecord {
                run,
                point,
                replication,
                seed: run,
                metrics,
                latency_ns: vec![(1_000_000, 10)],
                bucket_s: 1.0,
                start_s: 0.0,
                timeline: [("web-a".to_string(), vec![10, 10])].into(),
            }
        })
        .collect()
}

/// Summarises constructed records and writes the reports into a fresh directory.
fn summarise_constructed(
    p99: &[[f64; 3]],
    errors: &[f64],
) -> (lbsim::sweep::SweepSummary, String, String) {
    let (dir, spec) = setup(TWO_AXES);
    let plan = plan(Path::new(&spec));
    let records = constructed(&plan, p99, errors);
    let summary = lbsim::sweep::finish(&plan, &records, dir.path()).unwrap();
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    (summary, md, html)
}

#[test]
fn overlapping_leaders_are_tied_and_the_least_change_is_recommended() {
    // the leader (2) changes both settings; 4 and 1 change one each and overlap it, 4 ranking
    // first; 3 is clearly worse; the base fails 22 % of requests
    let p99 = [
        [13.7, 13.8, 13.9],
        [14.4, 14.1, 14.7],
        [14.2, 14.3, 14.4],
        [19.0, 19.1, 19.2],
        [14.3, 14.65, 14.05],
    ];
    let errors = [0.22, 0.0, 0.0, 0.0, 0.0];
    let (s, md, html) = summarise_constructed(&p99, &errors);
    assert_eq!(s.leader, Some(2));
    assert_eq!(s.tied, [2, 4, 1]);
    assert_eq!(s.best, Some(4), "one change, better ranked than point 1");
    assert_eq!(s.recommendation.as_ref().map(|r| r.point), Some(4));
    assert!(
        md.contains("Statistically tied with the leader: points 2, 4, 1"),
        "{md}"
    );
    assert!(md.contains("Leader (best mean): point 2"), "{md}");
    assert_eq!(md.matches("| recommended |").count(), 1, "{md}");
    assert_eq!(md.matches("| tied |").count(), 2, "{md}");
    // the base's figure carries its failures and the constraint it breaks
    assert!(
        md.contains(
            "Base scenario: summary.latency_ms.p99 = 13.8 ± 0.248 (mean ± 95 % CI), 22.0 % of \
             requests failed, breaks summary.client_error_share <= 0.05."
        ),
        "{md}"
    );
    assert!(html.contains("22.0 % of requests failed"));
    // the heatmap outlines the recommendation solid and the other tied points dashed
    let dashed = html.matches(r#"stroke-dasharray="5 3""#).count();
    assert_eq!(dashed, 2, "points 2 and 1 are tied, 4 is recommended");
}

#[test]
fn clearly_separated_leaders_give_a_single_best() {
    let p99 = [
        [13.7, 13.8, 13.9],
        [16.0, 16.1, 16.2],
        [14.2, 14.3, 14.4],
        [19.0, 19.1, 19.2],
        [15.0, 15.1, 15.2],
    ];
    let (s, md, _) = summarise_constructed(&p99, &[0.22, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(s.tied, [2]);
    assert_eq!((s.leader, s.best), (Some(2), Some(2)));
    assert!(
        md.contains("Every other feasible point is distinguishable from it"),
        "{md}"
    );
    assert!(!md.contains("Statistically tied"));
}

#[test]
fn a_tied_base_is_recommended_and_changes_nothing() {
    let p99 = [
        [14.3, 14.5, 14.4],
        [14.2, 14.3, 14.4],
        [16.0, 16.1, 16.2],
        [19.0, 19.1, 19.2],
        [15.0, 15.1, 15.2],
    ];
    let (s, _, _) = summarise_constructed(&p99, &[0.0; 5]);
    assert_eq!(s.leader, Some(1));
    assert_eq!(s.tied, [1, 0]);
    assert_eq!(s.best, Some(0));
    let r = s.recommendation.unwrap();
    assert!(r.calls.is_empty(), "{r:?}");
}

#[test]
fn a_recommendation_on_the_edge_of_the_grid_is_flagged() {
    // weights 1, 10, 40: the best is the lowest weight searched, then an interior one
    let (dir, spec) = setup(SPEC);
    let plan = plan(Path::new(&spec));
    let spread = |m: f64| [m - 0.01, m, m + 0.01];
    let edge = [spread(20.0), spread(10.0), spread(15.0), spread(30.0)];
    let records = |p99: &[[f64; 3]]| {
        constructed(&plan, p99, &[0.0; 4])
            .into_iter()
            .map(|mut r| {
                // the spec's constraint reads failures and requests
                r.metrics.insert("summary.failed".into(), 0.0);
                r.metrics.insert("summary.requests".into(), 100.0);
                r
            })
            .collect::<Vec<_>>()
    };
    let s = lbsim::sweep::finish(&plan, &records(&edge), dir.path()).unwrap();
    assert_eq!(s.best, Some(1));
    assert_eq!(s.edges.len(), 1);
    assert_eq!(
        (
            s.edges[0].parameter.as_str(),
            s.edges[0].value.as_str(),
            s.edges[0].side
        ),
        ("members[0].weight", "1", "lowest")
    );
    let flag = "On the edge of the grid: members[0].weight = 1 is the lowest value searched";
    for report in ["report.md", "report.html"] {
        let text = std::fs::read_to_string(dir.path().join(report)).unwrap();
        assert!(text.contains(flag), "{report}: {text}");
    }
    let inside = [spread(20.0), spread(15.0), spread(10.0), spread(30.0)];
    let s = lbsim::sweep::finish(&plan, &records(&inside), dir.path()).unwrap();
    assert_eq!(s.best, Some(2));
    assert!(s.edges.is_empty());
}

/// The shipped slow-start example: at 20 s traffic rises to 7,600 req/s (95 % of the four warm
/// members' 4 × 8 / 4 ms = 8,000 req/s) and new members join 4× slower (500 req/s each) for
/// 30 s. A new member's share 7,600 · w / (40 + n·w) stays within 500 req/s while cold only if
/// its slow-start weight w = 10 · 30 s / duration is at most ≈ 3 (n = 1: 2.8, n = 4: 3.6), so a
/// duration of 120 s or more protects every member count and 30 s none; the window (210 s)
/// lets every ramp of the grid finish, so the longest ramp is no longer favoured and the
/// recommendation lies inside the grid.
#[test]
fn the_slow_start_example_answers_inside_its_grid() {
    let spec = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/sweeps/slow-start-x-members.json");
    let dir = tempfile::tempdir().unwrap();
    let out = out_dir(&dir, "out");
    ok(lbsim(
        &["sweep", spec.to_str().unwrap(), "--out", &out],
        &[],
    ));
    let s = summary(&out);
    let points = s["points"].as_array().unwrap();
    let setting = |p: &serde_json::Value| p["settings"]["pool.slow_start.duration"].as_u64();
    assert_eq!(points[0]["feasible"], false, "the base's 30 s ramp fails");
    for p in &points[1..] {
        match setting(p).unwrap() {
            30 => assert_eq!(p["feasible"], false, "{}", p["label"]),
            d if d >= 120 => assert_eq!(p["feasible"], true, "{}", p["label"]),
            _ => {}
        }
    }
    let best = &points[s["best"].as_u64().unwrap() as usize];
    let duration = setting(best).unwrap();
    assert!(duration > 30 && duration < 180, "{}", best["label"]);
    assert_eq!(s["edges"], serde_json::json!([]));
    // fewest changes: the base's own scale-out (2 members), only the ramp changed
    assert!(best["label"].as_str().unwrap().ends_with("members added=2"));
}

/// `results.jsonl` was read whole, whatever it was: a FIFO blocked `merge` and `--resume`
/// forever, `/dev/zero` ran out of memory and a 20 GB file aborted the process. It must be a
/// regular file within the results limit.
#[test]
fn a_results_file_must_be_a_regular_file_within_the_limit() {
    let (dir, spec) = setup(SPEC);
    let results = |name: &str| {
        let out = out_dir(&dir, name);
        std::fs::create_dir(&out).unwrap();
        (Path::new(&out).join("results.jsonl"), out)
    };
    let (big, big_dir) = results("big");
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(lbsim::sweep::MAX_RESULTS_BYTES + 1).unwrap();
    let (link, link_dir) = results("device");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    for (out, expect) in [
        (&big_dir, "more than the results limit"),
        (&link_dir, "is not a regular file"),
    ] {
        for args in [
            vec![
                "sweep",
                "merge",
                out.as_str(),
                "--out",
                &out_dir(&dir, "merged"),
            ],
            vec!["sweep", &spec, "--out", out.as_str(), "--resume"],
        ] {
            let run = lbsim(&args, &[]);
            assert_eq!(run.status.code(), Some(2), "{args:?}");
            let err = String::from_utf8_lossy(&run.stderr);
            assert!(err.contains(expect), "{args:?}: {err}");
        }
    }
}

/// The replay command in the reports wrote a 1e-300 s duration as 300 zeros.
#[test]
fn replay_commands_write_durations_shortly() {
    let spec = SPEC.replace(
        r#""replications": 2"#,
        r#""replications": 1, "duration_s": 1e-300"#,
    );
    let (dir, spec) = setup(&spec);
    let out = out_dir(&dir, "out");
    ok(lbsim(&["sweep", &spec, "--out", &out], &[]));
    let report = String::from_utf8(read(&out, "report.md")).unwrap();
    assert!(report.contains("--duration 1e-300 "), "{report}");
}

/// A sweep spec (or its base) that was a device was read until memory ran out; an objective
/// with both keys said only serde's "expected value".
#[test]
fn a_spec_is_a_regular_file_and_its_objective_has_one_key() {
    let both = SPEC.replace(
        r#""objective": {"minimize": "summary.latency_ms.p99"}"#,
        r#""objective": {"minimize": "summary.latency_ms.p99", "maximize": "summary.requests"}"#,
    );
    let (dir, spec) = setup(&both);
    let run = lbsim(&["sweep", &spec, "--out", &out_dir(&dir, "o")], &[]);
    assert_eq!(run.status.code(), Some(2));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("objective: has 2 keys: give exactly one of minimize or maximize"),
        "{err}"
    );
    let (dir, spec) = setup(SPEC);
    std::fs::remove_file(dir.path().join("base.json")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("base.json")).unwrap();
    let run = lbsim(&["sweep", &spec, "--out", &out_dir(&dir, "o")], &[]);
    assert_eq!(run.status.code(), Some(2));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(err.contains("base.json: is not a regular file"), "{err}");
}

/// A shard's header whose spec breaks a rule was reported without its file.
#[test]
fn merge_names_the_file_whose_header_is_bad() {
    let (dir, spec) = setup(SPEC);
    let shard = out_dir(&dir, "shard");
    ok(lbsim(&["sweep", &spec, "--out", &shard], &[]));
    let path = Path::new(&shard).join("results.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(r#""replications":2"#));
    std::fs::write(
        &path,
        text.replacen(r#""replications":2"#, r#""replications":0"#, 1),
    )
    .unwrap();
    let run = lbsim(
        &["sweep", "merge", &shard, "--out", &out_dir(&dir, "m")],
        &[],
    );
    assert_eq!(run.status.code(), Some(2));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("results.jsonl: line 1: replications: 0: must be at least 1"),
        "{err}"
    );
}
