//! PPO (clipped surrogate), reading top to bottom: config, rollout, GAE,
//! minibatch epochs. The maths lives in pure functions ([`crate::gae`],
//! [`crate::policy::log_prob_entropy`], [`ppo_losses`]).

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use tactile_env::wrappers::RunningMeanStd;
use tactile_env::{Space, VecEnv, env_seed};

use std::ops::Range;

use crate::RlError;
use crate::encoder::{CnnConfig, ObsLayout, ObsPart, egocentric};
use crate::gae::{explained_variance, gae, normalize};
use crate::policy::{ActionLayout, ActorCritic, log_prob_entropy, sample, tensor1, tensor2, to_vec};
use crate::tandem::{Tandem, TandemConfig, declare_from, tandem_layout};

/// Every PPO hyperparameter (CleanRL's names and defaults for continuous
/// control unless a task's `envs/<id>.ppo.toml` says otherwise).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PpoConfig {
    /// Env steps to train for, over all envs.
    pub total_steps: u64,
    /// Envs stepped in parallel.
    pub num_envs: usize,
    /// Threads that step the envs.
    pub threads: usize,
    /// Steps per env in one rollout.
    pub num_steps: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Anneal the learning rate linearly to 0 over training.
    pub anneal_lr: bool,
    /// Discount.
    pub gamma: f32,
    /// GAE's lambda.
    pub gae_lambda: f32,
    /// Minibatches per epoch.
    pub num_minibatches: usize,
    /// Epochs over each rollout.
    pub update_epochs: usize,
    /// Normalise advantages per minibatch.
    pub norm_adv: bool,
    /// Surrogate clipping coefficient.
    pub clip_coef: f32,
    /// Clip the value loss around the old values.
    pub clip_vloss: bool,
    /// Entropy bonus coefficient.
    pub ent_coef: f32,
    /// Value loss coefficient.
    pub vf_coef: f32,
    /// Global gradient-norm clip (over all parameters together).
    pub max_grad_norm: f32,
    /// Stop an update's epochs early past this approximate KL (none: never).
    pub target_kl: Option<f32>,
    /// Hidden layer widths of the actor and critic MLPs.
    pub hidden: Vec<usize>,
    /// Normalise observations with running statistics (saved with the policy).
    pub norm_obs: bool,
    /// Scale rewards by the running spread of the discounted return.
    pub norm_reward: bool,
    /// Clip normalised observations and rewards to +- this.
    pub clip_norm: f32,
    /// Seed of the envs, the network and every draw.
    pub seed: u64,
    /// A CNN for the 2-D grid of the observation (none: the MLPs take the
    /// whole flat observation).
    pub cnn: Option<CnnConfig>,
    /// Show the network the grid centred on the agent's own cell (the one
    /// with the grid's highest code), cells beyond the edge as a code of
    /// their own: what the agent sees around itself then looks the same
    /// wherever it is, which the CNN learns far sooner. Needs `cnn` and a
    /// square grid of codes.
    pub egocentric: bool,
    /// TANDEM co-training: a discriminator fills one action (none: PPO
    /// learns every action, the All-in-one baseline).
    pub tandem: Option<TandemConfig>,
    /// Evaluate by sampling the policy's actions (seeded) rather than
    /// taking the most likely ones: for tasks where a deterministic policy
    /// can repeat a blocked move for ever (an explorer whose grid stops
    /// changing). `tactile eval` follows it unless told otherwise.
    pub eval_stochastic: bool,
    /// An exploration bonus paid to the learner (not counted in the
    /// reported returns) for each unit an info fact grows by in a step.
    pub bonus: Option<FactBonus>,
}

/// An exploration bonus from an info fact (Explore-v0: `contact_cells`,
/// so that finding new contact pays at once).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactBonus {
    /// The fact's name.
    pub fact: String,
    /// Reward per unit of growth.
    pub per_unit: f32,
}

impl Default for PpoConfig {
    fn default() -> Self {
        PpoConfig {
            total_steps: 1_000_000,
            num_envs: 1,
            threads: 1,
            num_steps: 2048,
            learning_rate: 3e-4,
            anneal_lr: true,
            gamma: 0.99,
            gae_lambda: 0.95,
            num_minibatches: 32,
            update_epochs: 10,
            norm_adv: true,
            clip_coef: 0.2,
            clip_vloss: true,
            ent_coef: 0.0,
            vf_coef: 0.5,
            max_grad_norm: 0.5,
            target_kl: None,
            hidden: vec![64, 64],
            norm_obs: true,
            norm_reward: true,
            clip_norm: 10.0,
            seed: 1,
            cnn: None,
            egocentric: false,
            tandem: None,
            eval_stochastic: false,
            bonus: None,
        }
    }
}

