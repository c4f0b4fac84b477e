//! `Explore-v0` and `Explore-v1`: TANDEM's task (Xu et al.): find which of
//! 10 extruded polygons the finger is touching, by touch alone.
//!
//! `Explore-v1` is the same task set up as TANDEM's own code sets it up
//! (`object_set = "tandem"`, `start = "touching"`): its kind of objects
//! (simple 8-gons through random points, notched, not star-shaped), and
//! each episode begun against the object, the approach not counted as
//! moves. TANDEM's published move counts (52.3 in simulation) are of that
//! task. `Explore-v0` keeps its own rounder objects, which are much alike,
//! and its start anywhere in the workspace.
//!
//! ## Description
//! One of 10 polygon prisms (`assets/objects/`, radius <= 0.1 m, 0.05 m
//! tall) stands fixed in a 0.3 x 0.3 m workspace with a random yaw and a
//! small offset. A finger (a 5 mm radius cylinder wrapped in taxels, held by
//! a PD drive at mid-height of the prism) explores by guarded 5 mm moves
//! that stop as soon as its taxels feel contact. Each contact and each cell
//! the finger passes is written into a 60 x 60 occupancy grid (5 mm cells).
//! The agent declares the object's identity when it is sure; a classifier
//! trained on the grids (TANDEM's discriminator) can fill that action.
//!
//! ## Action Space
//! `Dict(move: Discrete(4), declare: Discrete(11))`, flattened as
//! `[move, declare]`. `move`: +x, -x, +y, -y. `declare`: 0 continues with
//! the move; `k + 1` states "the object is `k`" and ends the episode (the
//! move is not made).
//!
//! ## Observation Space
//! `Dict(grid: Box(0, 3, [60, 60]), taxels: Box(-inf, inf, [48]))`: the
//! occupancy grid, row-major with rows along y (0 unexplored, 1 free,
//! 2 contact, 3 the finger's cell), then the last taxel frame (normal
//! forces, N; 3 rings of 16 around the finger).
//!
//! ## Rewards
//! - `declare`: +1 for a right declaration, -1 for a wrong one;
//! - `time`: `-time_penalty` per move.
//!
//! ## Starting State
//! Object uniform among the 10, yaw uniform in `[0, 2 pi)`, offset uniform
//! in `+-jitter_m`; the finger on a random cell centre at least 2 mm clear
//! of the object. With `start = "touching"` (v1), guarded moves then bring
//! it against the object ([`StartState::Touching`]); the episode starts
//! there with `moves` at 0 and the cells passed and the touch in the grid.
//!
//! ## Episode End
//! Terminated by a declaration (success if right); truncated after 2000
//! moves (the registry's time limit) or on a physics fault.
//!
//! The scene is `assets/scenes/explore.toml`; the config sizes the finger,
//! its drive and its taxels, and picks the object files.
//!
//! ## Arguments
//! `envs/Explore-v0.toml` and `envs/Explore-v1.toml`, every key of
//! [`ExploreConfig`]. The info's facts carry `object_id` (the truth, for
//! supervised training of a classifier), `moves`, `contact_cells` and
//! `approach_moves`: the moves up to and including the first that touched
//! the object (0 in v1, which starts touching). TANDEM starts its episodes
//! at that touch, so on v0 its move counts compare with
//! `moves - approach_moves`.
//!
//! ## Version History
//! - v0: first version. The `approach_moves` fact came later; the task's
//!   states, observations and rewards did not change with it.
//! - v1: TANDEM's objects and start (above); all else as v0.

use rand::Rng;
use serde::Deserialize;
use tactile_sim::math::{Pose, Rotation, Vector};
use tactile_sim::{BodyId, DriveDesc, LayoutDesc, RotationDrive, ShapeDesc};

use super::polygons::{self, OBJECT_COUNT, OBJECT_SEED};
use crate::{Core, EnvError, Info, SimEnv, Space, Step, Task};

