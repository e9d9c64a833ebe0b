//! Arrival trace text → parse → a scenario replaying it, prepared → a short run.
#![no_main]

use std::path::Path;
use std::sync::Arc;

use lbsim::pipeline::{self, Overrides, Refusal, Source};
use lbsim::scenario::trace;
use lbsim::sim::Limits;
use libfuzzer_sys::fuzz_target;

const SCENARIO: &str = r#"{
  "duration_s": 5,
  "pool": {"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
           "members": [{"address": "10.0.0.1", "protocol_port": 80},
                       {"address": "10.0.0.2", "protocol_port": 80, "weight": 3}]},
  "workload": {"arrivals": {"trace": "fuzz.csv"}, "timeout_ms": 500}
}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(replayed) = trace::parse_text("fuzz.csv", text) else {
        return;
    };
    // the scenario names `fuzz.csv`; whatever directory it is looked up in, this is it
    let replayed = Arc::new(replayed);
    let read = |_: &Path| Ok(replayed.clone());
    let source = Source::Text {
        file: "fuzz.json",
        text: SCENARIO,
        trace: Some((Path::new("."), &read)),
    };
    let prepared = match pipeline::prepare(&source, &[], Overrides::default()) {
        Ok(p) => p,
        Err(Refusal::Unreadable(findings)) => panic!("the fixed scenario parses: {findings:?}"),
        Err(_) => return,
    };
    let limits = Limits {
        max_events: Some(20_000),
    };
    let _ = pipeline::simulate(&prepared.config, limits, ());
});
