//! Arbitrary run results → a sweep's summary, `report.md` and `report.html` (charts included):
//! every metric, latency histogram and timeline value comes from the input, and so does what a
//! hand-edited or foreign `results.jsonl` can hold past `--resume`'s and `merge`'s checks
//! (which check only run numbers): metrics missing or unknown, timelines naming no member or
//! members the base does not have, of any length.
#![no_main]

use std::collections::BTreeMap;

use lbsim::sweep::{self, Plan, RunRecord, Spec};
use libfuzzer_sys::fuzz_target;

const BASE: &str = r#"{"pool": {"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
  "members": [{"address": "10.0.0.1", "protocol_port": 80}, {"address": "10.0.0.2", "protocol_port": 80}]}}"#;
const SPEC: &str = r#"{"base": "base.json", "master_seed": 1, "replications": 2,
  "parameters": [{"path": "pool.members[0].weight", "values": [1, 5]},
                 {"path": "pool.lb_algorithm", "values": ["ROUND_ROBIN", "LEAST_CONNECTIONS"]}],
  "objective": {"minimize": "summary.latency_ms.p99"},
  "constraints": ["summary.failed / summary.requests <= 0.01"]}"#;
const METRICS: [&str; 5] = [
    "summary.latency_ms.p99",
    "summary.failed",
    "summary.requests",
    "summary.throughput_rps",
    "summary.cross_az_fraction",
];

/// Reads the input as a stream of numbers.
struct Numbers<'a>(&'a [u8]);

impl Numbers<'_> {
    fn u64(&mut self) -> u64 {
        let (head, rest) = self.0.split_at(self.0.len().min(8));
        self.0 = rest;
        let mut b = [0u8; 8];
        b[..head.len()].copy_from_slice(head);
        u64::from_le_bytes(b)
    }

    /// A finite number, as results read back from JSON are.
    fn f64(&mut self) -> f64 {
        let x = f64::from_bits(self.u64());
        if x.is_finite() {
            x
        } else {
            0.0
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let spec: Spec = serde_json::from_str(SPEC).expect("the fixed spec parses");
    let plan = Plan::new(spec, BASE.to_string()).expect("the fixed plan expands");
    let mut n = Numbers(data);
    let records: Vec<RunRecord> = (0..plan.runs())
        .map(|run| {
            let (point, replication) = plan.locate(run);
            let present = n.u64();
            let metrics: BTreeMap<String, f64> = METRICS
                .iter()
                .chain(&["summary.unknown"])
                .enumerate()
                .filter(|(i, _)| present >> i & 1 == 1)
                .map(|(_, m)| (m.to_string(), n.f64()))
                .collect();
            let latency_ns = (0..n.u64() % 8).map(|_| (n.u64(), n.u64() % 1000)).collect();
            let named = n.u64();
            let timeline = ["10.0.0.1", "10.0.0.2", "10.9.9.9"]
                .iter()
                .enumerate()
                .filter(|(i, _)| named >> i & 1 == 1)
                .map(|(_, m)| (m.to_string(), (0..n.u64() % 16).map(|_| n.u64() % 10_000).collect()))
                .collect();
            RunRecord {
                run,
                point,
                replication,
                seed: run,
                metrics,
                latency_ns,
                bucket_s: n.f64(),
                start_s: n.f64(),
                timeline,
            }
        })
        .collect();
    let dir = std::env::temp_dir().join(format!("lbsim-fuzz-report-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let _ = sweep::finish(&plan, &records, &dir);
});
