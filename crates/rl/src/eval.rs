//! Evaluation: a trained policy on fresh seeded episodes.

use serde::Serialize;
use tactile_env::VecEnv;

use crate::RlError;
use crate::trained_policy::TrainedPolicy;

/// What an evaluation measured.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EvalReport {
    /// Episodes run.
    pub episodes: usize,
    /// Mean undiscounted return.
    pub mean_return: f64,
    /// Fraction of episodes that succeeded.
    pub success_rate: f64,
    /// Mean episode length (steps).
    pub mean_episode_len: f64,
    /// Mean length of the successful episodes (0 without any).
    pub mean_success_len: f64,
    /// Each info fact's mean over the episodes, as it stood on their last
    /// step (Explore-v0: `moves`, `contact_cells`), by name.
    pub final_facts: std::collections::BTreeMap<String, f64>,
}

/// Runs `episodes` episodes of the policy on fresh envs of `env_id` seeded
/// from `seed`, one env per episode, in parallel on `threads` threads; its
/// actions are deterministic, or sampled (seeded from `seed` too) with
/// `stochastic`.
pub fn evaluate(
    policy: &TrainedPolicy,
    env_id: &str,
    episodes: usize,
    seed: u64,
    threads: usize,
    stochastic: bool,
) -> Result<EvalReport, RlError> {
    use rand::SeedableRng;
    let mut rng = stochastic.then(|| rand::rngs::StdRng::seed_from_u64(seed ^ 0xE7A1));
    let episodes = episodes.max(1);
    let mut env = VecEnv::make(env_id, episodes, threads, None)?;
    env.reset(seed)?;
    let ad = env.action_space().flat_dim();
    let mut actions = vec![0.0; episodes * ad];
    let mut done = vec![false; episodes];
    let (mut returns, mut lengths, mut successes) = (vec![0.0f64; episodes], vec![0u64; episodes], 0usize);
    let mut success_len = 0u64;
    let mut fact_sums: Vec<(String, f64)> = env.infos[0].facts.iter().map(|(k, _)| (k.to_string(), 0.0)).collect();
    while done.iter().any(|d| !d) {
        policy.act_with(&env.obs, &mut actions, rng.as_mut());
        env.step(&actions)?;
        for i in 0..episodes {
            if done[i] {
                continue;
            }
            returns[i] += f64::from(env.rewards[i]);
            lengths[i] += 1;
            if env.terminated[i] || env.truncated[i] {
                done[i] = true;
                for (sum, (_, v)) in fact_sums.iter_mut().zip(&env.infos[i].facts) {
                    sum.1 += v;
                }
                if env.infos[i].success {
                    successes += 1;
                    success_len += lengths[i];
                }
            }
        }
    }
    let n = episodes as f64;
    Ok(EvalReport {
        episodes,
        mean_return: returns.iter().sum::<f64>() / n,
        success_rate: successes as f64 / n,
        mean_episode_len: lengths.iter().sum::<u64>() as f64 / n,
        mean_success_len: if successes == 0 { 0.0 } else { success_len as f64 / successes as f64 },
        final_facts: fact_sums.into_iter().map(|(k, sum)| (k, sum / n)).collect(),
    })
}
