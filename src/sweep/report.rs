//! `report.md` and `report.html` of a sweep. Both are functions of the plan, the summary and the
//! records only (no clock, no paths of this machine), so merged shards reproduce them exactly.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hdrhistogram::Histogram;
use serde_json::Value;

use super::aggregate::{PointSummary, SweepSummary};
use super::apply::{self, Recommendation};
use super::plan::{Axis, Plan};
use super::results::RunRecord;
use crate::metrics::new_histogram;
use crate::report::html::{page, rate_chart};
use crate::report::svg::{esc, sig3, Bands, Chart, Heatmap, Point, Series};

/// Ranking rows shown in the reports (the rest is in `summary.json`).
const SHOWN: usize = 20;

/// A metric's name with its unit, for axis labels and table headers.
pub fn metric_label(m: &str) -> String {
    let unit = if m.contains("latency_ms") {
        " (ms)"
    } else if m.ends_with("_rps") {
        " (req/s)"
    } else if m.ends_with("fraction") {
        " (fraction)"
    } else {
        ""
    };
    format!("{m}{unit}")
}

/// A parameter's name with its unit, guessed from the vendor's field names (durations are in
/// seconds unless the name says otherwise).
fn parameter_label(axis: &Axis) -> String {
    let field = axis.path.rsplit('.').next().unwrap_or(&axis.path);
    let unit = if field.ends_with("_ms") {
        " (ms)"
    } else if field.contains("percentage") {
        " (%)"
    } else if [
        "duration",
        "delay",
        "timeout",
        "time_interval",
        "persistence_timeout",
    ]
    .contains(&field)
        || field.ends_with("_s")
    {
        " (s)"
    } else {
        ""
    };
    format!("{}{unit}", axis.name)
}

fn stat(p: &PointSummary) -> String {
    format!("{} ± {}", sig3(p.objective.mean), sig3(p.objective.ci95))
}

/// A point's objective figure with what else decides whether it is usable: the share of
/// requests that ended in a client error and the constraints it meets or breaks.
fn figure(s: &SweepSummary, p: &PointSummary) -> String {
    let mut o = format!("{} = {} (mean ± 95 % CI)", s.objective.metric, stat(p));
    if let Some(e) = p.metrics.get(ERROR_SHARE) {
        let _ = write!(o, ", {} % of requests failed", sig3(e.mean * 100.0));
    }
    if !s.constraints.is_empty() {
        o.push_str(&if p.feasible {
            ", meets every constraint".to_string()
        } else {
            format!(", breaks {}", p.violations.join(" and "))
        });
    }
    o
}

/// The share of requests that ended in a client error: shown beside every objective figure.
const ERROR_SHARE: &str = "summary.client_error_share";

/// "point 3 (delay=2)".
fn named(p: &PointSummary) -> String {
    format!("point {} ({})", p.point, p.label)
}

/// The result in sentences, for the reports' head and the terminal: the recommended point, the
/// leader when the tie rule chose another, the base, each with its failures and constraints;
/// the tied set and the rule that chose among it; a recommendation on the edge of the grid.
pub fn headline(s: &SweepSummary) -> Vec<String> {
    let mut lines = Vec::new();
    let base = &s.points[0];
    let Some(b) = s.best else {
        lines.push("No point satisfies every constraint: nothing is recommended.".into());
        lines.push(format!("Base scenario: {}.", figure(s, base)));
        return lines;
    };
    let best = &s.points[b];
    lines.push(format!(
        "Recommended: {}: {}.",
        named(best),
        figure(s, best)
    ));
    let feasible = s.points.iter().filter(|p| p.feasible).count();
    let rule = format!(
        "multiple comparisons with the best: one-sided Welch t-tests against the leader, \
         Bonferroni-adjusted over {} comparison{}, family-wise α = {}",
        feasible - 1,
        if feasible == 2 { "" } else { "s" },
        super::tie::ALPHA
    );
    if s.tied.len() > 1 {
        let list: Vec<String> = s.tied.iter().map(usize::to_string).collect();
        lines.push(format!(
            "Statistically tied with the leader: points {} ({rule}). Recommended among them: \
             the point that changes the fewest settings of the base scenario, then the best \
             ranked.",
            list.join(", ")
        ));
    } else if s.replications < 2 && feasible > 1 {
        lines.push(
            "One replication per point: the noise is not estimated, so ties cannot be detected."
                .into(),
        );
    } else if feasible > 1 {
        lines.push(format!(
            "Every other feasible point is distinguishable from it ({rule})."
        ));
    }
    if let Some(l) = s.leader.filter(|&l| l != b) {
        let leader = &s.points[l];
        lines.push(format!(
            "Leader (best mean): {}: {}.",
            named(leader),
            figure(s, leader)
        ));
    }
    for e in &s.edges {
        lines.push(format!(
            "On the edge of the grid: {} = {} is the {} value searched; the optimum may lie \
             outside the range searched.",
            e.parameter, e.value, e.side
        ));
    }
    if b != 0 {
        lines.push(format!("Base scenario: {}.", figure(s, base)));
    }
    lines
}

