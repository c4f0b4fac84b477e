//! A trained policy as training leaves it: the policy folder (what
//! `tactile eval`, `record` and `export` read), and the burn networks that
//! act from it.
//!
//! ## The policy folder
//! - `meta.json` ([`PolicyMeta`]): format and version, env id, the tactile
//!   version and commit, the observation and action spaces, which
//!   observation dimensions are normalised and their statistics, the
//!   network's architecture, the TANDEM discriminator if any, and the
//!   training config;
//! - `model.safetensors`: the actor-critic's weights by module path;
//! - `discriminator.safetensors`: the discriminator's, under TANDEM;
//! - `checksums.json`: the CRC-32C of each file above (tactile-policy checks
//!   them before reading any).
//!
//! A folder is written into a hidden sibling and renamed into place, so a
//! crash leaves the whole folder or none.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use burn::module::Module;
use burn::tensor::Device;
use rand::SeedableRng;
use rand::rngs::StdRng;
use tactile_env::{Env, Space};

use tactile_policy::{
    DiscriminatorMeta, Evidence, NetworkMeta, NormStats, ObsNorm, POLICY_FORMAT, POLICY_FORMAT_VERSION, PolicyMeta,
    PosteriorMeta, ShapePosterior, TaxelSlot, egocentric, normalize,
};

use crate::RlError;
use crate::network::{ActorCritic, action_layout, sample, tensor2, to_vec};
use crate::ppo::Ppo;
use crate::ppo::plumbing::clip_to_space;
use crate::tandem::{
    Discriminator, DiscriminatorKind, PosteriorConfig, declare_and_guess, declare_from, guess_from, posterior_meta,
};
use crate::weights::{load_module, save_module};

/// Grids per discriminator call in [`TrainedPolicy::grid_class_probabilities`]
/// (a 60 x 60 grid batch of this size is 29 MB).
const GRID_BATCH: usize = 2048;

/// A trained policy ready to act: deterministic actions (Gaussian means,
/// most likely choices), the discriminator filling its action.
pub struct TrainedPolicy {
    /// What the policy is.
    pub meta: PolicyMeta,
    model: ActorCritic,
    discriminator: Option<Discriminator>,
    /// The Bayes posterior that declares in the CNN's place (the meta's
    /// `discriminator.posterior`), with each batch row's evidence.
    posterior: Option<Posterior>,
    act_space: Space,
    obs_dim: usize,
    ranges: Vec<std::ops::Range<usize>>,
    device: Device,
}

/// A posterior discriminator and the evidence of each batch row (an
/// episode per row, as `tactile eval` runs them).
struct Posterior {
    model: ShapePosterior,
    evidence: std::sync::Mutex<Vec<Evidence>>,
}

impl Posterior {
    fn new(meta: &PosteriorMeta) -> Result<Self, String> {
        Ok(Self { model: ShapePosterior::new(meta)?, evidence: Default::default() })
    }

    /// Class probabilities (`batch x classes`) of each row's grid, row `i`
    /// read as the next grid of row `i`'s episode; the rows are shared out
    /// over the machine's cores (each row's result does not depend on how).
    fn probabilities(&self, grids: &[&[f32]], out: &mut [f32]) {
        let classes = self.model.objects();
        let mut evidence = self.evidence.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if evidence.len() < grids.len() {
            evidence.resize_with(grids.len(), || self.model.evidence());
        }
        let model = &self.model;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(grids.len()).max(1);
        if threads == 1 {
            for ((ev, grid), p) in evidence.iter_mut().zip(grids).zip(out.chunks_mut(classes)) {
                model.update(ev, grid);
                model.probabilities(ev, p);
            }
            return;
        }
        let chunk = grids.len().div_ceil(threads);
        std::thread::scope(|s| {
            for ((ev, g), p) in evidence.chunks_mut(chunk).zip(grids.chunks(chunk)).zip(out.chunks_mut(chunk * classes))
            {
                s.spawn(move || {
                    for ((ev, grid), p) in ev.iter_mut().zip(g).zip(p.chunks_mut(classes)) {
                        model.update(ev, grid);
                        model.probabilities(ev, p);
                    }
                });
            }
        });
    }
}

