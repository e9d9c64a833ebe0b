//! Slow start (stage 5): a member added to a pool that still has members ramps linearly from 0
//! to its weight over the pool's duration, recomputed once per [`SLOW_START_STEP`].

use super::{Balancer, MemberIdx, Ramp, SLOW_START_STEP, WEIGHT_SCALE};
use crate::time::SimTime;

impl Balancer {
    pub(super) fn start_ramp(&mut self, now: SimTime, m: MemberIdx) {
        let s = &mut self.members[m as usize];
        s.ramp = Ramp::Since(now);
        s.ramp_weight = 0;
        if self.ramping.is_empty() {
            self.next_step = now;
        }
        self.ramping.push(m);
    }

    pub(super) fn end_ramp(&mut self, m: MemberIdx) {
        let s = &mut self.members[m as usize];
        s.ramp = Ramp::Warm;
        s.ramp_weight = s.weight * WEIGHT_SCALE;
        self.ramping.retain(|&r| r != m);
    }

    /// Linear ramp from 0 to the full weight over the slow-start duration, evaluated at the
    /// start of the current [`SLOW_START_STEP`].
    pub(super) fn ramp_weight(&self, now: SimTime, m: MemberIdx, start: SimTime) -> u32 {
        let full = u64::from(self.members[m as usize].weight * WEIGHT_SCALE);
        let Some(duration) = self.slow_start else {
            return full as u32;
        };
        let step_start = now.0 - now.0 % SLOW_START_STEP.0;
        let elapsed = step_start.saturating_sub(start.0);
        if elapsed >= duration.0 {
            return full as u32;
        }
        (u128::from(full) * u128::from(elapsed) / u128::from(duration.0)) as u32
    }

    pub(super) fn slow_start_step(&mut self, now: SimTime) {
        let duration = self.slow_start.unwrap_or(SimTime::ZERO);
        for i in (0..self.ramping.len()).rev() {
            let m = self.ramping[i];
            let Ramp::Since(start) = self.members[m as usize].ramp else {
                unreachable!("only ramping members are listed")
            };
            let w = self.ramp_weight(now, m, start);
            let s = &mut self.members[m as usize];
            if w != s.ramp_weight {
                s.ramp_weight = w;
                self.dirty = true;
            }
            if now.0 - now.0 % SLOW_START_STEP.0 >= start.0 + duration.0 {
                s.ramp = Ramp::Warm;
                self.ramping.swap_remove(i);
            }
        }
        self.next_step = SimTime(now.0 - now.0 % SLOW_START_STEP.0) + SLOW_START_STEP;
    }
}
