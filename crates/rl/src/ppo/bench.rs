//! `tactile bench ppo`: the gradient phase alone, on a synthetic rollout.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::Ppo;
use super::stats::UpdateStats;

impl Ppo {
    /// Gradient-phase throughput (samples per second) on a synthetic
    /// rollout of the configured size.
    pub fn bench_update(&mut self) -> f64 {
        let stats = self.synthetic_update();
        stats.update_samples as f64 / stats.update_s.max(1e-12)
    }

    /// One update (the minibatch epochs) on a synthetic rollout drawn from
    /// a fixed seed: the same observations, actions, log-probabilities,
    /// values and rewards on every call and every device, so two learners
    /// of one config on two backends can be compared update by update.
    pub fn synthetic_update(&mut self) -> UpdateStats {
        let mut rng = StdRng::seed_from_u64(7);
        let b = &mut self.buffer;
        b.obs.iter_mut().for_each(|x| *x = rng.random_range(-1.0..1.0));
        b.state.iter_mut().for_each(|x| *x = rng.random_range(-1.0..1.0));
        b.actions.iter_mut().for_each(|x| *x = rng.random_range(-1.0..1.0));
        b.logp.iter_mut().for_each(|x| *x = rng.random_range(-3.0..-1.0));
        b.values.iter_mut().for_each(|x| *x = rng.random_range(-1.0..1.0));
        b.rewards.iter_mut().for_each(|x| *x = rng.random_range(-1.0..1.0));
        b.terminated.fill(false);
        b.truncated.fill(false);
        b.valid.fill(true);
        let mut stats = UpdateStats::default();
        self.learn(self.config.learning_rate, &mut stats);
        stats
    }
}
