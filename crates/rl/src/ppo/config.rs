//! Every PPO hyperparameter in one struct, and where its values come from:
//! the task's defaults (`envs/<id>.ppo.toml`), a user's TOML file on top,
//! table by table, then the command line's flags.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::RlError;
use crate::encoder::CnnConfig;
use crate::tandem::config::TandemConfig;

/// Every PPO hyperparameter (CleanRL's names and defaults for continuous
/// control unless a task's `envs/<id>.ppo.toml` says otherwise).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PpoConfig {
    /// Env steps to train for, over all envs.
    pub total_steps: u64,
    /// Envs stepped in parallel.
    pub num_envs: usize,
    /// Threads that step the envs (0: one per core of the machine).
    pub threads: usize,
    /// Steps per env in one rollout.
    pub num_steps: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Anneal the learning rate linearly to 0 over training.
    pub anneal_lr: bool,
    /// Discount.
    pub gamma: f32,
    /// GAE's lambda.
    pub gae_lambda: f32,
    /// Minibatches per epoch.
    pub num_minibatches: usize,
    /// Epochs over each rollout.
    pub update_epochs: usize,
    /// Normalise advantages per minibatch.
    pub norm_adv: bool,
    /// Surrogate clipping coefficient.
    pub clip_coef: f32,
    /// Clip the value loss around the old values.
    pub clip_vloss: bool,
    /// Entropy bonus coefficient.
    pub ent_coef: f32,
    /// Value loss coefficient.
    pub vf_coef: f32,
    /// Global gradient-norm clip (over all parameters together).
    pub max_grad_norm: f32,
    /// Stop an update's epochs early past this approximate KL (none: never).
    pub target_kl: Option<f32>,
    /// Hidden layer widths of the actor and critic MLPs.
    pub hidden: Vec<usize>,
    /// The Gaussian heads' log-std at the start of training (0: std 1).
    /// A task whose every wrong move ends the episode (a hand dropping its
    /// object) learns sooner from a quieter start.
    pub init_log_std: f32,
    /// The critic reads the task's privileged state ([`tactile_env::Info::state`]:
    /// the object's pose, velocity, mass) beside the observation: an
    /// asymmetric actor-critic. The actor, and so every saved or exported
    /// policy, reads the observation alone. Needs a task with a state.
    pub privileged_critic: bool,
    /// Normalise observations with running statistics (saved with the policy).
    pub norm_obs: bool,
    /// Scale rewards by the running spread of the discounted return.
    pub norm_reward: bool,
    /// Clip normalised observations and rewards to +- this.
    pub clip_norm: f32,
    /// Seed of the envs, the network and every draw.
    pub seed: u64,
    /// A CNN for the 2-D grid of the observation (none: the MLPs take the
    /// whole flat observation).
    pub cnn: Option<CnnConfig>,
    /// Show the network the grid centred on the agent's own cell (the one
    /// with the grid's highest code), cells beyond the edge as a code of
    /// their own: what the agent sees around itself then looks the same
    /// wherever it is. Needs `cnn` and a square grid of codes.
    pub egocentric: bool,
    /// TANDEM co-training: a discriminator fills one action (none: PPO
    /// learns every action, the All-in-one baseline).
    pub tandem: Option<TandemConfig>,
    /// Evaluate by sampling the policy's actions (seeded) rather than
    /// taking the most likely ones: for tasks where a deterministic policy
    /// can repeat a blocked move for ever (an explorer whose grid stops
    /// changing). `tactile eval` follows it unless told otherwise.
    pub eval_stochastic: bool,
    /// An exploration bonus paid to the learner (not counted in the
    /// reported returns) for each unit an info fact grows by in a step.
    pub bonus: Option<FactBonus>,
}

/// An exploration bonus from an info fact (Explore-v0: `contact_cells`,
/// so that finding new contact pays at once).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactBonus {
    /// The fact's name.
    pub fact: String,
    /// Reward per unit of growth.
    pub per_unit: f32,
}