/// How the tie rule classed a point, for the ranking tables.
fn verdict(s: &SweepSummary, point: usize) -> &'static str {
    if s.best == Some(point) {
        "recommended"
    } else if s.tied.contains(&point) {
        "tied"
    } else {
        ""
    }
}

/// A point's client error share in percent, or "-" when the runs did not report it.
fn error_share(p: &PointSummary) -> String {
    p.metrics
        .get(ERROR_SHARE)
        .map_or("-".into(), |e| sig3(e.mean * 100.0))
}

fn replay(plan: &Plan, p: &PointSummary) -> String {
    // the base's path is relative to the spec, like the spec's own `base`
    let mut cmd = format!("lbsim run {}", plan.base_file);
    for (path, v) in &p.settings {
        let v = match v {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        let _ = write!(cmd, " --set '{path}={v}'");
    }
    if let Some(d) = plan.spec.duration_s {
        let _ = write!(cmd, " --duration {}", crate::text::number(d));
    }
    let _ = write!(cmd, " --seed {}", p.seeds[0]);
    cmd
}

/// The Markdown report.
pub fn markdown(plan: &Plan, s: &SweepSummary) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Sweep `{}`\n", s.sweep);
    let _ = writeln!(
        o,
        "Base scenario `{}`; {} points (the base and {} variants) × {} replications = {} runs; master seed {}; plan `{}`; lbsim {}.\n",
        s.base,
        s.points.len(),
        s.points.len() - 1,
        s.replications,
        s.runs,
        s.master_seed,
        s.plan_hash,
        s.lbsim
    );
    let _ = writeln!(
        o,
        "Objective: {} `{}`.",
        s.objective.goal, s.objective.metric
    );
    if s.constraints.is_empty() {
        let _ = writeln!(o, "No constraints.");
    } else {
        let list: Vec<String> = s.constraints.iter().map(|c| format!("`{c}`")).collect();
        let _ = writeln!(
            o,
            "Constraints (on each point's means): {}.",
            list.join(", ")
        );
    }
    let _ = writeln!(o, "\n## Result\n");
    for line in headline(s) {
        let _ = writeln!(o, "{line}\n");
    }
    if let Some(b) = s.best {
        let _ = writeln!(
            o,
            "Replay its first replication:\n\n```sh\n{}\n```",
            replay(plan, &s.points[b])
        );
    }
    let _ = writeln!(o, "\n## Ranking\n");
    let _ = writeln!(
        o,
        "| rank | point | settings | {} mean ± 95 % CI | verdict | feasible | client errors % | p99 ms | failed | throughput req/s |",
        s.objective.metric
    );
    let _ = writeln!(o, "|---:|---:|---|---:|---|---|---:|---:|---:|---:|");
    let shown = s
        .ranking
        .iter()
        .take(SHOWN)
        .chain((!s.ranking[..s.ranking.len().min(SHOWN)].contains(&0)).then_some(&0));
    for &i in shown {
        let p = &s.points[i];
        let m = |k: &str| p.metrics.get(k).map_or("-".into(), |v| sig3(v.mean));
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            p.rank,
            p.point,
            p.label,
            stat(p),
            verdict(s, i),
            if p.feasible {
                "yes".to_string()
            } else {
                format!("no: {}", p.violations.join("; "))
            },
            error_share(p),
            m("summary.latency_ms.p99"),
            m("summary.failed"),
            m("summary.throughput_rps")
        );
    }
    if s.points.len() > SHOWN {
        let _ = writeln!(
            o,
            "\n{} more points in `summary.json`.",
            s.points.len() - SHOWN.min(s.points.len())
        );
    }
    if let Some(r) = &s.recommendation {
        let _ = writeln!(o, "\n## Recommended configuration\n");
        recommendation_md(&mut o, r);
    }
    o
}

