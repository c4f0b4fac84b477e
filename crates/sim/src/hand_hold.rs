//! The canonical robot benchmark scene `hand-hold` and its protocol.
//!
//! The scene is `assets/scenes/hand-hold.toml` (built in): the Allegro hand
//! (HORA's URDF, primitive colliders) fixed palm up, its base at z = 0.5 m,
//! with a taxel array on each of the four fingertips, and a cylinder
//! (radius 30 mm, height 60 mm, 50 g, friction 1.0) held in a stored grasp.
//! Physics runs at 120 Hz, 6 physics steps per 20 Hz control step (HORA's
//! rates). Every control step the 16 joint targets are drawn anew from a
//! seeded uniform distribution within +-0.1 rad of the grasp's targets.
//! An episode is 100 control steps (5 s) from a reset.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::{Assets, BodyId, RobotId, Scene, SceneDesc, SensorId, SimError, TaxelFrame};

/// Control steps in one episode (5 s at 20 Hz).
pub const EPISODE_STEPS: usize = 100;
/// The control step whose contact forces are compared (t = 0.5 s).
pub const CHECK_STEP: usize = 9;
/// The control step after which the object's height is read (t = 1 s).
pub const HEIGHT_STEP: usize = 19;
/// How far the targets are drawn from the grasp's (rad).
pub const TARGET_SPREAD_RAD: f32 = 0.1;
/// The fingertip arrays, index to thumb.
pub const FINGERTIPS: [&str; 4] = ["index_tip", "middle_tip", "ring_tip", "thumb_tip"];
const TIP_LINKS: [&str; 4] = ["hand/link_3.0_tip", "hand/link_7.0_tip", "hand/link_11.0_tip", "hand/link_15.0_tip"];

/// The hand-hold scene with its robot, object and fingertip arrays looked up.
pub struct HandHold {
    scene: Scene,
    hand: RobotId,
    object: BodyId,
    tips: [BodyId; 4],
    sensors: [SensorId; 4],
    frames: [TaxelFrame; 4],
    grasp_targets: Vec<f32>,
    targets: Vec<f32>,
    rng: StdRng,
}

/// The sanity figures of one episode.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HoldCheck {
    /// The four fingertip arrays' normal readings, summed, at t = 0.5 s (N).
    pub taxel_sum_n: f32,
    /// The solver's normal force between the fingertips and the object at
    /// the same step (N).
    pub solver_normal_n: f32,
    /// Fingertips touching the object at that step.
    pub tips_in_contact: usize,
    /// The object's centre height at the start (m).
    pub start_height_m: f32,
    /// Its height after 1 s (m).
    pub height_after_1s_m: f32,
}

/// The figures of `tactile bench hand`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HandBenchReport {
    /// Control steps timed per mode.
    pub steps: usize,
    /// Physics steps per control step.
    pub substeps: u32,
    /// Control steps per (wall-clock) second, physics only.
    pub control_steps_per_s: f64,
    /// Control steps per second with the four fingertip arrays read.
    pub control_steps_per_s_taxels: f64,
    /// Control steps per CPU-second of the stepping thread, physics only.
    pub control_steps_per_cpu_s: f64,
    /// Control steps per CPU-second, with the arrays read.
    pub control_steps_per_cpu_s_taxels: f64,
    /// Mean time of one reset, the grasp set exactly (us).
    pub reset_us: f64,
    /// The sanity figures of one episode with the arrays read.
    pub check: HoldCheck,
}

