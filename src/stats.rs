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

#[cfg(test)]
mod tests {
    use super::*;

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
