//! `Explore-v0`, `Explore-v1` and `Explore-v2`: TANDEM's task (Xu et al.,
//! "TANDEM: Learning Joint Exploration and Decision Making with Tactile
//! Sensors", 2022): find which of 10 extruded polygons a finger is
//! touching, by touch alone.
//!
//! `Explore-v2` is TANDEM's setup, point by point as its public code
//! (jingxixu/tandem-public) sets it up; the points where the physics makes
//! it differ are listed below. `Explore-v0` and `Explore-v1` are earlier
//! versions, kept as they were, and are not TANDEM's setup: their finger
//! is 5 mm wide with 48 force-reading taxels and no noise, v0's objects
//! are rounded star-shaped 8-gons with radii of 4-10 cm and v1's are simple
//! 8-gons through random points of the disc (notched, mostly not
//! star-shaped, 40 % larger than TANDEM's), and both count moves their own
//! way (v0 from a random start, v1 from against the object).
//!
//! ## Description
//! One of 10 polygon prisms (`assets/objects/`, radius <= 0.1 m, 0.05 m
//! tall) stands fixed in a 0.3 x 0.3 m workspace with a random yaw and a
//! small offset. A finger held by a PD drive at mid-height of the prism,
//! wrapped in 3 x 16 taxels, explores by guarded moves that stop as soon as
//! the taxels feel contact. A 60 x 60 occupancy grid (5 mm cells) records
//! where it went and what it felt. The agent declares the object's
//! identity when it is sure; a classifier trained on the grids (TANDEM's
//! discriminator) can fill that action.
//!
//! In v2, as in TANDEM:
//! - the objects are drawn as TANDEM drew its own (trimesh's
//!   `random_polygon(segments=8, radius=0.1)`: sorted angles, radii uniform
//!   in [0, 10 cm], star-shaped about the centre, spikes and deep notches;
//!   our own generator and seed, `assets/objects/README.md` compares their
//!   area, solidity and smallest radius with TANDEM's ten);
//! - the finger is 18 mm in radius where it meets the prism (TANDEM's
//!   hemispherical tip at its exploring height) and its contact is yes/no,
//!   the reading wrong in 0.5 % of moves (TANDEM's headline `sensor_noise`);
//! - the finger moves from cell centre to cell centre, and a move that
//!   touches marks the cell it was moving into and leaves the finger in its
//!   own cell: the grid holds the cells the finger's centre cannot enter;
//! - an episode starts with the finger in the grid's first cell (a corner),
//!   moved +x, +y, +x, ... along the diagonal until the first touch; those
//!   moves are not counted and their trail stays in the grid;
//! - the declaring step makes its move too and counts as one, and an
//!   episode cut off at 2000 moves succeeds if the current guess is right.
//!
//! ### Where v2 differs from TANDEM
//! - TANDEM teleports the finger to the next cell and checks for overlap
//!   there; v2 makes a guarded move on the physics (5 increments of 1 mm
//!   and 2 settling steps, each read), so a touch anywhere on the way
//!   counts and the finger is placed back on its cell's centre after it.
//!   A move that ends more than 1 mm short of its cell's centre has
//!   stalled against the object and counts as a touch too (a robot's
//!   position loop sees the stall; the taxels, 7 mm apart around the
//!   finger, can miss a thin spike that stops it between them).
//!   A contact cell's centre lies within 18-20 mm of the object (the
//!   guard's last increment), every free cell's beyond 18 mm
//!   (`tests/explore_v2.rs`).
//! - TANDEM flips one yes/no reading per move. v2's flips come from the
//!   sensor's binary mode: each taxel bit of each read flips with the
//!   probability that makes a move through free space read contact in
//!   `contact_flip_prob` of moves (a phantom contact, as TANDEM's). A real
//!   contact presses several taxels over several reads, so missing it
//!   (all of them flipping) is far rarer than in TANDEM, where a missed
//!   contact lets the finger into the object. Physically the object stops
//!   the finger whatever the sensor says.
//! - The explorer pays 0.01 per move (`time_penalty`; TANDEM's pays none:
//!   set it to 0 for TANDEM's reward) and the task pays +1 for a right
//!   declaration and -1 for a wrong one (TANDEM pays its explorer +1 once
//!   when the discriminator first reaches 98 %, right or not; the TANDEM
//!   learner's `shaping` pays for the discriminator growing surer).
//! - TANDEM's explorer sees the grid as one 8-bit image (127 unexplored,
//!   0 free, 255 contact, 63 the finger); v2's holds the codes below, and
//!   the taxel bits beside it.
//!
//! ## Action Space
//! `Dict(move: Discrete(4), declare: Discrete(11))`, flattened as
//! `[move, declare]`; v2 adds `guess: Discrete(11)`, `[move, declare,
//! guess]`. `move`: +x, -x, +y, -y. `declare`: 0 continues with the move;
//! `k + 1` states "the object is `k`" and ends the episode (v0, v1: the
//! move is not made; v2: after the move). `guess`: the current guess (`k +
//! 1`, 0 for none), judged only at the move limit; the TANDEM learner
//! fills it from its discriminator.
//!
//! ## Observation Space
//! `Dict(grid: Box(0, 3, [60, 60]), taxels: Box(-inf, inf, [48]))`: the
//! occupancy grid, row-major with rows along y (0 unexplored, 1 free,
//! 2 contact, 3 the finger's cell), then the last taxel frame (3 rings of
//! 16 around the finger: normal forces in N, or in v2 the bits, 1 for a
//! taxel pressed).
//!
//! ## Rewards
//! - `declare`: +1 for a right declaration, -1 for a wrong one;
//! - `time`: `-time_penalty` per move.
//!
//! ## Starting State
//! Object uniform among the 10, yaw uniform in `[0, 2 pi)`, offset uniform
//! in `+-jitter_m`. v0: the finger on a random cell centre at least 2 mm
//! clear of the object. v1 (`start = "touching"`): from there, guarded
//! moves bring it against the object ([`StartState::Touching`]). v2
//! (`start = "corner"`): TANDEM's diagonal from the first cell
//! ([`StartState::Corner`]). In v1 and v2 the episode starts at the first
//! touch with `moves` at 0, the cells passed and the touch in the grid.
//!
//! ## Episode End
//! Terminated by a declaration (success if right); v2 truncates after 2000
//! moves (success if the `guess` is right); v0 and v1 are truncated after
//! 2000 moves by the registry's time limit. Truncated on a physics fault.
//!
//! The scene is `assets/scenes/explore.toml`; the config sizes the finger,
//! its drive and its taxels, and picks the object files.
//!
//! ## Arguments
//! `envs/Explore-v0.toml`, `envs/Explore-v1.toml` and `envs/Explore-v2.toml`,
//! every key of [`ExploreConfig`]. The info's facts carry `object_id` (the
//! truth, for supervised training of a classifier), `moves`,
//! `contact_cells` and `approach_moves`: the moves up to and including the
//! first that touched the object (0 in v1 and v2, which start touching).
//! TANDEM starts its episodes at that touch, so on v0 its move counts
//! compare with `moves - approach_moves`.
//!
//! ## Version History
//! - v0: first version. The `approach_moves` fact came later; the task's
//!   states, observations and rewards did not change with it.
//! - v1: TANDEM-like objects and TANDEM's start against the object; all
//!   else as v0. Its objects turned out not to be TANDEM's kind, and its
//!   finger and counting are not TANDEM's either: v2 is.
//! - v2: TANDEM's setup point by point (above).

