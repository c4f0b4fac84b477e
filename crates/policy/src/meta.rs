//! `meta.json`, the description of a policy folder.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::checksums::{CHECKSUMS_FILE, verify_checksums};
use crate::network_layout::{ActionLayout, CnnConfig, ObsLayout, TandemLayout, turn_average_refusal};
use crate::polar::PolarView;
use crate::posterior::PosteriorMeta;
use crate::{PolicyError, error::io};

/// The `format` of a policy folder's `meta.json`.
pub const POLICY_FORMAT: &str = "tactile-policy";
/// The version of that format this build writes (it reads 1 and 2).
/// Version 2 added `checksums.json`.
pub const POLICY_FORMAT_VERSION: u32 = 2;

/// Running statistics of the observation (Gymnasium's `RunningMeanStd`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NormStats {
    /// Mean per flat dimension.
    pub mean: Vec<f64>,
    /// Variance per flat dimension.
    pub var: Vec<f64>,
    /// Number of observations behind them.
    pub count: f64,
}

/// Observation normalisation as the policy applies it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObsNorm {
    /// The flat ranges `[start, end)` that are normalised.
    pub ranges: Vec<[usize; 2]>,
    /// Running statistics over the whole flat observation.
    pub stats: NormStats,
    /// Normalised values are clipped to +- this.
    pub clip: f32,
}

/// The network's architecture.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkMeta {
    /// Hidden widths of the actor and the critic MLP (tanh).
    pub hidden: Vec<usize>,
    /// The CNN over the observation's grid, if any (ReLU).
    pub cnn: Option<CnnConfig>,
    /// Which dimensions are vectors and which the grid (as the network
    /// sees it).
    pub obs_layout: ObsLayout,
    /// The grid is re-centred on the agent before the network:
    /// `(offset, side, agent code)`.
    pub egocentric: Option<(usize, usize, f32)>,
    /// The action heads the actor outputs, in order.
    pub action_layout: ActionLayout,
    /// Privileged state values the critic read in training (an asymmetric
    /// actor-critic; absent: 0). The actor never reads them: acting needs
    /// the observation alone.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub critic_state_dim: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The TANDEM discriminator's place and shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiscriminatorMeta {
    /// Where it reads and what it fills.
    pub layout: TandemLayout,
    /// Declare once the top class probability reaches this.
    pub threshold: f32,
    /// Its CNN.
    pub cnn: CnnConfig,
    /// It reads the grid in polar form (its convolutions wrap around the
    /// angle, its features are the maximum over all angles); absent: the
    /// grid as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polar: Option<PolarView>,
    /// Its probabilities are `softmax(logits / temperature)` (a
    /// calibration fitted in training; absent: 1).
    #[serde(default = "unit_temperature", skip_serializing_if = "is_unit")]
    pub temperature: f32,
    /// Its probabilities are the mean of those of the grid's four quarter
    /// turns about its centre (a square grid read as it is); absent: the
    /// grid's own.
    #[serde(default, skip_serializing_if = "is_false")]
    pub turn_average: bool,
    /// The Bayes posterior over the task's known objects, which declares
    /// in the CNN's place where present (with its own threshold); the CNN
    /// stays the one the explorer was co-trained with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posterior: Option<PosteriorMeta>,
}

impl DiscriminatorMeta {
    /// The top probability at which the policy declares: the posterior's
    /// where it declares, else the CNN's.
    pub fn declaring_threshold(&self) -> f32 {
        self.posterior.as_ref().map_or(self.threshold, |p| p.threshold)
    }

