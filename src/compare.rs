//! `lbsim compare`: one scenario, several configurations, the same random numbers.
//!
//! Each `--set PATH=V1,V2,…` is an axis; the variants are the cartesian product of the axes in
//! odometer order (the first axis varies slowest, the last fastest, as nested loops written in
//! the order the axes were given). Every variant runs with the same seeds — common random
//! numbers — so a difference between two columns comes from the configuration, not from noise.
//!
//! With `replications` > 1 each variant runs on that many independent streams (the same streams
//! for every variant, see [`replication_seed`]) and each key metric is shown as the mean and the
//! half-width of its 95 % Student-t confidence interval, so a difference smaller than the noise
//! reads as noise.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::balancer::MemberIdx;
use crate::model::Tier;
use crate::pipeline::{self, Overrides, Source};
use crate::report::Report;
use crate::scenario::patch::Setting;
use crate::scenario::Finding;
use crate::sim::{Failure, Limits, Notice, NoticeKind};
use crate::stats;
use crate::table::{fits, prose, Column, TextTable, Width};
use crate::text::printable;

/// One `--set`: a JSON path and the values it takes across variants.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub path: String,
    pub values: Vec<Value>,
}

/// Overrides applied to every variant alike.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Options {
    pub seed: Option<u64>,
    pub duration_s: Option<f64>,
    /// Independent runs per variant (≥ 1).
    pub replications: u32,
    pub limits: Limits,
}

/// Why a comparison did not run: lines to print as they are (validator findings name the file,
/// the path, the value and the rule).
#[derive(Debug, PartialEq)]
pub struct Refused(pub Vec<String>);

/// The variants of `axes`: their cartesian product, first axis slowest.
pub fn variants(axes: &[Axis]) -> Vec<Vec<Setting>> {
    axes.iter().fold(vec![Vec::new()], |acc, axis| {
        acc.into_iter()
            .flat_map(|prefix| {
                axis.values.iter().map(move |v| {
                    let mut set = prefix.clone();
                    set.push(Setting {
                        path: axis.path.clone(),
                        value: v.clone(),
                    });
                    set
                })
            })
            .collect()
    })
}

/// The seed of replication `r` of a scenario whose seed is `seed`: replication 0 uses `seed`
/// itself (so one replication reproduces `lbsim run`), replication r > 0 uses XXH3-64 of `r` as
/// 4 big-endian bytes, with `seed` as the hash seed. A function of (seed, r) only, so every
/// variant gets the same streams, and a fixed-by-spec hash, so every machine gets the same ones.
pub fn replication_seed(seed: u64, r: u32) -> u64 {
    if r == 0 {
        seed
    } else {
        xxhash_rust::xxh3::xxh3_64_with_seed(&r.to_be_bytes(), seed)
    }
}

/// A key metric: its JSON key, its label in the text table, and when the table shows its row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metric {
    pub key: &'static str,
    pub label: &'static str,
    pub shown: Shown,
}

/// When the text table shows a metric's row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    Always,
    /// When some variant has a value other than 0 in some row of this group: status codes no
    /// client saw and connection counters of a workload that never drains, cuts, migrates or
    /// drops a connection are left out, so the table shows what happened; rows of one group
    /// come together, so a 0 beside its counterpart (no drain resets against cuts) stays.
    UnlessZero(&'static str),
}

const fn always(key: &'static str, label: &'static str) -> Metric {
    Metric {
        key,
        label,
        shown: Shown::Always,
    }
}

const fn unless_zero(group: &'static str, key: &'static str, label: &'static str) -> Metric {
    Metric {
        key,
        label,
        shown: Shown::UnlessZero(group),
    }
}