use rand::Rng;
use serde::Deserialize;
use tactile_sim::math::{Pose, Rotation, Vector};
use tactile_sim::{BinaryDesc, BodyId, DriveDesc, LayoutDesc, NoiseDesc, RotationDrive, ShapeDesc};

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
    /// object), `"touching"` (v1: brought from there against the object by
    /// guarded moves that are not counted) or `"corner"` (v2, TANDEM's: from
    /// the grid's first cell along a fixed staircase diagonal until the
    /// first touch, not counted).
    pub start: StartState,
    /// Which cell a touch marks: `"surface"` (v0, v1: the cell under the
    /// centre of pressure) or `"blocked"` (v2, TANDEM's: the cell the finger
    /// was moving into, the finger going back to its own cell centre).
    pub mark: ContactMark,
    /// Physics steps a move holds its target at the end, still guarded,
    /// for the finger to catch up with it.
    pub settle_steps: u32,
    /// The sensor's binary mode (TANDEM's yes/no contact) when given: the
    /// chance that one move's contact reading is wrong. Each taxel's bit
    /// flips with the probability that makes a move through free space
    /// read contact this often (`1 - (1 - p)^(1 / (taxels * reads))`), and
    /// a touch is one bit on. `None` (v0, v1) reads forces against
    /// `contact_threshold_n`.
    pub contact_flip_prob: Option<f32>,
    /// Count the declaring step as a move and make its move (TANDEM's
    /// counting; v0, v1 end the episode without moving).
    pub move_on_declare: bool,
    /// The episode ends after this many moves and succeeds if the current
    /// guess (the action's `guess` entry, present when this is above 0) is
    /// right, as TANDEM's does at its limit; 0: no such limit.
    pub move_limit: u32,
}

