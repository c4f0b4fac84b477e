//! # tactile-env
//!
//! Gym-style tactile tasks: Gymnasium's `reset`/`step` contract in Rust
//! ([`Env`]), spaces ([`Space`]), a registry of versioned task ids with
//! their parameters in `envs/<id>.toml` ([`make`]), a batched and threaded
//! [`VecEnv`] with next-step autoreset, [`wrappers`], and Gymnasium's env
//! checker ([`check_env`]). Every simulated task stands on one core
//! ([`SimEnv`]: the scene from `assets/scenes/`, its taxel frames, the seeded
//! RNG and the spaces); a task supplies only its observation, reward,
//! termination and reset ([`Task`]).
//!
//! ```
//! use tactile_env::{make, Env};
//!
//! let mut env = make("Press-v0", None)?;
//! let mut obs = vec![0.0; env.observation_space().flat_dim()];
//! let mut info = env.new_info();
//! env.reset(Some(42), &mut obs, &mut info);
//! let step = env.step(&[-0.5], &mut obs, &mut info)?;
//! assert!(step.reward.is_finite() && !step.terminated);
//! assert!(info.term("force_error").is_some());
//! # Ok::<(), tactile_env::EnvError>(())
//! ```

mod checker;
mod config;
mod env;
mod error;
mod registry;
mod sim_env;
mod space;
pub mod tasks;
mod vec_env;
pub mod wrappers;

pub use checker::{CheckReport, check_env};
pub use config::{load as load_config, load_layers as load_config_layers, load_over as load_config_over};
pub use env::{Env, Info, Step, TaxelSlot, check_action};
pub use error::EnvError;
pub use registry::{EnvSpec, RandomAction, make, make_unwrapped, registry, spec};
pub use sim_env::{Core, SimEnv, Task, scene_file};
pub use space::{Dtype, Space};
pub use vec_env::{VecEnv, env_seed};
