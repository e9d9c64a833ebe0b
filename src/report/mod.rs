//! The run report: a serialisable summary (the JSON contract of `lbsim run --json`), its
//! readable text form, and the per-request trace writer.
//!
//! Only structs, `Vec`s and `BTreeMap`s are serialised, so key order is fixed; counters and
//! times stay integers until this point, and every float is computed here from them with IEEE
//! arithmetic only, so the same run gives the same bytes on any machine.

pub mod html;
pub mod svg;
mod text;
mod trace;

pub use text::{attempt_causes, clients_line, percent};
pub use trace::TraceWriter;

use crate::model::MemberIdx;
use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::metrics::{status, Counts, Recorder};
use crate::model::{Tier, ZoneId};
use crate::sim::{Failure, Notice, NoticeKind, Outcome, RunOutput, SimConfig};
use crate::time::SimTime;

/// The JSON report's format version (`format_version`): 2 added the client-visible status
/// codes, attempts and retries; 1 was the earlier format, which had no version field.
pub const FORMAT_VERSION: u32 = 2;

/// The whole report. Field names and nesting are a public contract (issue 12), documented in
/// `docs/report-format.md`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub format_version: u32,
    pub lbsim: Version,
    pub scenario: ScenarioInfo,
    pub summary: Summary,
    pub members: Vec<MemberReport>,
    pub events: Vec<EventReport>,
    pub timeline: Timeline,
    /// The notices `events` is written from, typed: metrics derived from the timeline
    /// (`compare`'s detection and failover times) read these, not the event text.
    #[serde(skip)]
    pub notices: Vec<Notice>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Version {
    pub version: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScenarioInfo {
    pub name: String,
    pub seed: u64,
    pub duration_s: f64,
    pub warmup_s: f64,
}

/// Requests that arrived after warmup. `requests` = `completed + failed + rejected + reset`;
/// requests still in flight at the end are in none of them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    pub requests: u64,
    pub completed: u64,
    pub failed: u64,
    pub rejected: u64,
    pub reset: u64,
    /// Requests whose final outcome is not `ok`: `requests - completed`.
    pub client_errors: u64,
    /// `client_errors / requests` (0 without requests).
    pub client_error_share: f64,
    /// Requests by the status code the client saw (`"none"`: no HTTP response); codes seen only.
    pub status_codes: BTreeMap<&'static str, u64>,
    /// Requests by final outcome; every cause, zeros included.
    pub outcomes: BTreeMap<&'static str, u64>,
    /// Attempts made on members by all requests.
    pub attempts: u64,
    /// Attempts beyond each request's first.
    pub retries: u64,
    /// Requests that completed after more than one attempt.
    pub retried_ok: u64,
    /// Completed requests per second of the measured window.
    pub throughput_rps: f64,
    pub cross_az_fraction: f64,
    /// Of completed requests, arrival at the LB to response.
    pub latency_ms: Latency,
    /// Latencies beyond the histogram's range (one hour), clamped to it.
    pub latency_overflows: u64,
    pub connections: Connections,
    pub picks: Picks,
    /// Time-average number of requests in the system (Little's `L`).
    pub mean_in_system: f64,
    pub events_processed: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Connections {
    pub opened: u64,
    pub drain_resets: u64,
    pub cuts: u64,
    pub migrations: u64,
    pub migration_resets: u64,
    /// New connections dropped by the listener's `cps` or `connection` limit.
    pub dropped: u64,
    /// Connections the load balancer closed after `keepalive_timeout` idle.
    pub idle_closes: u64,
}

/// Picks (first attempts and retries) the balancers made by a rule other than the algorithm's
/// own, after warmup, all LB nodes summed: what explains a share that looks wrong.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Picks {
    /// `QUIC_CID` picks whose connection ID was absent or too short, hashed on the source IP.
    pub quic_cid_fallbacks: u64,
    /// Picks made by AZ affinity's fallback strategy (the local AZ below its threshold).
    pub az_fallbacks: u64,
    /// Picks among members all marked offline (`minimum_healthy_member_count` 1: fail open).
    pub fail_open_picks: u64,
    /// Picks decided by a live session-persistence binding.
    pub persistence_hits: u64,
    /// Bindings whose member was no longer eligible, dropped and picked again.
    pub persistence_rebinds: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Latency {
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Latency {
    fn new<C: hdrhistogram::Counter>(h: &Histogram<C>, sum_ns: u128) -> Latency {
        if h.is_empty() {
            return Latency::default();
        }
        let ms = |ns: u64| ns as f64 / 1e6;
        Latency {
            mean: sum_ns as f64 / h.len() as f64 / 1e6,
            p50: ms(h.value_at_quantile(0.5)),
            p90: ms(h.value_at_quantile(0.9)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemberReport {
    pub id: String,
    /// The member's AZ name, empty when unknown.
    pub az: String,
    /// The member's AZ as an index into the pool's zones (not in the JSON: `az` names it).
    #[serde(skip)]
    pub zone: Option<ZoneId>,
    #[serde(serialize_with = "tier_name")]
    pub tier: Tier,
    /// Weight at the end of the run.
    pub weight: u32,
    pub requests: u64,
    /// Fraction of all member-assigned requests.
    pub share: f64,
    pub completed: u64,
    pub failed: u64,
    pub rejected: u64,
    pub reset: u64,
    /// Attempts made on the member: the requests it ended and the attempts retried away.
    pub attempts: u64,
    /// Failed attempts on the member by cause; causes seen only.
    pub attempt_failures: BTreeMap<&'static str, u64>,
    pub peak_connections: u32,
    pub removed: bool,
    /// Distinct URIs the member was asked for: the working set a cache behind it must hold
    /// (URI hashing keeps it near the URI count divided by the members).
    pub distinct_uris: u64,
    pub latency_ms: Latency,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventReport {
    pub t_s: f64,
    pub kind: &'static str,
    pub member: Option<String>,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Timeline {
    pub bucket_s: f64,
    /// Start of the first bucket: the end of warmup.
    pub start_s: f64,
    /// Keyed by member id.
    pub members: BTreeMap<String, Series>,
    pub clients: ClientSeries,
}

/// What all clients saw per bucket, in buckets of `bucket_s`: the timeline's bucket, or a whole
/// multiple of it on long runs (at most [`crate::metrics::MAX_BUCKETS`] buckets).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClientSeries {
    pub bucket_s: f64,
    /// Requests arriving in each bucket, with or without a member.
    pub requests: Vec<u64>,
    /// Of those, the ones that did not complete, by final outcome; causes seen only.
    pub failures: BTreeMap<&'static str, Vec<u64>>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Series {
    /// Requests arriving in each bucket.
    pub requests: Vec<u64>,
    /// Of those, the ones not completed (failed, rejected, reset).
    pub failed: Vec<u64>,
}

impl Report {
    /// Builds the report of one run from its config, the engine's output and the recorder that
    /// observed it.
    pub fn new(config: &SimConfig, out: &RunOutput, rec: &Recorder) -> Report {
        let window_s = config.duration.saturating_sub(config.warmup).as_secs_f64();
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let zone_name = |z: Option<u16>| {
            z.and_then(|z| config.pool.zones.get(usize::from(z)))
                .cloned()
                .unwrap_or_default()
        };
        let assigned: u64 = rec.members.iter().map(|m| m.counts.requests).sum();
        let members: Vec<MemberReport> = out
            .members
            .iter()
            .zip(&rec.members)
            .enumerate()
            .map(|(i, (o, r))| {
                let Counts {
                    requests,
                    completed,
                    failed,
                    rejected,
                    reset,
                    ..
                } = r.counts;
                MemberReport {
                    id: o.member.key.clone(),
                    az: zone_name(o.member.zone),
                    zone: o.member.zone,
                    tier: o.member.tier,
                    weight: o.member.weight,
                    requests,
                    share: ratio(requests, assigned),
                    completed,
                    failed,
                    rejected,
                    reset,
                    attempts: r.attempts(),
                    attempt_failures: nonzero(&r.attempt_failures()),
                    peak_connections: o.peak_connections,
                    removed: o.removed,
                    distinct_uris: rec.distinct_uris(i),
                    latency_ms: Latency::new(&r.latency, r.latency_sum),
                }
            })
            .collect();
        let key = |m: MemberIdx| out.members[m as usize].member.key.clone();
        let events = rec
            .notices
            .iter()
            .map(|n| event(n, key, |z| zone_name(Some(z))))
            .collect();
        let timeline = Timeline {
            bucket_s: config.bucket.as_secs_f64(),
            start_s: config.warmup.as_secs_f64(),
            members: out
                .members
                .iter()
                .enumerate()
                .map(|(m, o)| {
                    let series = Series {
                        requests: rec.requests.member(m).collect(),
                        failed: rec.failed.member(m).collect(),
                    };
                    (o.member.key.clone(), series)
                })
                .collect(),
            clients: client_series(rec.outcomes.bucket(), &rec.outcomes_over_time()),
        };
        let t = rec.total;
        Report {
            format_version: FORMAT_VERSION,
            lbsim: Version {
                version: env!("CARGO_PKG_VERSION").to_string(),
            },
            scenario: ScenarioInfo {
                name: config.name.clone(),
                seed: config.seed,
                duration_s: config.duration.as_secs_f64(),
                warmup_s: config.warmup.as_secs_f64(),
            },
            summary: Summary {
                requests: t.requests,
                completed: t.completed,
                failed: t.failed,
                rejected: t.rejected,
                reset: t.reset,
                client_errors: t.client_errors(),
                client_error_share: ratio(t.client_errors(), t.requests),
                status_codes: status::NAMES
                    .into_iter()
                    .zip(rec.statuses())
                    .filter(|(_, n)| *n > 0)
                    .collect(),
                outcomes: Outcome::ALL
                    .iter()
                    .zip(t.by_outcome())
                    .map(|(o, n)| (o.as_str(), n))
                    .collect(),
                attempts: rec.attempts.attempts,
                retries: rec.attempts.retries,
                retried_ok: rec.attempts.retried_ok,
                throughput_rps: if window_s > 0.0 {
                    t.completed as f64 / window_s
                } else {
                    0.0
                },
                cross_az_fraction: ratio(rec.cross_az, t.requests),
                latency_ms: Latency::new(&rec.latency, rec.latency_sum()),
                latency_overflows: rec.overflows,
                connections: Connections {
                    opened: out.connections,
                    drain_resets: out.drain_resets,
                    cuts: out.cuts,
                    migrations: out.migrations,
                    migration_resets: out.migration_resets,
                    dropped: out.dropped,
                    idle_closes: out.idle_closes,
                },
                picks: Picks {
                    quic_cid_fallbacks: out.balancer.quic_cid_fallbacks,
                    az_fallbacks: out.balancer.az_fallbacks,
                    fail_open_picks: out.balancer.fail_open_picks,
                    persistence_hits: out.balancer.persistence_hits,
                    persistence_rebinds: out.balancer.persistence_rebinds,
                },
                mean_in_system: out.mean_in_system,
                events_processed: out.events,
            },
            members,
            events,
            timeline,
            notices: rec.notices.clone(),
        }
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        crate::json::pretty(self)
    }
}

/// The non-zero counts of an array by [`Outcome::index`], by cause name.
fn nonzero(by_outcome: &[u64; Outcome::ALL.len()]) -> BTreeMap<&'static str, u64> {
    Outcome::ALL
        .iter()
        .map(|o| (o.as_str(), by_outcome[o.index()]))
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn client_series(bucket: SimTime, counts: &[[u64; Outcome::ALL.len()]]) -> ClientSeries {
    let failures = Outcome::ALL
        .iter()
        .filter(|o| **o != Outcome::Ok && counts.iter().any(|c| c[o.index()] > 0))
        .map(|o| (o.as_str(), counts.iter().map(|c| c[o.index()]).collect()))
        .collect();
    ClientSeries {
        bucket_s: bucket.as_secs_f64(),
        requests: counts.iter().map(|c| c.iter().sum()).collect(),
        failures,
    }
}

fn tier_name<S: serde::Serializer>(tier: &Tier, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(tier.as_str())
}

fn event(
    n: &Notice,
    key: impl Fn(MemberIdx) -> String,
    zone: impl Fn(u16) -> String,
) -> EventReport {
    let (kind, detail) = match &n.kind {
        NoticeKind::Failing(Failure::None) => ("member_up", String::new()),
        NoticeKind::Failing(Failure::Refuse) => ("member_down", String::new()),
        NoticeKind::Failing(Failure::ErrorRate(p)) => ("member_fail", format!("error_rate {p}")),
        NoticeKind::Failing(f) => ("member_fail", f.as_str().to_string()),
        NoticeKind::Slow(f) => ("member_slow", format!("factor {f}")),
        NoticeKind::AzDown(z) => ("az_down", zone(*z)),
        NoticeKind::AzUp(z) => ("az_up", zone(*z)),
        NoticeKind::SetWeight(w) => ("set_weight", format!("weight {w}")),
        NoticeKind::MemberAdded => ("member_added", String::new()),
        NoticeKind::MemberRemoved => ("member_removed", String::new()),
        NoticeKind::RemoveRefused => ("remove_refused", "deletion protection".into()),
        NoticeKind::PoolUpdated => ("pool_updated", String::new()),
        NoticeKind::SetRate(r) => ("set_rate", format!("{r} per s")),
        NoticeKind::SetEnabled(e) => ("set_enabled", format!("{e}")),
        NoticeKind::SetTier(t) => ("set_tier", t.as_str().to_string()),
        NoticeKind::HealthOnline => ("health_online", String::new()),
        NoticeKind::HealthOffline => ("health_offline", String::new()),
        NoticeKind::DrainStarted(c) => ("drain_started", format!("{c} connections")),
        NoticeKind::DrainReset(c) => ("drain_reset", format!("{c} connections")),
        NoticeKind::Cut(c) => ("connections_cut", format!("{c} connections")),
    };
    EventReport {
        t_s: n.at.as_secs_f64(),
        kind,
        member: n.member.map(key),
        detail,
    }
}

#[cfg(test)]
mod tests;
