//! Random variates built on `libm` and raw `u64` draws.
//!
//! `f64::ln`/`exp`/`powf` call the platform's libm, which may differ in the last bit between
//! glibc, musl, macOS and Windows; `rand_distr` falls back to them as soon as any crate enables
//! `num-traits/std` (hdrhistogram does). Pure-Rust `libm` plus IEEE `+ - * / sqrt` keeps every
//! sample, and so every report, identical on any machine.

use std::sync::OnceLock;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::config::{Distribution, Popularity, RequestsPerConnection};

/// Uniform in [0, 1) with 53 random bits.
#[inline]
pub fn unit(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Uniform integer in [0, n) by multiply-shift (bias below 2^-32, no rejection loop, so the
/// number of draws per call is fixed).
#[inline]
pub fn below(rng: &mut ChaCha8Rng, n: u32) -> u32 {
    (((rng.next_u64() >> 32) * u64::from(n)) >> 32) as u32
}

/// Exponential with the given mean.
#[inline]
pub fn exponential(rng: &mut ChaCha8Rng, mean: f64) -> f64 {
    mean * exp1(rng)
}

/// Ziggurat tables for Exp(1) (Marsaglia & Tsang 2000, 256 layers; the layout of rand_distr's
/// `ziggurat`): `x` decreasing from the base strip's virtual width to 0, `f[i] = e^-x[i]`.
struct Ziggurat {
    x: [f64; 257],
    f: [f64; 257],
}

/// Right edge of the base layer and the common area of every layer.
const ZIG_R: f64 = 7.697_117_470_131_487;
const ZIG_V: f64 = 3.949_659_822_581_572e-3;

fn ziggurat() -> &'static Ziggurat {
    static TABLES: OnceLock<Ziggurat> = OnceLock::new();
    // built with libm, so the tables are the same bits everywhere
    TABLES.get_or_init(|| {
        let mut x = [0.0; 257];
        x[0] = ZIG_V / libm::exp(-ZIG_R);
        x[1] = ZIG_R;
        for i in 1..255 {
            x[i + 1] = -libm::log(ZIG_V / x[i] + libm::exp(-x[i]));
        }
        x[256] = 0.0;
        let f = x.map(|v| libm::exp(-v));
        Ziggurat { x, f }
    })
}

/// Exp(1) by the ziggurat: about 99 % of draws cost one `u64` and a multiplication; the rest
/// fall back to `libm::exp`/`libm::log`. Three times faster than inverting the CDF with
/// `libm::log`, which was the engine's largest cost after the event heap. The common case is
/// kept small enough to inline into the engine's loop.
#[inline]
pub fn exp1(rng: &mut ChaCha8Rng) -> f64 {
    let z = ziggurat();
    let bits = rng.next_u64();
    let i = (bits & 0xff) as usize;
    let u = (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
    let x = u * z.x[i];
    if x < z.x[i + 1] {
        return x;
    }
    exp1_edge(rng, i, x)
}

/// The ziggurat's rare cases: the tail beyond the base layer, or a point outside a layer's
/// inner rectangle, accepted under the curve or else drawn again.
#[cold]
fn exp1_edge(rng: &mut ChaCha8Rng, i: usize, x: f64) -> f64 {
    let z = ziggurat();
    if i == 0 {
        // the tail beyond R is R plus a fresh Exp(1) (memorylessness)
        return ZIG_R - libm::log(1.0 - unit(rng));
    }
    if z.f[i + 1] + (z.f[i] - z.f[i + 1]) * unit(rng) < libm::exp(-x) {
        return x;
    }
    exp1(rng)
}

/// Φ⁻¹(0.99): the standard normal 99th percentile.
const Z99: f64 = 2.326_347_874_040_840_8;

/// Largest p99/mean ratio a lognormal can have: e^(z²/2) with z = Φ⁻¹(0.99), ≈ 14.97 (at
/// σ = z; beyond it no σ gives both the mean and the p99).
pub fn lognormal_max_p99_ratio() -> f64 {
    libm::exp(Z99 * Z99 / 2.0)
}

/// A compiled [`Distribution`] producing nanoseconds.
#[derive(Clone, Copy, Debug)]
pub enum Sampler {
    Constant(f64),
    Exponential(f64),
    LogNormal { mu: f64, sigma: f64 },
    Pareto { scale: f64, neg_inv_shape: f64 },
    Uniform { min: f64, span: f64 },
}

impl Sampler {
    /// Checks the parameters (the engine must not produce NaN or negative times).
    pub fn new(d: &Distribution) -> Result<Sampler, String> {
        const NS: f64 = 1e6;
        let finite = |x: f64| x.is_finite() && x >= 0.0;
        match *d {
            Distribution::Constant { value_ms } if finite(value_ms) => {
                Ok(Sampler::Constant(value_ms * NS))
            }
            Distribution::Exponential { mean_ms } if finite(mean_ms) => {
                Ok(Sampler::Exponential(mean_ms * NS))
            }
            Distribution::LogNormal { mean_ms, p99_ms }
                if finite(mean_ms) && mean_ms > 0.0 && finite(p99_ms) =>
            {
                // mean = exp(mu + sigma²/2), p99 = exp(mu + z sigma): take the smaller root
                let d = Z99 * Z99 - 2.0 * libm::log(p99_ms / mean_ms);
                if p99_ms <= mean_ms || d < 0.0 {
                    return Err(format!(
                        "lognormal needs mean < p99 <= {:.2} x mean",
                        lognormal_max_p99_ratio()
                    ));
                }
                let sigma = Z99 - d.sqrt();
                let mu = libm::log(mean_ms * NS) - sigma * sigma / 2.0;
                Ok(Sampler::LogNormal { mu, sigma })
            }
            Distribution::Pareto { mean_ms, shape } if finite(mean_ms) && shape > 1.0 => {
                Ok(Sampler::Pareto {
                    scale: mean_ms * NS * (shape - 1.0) / shape,
                    neg_inv_shape: -1.0 / shape,
                })
            }
            Distribution::Uniform { min_ms, max_ms } if finite(min_ms) && max_ms >= min_ms => {
                Ok(Sampler::Uniform {
                    min: min_ms * NS,
                    span: (max_ms - min_ms) * NS,
                })
            }
            _ => Err(format!("invalid distribution {d:?}")),
        }
    }

    /// One draw in nanoseconds (finite, ≥ 0).
    #[inline]
    pub fn sample(&self, rng: &mut ChaCha8Rng) -> f64 {
        match *self {
            Sampler::Constant(v) => v,
            Sampler::Exponential(mean) => exponential(rng, mean),
            Sampler::LogNormal { mu, sigma } => {
                // Box–Muller, one of the pair
                let r = (-2.0 * libm::log(1.0 - unit(rng))).sqrt();
                let z = r * libm::cos(std::f64::consts::TAU * unit(rng));
                libm::exp(mu + sigma * z)
            }
            Sampler::Pareto {
                scale,
                neg_inv_shape,
            } => scale * libm::pow(1.0 - unit(rng), neg_inv_shape),
            Sampler::Uniform { min, span } => min + span * unit(rng),
        }
    }
}

/// Draws how many requests a connection carries.
#[derive(Clone, Copy, Debug)]
pub enum CountSampler {
    Fixed(u32),
    /// ln(1 − p) of a geometric distribution on {1, 2, …}.
    Geometric(f64),
}

impl CountSampler {
    pub fn new(r: &RequestsPerConnection) -> Result<CountSampler, String> {
        match *r {
            RequestsPerConnection::Fixed(n) if n >= 1 => Ok(CountSampler::Fixed(n)),
            RequestsPerConnection::Geometric { mean: 1.0 } => Ok(CountSampler::Fixed(1)),
            RequestsPerConnection::Geometric { mean } if mean.is_finite() && mean > 1.0 => {
                Ok(CountSampler::Geometric(libm::log(1.0 - 1.0 / mean)))
            }
            _ => Err(format!("invalid requests_per_connection {r:?}")),
        }
    }

    pub fn mean(&self) -> f64 {
        match *self {
            CountSampler::Fixed(n) => f64::from(n),
            CountSampler::Geometric(l) => 1.0 / (1.0 - libm::exp(l)),
        }
    }

    #[inline]
    pub fn sample(&self, rng: &mut ChaCha8Rng) -> u32 {
        match *self {
            CountSampler::Fixed(n) => n,
            CountSampler::Geometric(l) => {
                let k = libm::floor(libm::log(1.0 - unit(rng)) / l);
                1 + k.min(f64::from(u32::MAX - 1)) as u32
            }
        }
    }
}

/// Picks an element of `0..n` by popularity. Zipf uses a precomputed integer CDF and a binary
/// search, so the hot path does no floating point.
#[derive(Clone, Debug)]
pub enum Chooser {
    Uniform(u32),
    Table(Vec<u64>),
}

/// The CDF table's total: draws are 63-bit.
const CDF_TOTAL: u64 = 1 << 63;

impl Chooser {
    pub fn new(n: u32, popularity: Popularity) -> Result<Chooser, String> {
        match popularity {
            _ if n == 0 => Err("cannot choose from an empty set".into()),
            Popularity::Uniform => Ok(Chooser::Uniform(n)),
            Popularity::Zipf(s) if s.is_finite() && s >= 0.0 => {
                let weights: Vec<f64> = (1..=n).map(|k| libm::pow(f64::from(k), -s)).collect();
                let total: f64 = weights.iter().sum();
                let mut cum = 0.0;
                let mut cdf: Vec<u64> = weights
                    .iter()
                    .map(|w| {
                        cum += w;
                        (cum / total * CDF_TOTAL as f64).min(CDF_TOTAL as f64) as u64
                    })
                    .collect();
                if let Some(last) = cdf.last_mut() {
                    *last = CDF_TOTAL;
                }
                Ok(Chooser::Table(cdf))
            }
            Popularity::Zipf(s) => Err(format!("invalid zipf exponent {s}")),
        }
    }

    #[inline]
    pub fn pick(&self, rng: &mut ChaCha8Rng) -> u32 {
        match self {
            Chooser::Uniform(n) => below(rng, *n),
            Chooser::Table(cdf) => {
                let r = rng.next_u64() >> 1;
                cdf.partition_point(|&c| c <= r) as u32
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn rng() -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(7)
    }

    fn mean_of(s: &Sampler, n: u32) -> f64 {
        let mut r = rng();
        (0..n).map(|_| s.sample(&mut r)).sum::<f64>() / f64::from(n)
    }

    /// Bit-exact values pin the samplers: any change of algorithm or maths library shows here.
    #[test]
    fn golden_bits() {
        let mut r = ChaCha8Rng::seed_from_u64(1);
        let e = Sampler::new(&Distribution::Exponential { mean_ms: 4.0 }).unwrap();
        let bits: Vec<u64> = (0..3).map(|_| e.sample(&mut r).to_bits()).collect();
        assert_eq!(bits, GOLDEN);
    }
    // recorded from this implementation; they must never change silently
    const GOLDEN: [u64; 3] = [
        4700428550582664129,
        4693631418407267767,
        4706975529573439345,
    ];

    /// Exp(1) tail probabilities P(X > t) = e^-t, including the ziggurat's tail layer (t > R).
    #[test]
    fn ziggurat_matches_exponential() {
        let z = ziggurat();
        // the recursion must close: one more layer lands on 0 when R and V are consistent
        let next = -libm::log(ZIG_V / z.x[255] + libm::exp(-z.x[255]));
        assert!(next.abs() < 1e-9, "{next}");
        let mut r = rng();
        let n = 2_000_000;
        let xs: Vec<f64> = (0..n).map(|_| exp1(&mut r)).collect();
        for t in [0.01, 0.5, 1.0, 2.0, 4.0, 8.0] {
            let p = libm::exp(-t);
            let got = xs.iter().filter(|&&x| x > t).count() as f64 / n as f64;
            let sd = (p * (1.0 - p) / n as f64).sqrt();
            assert!(
                (got - p).abs() < 5.0 * sd + 1e-7,
                "P(X > {t}) = {got}, want {p}"
            );
        }
        let mean = xs.iter().sum::<f64>() / n as f64;
        assert!((mean - 1.0).abs() < 5.0 / (n as f64).sqrt(), "{mean}");
    }

    #[test]
    fn means_match_parameters() {
        let n = 200_000;
        // standard error of the mean is sd/sqrt(n); 5 standard errors as margin
        let cases = [
            (Distribution::Exponential { mean_ms: 4.0 }, 4.0),
            (
                Distribution::Uniform {
                    min_ms: 1.0,
                    max_ms: 5.0,
                },
                4.0 / 12f64.sqrt(),
            ),
            (
                Distribution::LogNormal {
                    mean_ms: 4.0,
                    p99_ms: 20.0,
                },
                6.0,
            ),
        ];
        for (d, sd) in cases {
            let s = Sampler::new(&d).unwrap();
            let want = match d {
                Distribution::Uniform { .. } => 3.0,
                _ => 4.0,
            };
            let got = mean_of(&s, n) / 1e6;
            assert!(
                (got - want).abs() < 5.0 * sd / f64::from(n).sqrt(),
                "{d:?}: {got}"
            );
        }
    }

    #[test]
    fn lognormal_p99_and_pareto_minimum() {
        let s = Sampler::new(&Distribution::LogNormal {
            mean_ms: 4.0,
            p99_ms: 20.0,
        })
        .unwrap();
        let mut r = rng();
        let n = 100_000;
        let above = (0..n).filter(|_| s.sample(&mut r) > 20e6).count() as f64 / n as f64;
        // binomial sd of a 1 % proportion: sqrt(0.01 * 0.99 / n) ≈ 0.0003
        assert!((above - 0.01).abs() < 0.0015, "{above}");
        let p = Sampler::new(&Distribution::Pareto {
            mean_ms: 4.0,
            shape: 2.5,
        })
        .unwrap();
        let min = (0..1000).map(|_| p.sample(&mut r)).fold(f64::MAX, f64::min);
        assert!(min >= 4e6 * 1.5 / 2.5);
        assert!(Sampler::new(&Distribution::LogNormal {
            mean_ms: 4.0,
            p99_ms: 3.0
        })
        .is_err());
        assert!(Sampler::new(&Distribution::Pareto {
            mean_ms: 4.0,
            shape: 1.0
        })
        .is_err());
    }

    #[test]
    fn geometric_mean() {
        let c = CountSampler::new(&RequestsPerConnection::Geometric { mean: 3.0 }).unwrap();
        let mut r = rng();
        let n = 100_000;
        let m = (0..n).map(|_| f64::from(c.sample(&mut r))).sum::<f64>() / n as f64;
        // variance (1 - p)/p² = 6
        assert!((m - 3.0).abs() < 5.0 * (6.0f64 / n as f64).sqrt(), "{m}");
        assert!((c.mean() - 3.0).abs() < 1e-12);
    }

    #[test]
    fn zipf_frequencies() {
        let c = Chooser::new(4, Popularity::Zipf(1.0)).unwrap();
        let mut r = rng();
        let n = 120_000;
        let mut hits = [0u32; 4];
        for _ in 0..n {
            hits[c.pick(&mut r) as usize] += 1;
        }
        let h = 1.0 + 1.0 / 2.0 + 1.0 / 3.0 + 1.0 / 4.0;
        for (k, &got) in hits.iter().enumerate() {
            let p = 1.0 / (k as f64 + 1.0) / h;
            let sd = (p * (1.0 - p) / n as f64).sqrt();
            assert!(
                (f64::from(got) / n as f64 - p).abs() < 5.0 * sd,
                "{k}: {got}"
            );
        }
    }
}
