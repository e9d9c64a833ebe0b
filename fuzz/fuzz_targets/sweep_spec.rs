//! Sweep spec text → spec, plan (parameters expanded, constraints parsed), every point's
//! settings and the recommended API calls for the last point.
#![no_main]

use lbsim::sweep::{apply, Plan, Spec};
use libfuzzer_sys::fuzz_target;

const BASE: &str = r#"{"pool": {"protocol": "HTTP", "lb_algorithm": "ROUND_ROBIN",
  "members": [{"address": "10.0.0.1", "protocol_port": 80}, {"address": "10.0.0.2", "protocol_port": 80}]}}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(spec) = serde_json::from_str::<Spec>(text) else {
        return;
    };
    let Ok(plan) = Plan::new(spec, BASE.to_string()) else {
        return;
    };
    for point in 0..plan.points.len() {
        let _ = plan.settings(point);
        let _ = plan.label(point);
    }
    let _ = apply::recommend(&plan, plan.points.len() - 1);
});