/// Which cell a touch marks in the grid.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ContactMark {
    /// The cell under the centre of pressure (the object's surface).
    #[default]
    Surface,
    /// The cell the finger's centre was moving into and cannot reach
    /// (TANDEM's grid: where the finger cannot go). The finger steps back
    /// to its cell's centre.
    Blocked,
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
    /// TANDEM's own start: the finger on the grid's first cell (a corner),
    /// then guarded moves +x, +y, +x, ... toward the opposite corner until
    /// the first touch; the trail and the touch stay in the grid and none
    /// of the moves counts.
    Corner,
}

/// The two sets of 10 objects (`tasks::polygons`).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ObjectSet {
    /// Star-shaped 8-gons, vertices at sorted angles and radii of 4 to
    /// 10 cm (`assets/objects/polygon_<k>.obj`); rounded and much alike.
    #[default]
    Star,
    /// Simple 8-gons through random points of the 10 cm disc
    /// (`assets/objects/tandem_<k>.obj`), notched, not star-shaped.
    Tandem,
    /// Drawn as TANDEM's own objects were (trimesh's `random_polygon`:
    /// sorted angles, radii uniform in [0, 10 cm]), star-shaped with spikes
    /// and deep notches (`assets/objects/random_polygon_<k>.obj`).
    Random,
}

impl ExploreConfig {
    /// Cells along each side of the square grid.
    pub fn grid_side(&self) -> usize {
        (self.workspace_m / self.cell_m).round() as usize
    }

    /// The centre of grid cell `index` (row-major, rows along y; world, m).
    pub fn cell_centre_m(&self, index: usize) -> [f32; 2] {
        let (side, half, c) = (self.grid_side(), 0.5 * self.workspace_m, self.cell_m);
        [(index % side) as f32 * c + 0.5 * c - half, (index / side) as f32 * c + 0.5 * c - half]
    }
}

impl ObjectSet {
    /// The set's ten cross-sections, each in its own frame (m).
    pub fn polygons(self) -> Vec<Vec<[f32; 2]>> {
        match self {
            ObjectSet::Star => polygons::polygons(OBJECT_SEED, OBJECT_COUNT),
            ObjectSet::Tandem => polygons::tandem_polygons(OBJECT_SEED, OBJECT_COUNT),
            ObjectSet::Random => polygons::random_polygons(OBJECT_SEED, OBJECT_COUNT),
        }
    }
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
            mark: ContactMark::Surface,
            settle_steps: 0,
            contact_flip_prob: None,
            move_on_declare: false,
            move_limit: 0,
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

/// A blocked-marking move that ends this far short of its goal stalled
/// against the object (m; the drive's lag after settling is a tenth of it).
const STALL_M: f32 = 0.001;

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

