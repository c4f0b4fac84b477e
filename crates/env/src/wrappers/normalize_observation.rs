//! NormalizeObservation: observations scaled by running statistics.

use super::RunningMeanStd;
use crate::{Env, EnvError, Info, Space, Step};

/// Observations become `(obs - mean) / sqrt(var + 1e-8)` with a running
/// mean and variance, updated on every observation while `update` is on
/// (turn it off to evaluate a trained policy with frozen statistics).
pub struct NormalizeObservation<E> {
    inner: E,
    space: Space,
    /// The running statistics (saved beside a trained policy).
    pub stats: RunningMeanStd,
    /// Whether observations still update the statistics.
    pub update: bool,
}

impl<E: Env> NormalizeObservation<E> {
    /// Wraps `inner` with fresh statistics.
    pub fn new(inner: E) -> Self {
        let dim = inner.observation_space().flat_dim();
        let space = Space::uniform_box(f32::NEG_INFINITY, f32::INFINITY, &[dim]);
        NormalizeObservation { inner, space, stats: RunningMeanStd::new(dim), update: true }
    }

    fn normalize(&mut self, obs: &mut [f32]) {
        if self.update {
            self.stats.update(obs);
        }
        for (i, o) in obs.iter_mut().enumerate() {
            *o = ((f64::from(*o) - self.stats.mean[i]) / (self.stats.var[i] + 1e-8).sqrt()) as f32;
        }
    }
}

impl<E: Env> Env for NormalizeObservation<E> {
    super::forward_env!(core, act_space, info);
    fn observation_space(&self) -> &Space {
        &self.space
    }
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32], info: &mut Info) {
        self.inner.reset(seed, obs, info);
        self.normalize(obs);
    }
    fn step(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> Result<Step, EnvError> {
        let s = self.inner.step(action, obs, info)?;
        self.normalize(obs);
        Ok(s)
    }
}
