//! Per-point statistics across replications, feasibility and ranking: the content of
//! `summary.json`. A pure function of the plan and the run records sorted by run, so every way
//! of producing the same records (one machine, shards, resume) gives the same bytes.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

use super::apply::{self, Recommendation};
use super::plan::{Objective, Plan};
use super::results::RunRecord;
use super::tie;
use crate::stats;

/// Mean and 95 % confidence half-width (Student t, n − 1 degrees of freedom) over replications.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Stat {
    pub mean: f64,
    /// 0 with a single replication (no spread to estimate).
    pub ci95: f64,
    pub n: u32,
    /// Sample standard deviation, for the tie rule (the CI already tells readers the spread).
    #[serde(skip)]
    pub sd: f64,
}

impl Stat {
    pub fn of(xs: &[f64]) -> Stat {
        let mean = stats::mean(xs);
        Stat {
            mean,
            ci95: stats::ci95(xs, mean),
            n: xs.len() as u32,
            sd: stats::sd(xs, mean),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ParameterSummary {
    pub path: String,
    pub values: Vec<Value>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PointSummary {
    pub point: usize,
    pub label: String,
    /// The point's value per parameter path (empty for the base).
    pub settings: BTreeMap<String, Value>,
    /// 1 = best. Feasible points first, then by objective mean, then by point number.
    pub rank: usize,
    pub feasible: bool,
    /// The constraints the point's means break.
    pub violations: Vec<String>,
    pub objective: Stat,
    /// Seeds of the point's runs, by replication: each replays with `lbsim run --seed`.
    pub seeds: Vec<u64>,
    pub metrics: BTreeMap<String, Stat>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ObjectiveSummary {
    pub goal: &'static str,
    pub metric: String,
}

/// The recommended point sits on the first or last value of a numeric parameter: the optimum
/// may lie outside the range searched.
#[derive(Clone, Debug, Serialize)]
pub struct Edge {
    pub parameter: String,
    pub value: String,
    /// `lowest` or `highest` value searched.
    pub side: &'static str,
}

/// `summary.json`.
#[derive(Clone, Debug, Serialize)]
pub struct SweepSummary {
    pub sweep: String,
    pub lbsim: String,
    pub plan_hash: String,
    pub base: String,
    pub master_seed: u64,
    pub replications: u32,
    pub runs: u64,
    pub objective: ObjectiveSummary,
    pub constraints: Vec<String>,
    pub parameters: Vec<ParameterSummary>,
    /// Point numbers, best first.
    pub ranking: Vec<usize>,
    /// The feasible point with the best objective mean (the first of the ranking, if feasible).
    pub leader: Option<usize>,
    /// The feasible points statistically tied with the leader, in rank order, the leader
    /// first (see `tie`); just the leader when the others are distinguishable from it.
    pub tied: Vec<usize>,
    /// The recommended point: of the tied points, the one that changes fewest settings of the
    /// base, then the best ranked; `None` when no point is feasible.
    pub best: Option<usize>,
    /// Where the recommended point lies on the edge of the grid.
    pub edges: Vec<Edge>,
    pub points: Vec<PointSummary>,
    /// What to change in the vendor's API to get the best point.
    pub recommendation: Option<Recommendation>,
}

/// Aggregates a complete set of records (every run of the plan once, sorted by run).
pub fn summarise(plan: &Plan, records: &[RunRecord]) -> SweepSummary {
    let reps = plan.spec.replications as usize;
    let objective = &plan.spec.objective;
    let mut points: Vec<PointSummary> = records
        .chunks(reps)
        .enumerate()
        .map(|(point, runs)| {
            let mut metrics = BTreeMap::new();
            for name in runs[0].metrics.keys() {
                let xs: Vec<f64> = runs
                    .iter()
                    .map(|r| r.metrics.get(name).copied().unwrap_or(0.0))
                    .collect();
                metrics.insert(name.clone(), Stat::of(&xs));
            }
            let means: BTreeMap<String, f64> =
                metrics.iter().map(|(k, s)| (k.clone(), s.mean)).collect();
            let violations: Vec<String> = plan
                .constraints
                .iter()
                .filter(|c| !c.holds(&means).unwrap_or(false))
                .map(|c| c.text.clone())
                .collect();
            PointSummary {
                point,
                label: plan.label(point),
                settings: plan
                    .settings(point)
                    .into_iter()
                    .map(|s| (s.path, s.value))
                    .collect(),
                rank: 0,
                feasible: violations.is_empty(),
                violations,
                objective: metrics.get(objective.metric()).copied().unwrap_or(Stat {
                    mean: f64::NAN,
                    ci95: 0.0,
                    n: 0,
                    sd: 0.0,
                }),
                seeds: runs.iter().map(|r| r.seed).collect(),
                metrics,
            }
        })
        .collect();
    let ranking = rank(objective, &points);
    for (i, &p) in ranking.iter().enumerate() {
        points[p].rank = i + 1;
    }
    let leader = ranking.first().copied().filter(|&p| points[p].feasible);
    let tied = leader.map_or_else(Vec::new, |l| tied_with(&points, &ranking, l));
    let best = tie::pick(&tied, |p| apply::changed_settings(plan, p));
    SweepSummary {
        sweep: plan.name.clone(),
        lbsim: env!("CARGO_PKG_VERSION").into(),
        plan_hash: plan.hash.clone(),
        base: plan.base_file.clone(),
        master_seed: plan.spec.master_seed,
        replications: plan.spec.replications,
        runs: plan.runs(),
        objective: ObjectiveSummary {
            goal: match objective {
                Objective::Minimize(_) => "minimize",
                Objective::Maximize(_) => "maximize",
            },
            metric: objective.metric().into(),
        },
        constraints: plan.spec.constraints.clone(),
        parameters: plan
            .axes
            .iter()
            .map(|a| ParameterSummary {
                path: a.path.clone(),
                values: a.values.clone(),
            })
            .collect(),
        ranking,
        leader,
        tied,
        best,
        edges: best.map_or_else(Vec::new, |p| edges(plan, p)),
        recommendation: best.map(|p| apply::recommend(plan, p)),
        points,
    }
}

/// The feasible points the tie rule cannot tell from `leader`, in rank order.
fn tied_with(points: &[PointSummary], ranking: &[usize], leader: usize) -> Vec<usize> {
    let feasible: Vec<usize> = ranking
        .iter()
        .copied()
        .filter(|&p| points[p].feasible)
        .collect();
    let comparisons = feasible.len() - 1;
    let top = &points[leader].objective;
    feasible
        .into_iter()
        .filter(|&p| tie::tied(top, &points[p].objective, comparisons))
        .collect()
}

/// The numeric parameters (more than one value) whose first or last value `point` takes.
fn edges(plan: &Plan, point: usize) -> Vec<Edge> {
    let Some(coords) = &plan.points[point] else {
        return Vec::new();
    };
    coords
        .iter()
        .zip(&plan.axes)
        .filter_map(|(&c, axis)| {
            let numbers = axis.numbers().filter(|n| n.len() > 1)?;
            let (lo, hi) = numbers
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                    (a.min(x), b.max(x))
                });
            let side = match numbers[c] {
                x if x == lo => "lowest",
                x if x == hi => "highest",
                _ => return None,
            };
            Some(Edge {
                parameter: axis.name.clone(),
                value: axis.labels[c].clone(),
                side,
            })
        })
        .collect()
}

/// Feasible before infeasible, better objective mean first, lower point number on ties (so the
/// base wins a tie: no change is recommended without a difference).
fn rank(objective: &Objective, points: &[PointSummary]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| {
        let (pa, pb) = (&points[a], &points[b]);
        pb.feasible
            .cmp(&pa.feasible)
            .then_with(|| {
                let (x, y) = (pa.objective.mean, pb.objective.mean);
                if objective.better(x, y) {
                    std::cmp::Ordering::Less
                } else if objective.better(y, x) {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .then(a.cmp(&b))
    });
    order
}
