//! The one error type of tactile-policy.

use std::path::PathBuf;

/// Everything that can go wrong loading, running or exporting a policy.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// `meta.json` (or another description file) is missing a field, holds
    /// a wrong one, or does not fit the weights.
    #[error("{path}: {message}")]
    Meta {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the field.
        message: String,
    },
    /// A file does not match the checksum its folder lists for it, or the
    /// list itself is missing or unreadable: the folder was damaged on disk.
    #[error("{path}: {message}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A weights file is malformed or does not fit the network.
    #[error("{path}: {message}")]
    Weights {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the tensor.
        message: String,
    },
    /// A calibration file or fit is unusable.
    #[error("{path}: {message}")]
    Calibration {
        /// The file (or `fit` for a fit from readings).
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An observation the policy cannot act on.
    #[error("observation: {0}")]
    Observation(String),
    /// The action came out not finite; it is not handed out.
    #[error("action element {element} is not finite ({cause}); no action was written")]
    NonFiniteAction {
        /// Which action value.
        element: usize,
        /// Why, as far as the runtime can tell.
        cause: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

pub(crate) fn io(path: &std::path::Path) -> impl Fn(std::io::Error) -> PolicyError + '_ {
    move |source| PolicyError::Io { path: path.to_owned(), source }
}
