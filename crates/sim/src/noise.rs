//! Sensor realism: what a real taxel array does to the ideal readings.
//!
//! Every model is optional (off by default) and every random draw comes from
//! the array's own seeded RNG, so the same seed gives the same readings bit
//! for bit. The models run in a fixed order, the order in which a real
//! signal meets them:
//!
//! 1. first-order low-pass (the skin and the front-end filter),
//! 2. per-taxel gain error (drawn once per seed),
//! 3. slow bias drift (a random walk),
//! 4. Gaussian noise,
//! 5. saturation,
//! 6. ADC quantisation,
//! 7. dead taxels (drawn once per seed) read zero,
//! 8. binary contact mode with flip noise (TANDEM's sensor): normal reads
//!    0 or 1, shear reads 0,
//! 9. latency: the reading comes out a fixed number of steps late.
//!
//! All models apply to the normal channel and both shear channels, each with
//! its own draws; gain, drift and dead taxels are per taxel.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::SimError;

/// The realism parameters of an array (the `[noise]` table of a sensor file).
/// Every field defaults to "off".
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NoiseDesc {
    /// Standard deviation of additive white noise per reading (N).
    pub gaussian_sigma_n: f32,
    /// Standard deviation of the per-taxel gain around 1 (relative).
    pub gain_sigma: f32,
    /// Bias random walk: standard deviation gained per square-root second (N/sqrt(s)).
    pub drift_n_per_sqrt_s: f32,
    /// Probability that a taxel is dead (reads 0), drawn per taxel per seed.
    pub dead_fraction: f32,
    /// Readings are clamped to `[-saturation_n, saturation_n]` (N).
    pub saturation_n: Option<f32>,
    /// ADC step: readings are rounded to a multiple of it (N).
    pub adc_lsb_n: Option<f32>,
    /// Time constant of the first-order low-pass (s).
    pub lowpass_tau_s: Option<f32>,
    /// Readings come out this many env steps late.
    pub latency_steps: u32,
    /// Binary contact mode: each taxel reads 1 when its normal force exceeds
    /// the threshold, else 0, and the bit flips with the given probability.
    pub binary: Option<BinaryDesc>,
}

/// Binary contact mode parameters (TANDEM's sensor).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinaryDesc {
    /// A taxel is "in contact" when its normal force exceeds this (N, >= 0).
    pub threshold_n: f32,
    /// Probability that a reported bit is flipped (in [0, 1]).
    #[serde(default)]
    pub flip_prob: f32,
}

fn non_negative(field: &str, x: f32) -> Result<f32, SimError> {
    if x.is_finite() && x >= 0.0 { Ok(x) } else { Err(SimError::invalid(field, x, "must be a finite number >= 0")) }
}

fn probability(field: &str, x: f32) -> Result<f32, SimError> {
    if x.is_finite() && (0.0..=1.0).contains(&x) {
        Ok(x)
    } else {
        Err(SimError::invalid(field, x, "must be a probability in [0, 1]"))
    }
}

impl NoiseDesc {
    /// Checks every field; `field` is this table's path for messages.
    pub fn validate(&self, field: &str) -> Result<(), SimError> {
        let f = |name: &str| format!("{field}.{name}");
        non_negative(&f("gaussian_sigma_n"), self.gaussian_sigma_n)?;
        non_negative(&f("gain_sigma"), self.gain_sigma)?;
        non_negative(&f("drift_n_per_sqrt_s"), self.drift_n_per_sqrt_s)?;
        probability(&f("dead_fraction"), self.dead_fraction)?;
        if let Some(s) = self.saturation_n {
            crate::taxel_layout::positive(&f("saturation_n"), s)?;
        }
        if let Some(q) = self.adc_lsb_n {
            crate::taxel_layout::positive(&f("adc_lsb_n"), q)?;
        }
        if let Some(tau) = self.lowpass_tau_s {
            crate::taxel_layout::positive(&f("lowpass_tau_s"), tau)?;
        }
        if self.latency_steps > 10_000 {
            return Err(SimError::invalid(f("latency_steps"), self.latency_steps, "must be at most 10000"));
        }
        if let Some(b) = &self.binary {
            non_negative(&f("binary.threshold_n"), b.threshold_n)?;
            probability(&f("binary.flip_prob"), b.flip_prob)?;
        }
        Ok(())
    }

    /// Whether every model is off (the readings pass through untouched).
    pub fn is_off(&self) -> bool {
        *self == NoiseDesc::default()
    }
}