const TASK_DEFAULTS: &[(&str, &str)] = &[
    ("EdgeFollow-v0", include_str!("../../../envs/EdgeFollow-v0.ppo.toml")),
    ("Explore-v0", include_str!("../../../envs/Explore-v0.ppo.toml")),
    ("Explore-v1", include_str!("../../../envs/Explore-v1.ppo.toml")),
    ("Pendulum-v1", include_str!("../../../envs/Pendulum-v1.ppo.toml")),
    ("Press-v0", include_str!("../../../envs/Press-v0.ppo.toml")),
];

impl PpoConfig {
    /// The defaults for a task: [`PpoConfig::default`] with the keys of
    /// `envs/<id>.ppo.toml` on top, where the task has one.
    pub fn for_task(env_id: &str) -> Result<Self, RlError> {
        match TASK_DEFAULTS.iter().find(|(id, _)| *id == env_id) {
            Some((id, text)) => toml::from_str(text).map_err(|e| RlError::ConfigFile {
                path: format!("envs/{id}.ppo.toml"),
                message: e.message().to_owned(),
            }),
            None => Ok(PpoConfig::default()),
        }
    }

    /// Checks the values.
    pub fn validate(&self) -> Result<(), RlError> {
        let bad = |field: &'static str, reason: &'static str| Err(RlError::Config { field, reason });
        if self.num_envs == 0 || self.num_steps == 0 || self.threads == 0 {
            return bad("num_envs, num_steps, threads", "must be at least 1");
        }
        if self.num_minibatches == 0 || self.num_minibatches > self.num_envs * self.num_steps {
            return bad("num_minibatches", "must be between 1 and num_envs x num_steps");
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return bad("learning_rate", "must be > 0");
        }
        if !((0.0..=1.0).contains(&self.gamma) && (0.0..=1.0).contains(&self.gae_lambda)) {
            return bad("gamma, gae_lambda", "must be in [0, 1]");
        }
        if self.hidden.is_empty() || self.hidden.contains(&0) {
            return bad("hidden", "needs at least one layer, each at least 1 wide");
        }
        if (self.tandem.is_some() || self.egocentric) && self.cnn.is_none() {
            return bad("tandem, egocentric", "need a [cnn] section (a grid for the network)");
        }
        if self.tandem.as_ref().is_some_and(|t| t.calibration_envs > 0 && t.calibration_envs >= self.num_envs) {
            return bad("tandem.calibration_envs", "must leave at least one of num_envs to train the discriminator");
        }
        Ok(())
    }
}

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

/// PPO's losses for one minibatch: `(policy, value, entropy, approx_kl,
/// clipfrac)` as tensors of one element; the first three differentiable.
#[allow(clippy::too_many_arguments)]
pub fn ppo_losses(
    new_logp: Tensor<1>,
    entropy: Tensor<1>,
    new_values: Tensor<1>,
    old_logp: Tensor<1>,
    old_values: Tensor<1>,
    advantages: Tensor<1>,
    returns: Tensor<1>,
    clip_coef: f32,
    clip_vloss: bool,
) -> [Tensor<1>; 5] {
    let log_ratio = new_logp - old_logp;
    let ratio = log_ratio.clone().exp();
    let pg1 = -advantages.clone() * ratio.clone();
    let pg2 = -advantages * ratio.clone().clamp(1.0 - clip_coef, 1.0 + clip_coef);
    let policy = pg1.max_pair(pg2).mean();
    let unclipped = (new_values.clone() - returns.clone()).powi_scalar(2);
    let value = if clip_vloss {
        let clipped = old_values.clone() + (new_values - old_values).clamp(-clip_coef, clip_coef);
        unclipped.max_pair((clipped - returns).powi_scalar(2)).mean().mul_scalar(0.5)
    } else {
        unclipped.mean().mul_scalar(0.5)
    };
    let approx_kl = ((ratio.clone() - 1.0) - log_ratio).mean().detach();
    let clipfrac = (ratio - 1.0).abs().greater_elem(clip_coef).float().mean().detach();
    [policy, value, entropy.mean(), approx_kl, clipfrac]
}

/// Sums the squares of every float gradient of a module.
struct GradNorm<'a> {
    grads: &'a GradientsParams,
    sum: Option<Tensor<1>>,
    ids: Vec<(ParamId, usize)>,
}

impl ModuleVisitor for GradNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            let s = g.powi_scalar(2).sum();
            self.sum = Some(match self.sum.take() {
                Some(acc) => acc + s,
                None => s,
            });
            self.ids.push((param.id, D));
        }
    }
}

/// Scales all gradients together so that their global L2 norm is at most
/// `max_norm` (burn's own clipping works per parameter). Returns the norm.
pub fn clip_global_grad_norm<M: Module>(module: &M, grads: &mut GradientsParams, max_norm: f32) -> f32 {
    let mut v = GradNorm { grads, sum: None, ids: Vec::new() };
    module.visit(&mut v);
    let Some(sum) = v.sum else { return 0.0 };
    let ids = v.ids;
    let norm = sum.into_scalar::<f32>().sqrt();
    if norm > max_norm && norm.is_finite() {
        let scale = max_norm / (norm + 1e-6);
        for (id, d) in ids {
            match d {
                1 => scale_grad::<1>(grads, id, scale),
                2 => scale_grad::<2>(grads, id, scale),
                3 => scale_grad::<3>(grads, id, scale),
                4 => scale_grad::<4>(grads, id, scale),
                _ => {}
            }
        }
    }
    norm
}

