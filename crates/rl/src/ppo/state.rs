//! What a learner is beside its weights and optimiser moments: counters,
//! normalisers, each env's episode so far and its hooks' fills. A
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
    /// The discriminator's replay buffer's fill and next slot, under TANDEM.
    pub replay: Option<(usize, usize)>,
    /// The held-out grids' fill and next slot, under a calibrated TANDEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_out: Option<(usize, usize)>,
    /// Each env's value of the bonus fact after its last step.
    pub bonus_prev: Vec<f64>,
}

impl Ppo {
    /// The learner's state beside its weights and optimiser moments.
    pub fn state(&self) -> PpoState {
        let ep = &self.episodes;
        let tandem = self.hooks.tandem.as_ref();
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
            replay: tandem.map(|t| t.replay_fill()),
            held_out: tandem.and_then(|t| t.held_out_fill()),
            bonus_prev: match &self.hooks.bonus {
                Some(b) => b.last.clone(),
                None => vec![0.0; self.config.num_envs],
            },
        }
    }

    /// Puts back a state of [`Ppo::state`] (of a learner with this config);
    /// the TANDEM replay's grids themselves come through
    /// [`crate::Tandem::restore_rings`].
    pub fn restore(&mut self, state: PpoState) -> Result<(), RlError> {
        let n = self.config.num_envs;
        let per_env = [
            state.returns_acc.len(),
            state.episode_return.len(),
            state.episode_len.len(),
            state.needs_reset.len(),
            state.env_actions.len(),
            state.bonus_prev.len(),
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
        if let Some(b) = &mut self.hooks.bonus {
            b.last = state.bonus_prev;
        }
        self.obs_rms = state.obs_rms;
        self.ret_rms = state.ret_rms;
        self.global_step = state.global_step;
        self.updates = state.updates;
        Ok(())
    }
}
