//! The tie rule: which feasible points the replications cannot tell apart from the leader (the
//! feasible point with the best objective mean).
//!
//! Replications of different points run on different seeds (run `r`'s seed depends on `r`
//! only), so the points are independent samples and a paired comparison on common random
//! numbers does not apply. The rule is Hsu's multiple comparisons with the best (MCB) with a
//! Bonferroni bound and Welch's standard errors: a point is tied with the leader when the
//! one-sided Welch t-test at level `ALPHA / m` cannot show it is worse, `m` being the number of
//! comparisons (feasible points − 1). Bonferroni keeps the chance of wrongly calling any tied
//! point worse below `ALPHA` however many points a sweep has; Welch's degrees of freedom
//! (Welch–Satterthwaite) let each point have its own spread.

use super::aggregate::Stat;

/// Family-wise error rate of the comparisons with the leader.
pub const ALPHA: f64 = 0.05;

/// Whether `a` and `b` are statistically tied when `comparisons` points are compared with the
/// leader. With fewer than two replications there is no noise to estimate: only equal means
/// tie. Equal means always tie (also with zero spread).
pub fn tied(a: &Stat, b: &Stat, comparisons: usize) -> bool {
    let diff = (a.mean - b.mean).abs();
    if diff == 0.0 {
        return true;
    }
    if a.n < 2 || b.n < 2 {
        return false;
    }
    let (va, vb) = (variance_of_mean(a), variance_of_mean(b));
    let se2 = va + vb;
    if !(se2 > 0.0 && diff.is_finite()) {
        return false;
    }
    // Welch–Satterthwaite: a point without spread contributes no uncertainty and no term
    let term = |v: f64, n: u32| {
        if v > 0.0 {
            v * v / f64::from(n - 1)
        } else {
            0.0
        }
    };
    let df = se2 * se2 / (term(va, a.n) + term(vb, b.n));
    diff <= critical_t(df, comparisons) * se2.sqrt()
}

/// The recommendation among the tied points (given in rank order): the one that changes the
/// fewest settings of the base scenario (`changes`), then the best ranked. The base itself
/// changes nothing, so it wins whenever it is tied: no change is recommended without a
/// difference the replications can show.
pub fn pick(tied: &[usize], changes: impl Fn(usize) -> usize) -> Option<usize> {
    tied.iter().copied().min_by_key(|&p| changes(p))
}

fn variance_of_mean(s: &Stat) -> f64 {
    s.sd * s.sd / f64::from(s.n)
}

/// The one-sided Student-t quantile at the Bonferroni-adjusted level `ALPHA / comparisons`.
pub fn critical_t(df: f64, comparisons: usize) -> f64 {
    crate::stats::t_quantile(df, 1.0 - ALPHA / comparisons.max(1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(xs: &[f64]) -> Stat {
        Stat::of(xs)
    }

    #[test]
    fn the_critical_value_is_bonferronis_one_sided_student_t() {
        // one comparison: the 95 % quantile; 15 comparisons: 1 − 0.05 / 15
        assert!((critical_t(4.0, 1) - 2.132).abs() < 1e-3);
        assert!(
            (critical_t(4.0, 15) - 5.167).abs() < 1e-3,
            "{}",
            critical_t(4.0, 15)
        );
        assert!((critical_t(1e6, 2) - 1.960).abs() < 1e-3);
    }

    #[test]
    fn overlapping_leaders_tie_and_separated_ones_do_not() {
        let leader = stat(&[14.2, 14.3, 14.4]);
        assert!(tied(&leader, &stat(&[14.25, 14.35, 14.45]), 3));
        assert!(!tied(&leader, &stat(&[15.2, 15.3, 15.4]), 3));
        // more comparisons widen the test: a gap clear for one pair is noise among 100 points
        let near = stat(&[14.5, 14.6, 14.7]);
        assert!(!tied(&leader, &near, 1));
        assert!(tied(&leader, &near, 100));
    }

    #[test]
    fn the_pick_changes_least_then_ranks_best() {
        let changes = |p: usize| [0, 2, 1, 1][p];
        assert_eq!(pick(&[1, 3, 2], changes), Some(3));
        assert_eq!(pick(&[1, 0, 2], changes), Some(0), "a tied base wins");
        assert_eq!(pick(&[1], changes), Some(1));
        assert_eq!(pick(&[], changes), None);
    }

    #[test]
    fn without_spread_only_equal_means_tie() {
        let one = stat(&[3.0]);
        assert!(tied(&one, &stat(&[3.0]), 5));
        assert!(!tied(&one, &stat(&[3.0001]), 5));
        let flat = stat(&[2.0, 2.0, 2.0]);
        assert!(tied(&flat, &stat(&[2.0, 2.0]), 5));
        assert!(!tied(&flat, &stat(&[2.5, 2.5]), 5));
        // one point without spread, the other with: the other's spread decides
        assert!(tied(&flat, &stat(&[1.9, 2.1, 2.3]), 1));
    }
}