fn scale_grad<const D: usize>(grads: &mut GradientsParams, id: ParamId, scale: f32) {
    if let Some(g) = grads.remove::<D>(id) {
        grads.register::<D>(id, g.mul_scalar(scale));
    }
}

/// The network's view of the observation under `egocentric`: the grid
/// gains the "beyond the edge" code; returns it and `(offset, side, agent
/// code)`.
#[allow(clippy::type_complexity)]
pub fn egocentric_layout(
    layout: &ObsLayout,
    egocentric: bool,
) -> Result<(ObsLayout, Option<(usize, usize, f32)>), RlError> {
    if !egocentric {
        return Ok((layout.clone(), None));
    }
    let bad = |reason| Err(RlError::Config { field: "egocentric", reason });
    let [(offset, h, w, levels)] = layout.grids()[..] else { return bad("needs exactly one grid") };
    if h != w || levels == 0 || levels >= 8 {
        return bad("needs a square grid of integer codes");
    }
    let mut view = layout.clone();
    for part in &mut view.parts {
        if let ObsPart::Grid { levels, .. } = part {
            *levels += 1;
        }
    }
    Ok((view, Some((offset, h, levels as f32))))
}

/// Running observation normalisation, `clip((obs - mean) / sqrt(var +
/// 1e-8))`, of the dimensions in `ranges` of each row (grids stay as
/// they are).
pub fn normalize_obs(stats: &RunningMeanStd, clip: f32, ranges: &[Range<usize>], obs: &mut [f32]) {
    tactile_policy::normalize(&stats.mean, &stats.var, clip, ranges, obs);
}

/// Clips continuous actions into the Box bounds of the action space
/// (the policy's Gaussian samples are not bounded).
pub fn clip_to_space(space: &Space, action: &mut [f32]) {
    match space {
        Space::Box { low, high, .. } => {
            for i in 0..action.len() {
                action[i] = action[i].clamp(low[i], high[i]);
            }
        }
        Space::Dict(entries) => {
            let mut at = 0;
            for (_, s) in entries {
                let d = s.flat_dim();
                clip_to_space(s, &mut action[at..at + d]);
                at += d;
            }
        }
        _ => {}
    }
}

/// A PPO learner: the model, the optimiser, the normalisers and the
/// rollout buffers, for one VecEnv (and the TANDEM discriminator when the
/// config asks for one).
pub struct Ppo {
    /// The hyperparameters.
    pub config: PpoConfig,
    /// The action layout (of the explorer's actions under TANDEM).
    pub layout: ActionLayout,
    /// Which observation dimensions are vectors and which a grid.
    pub obs_layout: ObsLayout,
    /// The network (on the autodiff device).
    pub model: ActorCritic,
    /// The discriminator under TANDEM co-training.
    pub tandem: Option<Tandem>,
    pub(crate) optim: ModuleOptimizer,
    pub(crate) device: Device,
    /// Observation statistics (saved with the policy).
    pub obs_rms: RunningMeanStd,
    pub(crate) ret_rms: RunningMeanStd,
    pub(crate) returns_acc: Vec<f64>,
    rng: StdRng,
    obs_dim: usize,
    env_act_dim: usize,
    norm_ranges: Vec<Range<usize>>,
    ego: Option<(usize, usize, f32)>,
    ego_scratch: Vec<f32>,
    // Rollout buffers, [step][env] row-major.
    obs: Vec<f32>,
    actions: Vec<f32>,
    raw_obs: Vec<f32>,
    env_actions: Vec<f32>,
    filled: Vec<f32>,
    logp: Vec<f32>,
    values: Vec<f32>,
    rewards: Vec<f32>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    valid: Vec<bool>,
    pub(crate) needs_reset: Vec<bool>,
    pub(crate) episode_return: Vec<f64>,
    pub(crate) episode_len: Vec<u32>,
    /// Each env's actions since its episode began (what a checkpoint
    /// replays to put the env back).
    pub(crate) histories: Vec<Vec<f32>>,
    /// Each env's value of the bonus fact after its last step.
    pub(crate) bonus_prev: Vec<f64>,
    /// Env steps taken.
    pub global_step: u64,
    /// Updates done.
    pub updates: u64,
}

