//! # tactile-policy
//!
//! Trained tactile policies on a robot: the policy folder format, a runtime
//! that computes the deterministic action with no dependency on burn,
//! rapier or bevy and no allocation per call, ONNX export, and the
//! calibration that maps a real sensor's taxels onto the simulated layout.
//!
//! ## The policy folder
//! What `tactile train` leaves in `<run>/final/` and `tactile export
//! --format policy` writes:
//! - `meta.json` ([`PolicyMeta`]): `format` (`tactile-policy`) and
//!   `format_version` (2; version 1 folders, without checksums, still
//!   load, with [`PolicyMeta::warning`]), the env id with its version, the tactile
//!   version and git commit that trained it, the observation and action
//!   spaces as text, `obs_norm` (which flat ranges are normalised, the
//!   running mean and variance, the clip), `network` (MLP widths, the CNN's
//!   shape, the observation layout — which dimensions are vectors and which
//!   the grid —, the egocentric view, the action heads), `discriminator`
//!   (TANDEM: where its grid is, which action it fills, its threshold, its
//!   CNN and, if it reads the grid in polar form, its [`PolarView`]; its
//!   temperature; whether it averages the grid's four quarter turns; and,
//!   where the Bayes posterior over the task's known objects declares in
//!   the CNN's place, its [`PosteriorMeta`]),
//!   `action_bounds` (each flat action value's clipping), `taxels` (each
//!   taxel array's place in the observation, its quantity and unit, and
//!   its taxel positions on the pad), `global_step`, and `training` (the
//!   whole training config);
//! - `model.safetensors`: the actor-critic by module path —
//!   `encoder.convs.<i>.{weight,bias}` (`[out, in, k, k]`),
//!   `encoder.linear.*`, `actor.layers.<i>.*`, `actor_head.*` (linear
//!   weights `[in, out]`), the critic's and `log_std`;
//! - `discriminator.safetensors` under TANDEM: `encoder.*` and `head.*`;
//! - `checksums.json`: the CRC-32C of each of the files above, checked
//!   before any is read; a mismatch, or a weight that is not finite, is
//!   refused with an error that names the file.
//!
//! The action is computed as in training: normalise the vector
//! dimensions, re-centre the grid on the agent if asked, CNN features
//! then the vectors into the tanh MLP, the actor head; Gaussian means and
//! the most likely choices; the discriminator's class where its top
//! probability (of the grid, or the mean of its four quarter turns')
//! reaches the threshold (or the posterior's, at its own threshold);
//! clipping to the bounds.
//!
//! ```
//! use tactile_policy::{ActionLayout, Head};
//! let layout = ActionLayout::from_heads(vec![Head::Gaussian { dim: 2 }, Head::Categorical { n: 4 }]);
//! let mut action = [0.0; 3];
//! layout.deterministic(&[0.1, -0.2, 0.0, 3.0, 1.0, 2.0], &mut action);
//! assert_eq!(action, [0.1, -0.2, 1.0]);
//! ```
//!
//! Loading a folder and acting: see [`Policy`]; a 1 kHz control loop:
//! `examples/robot_loop.rs`.

mod calibration;
mod checksums;
mod error;
mod meta;
mod network_layout;
mod onnx;
mod polar;
mod posterior;
mod runtime;
pub mod safetensors;

pub use calibration::{CALIBRATION_FORMAT, Calibration, FitReport};
pub use checksums::{CHECKSUMS_FILE, crc32c, verify_checksums, write_checksums};
pub use error::PolicyError;
pub use meta::{
    DiscriminatorMeta, NetworkMeta, NormStats, ObsNorm, POLICY_FORMAT, POLICY_FORMAT_VERSION, PolicyMeta, TaxelSlot,
};
pub use network_layout::{
    ActionLayout, CnnConfig, Head, ObsLayout, ObsPart, TandemLayout, add_softmax, argmax, declare_from, egocentric,
    guess_from, normalize, quarter_turn_source, quarter_turns, turn_average_refusal,
};
pub use onnx::{ONNX_CHECKSUM_KEY, OPSET, OnnxCheck, verify_onnx};
pub use polar::{NO_BIN, PolarView};
pub use posterior::{Evidence, KEEP_NATS, PoseLattice, PosteriorMeta, ShapePosterior};
pub use runtime::Policy;
