//! Evaluation: a trained policy on fresh seeded episodes.

use serde::Serialize;
use tactile_env::tasks::explorers::{InfoGainQuery, Scripted, ScriptedExplorer, answer_all, avoid_contact};
use tactile_env::{Space, VecEnv};

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

/// Who moves the finger in an Explore task's evaluation; the policy's
/// discriminator (or its own `declare`) still declares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Explorer {
    /// The policy itself, every action its own.
    #[default]
    Learned,
    /// The policy, except that a move into a known contact cell gives way
    /// to its next most likely move (TANDEM's evaluation of its explorer).
    LearnedAvoidingContact,
    /// A scripted explorer (TANDEM's baselines) in place of the policy's
    /// moves.
    Scripted(Scripted),
}

impl Explorer {
    /// The explorer of a command-line name: `learned`,
    /// `learned-avoiding-contact`, or a scripted one's name.
    pub fn from_name(name: &str) -> Option<Explorer> {
        match name {
            "learned" => Some(Explorer::Learned),
            "learned-avoiding-contact" => Some(Explorer::LearnedAvoidingContact),
            other => Scripted::from_name(other).map(Explorer::Scripted),
        }
    }

    /// Its command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Explorer::Learned => "learned",
            Explorer::LearnedAvoidingContact => "learned-avoiding-contact",
            Explorer::Scripted(s) => s.name(),
        }
    }

    /// Every command-line name.
    pub fn names() -> Vec<&'static str> {
        let mut names = vec!["learned", "learned-avoiding-contact"];
        names.extend(Scripted::ALL.iter().map(|s| s.name()));
        names
    }
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
    evaluate_with(policy, env_id, episodes, seed, threads, stochastic, Explorer::Learned)
}

/// [`evaluate`] with the finger moved by `explorer`: on a task whose
/// observation holds an occupancy `grid` and whose action starts with a
/// `move` (the Explore tasks), the explorer's move replaces the policy's.
pub fn evaluate_with(
    policy: &TrainedPolicy,
    env_id: &str,
    episodes: usize,
    seed: u64,
    threads: usize,
    stochastic: bool,
    explorer: Explorer,
) -> Result<EvalReport, RlError> {
    use rand::SeedableRng;
    let mut rng = stochastic.then(|| rand::rngs::StdRng::seed_from_u64(seed ^ 0xE7A1));
    let mut script_rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x5C41);
    let episodes = episodes.max(1);
    let mut env = VecEnv::make(env_id, episodes, threads, None)?;
    env.reset(seed)?;
    let grid = match explorer {
        Explorer::Learned => None,
        _ => Some(grid_of(env.observation_space(), env.action_space()).ok_or(RlError::Config {
            field: "explorer",
            reason: "a scripted or contact-avoiding explorer needs a task with a `grid` observation and a `move` action",
        })?),
    };
    let obs_dim = env.observation_space().flat_dim();
    let mut scripts: Vec<ScriptedExplorer> = match (explorer, grid) {
        (Explorer::Scripted(kind), Some((_, side))) if !kind.asks_classifier() => {
            (0..episodes).map(|_| ScriptedExplorer::new(kind, side)).collect()
        }
        _ => Vec::new(),
    };
    if let Some((offset, side)) = grid {
        for (s, row) in scripts.iter_mut().zip(env.obs.chunks(obs_dim)) {
            s.reset(&row[offset..offset + side * side]);
        }
    }
    let classes = policy.meta.discriminator.as_ref().map(|d| d.layout.classes);
    let asks = matches!(explorer, Explorer::Scripted(kind) if kind.asks_classifier());
    if asks && classes.is_none() {
        return Err(RlError::Config {
            field: "explorer",
            reason: "info-gain asks the policy's discriminator, and this policy has none (train it under TANDEM)",
        });
    }
    let (mut queries, mut query_grids) = (Vec::new(), Vec::new());
    let ad = env.action_space().flat_dim();
    let mut actions = vec![0.0; episodes * ad];
    let mut done = vec![false; episodes];
    let (mut returns, mut lengths, mut successes) = (vec![0.0f64; episodes], vec![0u64; episodes], 0usize);
    let mut success_len = 0u64;
    let mut fact_sums: Vec<(String, f64)> = env.infos[0].facts.iter().map(|(k, _)| (k.to_string(), 0.0)).collect();
    // What the policy reads: each env's observation until its episode
    // ends, then that episode's last one (the env goes on into a new
    // episode no one counts, which a posterior discriminator would
    // otherwise read from the start, at a cost, on every row).
    let mut seen = env.obs.clone();
    while done.iter().any(|d| !d) {
        for ((row, now), &over) in seen.chunks_mut(obs_dim).zip(env.obs.chunks(obs_dim)).zip(&done) {
            if !over {
                row.copy_from_slice(now);
            }
        }
        let outputs = policy.act_with(&seen, &mut actions, rng.as_mut());
        if let Some((offset, side)) = grid {
            let grids = env.obs.chunks(obs_dim).map(|row| &row[offset..offset + side * side]);
            match explorer {
                Explorer::Scripted(_) if asks => {
                    // Every env's grid as it is, then the active ones'
                    // questions, in one batch.
                    queries.clear();
                    query_grids.clear();
                    for g in grids.clone() {
                        query_grids.extend_from_slice(g);
                    }
                    for (g, &over) in grids.zip(&done) {
                        queries.push((!over).then(|| InfoGainQuery::ask(g, side, &mut query_grids)));
                    }
                    let probs = policy.grid_class_probabilities(&query_grids).unwrap_or_default();
                    let (before, answers) = probs.split_at(episodes * classes.unwrap_or(1));
                    answer_all(&queries, before, answers, classes.unwrap_or(1), &mut script_rng, &mut actions, ad);
                }
                Explorer::Scripted(_) => {
                    for ((s, g), a) in scripts.iter_mut().zip(grids).zip(actions.chunks_mut(ad)) {
                        a[0] = s.next_move(g, &mut script_rng) as f32;
                    }
                }
                Explorer::LearnedAvoidingContact => {
                    let per = outputs.len() / episodes;
                    for ((g, a), out) in grids.zip(actions.chunks_mut(ad)).zip(outputs.chunks(per)) {
                        a[0] = avoid_contact(g, side, a[0] as usize, &out[..4]) as f32;
                    }
                }
                Explorer::Learned => {}
            }
        }
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

/// The offset and side of the observation's square grid, when the
/// action's first entry is a 4-way `move`.
fn grid_of(obs: &Space, act: &Space) -> Option<(usize, usize)> {
    matches!(act.entry("move")?, (0, Space::Discrete { n: 4 })).then_some(())?;
    obs.square_grid()
}
