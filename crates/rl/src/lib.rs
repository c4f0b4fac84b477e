//! # tactile-rl
//!
//! Model-free RL for tactile tasks on burn: PPO with the standard
//! implementation details (GAE with terminated and truncated kept apart,
//! advantage normalisation, clipped surrogate and value losses, entropy
//! bonus, one global gradient-norm clip, learning-rate annealing,
//! orthogonal initialisation, observation and reward normalisation), for
//! Gaussian, categorical, multi-discrete and Dict action spaces, over an
//! MLP or a CNN encoder of occupancy grids and taxel images; TANDEM
//! co-training (a CNN discriminator that fills the `declare` action,
//! joining PPO's rollout through a [`RolloutHook`]); policy folders, atomic
//! checkpoints that resume bit for bit, and a run folder with CSV and
//! TensorBoard metrics.
//!
//! ```no_run
//! use tactile_env::VecEnv;
//! use tactile_rl::{Ppo, PpoConfig};
//!
//! let mut config = PpoConfig::for_task("Press-v0")?; // envs/Press-v0.ppo.toml
//! config.total_steps = 50_000;
//! let mut env = VecEnv::make("Press-v0", config.num_envs, config.threads, None)?;
//! env.reset(config.seed)?;
//! let (obs_space, act_space) = (env.observation_space().clone(), env.action_space().clone());
//! let mut ppo = Ppo::new(config, &obs_space, &act_space, env.state_dim(), burn::tensor::Device::flex())?;
//! while ppo.global_step < ppo.config.total_steps {
//!     let stats = ppo.iterate(&mut env)?;
//!     println!("{} {:?}", stats.global_step, stats.episode_returns);
//! }
//! ppo.policy("Press-v0")?.save(std::path::Path::new("runs/press/final"))?;
//! # Ok::<(), tactile_rl::RlError>(())
//! ```

mod checkpoint;
mod device;
mod encoder;
mod error;
mod eval;
pub mod gae;
mod init;
mod learner;
mod network;
mod ppo;
mod run_folder;
mod tandem;
pub mod tensorboard;
mod trained_policy;
pub mod weights;

pub use checkpoint::{
    CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION, ResumePlan, Resumed, TrainerState, checkpoint_dir, list_checkpoints,
    load_checkpoint, save_checkpoint, verify_checkpoint,
};
pub use device::{describe_device, device};
pub use encoder::{CnnConfig, CnnEncoder, ObsLayout, ObsPart, obs_layout};
pub use error::RlError;
pub use eval::{EvalReport, Explorer, evaluate, evaluate_with};
pub use init::{orthogonal, orthogonal_linear};
pub use network::{
    ActionLayout, ActorCritic, Head, Mlp, action_layout, log_prob_entropy, number_params, sample, tensor1, tensor2,
    to_vec,
};
pub use ppo::Ppo;
pub use ppo::UpdateStats;
pub use ppo::config::{Algo, FactBonus, Overrides, PpoConfig};
pub use ppo::hook::{BonusHook, RolloutHook};
pub use ppo::losses::{clip_global_grad_norm, ppo_losses};
pub use ppo::plumbing::{clip_to_space, egocentric_layout, normalize_obs};
pub use ppo::state::{EnvEpisodes, PpoState};
pub use run_folder::{RunConfig, RunInfo, RunWriter, read_metrics};
pub use tactile_policy::{
    DiscriminatorMeta, NetworkMeta, NormStats, ObsNorm, POLICY_FORMAT, POLICY_FORMAT_VERSION, PolarView, PolicyError,
    PolicyMeta,
};
pub use tandem::{
    Discriminator, DiscriminatorKind, PosteriorConfig, Tandem, TandemConfig, TandemLayout, declare_from,
    fit_temperature, guess_from, posterior_meta, quarter_turns, tandem_layout,
};
pub use trained_policy::{TrainedPolicy, action_bounds, build_commit, taxel_slots};
