//! DomainRandomization: friction, masses, object sizes and sensor noise
//! drawn anew every episode.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use tactile_sim::{BodyId, NoiseDesc, SensorId};

use crate::{Env, EnvError, Info, Step};

/// What to randomise, each as a `[low, high]` range drawn uniformly per
/// episode; a range of `[1, 1]` (scales) or `[0, 0]` (noise) leaves it alone.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DomainRandomizationConfig {
    /// Factor on every collider's friction coefficient.
    pub friction_scale: [f32; 2],
    /// Factor on the mass of each body named in `bodies`.
    pub mass_scale: [f32; 2],
    /// Uniform size factor of each body named in `bodies`.
    pub object_scale: [f32; 2],
    /// The bodies whose mass and size are drawn.
    pub bodies: Vec<String>,
    /// Gaussian noise of the taxel arrays named in `sensors` (N); the drawn
    /// noise models replace the arrays' own.
    pub gaussian_sigma_n: [f32; 2],
    /// Per-taxel gain spread of those arrays.
    pub gain_sigma: [f32; 2],
    /// Dead-taxel probability of those arrays.
    pub dead_fraction: [f32; 2],
    /// The taxel arrays whose noise is drawn.
    pub sensors: Vec<String>,
}

impl Default for DomainRandomizationConfig {
    fn default() -> Self {
        DomainRandomizationConfig {
            friction_scale: [1.0; 2],
            mass_scale: [1.0; 2],
            object_scale: [1.0; 2],
            bodies: Vec::new(),
            gaussian_sigma_n: [0.0; 2],
            gain_sigma: [0.0; 2],
            dead_fraction: [0.0; 2],
            sensors: Vec::new(),
        }
    }
}

const FACTS: [&str; 4] = ["dr_friction_scale", "dr_mass_scale", "dr_object_scale", "dr_gaussian_sigma_n"];

/// Draws the physics and sensor parameters of [`DomainRandomizationConfig`]
/// after every reset, from its own RNG (seeded by the reset's seed), and
/// reports the draws as the facts `dr_friction_scale`, `dr_mass_scale`,
/// `dr_object_scale` and `dr_gaussian_sigma_n`.
pub struct DomainRandomization<E> {
    inner: E,
    config: DomainRandomizationConfig,
    bodies: Vec<BodyId>,
    sensors: Vec<SensorId>,
    facts: Vec<&'static str>,
    rng: StdRng,
    draws: [f32; 4],
}

fn bad(id: &str, reason: String) -> EnvError {
    EnvError::Wrapper { id: id.to_owned(), reason: format!("domain randomisation: {reason}") }
}

impl<E: Env> DomainRandomization<E> {
    /// Wraps `inner`, which must simulate a scene with the named bodies and
    /// taxel arrays.
    pub fn new(mut inner: E, config: DomainRandomizationConfig) -> Result<Self, EnvError> {
        let id = inner.id().to_owned();
        let ranges = [
            ("friction_scale", config.friction_scale, true),
            ("mass_scale", config.mass_scale, true),
            ("object_scale", config.object_scale, true),
            ("gaussian_sigma_n", config.gaussian_sigma_n, false),
            ("gain_sigma", config.gain_sigma, false),
            ("dead_fraction", config.dead_fraction, false),
        ];
        for (name, [lo, hi], scale) in ranges {
            let ok = lo.is_finite() && hi.is_finite() && lo <= hi && if scale { lo > 0.0 } else { lo >= 0.0 };
            if !ok || (name == "dead_fraction" && hi > 1.0) {
                return Err(bad(&id, format!("{name} = [{lo}, {hi}] is not a valid range")));
            }
        }
        let scene = inner.scene_mut().ok_or_else(|| bad(&id, "the task simulates no scene".into()))?;
        let bodies = config.bodies.iter().map(|b| scene.body(b)).collect::<Result<Vec<_>, _>>()?;
        let sensors = config.sensors.iter().map(|s| scene.sensor(s)).collect::<Result<Vec<_>, _>>()?;
        // Try the extremes once, so that a draw can never fail later (a body
        // that carries a taxel array cannot change size, say).
        for &b in &bodies {
            for f in [config.object_scale[0], config.object_scale[1], 1.0] {
                scene.set_body_scale(b, f)?;
            }
        }
        let facts = inner.fact_names().iter().copied().chain(FACTS).collect();
        Ok(DomainRandomization {
            inner,
            config,
            bodies,
            sensors,
            facts,
            rng: StdRng::seed_from_u64(0),
            draws: [0.0; 4],
        })
    }

    fn draw(&mut self, [lo, hi]: [f32; 2]) -> f32 {
        if hi > lo { self.rng.random_range(lo..=hi) } else { lo }
    }

    fn randomise(&mut self) -> Result<(), EnvError> {
        let c = self.config.clone();
        let friction = self.draw(c.friction_scale);
        let mass = self.draw(c.mass_scale);
        let size = self.draw(c.object_scale);
        let sigma = self.draw(c.gaussian_sigma_n);
        let gain = self.draw(c.gain_sigma);
        let dead = self.draw(c.dead_fraction);
        let noise_seed: u64 = self.rng.random();
        self.draws = [friction, mass, size, sigma];
        let Some(scene) = self.inner.scene_mut() else { return Ok(()) };
        scene.set_friction_scale(friction)?;
        for &b in &self.bodies {
            scene.set_body_scale(b, size)?;
            scene.set_mass_scale(b, mass)?;
        }
        for (k, &s) in self.sensors.iter().enumerate() {
            let noise =
                NoiseDesc { gaussian_sigma_n: sigma, gain_sigma: gain, dead_fraction: dead, ..Default::default() };
            scene.set_noise(s, noise, noise_seed.wrapping_add(k as u64))?;
        }
        Ok(())
    }

    fn write_facts(&self, info: &mut Info) {
        let base = self.facts.len() - FACTS.len();
        for (k, v) in self.draws.iter().enumerate() {
            info.facts[base + k].1 = f64::from(*v);
        }
    }
}

impl<E: Env> Env for DomainRandomization<E> {
    super::forward_env!(core, obs_space, act_space);
    fn fact_names(&self) -> &[&'static str] {
        &self.facts
    }
    fn new_info(&self) -> Info {
        Info::new(self.inner.reward_terms(), &self.facts).with_state(self.inner.state_dim())
    }
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32], info: &mut Info) {
        if let Some(seed) = seed {
            self.rng = StdRng::seed_from_u64(seed ^ 0xD0_4A1D_u64);
        }
        self.inner.reset(seed, obs, info);
        // Every range and name was checked, and every body scale tried, at
        // construction: applying the draws cannot fail.
        let applied = self.randomise();
        debug_assert!(applied.is_ok(), "{applied:?}");
        self.write_facts(info);
    }
    fn step(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> Result<Step, EnvError> {
        let s = self.inner.step(action, obs, info)?;
        self.write_facts(info);
        Ok(s)
    }
}
