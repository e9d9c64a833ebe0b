//! Running a plan's runs and the `results.jsonl` file they land in.
//!
//! Line 1 is a [`Header`] (plan hash, version, shard, and the spec and base scenario text, so a
//! merge needs nothing else); every other line is one finished [`RunRecord`], appended and
//! flushed as soon as the run ends: a crash loses at most the runs in flight. Statistics are
//! only ever computed from lines read back from such files, so a sweep, a resumed sweep and a
//! merge of shards all aggregate the very same bytes.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::plan::{run_seed, Plan, Spec};
use super::{Inputs, SweepError};
use crate::metrics::new_histogram;
use crate::pipeline;
use crate::report::Report;
use crate::sim::{Limits, SimConfig};

/// Which runs this process does: those with `run % count == index` (round robin, so costly
/// regions of the grid spread over all shards).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Variables batch schedulers set to an array task's index: Kubernetes Indexed Jobs,
    /// Slurm job arrays, AWS Batch array jobs (first one set wins).
    pub const INDEX_VARIABLES: [&'static str; 3] = [
        "JOB_COMPLETION_INDEX",
        "SLURM_ARRAY_TASK_ID",
        "AWS_BATCH_JOB_ARRAY_INDEX",
    ];

    /// Parses `INDEX/COUNT`, or `env/COUNT` with the index from [`Shard::INDEX_VARIABLES`]
    /// (looked up with `var`, so tests need no process environment).
    pub fn parse(text: &str, var: impl Fn(&str) -> Option<String>) -> Result<Shard, String> {
        let (index, count) = text
            .split_once('/')
            .ok_or_else(|| format!("{text:?} is not INDEX/COUNT"))?;
        let count: u32 = count
            .parse()
            .map_err(|_| format!("shard count {count:?} is not a number"))?;
        let index: u32 = if index == "env" {
            let (name, value) = Self::INDEX_VARIABLES
                .iter()
                .find_map(|n| var(n).map(|v| (*n, v)))
                .ok_or_else(|| {
                    format!(
                        "--shard env/…: none of {} is set",
                        Self::INDEX_VARIABLES.join(", ")
                    )
                })?;
            value
                .trim()
                .parse()
                .map_err(|_| format!("{name}={value:?} is not a shard index"))?
        } else {
            index
                .parse()
                .map_err(|_| format!("shard index {index:?} is not a number"))?
        };
        if count == 0 || index >= count {
            return Err(format!(
                "shard {index}/{count}: the index must be below the count"
            ));
        }
        Ok(Shard { index, count })
    }

    pub fn owns(&self, run: u64) -> bool {
        run % u64::from(self.count) == u64::from(self.index)
    }
}

/// First line of `results.jsonl`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Header {
    pub plan_hash: String,
    pub lbsim: String,
    pub runs: u64,
    pub shard: Shard,
    pub spec: Spec,
    pub base_text: String,
}

impl Header {
    pub fn new(plan: &Plan, shard: Shard) -> Header {
        Header {
            plan_hash: plan.hash.clone(),
            lbsim: env!("CARGO_PKG_VERSION").into(),
            runs: plan.runs(),
            shard,
            spec: plan.spec.clone(),
            base_text: plan.base_text.clone(),
        }
    }
}

/// What one run leaves behind: the report's summary metrics flattened to dotted paths, the
/// latency distribution (for the percentile chart) and the per-member request counts per timeline bucket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub run: u64,
    pub point: usize,
    pub replication: u32,
    /// Replays the run alone: `lbsim run BASE --set … --seed SEED`.
    pub seed: u64,
    pub metrics: BTreeMap<String, f64>,
    /// `[latency_ns, count]` of completed requests, at two significant digits.
    pub latency_ns: Vec<(u64, u64)>,
    pub bucket_s: f64,
    /// Start of the first bucket (the end of warmup), seconds.
    pub start_s: f64,
    /// Requests per bucket, by member id.
    pub timeline: BTreeMap<String, Vec<u64>>,
}

