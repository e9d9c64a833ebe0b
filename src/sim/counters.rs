//! What the engine counts itself for [`RunOutput`]: the events, the connection counts and the
//! time-average number of requests in the system, all but `events` from the end of warm-up.

use super::{MemberOutput, RunOutput};
use crate::balancer::BalancerCounters;
use crate::time::SimTime;

/// A count kept from the end of warm-up.
#[derive(Clone, Copy)]
pub(super) enum Count {
    Connection,
    DrainReset,
    Cut,
    Migration,
    MigrationReset,
    Dropped,
    IdleClose,
}

pub(super) struct Counters {
    warm: bool,
    /// Requests whose clients wait for an outcome.
    in_system: u64,
    /// ∫ `in_system` dt since warm-up (request·ns), up to `area_t`.
    area: u128,
    area_t: SimTime,
    events: u64,
    connections: u64,
    drain_resets: u64,
    cuts: u64,
    migrations: u64,
    migration_resets: u64,
    dropped: u64,
    idle_closes: u64,
}

impl Counters {
    pub(super) fn new(warm: bool) -> Self {
        Counters {
            warm,
            in_system: 0,
            area: 0,
            area_t: SimTime::ZERO,
            events: 0,
            connections: 0,
            drain_resets: 0,
            cuts: 0,
            migrations: 0,
            migration_resets: 0,
            dropped: 0,
            idle_closes: 0,
        }
    }

    #[inline]
    pub(super) fn warm(&self) -> bool {
        self.warm
    }

    #[inline]
    pub(super) fn event(&mut self) {
        self.events += 1;
    }

    #[inline]
    pub(super) fn count(&mut self, what: Count, n: u64) {
        if self.warm {
            *match what {
                Count::Connection => &mut self.connections,
                Count::DrainReset => &mut self.drain_resets,
                Count::Cut => &mut self.cuts,
                Count::Migration => &mut self.migrations,
                Count::MigrationReset => &mut self.migration_resets,
                Count::Dropped => &mut self.dropped,
                Count::IdleClose => &mut self.idle_closes,
            } += n;
        }
    }

    /// A client starts waiting for a request at `now`.
    #[inline]
    pub(super) fn request_started(&mut self, now: SimTime) {
        self.area_to(now);
        self.in_system += 1;
    }

    /// A request's outcome is settled at `now`; its client waits until `done` (at most its
    /// timeout or the end of the run).
    #[inline]
    pub(super) fn request_ended(&mut self, now: SimTime, done: SimTime) {
        self.area_to(now);
        self.in_system -= 1;
        if self.warm {
            // the client keeps waiting until `done`, which may lie ahead of the engine's clock
            self.area += u128::from(done.saturating_sub(now).0);
        }
    }

    pub(super) fn end_warmup(&mut self, now: SimTime) {
        self.area_to(now);
        self.area = 0;
        self.warm = true;
    }

    #[inline]
    fn area_to(&mut self, now: SimTime) {
        if self.warm {
            self.area += u128::from(self.in_system) * u128::from((now - self.area_t).0);
        }
        self.area_t = now;
    }

    pub(super) fn output(
        mut self,
        end: SimTime,
        warmup: SimTime,
        members: Vec<MemberOutput>,
        balancer: BalancerCounters,
    ) -> RunOutput {
        self.area_to(end);
        let window = (end - warmup).0;
        let mean_in_system = if window == 0 {
            0.0
        } else {
            self.area as f64 / window as f64
        };
        RunOutput {
            members,
            events: self.events,
            connections: self.connections,
            drain_resets: self.drain_resets,
            cuts: self.cuts,
            migrations: self.migrations,
            migration_resets: self.migration_resets,
            dropped: self.dropped,
            idle_closes: self.idle_closes,
            mean_in_system,
            balancer,
        }
    }
}