impl Default for PpoConfig {
    fn default() -> Self {
        PpoConfig {
            total_steps: 1_000_000,
            num_envs: 1,
            threads: 1,
            num_steps: 2048,
            learning_rate: 3e-4,
            anneal_lr: true,
            gamma: 0.99,
            gae_lambda: 0.95,
            num_minibatches: 32,
            update_epochs: 10,
            norm_adv: true,
            clip_coef: 0.2,
            clip_vloss: true,
            ent_coef: 0.0,
            vf_coef: 0.5,
            max_grad_norm: 0.5,
            target_kl: None,
            hidden: vec![64, 64],
            init_log_std: 0.0,
            privileged_critic: false,
            norm_obs: true,
            norm_reward: true,
            clip_norm: 10.0,
            seed: 1,
            cnn: None,
            egocentric: false,
            tandem: None,
            eval_stochastic: false,
            bonus: None,
        }
    }
}

/// The algorithm a config trains with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algo {
    /// PPO learns every action.
    Ppo,
    /// PPO learns the moves, a co-trained discriminator declares.
    Tandem,
}

impl Algo {
    /// Its name on the command line and in run folders.
    pub fn as_str(self) -> &'static str {
        match self {
            Algo::Ppo => "ppo",
            Algo::Tandem => "tandem",
        }
    }
}

/// What a user sets on top of a task's defaults: a TOML file of
/// hyperparameters, then single values (the command line's flags).
#[derive(Clone, Debug, Default)]
pub struct Overrides<'a> {
    /// A TOML file whose keys override the hyperparameters.
    pub file: Option<&'a Path>,
    /// `ppo` or `tandem`.
    pub algo: Option<&'a str>,
    /// Env steps to train for.
    pub total_steps: Option<u64>,
    /// Parallel envs.
    pub num_envs: Option<usize>,
    /// Threads that step the envs.
    pub threads: Option<usize>,
    /// The seed.
    pub seed: Option<u64>,
    /// The task's large-batch configuration (`envs/<id>.gpu.ppo.toml`)
    /// on top of its defaults, under the user's file.
    pub large_batch: bool,
}

impl PpoConfig {
    /// The defaults for a task: [`PpoConfig::default`] with the keys of
    /// `envs/<id>.ppo.toml` on top.
    pub fn for_task(env_id: &str) -> Result<Self, RlError> {
        Self::load(env_id, None)
    }

    /// The task's defaults with the keys of a user's TOML file on top,
    /// table by table (a user's `[tandem]` with one key keeps the others).
    /// An unknown key or a wrong type names the user's file, line and
    /// column.
    pub fn load(env_id: &str, user: Option<&Path>) -> Result<Self, RlError> {
        let spec = tactile_env::spec(env_id)?;
        Ok(tactile_env::load_config(spec.ppo_toml, &format!("envs/{env_id}.ppo.toml"), user)?)
    }

    /// The task's large-batch configuration for a many-core machine with a
    /// GPU: its defaults with `envs/<id>.gpu.ppo.toml` on top (rollouts of
    /// 32,768 samples or more stepped on every core, minibatches of
    /// thousands, wider networks), then a user's file.
    pub fn load_large_batch(env_id: &str, user: Option<&Path>) -> Result<Self, RlError> {
        let spec = tactile_env::spec(env_id)?;
        let (base, large) = (format!("envs/{env_id}.ppo.toml"), format!("envs/{env_id}.gpu.ppo.toml"));
        Ok(tactile_env::load_config_layers(&[(spec.ppo_toml, &base), (spec.gpu_ppo_toml, &large)], user)?)
    }

    /// This config with the keys of a user's TOML file on top, table by
    /// table.
    pub fn merged_with(&self, user: &Path) -> Result<Self, RlError> {
        let table = toml::Table::try_from(self)
            .map_err(|e| RlError::ConfigFile { path: user.display().to_string(), message: e.to_string() })?;
        Ok(tactile_env::load_config_over(table, "the run's config", Some(user))?)
    }

    /// The config of a new run of `env_id`: its defaults, the user's file,
    /// the flags, checked; and the algorithm (TANDEM where the config has a
    /// `[tandem]` section and `ppo` is not asked for: that is the
    /// All-in-one baseline).
    pub fn for_new_run(env_id: &str, overrides: &Overrides<'_>) -> Result<(Self, Algo), RlError> {
        let mut c = if overrides.large_batch {
            Self::load_large_batch(env_id, overrides.file)?
        } else {
            Self::load(env_id, overrides.file)?
        };
        c.apply(overrides);
        let algo = c.apply_algo(overrides.algo, env_id)?;
        c.validate()?;
        let batch = c.rollout_steps();
        if c.total_steps < batch {
            return Err(RlError::TooFewSteps { steps: c.total_steps, num_envs: c.num_envs, num_steps: c.num_steps });
        }
        Ok((c, algo))
    }

