//! API changes reaching the LB nodes. A weight, membership or pool change takes effect on the
//! vendor's nodes "within 5 s" (elb_faq_0125), not at once: each node applies a change after its
//! own delay, drawn uniformly from 0 to `SimConfig::propagation` in whole microseconds from a
//! stream of its own (so runs without changes, or with the delay 0, draw nothing). A node
//! applies changes in the order they were made. With the delay 0 every node applies a change
//! when it is made, through the same three steps.
//!
//! Until the last node has applied a change, the pool as a whole (eligibility, connection cuts
//! and drains, the pool settings) stays as it was: those follow when no node sends new traffic
//! the old way any longer.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::config::{Action, SimConfig};
use super::engine::{Engine, Ev};
use super::observe::{NoticeKind, Observer};
use super::sample::below;
use crate::model::MemberIdx;
use crate::time::SimTime;

/// Mixed into the run's seed for the delay stream ("propagat").
const STREAM: u64 = 0x7072_6f70_6167_6174;

pub(super) struct Propagation {
    max_us: u32,
    rng: ChaCha8Rng,
    /// When each node applies the latest change sent to it.
    node_last: Vec<SimTime>,
    /// By timeline index: nodes yet to apply the change, and the members it added.
    in_flight: Vec<InFlight>,
}

#[derive(Clone, Default)]
struct InFlight {
    pending: u16,
    added: std::ops::Range<MemberIdx>,
}

impl Propagation {
    pub(super) fn new(cfg: &SimConfig, nodes: usize, changes: usize) -> Propagation {
        Propagation {
            max_us: u32::try_from(cfg.propagation.0 / 1_000).unwrap_or(u32::MAX - 1),
            rng: ChaCha8Rng::seed_from_u64(cfg.seed ^ STREAM),
            node_last: vec![SimTime::ZERO; nodes],
            in_flight: vec![InFlight::default(); changes],
        }
    }

    pub(super) fn on(&self) -> bool {
        self.max_us > 0
    }

    /// When `node` applies a change made at `now`: after its delay, and not before the changes
    /// made earlier.
    fn node_time(&mut self, node: usize, now: SimTime) -> SimTime {
        let delay = SimTime::from_micros(u64::from(below(&mut self.rng, self.max_us + 1)));
        let at = (now + delay).max(self.node_last[node]);
        self.node_last[node] = at;
        at
    }
}

/// Is `action` an API change (as opposed to a fault or a traffic change)?
pub(super) fn is_change(action: &Action) -> bool {
    matches!(
        action,
        Action::SetWeight { .. }
            | Action::SetEnabled { .. }
            | Action::SetTier { .. }
            | Action::AddMembers(_)
            | Action::RemoveMember(_)
            | Action::UpdatePool(_)
    )
}

impl<O: Observer> Engine<'_, O> {
    /// `timeline[i]`, an API change, is made now: announced at once and applied by every node,
    /// at once when the delay is 0, else each after its own delay.
    pub(super) fn make_change(&mut self, i: usize) {
        let now = self.now;
        let mut added = 0..0;
        match &self.timeline[i].action {
            Action::SetWeight { member, weight } => {
                self.notice(Some(*member), NoticeKind::SetWeight(*weight))
            }
            Action::SetEnabled { member, enabled } => {
                self.notice(Some(*member), NoticeKind::SetEnabled(*enabled))
            }
            Action::SetTier { member, tier } => {
                self.notice(Some(*member), NoticeKind::SetTier(*tier))
            }
            Action::RemoveMember(m) => {
                if self.pool.deletion_protection {
                    self.notice(Some(*m), NoticeKind::RemoveRefused);
                    return;
                }
                self.notice(Some(*m), NoticeKind::MemberRemoved);
            }
            Action::UpdatePool(_) => self.notice(None, NoticeKind::PoolUpdated),
            Action::AddMembers(_) => {
                // every node indexes the new members now, disabled until it applies the change
                let first = self.servers.len() as MemberIdx;
                let action = std::mem::replace(&mut self.timeline[i].action, Action::SetRate(0.0));
                if let Action::AddMembers(list) = action {
                    for (member, backend) in list {
                        self.add_member(member, &backend);
                    }
                }
                added = first..self.servers.len() as MemberIdx;
            }
            _ => {}
        }
        let nodes = self.propagation.node_last.len();
        self.propagation.in_flight[i] = InFlight {
            pending: nodes as u16,
            added,
        };
        for node in 0..nodes as u16 {
            if self.propagation.on() {
                let at = self.propagation.node_time(usize::from(node), now);
                self.q.push(at, Ev::Action { i: i as u32, node });
            } else {
                self.node_applies(i, node);
            }
        }
    }

    /// `node` applies `timeline[i]`; the last node to do so completes it for the pool.
    #[cold]
    pub(super) fn node_applies(&mut self, i: usize, node: u16) {
        let now = self.now;
        let added = self.propagation.in_flight[i].added.clone();
        let b = self.nodes.balancer(node);
        match &self.timeline[i].action {
            Action::SetWeight { member, weight } => b.set_weight(now, *member, *weight),
            Action::SetEnabled { member, enabled } => b.set_enabled(*member, *enabled),
            Action::SetTier { member, tier } => b.set_tier(*member, *tier),
            Action::RemoveMember(m) => b.set_enabled(*m, false),
            Action::UpdatePool(pool) => b.update_pool(now, pool),
            _ => {
                for m in added {
                    b.set_enabled(m, self.meta[m as usize].enabled);
                }
            }
        }
        let flight = &mut self.propagation.in_flight[i];
        flight.pending -= 1;
        if flight.pending == 0 {
            self.change_complete(i);
        }
    }

    /// Every node has applied `timeline[i]`: the pool follows.
    fn change_complete(&mut self, i: usize) {
        let action = std::mem::replace(&mut self.timeline[i].action, Action::SetRate(0.0));
        match action {
            Action::SetWeight { member, weight } => {
                let was = self.eligible(member);
                self.meta[member as usize].weight = weight;
                self.after_change(member, was);
            }
            Action::SetEnabled { member, enabled } => {
                let was = self.eligible(member);
                self.meta[member as usize].enabled = enabled;
                self.after_change(member, was);
            }
            Action::SetTier { member, tier } => self.meta[member as usize].tier = tier,
            Action::RemoveMember(m) => {
                let was = self.eligible(m);
                self.membership[m as usize].removed = true;
                self.after_change(m, was);
            }
            Action::UpdatePool(pool) => {
                let monitor_changed = pool.health_check != self.pool.health_check;
                self.work
                    .persistence_changed(&self.pool.persistence, &pool.persistence);
                self.pool = *pool;
                if monitor_changed {
                    self.restart_monitoring();
                }
            }
            _ => {}
        }
    }
}