/// Parameters of `Explore-v0` (`envs/Explore-v0.toml`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ExploreConfig {
    /// Side of the square workspace (m).
    pub workspace_m: f32,
    /// Side of an occupancy-grid cell (m).
    pub cell_m: f32,
    /// Length of one move (m).
    pub move_m: f32,
    /// Guard checks per move (the finger checks for contact after each).
    pub move_increments: u32,
    /// Finger radius (m).
    pub finger_radius_m: f32,
    /// Height of the finger's centre above the prism's base (m).
    pub finger_height_m: f32,
    /// Drive stiffness (N/m).
    pub drive_stiffness_n_per_m: f32,
    /// Drive damping (N s/m).
    pub drive_damping_n_s_per_m: f32,
    /// The finger feels contact above this summed taxel force (N).
    pub contact_threshold_n: f32,
    /// Largest offset of the object from the centre, per axis (m).
    pub jitter_m: f32,
    /// Draw the object's yaw uniformly in [0, 2 pi) (else 0).
    pub random_yaw: bool,
    /// Reward per move (subtracted).
    pub time_penalty: f32,
    /// The objects: `"star"` (v0's own) or `"tandem"` (TANDEM's kind).
    pub object_set: ObjectSet,
    /// Where an episode starts: `"random"` (v0: anywhere clear of the
    /// object) or `"touching"` (TANDEM's: brought from there against the
    /// object by guarded moves that are not counted).
    pub start: StartState,
}

/// Where an episode starts.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StartState {
    /// On a random cell clear of the object.
    #[default]
    Random,
    /// Against the object: from the random cell, guarded moves towards the
    /// nearest point of the object's outline until the first touch, their
    /// cells and the touch marked in the grid, none of them counted as a
    /// move (TANDEM's `start_on_border`).
    Touching,
}

/// The two sets of 10 objects (`tasks::polygons`).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ObjectSet {
    /// Star-shaped 8-gons, vertices at sorted angles and radii of 4 to
    /// 10 cm (`assets/objects/polygon_<k>.obj`); rounded and much alike.
    #[default]
    Star,
    /// TANDEM's kind: simple 8-gons through random points of the 10 cm disc
    /// (`assets/objects/tandem_<k>.obj`), notched and more distinct.
    Tandem,
}

impl Default for ExploreConfig {
    fn default() -> Self {
        ExploreConfig {
            workspace_m: 0.3,
            cell_m: 0.005,
            move_m: 0.005,
            move_increments: 5,
            finger_radius_m: 0.005,
            finger_height_m: 0.025,
            drive_stiffness_n_per_m: 1000.0,
            drive_damping_n_s_per_m: 9.0,
            contact_threshold_n: 0.05,
            jitter_m: 0.005,
            random_yaw: true,
            time_penalty: 0.01,
            object_set: ObjectSet::Star,
            start: StartState::Random,
        }
    }
}

/// Occupancy grid cell codes.
pub mod cell {
    /// Not seen yet.
    pub const UNEXPLORED: u8 = 0;
    /// The finger passed here without contact.
    pub const FREE: u8 = 1;
    /// The taxels felt the object here.
    pub const CONTACT: u8 = 2;
    /// The finger's current cell.
    pub const CURRENT: u8 = 3;
}

const DIRECTIONS: [[f32; 2]; 4] = [[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]];

/// The explore env.
pub struct Explore {
    config: ExploreConfig,
    polygons: Vec<Vec<[f32; 2]>>,
    finger: BodyId,
    objects: Vec<BodyId>,
    side: usize,
    grid: Vec<u8>,
    current: usize,
    contact_cells: u32,
    moves: u32,
    approach_moves: u32,
    object: usize,
    yaw_rad: f32,
    offset_m: [f32; 2],
    target_m: [f32; 2],
}

impl Explore {
    /// An explore env with these parameters, as `Explore-v0`; the objects
    /// are read from `assets/objects/`.
    pub fn new(config: ExploreConfig) -> Result<SimEnv<Explore>, EnvError> {
        Self::versioned("Explore-v0", config)
    }