impl HandHold {
    /// Builds the scene from the built-in (or on-disk) assets.
    pub fn new(assets: &Assets) -> Result<Self, SimError> {
        let rel = "scenes/hand-hold.toml";
        let desc = SceneDesc::from_toml(&assets.read_text(rel)?, &assets.path(rel).display().to_string())?;
        let scene = Scene::new(&desc, assets)?;
        let hand = scene.robot("hand")?;
        let mut grasp_targets = vec![0.0; scene.joint_count(hand)];
        scene.joint_targets(hand, &mut grasp_targets)?;
        let mut sensors = [SensorId(0); 4];
        let mut tips = [BodyId(0); 4];
        for i in 0..4 {
            sensors[i] = scene.sensor(FINGERTIPS[i])?;
            tips[i] = scene.body(TIP_LINKS[i])?;
        }
        Ok(HandHold {
            hand,
            object: scene.body("object")?,
            tips,
            frames: sensors.map(|s| scene.new_frame(s)),
            sensors,
            targets: grasp_targets.clone(),
            grasp_targets,
            rng: StdRng::seed_from_u64(0),
            scene,
        })
    }

    /// Back to the grasp, targets drawn from `seed` from here on.
    pub fn reset(&mut self, seed: u64) {
        self.scene.reset(seed);
        self.rng = StdRng::seed_from_u64(seed);
    }

    /// One control step: new targets, 6 physics steps, and (if asked) the
    /// four fingertip arrays read.
    pub fn step(&mut self, read_taxels: bool) {
        for (t, g) in self.targets.iter_mut().zip(&self.grasp_targets) {
            *t = g + self.rng.random_range(-TARGET_SPREAD_RAD..=TARGET_SPREAD_RAD);
        }
        // The vector is the robot's length: this cannot fail.
        let _ = self.scene.set_joint_targets(self.hand, &self.targets);
        self.scene.step();
        if read_taxels {
            for (s, f) in self.sensors.iter().zip(self.frames.iter_mut()) {
                self.scene.read(*s, f);
            }
        }
    }

    /// The scene.
    pub fn scene(&self) -> &Scene {
        &self.scene
    }

    /// The last readings of the fingertip arrays (index, middle, ring, thumb).
    pub fn frames(&self) -> &[TaxelFrame; 4] {
        &self.frames
    }

    /// Runs one episode from a reset with the arrays read; returns its
    /// sanity figures.
    pub fn run_episode(&mut self, seed: u64) -> HoldCheck {
        self.reset(seed);
        let start_height_m = self.scene.pose(self.object).translation.z;
        let mut check = HoldCheck {
            taxel_sum_n: 0.0,
            solver_normal_n: 0.0,
            tips_in_contact: 0,
            start_height_m,
            height_after_1s_m: start_height_m,
        };
        for k in 0..EPISODE_STEPS {
            self.step(true);
            if k == CHECK_STEP {
                check.taxel_sum_n = self.frames.iter().map(|f| f.total_normal_n).sum();
                let solver: Vec<f32> =
                    self.tips.iter().map(|t| self.scene.contact_normal_force_n(*t, self.object)).collect();
                check.solver_normal_n = solver.iter().sum();
                check.tips_in_contact = solver.iter().filter(|f| **f > 0.0).count();
            }
            if k == HEIGHT_STEP {
                check.height_after_1s_m = self.scene.pose(self.object).translation.z;
            }
        }
        check
    }

    /// The whole `tactile bench hand` protocol: `steps` control steps
    /// physics only and `steps` with the fingertip arrays read, one thread,
    /// in alternating episodes of the same seeds, and one sanity episode.
    pub fn bench(&mut self, steps: usize) -> HandBenchReport {
        let check = self.run_episode(0);
        let t = crate::bench_timing::alternate(self, steps, EPISODE_STEPS, |k| k);
        HandBenchReport {
            steps,
            substeps: (self.scene.env_dt_s() / self.scene.dt_s()).round() as u32,
            control_steps_per_s: t.rate(t.physics_s),
            control_steps_per_s_taxels: t.rate(t.taxel_s),
            control_steps_per_cpu_s: t.rate(t.physics_cpu_s),
            control_steps_per_cpu_s_taxels: t.rate(t.taxel_cpu_s),
            reset_us: t.reset_s * 1e6,
            check,
        }
    }
}

impl crate::bench_timing::Timed for HandHold {
    fn reset(&mut self, seed: u64) {
        HandHold::reset(self, seed);
    }
    fn step(&mut self, read_taxels: bool) {
        HandHold::step(self, read_taxels);
    }
}