fn recommendation_md(o: &mut String, r: &Recommendation) {
    if r.calls.is_empty() && r.notes.is_empty() {
        let _ = writeln!(
            o,
            "The best point changes nothing in the pool: no API call is needed."
        );
    }
    for c in &r.calls {
        let body = crate::json::pretty(&c.body);
        let body = body.trim_end();
        let _ = writeln!(
            o,
            "{}: `{} {}`\n\n```json\n{body}\n```\n",
            c.resource, c.method, c.path
        );
    }
    for n in &r.notes {
        let _ = writeln!(o, "- {n}");
    }
    if !r.simulation_only.is_empty() {
        let _ = writeln!(
            o,
            "\nSimulation-side settings of the best point (no API call applies them):\n"
        );
        for s in &r.simulation_only {
            let _ = writeln!(o, "- `{s}`");
        }
    }
}

/// Objective against axis `k`: one series per combination of the other axes when there are
/// few, else the slice through the best (or top-ranked) point.
fn objective_chart(plan: &Plan, s: &SweepSummary, k: usize) -> String {
    let axis = &plan.axes[k];
    let numbers = axis.numbers();
    let as_x = |c: usize| numbers.as_ref().map_or(c as f64, |n| n[c]);
    let anchor = s.best.unwrap_or(s.ranking[0]);
    let anchor_coords = plan.points[anchor]
        .clone()
        .unwrap_or_else(|| plan.points[1].clone().unwrap_or_default());
    let mut groups: BTreeMap<Vec<usize>, Vec<usize>> = BTreeMap::new();
    for (i, coords) in plan.points.iter().enumerate() {
        let Some(c) = coords else { continue };
        let mut others = c.clone();
        others.remove(k);
        groups.entry(others).or_default().push(i);
    }
    let few = groups.len() <= 6;
    let mut series = Vec::new();
    for (others, pts) in &groups {
        let mut anchor_others = anchor_coords.clone();
        anchor_others.remove(k);
        if !few && *others != anchor_others {
            continue;
        }
        let name = if plan.axes.len() == 1 {
            "mean, 95 % CI".to_string()
        } else if few && plan.axes.len() == 2 {
            others
                .iter()
                .map(|&c| plan.axes[1 - k].labels[c].clone())
                .collect()
        } else if few {
            plan.axes
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != k)
                .zip(others)
                .map(|((_, a), &c)| format!("{}={}", a.name, a.labels[c]))
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            "others as best point".to_string()
        };
        series.push(Series {
            name,
            points: pts
                .iter()
                .map(|&i| {
                    let p = &s.points[i];
                    Point {
                        x: as_x(plan.points[i].as_ref().map_or(0, |c| c[k])),
                        y: p.objective.mean,
                        err: Some(p.objective.ci95),
                        hollow: !p.feasible,
                    }
                })
                .collect(),
            line: numbers.is_some(),
            dots: true,
            dashed: false,
        });
    }
    Chart {
        title: format!("{} by {}", s.objective.metric, axis.name),
        x_label: parameter_label(axis),
        y_label: format!("mean {}", metric_label(&s.objective.metric)),
        legend_title: (plan.axes.len() == 2 && few).then(|| plan.axes[1 - k].name.clone()),
        series,
        x_categories: numbers.is_none().then(|| axis.labels.clone()),
        reference: Some((s.points[0].objective.mean, "base scenario".into())),
        notes: vec!["bars: 95 % CI".into(), "hollow: breaks a constraint".into()],
        ..Chart::default()
    }
    .to_svg()
}

fn heatmap(plan: &Plan, s: &SweepSummary) -> String {
    let (ax, ay) = (&plan.axes[0], &plan.axes[1]);
    let mut cells = vec![vec![None; ax.values.len()]; ay.values.len()];
    let mut crossed = Vec::new();
    let mut tied = Vec::new();
    let mut marked = None;
    let mut half_widths = Vec::new();
    for (i, coords) in plan.points.iter().enumerate() {
        let Some(c) = coords else { continue };
        let (x, y) = (c[0], c[1]);
        cells[y][x] = Some(s.points[i].objective.mean);
        half_widths.push(s.points[i].objective.ci95);
        if !s.points[i].feasible {
            crossed.push((x, y));
        }
        if s.best == Some(i) {
            marked = Some((x, y));
        }
        if s.tied.contains(&i) {
            tied.push((x, y));
        }
    }
    // colour bands one typical CI half-width wide: differences within noise look alike
    half_widths.sort_by(f64::total_cmp);
    let typical = half_widths.get(half_widths.len() / 2).copied();
    let bands = typical
        .filter(|w| *w > 0.0 && w.is_finite())
        .map(|step| Bands {
            step,
            from_high: s.objective.goal == "maximize",
        });
    let title = format!("{} ({})", s.objective.metric, s.objective.goal);
    let value_label = metric_label(&s.objective.metric);
    Heatmap {
        title: &title,
        x_label: &parameter_label(ax),
        y_label: &parameter_label(ay),
        value_label: &value_label,
        x_names: ax.labels.clone(),
        y_names: ay.labels.clone(),
        cells,
        marked,
        tied,
        crossed,
        bands,
        band_note: "the median 95 % CI half-width",
    }
    .to_svg()
}