/// Simulates one run of the plan.
pub fn simulate(plan: &Plan, inputs: &Inputs, run: u64) -> Result<RunRecord, SweepError> {
    let (point, replication) = plan.locate(run);
    let config = super::point_config(plan, inputs, point).map_err(|e| {
        SweepError::Run(format!(
            "run {run} ({}): {}",
            plan.label(point),
            e.join("; ")
        ))
    })?;
    let config = SimConfig {
        seed: run_seed(plan.spec.master_seed, run),
        ..config
    };
    let ran = pipeline::simulate(&config, Limits::default(), ())
        .map_err(|e| SweepError::Run(format!("run {run} ({}): {e}", plan.label(point))))?;
    let report = ran.report(&config);
    let mut coarse = new_histogram(2);
    for v in ran.recorder.latency.iter_recorded() {
        coarse.saturating_record_n(v.value_iterated_to(), v.count_at_value());
    }
    Ok(RunRecord {
        run,
        point,
        replication,
        seed: config.seed,
        metrics: summary_metrics(&report),
        latency_ns: coarse
            .iter_recorded()
            .map(|v| {
                (
                    coarse.highest_equivalent(v.value_iterated_to()),
                    v.count_at_value(),
                )
            })
            .collect(),
        bucket_s: report.timeline.bucket_s,
        start_s: report.timeline.start_s,
        timeline: report
            .timeline
            .members
            .into_iter()
            .map(|(k, s)| (k, s.requests))
            .collect(),
    })
}

