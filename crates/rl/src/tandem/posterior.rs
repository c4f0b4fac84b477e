//! The Bayes posterior discriminator of an Explore task
//! ([`tactile_policy::ShapePosterior`]): its description, read from the
//! task's own configuration, so that a policy folder carries what it needs
//! to declare on a robot.

use tactile_env::tasks::{ContactMark, ExploreConfig};
use tactile_policy::{PoseLattice, PosteriorMeta};

use super::config::PosteriorConfig;
use crate::RlError;

/// The posterior over the objects of `env_id` (its default configuration,
/// as training makes it) with `config`'s threshold, guard and lattice.
/// Refused for a task that is not an Explore task marking the cells the
/// finger could not enter (Explore-v2's grid), or a posterior it cannot
/// make.
pub fn posterior_meta(env_id: &str, config: &PosteriorConfig) -> Result<PosteriorMeta, RlError> {
    let refuse = |message: String| RlError::Posterior { env_id: env_id.to_owned(), message };
    let spec = tactile_env::spec(env_id)?;
    let task: ExploreConfig = tactile_env::load_config(spec.config_toml, &spec.config_origin(), None)
        .map_err(|_| refuse("needs an Explore task (objects explored on an occupancy grid)".into()))?;
    if task.mark != ContactMark::Blocked {
        return Err(refuse(
            "reads a grid whose contact cells are those the finger could not enter (mark = \"blocked\", \
             Explore-v2); this task marks the surface"
                .into(),
        ));
    }
    let meta = PosteriorMeta {
        objects_m: task.object_set.polygons(),
        finger_radius_m: task.finger_radius_m,
        guard_m: config.guard_m,
        jitter_m: task.jitter_m,
        random_yaw: task.random_yaw,
        phantom_prob: task.contact_flip_prob.unwrap_or(0.0),
        workspace_m: task.workspace_m,
        cell_m: task.cell_m,
        lattice: PoseLattice { yaws: config.yaws, offsets: config.offsets },
        threshold: config.threshold,
    };
    match meta.refusal() {
        Some(why) => Err(refuse(why)),
        None => Ok(meta),
    }
}
