//! The Env contract (Gymnasium's, in Rust) and what a step returns.

use crate::Space;

/// What `step` returns besides the observation and info.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Step {
    /// The reward: the sum of the info's reward terms.
    pub reward: f32,
    /// The task truly ended (success, failure): do not bootstrap.
    pub terminated: bool,
    /// The episode was cut (time limit, physics fault): bootstrap.
    pub truncated: bool,
}

/// Per-step facts beside the observation: every reward term by name, task
/// facts by name (e.g. the true object id), success and physics fault.
/// Made once by [`Env::new_info`]; `reset` and `step` overwrite its values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Info {
    /// The reward terms of the last step, by name; they sum to the reward.
    pub reward_terms: Vec<(&'static str, f32)>,
    /// Task facts, by name.
    pub facts: Vec<(&'static str, f64)>,
    /// Whether the task counts the episode as a success (set on the step
    /// that ends it).
    pub success: bool,
    /// The physics failed (NaN, a body out of bounds); the step is truncated.
    pub physics_fault: bool,
    /// Privileged state for an asymmetric critic (the object's pose,
    /// velocity, mass: what a real robot does not measure), scaled by the
    /// task to about unit size; [`Env::state_dim`] values, empty for a task
    /// without one. A learner's critic may read it; the actor and every
    /// exported policy never do.
    pub state: Vec<f32>,
}

impl Info {
    /// An info with these term and fact names, all zero.
    pub fn new(terms: &[&'static str], facts: &[&'static str]) -> Self {
        Info {
            reward_terms: terms.iter().map(|&t| (t, 0.0)).collect(),
            facts: facts.iter().map(|&f| (f, 0.0)).collect(),
            success: false,
            physics_fault: false,
            state: Vec::new(),
        }
    }

    /// The same info with a privileged state of `dim` values (zero).
    pub fn with_state(mut self, dim: usize) -> Self {
        self.state = vec![0.0; dim];
        self
    }

    /// A reward term by name.
    pub fn term(&self, name: &str) -> Option<f32> {
        self.reward_terms.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// A fact by name.
    pub fn fact(&self, name: &str) -> Option<f64> {
        self.facts.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// Zeroes every value and flag (names stay).
    pub fn clear(&mut self) {
        for t in &mut self.reward_terms {
            t.1 = 0.0;
        }
        for f in &mut self.facts {
            f.1 = 0.0;
        }
        self.state.fill(0.0);
        self.success = false;
        self.physics_fault = false;
    }

    /// Writes the reward terms in order and returns their sum.
    pub fn set_terms(&mut self, values: &[f32]) -> f32 {
        let mut sum = 0.0;
        for (slot, &v) in self.reward_terms.iter_mut().zip(values) {
            slot.1 = v;
            sum += v;
        }
        sum
    }
}

/// An environment: Gymnasium's `reset` and `step` over flat `f32` buffers.
///
/// Observations and actions are flattened as [`Space`] describes. `reset`
/// with a seed reseeds the env's RNG; without one it continues the RNG
/// (an env never seeded starts from seed 0, so every run is reproducible).
pub trait Env: Send {
    /// The registered id, with its version (`Press-v0`).
    fn id(&self) -> &str;

    /// The observation space.
    fn observation_space(&self) -> &Space;

    /// The action space.
    fn action_space(&self) -> &Space;

    /// The names of the reward terms, in the order the info lists them.
    fn reward_terms(&self) -> &[&'static str];

    /// The names of the task facts in the info.
    fn fact_names(&self) -> &[&'static str] {
        &[]
    }

    /// The length of the privileged state the info carries
    /// ([`Info::state`]); 0 for a task without one.
    fn state_dim(&self) -> usize {
        0
    }

    /// A fresh info with this env's term and fact names and state length.
    fn new_info(&self) -> Info {
        Info::new(self.reward_terms(), self.fact_names()).with_state(self.state_dim())
    }

    /// Starts an episode: writes the first observation and its info.
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32], info: &mut Info);

    /// Starts episode `episode` of the run seeded with `seed`: the state
    /// that `reset(Some(seed))` followed by `episode` calls of `reset(None)`
    /// gives (how a checkpoint puts an env back). The envs made by
    /// [`crate::make`] seed every episode on its own (see
    /// [`crate::wrappers::EpisodeSeeds`]) and get there in one reset.
    fn reset_episode(&mut self, seed: u64, episode: u64, obs: &mut [f32], info: &mut Info) {
        self.reset(Some(seed), obs, info);
        for _ in 0..episode {
            self.reset(None, obs, info);
        }
    }

    /// The simulated scene behind the task, for wrappers that perturb it
    /// (domain randomisation) and for fault injection in tests; `None` for
    /// a task without one.
    fn scene_mut(&mut self) -> Option<&mut tactile_sim::Scene> {
        None
    }

    /// The simulated scene, read-only (what a rollout recorder draws);
    /// `None` for a task without one.
    fn scene(&self) -> Option<&tactile_sim::Scene> {
        None
    }

    /// The taxel frames the last step or reset read, one per taxel array
    /// of [`Env::scene`] in its order (empty without a scene).
    fn taxel_frames(&self) -> &[tactile_sim::TaxelFrame] {
        &[]
    }

    /// Where the observation holds taxel readings, one entry per taxel
    /// array (what a real sensor's calibration maps onto); empty for a task
    /// without taxels in its observation.
    fn taxel_slots(&self) -> Vec<TaxelSlot> {
        Vec::new()
    }

    /// Applies an action. An action outside the action space (wrong length,
    /// NaN, out of bounds) is refused with [`crate::EnvError::InvalidAction`]
    /// and changes nothing.
    fn step(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> Result<Step, crate::EnvError>;
}

impl Env for Box<dyn Env> {
    fn id(&self) -> &str {
        (**self).id()
    }
    fn observation_space(&self) -> &Space {
        (**self).observation_space()
    }
    fn action_space(&self) -> &Space {
        (**self).action_space()
    }
    fn reward_terms(&self) -> &[&'static str] {
        (**self).reward_terms()
    }
    fn fact_names(&self) -> &[&'static str] {
        (**self).fact_names()
    }
    fn state_dim(&self) -> usize {
        (**self).state_dim()
    }
    fn new_info(&self) -> Info {
        (**self).new_info()
    }
    fn reset_episode(&mut self, seed: u64, episode: u64, obs: &mut [f32], info: &mut Info) {
        (**self).reset_episode(seed, episode, obs, info)
    }
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32], info: &mut Info) {
        (**self).reset(seed, obs, info)
    }
    fn step(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> Result<Step, crate::EnvError> {
        (**self).step(action, obs, info)
    }
    fn scene_mut(&mut self) -> Option<&mut tactile_sim::Scene> {
        (**self).scene_mut()
    }
    fn taxel_slots(&self) -> Vec<TaxelSlot> {
        (**self).taxel_slots()
    }
    fn scene(&self) -> Option<&tactile_sim::Scene> {
        (**self).scene()
    }
    fn taxel_frames(&self) -> &[tactile_sim::TaxelFrame] {
        (**self).taxel_frames()
    }
}

/// One taxel array's readings in an observation.
#[derive(Clone, Debug, PartialEq)]
pub struct TaxelSlot {
    /// The sensor's name in the task's scene.
    pub sensor: String,
    /// First flat observation index of its readings.
    pub obs_offset: usize,
    /// Number of readings (one per taxel).
    pub count: usize,
    /// What a reading measures, with its unit (`normal_force_n`).
    pub quantity: &'static str,
    /// Observation value per unit of that quantity (the task's scaling).
    pub obs_per_unit: f32,
    /// Taxel centres in the pad collider's frame (m), in reading order.
    pub positions_m: Vec<[f32; 3]>,
}

impl TaxelSlot {
    /// The normal-force slot of `sensor` in `scene`, at `obs_offset`,
    /// scaled by `obs_per_n`.
    pub fn normal_forces(
        scene: &tactile_sim::Scene,
        sensor: tactile_sim::SensorId,
        obs_offset: usize,
        obs_per_n: f32,
    ) -> Self {
        let array = scene.taxel_array(sensor);
        let positions_m: Vec<[f32; 3]> = array.taxels().position_m.iter().map(|p| [p.x, p.y, p.z]).collect();
        TaxelSlot {
            sensor: array.name().to_owned(),
            obs_offset,
            count: positions_m.len(),
            quantity: "normal_force_n",
            obs_per_unit: obs_per_n,
            positions_m,
        }
    }
}

/// Refuses an action that is not in the space, naming the env and why.
pub fn check_action(id: &str, space: &Space, action: &[f32]) -> Result<(), crate::EnvError> {
    match space.why_not(action) {
        None => Ok(()),
        Some(reason) => Err(crate::EnvError::InvalidAction { id: id.to_owned(), reason }),
    }
}