fn policy_err(path: &Path, message: impl Into<String>) -> RlError {
    RlError::Policy { path: path.to_owned(), message: message.into() }
}

pub(crate) fn io(path: &Path) -> impl Fn(std::io::Error) -> RlError + '_ {
    move |source| RlError::Io { path: path.to_owned(), source }
}

/// The git commit this crate was built from (`TACTILE_COMMIT` at build
/// time), or `unknown`.
pub fn build_commit() -> &'static str {
    option_env!("TACTILE_COMMIT").unwrap_or("unknown")
}

impl TrainedPolicy {
    /// Deterministic env actions (`batch x act_dim`) for a batch of raw
    /// observations (`batch x obs_dim`): Gaussian means, most likely
    /// choices.
    pub fn act(&self, raw_obs: &[f32], actions: &mut [f32]) {
        self.act_with(raw_obs, actions, None);
    }

    /// Env actions sampled from the policy with `rng`, or deterministic
    /// ones without it (a deterministic explorer can repeat a blocked move
    /// for ever where the grid it sees does not change). Returns the
    /// actor's outputs they were drawn from (as [`TrainedPolicy::actor_outputs`]).
    pub fn act_with(&self, raw_obs: &[f32], actions: &mut [f32], rng: Option<&mut StdRng>) -> Vec<f32> {
        let batch = raw_obs.len() / self.obs_dim.max(1);
        let layout = &self.meta.network.action_layout;
        let out = self.actor_outputs(raw_obs);
        let mut policy_actions = vec![0.0; batch * layout.action_dim];
        let mut logp = vec![0.0; batch];
        let log_std = to_vec(self.model.log_std());
        match rng {
            Some(rng) => sample(layout, &out, &log_std, rng, false, &mut policy_actions, &mut logp),
            None => {
                let mut unused = StdRng::seed_from_u64(0);
                sample(layout, &out, &log_std, &mut unused, true, &mut policy_actions, &mut logp)
            }
        }
        let ead = self.act_space.flat_dim();
        match (&self.discriminator, &self.meta.discriminator) {
            (Some(d), Some(dm)) => {
                let (mut filled, mut guesses) = (vec![0.0; batch], vec![0.0; batch]);
                let (obs_dim, device) = (self.obs_dim, &self.device);
                match &self.posterior {
                    Some(post) => {
                        let classes = dm.layout.classes;
                        let grids: Vec<&[f32]> = raw_obs.chunks(obs_dim).map(|o| dm.layout.grid_of(o)).collect();
                        let mut probs = vec![0.0; batch * classes];
                        post.probabilities(&grids, &mut probs);
                        declare_from(&probs, classes, dm.declaring_threshold(), &mut filled);
                        guess_from(&probs, classes, &mut guesses);
                    }
                    None => declare_and_guess(
                        d,
                        &dm.layout,
                        dm.threshold,
                        raw_obs,
                        obs_dim,
                        device,
                        &mut filled,
                        &mut guesses,
                    ),
                }
                for b in 0..batch {
                    let src = &policy_actions[b * layout.action_dim..(b + 1) * layout.action_dim];
                    dm.layout.env_action(src, filled[b], guesses[b], &mut actions[b * ead..(b + 1) * ead]);
                }
            }
            _ => actions[..batch * ead].copy_from_slice(&policy_actions),
        }
        for row in actions.chunks_mut(ead) {
            clip_to_space(&self.act_space, row);
        }
        out
    }

