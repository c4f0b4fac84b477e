//! The one error type of tactile-env.

use std::path::PathBuf;

/// Everything that can go wrong making or driving an env.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// No task has this id.
    #[error("unknown env id `{id}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownId {
        /// The id asked for.
        id: String,
        /// The closest registered id.
        suggestion: Option<String>,
    },
    /// A config file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A task config is malformed: syntax, unknown key, wrong type.
    #[error("{origin}:{line}:{column}: {message}")]
    Config {
        /// The file.
        origin: String,
        /// 1-based line (0 where unknown).
        line: usize,
        /// 1-based column (0 where unknown).
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A config value is out of its range.
    #[error("{id}: {field} = {value}: {reason}")]
    InvalidParameter {
        /// The env id.
        id: String,
        /// The field.
        field: &'static str,
        /// Its value.
        value: String,
        /// Why it is wrong.
        reason: &'static str,
    },
    /// An action outside the action space.
    #[error("{id}: invalid action: {reason}")]
    InvalidAction {
        /// The env id.
        id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A wrapper cannot wrap this env as configured.
    #[error("{id}: {reason}")]
    Wrapper {
        /// The env id.
        id: String,
        /// What is wrong.
        reason: String,
    },
    /// The task's scene could not be built.
    #[error(transparent)]
    Sim(#[from] tactile_sim::SimError),
    /// A vectorised env's worker thread stopped.
    #[error("a VecEnv worker thread stopped: {0}")]
    Worker(String),
}
