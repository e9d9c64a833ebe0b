//! Timeline actions: faults and API changes applied during the run.

use super::config::Action;
use super::engine::Engine;
use super::observe::{NoticeKind, Observer};
use super::propagation::is_change;
use crate::model::PoolConfig;

impl<O: Observer> Engine<'_, O> {
    /// Applies `timeline[i]`.
    #[cold]
    pub(super) fn apply(&mut self, i: usize) {
        let now = self.now;
        if self.propagation.on() && is_change(&self.timeline[i].action) {
            self.send_change(i);
            return;
        }
        // take the action out: AddMembers and UpdatePool move their contents into the run
        let action = std::mem::replace(&mut self.timeline[i].action, Action::SetRate(0.0));
        match action {
            Action::SetFailure { member, failure } => {
                self.servers[member as usize].failure = failure;
                self.notice(Some(member), NoticeKind::Failing(failure));
                self.refresh_mode(member);
            }
            Action::Slow { member, factor } => {
                self.servers[member as usize].set_slow(factor);
                self.notice(Some(member), NoticeKind::Slow(factor));
            }
            Action::AzDown(z) | Action::AzUp(z) => {
                let down = matches!(action, Action::AzDown(_));
                self.zone_down[usize::from(z)] = down;
                self.nodes.zones_changed(&self.zone_down);
                let kind = if down {
                    NoticeKind::AzDown(z)
                } else {
                    NoticeKind::AzUp(z)
                };
                self.notice(None, kind);
                for m in 0..self.servers.len() as u32 {
                    if self.servers[m as usize].zone == Some(z) {
                        self.refresh_mode(m);
                    }
                }
            }
            Action::SetWeight { member, weight } => {
                let was = self.eligible(member);
                self.meta[member as usize].weight = weight;
                self.nodes.each(|b| b.set_weight(now, member, weight));
                self.notice(Some(member), NoticeKind::SetWeight(weight));
                self.after_change(member, was);
            }
            Action::SetEnabled { member, enabled } => {
                let was = self.eligible(member);
                self.meta[member as usize].enabled = enabled;
                self.nodes.each(|b| b.set_enabled(member, enabled));
                self.notice(Some(member), NoticeKind::SetEnabled(enabled));
                self.after_change(member, was);
            }
            Action::SetTier { member, tier } => {
                self.meta[member as usize].tier = tier;
                self.nodes.each(|b| b.set_tier(member, tier));
                self.notice(Some(member), NoticeKind::SetTier(tier));
            }
            Action::AddMembers(list) => {
                for (member, backend) in list {
                    self.add_member(member, &backend, true);
                }
            }
            Action::RemoveMember(m) => {
                if self.pool.deletion_protection {
                    self.notice(Some(m), NoticeKind::RemoveRefused);
                    return;
                }
                let was = self.eligible(m);
                self.membership[m as usize].removed = true;
                self.nodes.each(|b| b.set_enabled(m, false));
                self.notice(Some(m), NoticeKind::MemberRemoved);
                self.after_change(m, was);
            }
            Action::UpdatePool(pool) => {
                self.nodes.each(|b| b.update_pool(now, &pool));
                self.notice(None, NoticeKind::PoolUpdated);
                self.pool_updated(*pool);
            }
            Action::SetRate(rate) => {
                self.work.set_rate(rate);
                // Poisson is memoryless and a constant stream restarts: redraw from now
                self.next_arrival = self.work.interarrival(&mut self.rng, now);
                self.notice(None, NoticeKind::SetRate(rate));
            }
        }
    }

    /// The pool's settings become `pool`'s (every node has it already).
    pub(super) fn pool_updated(&mut self, pool: PoolConfig) {
        let monitor_changed = pool.health_check != self.pool.health_check;
        self.work
            .persistence_changed(&self.pool.persistence, &pool.persistence);
        self.pool = pool;
        if monitor_changed {
            self.restart_monitoring();
        }
    }
}
