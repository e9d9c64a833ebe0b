//! Replication statistics shared by `compare` and `sweep`: the mean and the half-width of the
//! two-sided 95 % Student-t confidence interval. One implementation, so the two commands print
//! the same numbers for the same runs.

/// Arithmetic mean, summed in slice order (NaN for an empty slice).
pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Half-width of the two-sided 95 % Student-t interval around `mean` (n − 1 degrees of
/// freedom); 0 with fewer than two values, where there is no spread to estimate.
pub fn ci95(xs: &[f64], mean: f64) -> f64 {
    let n = xs.len();
    if n < 2 {
        return 0.0;
    }
    t975(n - 1) * (variance(xs, mean) / n as f64).sqrt()
}

/// Sample standard deviation around `mean` (n − 1 in the denominator); 0 with fewer than two
/// values.
pub fn sd(xs: &[f64], mean: f64) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    variance(xs, mean).sqrt()
}

fn variance(xs: &[f64], mean: f64) -> f64 {
    xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (xs.len() - 1) as f64
}

/// The 97.5 % quantile of Student's t with `df` degrees of freedom (two-sided 95 %): the table
/// up to 30, then the Cornish–Fisher expansion around the normal quantile (error < 1e-4 there).
pub fn t975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    if (1..=30).contains(&df) {
        return TABLE[df - 1];
    }
    let (z, v) = (1.959_963_985_f64, df.max(1) as f64);
    let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
    z + (z3 + z) / (4.0 * v)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * v.powi(3))
}

/// The quantile of Student's t with `df` (> 0, not necessarily whole) degrees of freedom at
/// probability `p` in (0.5, 1): bisection on the CDF, which is the regularised incomplete beta
/// function. Written on the `libm` crate, not the platform's maths library, so a decision taken
/// at the quantile (a sweep's tie rule) is the same on every machine. Infinite when `df` or `p`
/// is out of range.
pub fn t_quantile(df: f64, p: f64) -> f64 {
    if !(df > 0.0 && p > 0.5 && p < 1.0) {
        return f64::INFINITY;
    }
    // P(T ≤ t) = 1 − I_x(df/2, 1/2) / 2 with x = df / (df + t²), for t ≥ 0
    let cdf = |t: f64| 1.0 - 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t));
    let (mut lo, mut hi) = (0.0, 1.0);
    while cdf(hi) < p {
        hi *= 2.0;
        if hi > 1e300 {
            return f64::INFINITY;
        }
    }
    // a fixed number of halvings: the same steps, and so the same bits, everywhere
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if cdf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// The regularised incomplete beta function I_x(a, b), by its continued fraction (modified
/// Lentz), on the side of `x` where the fraction converges fast.
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = libm::lgamma(a + b) - libm::lgamma(a) - libm::lgamma(b)
        + a * libm::log(x)
        + b * libm::log(1.0 - x);
    let front = libm::exp(ln_front);
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        for num in [
            m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)),
            -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0)),
        ] {
            d = 1.0 + num * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + num / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against the published table (97.5 %), the normal limit and two values of the
    /// Bonferroni-adjusted one-sided test (1 − 0.05/15 at 4 degrees of freedom: 5.167).
    #[test]
    fn t_quantile_matches_published_values() {
        for (df, t) in [
            (1, 12.706),
            (2, 4.303),
            (9, 2.262),
            (30, 2.042),
            (120, 1.980),
        ] {
            assert!((t_quantile(f64::from(df), 0.975) - t).abs() < 5e-4, "{df}");
        }
        assert!((t_quantile(4.0, 0.95) - 2.132).abs() < 1e-3);
        assert!((t_quantile(4.0, 1.0 - 0.05 / 15.0) - 5.167).abs() < 1e-3);
        assert!((t_quantile(1e6, 0.975) - 1.960).abs() < 1e-3);
        // fractional degrees of freedom (Welch) lie between their neighbours
        let t = t_quantile(2.5, 0.975);
        assert!(t < t_quantile(2.0, 0.975) && t > t_quantile(3.0, 0.975));
        assert_eq!(t_quantile(0.0, 0.975), f64::INFINITY);
    }

    #[test]
    fn t_quantiles_match_the_table_and_the_limit() {
        assert_eq!(t975(9), 2.262);
        // Published values for 40, 60 and 120 degrees of freedom.
        for (df, t) in [
            (31, 2.040),
            (40, 2.021),
            (60, 2.000),
            (120, 1.980),
            (1000, 1.962),
        ] {
            assert!((t975(df) - t).abs() < 5e-4, "{df}: {}", t975(df));
        }
    }

    #[test]
    fn half_width_uses_student_t() {
        let xs = [1.0, 2.0, 3.0];
        assert_eq!(mean(&xs), 2.0);
        // s = 1, n = 3: t(2) = 4.303
        assert!((ci95(&xs, 2.0) - 4.303 / 3f64.sqrt()).abs() < 1e-12);
        assert_eq!(ci95(&[5.0], 5.0), 0.0);
    }
}
