//! The registry of versioned task ids.

use std::path::Path;

use crate::tasks::{
    EdgeFollow, EdgeFollowConfig, Explore, ExploreConfig, InHandRotate, InHandRotateConfig, Pendulum, PendulumConfig,
    Press, PressConfig,
};
use crate::wrappers::{EpisodeSeeds, TimeLimit};
use rand::Rng;
use rand::rngs::StdRng;

use crate::{Env, EnvError, Space, config};

/// Builds a task from its spec and an optional user config file.
type Builder = fn(&EnvSpec, Option<&Path>) -> Result<Box<dyn Env>, EnvError>;

/// A registered task.
#[derive(Clone, Copy, Debug)]
pub struct EnvSpec {
    /// The id with its version.
    pub id: &'static str,
    /// What the agent does, in one line.
    pub summary: &'static str,
    /// When an episode counts as a success.
    pub success: &'static str,
    /// The time limit that [`make`] applies.
    pub max_episode_steps: u32,
    /// The built-in parameters (`envs/<id>.toml`).
    pub config_toml: &'static str,
    /// The built-in PPO defaults (`envs/<id>.ppo.toml`), which tactile-rl
    /// reads.
    pub ppo_toml: &'static str,
    /// The large-batch PPO configuration for a many-core machine with a
    /// GPU (`envs/<id>.gpu.ppo.toml`), read on top of `ppo_toml`.
    pub gpu_ppo_toml: &'static str,
    /// What a random rollout of this task draws as its action (for
    /// benchmarks): a uniform sample of the action space, except where
    /// that would only measure resets.
    pub random_action: RandomAction,
    build: Builder,
}

impl EnvSpec {
    /// Where its built-in parameters come from, as errors name it.
    pub fn config_origin(&self) -> String {
        format!("envs/{}.toml", self.id)
    }
}

/// Draws a random action for a space into a buffer.
pub type RandomAction = fn(&Space, &mut StdRng, &mut [f32]);

fn uniform_action(space: &Space, rng: &mut StdRng, out: &mut [f32]) {
    space.sample(rng, out);
}

/// Explore-v0: a uniform move, and a declaration once in 200 steps (a
/// uniform sample would declare, and so end the episode, 10 times in 11).
fn explore_action(space: &Space, rng: &mut StdRng, out: &mut [f32]) {
    space.sample(rng, out);
    if rng.random_range(0..200) != 0 {
        out[1] = 0.0;
    }
}

fn build_pendulum(spec: &EnvSpec, user: Option<&Path>) -> Result<Box<dyn Env>, EnvError> {
    let c: PendulumConfig = config::load(spec.config_toml, &spec.config_origin(), user)?;
    Ok(Box::new(Pendulum::new(c)?))
}

fn build_edge_follow(spec: &EnvSpec, user: Option<&Path>) -> Result<Box<dyn Env>, EnvError> {
    let c: EdgeFollowConfig = config::load(spec.config_toml, &spec.config_origin(), user)?;
    Ok(Box::new(EdgeFollow::new(c)?))
}

fn build_explore(spec: &EnvSpec, user: Option<&Path>) -> Result<Box<dyn Env>, EnvError> {
    let c: ExploreConfig = config::load(spec.config_toml, &spec.config_origin(), user)?;
    Ok(Box::new(Explore::new(c)?))
}

fn build_explore_versioned(spec: &EnvSpec, user: Option<&Path>) -> Result<Box<dyn Env>, EnvError> {
    let c: ExploreConfig = config::load(spec.config_toml, &spec.config_origin(), user)?;
    Ok(Box::new(Explore::versioned(spec.id, c)?))
}

fn build_in_hand_rotate(spec: &EnvSpec, user: Option<&Path>) -> Result<Box<dyn Env>, EnvError> {
    let c: InHandRotateConfig = config::load(spec.config_toml, &spec.config_origin(), user)?;
    Ok(Box::new(InHandRotate::new(c)?))
}

fn build_press(spec: &EnvSpec, user: Option<&Path>) -> Result<Box<dyn Env>, EnvError> {
    let c: PressConfig = config::load(spec.config_toml, &spec.config_origin(), user)?;
    Ok(Box::new(Press::new(c)?))
}

/// The built-in files of a task id: `envs/<id>.toml`,
/// `envs/<id>.ppo.toml` and `envs/<id>.gpu.ppo.toml`, named once by the id.
macro_rules! task_files {
    ($id:literal) => {
        (
            $id,
            include_str!(concat!("../../../envs/", $id, ".toml")),
            include_str!(concat!("../../../envs/", $id, ".ppo.toml")),
            include_str!(concat!("../../../envs/", $id, ".gpu.ppo.toml")),
        )
    };
}

const fn entry(
    (id, config_toml, ppo_toml, gpu_ppo_toml): (&'static str, &'static str, &'static str, &'static str),
    summary: &'static str,
    success: &'static str,
    max_episode_steps: u32,
    random_action: RandomAction,
    build: Builder,
) -> EnvSpec {
    EnvSpec { id, summary, success, max_episode_steps, config_toml, ppo_toml, gpu_ppo_toml, random_action, build }
}

