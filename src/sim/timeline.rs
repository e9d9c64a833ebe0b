//! Timeline actions: faults and rate changes applied during the run (API changes:
//! `propagation.rs`).

use super::config::Action;
use super::engine::Engine;
use super::observe::{NoticeKind, Observer};
use super::propagation::is_change;

impl<O: Observer> Engine<'_, O> {
    /// Applies `timeline[i]`.
    #[cold]
    pub(super) fn apply(&mut self, i: usize) {
        if is_change(&self.timeline[i].action) {
            self.make_change(i);
            return;
        }
        let now = self.now;
        let action = std::mem::replace(&mut self.timeline[i].action, Action::SetRate(0.0));
        match action {
            Action::SetFailure { member, failure } => {
                self.membership[member as usize].failure = failure;
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
            Action::SetRate(rate) => {
                self.work.set_rate(rate);
                // Poisson is memoryless and a constant stream restarts: redraw from now
                self.next_arrival = self.work.interarrival(&mut self.rng, now);
                self.notice(None, NoticeKind::SetRate(rate));
            }
            // API changes: `make_change`
            _ => {}
        }
    }
}