    /// Sets the threshold of whichever discriminator declares.
    pub fn set_declaring_threshold(&mut self, threshold: f32) {
        match self.posterior.as_mut() {
            Some(p) => p.threshold = threshold,
            None => self.threshold = threshold,
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn unit_temperature() -> f32 {
    1.0
}

fn is_unit(t: &f32) -> bool {
    *t == 1.0
}

/// Where a taxel array's readings sit in the observation, and where its
/// taxels sit on the pad (what a calibration maps a real sensor onto).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaxelSlot {
    /// The sensor's name in the task's scene.
    pub sensor: String,
    /// First flat observation index of its readings.
    pub obs_offset: usize,
    /// Number of readings (one per taxel).
    pub count: usize,
    /// What a reading measures, with its unit (`normal_force_n`).
    pub quantity: String,
    /// Observation value per unit of that quantity (the task's scaling).
    pub obs_per_unit: f32,
    /// Taxel centres in the pad collider's frame (m), in reading order.
    pub positions_m: Vec<[f32; 3]>,
}

/// A policy folder's `meta.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyMeta {
    /// Always [`POLICY_FORMAT`].
    pub format: String,
    /// [`POLICY_FORMAT_VERSION`] when written.
    pub format_version: u32,
    /// The task id, with its version.
    pub env_id: String,
    /// `ppo` or `tandem`.
    pub algo: String,
    /// The tactile version that trained it.
    pub tactile_version: String,
    /// The git commit of that build (`unknown` outside a checkout).
    pub commit: String,
    /// The observation space, as tactile-env describes it.
    pub observation_space: String,
    /// The action space, likewise.
    pub action_space: String,
    /// Observation normalisation (none: raw observations).
    pub obs_norm: Option<ObsNorm>,
    /// The network.
    pub network: NetworkMeta,
    /// The discriminator under TANDEM.
    pub discriminator: Option<DiscriminatorMeta>,
    /// Clipping of each flat env action value, `[low, high]` (`null`:
    /// unbounded); empty in folders written before it was recorded.
    #[serde(default)]
    pub action_bounds: Vec<[Option<f32>; 2]>,
    /// The taxel arrays in the observation; empty in folders written
    /// before they were recorded.
    #[serde(default)]
    pub taxels: Vec<TaxelSlot>,
    /// Env steps of training behind these weights.
    pub global_step: u64,
    /// The training config (tactile-rl's `PpoConfig`), as written.
    pub training: serde_json::Value,
}

fn bad(path: &Path, message: impl Into<String>) -> PolicyError {
    PolicyError::Meta { path: path.to_owned(), message: message.into() }
}

impl PolicyMeta {
    /// Reads `dir/meta.json`, checking its format and version before
    /// anything else, then that it describes a network that can run.
    pub fn read(dir: &Path) -> Result<Self, PolicyError> {
        if !dir.is_dir() {
            return Err(bad(dir, "not a policy folder (no such folder)"));
        }
        // Every file is checked against its checksum before any is read.
        let listed = verify_checksums(dir)?;
        let path = dir.join("meta.json");
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| bad(&path, format!("not valid JSON: {e}")))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(POLICY_FORMAT) {
            return Err(bad(&path, format!("`format` is not \"{POLICY_FORMAT}\"")));
        }
        let version = value.get("format_version").and_then(|v| v.as_u64());
        if !version.is_some_and(|v| (1..=u64::from(POLICY_FORMAT_VERSION)).contains(&v)) {
            return Err(bad(
                &path,
                format!(
                    "format_version {} is not a version this build reads (1 to {POLICY_FORMAT_VERSION})",
                    version.map_or("missing".into(), |v| v.to_string())
                ),
            ));
        }
        let meta: PolicyMeta = serde_json::from_value(value).map_err(|e| bad(&path, e.to_string()))?;
        if meta.format_version >= 2 {
            // From version 2 on, the weights and the description are
            // covered by checksums.json.
            let listed = listed.unwrap_or_default();
            let mut needed = vec!["meta.json", "model.safetensors"];
            if meta.discriminator.is_some() {
                needed.push("discriminator.safetensors");
            }
            if let Some(missing) = needed.iter().find(|n| !listed.iter().any(|l| l == *n)) {
                return Err(bad(
                    &dir.join(CHECKSUMS_FILE),
                    format!("has no checksum of `{missing}` (missing or incomplete): the folder cannot be trusted"),
                ));
            }
        }
        meta.check(&path)?;
        Ok(meta)
    }

    /// What a user should know about a folder that loaded: a version 1
    /// folder has no checksums, so damage to it goes unseen.
    pub fn warning(&self) -> Option<String> {
        (self.format_version < 2).then(|| {
            "a policy folder of format_version 1 has no checksums, so damage to its files goes unseen; \
             write it again with `tactile export DIR --format policy --out NEW`"
                .to_owned()
        })
    }

    /// Writes `dir/meta.json` (pretty JSON).
    pub fn write(&self, dir: &Path) -> Result<(), PolicyError> {
        let path = dir.join("meta.json");
        let text = serde_json::to_string_pretty(self).map_err(|e| bad(&path, e.to_string()))?;
        std::fs::write(&path, text + "\n").map_err(io(&path))
    }

    /// Flat dimension of the observation the policy reads.
    pub fn obs_dim(&self) -> usize {
        self.network.obs_layout.obs_dim
    }

