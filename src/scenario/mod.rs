//! Scenario files: parsing, validation and lowering.
//!
//! A scenario is one JSON file holding exactly one pool definition in the vendor's own shape —
//! an ELB v3 `pool` or an APIG `vpc_channel` (or a bare VPC channel body) — plus lbsim's own
//! sections. Loading never panics: every problem becomes a [`Finding`] naming the file, the
//! JSON path, the value and the rule, and all findings of a file are reported together.

pub mod apig;
mod de;
mod diag;
pub mod dialect;
pub mod elb;
mod events;
mod fields;
mod front;
pub mod input;
mod keys;
pub mod lower;
pub mod patch;
pub mod schema;
pub mod sections;
mod strict;
mod suggest;
mod timeline;
pub mod trace;
mod valid;
mod validate;

pub use diag::{Finding, Severity};
pub use front::listener_object;
pub use input::MAX_SCENARIO_BYTES;
pub use lower::{lower, NotRunnable};
pub use valid::{ChannelChange, EventAction, MemberChange, PoolDef, TimedAction, ValidScenario};

use de::deserialize;
use diag::{Code, Findings};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The top level of a scenario file.
#[derive(Debug, Default, Clone, Deserialize, JsonSchema)]
#[schemars(transform = schema::vendor_body(NOT_MODELLED))]
pub struct Scenario {
    /// The JSON Schema the file follows (`lbsim schema`), for editors; the run ignores it.
    #[serde(rename = "$schema")]
    pub json_schema: Option<String>,
    /// Default: the file name without extension (or the VPC channel name of a bare body).
    #[schemars(transform = schema::max_chars(diag::MAX_NAME_CHARS))]
    pub name: Option<String>,
    pub description: Option<String>,
    /// RNG seed (default 1).
    pub seed: Option<u64>,
    /// Simulated seconds (default 60, at most a week).
    #[schemars(transform = schema::duration)]
    pub duration_s: Option<f64>,
    /// Seconds excluded from metrics at the start (default 0; below `duration_s`).
    #[schemars(transform = schema::at_least(0.0))]
    pub warmup_s: Option<f64>,
    /// An ELB v3 backend server group.
    pub pool: Option<elb::Pool>,
    /// An APIG / ROMA VPC channel.
    pub vpc_channel: Option<apig::VpcChannel>,
    /// The ELB listener in front of the pool: a create-listener body, `{"listener": {…}}` or
    /// the bare object.
    pub listener: Option<elb::Listener>,
    /// The APIG API in front of the VPC channel: a create-API body, or `{"backend_api": {…}}`.
    pub api: Option<apig::Api>,
    pub loadbalancer: Option<sections::LoadBalancer>,
    pub backends: Option<sections::Backends>,
    pub workload: Option<sections::Workload>,
    pub events: Option<Vec<sections::Event>>,
}

/// Top-level vendor fields lbsim accepts and does not simulate (a `GET` response's).
pub const NOT_MODELLED: &[&str] = &["request_id"];

pub const DEFAULT_DURATION_S: f64 = 60.0;
/// The longest run a scenario may ask for (one simulated week).
pub const MAX_DURATION_S: f64 = 7.0 * 86_400.0;
/// The most members a pool may have (including members added by events).
pub const MAX_MEMBERS: usize = 100_000;
/// The most timeline events a scenario may hold.
pub const MAX_EVENTS: usize = 100_000;

/// A scenario that parsed: every finding of validation (errors, warnings, notes) and, when
/// there was no error, the valid scenario.
#[derive(Debug)]
pub struct Loaded {
    pub scenario: Option<ValidScenario>,
    pub findings: Vec<Finding>,
    /// What the trace needs, read before validation: a trace is read (and its problems
    /// reported) even when the scenario has errors.
    trace: Option<TraceRef>,
}

#[derive(Debug)]
struct TraceRef {
    /// `workload.arrivals.trace`, relative to the scenario file.
    file: String,
    /// `workload.clients.count`: client ids in the trace must be below it.
    clients: Option<u64>,
}