    /// The same under a registered id (`Explore-v1` is this task with
    /// TANDEM's objects and start); errors name that id.
    pub fn versioned(id: &'static str, config: ExploreConfig) -> Result<SimEnv<Explore>, EnvError> {
        let invalid = |field, value, reason| super::invalid(id, field, value, reason);
        let c = &config;
        super::check_ranges(
            id,
            &[
                ("workspace_m", c.workspace_m),
                ("cell_m", c.cell_m),
                ("move_m", c.move_m),
                ("finger_radius_m", c.finger_radius_m),
                ("finger_height_m", c.finger_height_m),
                ("drive_stiffness_n_per_m", c.drive_stiffness_n_per_m),
                ("contact_threshold_n", c.contact_threshold_n),
            ],
            &[],
        )?;
        if !(c.jitter_m.is_finite() && c.jitter_m >= 0.0 && c.jitter_m < 0.05) {
            return Err(invalid("jitter_m", c.jitter_m, "must be in [0, 0.05) m"));
        }
        if c.move_increments == 0 {
            return Err(invalid("move_increments", 0.0, "must be at least 1"));
        }
        let side = (c.workspace_m / c.cell_m).round() as usize;
        if !(4..=1024).contains(&side) {
            return Err(invalid("cell_m", c.cell_m, "the workspace must be 4 to 1024 cells wide"));
        }
        if c.finger_height_m >= polygons::HEIGHT_M {
            return Err(invalid("finger_height_m", c.finger_height_m, "must be below the prisms' top (0.05 m)"));
        }

        // The scene file holds the defaults; the config sizes the finger.
        let rel = "scenes/explore.toml";
        let mut desc = crate::scene_file(rel)?;
        let half_height = 0.01f32.min(c.finger_height_m).min(polygons::HEIGHT_M - c.finger_height_m) * 0.95;
        for k in 0..OBJECT_COUNT {
            let object = crate::sim_env::body_mut(&mut desc, rel, &format!("object_{k}"))?;
            if let ShapeDesc::Mesh { file, .. } = &mut crate::sim_env::first_collider(object, rel)?.shape {
                *file = match c.object_set {
                    ObjectSet::Star => format!("objects/polygon_{k}.obj"),
                    ObjectSet::Tandem => format!("objects/tandem_{k}.obj"),
                };
            }
        }
        let finger = crate::sim_env::body_mut(&mut desc, rel, "finger")?;
        finger.position_m = [0.0, 0.0, c.finger_height_m];
        finger.drive = Some(DriveDesc {
            stiffness_n_per_m: c.drive_stiffness_n_per_m,
            damping_n_s_per_m: c.drive_damping_n_s_per_m,
            rotation: RotationDrive::Locked,
        });
        crate::sim_env::first_collider(finger, rel)?.shape =
            ShapeDesc::Cylinder { half_height_m: half_height, radius_m: c.finger_radius_m };
        if let Some(sensor) = desc.sensors.first_mut() {
            sensor.layout = Some(LayoutDesc::Cylinder {
                radius_m: c.finger_radius_m,
                length_m: 2.0 * half_height,
                center_m: [0.0; 3],
                axis: [0.0, 0.0, 1.0],
                rows: 3,
                around: 16,
            });
        }
        let core = Core::new(id, &desc, &["finger"], |scene| {
            let taxels = scene.sensor_at(0).0.taxels().len();
            let obs_space = Space::Dict(vec![
                ("grid".into(), Space::uniform_box(0.0, 3.0, &[side, side])),
                ("taxels".into(), Space::uniform_box(f32::NEG_INFINITY, f32::INFINITY, &[taxels])),
            ]);
            let act_space = Space::Dict(vec![
                ("move".into(), Space::Discrete { n: 4 }),
                ("declare".into(), Space::Discrete { n: OBJECT_COUNT as u32 + 1 }),
            ]);
            (obs_space, act_space)
        })?;
        let finger = core.scene.body("finger")?;
        let objects = (0..OBJECT_COUNT).map(|k| core.scene.body(&format!("object_{k}"))).collect::<Result<_, _>>()?;
        let task = Explore {
            polygons: match config.object_set {
                ObjectSet::Star => polygons::polygons(OBJECT_SEED, OBJECT_COUNT),
                ObjectSet::Tandem => polygons::tandem_polygons(OBJECT_SEED, OBJECT_COUNT),
            },
            config,
            finger,
            objects,
            side,
            grid: vec![cell::UNEXPLORED; side * side],
            current: 0,
            contact_cells: 0,
            moves: 0,
            approach_moves: 0,
            object: 0,
            yaw_rad: 0.0,
            offset_m: [0.0; 2],
            target_m: [0.0; 2],
        };
        Ok(SimEnv::new(core, task))
    }