    /// The actor's raw outputs (Gaussian means and logits, `batch x
    /// output_dim`) for a batch of raw observations.
    pub fn actor_outputs(&self, raw_obs: &[f32]) -> Vec<f32> {
        let batch = raw_obs.len() / self.obs_dim.max(1);
        let mut obs = raw_obs.to_vec();
        if let Some(norm) = &self.meta.obs_norm {
            normalize(&norm.stats.mean, &norm.stats.var, norm.clip, &self.ranges, &mut obs);
        }
        if let Some((offset, n, agent)) = self.meta.network.egocentric {
            let mut scratch = vec![0.0; n * n];
            egocentric(&mut obs, self.obs_dim, (offset, n), agent, &mut scratch);
        }
        to_vec(self.model.actor(tensor2(&obs, batch, self.obs_dim, &self.device)))
    }

    /// Reads the discriminator's probabilities as the mean over the grid's
    /// four quarter turns, or from the grid alone (`false`), as
    /// [`crate::TandemConfig::turn_average`] does in training. Refused for
    /// a policy without a discriminator, or one whose grid cannot turn.
    pub fn set_turn_average(&mut self, turn_average: bool) -> Result<(), RlError> {
        let (Some(d), Some(dm)) = (self.discriminator.as_ref(), self.meta.discriminator.as_mut()) else {
            return Err(RlError::Config { field: "turn_average", reason: "needs a TANDEM policy's discriminator" });
        };
        let d = d.clone().with_turn_average(turn_average)?;
        dm.turn_average = turn_average;
        self.discriminator = Some(d);
        Ok(())
    }

    /// Chooses who declares: the co-trained CNN, or the Bayes posterior
    /// over the task's known objects (the policy's own where its folder
    /// carries one, else one made from the task with `config`'s
    /// settings). Refused for a policy without a discriminator, and the
    /// posterior for a task it cannot read.
    pub fn set_discriminator(&mut self, kind: DiscriminatorKind, config: &PosteriorConfig) -> Result<(), RlError> {
        let Some(dm) = self.meta.discriminator.as_mut() else {
            return Err(RlError::Config { field: "discriminator", reason: "needs a TANDEM policy's discriminator" });
        };
        match kind {
            DiscriminatorKind::Learned => {
                dm.posterior = None;
                self.posterior = None;
            }
            DiscriminatorKind::Posterior if dm.posterior.is_some() => {}
            DiscriminatorKind::Posterior => {
                let pm = posterior_meta(&self.meta.env_id, config)?;
                let refuse = |message| RlError::Posterior { env_id: self.meta.env_id.clone(), message };
                let (h, w, side) = (dm.layout.grid.1, dm.layout.grid.2, pm.grid_side());
                if (h, w) != (side, side) || pm.objects_m.len() != dm.layout.classes {
                    return Err(refuse(format!(
                        "the discriminator reads a {h} x {w} grid; the task's is {side} x {side}"
                    )));
                }
                self.posterior = Some(Posterior::new(&pm).map_err(refuse)?);
                dm.posterior = Some(pm);
            }
        }
        Ok(())
    }

    /// The discriminator's class probabilities (`batch x classes`) for a
    /// batch of raw observations, under TANDEM (the posterior's where it
    /// declares, row `i` read as the next grid of row `i`'s episode).
    pub fn class_probabilities(&self, raw_obs: &[f32]) -> Option<Vec<f32>> {
        let (d, dm) = (self.discriminator.as_ref()?, self.meta.discriminator.as_ref()?);
        let batch = raw_obs.len() / self.obs_dim.max(1);
        let mut probs = vec![0.0; batch * dm.layout.classes];
        if let Some(post) = &self.posterior {
            let grids: Vec<&[f32]> = raw_obs.chunks(self.obs_dim).map(|o| dm.layout.grid_of(o)).collect();
            post.probabilities(&grids, &mut probs);
            return Some(probs);
        }
        crate::tandem::probabilities(d, &dm.layout, raw_obs, self.obs_dim, &self.device, &mut probs);
        Some(probs)
    }

