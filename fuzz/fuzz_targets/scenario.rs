//! Scenario text → prepare (parse, validate, lower) → a short run under a small work limit.
#![no_main]

use lbsim::pipeline::{self, Overrides, Source};
use lbsim::sim::Limits;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let source = Source::Text {
        file: "fuzz.json",
        text,
        trace: None,
    };
    let Ok(prepared) = pipeline::prepare(&source, &[], Overrides::default()) else {
        return;
    };
    let limits = Limits {
        max_events: Some(20_000),
    };
    let _ = pipeline::simulate(&prepared.config, limits, ());
});
