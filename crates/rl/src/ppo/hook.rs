//! The one place where something beside PPO joins its rollout: a
//! [`RolloutHook`] fills actions the policy does not learn, adds reward
//! terms to what the learner sees (never to the reported returns), and
//! trains itself after each update. TANDEM's discriminator
//! ([`crate::Tandem`]) and the exploration bonus ([`BonusHook`]) are the
//! two there are.

use std::any::Any;

use rand::rngs::StdRng;
use tactile_env::{Info, Space};

use crate::RlError;
use crate::ppo::config::FactBonus;
use crate::ppo::stats::UpdateStats;

/// What a companion of PPO adds to its rollout. Every method has a
/// default that adds nothing. The rollout calls
/// [`RolloutHook::begin_rollout`] once; then for each batch step
/// [`RolloutHook::before_step`], [`RolloutHook::env_action`] for each env,
/// the env step, [`RolloutHook::after_step`], then per env either
/// [`RolloutHook::episode_begins`] (the step was a reset) or
/// [`RolloutHook::shape`] (and [`RolloutHook::episode_ends`] where the
/// episode ended), then [`RolloutHook::end_step`]; and after the update
/// [`RolloutHook::after_update`]. Hooks are called in the order they were
/// given; a hook's own state (what a checkpoint must keep) is the
/// checkpoint's to store (`crates/rl/src/checkpoint.rs`).
pub trait RolloutHook: Any {
    /// The action space the policy learns, given the env's (a hook that
    /// fills an action takes it out).
    fn policy_action_space(&self, env_space: &Space) -> Result<Space, RlError> {
        Ok(env_space.clone())
    }

    /// Before the rollout's first step, with the envs' raw observations
    /// (`num_envs x obs_dim`).
    fn begin_rollout(&mut self, _raw_obs: &[f32], _obs_dim: usize) {}

    /// Turns the policy's actions of env `env` into the env's action
    /// (`out`, its full width); returns false to leave that to the caller
    /// (a plain copy).
    fn env_action(&self, _env: usize, _policy_action: &[f32], _out: &mut [f32]) -> bool {
        false
    }

    /// Before the envs step, once per batch step (after every
    /// [`RolloutHook::env_action`] of it is known to come).
    fn before_step(&mut self) {}

    /// After the batch step, with the new raw observations and infos.
    fn after_step(&mut self, _raw_obs: &[f32], _obs_dim: usize, _infos: &[Info]) {}

    /// Env `env`'s step was a reset: a new episode begins with `info`.
    fn episode_begins(&mut self, _env: usize, _info: &Info) {}

    /// A reward term for env `env`'s step (none: nothing is added).
    fn shape(&mut self, _env: usize, _info: &Info, _terminated: bool, _gamma: f32) -> Option<f32> {
        None
    }

    /// Env `env`'s episode ended with this step.
    fn episode_ends(&mut self, _env: usize) {}

    /// After each batch step, once every env has been seen.
    fn end_step(&mut self) {}

    /// After PPO's update: the hook's own training, its metrics into
    /// `stats.extra` by name (each one of [`RolloutHook::metric_names`]).
    fn after_update(&mut self, _rng: &mut StdRng, _stats: &mut UpdateStats) {}

    /// The names of the metrics it reports.
    fn metric_names(&self) -> &'static [&'static str] {
        &[]
    }
}

/// Pays [`FactBonus::per_unit`] for each unit an info fact grows by in a
/// step (Explore-v0: `contact_cells`, so that finding new contact pays at
/// once).
#[derive(Clone, Debug)]
pub struct BonusHook {
    /// The fact and the pay.
    pub config: FactBonus,
    /// Each env's value of the fact after its last step.
    pub last: Vec<f64>,
}

impl BonusHook {
    /// A bonus for `num_envs` envs.
    pub fn new(config: FactBonus, num_envs: usize) -> Self {
        BonusHook { config, last: vec![0.0; num_envs] }
    }

    fn fact(&self, info: &Info) -> f64 {
        info.fact(&self.config.fact).unwrap_or(0.0)
    }
}

impl RolloutHook for BonusHook {
    fn episode_begins(&mut self, env: usize, info: &Info) {
        self.last[env] = self.fact(info);
    }

    fn shape(&mut self, env: usize, info: &Info, _terminated: bool, _gamma: f32) -> Option<f32> {
        let now = self.fact(info);
        let growth = (now - self.last[env]).max(0.0) as f32;
        self.last[env] = now;
        Some(self.config.per_unit * growth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bonus_pays_for_growth_only_and_starts_afresh_with_each_episode() {
        let mut hook = BonusHook::new(FactBonus { fact: "cells".into(), per_unit: 0.5 }, 1);
        let mut info = Info::new(&[], &["cells"]);
        info.facts[0].1 = 3.0;
        hook.episode_begins(0, &info);
        info.facts[0].1 = 7.0;
        assert_eq!(hook.shape(0, &info, false, 0.99), Some(2.0));
        info.facts[0].1 = 5.0;
        assert_eq!(hook.shape(0, &info, false, 0.99), Some(0.0));
        info.facts[0].1 = 6.0;
        assert_eq!(hook.shape(0, &info, true, 0.99), Some(0.5));
        info.facts[0].1 = 0.0;
        hook.episode_begins(0, &info);
        info.facts[0].1 = 1.0;
        assert_eq!(hook.shape(0, &info, false, 0.99), Some(0.5));
    }
}
