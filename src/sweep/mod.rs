//! `lbsim sweep`: many variants of one scenario, run in parallel, aggregated and ranked, with
//! the best configuration written as the vendor API calls that apply it.
//!
//! Flow: [`Plan::load`] expands the spec into numbered runs; [`prepare`] validates and lowers
//! every point before anything runs (each run lowers its point again, [`point_config`]); [`results::execute`] runs one shard's runs with rayon,
//! appending each to `results.jsonl`; [`finish`] aggregates a complete set of records into
//! `summary.json`, `report.md` and `report.html`. [`merge`] does the same from shard
//! directories. Determinism: a run is a pure function of (plan, run index), and aggregation
//! reads only the records' JSON, so thread count, shard layout and resumes never change a byte
//! of the summary or reports.

pub mod aggregate;
pub mod apply;
mod expr;
pub mod plan;
mod report;
pub mod results;
mod tie;

pub use aggregate::{summarise, SweepSummary};
pub use plan::{is_spec, json_schema, Plan, Spec};
pub use report::headline;
pub use results::{RunRecord, Shard, MAX_RESULTS_BYTES};

use std::path::{Path, PathBuf};

use crate::pipeline::{self, Overrides, Source};
use crate::scenario::{self, Finding};
use crate::sim::{self, Limits, SimConfig};
use crate::time::SimTime;

/// Why a sweep stopped. `Invalid` carries the validator's findings for every bad point.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("{0}")]
    Spec(String),
    #[error("{}", .0.join("\n"))]
    Invalid(Vec<String>),
    #[error("{0}")]
    Run(String),
    #[error("{0}")]
    Results(String),
}

/// What the runs of a plan share: the trace files their scenarios replay, each read once.
#[derive(Default)]
pub struct Inputs {
    traces: scenario::trace::Cache,
}