    /// The discriminator's class probabilities (`batch x classes`) for a
    /// batch of bare grids (`batch x height * width` codes), under TANDEM;
    /// run in batches of at most `GRID_BATCH` grids.
    pub fn grid_class_probabilities(&self, grids: &[f32]) -> Option<Vec<f32>> {
        let (d, dm) = (self.discriminator.as_ref()?, self.meta.discriminator.as_ref()?);
        let (_, h, w, _) = dm.layout.grid;
        let (cells, classes) = ((h * w).max(1), dm.layout.classes);
        let mut probs = vec![0.0; grids.len() / cells * classes];
        for (g, p) in grids.chunks(GRID_BATCH * cells).zip(probs.chunks_mut(GRID_BATCH * classes)) {
            crate::tandem::grid_probabilities(d, &dm.layout, g, &self.device, p);
        }
        Some(probs)
    }

    /// The env's action space.
    pub fn action_space(&self) -> &Space {
        &self.act_space
    }

    /// Writes the policy files into `dir` (which must exist).
    pub(crate) fn write_files(&self, dir: &Path) -> Result<(), RlError> {
        let meta_path = dir.join("meta.json");
        let text = serde_json::to_string_pretty(&self.meta).map_err(|e| policy_err(&meta_path, e.to_string()))?;
        fs::write(&meta_path, text + "\n").map_err(io(&meta_path))?;
        let tags = BTreeMap::from([("format".to_string(), POLICY_FORMAT.to_string())]);
        save_module(&self.model, &tags, &dir.join("model.safetensors"))?;
        let mut files = vec!["meta.json", "model.safetensors"];
        if let Some(d) = &self.discriminator {
            save_module(d, &tags, &dir.join("discriminator.safetensors"))?;
            files.push("discriminator.safetensors");
        }
        Ok(tactile_policy::write_checksums(dir, files)?)
    }

    /// Writes the policy folder `dir` atomically: into a hidden sibling
    /// first, then renamed into place (an older folder there is replaced).
    pub fn save(&self, dir: &Path) -> Result<(), RlError> {
        write_atomically(dir, |tmp| self.write_files(tmp))
    }

    /// Reads a policy folder, checking its format, its version, that the
    /// env still has the spaces it was trained on, and every weight.
    pub fn load(dir: &Path) -> Result<Self, RlError> {
        let meta = PolicyMeta::read(dir)?;
        TrainedPolicy::from_meta(meta, dir, |model, disc| {
            let model = load_module(model, &dir.join("model.safetensors"))?;
            let disc = match disc {
                Some(d) => Some(load_module(d, &dir.join("discriminator.safetensors"))?),
                None => None,
            };
            Ok((model, disc))
        })
    }