const REGISTRY: &[EnvSpec] = &[
    entry(
        task_files!("EdgeFollow-v0"),
        "slide a tactile pad along a straight edge to a goal without losing it (Tactile Gym edge_follow)",
        "pad centre within 1 cm of the goal",
        150,
        uniform_action,
        build_edge_follow,
    ),
    entry(
        task_files!("Explore-v0"),
        "find which of 10 extruded polygons the finger touches, by guarded moves and touch alone (TANDEM)",
        "a right declaration of the object's identity",
        2000,
        explore_action,
        build_explore,
    ),
    entry(
        task_files!("Explore-v1"),
        "Explore-v0 as TANDEM set it up: its kind of objects (notched simple 8-gons), each episode begun against the object",
        "a right declaration of the object's identity",
        2000,
        explore_action,
        build_explore_versioned,
    ),
    entry(
        task_files!("Explore-v2"),
        "TANDEM's setup point by point: its kind of objects (trimesh's random_polygon), an 18 mm finger with yes/no contact flipped in 0.5 % of moves, the corner start, its move counting",
        "a right declaration of the object's identity, or a right current guess at the 2000-move limit",
        2000,
        explore_action,
        build_explore_versioned,
    ),
    entry(
        task_files!("InHandRotate-v0"),
        "turn a held cylinder about the vertical axis with the Allegro hand, palm up, from touch and joint angles alone (HORA, finger gaiting)",
        "one full turn (2 pi) within 20 s without a drop",
        400,
        uniform_action,
        build_in_hand_rotate,
    ),
    entry(
        task_files!("Pendulum-v1"),
        "swing a pendulum up and balance it (Gymnasium's Pendulum-v1, the RL reference task)",
        "none (the return is the measure)",
        200,
        uniform_action,
        build_pendulum,
    ),
    entry(
        task_files!("Press-v0"),
        "press a fingertip pad on a surface to a target normal force, from taxels alone",
        "|F - F*| < 5 % of F* for 20 consecutive steps",
        200,
        uniform_action,
        build_press,
    ),
];

/// Every registered task, sorted by id.
pub fn registry() -> &'static [EnvSpec] {
    REGISTRY
}

/// The spec of an id, or an error that suggests the closest id.
pub fn spec(id: &str) -> Result<&'static EnvSpec, EnvError> {
    REGISTRY.iter().find(|s| s.id == id).ok_or_else(|| EnvError::UnknownId {
        id: id.to_owned(),
        suggestion: REGISTRY
            .iter()
            .map(|s| (edit_distance(&id.to_ascii_lowercase(), &s.id.to_ascii_lowercase()), s.id))
            .min()
            .filter(|(d, _)| *d <= (id.len() / 3).max(3))
            .map(|(_, s)| s.to_owned()),
    })
}

/// Makes a task by id, with its time limit, its parameters from
/// `envs/<id>.toml` and any keys of the user's TOML file `config` on top;
/// every episode gets its own seed ([`EpisodeSeeds`]).
pub fn make(id: &str, config: Option<&Path>) -> Result<Box<dyn Env>, EnvError> {
    let spec = spec(id)?;
    let env = (spec.build)(spec, config)?;
    Ok(Box::new(EpisodeSeeds::new(TimeLimit::new(env, spec.max_episode_steps))))
}

/// The same, without the time limit and the per-episode seeds (what
/// Gymnasium calls the unwrapped env).
pub fn make_unwrapped(id: &str, config: Option<&Path>) -> Result<Box<dyn Env>, EnvError> {
    let spec = spec(id)?;
    (spec.build)(spec, config)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_id_suggests_the_closest() {
        let e = make("press-v0", None).err().unwrap().to_string();
        assert_eq!(e, "unknown env id `press-v0` (did you mean `Press-v0`?)");
        let e = make("Pendulum-v0", None).err().unwrap().to_string();
        assert!(e.contains("did you mean `Pendulum-v1`"), "{e}");
        let e = make("CompletelyDifferentThingXYZ-v9", None).err().unwrap().to_string();
        assert!(!e.contains("did you mean"), "{e}");
    }

    #[test]
    fn the_built_in_configs_are_the_defaults() {
        let c: PressConfig = config::load(spec("Press-v0").unwrap().config_toml, "Press", None).unwrap();
        assert_eq!(c, PressConfig::default());
        let c: PendulumConfig = config::load(spec("Pendulum-v1").unwrap().config_toml, "Pendulum", None).unwrap();
        assert_eq!(c, PendulumConfig::default());
        let c: InHandRotateConfig =
            config::load(spec("InHandRotate-v0").unwrap().config_toml, "InHandRotate", None).unwrap();
        assert_eq!(c, InHandRotateConfig::default());
    }
}
