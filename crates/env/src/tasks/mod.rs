//! The task catalogue, one file per task.

mod edge_follow;
mod explore;
mod pendulum;
pub mod polygons;
mod press;

pub use edge_follow::{EdgeFollow, EdgeFollowConfig, edge_follow_terms};
pub use explore::{Explore, ExploreConfig, cell};
pub use pendulum::{Pendulum, PendulumConfig, angle_normalize, pendulum_terms};
pub use press::{Press, PressConfig, press_terms};