/// Reads, parses and validates a scenario file. `Err` holds findings when the file could not be
/// read or parsed at all; `Ok` holds the scenario with every finding of validation.
/// `sets` are `--set` changes applied to the file's JSON before validation.
/// `read` reads the trace the scenario names.
pub fn load(
    path: &Path,
    sets: &[patch::Setting],
    read: trace::ReadTrace,
) -> Result<Loaded, Vec<Finding>> {
    let file = path.display().to_string();
    let fail = |rule: String| {
        let mut f = Findings::new(&file);
        f.error("", "", rule, Code::NONE);
        f.items
    };
    let text = input::read_text(path, input::MAX_SCENARIO_BYTES, "scenario").map_err(fail)?;
    let default_name = path
        .file_stem()
        .filter(|_| path != Path::new("-"))
        .map(|s| s.to_string_lossy().into_owned());
    let mut loaded = parse(&file, &text, default_name, sets)?;
    if let Some(trace) = trace_path(&loaded, path.parent().unwrap_or(Path::new("."))) {
        attach_trace(&mut loaded, &file, read(&trace));
    }
    Ok(loaded)
}

/// The trace file the scenario replays (`workload.arrivals.trace`), relative to `dir`, the
/// directory of the scenario file.
pub fn trace_path(loaded: &Loaded, dir: &Path) -> Option<PathBuf> {
    loaded.trace.as_ref().map(|t| dir.join(&t.file))
}

/// Gives the scenario the rows of its trace (as [`trace::read`] returned them), adding the
/// trace's problems to the scenario's findings (an error makes it invalid).
pub fn attach_trace(loaded: &mut Loaded, file: &str, read: trace::Read) {
    let Some(trace) = &loaded.trace else {
        return;
    };
    let replayed = match read {
        Ok(t) => t,
        Err(findings) => {
            if findings.iter().any(|f| f.severity == Severity::Error) {
                loaded.scenario = None;
            }
            return loaded.findings.extend(findings);
        }
    };
    let largest = replayed.largest_client;
    if let Some(n) = trace.clients.filter(|n| u64::from(largest) >= *n) {
        let mut f = Findings::new(file);
        let rule = format!("is too small for the trace's client id {largest} (ids start at 0)");
        f.error("workload.clients.count", n, rule, Code::NONE);
        loaded.findings.extend(f.items);
        loaded.scenario = None;
    }
    if let Some(valid) = loaded.scenario.as_mut() {
        valid
            .workload
            .arrivals
            .get_or_insert_with(Default::default)
            .replayed = Some(replayed);
    }
}

/// Parses and validates scenario text; `file` names it in findings.
pub fn parse(
    file: &str,
    text: &str,
    default_name: Option<String>,
    sets: &[patch::Setting],
) -> Result<Loaded, Vec<Finding>> {
    let mut f = Findings::new(file);
    // A UTF-8 byte-order mark is legal at the start of a JSON file written by some editors.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        f.error("", "", "is empty: a scenario is a JSON object", Code::NONE);
        return Err(f.items);
    }
    let mut value: Value = match strict::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let what = e.to_string();
            let what = what.split(" at line ").next().unwrap_or(&what).to_string();
            let rule = format!(
                "line {} column {}: malformed JSON: {what}",
                e.line(),
                e.column()
            );
            f.error("", "", rule, Code::NONE);
            return Err(f.items);
        }
    };
    for set in sets {
        if let Err(why) = patch::apply(&mut value, &set.path, set.value.clone()) {
            f.error("", "", format!("--set: {why}"), Code::NONE);
        }
    }
    if f.has_errors() {
        return Err(f.items);
    }
    let Value::Object(mut root) = value else {
        f.error(
            "",
            "",
            "must be a JSON object (a scenario or an API request body)",
            Code::NONE,
        );
        return Err(f.items);
    };
    let bare_channel = dialect::detect(&root) == Some(dialect::Dialect::Apig { bare: true });
    if bare_channel {
        root = dialect::wrap_bare_channel(root);
        f.rename("vpc_channel", "");
    }
    front::unwrap_listener(&mut root, &mut f);
    let Some(mut scenario) = deserialize::<Scenario>(Value::Object(root), &[], &mut f) else {
        return Err(f.items);
    };
    if scenario.name.is_none() {
        scenario.name = if bare_channel {
            scenario.vpc_channel.as_ref().and_then(|c| c.name.clone())
        } else {
            None
        }
        .or(default_name);
    }
    let trace = scenario.workload.as_ref().and_then(|w| {
        let file = w.arrivals.as_ref()?.trace.clone()?;
        let clients = w.clients.as_ref().and_then(|c| c.count);
        Some(TraceRef { file, clients })
    });
    let scenario = validate::validate(scenario, &mut f);
    Ok(Loaded {
        scenario,
        findings: f.items,
        trace,
    })
}

/// A JSON Schema of the scenario format, for editors and CI (see [`schema`]).
pub fn json_schema() -> String {
    serde_json::to_string_pretty(&schema::scenario()).unwrap_or_default()
}
