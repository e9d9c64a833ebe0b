//! Health checks: probe chains, and health transitions as a pure function of the probe result.
//!
//! One health state per member, shared by every LB node (the vendor probes from each node; the
//! states agree except for a few probe intervals). A probe succeeds at once at a serving member,
//! fails at once where the connection is refused (or the health endpoint fails), and fails at
//! the probe timeout where nothing answers. Probes do not queue behind requests.

use super::config::Failure;
use super::engine::{Engine, Ev};
use super::observe::{NoticeKind, Observer};
use super::sample::unit;
use crate::balancer::{Health, Joined};
use crate::model::MemberIdx;
use crate::time::SimTime;

/// A member's health and its current run of probe results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct HealthState {
    pub health: Health,
    ok_streak: u32,
    fail_streak: u32,
}

impl HealthState {
    pub(super) fn new(health: Health) -> Self {
        HealthState {
            health,
            ok_streak: 0,
            fail_streak: 0,
        }
    }
}

/// The state after one probe, and the new health when it changed: `rise` successes in a row
/// bring an OFFLINE member ONLINE (one success a new, INITIAL, member), `fall` failures take an
/// ONLINE or INITIAL member OFFLINE.
pub(super) fn transition(
    s: HealthState,
    probe_ok: bool,
    rise: u32,
    fall: u32,
) -> (HealthState, Option<Health>) {
    let (ok_streak, fail_streak) = if probe_ok {
        (s.ok_streak + 1, 0)
    } else {
        (0, s.fail_streak + 1)
    };
    let health = match s.health {
        Health::Initial if probe_ok => Health::Online,
        Health::Offline if probe_ok && ok_streak >= rise => Health::Online,
        Health::Online | Health::Initial if !probe_ok && fail_streak >= fall => Health::Offline,
        other => other,
    };
    let next = HealthState {
        health,
        ok_streak,
        fail_streak,
    };
    (next, (health != s.health).then_some(health))
}

impl<O: Observer> Engine<'_, O> {
    /// Sets `m`'s health on the engine and every node, and drains or cuts its connections if
    /// that made it unavailable.
    pub(super) fn set_health(&mut self, m: MemberIdx, h: Health) {
        let was = self.eligible(m);
        self.health[m as usize].health = h;
        self.health_changed(m, h, was);
    }

    fn health_changed(&mut self, m: MemberIdx, h: Health, was_eligible: bool) {
        let now = self.now;
        self.nodes.each(|b| b.set_health(now, m, h));
        match h {
            Health::Online => self.notice(Some(m), NoticeKind::HealthOnline),
            Health::Offline => self.notice(Some(m), NoticeKind::HealthOffline),
            Health::Initial | Health::NoMonitor => {}
        }
        self.after_change(m, was_eligible);
    }

    /// Starts `m`'s probe chain at a random phase, as probes of different members are not
    /// synchronised (this also makes detection delay uniform, as in the closed form).
    pub(super) fn start_probes(&mut self, m: MemberIdx) {
        if let Some(h) = self.pool.health_check {
            let offset = SimTime((unit(&mut self.rng) * h.interval.0 as f64) as u64);
            let epoch = self.probe_epoch;
            self.q
                .push(self.now + offset, Ev::Probe { member: m, epoch });
        }
    }

    pub(super) fn probe(&mut self, m: MemberIdx, epoch: u32) {
        let Some(h) = self.pool.health_check else {
            return;
        };
        self.q
            .push(self.now + h.interval, Ev::Probe { member: m, epoch });
        // a refused probe fails at once, an unanswered one at its timeout; a hung member
        // still accepts connections (listener-and-logs §1; issue of the failure modes)
        match self.servers[m as usize].mode {
            Failure::None | Failure::ErrorRate(_) => self.probe_result(m, true),
            Failure::Hang if !h.reads_response => self.probe_result(m, true),
            Failure::Refuse | Failure::HealthOnly => self.probe_result(m, false),
            Failure::Blackhole | Failure::Hang => self
                .q
                .push(self.now + h.timeout, Ev::ProbeFailed { member: m, epoch }),
        }
    }

    pub(super) fn probe_result(&mut self, m: MemberIdx, ok: bool) {
        let Some(h) = self.pool.health_check else {
            return;
        };
        let (next, changed) = transition(self.health[m as usize], ok, h.rise, h.fall);
        let was = self.eligible(m);
        self.health[m as usize] = next;
        if let Some(health) = changed {
            self.health_changed(m, health, was);
        }
    }

    /// The health monitor was created, removed or changed: restart every probe chain. Members
    /// are assumed healthy when a monitor appears (the next probes correct that).
    pub(super) fn restart_monitoring(&mut self) {
        self.probe_epoch += 1;
        let health = Health::starting(self.pool.health_check.is_some(), Joined::AtStart);
        for m in 0..self.servers.len() as u32 {
            if self.membership[m as usize].removed {
                continue;
            }
            let was = self.health[m as usize].health;
            self.health[m as usize] = HealthState::new(was);
            if was != health {
                self.set_health(m, health);
            }
            self.start_probes(m);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(mut s: HealthState, probes: &str, rise: u32, fall: u32) -> Vec<Option<Health>> {
        probes
            .chars()
            .map(|c| {
                let (next, changed) = transition(s, c == '+', rise, fall);
                s = next;
                changed
            })
            .collect()
    }

    const ON: Option<Health> = Some(Health::Online);
    const OFF: Option<Health> = Some(Health::Offline);

    #[test]
    fn fall_failures_in_a_row_take_a_member_offline() {
        let s = HealthState::new(Health::Online);
        assert_eq!(run(s, "--+---", 2, 3), [None, None, None, None, None, OFF]);
    }

    #[test]
    fn rise_successes_in_a_row_bring_it_back() {
        let s = HealthState::new(Health::Offline);
        assert_eq!(run(s, "++-+++", 3, 2), [None, None, None, None, None, ON]);
    }

    #[test]
    fn a_new_member_needs_one_success_or_fall_failures() {
        let s = HealthState::new(Health::Initial);
        assert_eq!(run(s, "+", 3, 3), [ON]);
        assert_eq!(run(s, "-+", 3, 3), [None, ON]);
        assert_eq!(run(s, "--", 3, 2), [None, OFF]);
    }

    #[test]
    fn without_a_monitor_nothing_changes() {
        let s = HealthState::new(Health::NoMonitor);
        assert_eq!(run(s, "++--", 1, 1), [None; 4]);
    }
}