    /// Builds the networks `meta` describes (on the CPU) and lets `fill`
    /// give them their weights.
    fn from_meta(
        meta: PolicyMeta,
        dir: &Path,
        fill: impl FnOnce(ActorCritic, Option<Discriminator>) -> Result<(ActorCritic, Option<Discriminator>), RlError>,
    ) -> Result<Self, RlError> {
        let meta_path = dir.join("meta.json");
        let env = tactile_env::make(&meta.env_id, None)
            .map_err(|e| policy_err(&meta_path, format!("env_id `{}`: {e}", meta.env_id)))?;
        let (obs_space, act_space) = (env.observation_space().clone(), env.action_space().clone());
        for (field, saved, now) in [
            ("observation_space", &meta.observation_space, obs_space.describe()),
            ("action_space", &meta.action_space, act_space.describe()),
        ] {
            if *saved != now {
                return Err(policy_err(
                    &meta_path,
                    format!("{field} `{saved}` is not {}'s ({now}): trained on another version", meta.env_id),
                ));
            }
        }
        let device = Device::flex();
        let net = &meta.network;
        // A hand-edited meta.json must fail here, not panic when acting.
        let od = obs_space.flat_dim();
        let ego_fits = net.egocentric.is_none_or(|(offset, n, _)| offset + n * n <= od);
        let parts_fit = net.obs_layout.parts.iter().all(|p| match *p {
            crate::ObsPart::Vector { offset, dim } => offset + dim <= od,
            crate::ObsPart::Grid { offset, height, width, .. } => offset + height * width <= od,
        });
        let ead = act_space.flat_dim();
        let actions_fit = match &meta.discriminator {
            Some(dm) => {
                let (offset, h, w, _) = dm.layout.grid;
                let filled = 1 + usize::from(dm.layout.guess_index.is_some());
                dm.layout.action_index < ead
                    && dm.layout.guess_index.is_none_or(|g| g < ead && g != dm.layout.action_index)
                    && net.action_layout.action_dim + filled == ead
                    && offset + h * w <= od
                    && dm.layout.classes > 0
            }
            None => net.action_layout == action_layout(&act_space),
        };
        if !actions_fit {
            return Err(policy_err(
                &meta_path,
                "network.action_layout or discriminator does not match the action space",
            ));
        }
        if net.obs_layout.obs_dim != od || !ego_fits || !parts_fit {
            return Err(policy_err(&meta_path, "network.obs_layout does not match the observation space"));
        }
        let model = ActorCritic::new(
            &net.obs_layout,
            &net.action_layout,
            &net.hidden,
            net.cnn.as_ref(),
            0.0,
            net.critic_state_dim,
            0,
            &device,
        )
        .map_err(|e| policy_err(&meta_path, format!("network: {e}")))?;
        let disc = match &meta.discriminator {
            Some(dm) => {
                let (_, h, w, levels) = dm.layout.grid;
                let mut rng = StdRng::seed_from_u64(0);
                Some(
                    Discriminator::new(h, w, levels, dm.layout.classes, &dm.cnn, dm.polar, &mut rng, &device)
                        .map_err(|e| policy_err(&meta_path, format!("discriminator: {e}")))?
                        .with_temperature(dm.temperature)
                        .with_turn_average(dm.turn_average)
                        .map_err(|e| policy_err(&meta_path, format!("discriminator: {e}")))?,
                )
            }
            None => None,
        };
        let (model, discriminator) = fill(model, disc)?;
        let posterior = match meta.discriminator.as_ref().and_then(|dm| dm.posterior.as_ref()) {
            Some(pm) => {
                Some(Posterior::new(pm).map_err(|e| policy_err(&meta_path, format!("discriminator.posterior.{e}")))?)
            }
            None => None,
        };
        let ranges = meta.obs_norm.as_ref().map_or(Vec::new(), |n| n.ranges.iter().map(|r| r[0]..r[1]).collect());
        if ranges.iter().any(|r| r.start > r.end || r.end > obs_space.flat_dim())
            || meta.obs_norm.as_ref().is_some_and(|n| n.stats.mean.len() != obs_space.flat_dim())
        {
            return Err(policy_err(&meta_path, "obs_norm does not match the observation space"));
        }
        Ok(TrainedPolicy {
            obs_dim: obs_space.flat_dim(),
            meta,
            model,
            discriminator,
            posterior,
            act_space,
            ranges,
            device,
        })
    }
}

/// Writes a folder through `write` into a hidden sibling, then renames it
/// into place (replacing an older folder of that name).
pub(crate) fn write_atomically(dir: &Path, write: impl FnOnce(&Path) -> Result<(), RlError>) -> Result<(), RlError> {
    let parent = dir.parent().unwrap_or(Path::new("."));
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("policy");
    fs::create_dir_all(parent).map_err(io(parent))?;
    let tmp = parent.join(format!(".{name}.partial"));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    write(&tmp)?;
    for entry in fs::read_dir(&tmp).map_err(io(&tmp))? {
        let path = entry.map_err(io(&tmp))?.path();
        fs::File::open(&path).and_then(|f| f.sync_all()).map_err(io(&path))?;
    }
    let old = parent.join(format!(".{name}.old"));
    if dir.exists() {
        if old.exists() {
            fs::remove_dir_all(&old).map_err(io(&old))?;
        }
        fs::rename(dir, &old).map_err(io(dir))?;
    }
    fs::rename(&tmp, dir).map_err(io(dir))?;
    if old.exists() {
        fs::remove_dir_all(&old).map_err(io(&old))?;
    }
    Ok(())
}