/// Latency distribution of a point, all replications together.
fn latency(records: &[RunRecord], point: usize) -> Histogram<u64> {
    let mut h = new_histogram(2);
    for r in records.iter().filter(|r| r.point == point) {
        for &(v, c) in &r.latency_ns {
            h.saturating_record_n(v, c);
        }
    }
    h
}

/// The percentiles the tail chart reads, one decade of the tail (one more nine) apart but for
/// the median.
const PERCENTILES: [(f64, &str); 5] = [
    (0.5, "p50"),
    (0.9, "p90"),
    (0.99, "p99"),
    (0.999, "p99.9"),
    (0.9999, "p99.99"),
];

/// Latency at each of [`PERCENTILES`] (ms); no points without completed requests.
fn percentile_series(name: String, h: &Histogram<u64>, dashed: bool) -> Series {
    let points = if h.is_empty() {
        Vec::new()
    } else {
        PERCENTILES
            .iter()
            .enumerate()
            .map(|(i, &(q, _))| Point {
                x: i as f64,
                y: h.value_at_quantile(q) as f64 / 1e6,
                ..Point::default()
            })
            .collect()
    };
    Series {
        name,
        points,
        line: true,
        dots: true,
        dashed,
    }
}

/// The latency distribution's tail, percentile by percentile: a CDF on a linear axis squeezes
/// p99 and p99.9, the figures sweeps optimise, into its last pixels.
fn tail_chart(s: &SweepSummary, records: &[RunRecord], best: usize) -> String {
    let series = vec![
        percentile_series(
            format!("recommended: point {best}"),
            &latency(records, best),
            false,
        ),
        percentile_series("base scenario".into(), &latency(records, 0), true),
    ];
    let mut notes = vec![format!(
        "all replications' requests pooled ({} each)",
        s.replications
    )];
    for empty in series.iter().filter(|s| s.points.is_empty()) {
        notes.push(format!("{}: no completed requests", empty.name));
    }
    Chart {
        title: "Latency by percentile: recommended point vs base scenario".into(),
        x_label: "percentile of completed requests".into(),
        y_label: "latency (ms)".into(),
        series,
        x_categories: Some(PERCENTILES.iter().map(|&(_, n)| n.to_string()).collect()),
        y_zero: true,
        notes,
        ..Chart::default()
    }
    .to_svg()
}

/// Mean request rate per member and bucket over a point's replications.
fn member_rates(records: &[RunRecord], point: usize) -> (f64, f64, BTreeMap<String, Vec<f64>>) {
    let runs: Vec<&RunRecord> = records.iter().filter(|r| r.point == point).collect();
    let (bucket, start) = (runs[0].bucket_s, runs[0].start_s);
    let mut out: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in &runs {
        for (m, counts) in &r.timeline {
            let row = out
                .entry(m.clone())
                .or_insert_with(|| vec![0.0; counts.len()]);
            for (acc, &c) in row.iter_mut().zip(counts) {
                *acc += c as f64 / bucket / runs.len() as f64;
            }
        }
    }
    (bucket, start, out)
}

/// The timed events of `point`'s scenario (`events[*]`, with their `at_s`), in file order, each
/// with its action in short: the same for every replication, so the traffic chart marks them.
fn scenario_events(plan: &Plan, point: usize) -> Vec<(f64, String)> {
    let scenario = apply::variant(plan, point);
    let Some(events) = scenario.get("events").and_then(Value::as_array) else {
        return Vec::new();
    };
    events
        .iter()
        .filter_map(|e| {
            let e = e.as_object()?;
            let t = e.get("at_s")?.as_f64()?;
            let actions: Vec<String> = e
                .iter()
                .filter(|(k, _)| *k != "at_s")
                .map(|(k, v)| match v {
                    Value::String(s) => format!("{k} {s}"),
                    v => format!("{k} {v}"),
                })
                .collect();
            Some((t, actions.join("; ")))
        })
        .collect()
}

