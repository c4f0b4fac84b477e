//! RecordEpisodeStatistics: the return and length of each finished episode.

use crate::{Env, EnvError, Info, Step};

/// Adds the facts `episode_return`, `episode_length` and `episode_success`
/// to the info, set on the step that ends an episode (and zero otherwise).
pub struct RecordEpisodeStatistics<E> {
    inner: E,
    facts: Vec<&'static str>,
    episode_return: f64,
    episode_length: u64,
}

const FACTS: [&str; 3] = ["episode_return", "episode_length", "episode_success"];

impl<E: Env> RecordEpisodeStatistics<E> {
    /// Wraps `inner`.
    pub fn new(inner: E) -> Self {
        let facts = inner.fact_names().iter().copied().chain(FACTS).collect();
        RecordEpisodeStatistics { inner, facts, episode_return: 0.0, episode_length: 0 }
    }
}

impl<E: Env> Env for RecordEpisodeStatistics<E> {
    super::forward_env!(core, obs_space, act_space);
    fn fact_names(&self) -> &[&'static str] {
        &self.facts
    }
    fn new_info(&self) -> Info {
        Info::new(self.inner.reward_terms(), &self.facts).with_state(self.inner.state_dim())
    }
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32], info: &mut Info) {
        self.episode_return = 0.0;
        self.episode_length = 0;
        self.inner.reset(seed, obs, info);
    }
    fn step(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> Result<Step, EnvError> {
        let s = self.inner.step(action, obs, info)?;
        self.episode_return += f64::from(s.reward);
        self.episode_length += 1;
        let base = self.facts.len() - FACTS.len();
        let done = s.terminated || s.truncated;
        info.facts[base].1 = if done { self.episode_return } else { 0.0 };
        info.facts[base + 1].1 = if done { self.episode_length as f64 } else { 0.0 };
        info.facts[base + 2].1 = if done && info.success { 1.0 } else { 0.0 };
        Ok(s)
    }
}
