//! The discrete-event simulator: replays a workload through one [`Balancer`] per load-balancer
//! node against modelled backends, health checks and a timeline of faults and API changes.
//!
//! Entry point: [`run`]. It is a pure function of the [`SimConfig`] (one `ChaCha8Rng` seeded from
//! `seed`, integer time, `libm` samplers), pushing observations into an [`Observer`].
//!
//! [`Balancer`]: crate::balancer::Balancer

mod check;
pub mod config;
mod counters;
mod engine;
mod health;
mod members;
mod nodes;
pub mod observe;
mod propagation;
pub mod queue;
mod requests;
pub mod sample;
mod server;
mod slab;
mod timeline;
mod workload;

pub use config::*;
pub use observe::{AttemptObs, Notice, NoticeKind, Observer, Outcome, RequestObs};

use crate::balancer::BalancerCounters;
use crate::model::Member;

/// Work limit applied when [`Limits::max_events`] is not given: about two minutes of wall time
/// at the engine's speed, enough for an hour of 100 k req/s, small enough that a typo such as an
/// extra zero in a rate fails fast instead of running for hours.
pub const DEFAULT_MAX_EVENTS: u64 = 1_000_000_000;

/// Guards the caller sets, apart from the scenario.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// Refuse runs whose estimated event count exceeds this (default [`DEFAULT_MAX_EVENTS`]).
    pub max_events: Option<u64>,
}

/// Why a run did not start.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SimError {
    #[error(
        "the scenario needs about {estimated} events, more than the limit of {limit} \
         (raise it with --max-events)"
    )]
    TooMuchWork { estimated: u64, limit: u64 },
    /// A value the lowering should have rejected; the message names it.
    #[error("invalid simulation config: {0}")]
    InvalidConfig(String),
}

/// What the engine knows at the end that observers cannot see.
#[derive(Clone, Debug, PartialEq)]
pub struct RunOutput {
    /// Every member that existed during the run, by index (added ones included).
    pub members: Vec<MemberOutput>,
    /// Events processed, arrivals included.
    pub events: u64,
    /// Connections opened after warmup.
    pub connections: u64,
    /// Connections reset when their drain timeout expired.
    pub drain_resets: u64,
    /// Connections reset at once because the pool has no connection drain.
    pub cuts: u64,
    /// QUIC connections that changed client address.
    pub migrations: u64,
    /// Of those, connections reset because the new path reached another member.
    pub migration_resets: u64,
    /// New connections dropped by a node over the listener's `cps` or `connection` limit.
    pub dropped: u64,
    /// Connections the load balancer closed after `keepalive_timeout` idle.
    pub idle_closes: u64,
    /// Time-average number of requests waiting for a response after warmup (Little's `L`).
    pub mean_in_system: f64,
    /// What the LB nodes' balancers counted after warmup (fallbacks, persistence), all nodes
    /// summed.
    pub balancer: BalancerCounters,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MemberOutput {
    /// As configured or added; `weight` and `enabled` are the values at the end of the run.
    pub member: Member,
    pub removed: bool,
    /// Most connections (per-connection pools) or requests held (per-request pools) at once
    /// after warmup.
    pub peak_connections: u32,
}

/// Runs one simulation.
///
/// Refuses, before doing any work, configurations the engine cannot run and runs estimated
/// beyond the event limit. Same config ⇒ same observations in the same order, on any machine.
pub fn run<O: Observer>(
    config: &SimConfig,
    limits: Limits,
    observer: O,
) -> Result<RunOutput, SimError> {
    check_work(config, limits)?;
    Ok(engine::Engine::new(config, observer)?.run())
}

/// The work check [`run`] makes first: refuses a run estimated beyond the event limit.
pub fn check_work(config: &SimConfig, limits: Limits) -> Result<(), SimError> {
    let limit = limits.max_events.unwrap_or(DEFAULT_MAX_EVENTS);
    let estimated = check::estimate_events(config)?;
    if estimated > limit {
        return Err(SimError::TooMuchWork { estimated, limit });
    }
    Ok(())
}
