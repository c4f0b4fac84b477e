//! The one error type of tactile-sim.

use std::path::PathBuf;

/// Everything that can go wrong while loading or building a scene or a sensor.
///
/// Stepping never fails: a physics fault (NaN, a body out of bounds) is
/// reported by [`crate::Scene::fault`] so that the environment layer can
/// truncate the episode with a flag.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file that was asked for.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A TOML file (scene or sensor layout) is malformed: wrong syntax,
    /// an unknown key, a wrong type or an unknown shape kind.
    #[error("{origin}:{line}:{column}: {message}")]
    Toml {
        /// The file (or another name for the text) that was parsed.
        origin: String,
        /// 1-based line of the error (0 where unknown).
        line: usize,
        /// 1-based column of the error (0 where unknown).
        column: usize,
        /// What is wrong, in one line.
        message: String,
    },
    /// A field has a value that cannot describe a physical scene.
    #[error("{field} = {value}: {reason}")]
    InvalidField {
        /// The path of the field, e.g. `sensors[0].layout.rows`.
        field: String,
        /// The offending value, as written.
        value: String,
        /// Why it is wrong.
        reason: &'static str,
    },
    /// A mesh file is malformed.
    #[error("{path}:{line}: {reason}")]
    Mesh {
        /// The mesh file.
        path: PathBuf,
        /// The line (OBJ, ASCII STL) or 0 for binary files.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A name refers to nothing: a body that a sensor or a target names,
    /// an asset that is not shipped.
    #[error("unknown {kind} `{name}`")]
    Unknown {
        /// What kind of thing was looked up (`body`, `sensor`, `asset`).
        kind: &'static str,
        /// The name that was not found.
        name: String,
    },
    /// A URDF file is malformed or describes something tactile cannot
    /// simulate.
    #[error("{path}: {element}: {reason}")]
    Urdf {
        /// The URDF file.
        path: PathBuf,
        /// The element at fault (`joint \`joint_3.0\``, `link \`palm\` <collision> 0`).
        element: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A joint-space vector has the wrong number of entries.
    #[error("{what}: {got} values given, the robot has {expected} driven joints")]
    Length {
        /// What the vector is (`joint targets of robot \`hand\``).
        what: String,
        /// Entries expected: the robot's driven joints.
        expected: usize,
        /// Entries given.
        got: usize,
    },
    /// A position target was set on a body that has no drive and is not kinematic.
    #[error("body `{0}` is neither kinematic nor driven: it takes no position target")]
    NotDriven(String),
}

impl SimError {
    pub(crate) fn invalid(field: impl Into<String>, value: impl std::fmt::Debug, reason: &'static str) -> Self {
        SimError::InvalidField { field: field.into(), value: format!("{value:?}"), reason }
    }
}
