//! The task catalogue, one file per task.

mod pendulum;
mod press;

pub use pendulum::{Pendulum, PendulumConfig, angle_normalize, pendulum_terms};
pub use press::{Press, PressConfig, press_terms};
