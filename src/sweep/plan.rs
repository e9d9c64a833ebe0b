//! Sweep specs and the plan they expand to: the numbered list of runs every shard, resume and
//! merge agree on.
//!
//! Numbering (documented in `docs/sweep-format.md`): point 0 is the base scenario unchanged,
//! points 1.. are the grid of parameter values in lexicographic order over the declared
//! parameters (the first varies slowest); run `r` is replication `r % replications` of point
//! `r / replications`. Its seed depends only on (master seed, run index).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

use super::expr::Constraint;
use super::SweepError;
use crate::scenario::input;
use crate::scenario::patch::{self, Setting};
use crate::scenario::schema::{self, above, at_least, within};

/// A sweep spec file as written (see `docs/sweep-format.md`).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The JSON Schema the file follows (`lbsim schema --sweep`), for editors; the sweep
    /// ignores it.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub json_schema: Option<String>,
    /// Default: the spec's file name without extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The base scenario, relative to the spec file.
    pub base: String,
    /// Seeds every run (with the run index) and the random parameter samples.
    #[serde(default = "one")]
    pub master_seed: u64,
    /// Runs per point; confidence intervals need at least 2.
    #[serde(default = "one_u32")]
    #[schemars(transform = at_least(1))]
    pub replications: u32,
    /// Overrides the base scenario's `duration_s` for every run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = schema::duration)]
    pub duration_s: Option<f64>,
    pub parameters: Vec<Parameter>,
    pub objective: Objective,
    #[serde(default)]
    pub constraints: Vec<String>,
}

fn one() -> u64 {
    1
}

fn one_u32() -> u32 {
    1
}

/// One axis: a JSON path of the scenario (as `--set` takes) and exactly one way to give values.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = one_source_of_values)]
pub struct Parameter {
    pub path: String,
    /// Shown instead of the path in reports (useful when the path is `events`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Shown instead of the values, one per value (arrays and objects have no short form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<Range>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub random: Option<Random>,
}

/// `values`, `range` or `random`: exactly one.
const VALUE_SOURCES: &[&str] = &["values", "range", "random"];

fn one_source_of_values(s: &mut schemars::Schema) {
    s.insert("oneOf".into(), schema::exactly_one(VALUE_SOURCES));
}

/// `from`, `from + step`, … up to and including `to`. Whole `from` and `step` give integers
/// (the vendor's integer fields reject `30.0`).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Range {
    pub from: f64,
    pub to: f64,
    #[schemars(transform = above(0.0))]
    pub step: f64,
}

/// `samples` uniform draws in `[from, to]`, sorted; seeded by the master seed and the
/// parameter's position, so the same spec always gives the same values.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Random {
    pub from: f64,
    pub to: f64,
    #[schemars(transform = within(1..=MAX_POINTS))]
    pub samples: u32,
    /// Round each draw to an integer (duplicates are dropped).
    #[serde(default)]
    pub integer: bool,
}

/// The report metric to optimise, e.g. `{"minimize": "summary.latency_ms.p99"}`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum Objective {
    Minimize(String),
    Maximize(String),
}

impl Objective {
    pub fn metric(&self) -> &str {
        match self {
            Objective::Minimize(m) | Objective::Maximize(m) => m,
        }
    }

    /// `a` ranks before `b`.
    pub fn better(&self, a: f64, b: f64) -> bool {
        match self {
            Objective::Minimize(_) => a < b,
            Objective::Maximize(_) => a > b,
        }
    }
}

/// One parameter with its values expanded.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub path: String,
    /// The parameter's `name`, else the last two segments of its path.
    pub name: String,
    pub values: Vec<Value>,
    /// The parameter's `labels`, else each value in short form.
    pub labels: Vec<String>,
}

impl Axis {
    /// A number per value for a chart's x axis, when every value (or label) is a number.
    pub fn numbers(&self) -> Option<Vec<f64>> {
        self.values
            .iter()
            .zip(&self.labels)
            .map(|(v, l)| v.as_f64().or_else(|| l.parse().ok()))
            .collect()
    }
}

