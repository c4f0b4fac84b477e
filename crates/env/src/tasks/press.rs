//! `Press-v0`: press a fingertip pad on a surface to a target normal force.
//!
//! ## Description
//! A 20 x 20 mm pad with an 8 x 8 taxel grid on its bottom face hangs over
//! a flat surface, held by a PD drive (a kinematic anchor and a spring). The
//! agent moves the anchor up and down and must make the pad press on the
//! surface with a target normal force drawn per episode, feeling the force
//! only through its taxels.
//!
//! ## Action Space
//! `Box(-1, 1, (1,))`: the anchor's vertical velocity, as a fraction of
//! `max_speed_m_s` (positive is up).
//!
//! ## Observation Space
//! `Box(-inf, inf, (66,))`: the 64 taxel normal forces, each divided by
//! `target_force_max_n / 64` (a uniform press at the largest target reads 1
//! per taxel), row-major; the pad's bottom-face height above the surface in
//! centimetres; the target force divided by `target_force_max_n`.
//!
//! ## Rewards
//! - `force_error`: `-|F - F*| / F*`, with `F` the summed taxel force;
//! - `action`: `-action_cost * a^2`;
//! - `on_target`: `on_target_bonus` on every step within tolerance;
//! - `success`: `success_bonus` on the step that completes the hold.
//!
//! The scene is `assets/scenes/press.toml`; the config sets the drive.
//!
//! ## Starting State
//! The pad at rest, its bottom face uniformly `start_height_min_m` to
//! `start_height_max_m` above the surface; `F*` uniform in
//! `[target_force_min_n, target_force_max_n]`.
//!
//! ## Episode End
//! Terminated with success when `|F - F*| < tolerance F*` for `hold_steps`
//! consecutive steps; truncated after `max_episode_steps` (the registry's
//! time limit) or on a physics fault (`info.physics_fault`).
//!
//! ## Arguments
//! `envs/Press-v0.toml`, every key of [`PressConfig`].
//!
//! ## Version History
//! - v0: first version.

use rand::Rng;
use serde::Deserialize;
use tactile_sim::math::{Pose, Vector};
use tactile_sim::{BodyId, DriveDesc, RotationDrive};

use crate::{Core, EnvError, Info, SimEnv, Space, Step, Task};

/// Parameters of `Press-v0` (`envs/Press-v0.toml`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PressConfig {
    /// Smallest target force (N).
    pub target_force_min_n: f32,
    /// Largest target force (N).
    pub target_force_max_n: f32,
    /// Anchor speed at action 1 (m/s).
    pub max_speed_m_s: f32,
    /// Lowest start height of the pad's bottom face (m).
    pub start_height_min_m: f32,
    /// Highest start height of the pad's bottom face (m).
    pub start_height_max_m: f32,
    /// Relative force tolerance for success.
    pub tolerance: f32,
    /// Consecutive steps within tolerance for success.
    pub hold_steps: u32,
    /// Stiffness of the drive that holds the pad (N/m).
    pub drive_stiffness_n_per_m: f32,
    /// Damping of the drive (N s/m).
    pub drive_damping_n_s_per_m: f32,
    /// Weight of the squared action in the reward.
    pub action_cost: f32,
    /// Reward on every step within tolerance.
    pub on_target_bonus: f32,
    /// Reward on success.
    pub success_bonus: f32,
}

impl Default for PressConfig {
    fn default() -> Self {
        PressConfig {
            target_force_min_n: 0.5,
            target_force_max_n: 5.0,
            max_speed_m_s: 0.02,
            start_height_min_m: 0.002,
            start_height_max_m: 0.008,
            tolerance: 0.05,
            hold_steps: 20,
            drive_stiffness_n_per_m: 500.0,
            drive_damping_n_s_per_m: 5.0,
            action_cost: 0.01,
            on_target_bonus: 0.5,
            success_bonus: 10.0,
        }
    }
}

const PAD_HALF_HEIGHT_M: f32 = 0.0025;
/// The anchor is kept within this distance of the surface (m).
const TARGET_RANGE_M: f32 = 0.03;

/// The reward terms `(force_error, action, on_target, success)` of one step.
pub fn press_terms(force_n: f32, target_n: f32, action: f32, config: &PressConfig, success: bool) -> [f32; 4] {
    let error = (force_n - target_n).abs() / target_n;
    [
        -error,
        -config.action_cost * action * action,
        if error < config.tolerance { config.on_target_bonus } else { 0.0 },
        if success { config.success_bonus } else { 0.0 },
    ]
}

