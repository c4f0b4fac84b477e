//! PPO (clipped surrogate), reading top to bottom as CleanRL's
//! `ppo_continuous_action.py` does: a rollout of `num_steps` batch steps,
//! GAE, then minibatch epochs. The maths sits in pure functions
//! ([`crate::gae`], [`losses`], [`crate::network::log_prob_entropy`]); the
//! buffers in [`buffer`]; how observations and actions pass between the envs
//! and the network in [`plumbing`]; what joins the rollout from outside
//! (TANDEM, an exploration bonus) comes through one [`hook::RolloutHook`].

pub(crate) mod bench;
pub(crate) mod buffer;
pub(crate) mod config;
pub(crate) mod hook;
pub(crate) mod losses;
pub(crate) mod plumbing;
pub(crate) mod state;
pub(crate) mod stats;

use std::any::Any;
use std::ops::Range;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, OptimizerRecord};
use burn::tensor::Device;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use tactile_env::wrappers::RunningMeanStd;
use tactile_env::{Space, VecEnv, env_seed};

use crate::RlError;
use crate::encoder::ObsLayout;
use crate::gae::{explained_variance, gae, normalize};
use crate::network::{ActionLayout, ActorCritic, action_layout, log_prob_entropy, sample, tensor1, tensor2, to_vec};
use buffer::{Minibatch, RolloutBuffer};
use config::PpoConfig;
use hook::RolloutHook;
use losses::{clip_global_grad_norm, ppo_losses};
use plumbing::{ObsPrep, clip_to_space, egocentric_layout};
use state::{EnvEpisodes, PpoState};
pub use stats::UpdateStats;

/// A PPO learner: the model, the optimiser, the normalisers and the
/// rollout buffers, for one VecEnv, with its hooks.
pub struct Ppo {
    /// The hyperparameters.
    pub config: PpoConfig,
    /// The action layout of the policy's actions (the explorer's under
    /// TANDEM).
    pub layout: ActionLayout,
    /// Which observation dimensions are vectors and which a grid.
    pub obs_layout: ObsLayout,
    /// The network (on the autodiff device).
    pub model: ActorCritic,
    /// Observation statistics (saved with the policy).
    pub obs_rms: RunningMeanStd,
    /// Env steps taken.
    pub global_step: u64,
    /// Updates done.
    pub updates: u64,
    optim: ModuleOptimizer,
    device: Device,
    ret_rms: RunningMeanStd,
    /// What joins the rollout, in the order they shape rewards.
    hooks: Vec<Box<dyn RolloutHook>>,
    rng: StdRng,
    prep: ObsPrep,
    env_act_dim: usize,
    buffer: RolloutBuffer,
    episodes: EnvEpisodes,
}

impl Ppo {
    /// A learner for envs with these spaces, with `hooks` joining its
    /// rollout (in the order they shape rewards), on `device` (an autodiff
    /// device, seeded by the caller: the hooks may have drawn from it
    /// already). [`Ppo::new`] makes the hooks a config asks for.
    pub(crate) fn with_hooks(
        config: PpoConfig,
        obs_space: &Space,
        act_space: &Space,
        state_dim: usize,
        device: Device,
        hooks: Vec<Box<dyn RolloutHook>>,
    ) -> Result<Self, RlError> {
        config.validate()?;
        let state_dim = match (config.privileged_critic, state_dim) {
            (false, _) => 0,
            (true, 0) => {
                return Err(RlError::Config {
                    field: "privileged_critic",
                    reason: "the task has no privileged state for the critic to read",
                });
            }
            (true, d) => d,
        };
        let obs_dim = obs_space.flat_dim();
        let env_layout = crate::encoder::obs_layout(obs_space, config.cnn.is_some());
        let mut policy_space = act_space.clone();
        for hook in &hooks {
            policy_space = hook.policy_action_space(&policy_space)?;
        }
        let (obs_layout, ego) = egocentric_layout(&env_layout, config.egocentric)?;
        let layout = action_layout(&policy_space);
        let model = ActorCritic::new(
            &obs_layout,
            &layout,
            &config.hidden,
            config.cnn.as_ref(),
            config.init_log_std,
            state_dim,
            config.seed,
            &device,
        )?;
        let n = config.num_envs;
        Ok(Ppo {
            buffer: RolloutBuffer::new(
                n,
                config.num_steps,
                obs_dim,
                state_dim,
                layout.action_dim,
                act_space.flat_dim(),
            ),
            episodes: EnvEpisodes::new(n),
            prep: ObsPrep::new(obs_dim, config.norm_obs.then(|| obs_layout.vector_ranges()), ego),
            obs_rms: RunningMeanStd::new(obs_dim),
            ret_rms: RunningMeanStd::new(1),
            rng: StdRng::seed_from_u64(config.seed),
            optim: AdamConfig::new().with_epsilon(1e-5).init(),
            device,
            env_act_dim: act_space.flat_dim(),
            obs_layout,
            layout,
            model,
            hooks,
            config,
            global_step: 0,
            updates: 0,
        })
    }

