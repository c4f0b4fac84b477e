//! The shared core of every simulated task: the role Gymnasium's
//! `MujocoEnv` plays.
//!
//! A [`Core`] owns what every task has: the scene built from a file under
//! `assets/scenes/` (adjusted from the task's config), the taxel frames of
//! its arrays, the seeded RNG, the id and the spaces. A task implements
//! [`Task`]: its observation, reward, termination and reset, over a core it
//! is handed. [`SimEnv`] joins the two into an [`Env`], so that the
//! accessors, the seeding and the action check are written once.

use rand::SeedableRng;
use rand::rngs::StdRng;
use tactile_sim::{Assets, BodyDesc, ColliderDesc, Scene, SceneDesc, SensorId, TaxelFrame};

use crate::{Env, EnvError, Info, Space, Step, TaxelSlot, check_action};

/// What every simulated task owns.
pub struct Core {
    id: &'static str,
    /// The simulated scene.
    pub scene: Scene,
    /// One taxel frame per array of the scene, in its order, as the last
    /// read left it.
    pub frames: Vec<TaxelFrame>,
    /// The env's RNG: every random draw of the task comes from it. A reset
    /// with a seed reseeds it; an env never seeded starts from seed 0.
    pub rng: StdRng,
    sensors: Vec<SensorId>,
    obs_space: Space,
    act_space: Space,
}

/// A scene file under the asset folders (`scenes/press.toml`), parsed, for
/// a task to adjust from its config before the core builds it.
pub fn scene_file(rel: &str) -> Result<SceneDesc, EnvError> {
    let assets = Assets::from_env();
    Ok(SceneDesc::from_toml(&assets.read_text(rel)?, &assets.path(rel).display().to_string())?)
}

/// A scene file's own error: what a task needs from it and did not find
/// (a user's scene under `TACTILE_ASSETS` may lack it).
fn missing(rel: &str, what: String) -> EnvError {
    EnvError::Config { origin: Assets::from_env().path(rel).display().to_string(), line: 0, column: 0, message: what }
}

/// Body `name` of scene file `rel`, for a task to adjust.
pub(crate) fn body_mut<'a>(desc: &'a mut SceneDesc, rel: &str, name: &str) -> Result<&'a mut BodyDesc, EnvError> {
    desc.bodies
        .iter_mut()
        .find(|b| b.name == name)
        .ok_or_else(|| missing(rel, format!("the task needs a body `{name}`")))
}

/// The first collider of `body` in scene file `rel`.
pub(crate) fn first_collider<'a>(body: &'a mut BodyDesc, rel: &str) -> Result<&'a mut ColliderDesc, EnvError> {
    let name = body.name.clone();
    body.colliders.first_mut().ok_or_else(|| missing(rel, format!("body `{name}` needs a collider")))
}

impl Core {
    /// Builds the scene of `desc` (assets from [`Assets::from_env`]) and
    /// the spaces `spaces` makes from it. `arrays` names the taxel arrays
    /// the task reads, which must come first in the scene, in that order
    /// (`frames[k]` is `arrays[k]`).
    pub fn new(
        id: &'static str,
        desc: &SceneDesc,
        arrays: &[&str],
        spaces: impl FnOnce(&Scene) -> (Space, Space),
    ) -> Result<Self, EnvError> {
        let scene = Scene::new(desc, &Assets::from_env())?;
        let sensors = desc.sensors.iter().map(|s| scene.sensor(&s.name)).collect::<Result<Vec<_>, _>>()?;
        for (k, name) in arrays.iter().enumerate() {
            if desc.sensors.get(k).is_none_or(|s| s.name != *name) {
                return Err(EnvError::Wrapper {
                    id: id.to_owned(),
                    reason: format!("its scene must list the taxel arrays {arrays:?} first, in that order"),
                });
            }
        }
        let frames = sensors.iter().map(|s| scene.new_frame(*s)).collect();
        let (obs_space, act_space) = spaces(&scene);
        Ok(Core { id, scene, frames, rng: StdRng::seed_from_u64(0), sensors, obs_space, act_space })
    }

    /// The registered id, with its version.
    pub fn id(&self) -> &'static str {
        self.id
    }

    /// The observation space.
    pub fn observation_space(&self) -> &Space {
        &self.obs_space
    }

    /// The action space.
    pub fn action_space(&self) -> &Space {
        &self.act_space
    }

    /// Taxel array `k` of the scene.
    pub fn sensor(&self, k: usize) -> SensorId {
        self.sensors[k]
    }

    /// Reads taxel array `k` of the scene into `frames[k]` (once per env
    /// step, after the physics: the realism models advance on each read).
    pub fn read(&mut self, k: usize) {
        self.scene.read(self.sensors[k], &mut self.frames[k]);
    }
}

/// A task: its observation, reward, termination and reset, over a [`Core`].
pub trait Task: Send + 'static {
    /// The names of the reward terms, in the order the info lists them.
    fn reward_terms(&self) -> &'static [&'static str];

    /// The names of the task facts in the info.
    fn fact_names(&self) -> &'static [&'static str] {
        &[]
    }

    /// The length of the privileged state the task writes into
    /// [`Info::state`] on each reset and step (0: none).
    fn state_dim(&self) -> usize {
        0
    }

    /// Where the observation holds taxel readings.
    fn taxel_slots(&self, core: &Core) -> Vec<TaxelSlot>;

    /// Starts an episode (the core's RNG already seeded): writes the first
    /// observation and its info.
    fn reset(&mut self, core: &mut Core, obs: &mut [f32], info: &mut Info);

    /// Applies an action the core has checked against the action space,
    /// steps the scene, and writes the observation, info and outcome.
    fn step(&mut self, core: &mut Core, action: &[f32], obs: &mut [f32], info: &mut Info) -> Step;
}

/// A task on its core: an [`Env`].
pub struct SimEnv<T> {
    pub(crate) core: Core,
    pub(crate) task: T,
}

impl<T: Task> SimEnv<T> {
    /// The env of `task` on `core`.
    pub fn new(core: Core, task: T) -> Self {
        SimEnv { core, task }
    }

    /// The task.
    pub fn task(&self) -> &T {
        &self.task
    }

    /// The core.
    pub fn core(&self) -> &Core {
        &self.core
    }
}

impl<T: Task> Env for SimEnv<T> {
    fn id(&self) -> &str {
        self.core.id
    }
    fn observation_space(&self) -> &Space {
        &self.core.obs_space
    }
    fn action_space(&self) -> &Space {
        &self.core.act_space
    }
    fn reward_terms(&self) -> &[&'static str] {
        self.task.reward_terms()
    }
    fn fact_names(&self) -> &[&'static str] {
        self.task.fact_names()
    }
    fn state_dim(&self) -> usize {
        self.task.state_dim()
    }
    fn taxel_slots(&self) -> Vec<TaxelSlot> {
        self.task.taxel_slots(&self.core)
    }
    fn scene(&self) -> Option<&Scene> {
        Some(&self.core.scene)
    }
    fn scene_mut(&mut self) -> Option<&mut Scene> {
        Some(&mut self.core.scene)
    }
    fn taxel_frames(&self) -> &[TaxelFrame] {
        &self.core.frames
    }
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32], info: &mut Info) {
        if let Some(seed) = seed {
            self.core.rng = StdRng::seed_from_u64(seed);
        }
        self.task.reset(&mut self.core, obs, info);
    }
    fn step(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> Result<Step, EnvError> {
        check_action(self.core.id, &self.core.act_space, action)?;
        Ok(self.task.step(&mut self.core, action, obs, info))
    }
}