/// The press task (an env as [`SimEnv<Press>`], made by [`Press::new`]).
pub struct Press {
    config: PressConfig,
    pad: BodyId,
    target_force_n: f32,
    anchor_z_m: f32,
    in_tolerance: u32,
}

fn invalid(field: &'static str, value: f32, reason: &'static str) -> EnvError {
    super::invalid("Press-v0", field, value, reason)
}

impl Press {
    /// A press env with these parameters.
    pub fn new(config: PressConfig) -> Result<SimEnv<Press>, EnvError> {
        let c = &config;
        super::check_ranges(
            "Press-v0",
            &[
                ("target_force_min_n", c.target_force_min_n),
                ("max_speed_m_s", c.max_speed_m_s),
                ("tolerance", c.tolerance),
                ("drive_stiffness_n_per_m", c.drive_stiffness_n_per_m),
            ],
            &[],
        )?;
        if !(c.target_force_max_n.is_finite() && c.target_force_max_n >= c.target_force_min_n) {
            return Err(invalid("target_force_max_n", c.target_force_max_n, "must be >= target_force_min_n"));
        }
        if !(c.start_height_min_m >= 0.0 && c.start_height_max_m >= c.start_height_min_m && c.start_height_max_m < 0.02)
        {
            return Err(invalid("start_height_max_m", c.start_height_max_m, "need 0 <= min <= max < 0.02 m"));
        }
        super::check_ranges(
            "Press-v0",
            &[],
            &[
                ("drive_damping_n_s_per_m", c.drive_damping_n_s_per_m),
                ("action_cost", c.action_cost),
                ("on_target_bonus", c.on_target_bonus),
                ("success_bonus", c.success_bonus),
            ],
        )?;
        if c.hold_steps == 0 {
            return Err(invalid("hold_steps", 0.0, "must be at least 1"));
        }
        let rel = "scenes/press.toml";
        let mut desc = crate::scene_file(rel)?;
        crate::sim_env::body_mut(&mut desc, rel, "pad")?.drive = Some(DriveDesc {
            stiffness_n_per_m: c.drive_stiffness_n_per_m,
            damping_n_s_per_m: c.drive_damping_n_s_per_m,
            rotation: RotationDrive::Locked,
        });
        let core = Core::new("Press-v0", &desc, &["pad"], |scene| {
            let taxels = scene.sensor_at(0).0.taxels().len();
            (Space::uniform_box(f32::NEG_INFINITY, f32::INFINITY, &[taxels + 2]), Space::uniform_box(-1.0, 1.0, &[1]))
        })?;
        let pad = core.scene.body("pad")?;
        Ok(SimEnv::new(core, Press { config, pad, target_force_n: 1.0, anchor_z_m: 0.0, in_tolerance: 0 }))
    }

    fn observe(&self, core: &Core, obs: &mut [f32]) {
        let frame = &core.frames[0];
        let n = frame.normal_n.len();
        let per_taxel = self.config.target_force_max_n / n as f32;
        for (o, f) in obs[..n].iter_mut().zip(&frame.normal_n) {
            *o = f / per_taxel;
        }
        let bottom_m = core.scene.pose(self.pad).translation.z - PAD_HALF_HEIGHT_M;
        obs[n] = bottom_m * 100.0;
        obs[n + 1] = self.target_force_n / self.config.target_force_max_n;
    }

    /// Facts: the target, and the force the taxels feel (N).
    fn write_facts(&self, core: &Core, info: &mut Info) {
        info.facts[0].1 = f64::from(self.target_force_n);
        info.facts[1].1 = f64::from(core.frames[0].total_normal_n);
    }
}

