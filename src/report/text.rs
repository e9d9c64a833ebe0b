//! The readable form of a run report (`lbsim run`): the summary an SRE reads first, the member
//! table and the notable events.

use std::fmt::Write as _;

use super::{MemberReport, Report, Summary, MAX_COLUMN};
use crate::sim::Outcome;
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
    /// The readable report `lbsim run` prints: summary, member table, notable events.
    pub fn to_text(&self) -> String {
        let mut o = String::new();
        let s = &self.summary;
        let l = &s.latency_ms;
        let sc = &self.scenario;
        // writing to a String cannot fail
        let _ = writeln!(
            o,
            "scenario {} (seed {}, {} s, warmup {} s), lbsim {}",
            printable(&sc.name),
            sc.seed,
            sc.duration_s,
            sc.warmup_s,
            self.lbsim.version
        );
        let _ = writeln!(
            o,
            "requests {}  completed {}  failed {}  rejected {}  reset {}",
            s.requests, s.completed, s.failed, s.rejected, s.reset
        );
        let _ = writeln!(o, "clients: {}", clients_line(s));
        let _ = writeln!(
            o,
            "attempts {}  retries {}  retried then ok {}",
            grouped(s.attempts),
            grouped(s.retries),
            grouped(s.retried_ok)
        );
        let _ = writeln!(
            o,
            "throughput {:.1} req/s  cross-AZ {:.2} %  in system {:.2}",
            s.throughput_rps,
            s.cross_az_fraction * 100.0,
            s.mean_in_system
        );
        let _ = writeln!(
            o,
            "latency ms  mean {:.3}  p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}",
            l.mean, l.p50, l.p90, l.p99, l.p999, l.max
        );
        let c = &s.connections;
        if c.drain_resets + c.cuts + c.migrations > 0 {
            let _ = writeln!(
                o,
                "connections {}  drain resets {}  cut {}  migrated {} (reset {})",
                c.opened, c.drain_resets, c.cuts, c.migrations, c.migration_resets
            );
        }
        if c.dropped + c.idle_closes > 0 {
            let _ = writeln!(
                o,
                "connections {}  dropped by the listener's limits {}  closed idle {}",
                c.opened, c.dropped, c.idle_closes
            );
        }
        self.member_table(&mut o);
        if !self.events.is_empty() {
            let _ = writeln!(o, "\nevents");
            for e in &self.events {
                let _ = writeln!(
                    o,
                    "{:>10.3} s  {:16}  {}  {}",
                    e.t_s,
                    e.kind,
                    printable(e.member.as_deref().unwrap_or("-")),
                    printable(&e.detail)
                );
            }
        }
        o
    }

    /// One row per member; failed attempts by cause in one column per cause any member has,
    /// under a heading of their own.
    fn member_table(&self, o: &mut String) {
        let width = |f: &dyn Fn(&MemberReport) -> usize, min: usize| {
            self.members
                .iter()
                .map(f)
                .max()
                .unwrap_or(0)
                .clamp(min, MAX_COLUMN)
        };
        let id_w = width(&|m| printable(&m.id).len(), 6);
        let az_w = width(&|m| printable(&m.az).len(), 2);
        let causes = attempt_causes(&self.members);
        let cause_w: Vec<usize> = causes.iter().map(|c| c.len().max(6)).collect();
        let fixed = format!(
            "{:id_w$}  {:az_w$}  {:7}  {:>6}  {:>10}  {:>6}  {:>10}  {:>10}  {:>8}  {:>8}  {:>8}  {:>5}  {:>8}  {:>8}",
            "member", "az", "tier", "weight", "requests", "share", "attempts", "completed", "failed",
            "rejected", "reset", "peak", "p50 ms", "p99 ms"
        );
        o.push('\n');
        if !causes.is_empty() {
            let _ = writeln!(o, "{:w$}  failed attempts by cause", "", w = fixed.len());
        }
        o.push_str(&fixed);
        for (c, w) in causes.iter().zip(&cause_w) {
            let _ = write!(o, "  {c:>w$}");
        }
        o.push('\n');
        for m in &self.members {
            let _ = write!(
                o,
                "{:id_w$}  {:az_w$}  {:7}  {:>6}  {:>10}  {:>5.1}%  {:>10}  {:>10}  {:>8}  {:>8}  {:>8}  {:>5}  {:>8.3}  {:>8.3}",
                printable(&m.id),
                printable(&m.az),
                m.tier.as_str(),
                m.weight,
                m.requests,
                m.share * 100.0,
                m.attempts,
                m.completed,
                m.failed,
                m.rejected,
                m.reset,
                m.peak_connections,
                m.latency_ms.p50,
                m.latency_ms.p99
            );
            for (c, w) in causes.iter().zip(&cause_w) {
                let n = m.attempt_failures.get(c).copied().unwrap_or(0);
                let _ = write!(o, "  {n:>w$}");
            }
            o.push('\n');
        }
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
