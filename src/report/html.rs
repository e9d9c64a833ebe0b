//! Self-contained HTML reports (inline CSS and SVG, nothing fetched): the page shell, the
//! per-member rate chart both reports share, and `lbsim run --html`'s one-run timeline.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hdrhistogram::Histogram;

use super::svg::{esc, sig3, Chart, Point, Series};
use super::{attempt_causes, clients_line, percent, Report};
use crate::balancer::MemberIdx;
use crate::model::Member;
use crate::sim::{FrontKind, Observer, Outcome, RequestObs, SimConfig};
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
td,th{{border:1px solid #ddd;padding:3px 7px;text-align:right}}td.l,th.l{{text-align:left}}\
.grid{{display:flex;flex-wrap:wrap;gap:0 4px}}.grid svg{{margin:4px 0}}.key{{font-size:13px;color:#333}}\
table.num td,table.num th{{text-align:right}}tr.top{{background:#eef6e8}}pre{{background:#f6f6f6;padding:10px;overflow-x:auto;font-size:12px}}\
code{{background:#f3f3f3;padding:1px 3px}}.best{{background:#eef6e8;padding:10px;border-left:4px solid #59a14f}}\
</style></head><body>\n{body}\n</body></html>\n",
        esc(title)
    )
}

/// A line through one value per time bucket, each drawn at its bucket's middle; a NaN value
/// is a gap.
fn bucket_line(
    name: &str,
    start_s: f64,
    bucket_s: f64,
    ys: impl IntoIterator<Item = f64>,
) -> Series {
    Series {
        name: name.into(),
        points: ys
            .into_iter()
            .enumerate()
            .map(|(i, y)| Point {
                x: start_s + (i as f64 + 0.5) * bucket_s,
                y,
                ..Point::default()
            })
            .collect(),
        line: true,
        ..Series::default()
    }
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
        .map(|(name, row)| bucket_line(name, start_s, bucket_s, row.iter().copied()))
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

/// Latency over time for `lbsim run --html`: per time bucket (at most
/// [`LatencyTimeline::MAX_BUCKETS`], so a week-long run stays small) one small histogram of all
/// completed requests, and each member's latency sum and count (its mean). Disabled, it records
/// nothing and costs one branch per request.
pub struct LatencyTimeline {
    start: SimTime,
    bucket: SimTime,
    buckets: Vec<Histogram<u32>>,
    /// Per member, per bucket: (latency sum in ns, completed requests).
    members: Vec<Vec<(u64, u64)>>,
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
        let members = if enabled {
            config.pool.members.len()
        } else {
            0
        };
        LatencyTimeline {
            start: config.warmup,
            bucket: SimTime(bucket),
            buckets: (0..n)
                .map(|_| crate::metrics::new_histogram(crate::metrics::MEMBER_LATENCY_SIGFIG))
                .collect(),
            members: vec![vec![(0, 0); n as usize]; members],
        }
    }

    /// Member `m`'s mean latency (ms) per bucket; NaN (a gap) where it completed nothing.
    fn member_means(&self, m: usize) -> impl Iterator<Item = f64> + '_ {
        self.members[m].iter().map(|&(sum, n)| match n {
            0 => f64::NAN,
            n => sum as f64 / n as f64 / 1e6,
        })
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
        if let Some(cell) = o
            .member
            .and_then(|m| self.members.get_mut(m as usize))
            .map(|row| &mut row[b])
        {
            cell.0 = cell.0.saturating_add(o.latency.0);
            cell.1 += 1;
        }
    }

    fn member_added(&mut self, _idx: MemberIdx, _member: &Member) {
        if !self.buckets.is_empty() {
            self.members.push(vec![(0, 0); self.buckets.len()]);
        }
    }
}

/// The one-run report page: summary, per-member rates and latency over time with the run's
/// events marked (numbered, listed below the charts).
pub fn run_page(report: &Report, latency: &LatencyTimeline, front: FrontKind) -> String {
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
    let t = &report.timeline;
    // the charts start where the data does, at the end of warmup: earlier events are listed
    // in the table only
    let markers: Vec<(f64, String)> = report
        .events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.t_s >= t.start_s)
        .map(|(i, e)| (e.t_s, (i + 1).to_string()))
        .collect();
    body.push_str("<h2>Traffic per member</h2>");
    body.push_str(&member_traffic(report, &markers));
    body.push_str("<h2>Client-visible failures</h2>");
    body.push_str(&failure_chart(report, front, &markers));
    let bucket_s = latency.bucket.as_secs_f64();
    let start_s = latency.start.as_secs_f64();
    let quantile = |q: f64, name: &str, dashed: bool| Series {
        dashed,
        // a bucket without completed requests is a gap
        ..bucket_line(
            name,
            start_s,
            bucket_s,
            latency.buckets.iter().map(|h| match h.is_empty() {
                true => f64::NAN,
                false => h.value_at_quantile(q) as f64 / 1e6,
            }),
        )
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
    body.push_str(&member_latency(report, latency, &markers));
    if !report.events.is_empty() {
        body.push_str("<h2>Events</h2><table><tr><th>#</th><th>t (s)</th><th class=\"l\">event</th><th class=\"l\">member</th><th class=\"l\">detail</th></tr>");
        for (i, e) in report.events.iter().enumerate() {
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{:.3}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>",
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
/// cause, named with the status code the clients saw for it behind `front`; a bucket no
/// request arrived in is a gap.
fn failure_chart(report: &Report, front: FrontKind, markers: &[(f64, String)]) -> String {
    let t = &report.timeline;
    let c = &t.clients;
    if c.failures.is_empty() {
        return "<p>No client saw an error.</p>".into();
    }
    let series = c
        .failures
        .iter()
        .map(|(cause, counts)| {
            let name = match Outcome::ALL.iter().find(|o| o.as_str() == *cause) {
                Some(o) => match o.status(front) {
                    Some(code) => format!("{cause}: {code}"),
                    None => format!("{cause}: no response"),
                },
                None => (*cause).into(),
            };
            let shares = counts.iter().zip(&c.requests).map(|(&n, &all)| match all {
                0 => f64::NAN,
                all => n as f64 / all as f64 * 100.0,
            });
            bucket_line(&name, t.start_s, c.bucket_s, shares)
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
        legend_title: Some("final outcome: status".into()),
        ..Chart::default()
    }
    .to_svg()
}

/// One row per member: shares, failures, latency, and failed attempts by cause (a column per
/// cause any member had).
fn member_table(report: &Report, body: &mut String) {
    let causes = attempt_causes(&report.members);
    body.push_str("<h2>Members</h2><table><tr><th class=\"l\">member</th><th class=\"l\">az</th><th>weight</th><th>requests</th><th>share</th><th>failed</th><th>attempts</th>");
    for c in &causes {
        let _ = write!(body, "<th>failed attempts: {c}</th>");
    }
    body.push_str("<th>p50 ms</th><th>p99 ms</th></tr>");
    for m in &report.members {
        let _ = write!(
            body,
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{:.1} %</td><td>{}</td><td>{}</td>",
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
        // a member that completed nothing has no latency, not a latency of 0
        let ms = |v: f64| match m.completed {
            0 => "—".to_string(),
            _ => sig3(v),
        };
        let _ = write!(
            body,
            "<td>{}</td><td>{}</td></tr>",
            ms(m.latency_ms.p50),
            ms(m.latency_ms.p99)
        );
    }
    body.push_str("</table>");
}

/// Members drawn on one latency chart.
const HANDFUL: usize = 6;

/// Panels drawn at most; the rest are in the member table.
const MAX_PANELS: usize = 24;

/// One member's traffic over time, per second by arrival time.
#[derive(Debug, PartialEq)]
struct Panel<'r> {
    member: &'r str,
    served: Vec<f64>,
    errors: Vec<f64>,
}

/// The members' panels in the order drawn: members with requests that ended in an error
/// first (most first), then the busiest; ties by name. At most [`MAX_PANELS`]; also returns how
/// many members were left out.
fn member_panels(t: &super::Timeline) -> (Vec<Panel<'_>>, usize) {
    let per_s = |n: u64| n as f64 / t.bucket_s;
    let mut members: Vec<(&String, &super::Series)> = t.members.iter().collect();
    // a stable sort keeps the map's name order among ties
    members.sort_by_key(|(_, s)| {
        (
            std::cmp::Reverse(s.failed.iter().sum::<u64>()),
            std::cmp::Reverse(s.requests.iter().sum::<u64>()),
        )
    });
    let hidden = members.len().saturating_sub(MAX_PANELS);
    members.truncate(MAX_PANELS);
    let panels = members
        .into_iter()
        .map(|(name, s)| Panel {
            member: name,
            served: s
                .requests
                .iter()
                .zip(&s.failed)
                .map(|(r, f)| per_s(r - f))
                .collect(),
            errors: s.failed.iter().map(|&f| per_s(f)).collect(),
        })
        .collect();
    (panels, hidden)
}

/// Requests per member over time, a panel per member on a common y scale (lines of equal
/// values on one chart hide each other): what each member served, and the requests that ended
/// in an error on it.
fn member_traffic(report: &Report, markers: &[(f64, String)]) -> String {
    let t = &report.timeline;
    let line =
        |name: &str, ys: &[f64]| bucket_line(name, t.start_s, t.bucket_s, ys.iter().copied());
    let (panels, hidden) = member_panels(t);
    let top = t
        .members
        .values()
        .flat_map(|s| s.requests.iter())
        .max()
        .map_or(1.0, |&n| n as f64 / t.bucket_s);
    let mut o = String::from(
        "<p class=\"key\">Each panel is one member, all on the same scale, in requests per second by arrival time: <b style=\"color:#4e79a7\">━ served</b>, <b style=\"color:#f28e2b\">╍ ended in an error</b> (failed, rejected or reset); members with errors first.</p><div class=\"grid\">",
    );
    for p in panels {
        o.push_str(
            &Chart {
                title: p.member.into(),
                x_label: "simulated time (s)".into(),
                y_label: "req/s".into(),
                series: vec![line("served", &p.served), line("errors", &p.errors)],
                y_zero: true,
                y_range: Some((0.0, top.max(1.0) * 1.05)),
                markers: markers.to_vec(),
                panel: true,
                ..Chart::default()
            }
            .to_svg(),
        );
    }
    o.push_str("</div>");
    if hidden > 0 {
        let with_errors = t
            .members
            .values()
            .filter(|s| s.failed.iter().any(|&f| f > 0))
            .count();
        let hidden_with_errors = with_errors.saturating_sub(MAX_PANELS);
        let _ = write!(
            o,
            "<p class=\"key\">{hidden} more members ({hidden_with_errors} of them with errors) are in the member table.</p>"
        );
    }
    o
}

/// Mean latency over time of the slowest members (by mean over the run), a handful at most.
fn member_latency(report: &Report, latency: &LatencyTimeline, markers: &[(f64, String)]) -> String {
    let mut slowest: Vec<usize> = (0..latency.members.len().min(report.members.len()))
        .filter(|&m| report.members[m].completed > 0)
        .collect();
    if slowest.is_empty() {
        return String::new();
    }
    // slowest first; ties by member order (a stable sort)
    slowest.sort_by(|&a, &b| {
        report.members[b]
            .latency_ms
            .mean
            .total_cmp(&report.members[a].latency_ms.mean)
    });
    let hidden = slowest.len().saturating_sub(HANDFUL);
    slowest.truncate(HANDFUL);
    let bucket_s = latency.bucket.as_secs_f64();
    let start_s = latency.start.as_secs_f64();
    let series = slowest
        .iter()
        .map(|&m| {
            bucket_line(
                &report.members[m].id,
                start_s,
                bucket_s,
                latency.member_means(m),
            )
        })
        .collect();
    let mut o = String::from("<h2>Latency per member</h2>");
    o.push_str(
        &Chart {
            title: format!(
                "Mean latency of completed requests per member, per {} s",
                sig3(bucket_s)
            ),
            x_label: "simulated time (s)".into(),
            y_label: "mean latency (ms)".into(),
            series,
            y_zero: true,
            markers: markers.to_vec(),
            legend_title: Some(
                if hidden > 0 {
                    "slowest members"
                } else {
                    "member"
                }
                .into(),
            ),
            notes: if hidden > 0 {
                vec![format!("{hidden} faster members not drawn (see the table)")]
            } else {
                Vec::new()
            },
            ..Chart::default()
        }
        .to_svg(),
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit;

    /// The fixture's member `a` had one request, refused at 2.6 s; `b` one that timed out at
    /// 1.5 s and one served at 2.5 s (1 s buckets).
    #[test]
    fn panels_split_served_from_failed_requests_failing_members_first() {
        let report = crate::report::tests::report();
        let (panels, hidden) = member_panels(&report.timeline);
        assert_eq!(hidden, 0);
        let zeros = |n: usize, at: &[(usize, f64)]| {
            let mut v = vec![0.0; n];
            for &(i, y) in at {
                v[i] = y;
            }
            v
        };
        let n = report.timeline.members["a"].requests.len();
        assert_eq!(
            panels,
            [
                // one failure each: the busier first
                Panel {
                    member: "b",
                    served: zeros(n, &[(2, 1.0)]),
                    errors: zeros(n, &[(1, 1.0)]),
                },
                Panel {
                    member: "a",
                    served: zeros(n, &[]),
                    errors: zeros(n, &[(2, 1.0)]),
                },
            ]
        );
    }

    #[test]
    fn member_latency_over_time_keeps_gaps_as_gaps() {
        let pool = testkit::pool(
            crate::model::Algorithm::RoundRobin,
            vec![testkit::member("a"), testkit::member("b")],
        );
        let config =
            testkit::sim_config(pool, testkit::backend(1, 1.0), 1.0, SimTime::from_secs(4));
        let mut t = LatencyTimeline::new(&config, true);
        let mut ok = |at_ms, member, latency_ms| {
            let mut o =
                testkit::request_obs(SimTime::from_millis(at_ms), Some(member), Outcome::Ok, 1);
            o.latency = SimTime::from_millis(latency_ms);
            t.request(&o);
        };
        ok(100, 0, 10);
        ok(200, 0, 30);
        ok(3100, 0, 5);
        ok(1500, 1, 7);
        // a failure adds no latency
        t.request(&testkit::request_obs(
            SimTime::from_millis(2100),
            Some(0),
            Outcome::Refused,
            1,
        ));
        let a: Vec<f64> = t.member_means(0).collect();
        assert_eq!(a[0], 20.0);
        assert!(
            a[1].is_nan() && a[2].is_nan(),
            "no completion: a gap, {a:?}"
        );
        assert_eq!(a[3], 5.0);
        let b: Vec<f64> = t.member_means(1).collect();
        assert_eq!(b.iter().filter(|y| !y.is_nan()).count(), 1);
        assert_eq!(b[1], 7.0);
        // disabled, it keeps nothing
        assert!(LatencyTimeline::new(&config, false).members.is_empty());
    }

    #[test]
    fn a_member_without_completed_requests_shows_no_latency() {
        let report = crate::report::tests::report();
        let pool = testkit::pool(crate::model::Algorithm::RoundRobin, vec![]);
        let config =
            testkit::sim_config(pool, testkit::backend(1, 1.0), 1.0, SimTime::from_secs(1));
        let page = run_page(
            &report,
            &LatencyTimeline::new(&config, false),
            FrontKind::ElbL7,
        );
        assert!(!page.contains("td:nth-child(3)"));
        // member a completed nothing: its p50 and p99 cells are dashes, not 0
        let row = page
            .split("<tr><td class=\"l\">a</td>")
            .nth(1)
            .expect("a's row");
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(row.ends_with("<td>—</td><td>—</td>"), "{row}");
    }
}