/// The expanded sweep. Everything in it derives from the spec and the base scenario's text, so
/// a shard's `results.jsonl` header (which carries both) is enough to rebuild it for a merge.
#[derive(Clone, Debug)]
pub struct Plan {
    pub spec: Spec,
    pub name: String,
    /// The base scenario's file as named in the spec (findings use it).
    pub base_file: String,
    pub base_text: String,
    /// The directory the base scenario was read from, where its trace file is looked up; `None`
    /// for a plan rebuilt from a results header (a merge, which runs nothing).
    pub base_dir: Option<PathBuf>,
    pub axes: Vec<Axis>,
    /// Point 0 is the base (no coordinates); then the grid, each point an index per axis.
    pub points: Vec<Option<Vec<usize>>>,
    pub constraints: Vec<Constraint>,
    /// XXH3-64 of everything above and the lbsim version, in hex: shards of different plans
    /// never merge.
    pub hash: String,
}

/// Top-level keys only a sweep spec has: a file with one of them is a spec, not a scenario.
pub const SPEC_KEYS: &[&str] = &[
    "base",
    "master_seed",
    "replications",
    "parameters",
    "objective",
    "constraints",
];

/// Whether `path` is a sweep spec rather than a scenario: a regular file within the scenario
/// size limit holding a JSON object with a key only specs have. Anything else (standard input,
/// a FIFO, a file that is not JSON) is left to the scenario loader to report.
pub fn is_spec(path: &Path) -> bool {
    let readable = std::fs::metadata(path)
        .is_ok_and(|m| m.is_file() && m.len() <= crate::scenario::MAX_SCENARIO_BYTES);
    let text = match readable {
        true => std::fs::read_to_string(path).unwrap_or_default(),
        false => return false,
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(root)) => SPEC_KEYS.iter().any(|k| root.contains_key(*k)),
        _ => false,
    }
}

/// A JSON Schema of sweep spec files (`lbsim schema --sweep`).
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Spec);
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}

/// Most points a sweep may have: a typo in a step should fail, not queue a million runs.
pub const MAX_POINTS: usize = 100_000;
/// Most runs (points × replications) a sweep may have, checked before anything is allocated.
pub const MAX_RUNS: u64 = 1_000_000;
/// Whole numbers a range or random parameter may reach: beyond 2^53 an f64 is no longer exact.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

