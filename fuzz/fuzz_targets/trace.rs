//! Arrival trace text → parse → a scenario replaying it → lower → a short run.
#![no_main]

use lbsim::metrics::Recorder;
use lbsim::scenario::{self, trace};
use lbsim::sim::{self, Limits};
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
    let Ok(rows) = trace::parse_text("fuzz.csv", text) else {
        return;
    };
    let Ok(mut loaded) = scenario::parse("fuzz.json", SCENARIO, None, &[]) else {
        panic!("the fixed scenario parses");
    };
    scenario::attach_trace(&mut loaded, "fuzz.json", Ok(rows));
    let Some(valid) = &loaded.scenario else {
        return;
    };
    let Ok(config) = scenario::lower(valid, None, None) else {
        return;
    };
    let mut recorder = Recorder::new(&config);
    let limits = Limits {
        max_events: Some(20_000),
    };
    let _ = sim::run(&config, limits, &mut recorder);
});
