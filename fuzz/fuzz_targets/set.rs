//! `--set PATH=VALUE` (first line of the input) applied to scenario text (the rest), then
//! validated and lowered as `lbsim run --set` does.
#![no_main]

use lbsim::pipeline::{self, Overrides, Source};
use lbsim::scenario::patch::{self, Setting};
use libfuzzer_sys::fuzz_target;

const BASE: &str = r#"{"pool": {"protocol": "TCP", "lb_algorithm": "ROUND_ROBIN",
  "members": [{"address": "10.0.0.1", "protocol_port": 80}, {"address": "10.0.0.2", "protocol_port": 80}]}}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (arg, doc) = text.split_once('\n').unwrap_or((text, ""));
    let doc = if doc.trim().is_empty() { BASE } else { doc };
    let Ok((path, values)) = patch::parse_assignment(arg) else {
        return;
    };
    let sets: Vec<Setting> = values
        .into_iter()
        .map(|value| Setting {
            path: path.clone(),
            value,
        })
        .collect();
    let source = Source::Text {
        file: "fuzz.json",
        text: doc,
        trace: None,
    };
    let _ = pipeline::prepare(&source, &sets, Overrides::default());
});
