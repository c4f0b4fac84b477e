//! EpisodeSeeds: every episode seeded on its own, so that any episode of a
//! run can be started again directly.

use crate::vec_env::env_seed;
use crate::{Env, EnvError, Info, Step};

/// Reseeds the wrapped env at every reset: `reset(Some(s))` starts episode
/// 0 with seed `s`; the `k`-th `reset(None)` after it starts episode `k`
/// with seed `env_seed(s, k)`. From outside it behaves as Gymnasium
/// expects (seed once, then each reset continues deterministically), and
/// [`Env::reset_episode`] reaches episode `k` in one reset — which is how a
/// training checkpoint puts its envs back without replaying the run.
pub struct EpisodeSeeds<E> {
    inner: E,
    seed: u64,
    next: u64,
}

impl<E: Env> EpisodeSeeds<E> {
    /// Wraps `inner` (never seeded: the run of seed 0).
    pub fn new(inner: E) -> Self {
        EpisodeSeeds { inner, seed: 0, next: 0 }
    }

    /// The seed of episode `episode` of the run seeded with `seed`.
    pub fn episode_seed(seed: u64, episode: u64) -> u64 {
        if episode == 0 { seed } else { env_seed(seed, episode as usize) }
    }
}

impl<E: Env> Env for EpisodeSeeds<E> {
    super::forward_env!(core, obs_space, act_space, info);
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32], info: &mut Info) {
        let episode = match seed {
            Some(s) => {
                self.seed = s;
                0
            }
            None => self.next,
        };
        self.reset_episode(self.seed, episode, obs, info);
    }
    fn reset_episode(&mut self, seed: u64, episode: u64, obs: &mut [f32], info: &mut Info) {
        self.seed = seed;
        self.next = episode + 1;
        self.inner.reset(Some(Self::episode_seed(seed, episode)), obs, info);
    }
    fn step(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> Result<Step, EnvError> {
        self.inner.step(action, obs, info)
    }
}