/// The running state of the realism models for one array: RNG, per-taxel
/// gains, biases, dead mask, filter state and the latency ring.
#[derive(Clone, Debug)]
pub struct NoiseState {
    desc: NoiseDesc,
    dt_s: f32,
    rng: StdRng,
    gain: Vec<f32>,
    bias: Vec<[f32; 3]>,
    dead: Vec<bool>,
    filtered: Vec<[f32; 3]>,
    filter_primed: bool,
    ring: Vec<[f32; 3]>,
    ring_head: usize,
    ring_filled: usize,
}

impl NoiseState {
    /// A state for `taxels` taxels read every `dt_s` seconds, seeded.
    pub fn new(desc: NoiseDesc, taxels: usize, dt_s: f32, seed: u64) -> Self {
        let latency = desc.latency_steps as usize;
        let mut s = NoiseState {
            desc,
            dt_s,
            rng: StdRng::seed_from_u64(seed),
            gain: vec![1.0; taxels],
            bias: vec![[0.0; 3]; taxels],
            dead: vec![false; taxels],
            filtered: vec![[0.0; 3]; taxels],
            filter_primed: false,
            ring: vec![[0.0; 3]; taxels * latency],
            ring_head: 0,
            ring_filled: 0,
        };
        s.reseed(seed);
        s
    }

    /// The parameters this state runs.
    pub fn desc(&self) -> &NoiseDesc {
        &self.desc
    }

    /// Restarts every model from the given seed: new gains and dead taxels,
    /// zero bias, empty filter and latency line.
    pub fn reseed(&mut self, seed: u64) {
        self.rng = StdRng::seed_from_u64(seed);
        let gain_sigma = self.desc.gain_sigma;
        for g in &mut self.gain {
            let z: f32 = StandardNormal.sample(&mut self.rng);
            *g = 1.0 + gain_sigma * z;
        }
        let p_dead = self.desc.dead_fraction;
        for d in &mut self.dead {
            *d = p_dead > 0.0 && self.rng.random::<f32>() < p_dead;
        }
        self.bias.fill([0.0; 3]);
        self.filtered.fill([0.0; 3]);
        self.filter_primed = false;
        self.ring.fill([0.0; 3]);
        self.ring_head = 0;
        self.ring_filled = 0;
    }

    /// Whether taxel `i` is dead for this seed.
    pub fn is_dead(&self, i: usize) -> bool {
        self.dead[i]
    }

    /// The gain of taxel `i` for this seed.
    pub fn gain(&self, i: usize) -> f32 {
        self.gain[i]
    }