    /// Flat dimension of the env action it writes (the explorer's and the
    /// discriminator's together).
    pub fn action_dim(&self) -> usize {
        let filled = self.discriminator.as_ref().map_or(0, |d| 1 + usize::from(d.layout.guess_index.is_some()));
        self.network.action_layout.action_dim + filled
    }

    /// Checks that the description is self-consistent (a hand-edited file
    /// must fail here, naming the field, not when acting).
    pub fn check(&self, path: &Path) -> Result<(), PolicyError> {
        let net = &self.network;
        let od = self.obs_dim();
        if !net.obs_layout.fits(od) {
            return Err(bad(path, "network.obs_layout: a part lies outside the observation"));
        }
        let grids = net.obs_layout.grids();
        match (&net.cnn, grids.as_slice()) {
            (None, _) => {}
            (Some(cnn), [(_, h, w, _)]) => {
                cnn.output_size(*h, *w).map_err(|e| bad(path, format!("network.cnn: {e}")))?;
            }
            (Some(_), _) => return Err(bad(path, "network.cnn: needs exactly one grid in network.obs_layout")),
        }
        if let Some((offset, n, _)) = net.egocentric
            && (offset + n * n > od || !grids.iter().any(|&(o, h, w, _)| o == offset && h == n && w == n))
        {
            return Err(bad(path, "network.egocentric: not a square grid of network.obs_layout"));
        }
        if !net.action_layout.is_consistent() || net.action_layout.heads.is_empty() {
            return Err(bad(path, "network.action_layout: its sizes do not add up"));
        }
        if let Some(dm) = &self.discriminator {
            let (offset, h, w, _) = dm.layout.grid;
            if dm.layout.action_index > net.action_layout.action_dim || offset + h * w > od || dm.layout.classes < 2 {
                return Err(bad(path, "discriminator.layout: does not fit the observation and action"));
            }
            if dm.layout.guess_index.is_some_and(|g| g == dm.layout.action_index || g >= self.action_dim()) {
                return Err(bad(path, "discriminator.layout.guess_index: not a free place in the action"));
            }
            if !(dm.temperature.is_finite() && dm.temperature > 0.0) {
                return Err(bad(
                    path,
                    format!("discriminator.temperature: {} is not a positive number", dm.temperature),
                ));
            }
            if let Some(why) = turn_average_refusal(h, w, dm.polar.is_some()).filter(|_| dm.turn_average) {
                return Err(bad(path, format!("discriminator.turn_average: {why}")));
            }
            if let Some(pm) = &dm.posterior {
                if let Some(why) = pm.refusal() {
                    return Err(bad(path, format!("discriminator.posterior.{why}")));
                }
                let side = pm.grid_side();
                if (h, w) != (side, side) || pm.objects_m.len() != dm.layout.classes {
                    return Err(bad(
                        path,
                        format!(
                            "discriminator.posterior: {} objects on a {side} x {side} grid, where the discriminator \
                             reads a {h} x {w} grid and names {} classes",
                            pm.objects_m.len(),
                            dm.layout.classes
                        ),
                    ));
                }
            }
            match &dm.polar {
                Some(polar) => {
                    polar.check(h, w).map_err(|e| bad(path, format!("discriminator.polar: {e}")))?;
                    polar.output_size(&dm.cnn).map_err(|e| bad(path, format!("discriminator.cnn: {e}")))?;
                }
                None => {
                    dm.cnn.output_size(h, w).map_err(|e| bad(path, format!("discriminator.cnn: {e}")))?;
                }
            }
        }
        if let Some(norm) = &self.obs_norm {
            let ok = norm.stats.mean.len() == od
                && norm.stats.var.len() == od
                && norm.ranges.iter().all(|r| r[0] <= r[1] && r[1] <= od)
                && norm.stats.var.iter().all(|v| v.is_finite() && *v >= 0.0)
                && norm.stats.mean.iter().all(|m| m.is_finite());
            if !ok {
                return Err(bad(path, "obs_norm: statistics or ranges do not fit the observation"));
            }
        }
        if !self.action_bounds.is_empty() && self.action_bounds.len() != self.action_dim() {
            return Err(bad(
                path,
                format!("action_bounds: {} entries for {} action values", self.action_bounds.len(), self.action_dim()),
            ));
        }
        for t in &self.taxels {
            if t.obs_offset + t.count > od || t.positions_m.len() != t.count || !t.obs_per_unit.is_finite() {
                return Err(bad(path, format!("taxels: `{}` does not fit the observation", t.sensor)));
            }
        }
        Ok(())
    }
}