impl Plan {
    /// Reads the spec and its base scenario.
    pub fn load(spec_path: &Path) -> Result<Plan, SweepError> {
        let bad = |why: String| SweepError::Spec(format!("{}: {why}", spec_path.display()));
        let text =
            input::read_text(spec_path, input::MAX_SCENARIO_BYTES, "sweep spec").map_err(bad)?;
        // an objective with both keys is, to serde, only "expected value"
        let value = serde_json::from_str::<Value>(&text).unwrap_or_default();
        if let Some(o) = value.get("objective").and_then(Value::as_object) {
            if o.len() != 1 {
                let rule = "give exactly one of minimize or maximize";
                return Err(bad(format!("objective: has {} keys: {rule}", o.len())));
            }
        }
        // the error names where in the spec it is (`parameters[0].range.step`), as findings do
        let mut de = serde_json::Deserializer::from_str(&text);
        let spec: Spec = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner().to_string();
            match path.as_str() {
                "." => bad(inner),
                _ => bad(format!("{path}: {inner}")),
            }
        })?;
        let base_path = spec_path
            .parent()
            .unwrap_or(Path::new("."))
            .join(&spec.base);
        let base_text = input::read_text(&base_path, input::MAX_SCENARIO_BYTES, "scenario")
            .map_err(|e| SweepError::Spec(format!("{}: {e}", base_path.display())))?;
        let name = spec.name.clone().unwrap_or_else(|| {
            spec_path
                .file_stem()
                .map_or("sweep".into(), |s| s.to_string_lossy().into_owned())
        });
        let plan = Plan::new(
            Spec {
                name: Some(name),
                ..spec
            },
            base_text,
        )
        .map_err(|e| match e {
            SweepError::Spec(why) => bad(why),
            e => e,
        })?;
        Ok(Plan {
            base_dir: Some(base_path.parent().unwrap_or(Path::new(".")).to_path_buf()),
            ..plan
        })
    }

    /// Expands a spec whose base scenario text is `base_text`.
    pub fn new(spec: Spec, base_text: String) -> Result<Plan, SweepError> {
        let bad = |why: String| Err(SweepError::Spec(why));
        if spec.replications == 0 {
            return bad("replications: 0: must be at least 1".into());
        }
        if let Some(d) = spec.duration_s {
            let max = crate::scenario::MAX_DURATION_S;
            if !(d.is_finite() && d > 0.0 && d <= max) {
                let d = crate::text::number(d);
                return bad(format!("duration_s: {d} is outside (0, {max}] seconds"));
            }
        }
        if spec.parameters.is_empty() {
            return bad("parameters: give at least one".into());
        }
        let mut axes = Vec::new();
        for (i, p) in spec.parameters.iter().enumerate() {
            let values = expand(p, spec.master_seed, i as u64)
                .map_err(|why| SweepError::Spec(format!("parameters[{i}] ({}): {why}", p.path)))?;
            patch::parse_assignment(&format!("{}=0", p.path))
                .map_err(|why| SweepError::Spec(format!("parameters[{i}]: {why}")))?;
            let labels = match &p.labels {
                Some(l) if l.len() == values.len() => l.clone(),
                Some(l) => {
                    return bad(format!(
                        "parameters[{i}] ({}): {} labels for {} values",
                        p.path,
                        l.len(),
                        values.len()
                    ))
                }
                None => values.iter().map(show_value).collect(),
            };
            axes.push(Axis {
                path: p.path.clone(),
                name: p
                    .name
                    .clone()
                    .unwrap_or_else(|| short_path(&p.path).to_string()),
                values,
                labels,
            });
        }
        let grid: usize = axes
            .iter()
            .try_fold(1usize, |n, a| n.checked_mul(a.values.len()))
            .filter(|&n| n <= MAX_POINTS)
            .ok_or_else(|| {
                let counts: Vec<String> = axes.iter().map(|a| a.values.len().to_string()).collect();
                SweepError::Spec(format!(
                    "parameters: {} values give more than {MAX_POINTS} points",
                    counts.join(" × ")
                ))
            })?;
        let runs = (grid as u64 + 1).saturating_mul(u64::from(spec.replications));
        if runs > MAX_RUNS {
            return bad(format!(
                "replications: {} points × {} replications = {runs} runs, more than {MAX_RUNS}",
                grid + 1,
                spec.replications
            ));
        }
        let mut points = vec![None];
        for mut k in 0..grid {
            let mut coords = vec![0; axes.len()];
            for (c, a) in coords.iter_mut().zip(&axes).rev() {
                *c = k % a.values.len();
                k /= a.values.len();
            }
            points.push(Some(coords));
        }
        let constraints = spec
            .constraints
            .iter()
            .enumerate()
            .map(|(i, c)| {
                Constraint::parse(c).map_err(|why| {
                    SweepError::Spec(format!(
                        "constraints[{i}] {:?}: {why}",
                        crate::text::excerpt(c, 80)
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let canonical = serde_json::json!({
            "lbsim": env!("CARGO_PKG_VERSION"),
            "spec": spec,
            "base": base_text,
            "axes": axes.iter().map(|a| serde_json::json!([a.path, a.values, a.labels])).collect::<Vec<_>>(),
        });
        let hash = format!(
            "{:016x}",
            xxhash_rust::xxh3::xxh3_64(canonical.to_string().as_bytes())
        );
        Ok(Plan {
            name: spec.name.clone().unwrap_or_else(|| "sweep".into()),
            base_file: spec.base.clone(),
            spec,
            base_text,
            base_dir: None,
            axes,
            points,
            constraints,
            hash,
        })
    }

    pub fn runs(&self) -> u64 {
        self.points.len() as u64 * u64::from(self.spec.replications)
    }

    /// (point, replication) of a run.
    pub fn locate(&self, run: u64) -> (usize, u32) {
        let r = u64::from(self.spec.replications);
        ((run / r) as usize, (run % r) as u32)
    }

    /// The `--set` changes that turn the base scenario into `point`.
    pub fn settings(&self, point: usize) -> Vec<Setting> {
        self.points[point]
            .iter()
            .flat_map(|coords| coords.iter().zip(&self.axes))
            .map(|(&c, a)| Setting {
                path: a.path.clone(),
                value: a.values[c].clone(),
            })
            .collect()
    }

    /// A short human name: `base`, or `name=label, …`.
    pub fn label(&self, point: usize) -> String {
        match &self.points[point] {
            None => "base".into(),
            Some(coords) => coords
                .iter()
                .zip(&self.axes)
                .map(|(&c, a)| format!("{}={}", a.name, a.labels[c]))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// The run's seed: ChaCha8 seeded with the master seed, stream = run index. Never depends on
/// shard, thread or order.
pub fn run_seed(master_seed: u64, run: u64) -> u64 {
    let mut rng = ChaCha8Rng::seed_from_u64(master_seed);
    rng.set_stream(run);
    rng.next_u64()
}

/// The last two segments of a JSON path: enough to tell parameters apart in a chart.
fn short_path(path: &str) -> &str {
    match path.rmatch_indices('.').nth(1) {
        Some((i, _)) => &path[i + 1..],
        None => path,
    }
}

/// A value as a chart or table shows it: strings bare, arrays by length, the rest as JSON.
fn show_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!("[{} items]", items.len()),
        v => v.to_string(),
    }
}

fn expand(p: &Parameter, master_seed: u64, index: u64) -> Result<Vec<Value>, String> {
    let values = match (&p.values, &p.range, &p.random) {
        (Some(v), None, None) => v.clone(),
        (None, Some(r), None) => {
            if !(r.step > 0.0 && r.step.is_finite() && r.from.is_finite() && r.to >= r.from) {
                return Err("range needs a positive step and to >= from".into());
            }
            // counted in f64 first: a count beyond u64 must not wrap to "no values"
            let count = ((r.to - r.from) / r.step + 1e-9).floor() + 1.0;
            if count.is_nan() || count > MAX_POINTS as f64 {
                let count = crate::text::number(count);
                return Err(format!(
                    "range gives {count} values, more than {MAX_POINTS}"
                ));
            }
            let n = count as u64;
            let whole = r.from.fract() == 0.0 && r.step.fract() == 0.0;
            if whole && (r.from.abs() > MAX_EXACT || r.to.abs() > MAX_EXACT) {
                return Err(format!("whole numbers beyond ±{MAX_EXACT} are not exact"));
            }
            (0..n)
                .map(|k| {
                    let x = r.from + k as f64 * r.step;
                    if whole {
                        Value::from(x as i64)
                    } else {
                        Value::from(x)
                    }
                })
                .collect()
        }
        (None, None, Some(r)) => {
            if !((r.to - r.from).is_finite() && r.to >= r.from && r.samples > 0) {
                return Err(format!(
                    "random needs from <= to, a finite span to - from ({}) and samples >= 1",
                    crate::text::number(r.to - r.from)
                ));
            }
            if r.samples as usize > MAX_POINTS {
                return Err(format!("samples: {} is more than {MAX_POINTS}", r.samples));
            }
            if r.integer && (r.from.abs() > MAX_EXACT || r.to.abs() > MAX_EXACT) {
                return Err(format!("whole numbers beyond ±{MAX_EXACT} are not exact"));
            }
            // stream 2^63 + index: never one a run uses
            let mut rng = ChaCha8Rng::seed_from_u64(master_seed);
            rng.set_stream((1 << 63) | index);
            let mut xs: Vec<f64> = (0..r.samples)
                .map(|_| {
                    let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                    let x = r.from + u * (r.to - r.from);
                    if r.integer {
                        x.round()
                    } else {
                        x
                    }
                })
                .collect();
            xs.sort_by(f64::total_cmp);
            xs.dedup();
            xs.into_iter()
                .map(|x| {
                    if r.integer {
                        Value::from(x as i64)
                    } else {
                        Value::from(x)
                    }
                })
                .collect()
        }
        _ => return Err("give exactly one of values, range or random".into()),
    };
    if values.is_empty() {
        return Err("has no values".into());
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn param(v: Value) -> Parameter {
        serde_json::from_value(v).unwrap()
    }

    /// Sizes are bounded before anything is allocated, and counts never wrap.
    #[test]
    fn sizes_are_bounded_up_front() {
        let err = |v: Value| expand(&param(v), 1, 0).unwrap_err();
        let huge = err(json!({"path": "a", "range": {"from": 0, "to": 1e300, "step": 1e-300}}));
        assert!(huge.contains("more than 100000"), "{huge}");
        let samples =
            err(json!({"path": "a", "random": {"from": 0, "to": 1, "samples": 4000000000u32}}));
        assert!(samples.contains("more than 100000"), "{samples}");
        let inexact = err(json!({"path": "a", "range": {"from": 1e19, "to": 1e19, "step": 1}}));
        assert!(inexact.contains("not exact"), "{inexact}");
        // the span overflowed: every sample was infinite or NaN, written as null
        let span =
            err(json!({"path": "a", "random": {"from": -1.7e308, "to": 1.7e308, "samples": 3}}));
        assert!(span.contains("a finite span to - from (inf)"), "{span}");
        let spec = |extra: Value| -> Spec {
            let mut v = json!({"base": "b.json", "master_seed": 1, "replications": 1,
                "parameters": [{"path": "a", "values": [1, 2, 3]}],
                "objective": {"minimize": "summary.failed"}});
            for (k, x) in extra.as_object().unwrap() {
                v[k] = x.clone();
            }
            serde_json::from_value(v).unwrap()
        };
        let runs = Plan::new(spec(json!({"replications": 300000})), String::new());
        assert!(matches!(runs, Err(SweepError::Spec(e)) if e.contains("1200000 runs")));
        let long = Plan::new(spec(json!({"duration_s": 1e19})), String::new());
        assert!(matches!(long, Err(SweepError::Spec(e)) if e.contains("outside (0, 604800]")));
        // messages name the path and the value
        let none = Plan::new(spec(json!({"replications": 0})), String::new());
        assert!(
            matches!(none, Err(SweepError::Spec(e)) if e == "replications: 0: must be at least 1")
        );
        let mut constraint = "summary.failed <= ".to_string() + &"1".repeat(100_000);
        constraint.push('(');
        let quoted = Plan::new(
            spec(json!({"constraints": ["summary.failed <= 1", constraint]})),
            String::new(),
        );
        let expected = format!("constraints[1] \"summary.failed <= {}…\"", "1".repeat(62));
        assert!(
            matches!(&quoted, Err(SweepError::Spec(e)) if e.starts_with(&expected) && e.len() < 200),
            "{quoted:?}"
        );
        let axes: Vec<Value> = (0..3)
            .map(|i| json!({"path": format!("a{i}"), "range": {"from": 1, "to": 100, "step": 1}}))
            .collect();
        let grid = Plan::new(spec(json!({"parameters": axes})), String::new());
        assert!(
            matches!(&grid, Err(SweepError::Spec(e)) if e == "parameters: 100 × 100 × 100 values give more than 100000 points"),
            "{grid:?}"
        );
    }

    #[test]
    fn ranges_are_inclusive_and_integer_when_whole() {
        let p = param(json!({"path": "a", "range": {"from": 30, "to": 120, "step": 30}}));
        assert_eq!(
            expand(&p, 1, 0).unwrap(),
            [json!(30), json!(60), json!(90), json!(120)]
        );
        let p = param(json!({"path": "a", "range": {"from": 0.5, "to": 1.0, "step": 0.25}}));
        assert_eq!(
            expand(&p, 1, 0).unwrap(),
            [json!(0.5), json!(0.75), json!(1.0)]
        );
        let p = param(json!({"path": "a", "range": {"from": 1, "to": 0, "step": 1}}));
        assert!(expand(&p, 1, 0).is_err());
    }

    #[test]
    fn random_samples_depend_on_the_master_seed_only() {
        let p = param(
            json!({"path": "a", "random": {"from": 1, "to": 100, "samples": 5, "integer": true}}),
        );
        let a = expand(&p, 7, 0).unwrap();
        assert_eq!(a, expand(&p, 7, 0).unwrap());
        assert_ne!(a, expand(&p, 8, 0).unwrap());
        assert!(a.iter().all(|v| (1..=100).contains(&v.as_i64().unwrap())));
        assert!(a.windows(2).all(|w| w[0].as_i64() < w[1].as_i64()));
    }

    #[test]
    fn run_seeds_differ_per_run_and_master_seed() {
        assert_eq!(run_seed(1, 5), run_seed(1, 5));
        assert_ne!(run_seed(1, 5), run_seed(1, 6));
        assert_ne!(run_seed(1, 5), run_seed(2, 5));
    }

    #[test]
    fn short_paths_keep_two_segments() {
        assert_eq!(
            short_path("pool.slow_start.duration"),
            "slow_start.duration"
        );
        assert_eq!(short_path("seed"), "seed");
    }
}