impl Task for Press {
    fn reward_terms(&self) -> &'static [&'static str] {
        &["force_error", "action", "on_target", "success"]
    }
    fn fact_names(&self) -> &'static [&'static str] {
        &["target_force_n", "force_n"]
    }

    fn taxel_slots(&self, core: &Core) -> Vec<crate::TaxelSlot> {
        let n = core.frames[0].normal_n.len() as f32;
        vec![crate::TaxelSlot::normal_forces(&core.scene, core.sensor(0), 0, n / self.config.target_force_max_n)]
    }

    fn reset(&mut self, core: &mut Core, obs: &mut [f32], info: &mut Info) {
        let c = &self.config;
        let height = core.rng.random_range(c.start_height_min_m..=c.start_height_max_m);
        self.target_force_n = core.rng.random_range(c.target_force_min_n..=c.target_force_max_n);
        let seed = core.rng.random();
        core.scene.reset(seed);
        // The drive sags by its weight: start the anchor that much higher so
        // the pad starts at rest at the drawn height.
        let sag = 0.05 * 9.81 / c.drive_stiffness_n_per_m;
        self.anchor_z_m = height + PAD_HALF_HEIGHT_M + sag;
        let pad_pose = Pose::from_translation(Vector::new(0.0, 0.0, height + PAD_HALF_HEIGHT_M));
        core.scene.place(self.pad, pad_pose, Vector::ZERO);
        let _ = core.scene.set_target(self.pad, Pose::from_translation(Vector::new(0.0, 0.0, self.anchor_z_m)));
        self.in_tolerance = 0;
        core.frames[0].normal_n.fill(0.0);
        core.frames[0].total_normal_n = 0.0;
        info.clear();
        self.write_facts(core, info);
        self.observe(core, obs);
    }

    fn step(&mut self, core: &mut Core, action: &[f32], obs: &mut [f32], info: &mut Info) -> Step {
        let a = action[0];
        let dt = core.scene.env_dt_s();
        self.anchor_z_m = (self.anchor_z_m + a * self.config.max_speed_m_s * dt).clamp(-TARGET_RANGE_M, TARGET_RANGE_M);
        let _ = core.scene.set_target(self.pad, Pose::from_translation(Vector::new(0.0, 0.0, self.anchor_z_m)));
        core.scene.step();
        info.clear();
        if core.scene.fault().is_some() {
            self.write_facts(core, info);
            self.observe(core, obs);
            return super::fault_step(info, obs);
        }
        core.read(0);
        let force = core.frames[0].total_normal_n;
        let c = &self.config;
        if (force - self.target_force_n).abs() < c.tolerance * self.target_force_n {
            self.in_tolerance += 1;
        } else {
            self.in_tolerance = 0;
        }
        let success = self.in_tolerance >= c.hold_steps;
        let terms = press_terms(force, self.target_force_n, a, c, success);
        let reward = info.set_terms(&terms);
        info.success = success;
        self.write_facts(core, info);
        self.observe(core, obs);
        Step { reward, terminated: success, truncated: false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Env;

    #[test]
    fn reward_terms_match_a_hand_computed_case() {
        // F = 1.8 N for F* = 2 N: error -0.1; action 0.5 at cost 0.01: -0.0025.
        let c = PressConfig::default();
        let t = press_terms(1.8, 2.0, 0.5, &c, false);
        assert!((t[0] + 0.1).abs() < 1e-6 && (t[1] + 0.0025).abs() < 1e-9 && t[2] == 0.0 && t[3] == 0.0);
        // 1.95 N is within 5 %: the on-target bonus; success adds its bonus.
        let t = press_terms(1.95, 2.0, 0.0, &c, true);
        assert!((t[0] + 0.025).abs() < 1e-6 && t[2] == 0.5 && t[3] == 10.0);
    }

    #[test]
    fn holding_the_anchor_at_the_right_depth_succeeds() {
        // A scripted controller: lower the anchor until the force is in
        // tolerance, then hold still; the hold must end in success.
        let mut env = Press::new(PressConfig::default()).unwrap();
        let mut obs = vec![0.0; env.observation_space().flat_dim()];
        let mut info = env.new_info();
        env.reset(Some(3), &mut obs, &mut info);
        let target = info.fact("target_force_n").unwrap() as f32;
        let mut succeeded = false;
        for _ in 0..400 {
            let force = info.fact("force_n").unwrap() as f32;
            let err = (target - force) / target;
            let a = if force == 0.0 { -1.0 } else { (-2.0 * err).clamp(-1.0, 1.0) };
            let step = env.step(&[a], &mut obs, &mut info).unwrap();
            if step.terminated {
                succeeded = info.success;
                assert_eq!(info.term("success"), Some(10.0));
                break;
            }
        }
        assert!(succeeded, "the scripted press never held its target");
    }

    #[test]
    fn a_nan_action_is_refused() {
        let mut env = Press::new(PressConfig::default()).unwrap();
        let mut obs = vec![0.0; env.observation_space().flat_dim()];
        let mut info = env.new_info();
        env.reset(Some(0), &mut obs, &mut info);
        let e = env.step(&[f32::NAN], &mut obs, &mut info).unwrap_err();
        assert!(e.to_string().contains("Press-v0: invalid action: element 0 is NaN"), "{e}");
        let e = env.step(&[1.5], &mut obs, &mut info).unwrap_err();
        assert!(e.to_string().contains("outside [-1, 1]"), "{e}");
    }
}