impl Ppo {
    /// A learner for envs with these spaces.
    pub fn new(config: PpoConfig, obs_space: &Space, act_space: &Space, device: Device) -> Result<Self, RlError> {
        config.validate()?;
        let obs_dim = obs_space.flat_dim();
        let env_layout = crate::encoder::obs_layout(obs_space, config.cnn.is_some());
        let train_device = device.clone().autodiff();
        train_device.seed(config.seed);
        let (tandem, explorer_space) = match &config.tandem {
            Some(tc) => {
                let (tl, explorer) = tandem_layout(tc, &env_layout, act_space)?;
                (Some(Tandem::new(tc.clone(), tl, config.seed, &train_device)?), explorer)
            }
            None => (None, act_space.clone()),
        };
        let (obs_layout, ego) = egocentric_layout(&env_layout, config.egocentric)?;
        let layout = crate::policy::action_layout(&explorer_space);
        let model =
            ActorCritic::new(&obs_layout, &layout, &config.hidden, config.cnn.as_ref(), config.seed, &train_device)?;
        let optim = AdamConfig::new().with_epsilon(1e-5).init();
        let (n, t) = (config.num_envs, config.num_steps);
        let env_act_dim = act_space.flat_dim();
        Ok(Ppo {
            obs: vec![0.0; t * n * obs_dim],
            actions: vec![0.0; t * n * layout.action_dim],
            raw_obs: vec![0.0; n * obs_dim],
            env_actions: vec![0.0; n * env_act_dim],
            filled: vec![0.0; n],
            logp: vec![0.0; t * n],
            values: vec![0.0; (t + 1) * n],
            rewards: vec![0.0; t * n],
            terminated: vec![false; t * n],
            truncated: vec![false; t * n],
            valid: vec![true; t * n],
            needs_reset: vec![false; n],
            episode_return: vec![0.0; n],
            episode_len: vec![0; n],
            histories: vec![Vec::new(); n],
            bonus_prev: vec![0.0; n],
            obs_rms: RunningMeanStd::new(obs_dim),
            ret_rms: RunningMeanStd::new(1),
            returns_acc: vec![0.0; n],
            rng: StdRng::seed_from_u64(config.seed),
            device: train_device,
            norm_ranges: if config.norm_obs { obs_layout.vector_ranges() } else { Vec::new() },
            ego_scratch: vec![0.0; ego.map_or(0, |(_, n, _)| n * n)],
            ego,
            obs_dim,
            env_act_dim,
            obs_layout,
            layout,
            model,
            tandem,
            optim,
            config,
            global_step: 0,
            updates: 0,
        })
    }

    /// Number of updates a full run makes.
    pub fn num_updates(&self) -> u64 {
        let batch = (self.config.num_envs * self.config.num_steps) as u64;
        self.config.total_steps.div_ceil(batch)
    }

    /// The flat ranges that observation normalisation applies to.
    pub fn norm_ranges(&self) -> &[Range<usize>] {
        &self.norm_ranges
    }

    fn observe(&mut self, update_stats: bool, out: &mut [f32]) {
        out.copy_from_slice(&self.raw_obs);
        if self.config.norm_obs {
            if update_stats {
                for row in self.raw_obs.chunks(self.obs_dim) {
                    self.obs_rms.update(row);
                }
            }
            normalize_obs(&self.obs_rms, self.config.clip_norm, &self.norm_ranges, out);
        }
        if let Some((offset, n, agent)) = self.ego {
            egocentric(out, self.obs_dim, (offset, n), agent, &mut self.ego_scratch);
        }
    }

    /// The grid's place and the agent's code when the network sees it
    /// egocentric.
    pub fn egocentric_grid(&self) -> Option<(usize, usize, f32)> {
        self.ego
    }