/// The metrics the side-by-side table shows, in row order.
pub const METRICS: [Metric; 29] = [
    always("throughput_rps", "throughput req/s"),
    always("client_error_share", "client error share"),
    always("failed", "failed"),
    always("rejected", "rejected"),
    always("reset", "reset"),
    unless_zero("status_499", "status_499", "HTTP 499"),
    unless_zero("status_500", "status_500", "HTTP 500"),
    unless_zero("status_502", "status_502", "HTTP 502"),
    unless_zero("status_503", "status_503", "HTTP 503"),
    unless_zero("status_504", "status_504", "HTTP 504"),
    unless_zero("status_none", "status_none", "no response"),
    always("retries", "retries"),
    always("retried_ok", "retried then ok"),
    always("p50_ms", "p50 ms"),
    always("p99_ms", "p99 ms"),
    always("p999_ms", "p99.9 ms"),
    always("max_member_share", "max member share"),
    always("min_member_share", "min member share"),
    always("cross_az_fraction", "cross-AZ fraction"),
    unless_zero("uris", "distinct_uris", "URIs held (sum)"),
    always("connections_opened", "connections"),
    unless_zero("connections", "connection_cuts", "connections cut"),
    unless_zero("connections", "drain_resets", "drain resets"),
    unless_zero("connections", "migrations", "migrated"),
    unless_zero("connections", "migration_resets", "migration resets"),
    unless_zero("listener", "connections_dropped", "dropped by limits"),
    unless_zero("listener", "idle_closes", "closed idle"),
    always("detection_s", "detection s"),
    always("failover_s", "failover s"),
];

/// One metric of one run: a count (an integer in the JSON) or a measured quantity.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Figure {
    Count(u64),
    Measure(f64),
}

impl Figure {
    pub fn as_f64(self) -> f64 {
        match self {
            Figure::Count(n) => n as f64,
            Figure::Measure(x) => x,
        }
    }
}

/// The key metrics of one run, in [`METRICS`] order; `None` where the run has nothing to measure
/// (no member went down, no backup tier).
pub fn key_metrics(r: &Report) -> [Option<Figure>; METRICS.len()] {
    use Figure::{Count, Measure};
    let s = &r.summary;
    let c = &s.connections;
    let shares = r.members.iter().map(|m| m.share);
    let max_share = shares.clone().fold(0.0, f64::max);
    let min_share = shares.reduce(f64::min).unwrap_or(0.0);
    let code = |c: &str| Some(Count(s.status_codes.get(c).copied().unwrap_or(0)));
    [
        Some(Measure(s.throughput_rps)),
        Some(Measure(s.client_error_share)),
        Some(Count(s.failed)),
        Some(Count(s.rejected)),
        Some(Count(s.reset)),
        code("499"),
        code("500"),
        code("502"),
        code("503"),
        code("504"),
        code("none"),
        Some(Count(s.retries)),
        Some(Count(s.retried_ok)),
        Some(Measure(s.latency_ms.p50)),
        Some(Measure(s.latency_ms.p99)),
        Some(Measure(s.latency_ms.p999)),
        Some(Measure(max_share)),
        Some(Measure(min_share)),
        Some(Measure(s.cross_az_fraction)),
        Some(Count(r.members.iter().map(|m| m.distinct_uris).sum())),
        Some(Count(c.opened)),
        Some(Count(c.cuts)),
        Some(Count(c.drain_resets)),
        Some(Count(c.migrations)),
        Some(Count(c.migration_resets)),
        Some(Count(c.dropped)),
        Some(Count(c.idle_closes)),
        detection_s(r).map(Measure),
        failover_s(r).map(Measure),
    ]
}

// Members are told apart by key, as the report's events name them: a member removed and added
// again under its key is the same member here.

/// The key of member `idx`.
fn key(r: &Report, idx: MemberIdx) -> &str {
    &r.members[idx as usize].id
}

/// The members a crash (`refuse`, `blackhole`, `hang`) or `AzDown` notice took down.
fn crashed<'a>(r: &'a Report, n: &Notice) -> Vec<&'a str> {
    match n.kind {
        NoticeKind::Failing(f) if f.is_crash() => n.member.map(|m| key(r, m)).into_iter().collect(),
        NoticeKind::AzDown(z) => r
            .members
            .iter()
            .filter(|m| m.zone == Some(z))
            .map(|m| m.id.as_str())
            .collect(),
        _ => Vec::new(),
    }
}

