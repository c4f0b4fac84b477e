//! What a learner is beside its weights and optimiser moments: counters,
//! normalisers and each env's episode so far (its hooks keep their own). A
//! checkpoint stores it ([`Ppo::state`]) and puts it back
//! ([`Ppo::restore`]).

use serde::{Deserialize, Serialize};
use tactile_env::wrappers::RunningMeanStd;

use super::Ppo;
use crate::RlError;

/// A learner's state beside its weights and optimiser moments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PpoState {
    /// Env steps taken.
    pub global_step: u64,
    /// Updates done.
    pub updates: u64,
    /// Observation statistics.
    pub obs_rms: RunningMeanStd,
    /// Discounted-return statistics (reward scaling).
    pub ret_rms: RunningMeanStd,
    /// Each env's running discounted return.
    pub returns_acc: Vec<f64>,
    /// Each env's undiscounted return so far.
    pub episode_return: Vec<f64>,
    /// Each env's episode length so far.
    pub episode_len: Vec<u32>,
    /// Each env's pending reset.
    pub needs_reset: Vec<bool>,
    /// Each env's actions since its episode began.
    pub env_actions: Vec<Vec<f32>>,
}

impl Ppo {
    /// The learner's state beside its weights and optimiser moments.
    pub fn state(&self) -> PpoState {
        let ep = &self.episodes;
        PpoState {
            global_step: self.global_step,
            updates: self.updates,
            obs_rms: self.obs_rms.clone(),
            ret_rms: self.ret_rms.clone(),
            returns_acc: ep.discounted.clone(),
            episode_return: ep.returns.clone(),
            episode_len: ep.lengths.clone(),
            needs_reset: ep.needs_reset.clone(),
            env_actions: ep.actions.clone(),
        }
    }

    /// Puts back a state of [`Ppo::state`] (of a learner with this config).
    pub fn restore(&mut self, state: PpoState) -> Result<(), RlError> {
        let n = self.config.num_envs;
        let per_env = [
            state.returns_acc.len(),
            state.episode_return.len(),
            state.episode_len.len(),
            state.needs_reset.len(),
            state.env_actions.len(),
        ];
        if per_env.iter().any(|&l| l != n) || state.obs_rms.mean.len() != self.prep.obs_dim {
            return Err(RlError::Config {
                field: "num_envs",
                reason: "the saved per-env state does not match num_envs or the observation space",
            });
        }
        let ep = &mut self.episodes;
        ep.discounted = state.returns_acc;
        ep.returns = state.episode_return;
        ep.lengths = state.episode_len;
        ep.needs_reset = state.needs_reset;
        ep.actions = state.env_actions;
        self.obs_rms = state.obs_rms;
        self.ret_rms = state.ret_rms;
        self.global_step = state.global_step;
        self.updates = state.updates;
        Ok(())
    }
}