    /// Env steps in one rollout (`num_envs x num_steps`): training runs in
    /// whole rollouts.
    pub fn rollout_steps(&self) -> u64 {
        (self.num_envs * self.num_steps) as u64
    }

    /// The env steps a run of `total_steps` takes: whole rollouts, so
    /// `total_steps` rounded up to the next multiple of
    /// [`PpoConfig::rollout_steps`].
    pub fn steps_trained(&self) -> u64 {
        self.total_steps.div_ceil(self.rollout_steps().max(1)) * self.rollout_steps()
    }

    /// The single values of `overrides` on top.
    pub fn apply(&mut self, overrides: &Overrides<'_>) {
        if let Some(s) = overrides.total_steps {
            self.total_steps = s;
        }
        if let Some(n) = overrides.num_envs {
            self.num_envs = n;
        }
        if let Some(k) = overrides.threads {
            self.threads = k;
        }
        if let Some(s) = overrides.seed {
            self.seed = s;
        }
    }

    fn apply_algo(&mut self, algo: Option<&str>, env_id: &str) -> Result<Algo, RlError> {
        let bad = |message: String| Err(RlError::ConfigFile { path: format!("envs/{env_id}.ppo.toml"), message });
        match algo {
            None if self.tandem.is_some() => Ok(Algo::Tandem),
            None | Some("ppo") => {
                self.tandem = None;
                Ok(Algo::Ppo)
            }
            Some("tandem") if self.tandem.is_some() => Ok(Algo::Tandem),
            Some("tandem") => bad("no [tandem] section: TANDEM needs a task to classify".into()),
            Some(other) => Err(RlError::UnknownAlgo(other.to_owned())),
        }
    }

    /// The algorithm this config trains with.
    pub fn algo(&self) -> Algo {
        if self.tandem.is_some() { Algo::Tandem } else { Algo::Ppo }
    }