/// Mean time from a member crashing to health checks marking it OFFLINE, over the crashes that
/// were detected before the member came back.
pub fn detection_s(r: &Report) -> Option<f64> {
    let mut delays = Vec::new();
    for (i, n) in r.notices.iter().enumerate() {
        for id in crashed(r, n) {
            let later = r.notices[i + 1..]
                .iter()
                .filter(|l| l.member.map(|m| key(r, m)) == Some(id));
            for l in later {
                match l.kind {
                    NoticeKind::HealthOffline => {
                        delays.push(l.at.as_secs_f64() - n.at.as_secs_f64())
                    }
                    NoticeKind::Failing(_) => {}
                    _ => continue,
                }
                break;
            }
        }
    }
    (!delays.is_empty()).then(|| delays.iter().sum::<f64>() / delays.len() as f64)
}

/// For pools with a backup tier (APIG standby, ELB slave): the time from the crash that left no
/// first-tier member (primary, master) running to the instant the last of them is marked
/// OFFLINE, which is when the balancer hands traffic to the backup tier. The first such outage.
pub fn failover_s(r: &Report) -> Option<f64> {
    let first_tier: Vec<&str> = r
        .members
        .iter()
        .filter(|m| matches!(m.tier, Tier::Primary | Tier::Master))
        .map(|m| m.id.as_str())
        .collect();
    let has_backup = r
        .members
        .iter()
        .any(|m| matches!(m.tier, Tier::Standby | Tier::Slave));
    if !has_backup || first_tier.is_empty() {
        return None;
    }
    let mut running = first_tier.clone();
    let mut online = first_tier.clone();
    let mut all_crashed_at = None;
    for n in &r.notices {
        let t = n.at.as_secs_f64();
        let member = n.member.map(|m| key(r, m));
        match n.kind {
            NoticeKind::Failing(Failure::None) | NoticeKind::AzUp(_) => all_crashed_at = None,
            NoticeKind::HealthOffline => online.retain(|m| Some(*m) != member),
            NoticeKind::HealthOnline => online.extend(member.filter(|m| first_tier.contains(m))),
            _ => {}
        }
        match n.kind {
            NoticeKind::Failing(Failure::None) => {
                running.extend(member.filter(|m| first_tier.contains(m)))
            }
            NoticeKind::AzUp(z) => running.extend(
                r.members
                    .iter()
                    .filter(|m| m.zone == Some(z) && first_tier.contains(&m.id.as_str()))
                    .map(|m| m.id.as_str()),
            ),
            _ => {
                let down = crashed(r, n);
                let was_running = !running.is_empty();
                running.retain(|m| !down.contains(m));
                if was_running && running.is_empty() {
                    all_crashed_at = Some(t);
                }
            }
        }
        if let (Some(t0), true) = (all_crashed_at, online.is_empty()) {
            return Some(t - t0);
        }
    }
    None
}

/// Mean and 95 % confidence half-width of one metric over the replications that measured it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Aggregate {
    pub mean: f64,
    /// Half-width of the two-sided 95 % Student-t interval; 0 with fewer than two values.
    pub ci95: f64,
    /// Replications that measured it.
    pub n: usize,
}

impl Aggregate {
    /// `None` when no replication measured the metric.
    pub fn of(values: &[f64]) -> Option<Aggregate> {
        if values.is_empty() {
            return None;
        }
        let mean = stats::mean(values);
        Some(Aggregate {
            mean,
            ci95: stats::ci95(values, mean),
            n: values.len(),
        })
    }
}

/// One run of one variant.
#[derive(Clone, Debug, PartialEq)]
pub struct Replication {
    pub seed: u64,
    pub report: Report,
}

/// One variant and its runs, replication order.
#[derive(Clone, Debug, PartialEq)]
pub struct VariantResult {
    pub set: Vec<Setting>,
    pub runs: Vec<Replication>,
}

