//! What a learner is beside its weights and optimiser moments: counters,
//! normalisers and each env's episode so far (its hooks keep their own). A
//! checkpoint stores it (`Ppo::state`) and puts it back (`Ppo::restore`).

use serde::{Deserialize, Serialize};
use tactile_env::wrappers::RunningMeanStd;

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
    /// Each env's episode so far.
    #[serde(flatten)]
    pub episodes: EnvEpisodes,
}

/// Each env's episode so far (the keys are those of a checkpoint's
/// `trainer.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvEpisodes {
    /// The env's last step was an autoreset: its next step is no transition.
    pub needs_reset: Vec<bool>,
    /// Undiscounted return so far.
    #[serde(rename = "episode_return")]
    pub returns: Vec<f64>,
    /// Steps so far.
    #[serde(rename = "episode_len")]
    pub lengths: Vec<u32>,
    /// Running discounted return (for reward scaling).
    #[serde(rename = "returns_acc")]
    pub discounted: Vec<f64>,
    /// The env actions since the episode began (what a checkpoint replays
    /// to put the env back).
    #[serde(rename = "env_actions")]
    pub actions: Vec<Vec<f32>>,
}

impl EnvEpisodes {
    /// `num_envs` envs, none begun.
    pub fn new(num_envs: usize) -> Self {
        let n = num_envs;
        EnvEpisodes {
            needs_reset: vec![false; n],
            returns: vec![0.0; n],
            lengths: vec![0; n],
            discounted: vec![0.0; n],
            actions: vec![Vec::new(); n],
        }
    }

    pub(crate) fn lengths_are(&self, n: usize) -> bool {
        [self.needs_reset.len(), self.returns.len(), self.lengths.len(), self.discounted.len(), self.actions.len()]
            .iter()
            .all(|&l| l == n)
    }
}