    /// The grid cell of a world point, if inside the workspace.
    fn cell_of(&self, p: [f32; 2]) -> Option<usize> {
        let half = 0.5 * self.config.workspace_m;
        let ix = ((p[0] + half) / self.config.cell_m).floor();
        let iy = ((p[1] + half) / self.config.cell_m).floor();
        let n = self.side as f32;
        ((0.0..n).contains(&ix) && (0.0..n).contains(&iy)).then(|| iy as usize * self.side + ix as usize)
    }

    /// The centre of a cell (world, m).
    fn cell_centre(&self, index: usize) -> [f32; 2] {
        let half = 0.5 * self.config.workspace_m;
        let c = self.config.cell_m;
        [(index % self.side) as f32 * c + 0.5 * c - half, (index / self.side) as f32 * c + 0.5 * c - half]
    }

    /// The polygon of object `k` as placed this episode (world, m).
    fn placed_polygon(&self) -> Vec<[f32; 2]> {
        let (s, c) = self.yaw_rad.sin_cos();
        self.polygons[self.object]
            .iter()
            .map(|p| [c * p[0] - s * p[1] + self.offset_m[0], s * p[0] + c * p[1] + self.offset_m[1]])
            .collect()
    }

    /// The finger centre (world, m).
    fn finger_m(&self, core: &Core) -> [f32; 2] {
        let t = core.scene.pose(self.finger).translation;
        [t.x, t.y]
    }

    #[allow(clippy::too_many_arguments)]
    fn reset_to(
        &mut self,
        core: &mut Core,
        object: usize,
        yaw_rad: f32,
        offset_m: [f32; 2],
        finger_m: [f32; 2],
        obs: &mut [f32],
        info: &mut Info,
    ) {
        self.object = object.min(OBJECT_COUNT - 1);
        self.yaw_rad = yaw_rad;
        self.offset_m = offset_m;
        let seed = core.rng.random();
        core.scene.reset(seed);
        let pose = Pose::from_parts(Vector::new(offset_m[0], offset_m[1], 0.0), Rotation::from_rotation_z(yaw_rad));
        core.scene.place(self.objects[self.object], pose, Vector::ZERO);
        let finger = Pose::from_translation(Vector::new(finger_m[0], finger_m[1], self.config.finger_height_m));
        core.scene.place(self.finger, finger, Vector::ZERO);
        self.target_m = finger_m;
        self.set_target(core);
        self.grid.fill(cell::UNEXPLORED);
        self.contact_cells = 0;
        self.moves = 0;
        self.approach_moves = 0;
        self.current = self.cell_of(finger_m).unwrap_or(0);
        self.grid[self.current] = cell::CURRENT;
        core.frames[0].normal_n.fill(0.0);
        info.clear();
        self.write_facts(info);
        self.observe(core, obs);
    }

    fn set_target(&mut self, core: &mut Core) {
        let t = Vector::new(self.target_m[0], self.target_m[1], self.config.finger_height_m);
        let _ = core.scene.set_target(self.finger, Pose::from_translation(t));
    }

    fn write_facts(&self, info: &mut Info) {
        info.facts[0].1 = self.object as f64;
        info.facts[1].1 = f64::from(self.moves);
        info.facts[2].1 = f64::from(self.contact_cells);
        info.facts[3].1 = f64::from(self.approach_moves);
    }