impl Ppo {
    /// The policy as it stands, for `env_id` (whose spaces this learner
    /// was made for).
    pub fn policy(&self, env_id: &str) -> Result<TrainedPolicy, RlError> {
        let env = tactile_env::make(env_id, None)?;
        let meta = self.meta(env_id, &env);
        let act_space = env.action_space().clone();
        let mut policy = TrainedPolicy {
            obs_dim: env.observation_space().flat_dim(),
            ranges: self.norm_ranges().to_vec(),
            model: self.model.valid(),
            discriminator: self.tandem().map(|t| t.model.valid()),
            posterior: None,
            act_space,
            meta,
            device: self.inference_device(),
        };
        if let Some(t) = self.tandem().filter(|t| t.config.discriminator == DiscriminatorKind::Posterior) {
            policy.set_discriminator(DiscriminatorKind::Posterior, &t.config.posterior)?;
        }
        Ok(policy)
    }

    fn meta(&self, env_id: &str, env: &dyn Env) -> PolicyMeta {
        let (obs_space, act_space) = (env.observation_space(), env.action_space());
        PolicyMeta {
            format: POLICY_FORMAT.into(),
            format_version: POLICY_FORMAT_VERSION,
            env_id: env_id.into(),
            algo: self.config.algo().as_str().into(),
            tactile_version: env!("CARGO_PKG_VERSION").into(),
            commit: build_commit().into(),
            observation_space: obs_space.describe(),
            action_space: act_space.describe(),
            obs_norm: self.config.norm_obs.then(|| ObsNorm {
                ranges: self.norm_ranges().iter().map(|r| [r.start, r.end]).collect(),
                stats: NormStats {
                    mean: self.obs_rms.mean.clone(),
                    var: self.obs_rms.var.clone(),
                    count: self.obs_rms.count,
                },
                clip: self.config.clip_norm,
            }),
            network: NetworkMeta {
                hidden: self.config.hidden.clone(),
                cnn: self.config.cnn.clone(),
                obs_layout: self.obs_layout.clone(),
                egocentric: self.egocentric_grid(),
                action_layout: self.layout.clone(),
                critic_state_dim: self.model.state_dim(),
            },
            discriminator: self.tandem().map(|t| DiscriminatorMeta {
                layout: t.layout.clone(),
                threshold: t.config.threshold,
                cnn: t.config.cnn.clone(),
                polar: t.config.polar,
                temperature: t.model.temperature(),
                turn_average: t.model.turn_average(),
                posterior: None,
            }),
            action_bounds: action_bounds(act_space),
            taxels: taxel_slots(env),
            global_step: self.global_step,
            training: serde_json::to_value(&self.config).unwrap_or_default(),
        }
    }
}

/// The clipping of each flat value of an action space: a Box's bounds
/// (`None` where infinite), `[0, n - 1]` for a choice among `n`.
pub fn action_bounds(space: &Space) -> Vec<[Option<f32>; 2]> {
    let finite = |v: f32| v.is_finite().then_some(v);
    match space {
        Space::Box { low, high, .. } => low.iter().zip(high).map(|(&l, &h)| [finite(l), finite(h)]).collect(),
        Space::Discrete { n } => vec![[Some(0.0), Some(n.saturating_sub(1) as f32)]],
        Space::MultiDiscrete { nvec } => nvec.iter().map(|n| [Some(0.0), Some(n.saturating_sub(1) as f32)]).collect(),
        Space::Dict(entries) => entries.iter().flat_map(|(_, s)| action_bounds(s)).collect(),
    }
}

/// The taxel arrays of an env's observation, as a policy folder records
/// them.
pub fn taxel_slots(env: &dyn Env) -> Vec<TaxelSlot> {
    env.taxel_slots()
        .into_iter()
        .map(|t| TaxelSlot {
            sensor: t.sensor,
            obs_offset: t.obs_offset,
            count: t.count,
            quantity: t.quantity.into(),
            obs_per_unit: t.obs_per_unit,
            positions_m: t.positions_m,
        })
        .collect()
}