impl VariantResult {
    /// The aggregate of each metric in [`METRICS`] order.
    pub fn aggregates(&self) -> Vec<Option<Aggregate>> {
        let all: Vec<_> = self.runs.iter().map(|r| key_metrics(&r.report)).collect();
        (0..METRICS.len())
            .map(|i| {
                let measured: Vec<f64> = all
                    .iter()
                    .filter_map(|m| m[i])
                    .map(Figure::as_f64)
                    .collect();
                Aggregate::of(&measured)
            })
            .collect()
    }
}

/// Every variant's results, variant order.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub variants: Vec<VariantResult>,
    /// Warnings of the variants' validation, each once, first-seen order.
    pub warnings: Vec<String>,
}

/// Loads every variant of `path` (all are validated before any runs), then runs every
/// (variant, replication) pair in parallel, calling `progress(done, total)` as each run ends.
/// Results are collected in variant order, so the output does not depend on the number of
/// threads.
pub fn compare(
    path: &Path,
    axes: &[Axis],
    opts: Options,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Comparison, Refused> {
    for (i, a) in axes.iter().enumerate() {
        if axes[..i].iter().any(|b| b.path == a.path) {
            return Err(Refused(vec![format!(
                "--set {}: the same path is given twice; list its values in one --set",
                a.path
            )]));
        }
    }
    let file = path.display().to_string();
    let sets = variants(axes);
    let overrides = Overrides {
        seed: opts.seed,
        duration_s: opts.duration_s,
    };
    let mut errors = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    let mut configs = Vec::new();
    // a trace is read once and its configurations share it
    let traces = crate::scenario::trace::Cache::default();
    for set in &sets {
        match pipeline::prepare(&Source::Shared(path, &traces), set, overrides) {
            Ok(prepared) => {
                for w in prepared.warnings().map(Finding::to_string) {
                    if !warnings.contains(&w) {
                        warnings.push(w);
                    }
                }
                configs.push(prepared.config);
            }
            Err(refusal) => errors.extend(refusal.lines()),
        }
    }
    if !errors.is_empty() {
        // The same finding from several variants (a path wrong in all of them) is shown once.
        let mut unique = Vec::new();
        for e in errors {
            if !unique.contains(&e) {
                unique.push(e);
            }
        }
        return Err(Refused(unique));
    }
    let reps = opts.replications.max(1);
    let held: u64 = configs.iter().map(report_bytes).sum::<u64>() * u64::from(reps);
    let limit = crate::scenario::lower::MAX_MEMORY_BYTES;
    if held > limit {
        return Err(Refused(vec![format!(
            "{file}: {} variants × {reps} replications would hold about {} MiB of reports, \
             more than the limit of {} MiB: use fewer replications or a shorter duration",
            configs.len(),
            held >> 20,
            limit >> 20
        )]));
    }
    let jobs: Vec<(usize, u32)> = (0..configs.len())
        .flat_map(|v| (0..reps).map(move |r| (v, r)))
        .collect();
    let total = jobs.len() as u64;
    let done = AtomicU64::new(0);
    let runs: Vec<Result<Replication, String>> = jobs
        .par_iter()
        .map(|&(v, r)| {
            let mut cfg = configs[v].clone();
            cfg.seed = replication_seed(cfg.seed, r);
            let run =
                pipeline::simulate(&cfg, opts.limits, ()).map_err(|e| format!("{file}: {e}"))?;
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
            Ok(Replication {
                seed: cfg.seed,
                report: run.report(&cfg),
            })
        })
        .collect();
    let mut runs = runs.into_iter();
    let mut variants = Vec::new();
    for set in sets {
        let mine: Result<Vec<_>, _> = runs.by_ref().take(reps as usize).collect();
        variants.push(VariantResult {
            set,
            runs: mine.map_err(|e| Refused(vec![e]))?,
        });
    }
    Ok(Comparison { variants, warnings })
}

fn label(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[derive(Serialize)]
struct JsonOut<'a> {
    variants: Vec<JsonVariant<'a>>,
}

#[derive(Serialize)]
struct JsonVariant<'a> {
    set: BTreeMap<&'a str, &'a Value>,
    /// One replication: its key metrics; several: their aggregates.
    #[serde(skip_serializing_if = "Option::is_none")]
    metrics: Option<BTreeMap<&'static str, Option<Figure>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<&'a Report>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aggregates: Option<BTreeMap<&'static str, Option<Aggregate>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replications: Option<Vec<JsonReplication<'a>>>,
}