    fn observe(&self, core: &Core, obs: &mut [f32]) {
        let n = self.grid.len();
        for (o, &g) in obs[..n].iter_mut().zip(&self.grid) {
            *o = f32::from(g);
        }
        obs[n..].copy_from_slice(&core.frames[0].normal_n);
    }

    fn mark(&mut self, index: usize, code: u8) {
        let old = self.grid[index];
        if code == cell::CONTACT && old != cell::CONTACT {
            self.contact_cells += 1;
        }
        // Contact is never overwritten by passing through a neighbour cell.
        if old != cell::CONTACT || code == cell::CONTACT {
            self.grid[index] = code;
        }
    }

    /// Guarded moves, not counted, from the finger towards the nearest
    /// point of the outline (along the axis with more to go) until the
    /// first touch. Each move brings the finger's centre nearer that point,
    /// and it touches once within a radius of the outline; the bound only
    /// guards against a physics fault (which the next step reports).
    fn approach(&mut self, core: &mut Core, polygon: &[[f32; 2]]) {
        let bound = 4 * self.side;
        for _ in 0..bound {
            if self.contact_cells > 0 {
                return;
            }
            let at = self.finger_m(core);
            let to = polygons::closest_point(polygon, at);
            let (dx, dy) = (to[0] - at[0], to[1] - at[1]);
            let dir = match (dx.abs() >= dy.abs(), dx >= 0.0, dy >= 0.0) {
                (true, true, _) => 0,
                (true, false, _) => 1,
                (false, _, true) => 2,
                (false, _, false) => 3,
            };
            if !self.guarded_move(core, DIRECTIONS[dir]) {
                return;
            }
        }
    }

    /// One guarded move: small target increments, stopping at contact.
    /// Returns false on a physics fault.
    fn guarded_move(&mut self, core: &mut Core, dir: [f32; 2]) -> bool {
        let c = &self.config;
        let step = c.move_m / c.move_increments as f32;
        let limit = 0.5 * c.workspace_m - c.finger_radius_m;
        for _ in 0..c.move_increments {
            let next = [
                (self.target_m[0] + dir[0] * step).clamp(-limit, limit),
                (self.target_m[1] + dir[1] * step).clamp(-limit, limit),
            ];
            if next == self.target_m {
                break; // at the workspace's edge
            }
            self.target_m = next;
            self.set_target(core);
            core.scene.step();
            if core.scene.fault().is_some() {
                return false;
            }
            core.read(0);
            let finger = self.finger_m(core);
            if let Some(i) = self.cell_of(finger) {
                self.mark(i, cell::FREE);
            }
            let frame = &core.frames[0];
            if frame.total_normal_n > self.config.contact_threshold_n {
                // Where the taxels press: the centre of pressure, pushed out
                // to the skin (it lies on the cylinder's surface already).
                let pose = core.scene.pose(self.finger);
                let cop = pose.transform_point(frame.centre_of_pressure_m);
                if let Some(i) = self.cell_of([cop.x, cop.y]) {
                    self.mark(i, cell::CONTACT);
                }
                // Stop: hold where the finger is.
                self.target_m = finger;
                self.set_target(core);
                break;
            }
        }
        let finger = self.finger_m(core);
        if let Some(i) = self.cell_of(finger) {
            if self.grid[self.current] == cell::CURRENT {
                self.grid[self.current] = cell::FREE;
            }
            self.current = i;
            if self.grid[i] != cell::CONTACT {
                self.grid[i] = cell::CURRENT;
            }
        }
        true
    }
}

/// Scripted episodes, the TANDEM learner's tests and the env's own tests
/// reach into the task through the env.
impl SimEnv<Explore> {
    /// The occupancy grid (row-major, rows along y), as cell codes.
    pub fn grid(&self) -> &[u8] {
        &self.task.grid
    }

