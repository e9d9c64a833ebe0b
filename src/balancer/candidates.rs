//! Pipeline stages 1–3 and 5 folded into the candidate list: eligibility, tier, AZ affinity (or
//! all-offline forwarding) and slow-start weights. Rebuilt only when something changed.

use super::*;

impl Balancer {
    /// Folds stages 1–3 and 5 of the pipeline into the candidate list and rebuilds the
    /// algorithm's tables.
    pub(super) fn rebuild(&mut self) {
        self.dirty = false;
        self.counters.rebuilds += 1;
        let members = &self.members;
        // 2. Tier: the backup tier only while no first-tier member is eligible (APIG `is_backup`:
        //    "only when all non-standby nodes are faulty"; ELB slave while the master is down).
        let backup_tier = !members.iter().any(|s| s.eligible() && !s.is_backup());
        let in_tier = |s: &MemberState| s.in_pool() && s.is_backup() == backup_tier;

        // 3. AZ affinity (huawei-semantics §7), else all-offline forwarding (§5; ignored under AZ
        //    affinity). Each arm says which members may take traffic.
        let mut route = Route::Normal;
        let select: Box<dyn Fn(&MemberState) -> bool> = match (self.az_affinity, self.local_zone) {
            (Some(az), Some(local)) => {
                let local_members = members
                    .iter()
                    .filter(|s| in_tier(s) && s.zone == Some(local));
                let total = local_members.clone().count() as u64;
                let healthy = local_members.filter(|s| s.health.is_healthy()).count() as u64;
                if healthy >= az_threshold(az.threshold, total) {
                    Box::new(move |s| s.eligible() && s.zone == Some(local))
                } else {
                    route = Route::AzFallback;
                    match az.fallback {
                        AzFallback::AllMembersOfLocalAz => {
                            Box::new(move |s| in_tier(s) && s.zone == Some(local))
                        }
                        AzFallback::HealthyMembersOfRemoteAz => {
                            Box::new(move |s| s.eligible() && s.zone != Some(local))
                        }
                        AzFallback::AllHealthyMembers => Box::new(|s| s.eligible()),
                        AzFallback::AllMembers => Box::new(in_tier),
                    }
                }
            }
            _ if self.all_offline_forwarding
                && !members.iter().any(|s| s.in_pool() && s.health.is_healthy()) =>
            {
                route = Route::FailOpen;
                Box::new(MemberState::in_pool)
            }
            _ => Box::new(|s| s.eligible()),
        };

        // 1 and 5: weight > 0 under every route; round robin uses slow-start weights.
        let ramped = self.algorithm == Algorithm::RoundRobin && self.slow_start.is_some();
        self.candidates.clear();
        for (i, s) in members.iter().enumerate() {
            let weight = if ramped {
                s.ramp_weight
            } else {
                s.weight * WEIGHT_SCALE
            };
            let chosen = s.weight > 0
                && weight > 0
                && (s.is_backup() == backup_tier || route == Route::FailOpen)
                && select(s);
            self.is_candidate[i] = chosen;
            if chosen {
                self.candidates
                    .push(Candidate::new(i as MemberIdx, weight, s.active, s.key_hash));
            }
        }
        self.route = route;
        self.picker.rebuild(&self.candidates, self.members.len());
    }
}

/// Healthy members the local AZ needs to keep affinity: ceil(members × pct / 100) in integers
/// (seed 000: 3 members × 66 % → 2, × 67 % → 3), or the absolute count.
fn az_threshold(threshold: AzThreshold, members_in_az: u64) -> u64 {
    match threshold {
        AzThreshold::Percentage(pct) => (members_in_az * u64::from(pct)).div_ceil(100),
        AzThreshold::Count(n) => u64::from(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn az_threshold_rounding_from_seed_000() {
        assert_eq!(az_threshold(AzThreshold::Percentage(66), 3), 2);
        assert_eq!(az_threshold(AzThreshold::Percentage(67), 3), 3);
        assert_eq!(az_threshold(AzThreshold::Percentage(0), 3), 0);
        assert_eq!(az_threshold(AzThreshold::Percentage(100), 3), 3);
        assert_eq!(az_threshold(AzThreshold::Count(2), 3), 2);
    }
}
