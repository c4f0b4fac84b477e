//! `Pendulum-v1`: Gymnasium's classic pendulum, the same constants and
//! reward, as the reference task on which tactile's RL is compared with
//! Stable-Baselines3 and CleanRL.
//!
//! ## Description
//! A frictionless pendulum hangs from a pivot; the agent swings it up and
//! balances it upright by a torque at the pivot.
//!
//! ## Action Space
//! `Box(-2, 2, (1,))`: the torque (N m).
//!
//! ## Observation Space
//! `Box([-1, -1, -8], [1, 1, 8], (3,))`: `cos(theta)`, `sin(theta)`,
//! angular velocity (rad/s), with `theta = 0` upright.
//!
//! ## Rewards
//! `-(theta^2 + 0.1 theta_dot^2 + 0.001 u^2)` with `theta` normalised to
//! `[-pi, pi)`, reported as the terms `angle`, `velocity` and `torque`.
//!
//! ## Starting State
//! `theta` uniform in `[-pi, pi]`, `theta_dot` uniform in `[-1, 1]`.
//!
//! ## Episode End
//! Never terminates; truncated after 200 steps (the registry's time limit).
//!
//! ## Arguments
//! `envs/Pendulum-v1.toml`: `g` (gravity, default 10.0).
//!
//! ## Version History
//! - v1: Gymnasium's Pendulum-v1 dynamics and reward.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;

use crate::{Env, EnvError, Info, Space, Step, check_action};

/// Parameters of `Pendulum-v1`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PendulumConfig {
    /// Gravity (m/s^2).
    pub g: f64,
}

impl Default for PendulumConfig {
    fn default() -> Self {
        PendulumConfig { g: 10.0 }
    }
}

const MAX_SPEED: f64 = 8.0;
const MAX_TORQUE: f64 = 2.0;
const DT: f64 = 0.05;
const MASS: f64 = 1.0;
const LENGTH: f64 = 1.0;

/// The pendulum env.
pub struct Pendulum {
    config: PendulumConfig,
    obs_space: Space,
    act_space: Space,
    rng: StdRng,
    theta: f64,
    theta_dot: f64,
}

/// `x` wrapped into `[-pi, pi)`, as Gymnasium's `angle_normalize`.
pub fn angle_normalize(x: f64) -> f64 {
    (x + std::f64::consts::PI).rem_euclid(std::f64::consts::TAU) - std::f64::consts::PI
}

/// The reward terms `(angle, velocity, torque)` for a state and torque.
pub fn pendulum_terms(theta: f64, theta_dot: f64, torque: f64) -> [f32; 3] {
    let th = angle_normalize(theta);
    [-(th * th) as f32, -(0.1 * theta_dot * theta_dot) as f32, -(0.001 * torque * torque) as f32]
}

impl Pendulum {
    /// A pendulum with these parameters.
    pub fn new(config: PendulumConfig) -> Result<Self, EnvError> {
        if !(config.g.is_finite() && config.g >= 0.0) {
            return Err(EnvError::InvalidParameter {
                id: "Pendulum-v1".into(),
                field: "g",
                value: config.g.to_string(),
                reason: "must be a finite number >= 0",
            });
        }
        Ok(Pendulum {
            config,
            obs_space: Space::Box { low: vec![-1.0, -1.0, -8.0], high: vec![1.0, 1.0, 8.0], shape: vec![3] },
            act_space: Space::uniform_box(-2.0, 2.0, &[1]),
            rng: StdRng::seed_from_u64(0),
            theta: 0.0,
            theta_dot: 0.0,
        })
    }

    fn observe(&self, obs: &mut [f32]) {
        obs[0] = self.theta.cos() as f32;
        obs[1] = self.theta.sin() as f32;
        obs[2] = self.theta_dot as f32;
    }
}

impl Env for Pendulum {
    fn id(&self) -> &str {
        "Pendulum-v1"
    }
    fn observation_space(&self) -> &Space {
        &self.obs_space
    }
    fn action_space(&self) -> &Space {
        &self.act_space
    }
    fn reward_terms(&self) -> &[&'static str] {
        &["angle", "velocity", "torque"]
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32], info: &mut Info) {
        if let Some(seed) = seed {
            self.rng = StdRng::seed_from_u64(seed);
        }
        self.theta = self.rng.random_range(-std::f64::consts::PI..=std::f64::consts::PI);
        self.theta_dot = self.rng.random_range(-1.0..=1.0);
        info.clear();
        self.observe(obs);
    }

    fn step(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> Result<Step, EnvError> {
        check_action(self.id(), &self.act_space, action)?;
        let u = f64::from(action[0]).clamp(-MAX_TORQUE, MAX_TORQUE);
        let (th, thdot) = (self.theta, self.theta_dot);
        let terms = pendulum_terms(th, thdot, u);
        let g = self.config.g;
        let new_thdot = (thdot + (3.0 * g / (2.0 * LENGTH) * th.sin() + 3.0 / (MASS * LENGTH * LENGTH) * u) * DT)
            .clamp(-MAX_SPEED, MAX_SPEED);
        self.theta = th + new_thdot * DT;
        self.theta_dot = new_thdot;
        info.clear();
        let reward = info.set_terms(&terms);
        self.observe(obs);
        Ok(Step { reward, terminated: false, truncated: false })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reward_terms_match_a_hand_computed_case() {
        // theta = 0.5, theta_dot = -2, u = 1.5:
        // angle -0.25, velocity -0.1 * 4 = -0.4, torque -0.001 * 2.25.
        let [a, v, t] = pendulum_terms(0.5, -2.0, 1.5);
        assert!((a + 0.25).abs() < 1e-7 && (v + 0.4).abs() < 1e-7 && (t + 0.00225).abs() < 1e-7);
        // The angle wraps: 2 pi + 0.5 costs the same as 0.5.
        assert!((pendulum_terms(std::f64::consts::TAU + 0.5, 0.0, 0.0)[0] + 0.25).abs() < 1e-6);
        assert!((angle_normalize(-std::f64::consts::PI) + std::f64::consts::PI).abs() < 1e-12);
    }

    #[test]
    fn one_step_follows_gymnasiums_equations() {
        let mut env = Pendulum::new(PendulumConfig::default()).unwrap();
        let mut obs = [0.0; 3];
        let mut info = env.new_info();
        env.reset(Some(0), &mut obs, &mut info);
        env.theta = 1.0;
        env.theta_dot = 0.5;
        let step = env.step(&[-1.0], &mut obs, &mut info).unwrap();
        // new_thdot = 0.5 + (15 sin 1 - 3) 0.05; new_th = 1 + new_thdot 0.05.
        let thdot = 0.5 + (15.0 * 1.0f64.sin() - 3.0) * 0.05;
        let th = 1.0 + thdot * 0.05;
        assert!((env.theta_dot - thdot).abs() < 1e-12 && (env.theta - th).abs() < 1e-12);
        assert!((obs[0] - th.cos() as f32).abs() < 1e-6 && (obs[2] - thdot as f32).abs() < 1e-6);
        let expected = -(1.0 + 0.1 * 0.25 + 0.001) as f32;
        assert!((step.reward - expected).abs() < 1e-6, "{}", step.reward);
    }
}