/// Validates and lowers every point (point 0 is the base) before any run starts, so a bad value
/// in the last point fails in a second, not after hours. Also checks that the objective and the
/// constraints name metrics the report has. Configurations are lowered again for each run
/// ([`point_config`]) rather than kept; a replayed trace is read once and shared by them all.
pub fn prepare(plan: &Plan) -> Result<Inputs, SweepError> {
    let inputs = Inputs::default();
    // each problem once, with the points that have it (a bad parameter path fails every point)
    let mut problems: Vec<(String, Vec<usize>)> = Vec::new();
    let mut known = Vec::new();
    let mut held = 0u64;
    for point in 0..plan.points.len() {
        match point_config(plan, &inputs, point) {
            Ok(c) => {
                held = held.saturating_add(record_bytes(&c));
                if point == 0 {
                    known = metric_names(&c);
                }
            }
            Err(errors) => {
                for e in errors {
                    match problems.iter_mut().find(|(p, _)| *p == e) {
                        Some((_, points)) => points.push(point),
                        None => problems.push((e, vec![point])),
                    }
                }
            }
        }
    }
    let held = held.saturating_mul(u64::from(plan.spec.replications));
    let limit = crate::scenario::lower::MAX_MEMORY_BYTES;
    if held > limit {
        problems.push((
            format!(
                "the sweep's {} runs would hold about {} MiB of results, more than the limit of \
                 {} MiB: use fewer points or replications, or a shorter duration_s",
                plan.runs(),
                held >> 20,
                limit >> 20
            ),
            Vec::new(),
        ));
    }
    if !problems.is_empty() {
        let lines = problems.into_iter().map(|(e, points)| match points[..] {
            [] => e,
            [point] => format!("point {point} ({}): {e}", plan.label(point)),
            _ => format!("points {}: {e}", ranges(&points)),
        });
        return Err(SweepError::Invalid(lines.collect()));
    }
    let mut named = vec![plan.spec.objective.metric()];
    named.extend(plan.constraints.iter().flat_map(|c| c.metrics()));
    let unknown: Vec<String> = named
        .into_iter()
        .filter(|m| !known.contains(&m.to_string()))
        .map(|m| {
            format!(
                "{m} is not a report metric; metrics are: {}",
                known.join(", ")
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Err(SweepError::Invalid(unknown));
    }
    Ok(inputs)
}

/// Bytes one run's record takes while the sweep holds it: a count per member (added ones too)
/// and time bucket, and about 16 KiB of latency histogram and the rest.
fn record_bytes(config: &SimConfig) -> u64 {
    let members = config.members_ever();
    let buckets = config.duration.0 / config.bucket.0.max(1) + 1;
    members
        .saturating_mul(buckets.saturating_mul(8).saturating_add(256))
        .saturating_add(16 << 10)
}

/// `lbsim validate` on a sweep spec: everything `lbsim sweep` checks before it runs anything
/// (the spec, its base scenario and every point). `Err` holds each problem as an error finding
/// of the spec file.
pub fn validate_spec(spec: &Path) -> Result<Plan, Vec<Finding>> {
    let file = spec.display().to_string();
    let checked = Plan::load(spec).and_then(|plan| prepare(&plan).map(|_| plan));
    let lines = match checked {
        Ok(plan) => return Ok(plan),
        Err(SweepError::Invalid(lines)) => lines,
        Err(e) => e.to_string().lines().map(str::to_string).collect(),
    };
    let prefix = format!("{file}: ");
    let finding = |line: String| Finding {
        file: file.clone(),
        path: String::new(),
        value: String::new(),
        rule: line
            .strip_prefix(&prefix)
            .map_or(line.clone(), str::to_string),
        code: None,
        severity: scenario::Severity::Error,
    };
    Err(lines.into_iter().map(finding).collect())
}

/// Ascending numbers as runs: `1–4, 7, 9–12`.
fn ranges(numbers: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < numbers.len() {
        let mut j = i;
        while j + 1 < numbers.len() && numbers[j + 1] == numbers[j] + 1 {
            j += 1;
        }
        out.push(match j - i {
            0 => numbers[i].to_string(),
            _ => format!("{}–{}", numbers[i], numbers[j]),
        });
        i = j + 1;
    }
    out.join(", ")
}

/// Point `point`'s scenario (the base with the point's settings), validated, lowered and
/// checked against the work limit; `Err` holds every problem.
pub fn point_config(plan: &Plan, inputs: &Inputs, point: usize) -> Result<SimConfig, Vec<String>> {
    let settings = plan.settings(point);
    let read = |path: &Path| inputs.traces.read(path);
    let source = Source::Text {
        file: &plan.base_file,
        text: &plan.base_text,
        trace: plan
            .base_dir
            .as_deref()
            .map(|dir| (dir, &read as scenario::trace::ReadTrace)),
    };
    let overrides = Overrides {
        seed: None,
        duration_s: plan.spec.duration_s,
    };
    let config = pipeline::prepare(&source, &settings, overrides)
        .map_err(|refusal| refusal.errors())?
        .config;
    match sim::check_work(&config, Limits::default()) {
        Ok(()) => Ok(config),
        Err(sim::SimError::TooMuchWork { estimated, limit }) => Err(vec![format!(
            "the run needs about {estimated} events, more than the limit of {limit}: \
             shorten duration_s or lower the rate"
        )]),
        Err(e) => Err(vec![e.to_string()]),
    }
}

/// The objective and constraint vocabulary: the summary fields of a report, read from a report
/// of a millisecond of the base (so it follows the report format without a second list).
fn metric_names(base: &SimConfig) -> Vec<String> {
    let config = SimConfig {
        duration: SimTime::from_secs_f64(0.001),
        warmup: SimTime(0),
        ..base.clone()
    };
    match pipeline::simulate(&config, Limits::default(), ()) {
        Ok(run) => results::summary_metrics(&run.report(&config))
            .into_keys()
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Aggregates a complete, sorted set of records and writes `summary.json`, `report.md` and
/// `report.html` into `dir` (each atomically). Returns the summary.
pub fn finish(plan: &Plan, records: &[RunRecord], dir: &Path) -> Result<SweepSummary, SweepError> {
    use std::io::Write;
    let summary = summarise(plan, records);
    let files = [
        ("summary.json", crate::json::pretty(&summary)),
        ("report.md", report::markdown(plan, &summary)),
        ("report.html", report::html(plan, &summary, records)),
    ];
    // the three land together or not at all
    let written = files
        .iter()
        .map(|(name, text)| {
            let path = dir.join(name);
            let mut out = crate::output::Pending::new(&path)?;
            out.write_all(text.as_bytes())
                .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            Ok(out)
        })
        .collect::<std::io::Result<Vec<_>>>()
        .and_then(crate::output::commit_all);
    written.map_err(|e| SweepError::Results(e.to_string()))?;
    Ok(summary)
}

/// Combines shard directories: every header must carry the same plan hash, every run of the
/// plan must be present exactly once. Writes the merged `results.jsonl` and the reports into
/// `out`, byte-identical to what an unsharded sweep writes.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<SweepSummary, SweepError> {
    let mut plan: Option<Plan> = None;
    let mut records: Vec<(RunRecord, usize)> = Vec::new();
    for (i, dir) in dirs.iter().enumerate() {
        let path = dir.join("results.jsonl");
        let existing = results::read(&path)?;
        let h = existing.header;
        match &plan {
            None => {
                // the header's spec, checked as a spec file's would be, named by its file
                let p = Plan::new(h.spec, h.base_text)
                    .map_err(|e| SweepError::Results(format!("{}: line 1: {e}", path.display())))?;
                if p.hash != h.plan_hash {
                    return Err(SweepError::Results(format!(
                        "{}: written by another lbsim version (plan hash {} here, {} in the file)",
                        dir.display(),
                        p.hash,
                        h.plan_hash
                    )));
                }
                plan = Some(p);
            }
            Some(p) if p.hash != h.plan_hash => {
                return Err(SweepError::Results(format!(
                    "{}: plan {} differs from {}'s plan {}",
                    dir.display(),
                    h.plan_hash,
                    dirs[0].display(),
                    p.hash
                )))
            }
            Some(_) => {}
        }
        if let Some(p) = &plan {
            let file = dir.join("results.jsonl");
            results::check_records(p, h.shard, &existing.records, &file)?;
        }
        records.extend(existing.records.into_iter().map(|r| (r, i)));
    }
    let plan = plan.ok_or_else(|| SweepError::Results("no directories to merge".into()))?;
    records.sort_by_key(|(r, _)| r.run);
    let mut problems = Vec::new();
    for w in records.windows(2) {
        if w[0].0.run == w[1].0.run {
            problems.push(format!(
                "run {} is in both {} and {}",
                w[0].0.run,
                dirs[w[0].1].display(),
                dirs[w[1].1].display()
            ));
        }
    }
    let present: std::collections::BTreeSet<u64> = records.iter().map(|(r, _)| r.run).collect();
    let missing: Vec<u64> = (0..plan.runs()).filter(|r| !present.contains(r)).collect();
    if !missing.is_empty() {
        let shown: Vec<String> = missing.iter().take(20).map(u64::to_string).collect();
        problems.push(format!(
            "{} of {} runs are missing: {}{}",
            missing.len(),
            plan.runs(),
            shown.join(", "),
            if missing.len() > 20 { ", …" } else { "" }
        ));
    }
    if let Some(r) = records.iter().find(|(r, _)| r.run >= plan.runs()) {
        problems.push(format!(
            "run {} is beyond the plan's {} runs",
            r.0.run,
            plan.runs()
        ));
    }
    if !problems.is_empty() {
        return Err(SweepError::Results(problems.join("\n")));
    }
    let records: Vec<RunRecord> = records.into_iter().map(|(r, _)| r).collect();
    fs_err::create_dir_all(out).map_err(|e| SweepError::Results(e.to_string()))?;
    let header = results::Header::new(&plan, Shard::ALL);
    crate::output::write_atomic(
        &out.join("results.jsonl"),
        results::render(&header, &records).as_bytes(),
    )
    .map_err(|e| SweepError::Results(e.to_string()))?;
    finish(&plan, &records, out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ranges_join_consecutive_numbers() {
        assert_eq!(super::ranges(&[1, 2, 3, 4, 7, 9, 10]), "1–4, 7, 9–10");
        assert_eq!(super::ranges(&[0, 2]), "0, 2");
    }
}
