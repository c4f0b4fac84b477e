//! The canonical benchmark scene `taxel-slide` and its protocol.
//!
//! The scene is `assets/scenes/taxel-slide.toml` (built in). One episode is
//! 210 env steps of 4 physics steps at 240 Hz (3.5 s): the pad's target
//! descends linearly over 0-0.5 s from 10 mm above the ground until the
//! pad's bottom face is 1 mm below the ground's top, holds until 0.75 s,
//! then slides along +x at 0.05 m/s, meets the cube at about 2.85 s and
//! pushes it.

use crate::math::{Pose, Vector};
use crate::{Assets, BodyId, Scene, SceneDesc, SensorId, SimError, TaxelFrame};

/// Env steps in one episode (3.5 s at 60 Hz).
pub const EPISODE_STEPS: usize = 210;
/// The step whose reading is taken at the end of the hold (t = 0.75 s).
pub const HOLD_END_STEP: usize = 44;

const START_X_M: f32 = -0.08;
const PAD_HALF_HEIGHT_M: f32 = 0.0025;
const START_BOTTOM_Z_M: f32 = 0.010;
const PRESSED_BOTTOM_Z_M: f32 = -0.001;
const DESCEND_END_S: f32 = 0.5;
const HOLD_END_S: f32 = 0.75;
const SLIDE_SPEED_M_S: f32 = 0.05;

/// The pad centre's target at time `t_s` of an episode (world, m).
pub fn pad_target_m(t_s: f32) -> Vector {
    let bottom = if t_s < DESCEND_END_S {
        START_BOTTOM_Z_M + (PRESSED_BOTTOM_Z_M - START_BOTTOM_Z_M) * (t_s / DESCEND_END_S)
    } else {
        PRESSED_BOTTOM_Z_M
    };
    let x = START_X_M + SLIDE_SPEED_M_S * (t_s - HOLD_END_S).max(0.0);
    Vector::new(x, 0.0, bottom + PAD_HALF_HEIGHT_M)
}

/// The taxel-slide scene with its bodies and pad sensor looked up.
pub struct TaxelSlide {
    scene: Scene,
    pad: BodyId,
    cube: BodyId,
    ground: BodyId,
    sensor: SensorId,
    frame: TaxelFrame,
    step: usize,
}

/// What the sanity check reads at the end of the hold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HoldReading {
    /// Sum of the 64 taxel normal forces (N).
    pub taxel_sum_n: f32,
    /// The solver's pad-ground normal force (N).
    pub solver_normal_n: f32,
    /// Taxels with a non-zero reading.
    pub nonzero_taxels: usize,
}

/// The result of one episode.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpisodeSummary {
    /// The reading at the end of the hold (t = 0.75 s).
    pub hold: HoldReading,
    /// The cube's x at the end of the episode (m; it starts at 0.06).
    pub cube_final_x_m: f32,
}

/// The figures of `tactile bench sim`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BenchReport {
    /// Env steps timed per mode.
    pub steps: usize,
    /// Env steps per (wall-clock) second, physics only.
    pub physics_steps_per_s: f64,
    /// Env steps per second, physics and all 64 taxels read every step.
    pub taxel_steps_per_s: f64,
    /// Env steps per CPU-second of the stepping thread, physics only: the
    /// figure other engines are compared by, and steadier than wall time
    /// on a shared machine.
    pub physics_steps_per_cpu_s: f64,
    /// Env steps per CPU-second, physics and taxels.
    pub taxel_steps_per_cpu_s: f64,
    /// Mean time of one reset (us).
    pub reset_us: f64,
    /// The sanity figures of one episode with taxels.
    pub episode: EpisodeSummary,
}

impl TaxelSlide {
    /// Builds the scene from the built-in (or on-disk) assets.
    pub fn new(assets: &Assets) -> Result<Self, SimError> {
        let rel = "scenes/taxel-slide.toml";
        let desc = SceneDesc::from_toml(&assets.read_text(rel)?, &assets.path(rel).display().to_string())?;
        let scene = Scene::new(&desc, assets)?;
        let sensor = scene.sensor("pad")?;
        Ok(TaxelSlide {
            pad: scene.body("pad")?,
            cube: scene.body("cube")?,
            ground: scene.body("ground")?,
            frame: scene.new_frame(sensor),
            sensor,
            scene,
            step: 0,
        })
    }

    /// Back to the start of an episode.
    pub fn reset(&mut self, seed: u64) {
        self.scene.reset(seed);
        self.step = 0;
    }

    /// One env step: set the pad target, 4 physics steps, and (if asked)
    /// read the 64 taxels.
    pub fn step(&mut self, read_taxels: bool) {
        self.step += 1;
        let t = self.step as f32 * self.scene.env_dt_s();
        // The pad is the only driven body: this cannot fail.
        let _ = self.scene.set_target(self.pad, Pose::from_translation(pad_target_m(t)));
        self.scene.step();
        if read_taxels {
            self.read_taxels();
        }
    }

    /// Reads the 64 taxels into [`TaxelSlide::frame`] (after a step).
    pub fn read_taxels(&mut self) {
        self.scene.read(self.sensor, &mut self.frame);
    }

    /// Env steps taken since the last reset.
    pub fn steps_taken(&self) -> usize {
        self.step
    }

    /// The last taxel reading.
    pub fn frame(&self) -> &TaxelFrame {
        &self.frame
    }

    /// The scene.
    pub fn scene(&self) -> &Scene {
        &self.scene
    }

    /// The pad, cube and ground bodies.
    pub fn bodies(&self) -> (BodyId, BodyId, BodyId) {
        (self.pad, self.cube, self.ground)
    }

    /// Runs one whole episode from a reset, reading the taxels every step.
    pub fn run_episode(&mut self, seed: u64) -> EpisodeSummary {
        self.reset(seed);
        let mut hold = None;
        for k in 0..EPISODE_STEPS {
            self.step(true);
            if k == HOLD_END_STEP {
                hold = Some(HoldReading {
                    taxel_sum_n: self.frame.total_normal_n,
                    solver_normal_n: self.scene.contact_normal_force_n(self.pad, self.ground),
                    nonzero_taxels: self.frame.nonzero_taxels(),
                });
            }
        }
        EpisodeSummary {
            hold: hold.unwrap_or(HoldReading { taxel_sum_n: 0.0, solver_normal_n: 0.0, nonzero_taxels: 0 }),
            cube_final_x_m: self.scene.pose(self.cube).translation.x,
        }
    }

    /// The whole `tactile bench sim` protocol: `steps` env steps physics
    /// only, `steps` with taxels, one thread, and the sanity episode.
    pub fn bench(&mut self, steps: usize) -> BenchReport {
        // One warm-up episode so that the caches and allocator are settled.
        let episode = self.run_episode(0);
        let t = crate::bench_timing::alternate(self, steps, EPISODE_STEPS, |_| 0);
        BenchReport {
            steps,
            physics_steps_per_s: t.rate(t.physics_s),
            taxel_steps_per_s: t.rate(t.taxel_s),
            physics_steps_per_cpu_s: t.rate(t.physics_cpu_s),
            taxel_steps_per_cpu_s: t.rate(t.taxel_cpu_s),
            reset_us: t.reset_s * 1e6,
            episode,
        }
    }
}

impl crate::bench_timing::Timed for TaxelSlide {
    fn reset(&mut self, seed: u64) {
        TaxelSlide::reset(self, seed);
    }
    fn step(&mut self, read_taxels: bool) {
        TaxelSlide::step(self, read_taxels);
    }
}
