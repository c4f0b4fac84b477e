//! The task catalogue, one file per task.

mod edge_follow;
mod explore;
pub mod explorers;
mod in_hand_rotate;
mod pendulum;
pub mod polygons;
mod press;

pub use edge_follow::{EdgeFollow, EdgeFollowConfig, edge_follow_terms};
pub use explore::{ContactMark, Explore, ExploreConfig, ObjectSet, StartState, cell};
pub use in_hand_rotate::{
    Grasp, GraspCache, HeldObject, InHandRotate, InHandRotateConfig, generate_grasps, yaw_turn_rad,
};
pub use pendulum::{Pendulum, PendulumConfig, angle_normalize, pendulum_terms};
pub use press::{Press, PressConfig, press_terms};

use crate::EnvError;

/// A task parameter that is out of range.
pub(crate) fn invalid(id: &str, field: &'static str, value: f32, reason: &'static str) -> EnvError {
    EnvError::InvalidParameter { id: id.to_owned(), field, value: value.to_string(), reason }
}

/// Checks that every `positive` parameter is finite and > 0 and every
/// `non_negative` one finite and >= 0, naming the first that is not.
pub(crate) fn check_ranges(
    id: &str,
    positive: &[(&'static str, f32)],
    non_negative: &[(&'static str, f32)],
) -> Result<(), EnvError> {
    for &(field, v) in positive {
        if !(v.is_finite() && v > 0.0) {
            return Err(invalid(id, field, v, "must be a finite number > 0"));
        }
    }
    for &(field, v) in non_negative {
        if !(v.is_finite() && v >= 0.0) {
            return Err(invalid(id, field, v, "must be a finite number >= 0"));
        }
    }
    Ok(())
}

/// The step a task returns when its physics failed: truncated with
/// `info.physics_fault`, no reward, and every non-finite observation
/// element zeroed (the caller has written the observation and facts).
pub(crate) fn fault_step(info: &mut crate::Info, obs: &mut [f32]) -> crate::Step {
    info.physics_fault = true;
    for x in obs.iter_mut().filter(|x| !x.is_finite()) {
        *x = 0.0;
    }
    crate::Step { reward: 0.0, terminated: false, truncated: true }
}