    /// The grid cell of a world point, if inside the workspace.
    pub fn cell_of(&self, p: [f32; 2]) -> Option<usize> {
        self.task.cell_of(p)
    }

    /// The centre of a cell (world, m).
    pub fn cell_centre(&self, index: usize) -> [f32; 2] {
        self.task.cell_centre(index)
    }

    /// The polygon of object `k` as placed this episode (world, m).
    pub fn placed_polygon(&self) -> Vec<[f32; 2]> {
        self.task.placed_polygon()
    }

    /// The finger centre (world, m).
    pub fn finger_m(&self) -> [f32; 2] {
        self.task.finger_m(&self.core)
    }

    /// Starts an episode from a given state instead of a random one: object
    /// `object` at `yaw_rad` and `offset_m`, the finger at `finger_m`
    /// (for scripted episodes and tests).
    pub fn reset_to(
        &mut self,
        object: usize,
        yaw_rad: f32,
        offset_m: [f32; 2],
        finger_m: [f32; 2],
        obs: &mut [f32],
        info: &mut Info,
    ) {
        self.task.reset_to(&mut self.core, object, yaw_rad, offset_m, finger_m, obs, info);
    }
}

impl Task for Explore {
    fn reward_terms(&self) -> &'static [&'static str] {
        &["declare", "time"]
    }
    fn fact_names(&self) -> &'static [&'static str] {
        &["object_id", "moves", "contact_cells", "approach_moves"]
    }

    fn taxel_slots(&self, core: &Core) -> Vec<crate::TaxelSlot> {
        vec![crate::TaxelSlot::normal_forces(&core.scene, core.sensor(0), self.grid.len(), 1.0)]
    }

    fn reset(&mut self, core: &mut Core, obs: &mut [f32], info: &mut Info) {
        let object = core.rng.random_range(0..OBJECT_COUNT);
        let yaw = if self.config.random_yaw { core.rng.random_range(0.0..std::f32::consts::TAU) } else { 0.0 };
        let j = self.config.jitter_m;
        let offset = if j > 0.0 { [core.rng.random_range(-j..=j), core.rng.random_range(-j..=j)] } else { [0.0; 2] };
        self.object = object;
        self.yaw_rad = yaw;
        self.offset_m = offset;
        let polygon = self.placed_polygon();
        let clearance = self.config.finger_radius_m + 0.002;
        let finger = loop {
            let i = core.rng.random_range(0..self.side * self.side);
            let p = self.cell_centre(i);
            let inside_workspace = p.iter().all(|x| x.abs() <= 0.5 * self.config.workspace_m - clearance);
            if inside_workspace
                && !polygons::contains(&polygon, p)
                && polygons::distance_to_boundary(&polygon, p) > clearance
            {
                break p;
            }
        };
        self.reset_to(core, object, yaw, offset, finger, obs, info);
        if self.config.start == StartState::Touching {
            self.approach(core, &polygon);
            self.write_facts(info);
            self.observe(core, obs);
        }
    }

    fn step(&mut self, core: &mut Core, action: &[f32], obs: &mut [f32], info: &mut Info) -> Step {
        let (mv, declare) = (action[0] as usize, action[1] as usize);
        info.clear();
        if declare > 0 {
            let right = declare - 1 == self.object;
            let reward = info.set_terms(&[if right { 1.0 } else { -1.0 }, 0.0]);
            info.success = right;
            self.write_facts(info);
            self.observe(core, obs);
            return Step { reward, terminated: true, truncated: false };
        }
        self.moves += 1;
        let approaching = self.contact_cells == 0;
        let moved = self.guarded_move(core, DIRECTIONS[mv]);
        if approaching {
            self.approach_moves = self.moves;
        }
        if !moved {
            self.write_facts(info);
            self.observe(core, obs);
            return super::fault_step(info, obs);
        }
        let reward = info.set_terms(&[0.0, -self.config.time_penalty]);
        self.write_facts(info);
        self.observe(core, obs);
        Step { reward, terminated: false, truncated: false }
    }
}