    /// One rollout of `num_steps` batch steps and one update.
    pub fn iterate(&mut self, env: &mut VecEnv) -> Result<UpdateStats, RlError> {
        let (n, t_len, od, ad) = (self.config.num_envs, self.config.num_steps, self.obs_dim, self.layout.action_dim);
        let ead = self.env_act_dim;
        if env.num_envs() != n || env.observation_space().flat_dim() != od || env.action_space().flat_dim() != ead {
            return Err(RlError::Config { field: "num_envs", reason: "does not match the VecEnv" });
        }
        // Every update draws from its own stream: a run resumed at update k
        // draws what the uninterrupted run drew.
        self.rng = StdRng::seed_from_u64(env_seed(self.config.seed ^ 0x5EED, self.updates as usize));
        let mut stats = UpdateStats::default();
        let frac = 1.0 - self.updates as f64 / self.num_updates().max(1) as f64;
        let lr =
            if self.config.anneal_lr { self.config.learning_rate * frac.max(0.0) } else { self.config.learning_rate };
        stats.learning_rate = lr;
        let term_names: Vec<String> = env.infos[0].reward_terms.iter().map(|(k, _)| k.to_string()).collect();
        let mut term_sums = vec![0.0f64; term_names.len()];
        let mut term_count = 0usize;
        let mut declared = 0usize;

        // --- Rollout -------------------------------------------------------
        let infer = self.model.valid();
        let inner = self.device.clone().inner();
        let log_std = to_vec(infer.log_std());
        let mut obs_t = vec![0.0f32; n * od];
        let mut logp_t = vec![0.0f32; n];
        // TANDEM: the discriminator's class probabilities before and after
        // each move (they fill `declare` and pay the shaping reward).
        let classes = self.tandem.as_ref().map_or(0, |t| t.layout.classes);
        let (mut probs, mut probs_next) = (vec![0.0f32; n * classes], vec![0.0f32; n * classes]);
        if let Some(tandem) = &self.tandem {
            tandem.probabilities(&env.obs, od, &mut probs);
        }
        for t in 0..t_len {
            self.raw_obs.copy_from_slice(&env.obs);
            self.observe(true, &mut obs_t);
            self.obs[t * n * od..(t + 1) * n * od].copy_from_slice(&obs_t);
            let (out, value) = infer.forward(tensor2(&obs_t, n, od, &inner));
            let (out, value) = (to_vec(out), to_vec(value));
            self.values[t * n..(t + 1) * n].copy_from_slice(&value);
            let acts = &mut self.actions[t * n * ad..(t + 1) * n * ad];
            sample(&self.layout, &out, &log_std, &mut self.rng, false, acts, &mut logp_t);
            self.logp[t * n..(t + 1) * n].copy_from_slice(&logp_t);
            match &self.tandem {
                Some(tandem) => {
                    declare_from(&probs, classes, tandem.config.threshold, &mut self.filled);
                    for i in 0..n {
                        let row = &mut self.env_actions[i * ead..(i + 1) * ead];
                        tandem.layout.env_action(&acts[i * ad..(i + 1) * ad], self.filled[i], row);
                    }
                }
                None => self.env_actions.copy_from_slice(acts),
            }
            for row in self.env_actions.chunks_mut(ead) {
                clip_to_space(env.action_space(), row);
            }
            for i in 0..n {
                self.valid[t * n + i] = !self.needs_reset[i];
            }
            env.step(&self.env_actions)?;
            self.global_step += n as u64;
            if let Some(tandem) = &mut self.tandem {
                tandem.store(&env.obs, od, &env.infos);
                tandem.probabilities(&env.obs, od, &mut probs_next);
            }
            for i in 0..n {
                let k = t * n + i;
                let r = env.rewards[i];
                let fact_now = self.config.bonus.as_ref().and_then(|b| env.infos[i].fact(&b.fact)).unwrap_or(0.0);
                if !self.valid[k] {
                    // This step reset the env: a new episode begins.
                    self.histories[i].clear();
                    self.bonus_prev[i] = fact_now;
                    self.rewards[k] = 0.0;
                    self.terminated[k] = false;
                    self.truncated[k] = false;
                    self.needs_reset[i] = false;
                    continue;
                }
                self.histories[i].extend_from_slice(&self.env_actions[i * ead..(i + 1) * ead]);
                self.episode_return[i] += f64::from(r);
                self.episode_len[i] += 1;
                for (s, (_, v)) in term_sums.iter_mut().zip(&env.infos[i].reward_terms) {
                    *s += f64::from(*v);
                }
                term_count += 1;
                let (term, trunc) = (env.terminated[i], env.truncated[i]);
                let mut r = r;
                if let Some(bonus) = &self.config.bonus {
                    r += bonus.per_unit * (fact_now - self.bonus_prev[i]).max(0.0) as f32;
                    self.bonus_prev[i] = fact_now;
                }
                if let Some(tandem) = &self.tandem
                    && tandem.config.shaping != 0.0
                    && let Some(label) = env.infos[i].fact(&tandem.config.label_fact)
                    && label >= 0.0
                    && (label as usize) < classes
                {
                    let c = label as usize;
                    let after = if term { 0.0 } else { probs_next[i * classes + c] };
                    r += tandem.config.shaping * (self.config.gamma * after - probs[i * classes + c]);
                }
                // Reward scaling by the spread of the discounted return.
                let mut scaled = r;
                if self.config.norm_reward {
                    self.returns_acc[i] = self.returns_acc[i] * f64::from(self.config.gamma) + f64::from(r);
                    self.ret_rms.update(&[self.returns_acc[i] as f32]);
                    scaled = ((f64::from(r) / (self.ret_rms.var[0] + 1e-8).sqrt()) as f32)
                        .clamp(-self.config.clip_norm, self.config.clip_norm);
                }
                self.rewards[k] = scaled;
                self.terminated[k] = term;
                self.truncated[k] = trunc;
                if term || trunc {
                    stats.episode_returns.push(self.episode_return[i] as f32);
                    stats.episode_lengths.push(self.episode_len[i]);
                    stats.episode_successes.push(env.infos[i].success);
                    declared += usize::from(self.filled[i] > 0.0 && self.tandem.is_some());
                    self.episode_return[i] = 0.0;
                    self.episode_len[i] = 0;
                    self.returns_acc[i] = 0.0;
                    self.needs_reset[i] = true;
                }
            }
            std::mem::swap(&mut probs, &mut probs_next);
        }
        // The bootstrap: the value of the observation after the rollout.
        self.raw_obs.copy_from_slice(&env.obs);
        self.observe(false, &mut obs_t);
        let last = to_vec(infer.value(tensor2(&obs_t, n, od, &inner)));
        self.values[t_len * n..].copy_from_slice(&last);
        stats.reward_terms =
            term_names.into_iter().zip(term_sums).map(|(k, s)| (k, (s / term_count.max(1) as f64) as f32)).collect();

        self.learn(lr, &mut stats);
        if let Some(tandem) = &mut self.tandem {
            let start = std::time::Instant::now();
            if let Some((loss, accuracy)) = tandem.train(&mut self.rng) {
                stats.extra.push(("losses/discriminator_loss", loss));
                stats.extra.push(("charts/discriminator_accuracy", accuracy));
            }
            if tandem.config.calibration_envs > 0 {
                stats.extra.push(("charts/discriminator_temperature", tandem.model.temperature()));
            }
            let ended = stats.episode_returns.len();
            if ended > 0 {
                stats.extra.push(("charts/declare_rate", declared as f32 / ended as f32));
            }
            stats.update_s += start.elapsed().as_secs_f64();
        }
        self.updates += 1;
        stats.global_step = self.global_step;
        Ok(stats)
    }