    /// The same under a registered id (`Explore-v1` and `Explore-v2` are
    /// this task with their own configs); errors name that id.
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
        if let Some(p) = c.contact_flip_prob
            && !(p.is_finite() && (0.0..0.5).contains(&p))
        {
            return Err(invalid("contact_flip_prob", p, "must be in [0, 0.5)"));
        }
        if c.mark == ContactMark::Blocked && (c.move_m - c.cell_m).abs() > 1e-6 {
            return Err(invalid(
                "move_m",
                c.move_m,
                "must equal cell_m when mark = \"blocked\" (a move goes one cell)",
            ));
        }
        let side = c.grid_side();
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
                    ObjectSet::Random => format!("objects/random_polygon_{k}.obj"),
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
        let (rows, around) = (3, 16);
        if let Some(sensor) = desc.sensors.first_mut() {
            sensor.layout = Some(LayoutDesc::Cylinder {
                radius_m: c.finger_radius_m,
                length_m: 2.0 * half_height,
                center_m: [0.0; 3],
                axis: [0.0, 0.0, 1.0],
                rows,
                around,
            });
            if let Some(per_move) = c.contact_flip_prob {
                // A move through free space reads `taxels * reads` bits;
                // it reads contact when any of them flips.
                let bits = f64::from(rows * around * (c.move_increments + c.settle_steps));
                let flip_prob = (1.0 - (1.0 - f64::from(per_move)).powf(1.0 / bits)) as f32;
                sensor.noise = Some(NoiseDesc {
                    binary: Some(BinaryDesc { threshold_n: c.contact_threshold_n, flip_prob }),
                    ..NoiseDesc::default()
                });
            }
        }
        let guess = c.move_limit > 0;
        let core = Core::new(id, &desc, &["finger"], |scene| {
            let taxels = scene.sensor_at(0).0.taxels().len();
            let obs_space = Space::Dict(vec![
                ("grid".into(), Space::uniform_box(0.0, 3.0, &[side, side])),
                ("taxels".into(), Space::uniform_box(f32::NEG_INFINITY, f32::INFINITY, &[taxels])),
            ]);
            let mut actions = vec![
                ("move".into(), Space::Discrete { n: 4 }),
                ("declare".into(), Space::Discrete { n: OBJECT_COUNT as u32 + 1 }),
            ];
            if guess {
                actions.push(("guess".into(), Space::Discrete { n: OBJECT_COUNT as u32 + 1 }));
            }
            let act_space = Space::Dict(actions);
            (obs_space, act_space)
        })?;
        let finger = core.scene.body("finger")?;
        let objects = (0..OBJECT_COUNT).map(|k| core.scene.body(&format!("object_{k}"))).collect::<Result<_, _>>()?;
        let task = Explore {
            polygons: config.object_set.polygons(),
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
        self.config.cell_centre_m(index)
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

    /// TANDEM's start: guarded moves +x, +y, +x, ... from the first cell
    /// until the first touch (the finger meets the object at the centre
    /// long before the far corner; the bound only guards against a physics
    /// fault, which the next step reports).
    fn corner_approach(&mut self, core: &mut Core) {
        for k in 0..2 * self.side {
            if self.contact_cells > 0 {
                return;
            }
            if !self.guarded_move(core, DIRECTIONS[if k % 2 == 0 { 0 } else { 2 }]) {
                return;
            }
        }
    }

    /// Whether the finger feels the object in the last reading: one bit on
    /// in binary mode, else the summed force above the threshold.
    fn touching(&self, core: &Core) -> bool {
        let total_n = core.frames[0].total_normal_n;
        match self.config.contact_flip_prob {
            Some(_) => total_n >= 0.5,
            None => total_n > self.config.contact_threshold_n,
        }
    }

    /// One guarded move: small target increments, then `settle_steps`
    /// holding the target, stopping at contact. Returns false on a physics
    /// fault.
    fn guarded_move(&mut self, core: &mut Core, dir: [f32; 2]) -> bool {
        let c = &self.config;
        let blocked = c.mark == ContactMark::Blocked;
        let step = c.move_m / c.move_increments as f32;
        // Blocked marking moves the finger's centre from cell centre to
        // cell centre (TANDEM's grid of finger positions); surface marking
        // keeps the finger inside the workspace.
        let limit = if blocked { 0.5 * (c.workspace_m - c.cell_m) } else { 0.5 * c.workspace_m - c.finger_radius_m };
        let from_m = self.target_m;
        let clamp = |p: f32| p.clamp(-limit, limit);
        let dest_m = [clamp(from_m[0] + dir[0] * c.move_m), clamp(from_m[1] + dir[1] * c.move_m)];
        if blocked && dest_m == from_m {
            return true; // at the grid's edge: the move leaves the finger where it is
        }
        let (increments, settle_steps) = (c.move_increments, c.settle_steps);
        for k in 0..increments + settle_steps {
            if k < increments {
                let next = [clamp(self.target_m[0] + dir[0] * step), clamp(self.target_m[1] + dir[1] * step)];
                if next == self.target_m {
                    break; // at the workspace's edge
                }
                self.target_m = next;
                self.set_target(core);
            }
            core.scene.step();
            if core.scene.fault().is_some() {
                return false;
            }
            core.read(0);
            if !blocked && let Some(i) = self.cell_of(self.finger_m(core)) {
                self.mark(i, cell::FREE);
            }
            // A guarded move that ends short of its goal has met the object
            // whether or not the skin felt it (a robot's position loop sees
            // the stall): the taxels can miss a thin spike that stops the
            // finger between them.
            let stalled = blocked && k + 1 == increments + settle_steps && {
                let at = self.finger_m(core);
                (at[0] - dest_m[0]).hypot(at[1] - dest_m[1]) > STALL_M
            };
            if !self.touching(core) && !stalled {
                continue;
            }
            if blocked {
                // The cell it was moving into is where the finger cannot
                // go; it steps back to the centre of its own cell.
                if let Some(i) = self.cell_of(dest_m) {
                    self.mark(i, cell::CONTACT);
                }
                self.target_m = from_m;
                let back = Vector::new(from_m[0], from_m[1], self.config.finger_height_m);
                core.scene.place(self.finger, Pose::from_translation(back), Vector::ZERO);
                self.set_target(core);
                return true;
            }
            // Where the taxels press: the centre of pressure, which lies on
            // the cylinder's surface.
            let pose = core.scene.pose(self.finger);
            let cop = pose.transform_point(core.frames[0].centre_of_pressure_m);
            if let Some(i) = self.cell_of([cop.x, cop.y]) {
                self.mark(i, cell::CONTACT);
            }
            // Stop: hold where the finger is.
            self.target_m = self.finger_m(core);
            self.set_target(core);
            break;
        }
        let at = if blocked { self.target_m } else { self.finger_m(core) };
        if let Some(i) = self.cell_of(at) {
            if self.grid[self.current] == cell::CURRENT {
                self.grid[self.current] = cell::FREE;
            }
            self.current = i;
            // The finger stands here: with blocked marking a contact mark
            // on its cell was a wrong reading, and goes (as in TANDEM).
            if blocked || self.grid[i] != cell::CONTACT {
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
        if self.config.start == StartState::Corner {
            self.reset_to(core, object, yaw, offset, self.cell_centre(0), obs, info);
            self.corner_approach(core);
            self.write_facts(info);
            self.observe(core, obs);
            return;
        }
        let polygon = self.placed_polygon();
        let clearance = self.config.finger_radius_m + 0.002;
        let finger = loop {
            let i = core.rng.random_range(0..self.side * self.side);
            let p = self.cell_centre(i);
            let inside_workspace = p.iter().all(|x| x.abs() <= 0.5 * self.config.workspace_m - clearance);
            if inside_workspace && polygons::clearance_m(&polygon, p) > clearance {
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
        if declare > 0 && !self.config.move_on_declare {
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
        if approaching && self.config.start != StartState::Corner {
            self.approach_moves = self.moves;
        }
        if !moved {
            self.write_facts(info);
            self.observe(core, obs);
            return super::fault_step(info, obs);
        }
        self.write_facts(info);
        self.observe(core, obs);
        let time = -self.config.time_penalty;
        if declare > 0 {
            // TANDEM's counting: the declaring step made its move too.
            let right = declare - 1 == self.object;
            info.success = right;
            let reward = info.set_terms(&[if right { 1.0 } else { -1.0 }, time]);
            return Step { reward, terminated: true, truncated: false };
        }
        let limit = self.config.move_limit;
        let at_limit = limit > 0 && self.moves >= limit;
        if at_limit {
            // TANDEM's limit: the current guess is judged, nothing paid.
            info.success = action.get(2).is_some_and(|&g| g as usize == self.object + 1);
        }
        let reward = info.set_terms(&[0.0, time]);
        Step { reward, terminated: false, truncated: at_limit }
    }
}
