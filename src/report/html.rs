//! Self-contained HTML reports (inline CSS and SVG, nothing fetched): the page shell, the
//! per-member rate chart both reports share, and `lbsim run --html`'s one-run timeline.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hdrhistogram::Histogram;

use super::svg::{esc, sig3, Chart, Point, Series};
use super::{attempt_causes, clients_line, percent, Report};
use crate::sim::{Observer, Outcome, RequestObs, SimConfig};
use crate::text::grouped;
use crate::time::SimTime;

/// Members drawn in a rate chart; more lines than this are unreadable.
const MAX_LINES: usize = 10;

/// Wraps a body in a complete page with the report's stylesheet.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>\
body{{font-family:Helvetica,Arial,sans-serif;margin:24px auto;max-width:960px;color:#111;line-height:1.4}}\
h1{{font-size:24px}}h2{{font-size:19px;margin-top:32px;border-bottom:1px solid #ddd}}h3{{font-size:15px}}\
svg{{display:block;margin:12px 0;border:1px solid #eee}}table{{border-collapse:collapse;font-size:13px}}\
td,th{{border:1px solid #ddd;padding:3px 7px;text-align:right}}td:nth-child(3),th:nth-child(3){{text-align:left}}\
table.num td,table.num th{{text-align:right}}tr.top{{background:#eef6e8}}pre{{background:#f6f6f6;padding:10px;overflow-x:auto;font-size:12px}}\
code{{background:#f3f3f3;padding:1px 3px}}.best{{background:#eef6e8;padding:10px;border-left:4px solid #59a14f}}\
</style></head><body>\n{body}\n</body></html>\n",
        esc(title)
    )
}

/// Request rate per member over time; the busiest [`MAX_LINES`] members when there are more.
/// `markers` are vertical event lines `(t_s, label)`.
pub fn rate_chart(
    title: &str,
    bucket_s: f64,
    start_s: f64,
    rates: &BTreeMap<String, Vec<f64>>,
    markers: &[(f64, String)],
) -> String {
    let mut members: Vec<(&String, &Vec<f64>)> = rates.iter().collect();
    // busiest first; ties by name (the map's order, kept by a stable sort)
    members.sort_by(|a, b| b.1.iter().sum::<f64>().total_cmp(&a.1.iter().sum::<f64>()));
    let hidden = members.len().saturating_sub(MAX_LINES);
    members.truncate(MAX_LINES);
    members.sort_by_key(|m| m.0);
    let series = members
        .into_iter()
        .map(|(name, row)| Series {
            name: name.clone(),
            points: row
                .iter()
                .enumerate()
                .map(|(i, &y)| Point {
                    x: start_s + (i as f64 + 0.5) * bucket_s,
                    y,
                    ..Point::default()
                })
                .collect(),
            line: true,
            ..Series::default()
        })
        .collect();
    Chart {
        title: title.into(),
        x_label: "simulated time (s)".into(),
        y_label: "requests per second".into(),
        series,
        y_zero: true,
        markers: markers.to_vec(),
        notes: if hidden > 0 {
            vec![format!("{hidden} quieter members not drawn")]
        } else {
            Vec::new()
        },
        ..Chart::default()
    }
    .to_svg()
}

/// Latency percentiles over time for `lbsim run --html`: one small histogram per time bucket
/// (at most [`LatencyTimeline::MAX_BUCKETS`], so a week-long run stays small). Disabled, it
/// records nothing and costs one branch per request.
pub struct LatencyTimeline {
    start: SimTime,
    bucket: SimTime,
    buckets: Vec<Histogram<u32>>,
}

impl LatencyTimeline {
    pub const MAX_BUCKETS: u64 = 300;

    pub fn new(config: &SimConfig, enabled: bool) -> LatencyTimeline {
        let window = config.duration.saturating_sub(config.warmup).0.max(1);
        let n = if enabled {
            Self::MAX_BUCKETS.min(window.div_ceil(SimTime::from_secs(1).0))
        } else {
            0
        };
        let bucket = if n == 0 { 1 } else { window.div_ceil(n) };
        LatencyTimeline {
            start: config.warmup,
            bucket: SimTime(bucket),
            buckets: (0..n)
                .map(|_| crate::metrics::new_histogram(crate::metrics::MEMBER_LATENCY_SIGFIG))
                .collect(),
        }
    }
}

impl Observer for LatencyTimeline {
    #[inline]
    fn request(&mut self, o: &RequestObs) {
        if self.buckets.is_empty() || o.arrival < self.start || o.outcome != Outcome::Ok {
            return;
        }
        let b = (((o.arrival - self.start).0 / self.bucket.0) as usize).min(self.buckets.len() - 1);
        self.buckets[b].saturating_record(o.latency.0);
    }
}

/// The one-run report page: summary, per-member rates and latency over time with the run's
/// events marked (numbered, listed below the charts).
pub fn run_page(report: &Report, latency: &LatencyTimeline) -> String {
    let mut body = String::new();
    let s = &report.summary;
    let sc = &report.scenario;
    let _ = write!(
        body,
        "<h1>Run {}</h1><p>Seed {}, {} s simulated (warmup {} s), lbsim {}.</p><table><tr><th>requests</th><th>completed</th><th>failed</th><th>rejected</th><th>reset</th><th>throughput req/s</th><th>p50 ms</th><th>p99 ms</th><th>p99.9 ms</th></tr><tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></table>",
        esc(&sc.name), sc.seed, sc.duration_s, sc.warmup_s, esc(&report.lbsim.version),
        s.requests, s.completed, s.failed, s.rejected, s.reset,
        sig3(s.throughput_rps), sig3(s.latency_ms.p50), sig3(s.latency_ms.p99), sig3(s.latency_ms.p999)
    );
    body.push_str(&clients_summary(report));
    let markers: Vec<(f64, String)> = report
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| (e.t_s, (i + 1).to_string()))
        .collect();
    let t = &report.timeline;
    let rates: BTreeMap<String, Vec<f64>> = t
        .members
        .iter()
        .map(|(k, s)| {
            (
                k.clone(),
                s.requests.iter().map(|&c| c as f64 / t.bucket_s).collect(),
            )
        })
        .collect();
    body.push_str("<h2>Traffic per member</h2>");
    body.push_str(&rate_chart(
        "Request rate per member",
        t.bucket_s,
        t.start_s,
        &rates,
        &markers,
    ));
    body.push_str("<h2>Client-visible failures</h2>");
    body.push_str(&failure_chart(report, &markers));
    let bucket_s = latency.bucket.as_secs_f64();
    let start_s = latency.start.as_secs_f64();
    let quantile = |q: f64, name: &str, dashed: bool| Series {
        name: name.into(),
        points: latency
            .buckets
            .iter()
            .enumerate()
            .map(|(i, h)| Point {
                x: start_s + (i as f64 + 0.5) * bucket_s,
                // a bucket without completed requests is a gap
                y: match h.is_empty() {
                    true => f64::NAN,
                    false => h.value_at_quantile(q) as f64 / 1e6,
                },
                ..Point::default()
            })
            .collect(),
        line: true,
        dashed,
        ..Series::default()
    };
    body.push_str("<h2>Latency</h2>");
    body.push_str(
        &Chart {
            title: format!("Latency of completed requests per {} s", sig3(bucket_s)),
            x_label: "simulated time (s)".into(),
            y_label: "latency (ms)".into(),
            series: vec![
                quantile(0.5, "p50", false),
                quantile(0.99, "p99", false),
                quantile(0.999, "p99.9", true),
            ],
            y_zero: true,
            markers: markers.clone(),
            ..Chart::default()
        }
        .to_svg(),
    );
    if !report.events.is_empty() {
        body.push_str("<h2>Events</h2><table><tr><th>#</th><th>t (s)</th><th>event</th><th>member</th><th>detail</th></tr>");
        for (i, e) in report.events.iter().enumerate() {
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{:.3}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                i + 1,
                e.t_s,
                e.kind,
                esc(e.member.as_deref().unwrap_or("-")),
                esc(&e.detail)
            );
        }
        body.push_str("</table>");
    }
    member_table(report, &mut body);
    page(&format!("lbsim run {}", sc.name), &body)
}

/// What the clients got: the status codes with their counts and shares, attempts and retries.
fn clients_summary(report: &Report) -> String {
    let s = &report.summary;
    let mut o = format!(
        "<p><b>Clients:</b> {}. Attempts on members {}, retries {}, requests retried then served {}.</p>",
        esc(&clients_line(s)),
        grouped(s.attempts),
        grouped(s.retries),
        grouped(s.retried_ok)
    );
    if s.status_codes.is_empty() {
        return o;
    }
    let share = |n: u64| percent(n as f64 / s.requests as f64);
    o.push_str("<table class=\"num\"><tr><th>status</th>");
    for code in s.status_codes.keys() {
        let _ = write!(o, "<th>{code}</th>");
    }
    o.push_str("</tr><tr><th>requests</th>");
    for n in s.status_codes.values() {
        let _ = write!(o, "<td>{n}</td>");
    }
    o.push_str("</tr><tr><th>share</th>");
    for n in s.status_codes.values() {
        let _ = write!(o, "<td>{} %</td>", share(*n));
    }
    o.push_str("</tr></table>");
    o
}

/// Failed requests per time bucket as a share of the requests arriving in it, one line per
/// cause; a bucket no request arrived in is a gap.
fn failure_chart(report: &Report, markers: &[(f64, String)]) -> String {
    let t = &report.timeline;
    let c = &t.clients;
    if c.failures.is_empty() {
        return "<p>No client saw an error.</p>".into();
    }
    let series = c
        .failures
        .iter()
        .map(|(cause, counts)| Series {
            name: (*cause).into(),
            points: counts
                .iter()
                .zip(&c.requests)
                .enumerate()
                .map(|(i, (&n, &all))| Point {
                    x: t.start_s + (i as f64 + 0.5) * c.bucket_s,
                    y: match all {
                        0 => f64::NAN,
                        all => n as f64 / all as f64 * 100.0,
                    },
                    ..Point::default()
                })
                .collect(),
            line: true,
            ..Series::default()
        })
        .collect();
    Chart {
        title: format!(
            "Requests that ended in an error, by cause, per {} s",
            sig3(c.bucket_s)
        ),
        x_label: "simulated time (s)".into(),
        y_label: "% of requests arriving".into(),
        series,
        y_zero: true,
        markers: markers.to_vec(),
        legend_title: Some("final outcome".into()),
        ..Chart::default()
    }
    .to_svg()
}

/// One row per member: shares, failures, latency, and failed attempts by cause (a column per
/// cause any member had).
fn member_table(report: &Report, body: &mut String) {
    let causes = attempt_causes(&report.members);
    body.push_str("<h2>Members</h2><table><tr><th>member</th><th>az</th><th>weight</th><th>requests</th><th>share</th><th>failed</th><th>attempts</th>");
    for c in &causes {
        let _ = write!(body, "<th>failed attempts: {c}</th>");
    }
    body.push_str("<th>p50 ms</th><th>p99 ms</th></tr>");
    for m in &report.members {
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1} %</td><td>{}</td><td>{}</td>",
            esc(&m.id),
            esc(&m.az),
            m.weight,
            m.requests,
            m.share * 100.0,
            m.failed + m.rejected + m.reset,
            m.attempts
        );
        for c in &causes {
            let _ = write!(
                body,
                "<td>{}</td>",
                m.attempt_failures.get(c).copied().unwrap_or(0)
            );
        }
        let _ = write!(
            body,
            "<td>{}</td><td>{}</td></tr>",
            sig3(m.latency_ms.p50),
            sig3(m.latency_ms.p99)
        );
    }
    body.push_str("</table>");
}
