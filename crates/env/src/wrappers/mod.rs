//! Wrappers: an env around an env, each changing one thing (Gymnasium's
//! wrappers, one file each).

mod clip_action;
mod domain_randomization;
mod episode_seeds;
mod frame_stack;
mod normalize_observation;
mod normalize_reward;
mod record_episode_statistics;
mod running_stats;
mod time_limit;

pub use clip_action::ClipAction;
pub use domain_randomization::{DomainRandomization, DomainRandomizationConfig};
pub use episode_seeds::EpisodeSeeds;
pub use frame_stack::FrameStack;
pub use normalize_observation::NormalizeObservation;
pub use normalize_reward::NormalizeReward;
pub use record_episode_statistics::RecordEpisodeStatistics;
pub use running_stats::RunningMeanStd;
pub use time_limit::TimeLimit;

/// Forwards the parts of [`crate::Env`] that a wrapper leaves alone:
/// `core` (id, reward terms, privileged state, scene), `obs_space` (with the taxel slots),
/// `act_space` and `info`
/// (fact names and a fresh info).
macro_rules! forward_env {
    (core) => {
        fn id(&self) -> &str {
            self.inner.id()
        }
        fn reward_terms(&self) -> &[&'static str] {
            self.inner.reward_terms()
        }
        fn state_dim(&self) -> usize {
            self.inner.state_dim()
        }
        fn scene_mut(&mut self) -> Option<&mut tactile_sim::Scene> {
            self.inner.scene_mut()
        }
        fn scene(&self) -> Option<&tactile_sim::Scene> {
            self.inner.scene()
        }
        fn taxel_frames(&self) -> &[tactile_sim::TaxelFrame] {
            self.inner.taxel_frames()
        }
    };
    (obs_space) => {
        fn observation_space(&self) -> &crate::Space {
            self.inner.observation_space()
        }
        fn taxel_slots(&self) -> Vec<crate::TaxelSlot> {
            self.inner.taxel_slots()
        }
    };
    (act_space) => {
        fn action_space(&self) -> &crate::Space {
            self.inner.action_space()
        }
    };
    (info) => {
        fn fact_names(&self) -> &[&'static str] {
            self.inner.fact_names()
        }
        fn new_info(&self) -> crate::Info {
            self.inner.new_info()
        }
    };
    ($($part:ident),+) => {
        $(super::forward_env!($part);)+
    };
}
pub(crate) use forward_env;
