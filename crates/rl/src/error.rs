//! The errors of training.

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
    /// A run asked for fewer steps than one rollout.
    #[error(
        "total_steps {steps} is less than one rollout ({num_envs} envs x {num_steps} steps = {}): \
         ask for at least {} steps, or fewer envs",
        *num_envs as u64 * *num_steps as u64,
        *num_envs as u64 * *num_steps as u64
    )]
    TooFewSteps {
        /// The steps asked for.
        steps: u64,
        /// Envs per rollout.
        num_envs: usize,
        /// Steps per env per rollout.
        num_steps: usize,
    },
    /// An algorithm that is not one of ours.
    #[error("unknown algorithm `{0}` (expected ppo or tandem)")]
    UnknownAlgo(String),
    /// The Bayes posterior discriminator cannot be made for a task.
    #[error("{env_id}: the posterior discriminator: {message}")]
    Posterior {
        /// The task.
        env_id: String,
        /// Why not.
        message: String,
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