    /// Applies every enabled model, in place, to one frame of readings.
    /// Allocates nothing.
    pub fn apply(&mut self, normal_n: &mut [f32], shear_n: &mut [[f32; 2]]) {
        let d = &self.desc;
        let n = normal_n.len();
        debug_assert_eq!(n, self.gain.len());
        let lowpass_alpha = d.lowpass_tau_s.map(|tau| self.dt_s / (tau + self.dt_s));
        let drift_step = d.drift_n_per_sqrt_s * self.dt_s.sqrt();
        let white = Normal::new(0.0f32, d.gaussian_sigma_n.max(0.0)).ok();
        for i in 0..n {
            let mut x = [normal_n[i], shear_n[i][0], shear_n[i][1]];
            if let Some(alpha) = lowpass_alpha {
                let y = &mut self.filtered[i];
                for c in 0..3 {
                    if self.filter_primed {
                        y[c] += alpha * (x[c] - y[c]);
                    } else {
                        y[c] = x[c];
                    }
                    x[c] = y[c];
                }
            }
            let gain = self.gain[i];
            for c in x.iter_mut() {
                *c *= gain;
            }
            if drift_step > 0.0 {
                for (c, bias) in x.iter_mut().zip(self.bias[i].iter_mut()) {
                    let z: f32 = StandardNormal.sample(&mut self.rng);
                    *bias += drift_step * z;
                    *c += *bias;
                }
            }
            if d.gaussian_sigma_n > 0.0
                && let Some(white) = &white
            {
                for c in x.iter_mut() {
                    *c += white.sample(&mut self.rng);
                }
            }
            if let Some(sat) = d.saturation_n {
                for c in x.iter_mut() {
                    *c = c.clamp(-sat, sat);
                }
            }
            if let Some(q) = d.adc_lsb_n {
                for c in x.iter_mut() {
                    *c = (*c / q).round() * q;
                }
            }
            if self.dead[i] {
                x = [0.0; 3];
            }
            if let Some(b) = &d.binary {
                let mut bit = x[0] > b.threshold_n;
                if b.flip_prob > 0.0 && self.rng.random::<f32>() < b.flip_prob {
                    bit = !bit;
                }
                x = [if bit { 1.0 } else { 0.0 }, 0.0, 0.0];
            }
            normal_n[i] = x[0];
            shear_n[i] = [x[1], x[2]];
        }
        self.filter_primed = true;
        let latency = d.latency_steps as usize;
        if latency > 0 {
            // The ring holds the last `latency` frames; swap the newest in
            // and hand out the one from `latency` steps ago (zeros at first).
            let slot = &mut self.ring[self.ring_head * n..(self.ring_head + 1) * n];
            for i in 0..n {
                let delayed = if self.ring_filled == latency { slot[i] } else { [0.0; 3] };
                slot[i] = [normal_n[i], shear_n[i][0], shear_n[i][1]];
                normal_n[i] = delayed[0];
                shear_n[i] = [delayed[1], delayed[2]];
            }
            self.ring_head = (self.ring_head + 1) % latency;
            self.ring_filled = (self.ring_filled + 1).min(latency);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: usize = 100;

    fn run(desc: NoiseDesc, seed: u64, steps: usize, input: f32) -> Vec<Vec<f32>> {
        let mut s = NoiseState::new(desc, N, 1.0 / 60.0, seed);
        let mut out = Vec::new();
        for _ in 0..steps {
            let mut normal = vec![input; N];
            let mut shear = vec![[input, -input]; N];
            s.apply(&mut normal, &mut shear);
            out.push(normal);
        }
        out
    }

    fn mean_std(xs: impl Iterator<Item = f32>) -> (f64, f64) {
        let v: Vec<f64> = xs.map(f64::from).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
        (mean, var.sqrt())
    }

    #[test]
    fn off_is_the_identity() {
        let out = run(NoiseDesc::default(), 1, 3, 0.75);
        assert!(out.iter().flatten().all(|&x| x == 0.75));
    }

    #[test]
    fn gaussian_sigma_matches_over_10k_samples() {
        let desc = NoiseDesc { gaussian_sigma_n: 0.02, ..Default::default() };
        let out = run(desc, 7, 100, 1.0); // 100 steps x 100 taxels
        let (mean, std) = mean_std(out.iter().flatten().copied());
        assert!((std - 0.02).abs() < 0.05 * 0.02, "sigma {std}");
        assert!((mean - 1.0).abs() < 3.0 * 0.02 / 100.0, "mean {mean}");
    }

    #[test]
    fn gain_error_spread_matches_and_is_fixed_per_seed() {
        let desc = NoiseDesc { gain_sigma: 0.1, ..Default::default() };
        let mut s = NoiseState::new(desc, 10_000, 0.01, 3);
        let (mean, std) = mean_std((0..10_000).map(|i| s.gain(i)));
        assert!((std - 0.1).abs() < 0.005, "gain sigma {std}");
        assert!((mean - 1.0).abs() < 0.005);
        let mut normal = vec![2.0; 10_000];
        let mut shear = vec![[0.0; 2]; 10_000];
        s.apply(&mut normal, &mut shear);
        for (i, x) in normal.iter().enumerate().take(50) {
            assert_eq!(*x, 2.0 * s.gain(i));
        }
    }

    #[test]
    fn drift_is_a_random_walk_with_the_stated_rate() {
        // After T seconds the bias has variance drift^2 * T.
        let desc = NoiseDesc { drift_n_per_sqrt_s: 0.03, ..Default::default() };
        let out = run(desc, 11, 240, 0.0); // 4 s at 60 Hz
        let last = out.last().unwrap();
        let (_, std) = mean_std(last.iter().copied());
        let expected = 0.03 * 4.0f64.sqrt();
        assert!((std - expected).abs() < 0.2 * expected, "{std} vs {expected}");
    }

    #[test]
    fn dead_taxels_read_zero_at_the_stated_rate() {
        let desc = NoiseDesc { dead_fraction: 0.2, gaussian_sigma_n: 0.01, ..Default::default() };
        let mut s = NoiseState::new(desc, 10_000, 0.01, 5);
        let mut normal = vec![1.0; 10_000];
        let mut shear = vec![[1.0; 2]; 10_000];
        s.apply(&mut normal, &mut shear);
        let dead: Vec<usize> = (0..10_000).filter(|&i| s.is_dead(i)).collect();
        let rate = dead.len() as f64 / 10_000.0;
        assert!((rate - 0.2).abs() < 0.02, "dead rate {rate}");
        for &i in &dead {
            assert_eq!((normal[i], shear[i]), (0.0, [0.0, 0.0]));
        }
        assert!((0..10_000).filter(|i| !s.is_dead(*i)).all(|i| normal[i] != 0.0));
    }

    #[test]
    fn saturation_and_quantisation_land_on_the_adc_grid() {
        let desc =
            NoiseDesc { gaussian_sigma_n: 0.3, saturation_n: Some(1.0), adc_lsb_n: Some(0.05), ..Default::default() };
        let out = run(desc, 9, 50, 0.8);
        for &x in out.iter().flatten() {
            assert!((-1.0..=1.0).contains(&x), "{x} beyond saturation");
            let k = x / 0.05;
            assert!((k - k.round()).abs() < 1e-4, "{x} is off the ADC grid");
        }
        assert!(out.iter().flatten().any(|&x| x == 1.0), "saturation reached");
    }

    #[test]
    fn lowpass_step_response_has_the_stated_time_constant() {
        let dt = 1.0 / 240.0;
        let desc = NoiseDesc { lowpass_tau_s: Some(0.05), ..Default::default() };
        let mut s = NoiseState::new(desc, 1, dt, 0);
        let (mut normal, mut shear) = (vec![0.0], vec![[0.0; 2]]);
        s.apply(&mut normal, &mut shear); // primes the filter at 0
        let steps = (0.05 / dt).round() as usize; // one time constant
        for _ in 0..steps {
            normal[0] = 1.0;
            s.apply(&mut normal, &mut shear);
        }
        let expected = 1.0 - (-1.0f32).exp();
        assert!((normal[0] - expected).abs() < 0.02, "{} vs {expected}", normal[0]);
    }

    #[test]
    fn latency_delays_by_exactly_k_steps() {
        let desc = NoiseDesc { latency_steps: 3, ..Default::default() };
        let mut s = NoiseState::new(desc, 2, 0.01, 0);
        let mut seen = Vec::new();
        for k in 0..8 {
            let mut normal = vec![k as f32 + 1.0, 0.0];
            let mut shear = vec![[0.0; 2]; 2];
            s.apply(&mut normal, &mut shear);
            seen.push(normal[0]);
        }
        assert_eq!(seen, vec![0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
    }

    #[test]
    fn binary_mode_thresholds_and_flips_at_the_stated_rate() {
        let desc = NoiseDesc { binary: Some(BinaryDesc { threshold_n: 0.5, flip_prob: 0.1 }), ..Default::default() };
        let high = run(desc.clone(), 4, 100, 1.0);
        let ones = high.iter().flatten().filter(|&&x| x == 1.0).count() as f64 / 10_000.0;
        assert!((ones - 0.9).abs() < 0.01, "{ones}");
        assert!(high.iter().flatten().all(|&x| x == 0.0 || x == 1.0));
        let low = run(desc, 4, 100, 0.2);
        let ones = low.iter().flatten().filter(|&&x| x == 1.0).count() as f64 / 10_000.0;
        assert!((ones - 0.1).abs() < 0.01, "{ones}");
    }

    #[test]
    fn same_seed_same_noise_other_seed_other_noise() {
        let desc = NoiseDesc { gaussian_sigma_n: 0.1, gain_sigma: 0.05, ..Default::default() };
        let a = run(desc.clone(), 42, 5, 1.0);
        let b = run(desc.clone(), 42, 5, 1.0);
        let c = run(desc, 43, 5, 1.0);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn bad_parameters_name_the_field() {
        let bad = NoiseDesc { dead_fraction: 1.5, ..Default::default() };
        assert!(bad.validate("noise").unwrap_err().to_string().contains("noise.dead_fraction"));
        let bad = NoiseDesc { gaussian_sigma_n: f32::NAN, ..Default::default() };
        assert!(bad.validate("noise").unwrap_err().to_string().contains("gaussian_sigma_n"));
        let bad = NoiseDesc { adc_lsb_n: Some(-1.0), ..Default::default() };
        assert!(bad.validate("noise").unwrap_err().to_string().contains("adc_lsb_n"));
    }
}
