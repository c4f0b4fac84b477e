//! What one PPO update reports.

use serde::Serialize;

/// The statistics of one PPO update (CleanRL's metric names in the docs).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct UpdateStats {
    /// Env steps so far.
    pub global_step: u64,
    /// `losses/policy_loss`.
    pub policy_loss: f32,
    /// `losses/value_loss`.
    pub value_loss: f32,
    /// `losses/entropy`.
    pub entropy: f32,
    /// `losses/approx_kl`.
    pub approx_kl: f32,
    /// `losses/clipfrac`.
    pub clipfrac: f32,
    /// `losses/explained_variance`.
    pub explained_variance: f32,
    /// `charts/learning_rate`.
    pub learning_rate: f64,
    /// Returns of the episodes that ended during this rollout.
    pub episode_returns: Vec<f32>,
    /// Their lengths.
    pub episode_lengths: Vec<u32>,
    /// Their success flags.
    pub episode_successes: Vec<bool>,
    /// Mean of each reward term per step over the rollout, by name.
    pub reward_terms: Vec<(String, f32)>,
    /// Extra metrics by name (`losses/discriminator_loss`, ...).
    pub extra: Vec<(&'static str, f32)>,
    /// Samples that went through the gradient phase.
    pub update_samples: usize,
    /// Seconds spent in the gradient phase.
    pub update_s: f64,
}
