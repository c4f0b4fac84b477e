//! TimeLimit: truncates an episode after a number of steps.

use crate::{Env, EnvError, Info, Step};

/// Truncates the episode on its `max_episode_steps`-th step.
pub struct TimeLimit<E> {
    inner: E,
    max_episode_steps: u32,
    elapsed: u32,
}

impl<E: Env> TimeLimit<E> {
    /// Wraps `inner`.
    pub fn new(inner: E, max_episode_steps: u32) -> Self {
        TimeLimit { inner, max_episode_steps, elapsed: 0 }
    }

    /// The wrapped env.
    pub fn inner(&self) -> &E {
        &self.inner
    }
}

impl<E: Env> Env for TimeLimit<E> {
    super::forward_env!(core, obs_space, act_space, info);
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32], info: &mut Info) {
        self.elapsed = 0;
        self.inner.reset(seed, obs, info);
    }
    fn step(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> Result<Step, EnvError> {
        let mut s = self.inner.step(action, obs, info)?;
        self.elapsed += 1;
        if self.elapsed >= self.max_episode_steps {
            s.truncated = true;
        }
        Ok(s)
    }
}
