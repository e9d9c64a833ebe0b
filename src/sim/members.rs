//! Members as the engine sees them beyond their servers and health: removal, crashes,
//! additions, and connection drain when a member stops taking new traffic.
//!
//! Drain concerns a per-connection pool's open connections only: the balancers are not told (the
//! member is already no candidate for whatever made it unavailable), so a healthy weight-0
//! member counts for its AZ's affinity threshold as it does without drain.

use super::config::{BackendConfig, Failure, Undrained};
use super::counters::Count;
use super::engine::{Engine, Ev};
use super::health::HealthState;
use super::observe::{NoticeKind, Observer, Outcome};
use super::server::Server;
use super::slab::Ix;
use crate::balancer::{Health, Joined};
use crate::model::Member;
use crate::model::MemberIdx;

/// A member's standing in the pool.
#[derive(Clone, Copy, Default)]
pub(super) struct Membership {
    /// How the member itself is failing (AZ failures are tracked per zone; how the load
    /// balancer meets it is its server's `mode`).
    pub failure: Failure,
    pub removed: bool,
    /// Its connections are draining; `drain_epoch` changes whenever drain starts or ends, so a
    /// deadline from an earlier drain is stale.
    pub draining: bool,
    pub drain_epoch: u32,
}

impl<O: Observer> Engine<'_, O> {
    /// Would a balancer consider `m` for new traffic (as far as the engine tracks it)?
    pub(super) fn eligible(&self, m: MemberIdx) -> bool {
        let meta = &self.meta[m as usize];
        !self.membership[m as usize].removed
            && meta.enabled
            && meta.weight > 0
            && self.health[m as usize].health.is_healthy()
    }

    /// Starts or cancels connection drain after a change to `m` that may have altered
    /// [`Self::eligible`].
    pub(super) fn after_change(&mut self, m: MemberIdx, was_eligible: bool) {
        let now_eligible = self.eligible(m);
        if was_eligible && !now_eligible {
            self.unavailable(m);
        } else if !was_eligible && now_eligible && self.membership[m as usize].draining {
            self.set_draining(m, false);
        }
    }

    /// `m` takes no new traffic: drain its connections (TCP/UDP/QUIC pools with drain) or cut
    /// them. Per-request pools have no bound connections.
    fn unavailable(&mut self, m: MemberIdx) {
        if !self.per_conn {
            return;
        }
        let member = Some(Ix::new(m));
        let bound = (0..self.conns.len())
            .filter(|&c| self.conns.live(c).is_some_and(|conn| conn.member == member))
            .count() as u32;
        if bound == 0 {
            return;
        }
        match self.pool.drain_timeout {
            Some(t) if self.pool.protocol.supports_drain() => {
                if !self.membership[m as usize].draining {
                    self.set_draining(m, true);
                    let epoch = self.membership[m as usize].drain_epoch;
                    self.q
                        .push(self.now + t, Ev::DrainDeadline { member: m, epoch });
                }
                self.notice(Some(m), NoticeKind::DrainStarted(bound));
            }
            // the older reading: they run on until idle for the keep-alive timeout
            _ if self.cfg.front.undrained == Undrained::UntilIdle => {}
            _ => {
                let n = self.reset_bound(m, Outcome::Reset);
                self.counters.count(Count::Cut, u64::from(n));
                self.notice(Some(m), NoticeKind::Cut(n));
            }
        }
    }

    fn set_draining(&mut self, m: MemberIdx, draining: bool) {
        let s = &mut self.membership[m as usize];
        s.draining = draining;
        s.drain_epoch = s.drain_epoch.wrapping_add(1);
    }

    /// `m`'s drain timeout expired: its remaining connections are reset.
    pub(super) fn drain_deadline(&mut self, m: MemberIdx) {
        let n = self.reset_bound(m, Outcome::Reset);
        self.counters.count(Count::DrainReset, u64::from(n));
        self.set_draining(m, false);
        self.notice(Some(m), NoticeKind::DrainReset(n));
    }

    /// Recomputes how `m` fails as the load balancer meets it (an AZ outage takes its hosts
    /// off the network: `blackhole`), and acts on the change: a process that dies resets what
    /// it holds; a member that goes silent leaves it to the timeouts.
    pub(super) fn refresh_mode(&mut self, m: MemberIdx) {
        let zone = self.servers[m as usize].zone;
        let zone_down = zone.is_some_and(|z| self.zone_down[usize::from(z)]);
        let mode = if zone_down {
            Failure::Blackhole
        } else {
            self.membership[m as usize].failure
        };
        let was = std::mem::replace(&mut self.servers[m as usize].mode, mode);
        self.failing =
            self.failing + u32::from(mode != Failure::None) - u32::from(was != Failure::None);
        let silent = |f: Failure| matches!(f, Failure::Blackhole | Failure::Hang);
        if mode == Failure::Refuse && was != Failure::Refuse {
            if self.per_conn {
                self.reset_bound(m, Outcome::Refused);
            }
            self.refuse_held(m);
        } else if silent(mode) && !silent(was) {
            self.silence(m);
        }
    }

    /// Every node indexes the member disabled, until it applies the change that added it
    /// (`propagation.rs`). `cfg` comes from an `AddMembers` action, whose backends were checked
    /// before the run started, so building the server cannot fail here.
    #[allow(clippy::expect_used)]
    pub(super) fn add_member(&mut self, member: Member, cfg: &BackendConfig) {
        let server = Server::new(&member, cfg).expect("checked before the run");
        let m = self.servers.len() as u32;
        let now = self.now;
        let seen = Member {
            enabled: false,
            ..member.clone()
        };
        self.nodes.each(|b| {
            let idx = b.add_member(now, seen.clone());
            debug_assert_eq!(idx, m, "balancers index members in the order added");
        });
        self.failing += u32::from(server.mode != Failure::None);
        self.servers.push(server);
        let monitored = self.pool.health_check.is_some();
        self.health
            .push(HealthState::new(Health::starting(monitored, Joined::Added)));
        self.membership.push(Membership {
            failure: cfg.failure,
            ..Membership::default()
        });
        self.obs.member_added(m, &member);
        self.meta.push(member);
        self.refresh_mode(m);
        self.notice(Some(m), NoticeKind::MemberAdded);
        self.start_probes(m);
    }
}