/// Every number under the report's `summary`, keyed `summary.a.b`: the objective and constraint
/// vocabulary is exactly the JSON report's, with every status code of
/// [`crate::metrics::status::NAMES`] present.
pub fn summary_metrics(report: &Report) -> BTreeMap<String, f64> {
    fn walk(prefix: String, v: &serde_json::Value, out: &mut BTreeMap<String, f64>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    walk(format!("{prefix}.{k}"), v, out);
                }
            }
            v => {
                if let Some(x) = v.as_f64() {
                    out.insert(prefix, x);
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    let v = crate::json::value(&report.summary);
    walk("summary".into(), &v, &mut out);
    // the report lists the status codes seen; every run names them all, so a code is a metric
    // of every run and point (0 where it was not seen)
    for code in crate::metrics::status::NAMES {
        out.entry(format!("summary.status_codes.{code}"))
            .or_insert(0.0);
    }
    out
}

/// The runs already in a results file: its header and every complete, parseable line.
pub struct Existing {
    pub header: Header,
    pub records: Vec<RunRecord>,
}

/// The largest results file read: twice the results a plan may hold in memory
/// ([`crate::scenario::lower::MAX_MEMORY_BYTES`]), as JSON text takes more bytes than the numbers.
pub const MAX_RESULTS_BYTES: u64 = 2 * crate::scenario::lower::MAX_MEMORY_BYTES;

/// Reads `results.jsonl` (a regular file within [`MAX_RESULTS_BYTES`]). A last line cut short
/// by a crash (without its newline) is dropped, whatever its bytes, even a character cut in half;
/// anything else broken is an error.
pub fn read(path: &Path) -> Result<Existing, SweepError> {
    let bad = |why: String| SweepError::Results(format!("{}: {why}", path.display()));
    let bytes = crate::scenario::input::read(path, MAX_RESULTS_BYTES, "results").map_err(bad)?;
    let mut lines = bytes
        .split_inclusive(|b| *b == b'\n')
        .filter(|l| l.ends_with(b"\n"));
    let header: Header = lines
        .next()
        .and_then(|l| serde_json::from_slice(l).ok())
        .ok_or_else(|| bad("line 1 is not a sweep results header".into()))?;
    let mut records = Vec::new();
    for (i, line) in lines.enumerate() {
        let record = serde_json::from_slice::<RunRecord>(line);
        records.push(record.map_err(|e| bad(format!("line {}: {e}", i + 2)))?);
    }
    Ok(Existing { header, records })
}

/// Records a shard's file may hold: runs of the plan, with the point and replication the plan
/// gives them, that the shard owns, each once. `--resume` and `merge` both check this.
pub fn check_records(
    plan: &Plan,
    shard: Shard,
    records: &[RunRecord],
    path: &Path,
) -> Result<(), SweepError> {
    let bad = |why: String| Err(SweepError::Results(format!("{}: {why}", path.display())));
    let mut seen = std::collections::BTreeSet::new();
    for r in records {
        if r.run >= plan.runs() {
            return bad(format!(
                "run {} is beyond the plan's {} runs",
                r.run,
                plan.runs()
            ));
        }
        let (point, replication) = plan.locate(r.run);
        if (point, replication) != (r.point, r.replication) {
            return bad(format!(
                "run {} is recorded as point {} replication {}; the plan has point {point} \
                 replication {replication}",
                r.run, r.point, r.replication
            ));
        }
        if !shard.owns(r.run) {
            return bad(format!(
                "run {} is not one of shard {}/{}'s",
                r.run, shard.index, shard.count
            ));
        }
        if !seen.insert(r.run) {
            return bad(format!("run {} is recorded twice", r.run));
        }
    }
    Ok(())
}

/// `results.jsonl` text: the header and the records sorted by run.
pub fn render(header: &Header, records: &[RunRecord]) -> String {
    let mut out = crate::json::line(header);
    for r in records {
        out.push_str(&crate::json::line(r));
    }
    out
}

/// Runs this shard's unfinished runs in parallel, appending each to `DIR/results.jsonl` as it
/// ends, then rewrites the file sorted by run. `resume` keeps the runs a matching file already
/// holds; without it an existing file is an error (it might be another sweep's).
/// `progress(done, total)` is called after each run. Returns every record of the shard.
pub fn execute(
    plan: &Plan,
    inputs: &Inputs,
    dir: &Path,
    shard: Shard,
    resume: bool,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Vec<RunRecord>, SweepError> {
    let path = dir.join("results.jsonl");
    let io = |e: std::io::Error| SweepError::Results(format!("{}: {e}", path.display()));
    fs_err::create_dir_all(dir).map_err(io)?;
    let header = Header::new(plan, shard);
    let mut done: Vec<RunRecord> = Vec::new();
    if path.exists() {
        if !resume {
            return Err(SweepError::Results(format!(
                "{} exists: pass --resume to continue it, or choose another --out",
                path.display()
            )));
        }
        let existing = read(&path)?;
        if existing.header.plan_hash != plan.hash || existing.header.shard != shard {
            return Err(SweepError::Results(format!(
                "{} belongs to another plan or shard (plan {}, shard {}/{}); this is plan {}, shard {}/{}",
                path.display(),
                existing.header.plan_hash,
                existing.header.shard.index,
                existing.header.shard.count,
                plan.hash,
                shard.index,
                shard.count
            )));
        }
        check_records(plan, shard, &existing.records, &path)?;
        done = existing.records;
    }
    done.sort_by_key(|r| r.run);
    // drop a torn last line before appending after it
    crate::output::write_atomic(&path, render(&header, &done).as_bytes()).map_err(io)?;
    let finished: std::collections::BTreeSet<u64> = done.iter().map(|r| r.run).collect();
    let todo: Vec<u64> = (0..plan.runs())
        .filter(|&r| shard.owns(r) && !finished.contains(&r))
        .collect();
    let total = (0..plan.runs()).filter(|&r| shard.owns(r)).count() as u64;
    let count = AtomicU64::new(finished.len() as u64);
    progress(finished.len() as u64, total);
    let file = fs_err::OpenOptions::new()
        .append(true)
        .open(&path)
        .map_err(io)?;
    let file = Mutex::new(file);
    let fresh: Vec<RunRecord> = todo
        .par_iter()
        .map(|&run| {
            let record = simulate(plan, inputs, run)?;
            let text = crate::json::line(&record);
            {
                let mut f = file
                    .lock()
                    .map_err(|_| SweepError::Results("a results writer panicked".into()))?;
                f.write_all(text.as_bytes()).map_err(io)?;
                f.flush().map_err(io)?;
            }
            progress(count.fetch_add(1, Ordering::Relaxed) + 1, total);
            // what the file holds, not the in-memory floats
            serde_json::from_str(&text).map_err(|e| SweepError::Results(e.to_string()))
        })
        .collect::<Result<_, SweepError>>()?;
    done.extend(fresh);
    done.sort_by_key(|r| r.run);
    crate::output::write_atomic(&path, render(&header, &done).as_bytes()).map_err(io)?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_from_text_or_the_schedulers_variable() {
        let none = |_: &str| None;
        assert_eq!(Shard::parse("1/3", none), Ok(Shard { index: 1, count: 3 }));
        assert!(Shard::parse("3/3", none).is_err());
        assert!(Shard::parse("0/0", none).is_err());
        assert!(Shard::parse("env/4", none)
            .unwrap_err()
            .contains("JOB_COMPLETION_INDEX"));
        let slurm = |n: &str| (n == "SLURM_ARRAY_TASK_ID").then(|| "2".to_string());
        assert_eq!(
            Shard::parse("env/4", slurm),
            Ok(Shard { index: 2, count: 4 })
        );
        assert!(Shard::parse("env/2", slurm).is_err());
    }

    #[test]
    fn shards_split_runs_round_robin() {
        let s = Shard { index: 1, count: 3 };
        let owned: Vec<u64> = (0..8).filter(|&r| s.owns(r)).collect();
        assert_eq!(owned, [1, 4, 7]);
    }
}