    /// One rollout of `num_steps` batch steps and one update.
    pub fn iterate(&mut self, env: &mut VecEnv) -> Result<UpdateStats, RlError> {
        let (n, t_len, od, ad) =
            (self.config.num_envs, self.config.num_steps, self.prep.obs_dim, self.layout.action_dim);
        let ead = self.env_act_dim;
        if env.num_envs() != n || env.observation_space().flat_dim() != od || env.action_space().flat_dim() != ead {
            return Err(RlError::Config { field: "num_envs", reason: "does not match the VecEnv" });
        }
        let sd = self.buffer.state_dim;
        if env.infos.iter().any(|info| info.state.len() != sd) && sd > 0 {
            return Err(RlError::Config {
                field: "privileged_critic",
                reason: "the VecEnv's privileged state is not the length the critic was made for",
            });
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

        // --- Rollout -------------------------------------------------------
        let infer = self.model.valid();
        let inner = self.device.clone().inner();
        let log_std = to_vec(infer.log_std());
        let mut obs_t = vec![0.0f32; n * od];
        let mut logp_t = vec![0.0f32; n];
        for hook in self.hooks.iter_mut() {
            hook.begin_rollout(&env.obs, od);
        }
        for t in 0..t_len {
            self.prep.observe(&env.obs, &mut self.obs_rms, true, self.config.clip_norm, &mut obs_t);
            let b = &mut self.buffer;
            b.obs[t * n * od..(t + 1) * n * od].copy_from_slice(&obs_t);
            b.store_states(t, &env.infos);
            let state = (sd > 0).then(|| tensor2(b.states(t), n, sd, &inner));
            let (out, value) = infer.forward(tensor2(&obs_t, n, od, &inner), state);
            let (out, value) = (to_vec(out), to_vec(value));
            b.values[t * n..(t + 1) * n].copy_from_slice(&value);
            let acts = &mut b.actions[t * n * ad..(t + 1) * n * ad];
            sample(&self.layout, &out, &log_std, &mut self.rng, false, acts, &mut logp_t);
            b.logp[t * n..(t + 1) * n].copy_from_slice(&logp_t);
            for hook in self.hooks.iter_mut() {
                hook.before_step();
            }
            for (i, row) in b.env_actions.chunks_mut(ead).enumerate() {
                let act = &acts[i * ad..(i + 1) * ad];
                if !self.hooks.iter().any(|h| h.env_action(i, act, row)) {
                    row.copy_from_slice(act);
                }
                clip_to_space(env.action_space(), row);
            }
            for i in 0..n {
                b.valid[t * n + i] = !self.episodes.needs_reset[i];
            }
            env.step(&b.env_actions)?;
            self.global_step += n as u64;
            for hook in self.hooks.iter_mut() {
                hook.after_step(&env.obs, od, &env.infos);
            }
            let ep = &mut self.episodes;
            for i in 0..n {
                let k = t * n + i;
                let info = &env.infos[i];
                if !b.valid[k] {
                    // This step reset the env: a new episode begins.
                    ep.actions[i].clear();
                    for hook in self.hooks.iter_mut() {
                        hook.episode_begins(i, info);
                    }
                    b.rewards[k] = 0.0;
                    b.terminated[k] = false;
                    b.truncated[k] = false;
                    ep.needs_reset[i] = false;
                    continue;
                }
                ep.actions[i].extend_from_slice(&b.env_actions[i * ead..(i + 1) * ead]);
                let r = env.rewards[i];
                ep.returns[i] += f64::from(r);
                ep.lengths[i] += 1;
                for (s, (_, v)) in term_sums.iter_mut().zip(&info.reward_terms) {
                    *s += f64::from(*v);
                }
                term_count += 1;
                let (term, trunc) = (env.terminated[i], env.truncated[i]);
                // What the learner is paid: the env's reward, the hooks'
                // terms, scaled by the spread of the discounted return.
                let mut r = r;
                for hook in self.hooks.iter_mut() {
                    if let Some(extra) = hook.shape(i, info, term, self.config.gamma) {
                        r += extra;
                    }
                }
                let mut scaled = r;
                if self.config.norm_reward {
                    ep.discounted[i] = ep.discounted[i] * f64::from(self.config.gamma) + f64::from(r);
                    self.ret_rms.update(&[ep.discounted[i] as f32]);
                    scaled = ((f64::from(r) / (self.ret_rms.var[0] + 1e-8).sqrt()) as f32)
                        .clamp(-self.config.clip_norm, self.config.clip_norm);
                }
                b.rewards[k] = scaled;
                b.terminated[k] = term;
                b.truncated[k] = trunc;
                if term || trunc {
                    stats.episode_returns.push(ep.returns[i] as f32);
                    stats.episode_lengths.push(ep.lengths[i]);
                    stats.episode_successes.push(info.success);
                    for hook in self.hooks.iter_mut() {
                        hook.episode_ends(i);
                    }
                    ep.returns[i] = 0.0;
                    ep.lengths[i] = 0;
                    ep.discounted[i] = 0.0;
                    ep.needs_reset[i] = true;
                }
            }
            for hook in self.hooks.iter_mut() {
                hook.end_step();
            }
        }
        // The bootstrap: the value of the observation after the rollout.
        self.prep.observe(&env.obs, &mut self.obs_rms, false, self.config.clip_norm, &mut obs_t);
        self.buffer.store_states(t_len, &env.infos);
        let state = (sd > 0).then(|| tensor2(self.buffer.states(t_len), n, sd, &inner));
        let last = to_vec(infer.value(tensor2(&obs_t, n, od, &inner), state));
        self.buffer.values[t_len * n..].copy_from_slice(&last);
        stats.reward_terms =
            term_names.into_iter().zip(term_sums).map(|(k, s)| (k, (s / term_count.max(1) as f64) as f32)).collect();

        // With a scripted explorer (TANDEM's baselines) the actions were
        // not the policy's: only the discriminator learns.
        if self.config.tandem.as_ref().is_none_or(|t| t.explorer.is_none()) {
            self.learn(lr, &mut stats);
        }
        for hook in self.hooks.iter_mut() {
            hook.after_update(&mut self.rng, &mut stats);
        }
        self.updates += 1;
        stats.global_step = self.global_step;
        Ok(stats)
    }

    /// GAE and the minibatch epochs over the rollout in the buffer.
    fn learn(&mut self, lr: f64, stats: &mut UpdateStats) {
        let b = &self.buffer;
        let (n, t_len, od, sd, ad) = (b.num_envs, b.num_steps, b.obs_dim, b.state_dim, b.action_dim);
        // --- Advantages ------------------------------------------------------
        let mut adv = vec![0.0f32; t_len * n];
        let mut ret = vec![0.0f32; t_len * n];
        gae(
            n,
            &b.rewards,
            &b.values,
            &b.terminated,
            &b.truncated,
            &b.valid,
            self.config.gamma,
            self.config.gae_lambda,
            &mut adv,
            &mut ret,
        );
        stats.explained_variance = explained_variance(&b.values[..t_len * n], &ret, &b.valid);

        // --- Minibatch epochs ---------------------------------------------
        let start = std::time::Instant::now();
        let mut idx: Vec<usize> = (0..t_len * n).filter(|&k| b.valid[k]).collect();
        let mb_size = (idx.len() / self.config.num_minibatches).max(1);
        let (mut sums, mut count) = ([0.0f64; 5], 0usize);
        let mut mb = Minibatch::default();
        'epochs: for _ in 0..self.config.update_epochs {
            idx.shuffle(&mut self.rng);
            for chunk in idx.chunks(mb_size) {
                if chunk.len() < 2 {
                    continue;
                }
                self.buffer.gather(chunk, &adv, &ret, &mut mb);
                if self.config.norm_adv {
                    normalize(&mut mb.adv, &vec![true; chunk.len()]);
                }
                let rows = chunk.len();
                let dev = &self.device;
                let state = (sd > 0).then(|| tensor2(&mb.state, rows, sd, dev));
                let (out, new_values) = self.model.forward(tensor2(&mb.obs, rows, od, dev), state);
                let (new_logp, entropy) =
                    log_prob_entropy(&self.layout, out, self.model.log_std(), tensor2(&mb.act, rows, ad, dev));
                let [pl, vl, ent, kl, cf] = ppo_losses(
                    new_logp,
                    entropy,
                    new_values,
                    tensor1(&mb.logp, dev),
                    tensor1(&mb.val, dev),
                    tensor1(&mb.adv, dev),
                    tensor1(&mb.ret, dev),
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
                stats.update_samples += rows;
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

    // --- Accessors -----------------------------------------------------------

    /// Number of updates a full run makes.
    pub fn num_updates(&self) -> u64 {
        let batch = (self.config.num_envs * self.config.num_steps) as u64;
        self.config.total_steps.div_ceil(batch)
    }

    /// The flat ranges that observation normalisation applies to.
    pub fn norm_ranges(&self) -> &[Range<usize>] {
        &self.prep.norm_ranges
    }

    /// The grid's place and the agent's code when the network sees it
    /// egocentric.
    pub fn egocentric_grid(&self) -> Option<(usize, usize, f32)> {
        self.prep.ego
    }

    /// The hook of type `T`, if the learner has one (TANDEM's
    /// discriminator, the exploration bonus).
    pub fn hook<T: RolloutHook>(&self) -> Option<&T> {
        self.hooks.iter().find_map(|h| (h.as_ref() as &dyn Any).downcast_ref::<T>())
    }

    /// The same, to restore it from a checkpoint.
    pub fn hook_mut<T: RolloutHook>(&mut self) -> Option<&mut T> {
        self.hooks.iter_mut().find_map(|h| (h.as_mut() as &mut dyn Any).downcast_mut::<T>())
    }

    /// The device acting runs on (the training device without autodiff).
    pub fn inference_device(&self) -> Device {
        self.device.clone().inner()
    }

    /// The names of the extra metrics this learner reports.
    pub fn extra_metrics(&self) -> Vec<&'static str> {
        self.hooks.iter().flat_map(|h| h.metric_names().iter().copied()).collect()
    }

    /// The learner's state beside its weights and optimiser moments.
    pub fn state(&self) -> PpoState {
        PpoState {
            global_step: self.global_step,
            updates: self.updates,
            obs_rms: self.obs_rms.clone(),
            ret_rms: self.ret_rms.clone(),
            episodes: self.episodes.clone(),
        }
    }

    /// Puts back a state of [`Ppo::state`] (of a learner with this config).
    pub fn restore(&mut self, state: PpoState) -> Result<(), RlError> {
        if !state.episodes.lengths_are(self.config.num_envs) || state.obs_rms.mean.len() != self.prep.obs_dim {
            return Err(RlError::Config {
                field: "num_envs",
                reason: "the saved per-env state does not match num_envs or the observation space",
            });
        }
        self.episodes = state.episodes;
        self.obs_rms = state.obs_rms;
        self.ret_rms = state.ret_rms;
        self.global_step = state.global_step;
        self.updates = state.updates;
        Ok(())
    }

    /// Adam's state (moments and step counts).
    pub fn optimizer_record(&self) -> OptimizerRecord {
        self.optim.to_record()
    }

    /// Puts back Adam's state from [`Ppo::optimizer_record`].
    pub fn load_optimizer_record(&mut self, record: OptimizerRecord) {
        self.optim = self.optim.clone().load_record(record);
    }
}