#[derive(Serialize)]
struct JsonReplication<'a> {
    seed: u64,
    metrics: BTreeMap<&'static str, Option<Figure>>,
    report: &'a Report,
}

fn named<T>(values: impl IntoIterator<Item = T>) -> BTreeMap<&'static str, T> {
    METRICS.iter().map(|m| m.key).zip(values).collect()
}

impl Comparison {
    /// `{"variants": [{"set": {PATH: VALUE, …}, "metrics": {…}, "report": <report>}, …]}`; with
    /// several replications each variant holds `aggregates` and `replications` (`seed`,
    /// `metrics`, `report` each) instead of `metrics` and `report`.
    pub fn to_json(&self) -> String {
        let variants = self
            .variants
            .iter()
            .map(|v| {
                let set = v.set.iter().map(|s| (s.path.as_str(), &s.value)).collect();
                if let [only] = v.runs.as_slice() {
                    return JsonVariant {
                        set,
                        metrics: Some(named(key_metrics(&only.report))),
                        report: Some(&only.report),
                        aggregates: None,
                        replications: None,
                    };
                }
                JsonVariant {
                    set,
                    metrics: None,
                    report: None,
                    aggregates: Some(named(v.aggregates())),
                    replications: Some(
                        v.runs
                            .iter()
                            .map(|r| JsonReplication {
                                seed: r.seed,
                                metrics: named(key_metrics(&r.report)),
                                report: &r.report,
                            })
                            .collect(),
                    ),
                }
            })
            .collect();
        crate::json::pretty(&JsonOut { variants })
    }

    /// The side-by-side table: one row per metric, one column per variant (headed by its
    /// values; the paths are named above the table). Cells are `mean ± half-width` with several
    /// replications, `-` where nothing was measured; rows are shown as [`Metric::shown`] says. On a terminal too narrow for every
    /// variant side by side, the variants are shown in blocks, each with the metric labels.
    pub fn to_text(&self, width: Width) -> String {
        let Some(first) = self.variants.first() else {
            return String::new();
        };
        let reps = first.runs.len();
        let report = &first.runs[0].report;
        let paths: Vec<&str> = first.set.iter().map(|s| s.path.as_str()).collect();
        let mut o = prose(
            &format!(
                "scenario {} ({} s), {} variant(s) of {}, seed {}{}",
                printable(&report.scenario.name),
                report.scenario.duration_s,
                self.variants.len(),
                if paths.is_empty() {
                    "nothing".to_string()
                } else {
                    paths.join(" × ")
                },
                report.scenario.seed,
                if reps > 1 {
                    format!(", {reps} replications: mean ± 95 % CI half-width")
                } else {
                    String::new()
                }
            ),
            width,
        );
        let aggregates: Vec<_> = self.variants.iter().map(|v| v.aggregates()).collect();
        let nonzero = |row: usize| {
            aggregates
                .iter()
                .any(|a| a[row].is_some_and(|a| a.mean != 0.0))
        };
        let rows: Vec<usize> = (0..METRICS.len())
            .filter(|&row| match METRICS[row].shown {
                Shown::Always => true,
                Shown::UnlessZero(group) => (0..METRICS.len())
                    .any(|r| METRICS[r].shown == Shown::UnlessZero(group) && nonzero(r)),
            })
            .collect();
        let column = |v: usize| -> (String, Vec<String>) {
            let labels: Vec<String> = self.variants[v]
                .set
                .iter()
                .map(|s| label(&s.value))
                .collect();
            let cells = rows
                .iter()
                .map(|&row| match aggregates[v][row] {
                    None => "-".to_string(),
                    Some(a) if reps > 1 => format!("{} ± {}", fmt(a.mean), fmt(a.ci95)),
                    Some(a) => fmt(a.mean),
                })
                .collect();
            (printable(&labels.join(", ")).into_owned(), cells)
        };
        let columns: Vec<_> = (0..self.variants.len()).map(column).collect();
        let block = |variants: &[(String, Vec<String>)]| {
            let headers = std::iter::once(Column::text("").whole())
                .chain(variants.iter().map(|(h, _)| Column::number(h)));
            let mut t = TextTable::new(headers.collect());
            for (i, &row) in rows.iter().enumerate() {
                let cells = variants.iter().map(|(_, c)| c[i].clone());
                t.push(
                    std::iter::once(METRICS[row].label.to_string())
                        .chain(cells)
                        .collect(),
                );
            }
            t.render(width).text
        };
        // the most variants per block that fit, down to one
        let mut per_block = columns.len();
        let blocks = loop {
            let blocks: Vec<String> = columns.chunks(per_block).map(block).collect();
            if per_block == 1 || blocks.iter().all(|b| fits(b, width)) {
                break blocks;
            }
            per_block -= 1;
        };
        for b in blocks {
            o.push('\n');
            o.push_str(&b);
        }
        o
    }
}

