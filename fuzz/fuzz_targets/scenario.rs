//! Scenario text → parse and validate → lower → a short run under a small work limit.
#![no_main]

use lbsim::metrics::Recorder;
use lbsim::scenario;
use lbsim::sim::{self, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(loaded) = scenario::parse("fuzz.json", text, None, &[]) else {
        return;
    };
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
