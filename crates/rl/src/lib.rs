//! # tactile-rl
//!
//! Model-free RL for tactile tasks on burn: PPO with the standard
//! implementation details (GAE with terminated and truncated kept apart,
//! advantage normalisation, clipped surrogate and value losses, entropy
//! bonus, one global gradient-norm clip, learning-rate annealing,
//! orthogonal initialisation, observation and reward normalisation), for
//! Gaussian, categorical, multi-discrete and Dict action spaces, over an
//! MLP or a CNN encoder of occupancy grids and taxel images; TANDEM
//! co-training (a CNN discriminator fills the `declare` action); policy
//! folders, atomic checkpoints that resume bit for bit, and a run folder
//! with CSV and TensorBoard metrics.
//!
//! ```no_run
//! use tactile_env::VecEnv;
//! use tactile_rl::{Ppo, PpoConfig};
//!
//! let config = PpoConfig { total_steps: 50_000, num_envs: 8, num_steps: 128, ..PpoConfig::default() };
//! let mut env = VecEnv::make("Press-v0", config.num_envs, 1, None)?;
//! env.reset(config.seed)?;
//! let (obs_space, act_space) = (env.observation_space().clone(), env.action_space().clone());
//! let mut ppo = Ppo::new(config, &obs_space, &act_space, burn::tensor::Device::flex())?;
//! while ppo.global_step < ppo.config.total_steps {
//!     let stats = ppo.iterate(&mut env)?;
//!     println!("{} {:?}", stats.global_step, stats.episode_returns);
//! }
//! ppo.policy("Press-v0")?.save(std::path::Path::new("runs/press/final"))?;
//! # Ok::<(), tactile_rl::RlError>(())
//! ```

mod encoder;
pub mod gae;
pub mod policy;
mod ppo;
mod run;
mod saved;
mod tandem;
pub mod tensorboard;
pub mod weights;

pub use encoder::{CnnConfig, CnnEncoder, ObsLayout, ObsPart, obs_layout};
pub use ppo::{
    FactBonus, Ppo, PpoConfig, UpdateStats, clip_global_grad_norm, clip_to_space, normalize_obs, ppo_losses,
};
pub use run::{EvalReport, RunInfo, RunWriter, evaluate, read_metrics};
pub use saved::{
    CHECKPOINT_FORMAT, CHECKPOINT_FORMAT_VERSION, Policy, Resumed, TrainerState, action_bounds, build_commit,
    checkpoint_dir, list_checkpoints, load_checkpoint, save_checkpoint, taxel_slots,
};
pub use tactile_policy::{
    DiscriminatorMeta, NetworkMeta, NormStats, ObsNorm, POLICY_FORMAT, POLICY_FORMAT_VERSION, PolarView, PolicyError,
    PolicyMeta,
};
pub use tandem::{Discriminator, Tandem, TandemConfig, TandemLayout, declare_from, fit_temperature, tandem_layout};

/// The compute device named on the command line: `cpu` (burn's flex
/// backend, always there), `cuda` or `wgpu` (when compiled with that cargo
/// feature).
pub fn device(name: &str) -> Result<burn::tensor::Device, RlError> {
    match name {
        "cpu" | "flex" => Ok(burn::tensor::Device::flex()),
        "cuda" => cuda_device(),
        "wgpu" => wgpu_device(),
        other => Err(RlError::Device(format!("unknown device `{other}` (expected cpu, cuda or wgpu)"))),
    }
}

#[cfg(not(all(feature = "cuda", feature = "wgpu")))]
fn not_compiled(name: &str) -> RlError {
    RlError::Device(format!("device `{name}` is not compiled into this build (rebuild with `--features {name}`)"))
}

#[cfg(feature = "cuda")]
fn cuda_device() -> Result<burn::tensor::Device, RlError> {
    Ok(burn::tensor::Device::cuda(0usize))
}

#[cfg(not(feature = "cuda"))]
fn cuda_device() -> Result<burn::tensor::Device, RlError> {
    Err(not_compiled("cuda"))
}

#[cfg(feature = "wgpu")]
fn wgpu_device() -> Result<burn::tensor::Device, RlError> {
    Ok(burn::tensor::Device::wgpu(Default::default()))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_device() -> Result<burn::tensor::Device, RlError> {
    Err(not_compiled("wgpu"))
}

/// Everything that can go wrong in training.
#[derive(Debug, thiserror::Error)]
pub enum RlError {
    /// A hyperparameter is out of range.
    #[error("PPO config: {field} {reason}")]
    Config {
        /// The field(s).
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A config file is malformed.
    #[error("{path}: {message}")]
    ConfigFile {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The compute device cannot be had.
    #[error("{0}")]
    Device(String),
    /// The env failed.
    #[error(transparent)]
    Env(#[from] tactile_env::EnvError),
    /// A weights file is malformed or does not fit the network.
    #[error("{path}: {message}")]
    Weights {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong, naming the tensor.
        message: String,
    },
    /// A policy folder cannot be used.
    #[error("{path}: {message}")]
    Policy {
        /// The file or folder.
        path: std::path::PathBuf,
        /// What is wrong, naming the field.
        message: String,
    },
    /// A checkpoint cannot be used.
    #[error("{path}: {message}")]
    Checkpoint {
        /// The file or folder.
        path: std::path::PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A policy folder's files, as tactile-policy reads them.
    #[error(transparent)]
    Format(#[from] tactile_policy::PolicyError),
    /// A file could not be written or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}