/// Four significant digits at most, integers as integers.
fn fmt(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        format!("{x:.0}")
    } else if x.abs() >= 100.0 {
        format!("{x:.1}")
    } else if x.abs() >= 1.0 {
        format!("{x:.3}")
    } else {
        format!("{x:.4}")
    }
}

/// Bytes one run's report takes while the comparison holds it: two counts per member and time
/// bucket (the timeline), about a kilobyte per member for the rest, and the clients' timeline
/// (requests and at most nine failure causes per bucket).
fn report_bytes(config: &crate::sim::SimConfig) -> u64 {
    let members = config.members_ever();
    let buckets = config.duration.0 / config.bucket.0.max(1) + 1;
    let (_, client_buckets) = crate::metrics::OutcomeTimeline::shape(config);
    members
        .saturating_mul(buckets.saturating_mul(16).saturating_add(1024))
        .saturating_add(client_buckets as u64 * 80)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn variants_are_the_product_first_axis_slowest() {
        let axes = [
            Axis {
                path: "a".into(),
                values: vec![json!(1), json!(2)],
            },
            Axis {
                path: "b".into(),
                values: vec![json!("x"), json!("y"), json!("z")],
            },
        ];
        let got: Vec<Vec<String>> = variants(&axes)
            .iter()
            .map(|v| {
                v.iter()
                    .map(|s| format!("{}={}", s.path, s.value))
                    .collect()
            })
            .collect();
        let want = [
            ["a=1", "b=\"x\""],
            ["a=1", "b=\"y\""],
            ["a=1", "b=\"z\""],
            ["a=2", "b=\"x\""],
            ["a=2", "b=\"y\""],
            ["a=2", "b=\"z\""],
        ];
        assert_eq!(got, want);
        assert_eq!(variants(&[]), vec![Vec::new()]);
    }

    #[test]
    fn replication_zero_is_the_scenario_seed_and_others_differ() {
        assert_eq!(replication_seed(42, 0), 42);
        let seeds: std::collections::BTreeSet<u64> =
            (0..100).map(|r| replication_seed(42, r)).collect();
        assert_eq!(seeds.len(), 100);
        assert_ne!(replication_seed(42, 1), replication_seed(43, 1));
    }

    #[test]
    fn aggregate_is_mean_and_t_half_width() {
        let a = Aggregate::of(&[1.0, 2.0, 3.0]).unwrap();
        assert_eq!(a.mean, 2.0);
        // s = 1, n = 3: 4.303 / sqrt(3)
        assert!((a.ci95 - 4.303 / 3f64.sqrt()).abs() < 1e-12);
        assert_eq!(Aggregate::of(&[5.0]).unwrap().ci95, 0.0);
        assert_eq!(Aggregate::of(&[]), None);
    }
}
