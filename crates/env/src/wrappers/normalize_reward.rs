//! NormalizeReward: rewards scaled by the spread of the discounted return.

use super::RunningMeanStd;
use crate::{Env, EnvError, Info, Step};

/// Rewards become `r / sqrt(var(G) + 1e-8)`, where `G` is a running
/// discounted return (`G = gamma G + r`, restarted at each episode end) and
/// `var(G)` its running variance (Gymnasium's NormalizeReward). The info's
/// reward terms keep their raw values.
pub struct NormalizeReward<E> {
    inner: E,
    gamma: f64,
    discounted_return: f64,
    /// The running statistics of the discounted return.
    pub stats: RunningMeanStd,
    /// Whether rewards still update the statistics.
    pub update: bool,
}

impl<E: Env> NormalizeReward<E> {
    /// Wraps `inner` with discount `gamma`.
    pub fn new(inner: E, gamma: f64) -> Self {
        NormalizeReward { inner, gamma, discounted_return: 0.0, stats: RunningMeanStd::new(1), update: true }
    }
}

impl<E: Env> Env for NormalizeReward<E> {
    super::forward_env!(core, obs_space, act_space, info);
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32], info: &mut Info) {
        self.inner.reset(seed, obs, info);
    }
    fn step(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> Result<Step, EnvError> {
        let mut s = self.inner.step(action, obs, info)?;
        self.discounted_return = self.discounted_return * self.gamma + f64::from(s.reward);
        if self.update {
            self.stats.update(&[self.discounted_return as f32]);
        }
        s.reward = (f64::from(s.reward) / (self.stats.var[0] + 1e-8).sqrt()) as f32;
        if s.terminated || s.truncated {
            self.discounted_return = 0.0;
        }
        Ok(s)
    }
}
