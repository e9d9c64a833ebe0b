//! The readable form of a run report (`lbsim run`): the summary an SRE reads first, the member
//! table, the failed attempts by cause and the notable events.

use super::{MemberReport, Report, Summary};
use crate::sim::Outcome;
use crate::table::{dropped_note, prose, Column, TextTable, Width};
use crate::text::{grouped, printable};

/// What the clients got, by status code, and the share of errors:
/// `9,812 × 200, 37 × 502, 12 × 504 (0.49 % errors)`.
pub fn clients_line(s: &Summary) -> String {
    if s.requests == 0 {
        return "no requests finished".into();
    }
    let codes: Vec<String> = s
        .status_codes
        .iter()
        .map(|(code, n)| match *code {
            "none" => format!("{} × no response", grouped(*n)),
            code => format!("{} × {code}", grouped(*n)),
        })
        .collect();
    let errors = match s.client_errors {
        0 => "no errors".to_string(),
        _ => format!("{} % errors", percent(s.client_error_share)),
    };
    format!("{} ({errors})", codes.join(", "))
}

/// A share as a percentage for reading: one decimal from 1 %, two significant digits below.
pub fn percent(share: f64) -> String {
    let p = share * 100.0;
    if p >= 1.0 || p == 0.0 {
        format!("{p:.1}")
    } else {
        let decimals = (1 - p.log10().floor() as i32).clamp(1, 9) as usize;
        format!("{p:.decimals$}")
    }
}

/// The causes any member has failed attempts of, in [`Outcome::ALL`] order.
pub fn attempt_causes(members: &[MemberReport]) -> Vec<&'static str> {
    Outcome::ALL
        .iter()
        .map(|o| o.as_str())
        .filter(|c| members.iter().any(|m| m.attempt_failures.contains_key(c)))
        .collect()
}

impl Report {
    /// The readable report `lbsim run` prints: summary, member table, failed attempts by cause,
    /// notable events; complete with [`Width::Full`], fitted to a terminal otherwise.
    pub fn to_text(&self, width: Width) -> String {
        let s = &self.summary;
        let l = &s.latency_ms;
        let sc = &self.scenario;
        let c = &s.connections;
        let mut lines = vec![
            format!(
                "scenario {} (seed {}, {} s, warmup {} s), lbsim {}",
                printable(&sc.name),
                sc.seed,
                sc.duration_s,
                sc.warmup_s,
                self.lbsim.version
            ),
            format!(
                "requests {}  completed {}  failed {}  rejected {}  reset {}",
                s.requests, s.completed, s.failed, s.rejected, s.reset
            ),
            format!("clients: {}", clients_line(s)),
            format!(
                "attempts {}  retries {}  retried then ok {}",
                grouped(s.attempts),
                grouped(s.retries),
                grouped(s.retried_ok)
            ),
            format!(
                "throughput {:.1} req/s  cross-AZ {:.2} %  in system {:.2}",
                s.throughput_rps,
                s.cross_az_fraction * 100.0,
                s.mean_in_system
            ),
            format!(
                "latency ms  mean {:.3}  p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}",
                l.mean, l.p50, l.p90, l.p99, l.p999, l.max
            ),
        ];
        if c.drain_resets + c.cuts + c.migrations > 0 {
            lines.push(format!(
                "connections {}  drain resets {}  cut {}  migrated {} (reset {})",
                c.opened, c.drain_resets, c.cuts, c.migrations, c.migration_resets
            ));
        }
        if c.dropped + c.idle_closes > 0 {
            lines.push(format!(
                "connections {}  dropped by the listener's limits {}  closed idle {}",
                c.opened, c.dropped, c.idle_closes
            ));
        }
        let mut o: String = lines.iter().map(|line| prose(line, width)).collect();
        let members = self.member_table().render(width);
        o.push('\n');
        o.push_str(&members.text);
        o.push_str(&dropped_note(&members, width));
        if let Some(causes) = self.cause_table() {
            o.push_str("\nfailed attempts by cause\n");
            o.push_str(&causes.render(width).text);
        }
        if !self.events.is_empty() {
            o.push_str("\nevents\n");
            o.push_str(&self.event_table().render(width).text);
        }
        o
    }

    /// One row per member. On a narrow terminal the columns go in this order: peak, p50 ms,
    /// attempts, completed, weight, az, tier, reset, rejected; member, requests, share, failed
    /// and p99 ms always stay.
    fn member_table(&self) -> TextTable {
        let mut t = TextTable::new(vec![
            Column::text("member"),
            Column::text("az").droppable(6),
            Column::text("tier").droppable(7),
            Column::number("weight").droppable(5),
            Column::number("requests"),
            Column::number("share"),
            Column::number("attempts").droppable(3),
            Column::number("completed").droppable(4),
            Column::number("failed"),
            Column::number("rejected").droppable(9),
            Column::number("reset").droppable(8),
            Column::number("peak").droppable(1),
            Column::number("p50 ms").droppable(2),
            Column::number("p99 ms"),
        ]);
        for m in &self.members {
            t.push(vec![
                printable(&m.id).into_owned(),
                printable(&m.az).into_owned(),
                m.tier.as_str().to_string(),
                m.weight.to_string(),
                m.requests.to_string(),
                format!("{:.1}%", m.share * 100.0),
                m.attempts.to_string(),
                m.completed.to_string(),
                m.failed.to_string(),
                m.rejected.to_string(),
                m.reset.to_string(),
                m.peak_connections.to_string(),
                ms(m, m.latency_ms.p50),
                ms(m, m.latency_ms.p99),
            ]);
        }
        t
    }

    /// Failed attempts per member, one column per cause any member has; `None` when no
    /// attempt failed.
    fn cause_table(&self) -> Option<TextTable> {
        let causes = attempt_causes(&self.members);
        if causes.is_empty() {
            return None;
        }
        let columns = std::iter::once(Column::text("member"))
            .chain(causes.iter().map(|c| Column::number(c)))
            .collect();
        let mut t = TextTable::new(columns);
        for m in &self.members {
            let counts = causes
                .iter()
                .map(|c| m.attempt_failures.get(c).copied().unwrap_or(0).to_string());
            t.push(
                std::iter::once(printable(&m.id).into_owned())
                    .chain(counts)
                    .collect(),
            );
        }
        Some(t)
    }

    /// The notable events, one per row: time, kind, member, detail.
    fn event_table(&self) -> TextTable {
        let mut t = TextTable::new(vec![
            Column::number(""),
            Column::text(""),
            Column::text(""),
            Column::text(""),
        ]);
        for e in &self.events {
            t.push(vec![
                format!("{:.3} s", e.t_s),
                e.kind.to_string(),
                printable(e.member.as_deref().unwrap_or("-")).into_owned(),
                printable(&e.detail).into_owned(),
            ]);
        }
        t
    }
}

/// A member's latency figure; "—" for a member that completed no request (it has none, not 0).
fn ms(m: &super::MemberReport, v: f64) -> String {
    match m.completed {
        0 => "—".into(),
        _ => format!("{v:.3}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_keep_two_significant_digits_below_one() {
        assert_eq!(percent(0.0), "0.0");
        assert_eq!(percent(0.0049), "0.49");
        assert_eq!(percent(0.000012), "0.0012");
        assert_eq!(percent(0.5), "50.0");
        assert_eq!(percent(0.0123), "1.2");
    }
}