/// The HTML report.
pub fn html(plan: &Plan, s: &SweepSummary, records: &[RunRecord]) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>Sweep {}</h1><p>Base scenario <code>{}</code>; {} points × {} replications = {} runs; master seed {}; plan <code>{}</code>; lbsim {}.</p><p>Objective: {} <code>{}</code>.{}</p>",
        esc(&s.sweep),
        esc(&s.base),
        s.points.len(),
        s.replications,
        s.runs,
        s.master_seed,
        s.plan_hash,
        esc(&s.lbsim),
        s.objective.goal,
        esc(&s.objective.metric),
        if s.constraints.is_empty() {
            String::new()
        } else {
            format!(" Constraints (on each point's means): {}.", s.constraints.iter().map(|c| format!("<code>{}</code>", esc(c))).collect::<Vec<_>>().join(", "))
        }
    );
    let lines: Vec<String> = headline(s).iter().map(|l| esc(l)).collect();
    let _ = write!(body, "<div class=\"best\">{}", lines.join("<br>"));
    if let Some(b) = s.best {
        let _ = write!(
            body,
            "<br>Replay (from the spec's directory): <code>{}</code>",
            esc(&replay(plan, &s.points[b]))
        );
    }
    body.push_str("</div>");
    body.push_str("<h2>Objective by parameter</h2>");
    for k in 0..plan.axes.len() {
        body.push_str(&objective_chart(plan, s, k));
    }
    if plan.axes.len() == 2 {
        body.push_str("<h2>Objective over both parameters</h2>");
        body.push_str(&heatmap(plan, s));
    }
    let shown = s.best.unwrap_or(s.ranking[0]);
    body.push_str("<h2>Latency</h2>");
    body.push_str(&tail_chart(s, records, shown));
    let (bucket, start, rates) = member_rates(records, shown);
    let events = scenario_events(plan, shown);
    let end = start + bucket * rates.values().map(Vec::len).max().unwrap_or(0) as f64;
    let markers: Vec<(f64, String)> = events
        .iter()
        .enumerate()
        .filter(|(_, (t, _))| (start..=end).contains(t))
        .map(|(i, (t, _))| (*t, (i + 1).to_string()))
        .collect();
    body.push_str("<h2>Traffic per member</h2>");
    body.push_str(&rate_chart(
        &format!(
            "Request rate per member, point {shown} (mean of {} replications)",
            s.replications
        ),
        bucket,
        start,
        &rates,
        &markers,
    ));
    if !events.is_empty() {
        body.push_str(
            "<table><tr><th>#</th><th>t (s)</th><th class=\"l\">event of the scenario</th></tr>",
        );
        for (i, (t, what)) in events.iter().enumerate() {
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td class=\"l\">{}</td></tr>",
                i + 1,
                crate::text::number(*t),
                esc(what)
            );
        }
        body.push_str("</table>");
    }
    body.push_str("<h2>Ranking</h2><table><tr><th>rank</th><th>point</th><th class=\"l\">settings</th><th>objective mean ± 95 % CI</th><th class=\"l\">verdict</th><th class=\"l\">feasible</th><th>client errors %</th><th>p99 ms</th><th>failed</th><th>throughput req/s</th></tr>");
    for &i in s.ranking.iter().take(SHOWN) {
        let p = &s.points[i];
        let m = |k: &str| p.metrics.get(k).map_or("-".into(), |v| sig3(v.mean));
        let _ = write!(
            body,
            "<tr{}><td>{}</td><td>{}</td><td class=\"l\">{}</td><td>{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if Some(i) == s.best { " class=\"top\"" } else { "" },
            p.rank,
            p.point,
            esc(&p.label),
            stat(p),
            verdict(s, i),
            if p.feasible { "yes".into() } else { format!("no: {}", esc(&p.violations.join("; "))) },
            error_share(p),
            m("summary.latency_ms.p99"),
            m("summary.failed"),
            m("summary.throughput_rps")
        );
    }
    body.push_str("</table>");
    if let Some(r) = &s.recommendation {
        body.push_str("<h2>Recommended configuration</h2>");
        if r.calls.is_empty() && r.notes.is_empty() {
            body.push_str(
                "<p>The best point changes nothing in the pool: no API call is needed.</p>",
            );
        }
        for c in &r.calls {
            let json = crate::json::pretty(&c.body);
            let json = json.trim_end();
            let _ = write!(
                body,
                "<h3>{}</h3><p><code>{} {}</code></p><pre>{}</pre>",
                esc(&c.resource),
                c.method,
                esc(&c.path),
                esc(json)
            );
        }
        for n in r.notes.iter().chain(&r.simulation_only) {
            let _ = write!(body, "<p>{}</p>", esc(n));
        }
    }
    page(&format!("lbsim sweep {}", s.sweep), &body)
}