    /// The names of the extra metrics this learner reports.
    pub fn extra_metrics(&self) -> &'static [&'static str] {
        match &self.tandem {
            Some(t) if t.config.calibration_envs > 0 => &[
                "losses/discriminator_loss",
                "charts/discriminator_accuracy",
                "charts/declare_rate",
                "charts/discriminator_temperature",
            ],
            Some(_) => &["losses/discriminator_loss", "charts/discriminator_accuracy", "charts/declare_rate"],
            None => &[],
        }
    }

    /// GAE and the minibatch epochs over the rollout in the buffers.
    fn learn(&mut self, lr: f64, stats: &mut UpdateStats) {
        let (n, t_len, od, ad) = (self.config.num_envs, self.config.num_steps, self.obs_dim, self.layout.action_dim);
        // --- Advantages ------------------------------------------------------
        let mut adv = vec![0.0f32; t_len * n];
        let mut ret = vec![0.0f32; t_len * n];
        gae(
            n,
            &self.rewards,
            &self.values,
            &self.terminated,
            &self.truncated,
            &self.valid,
            self.config.gamma,
            self.config.gae_lambda,
            &mut adv,
            &mut ret,
        );
        stats.explained_variance = explained_variance(&self.values[..t_len * n], &ret, &self.valid);

        // --- Minibatch epochs ---------------------------------------------
        let start = std::time::Instant::now();
        let mut idx: Vec<usize> = (0..t_len * n).filter(|&k| self.valid[k]).collect();
        let mb_size = (idx.len() / self.config.num_minibatches).max(1);
        let (mut sums, mut count) = ([0.0f64; 5], 0usize);
        let (mut mb_obs, mut mb_act) = (Vec::new(), Vec::new());
        let (mut mb_logp, mut mb_adv, mut mb_ret, mut mb_val) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        'epochs: for _ in 0..self.config.update_epochs {
            idx.shuffle(&mut self.rng);
            for chunk in idx.chunks(mb_size) {
                if chunk.len() < 2 {
                    continue;
                }
                mb_obs.clear();
                mb_act.clear();
                mb_logp.clear();
                mb_adv.clear();
                mb_ret.clear();
                mb_val.clear();
                for &k in chunk {
                    mb_obs.extend_from_slice(&self.obs[k * od..(k + 1) * od]);
                    mb_act.extend_from_slice(&self.actions[k * ad..(k + 1) * ad]);
                    mb_logp.push(self.logp[k]);
                    mb_adv.push(adv[k]);
                    mb_ret.push(ret[k]);
                    mb_val.push(self.values[k]);
                }
                if self.config.norm_adv {
                    normalize(&mut mb_adv, &vec![true; chunk.len()]);
                }
                let b = chunk.len();
                let dev = &self.device;
                let (out, new_values) = self.model.forward(tensor2(&mb_obs, b, od, dev));
                let (new_logp, entropy) =
                    log_prob_entropy(&self.layout, out, self.model.log_std(), tensor2(&mb_act, b, ad, dev));
                let [pl, vl, ent, kl, cf] = ppo_losses(
                    new_logp,
                    entropy,
                    new_values,
                    tensor1(&mb_logp, dev),
                    tensor1(&mb_val, dev),
                    tensor1(&mb_adv, dev),
                    tensor1(&mb_ret, dev),
                    self.config.clip_coef,
                    self.config.clip_vloss,
                );
                let loss = pl.clone() - ent.clone().mul_scalar(self.config.ent_coef)
                    + vl.clone().mul_scalar(self.config.vf_coef);
                let mut grads = GradientsParams::from_grads(loss.backward(), &self.model);
                clip_global_grad_norm(&self.model, &mut grads, self.config.max_grad_norm);
                self.model = self.optim.step(lr, self.model.clone(), grads);
                let kl = kl.into_scalar::<f32>();
                for (s, v) in sums.iter_mut().zip([
                    pl.into_scalar::<f32>(),
                    vl.into_scalar::<f32>(),
                    ent.into_scalar::<f32>(),
                    kl,
                    cf.into_scalar::<f32>(),
                ]) {
                    *s += f64::from(v);
                }
                count += 1;
                stats.update_samples += b;
                if self.config.target_kl.is_some_and(|target| kl > target) {
                    break 'epochs;
                }
            }
        }
        stats.update_s = start.elapsed().as_secs_f64();
        let c = count.max(1) as f64;
        stats.policy_loss = (sums[0] / c) as f32;
        stats.value_loss = (sums[1] / c) as f32;
        stats.entropy = (sums[2] / c) as f32;
        stats.approx_kl = (sums[3] / c) as f32;
        stats.clipfrac = (sums[4] / c) as f32;
    }

    /// Gradient-phase throughput (samples per second) on a synthetic
    /// rollout of the configured size, for `tactile bench ppo`.
    pub fn bench_update(&mut self) -> f64 {
        use rand::Rng;
        let mut rng = StdRng::seed_from_u64(7);
        self.obs.iter_mut().for_each(|x| *x = rng.random_range(-1.0..1.0));
        self.actions.iter_mut().for_each(|x| *x = rng.random_range(-1.0..1.0));
        self.logp.iter_mut().for_each(|x| *x = rng.random_range(-3.0..-1.0));
        self.values.iter_mut().for_each(|x| *x = rng.random_range(-1.0..1.0));
        self.rewards.iter_mut().for_each(|x| *x = rng.random_range(-1.0..1.0));
        self.terminated.fill(false);
        self.truncated.fill(false);
        self.valid.fill(true);
        let mut stats = UpdateStats::default();
        self.learn(self.config.learning_rate, &mut stats);
        stats.update_samples as f64 / stats.update_s.max(1e-12)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Head, orthogonal};
    use burn::tensor::TensorData;

    fn t1(x: &[f32]) -> Tensor<1> {
        Tensor::from_data(TensorData::new(x.to_vec(), [x.len()]), &Device::flex())
    }

    fn scalar(t: Tensor<1>) -> f32 {
        t.into_scalar::<f32>()
    }

    #[test]
    fn every_task_has_valid_ppo_defaults() {
        for spec in tactile_env::registry() {
            let c = PpoConfig::for_task(spec.id).unwrap();
            c.validate().unwrap();
        }
        let edge = PpoConfig::for_task("EdgeFollow-v0").unwrap();
        assert_eq!((edge.num_envs, edge.num_steps, edge.gamma), (16, 128, 0.95));
        let explore = PpoConfig::for_task("Explore-v0").unwrap();
        assert!(explore.cnn.is_some() && explore.tandem.is_some());
        assert_eq!(PpoConfig::for_task("NoSuchTask-v0").unwrap(), PpoConfig::default());
        // Calibrating on every env would leave none to train on.
        let mut all_held_out = explore.clone();
        all_held_out.tandem.as_mut().unwrap().calibration_envs = explore.num_envs;
        let e = all_held_out.validate().unwrap_err().to_string();
        assert!(e.contains("tandem.calibration_envs") && e.contains("at least one of num_envs"), "{e}");
    }

    #[test]
    fn ppo_losses_match_a_hand_computed_minibatch() {
        // Two samples. log ratios 0.5 and -0.5 (ratios e^0.5 = 1.6487, e^-0.5 = 0.6065),
        // advantages +1 and +2, clip 0.2:
        //   sample 0: max(-1 * 1.6487, -1 * 1.2) = -1.2
        //   sample 1: max(-2 * 0.6065, -2 * 0.8) = -1.2131
        //   policy loss = mean = -1.20653
        let [pl, vl, ent, kl, cf] = ppo_losses(
            t1(&[0.5, -0.5]),
            t1(&[1.0, 3.0]),
            t1(&[1.0, 0.0]),
            t1(&[0.0, 0.0]),
            t1(&[0.5, 0.5]),
            t1(&[1.0, 2.0]),
            t1(&[2.0, 0.0]),
            0.2,
            true,
        );
        assert!((scalar(pl) + 1.206_53).abs() < 1e-4);
        // Values: new 1.0 vs return 2.0 (clipped 0.7: max(1, 1.69) = 1.69);
        // new 0.0 vs return 0.0 (clipped 0.3: max(0, 0.09) = 0.09);
        // 0.5 * mean = 0.445.
        assert!((scalar(vl) - 0.445).abs() < 1e-5);
        assert!((scalar(ent) - 2.0).abs() < 1e-6);
        // approx_kl = mean((r - 1) - log r) = ((0.6487 - 0.5) + (-0.3935 + 0.5)) / 2.
        assert!((scalar(kl) - 0.127_6).abs() < 1e-3);
        assert_eq!(scalar(cf), 1.0);
    }

    #[test]
    fn the_global_gradient_norm_is_clipped_as_one_vector() {
        let device = Device::flex().autodiff();
        let layout =
            ActionLayout { heads: vec![Head::Gaussian { dim: 2 }], action_dim: 2, output_dim: 2, gaussian_dim: 2 };
        let obs = crate::encoder::obs_layout(&Space::uniform_box(-1.0, 1.0, &[3]), false);
        let model = ActorCritic::new(&obs, &layout, &[4], None, 0, &device).unwrap();
        let obs = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, -2.0, 3.0], [1, 3]), &device);
        let (out, v) = model.forward(obs);
        let loss = out.sum().mul_scalar(100.0) + v.sum().mul_scalar(100.0);
        let mut grads = GradientsParams::from_grads(loss.backward(), &model);
        let before = clip_global_grad_norm(&model, &mut grads, 1.0);
        assert!(before > 1.0, "{before}");
        // After clipping, the norm over all parameters is 1.
        let after = clip_global_grad_norm(&model, &mut grads, f32::INFINITY);
        assert!((after - 1.0).abs() < 1e-3, "{after}");
    }

    #[test]
    fn orthogonal_rows_are_orthonormal_times_the_gain() {
        let mut rng = StdRng::seed_from_u64(3);
        let (r, c) = (4, 7);
        let w = orthogonal(r, c, 2.0, &mut rng);
        for i in 0..r {
            for j in 0..r {
                let dot: f32 = (0..c).map(|k| w[i * c + k] * w[j * c + k]).sum();
                let expected = if i == j { 4.0 } else { 0.0 };
                assert!((dot - expected).abs() < 1e-4, "({i}, {j}): {dot}");
            }
        }
    }

    #[test]
    fn log_probs_match_the_closed_forms_and_the_sampler() {
        let space = Space::Dict(vec![
            ("x".into(), Space::uniform_box(-1.0, 1.0, &[2])),
            ("k".into(), Space::Discrete { n: 3 }),
        ]);
        let layout = crate::policy::action_layout(&space);
        assert_eq!((layout.action_dim, layout.output_dim, layout.gaussian_dim), (3, 5, 2));
        // Means (0.5, -1), log-stds (0, ln 2), logits (0, ln 2, ln 3 -> p = 1/6, 2/6, 3/6).
        let out = [0.5f32, -1.0, 0.0, 2f32.ln(), 3f32.ln()];
        let log_std = [0.0f32, 2f32.ln()];
        let action = [1.0f32, 1.0, 2.0];
        let device = Device::flex();
        let (lp, ent) = log_prob_entropy(
            &layout,
            tensor2(&out, 1, 5, &device),
            tensor1(&log_std, &device),
            tensor2(&action, 1, 3, &device),
        );
        let ln2pi = (2.0 * std::f32::consts::PI).ln();
        // N(1; 0.5, 1) + N(1; -1, 2) + ln(1/2).
        let expected = (-0.5 * 0.25 - 0.5 * ln2pi) + (-0.5 * 1.0 - 2f32.ln() - 0.5 * ln2pi) + 0.5f32.ln();
        let lp = scalar(lp);
        assert!((lp - expected).abs() < 1e-5, "{lp} vs {expected}");
        let cat_entropy = -(1.0 / 6.0 * (1.0f32 / 6.0).ln() + 2.0 / 6.0 * (2.0f32 / 6.0).ln() + 0.5 * 0.5f32.ln());
        let expected_ent = (0.5 + 0.5 * ln2pi) * 2.0 + 2f32.ln() + cat_entropy;
        assert!((scalar(ent) - expected_ent).abs() < 1e-5);
        // The sampler's log-probability agrees with the differentiable one.
        let mut rng = StdRng::seed_from_u64(0);
        let (mut acts, mut logp) = (vec![0.0; 3], vec![0.0; 1]);
        sample(&layout, &out, &log_std, &mut rng, false, &mut acts, &mut logp);
        let (lp2, _) = log_prob_entropy(
            &layout,
            tensor2(&out, 1, 5, &device),
            tensor1(&log_std, &device),
            tensor2(&acts, 1, 3, &device),
        );
        assert!((scalar(lp2) - logp[0]).abs() < 1e-4);
        // Deterministic: the means and the most likely choice.
        sample(&layout, &out, &log_std, &mut rng, true, &mut acts, &mut logp);
        assert_eq!(acts, vec![0.5, -1.0, 2.0]);
    }
}