    /// The fields (TOML keys) in which two configs differ, the length of
    /// the run and the threads aside (what a resumed run may change).
    pub fn differences(&self, other: &PpoConfig) -> Vec<String> {
        let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
            (serde_json::to_value(self), serde_json::to_value(other))
        else {
            return vec!["config".into()];
        };
        a.keys()
            .chain(b.keys())
            .filter(|k| *k != "total_steps" && *k != "threads" && a.get(*k) != b.get(*k))
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// Checks the values.
    pub fn validate(&self) -> Result<(), RlError> {
        let bad = |field: &'static str, reason: &'static str| Err(RlError::Config { field, reason });
        if self.num_envs == 0 || self.num_steps == 0 {
            return bad("num_envs, num_steps", "must be at least 1");
        }
        if self.num_minibatches == 0 || self.num_minibatches > self.num_envs * self.num_steps {
            return bad("num_minibatches", "must be between 1 and num_envs x num_steps");
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return bad("learning_rate", "must be > 0");
        }
        if !((0.0..=1.0).contains(&self.gamma) && (0.0..=1.0).contains(&self.gae_lambda)) {
            return bad("gamma, gae_lambda", "must be in [0, 1]");
        }
        if self.hidden.is_empty() || self.hidden.contains(&0) {
            return bad("hidden", "needs at least one layer, each at least 1 wide");
        }
        if !(-5.0..=2.0).contains(&self.init_log_std) {
            return bad("init_log_std", "must be in [-5, 2] (std 0.007 to 7.4)");
        }
        if (self.tandem.is_some() || self.egocentric) && self.cnn.is_none() {
            return bad("tandem, egocentric", "need a [cnn] section (a grid for the network)");
        }
        if self.tandem.as_ref().is_some_and(|t| t.calibration_envs > 0 && t.calibration_envs >= self.num_envs) {
            return bad("tandem.calibration_envs", "must leave at least one of num_envs to train the discriminator");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_task_has_a_large_batch_configuration_on_top_of_its_defaults() {
        for spec in tactile_env::registry() {
            let (base, large) =
                (PpoConfig::for_task(spec.id).unwrap(), PpoConfig::load_large_batch(spec.id, None).unwrap());
            large.validate().unwrap();
            let minibatch = large.rollout_steps() / large.num_minibatches as u64;
            assert!(large.rollout_steps() >= 32_768 && minibatch >= 4_096, "{}: {large:?}", spec.id);
            assert!(large.threads == 0 && large.hidden.iter().all(|&h| h >= 128), "{}: {large:?}", spec.id);
            // Everything the large file does not name stays the task's.
            assert_eq!((large.gamma, large.learning_rate, &large.cnn), (base.gamma, base.learning_rate, &base.cnn));
            let (c, _) = PpoConfig::for_new_run(spec.id, &Overrides { large_batch: true, ..Overrides::default() })
                .unwrap_or_else(|e| panic!("{}: {e}", spec.id));
            assert_eq!(c, large);
        }
        // A user's file goes on top of the large-batch layer.
        let p = user_file("large.toml", "num_envs = 64\n");
        let c = PpoConfig::load_large_batch("Press-v0", Some(&p)).unwrap();
        assert_eq!((c.num_envs, c.num_steps, c.hidden.as_slice()), (64, 128, &[256, 256][..]));
    }

    #[test]
    fn every_task_has_valid_ppo_defaults() {
        for spec in tactile_env::registry() {
            let c = PpoConfig::for_task(spec.id).unwrap();
            c.validate().unwrap();
        }
        let edge = PpoConfig::for_task("EdgeFollow-v0").unwrap();
        assert_eq!((edge.num_envs, edge.num_steps, edge.gamma), (16, 128, 0.95));
        let explore = PpoConfig::for_task("Explore-v0").unwrap();
        assert!(explore.cnn.is_some() && explore.tandem.is_some());
        let e = PpoConfig::for_task("NoSuchTask-v0").unwrap_err().to_string();
        assert!(e.contains("unknown env id `NoSuchTask-v0`"), "{e}");
        // Calibrating on every env would leave none to train on.
        let mut all_held_out = explore.clone();
        all_held_out.tandem.as_mut().unwrap().calibration_envs = explore.num_envs;
        let e = all_held_out.validate().unwrap_err().to_string();
        assert!(e.contains("tandem.calibration_envs") && e.contains("at least one of num_envs"), "{e}");
    }

    fn user_file(name: &str, text: &str) -> std::path::PathBuf {
        let p = std::env::temp_dir().join(format!("tactile-ppo-{}-{name}.toml", std::process::id()));
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn a_user_file_overrides_table_by_table_and_the_flags_go_on_top() {
        let p = user_file("merge", "ent_coef = 0.02\n[tandem]\nthreshold = 0.9\n");
        let defaults = PpoConfig::for_task("Explore-v0").unwrap();
        let overrides = Overrides { file: Some(&p), seed: Some(7), ..Overrides::default() };
        let (c, algo) = PpoConfig::for_new_run("Explore-v0", &overrides).unwrap();
        assert_eq!(algo, Algo::Tandem);
        assert_eq!((c.ent_coef, c.seed), (0.02, 7));
        let (t, d) = (c.tandem.as_ref().unwrap(), defaults.tandem.as_ref().unwrap());
        assert_eq!(t.threshold, 0.9);
        // The rest of [tandem] is the task's.
        assert_eq!((t.buffer_size, &t.cnn, t.polar), (d.buffer_size, &d.cnn, d.polar));
        assert_eq!(c.differences(&defaults), ["ent_coef", "seed", "tandem"]);
        // The same file on top of a config (a resumed run's) does the same.
        let again = defaults.merged_with(&p).unwrap();
        assert_eq!(again.tandem, c.tandem);
    }

    #[test]
    fn a_bad_user_file_names_its_line_and_a_bad_algo_is_refused() {
        let p = user_file("bad", "learning_rate = 1e-3\nlearning_rat = 2\n");
        let e = PpoConfig::load("Press-v0", Some(&p)).unwrap_err().to_string();
        assert!(e.contains(&format!("{}:2:", p.display())) && e.contains("learning_rat"), "{e}");
        let tandem = Overrides { algo: Some("tandem"), ..Overrides::default() };
        let e = PpoConfig::for_new_run("Press-v0", &tandem).unwrap_err().to_string();
        assert!(e.contains("no [tandem] section"), "{e}");
        let (c, algo) =
            PpoConfig::for_new_run("Explore-v0", &Overrides { algo: Some("ppo"), ..Overrides::default() }).unwrap();
        assert_eq!((algo, c.tandem.is_none()), (Algo::Ppo, true));
    }
}
