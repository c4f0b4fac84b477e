//! The runtime: a policy folder's network in plain Rust, with every buffer
//! allocated when it is loaded.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::meta::{DiscriminatorMeta, PolicyMeta};
use crate::network_layout::{CnnConfig, add_softmax, declare_from, egocentric, guess_from, normalize, quarter_turns};
use crate::polar::PolarView;
use crate::posterior::{Evidence, ShapePosterior};
use crate::safetensors::{Tensors, read, take};
use crate::{Calibration, PolicyError};

/// A linear layer `y = x W + b`, `W` stored `[input, output]` row-major
/// (burn's layout).
#[derive(Clone, Debug)]
pub(crate) struct Dense {
    pub(crate) w: Vec<f32>,
    pub(crate) b: Vec<f32>,
    pub(crate) input: usize,
    pub(crate) output: usize,
}

impl Dense {
    fn load(t: &mut Tensors, name: &str, input: usize, output: usize, path: &Path) -> Result<Self, PolicyError> {
        let w = take(t, &format!("{name}.weight"), &[input, output], path)?;
        let b = take(t, &format!("{name}.bias"), &[output], path)?;
        Ok(Dense { w, b, input, output })
    }

    fn forward(&self, x: &[f32], y: &mut [f32]) {
        y[..self.output].copy_from_slice(&self.b);
        for (i, &xi) in x[..self.input].iter().enumerate() {
            let row = &self.w[i * self.output..(i + 1) * self.output];
            for (yj, &wij) in y[..self.output].iter_mut().zip(row) {
                *yj += xi * wij;
            }
        }
    }
}

/// A valid-padding 2-D convolution, weight `[out, in, k, k]` (burn's
/// layout), then ReLU.
#[derive(Clone, Debug)]
pub(crate) struct Conv {
    pub(crate) w: Vec<f32>,
    pub(crate) b: Vec<f32>,
    pub(crate) c_in: usize,
    pub(crate) c_out: usize,
    pub(crate) k: usize,
    pub(crate) stride: usize,
    pub(crate) in_hw: (usize, usize),
    pub(crate) out_hw: (usize, usize),
}

impl Conv {
    fn forward_relu(&self, x: &[f32], y: &mut [f32]) {
        let ((h, w), (oh, ow), k, s) = (self.in_hw, self.out_hw, self.k, self.stride);
        for o in 0..self.c_out {
            let out = &mut y[o * oh * ow..(o + 1) * oh * ow];
            out.fill(self.b[o]);
            for i in 0..self.c_in {
                let plane = &x[i * h * w..(i + 1) * h * w];
                let kernel = &self.w[(o * self.c_in + i) * k * k..(o * self.c_in + i + 1) * k * k];
                for r in 0..oh {
                    for c in 0..ow {
                        let mut acc = 0.0;
                        for kr in 0..k {
                            let src = &plane[(r * s + kr) * w + c * s..(r * s + kr) * w + c * s + k];
                            let ker = &kernel[kr * k..(kr + 1) * k];
                            acc += src.iter().zip(ker).map(|(a, b)| a * b).sum::<f32>();
                        }
                        out[r * ow + c] += acc;
                    }
                }
            }
            out.iter_mut().for_each(|v| *v = v.max(0.0));
        }
    }
}

/// The CNN encoder over one grid: image (one-hot codes or one raw
/// channel), convolutions with ReLU, a linear layer with ReLU.
#[derive(Clone, Debug)]
pub(crate) struct Cnn {
    pub(crate) height: usize,
    pub(crate) width: usize,
    pub(crate) levels: usize,
    pub(crate) convs: Vec<Conv>,
    pub(crate) linear: Dense,
    /// The polar view it reads the grid in, if any.
    pub(crate) polar: Option<Polar>,
    a: Vec<f32>,
    b: Vec<f32>,
}

/// A CNN's polar view: each cell's bin, and buffers for the input wrapped
/// around the angle and for the maximum over the angles.
#[derive(Clone, Debug)]
pub(crate) struct Polar {
    pub(crate) view: PolarView,
    pub(crate) bins: Vec<u32>,
    wrapped: Vec<f32>,
    pooled: Vec<f32>,
}

impl Cnn {
    fn load(
        t: &mut Tensors,
        prefix: &str,
        (height, width, levels): (usize, usize, usize),
        config: &CnnConfig,
        polar: Option<PolarView>,
        path: &Path,
    ) -> Result<Self, PolicyError> {
        // The picture the convolutions read, and how far each wraps.
        let (mut h, mut w) = polar.map_or((height, width), |v| (v.angles, v.rings));
        let wrap = |k: usize| if polar.is_some() { k / 2 } else { 0 };
        let mut c_in = levels.max(1);
        let mut convs = Vec::new();
        let (mut largest, mut widest) = (c_in * h * w, 0);
        for (i, ((&c, &k), &s)) in config.channels.iter().zip(&config.kernels).zip(&config.strides).enumerate() {
            let name = format!("{prefix}.convs.{i}");
            let padded = h + 2 * wrap(k);
            let (oh, ow) = ((padded - k) / s + 1, (w - k) / s + 1);
            convs.push(Conv {
                w: take(t, &format!("{name}.weight"), &[c, c_in, k, k], path)?,
                b: take(t, &format!("{name}.bias"), &[c], path)?,
                c_in,
                c_out: c,
                k,
                stride: s,
                in_hw: (padded, w),
                out_hw: (oh, ow),
            });
            widest = widest.max(c_in * padded * w);
            (h, w, c_in) = (oh, ow, c);
            largest = largest.max(c * h * w);
        }
        // Polar: the maximum over the angles, one value per channel and ring.
        let flat = if polar.is_some() { c_in * w } else { c_in * h * w };
        let linear = Dense::load(t, &format!("{prefix}.linear"), flat, config.features, path)?;
        let polar = polar.map(|view| Polar {
            view,
            bins: view.bins(height, width),
            wrapped: vec![0.0; widest],
            pooled: vec![0.0; flat],
        });
        Ok(Cnn { height, width, levels, convs, linear, polar, a: vec![0.0; largest], b: vec![0.0; largest] })
    }

    fn forward(&mut self, grid: &[f32], features: &mut [f32]) {
        if let Some(polar) = &mut self.polar {
            polar.view.picture(&polar.bins, self.levels, grid, &mut self.a);
            let (mut x, mut y) = (&mut self.a, &mut self.b);
            for conv in &self.convs {
                // Wrap `k / 2` angle rows around from each end.
                let ((padded, rings), p) = (conv.in_hw, conv.k / 2);
                let angles = padded - 2 * p;
                for c in 0..conv.c_in {
                    let src = &x[c * angles * rings..(c + 1) * angles * rings];
                    let dst = &mut polar.wrapped[c * padded * rings..(c + 1) * padded * rings];
                    dst[..p * rings].copy_from_slice(&src[(angles - p) * rings..]);
                    dst[p * rings..(p + angles) * rings].copy_from_slice(src);
                    dst[(p + angles) * rings..].copy_from_slice(&src[..p * rings]);
                }
                conv.forward_relu(&polar.wrapped, y);
                std::mem::swap(&mut x, &mut y);
            }
            let (channels, (angles, rings)) = self.convs.last().map_or((0, (0, 0)), |c| (c.c_out, c.out_hw));
            for c in 0..channels {
                for r in 0..rings {
                    polar.pooled[c * rings + r] =
                        (0..angles).map(|a| x[(c * angles + a) * rings + r]).fold(f32::NEG_INFINITY, f32::max);
                }
            }
            return dense_relu(&self.linear, &polar.pooled, features);
        }
        let cells = self.height * self.width;
        if self.levels == 0 {
            self.a[..cells].copy_from_slice(&grid[..cells]);
        } else {
            for k in 0..self.levels {
                let code = (k + 1) as f32;
                for (dst, &v) in self.a[k * cells..(k + 1) * cells].iter_mut().zip(grid) {
                    *dst = if v == code { 1.0 } else { 0.0 };
                }
            }
        }
        let (mut x, mut y) = (&mut self.a, &mut self.b);
        for conv in &self.convs {
            conv.forward_relu(x, y);
            std::mem::swap(&mut x, &mut y);
        }
        dense_relu(&self.linear, x, features);
    }
}

/// A linear layer, then ReLU.
fn dense_relu(layer: &Dense, x: &[f32], y: &mut [f32]) {
    layer.forward(x, y);
    y[..layer.output].iter_mut().for_each(|v| *v = v.max(0.0));
}

pub(crate) struct Discriminator {
    pub(crate) meta: DiscriminatorMeta,
    pub(crate) cnn: Cnn,
    pub(crate) head: Dense,
    features: Vec<f32>,
    logits: Vec<f32>,
    probs: Vec<f32>,
    /// A quarter turn of the grid (under `turn_average`).
    turned: Vec<f32>,
    /// The Bayes posterior that declares in the CNN's place (the meta's
    /// `posterior`), with each batch row's evidence.
    posterior: Option<(ShapePosterior, Vec<Evidence>)>,
}

impl Discriminator {
    /// Softmax of the logits of one observation's grid into `probs`
    /// (uniform without enough evidence; under `turn_average`, the mean of
    /// the four quarter turns' softmaxes).
    fn probabilities(&mut self, obs: &[f32], row: usize) {
        let layout = &self.meta.layout;
        if let Some((posterior, evidence)) = &mut self.posterior {
            if evidence.len() <= row {
                evidence.resize_with(row + 1, || posterior.evidence());
            }
            posterior.update(&mut evidence[row], layout.grid_of(obs));
            posterior.probabilities(&evidence[row], &mut self.probs);
            return;
        }
        if !layout.has_evidence(obs) {
            self.probs.fill(1.0 / layout.classes as f32);
            return;
        }
        let grid = layout.grid_of(obs);
        self.probs.fill(0.0);
        if !self.meta.turn_average {
            self.cnn.forward(grid, &mut self.features);
            self.head.forward(&self.features, &mut self.logits);
            add_softmax(&self.logits, 1.0, 1.0, &mut self.probs);
            return;
        }
        for turns in 0..4 {
            quarter_turns(grid, layout.grid.1, turns, &mut self.turned);
            self.cnn.forward(&self.turned, &mut self.features);
            self.head.forward(&self.features, &mut self.logits);
            add_softmax(&self.logits, 1.0, 0.25, &mut self.probs);
        }
    }
}

/// Observation normalisation: mean, variance, clip, the normalised ranges.
pub(crate) type Norm = (Vec<f64>, Vec<f64>, f32, Vec<Range<usize>>);

/// A loaded policy: deterministic actions (Gaussian means, most likely
/// choices, the TANDEM discriminator filling its action), clipped to the
/// action bounds. Nothing is allocated per call, except by a posterior
/// discriminator ([`crate::ShapePosterior`]): its first reading of an
/// episode's grid, and a batch wider than any before, grow its evidence.
///
/// ```no_run
/// # fn main() -> Result<(), tactile_policy::PolicyError> {
/// let mut policy = tactile_policy::Policy::load("policies/Press-v0".as_ref())?;
/// let obs = vec![0.0; policy.meta().obs_dim()];
/// let mut action = vec![0.0; policy.meta().action_dim()];
/// policy.act(&obs, &mut action)?;
/// # Ok(())
/// # }
/// ```
pub struct Policy {
    meta: PolicyMeta,
    dir: PathBuf,
    pub(crate) norm: Option<Norm>,
    pub(crate) vectors: Vec<Range<usize>>,
    pub(crate) encoder: Option<Cnn>,
    pub(crate) grid: (usize, usize),
    pub(crate) mlp: Vec<Dense>,
    pub(crate) head: Dense,
    pub(crate) discriminator: Option<Discriminator>,
    pub(crate) bounds: Vec<(f32, f32)>,
    calibrations: Vec<Calibration>,
    obs: Vec<f32>,
    ego: Vec<f32>,
    x: Vec<f32>,
    y: Vec<f32>,
    out: Vec<f32>,
    explorer: Vec<f32>,
}

impl Policy {
    /// Loads a policy folder (`meta.json`, `model.safetensors` and, under
    /// TANDEM, `discriminator.safetensors`), checking every field and
    /// tensor it uses.
    pub fn load(dir: &Path) -> Result<Self, PolicyError> {
        let meta = PolicyMeta::read(dir)?;
        let meta_path = dir.join("meta.json");
        let model_path = dir.join("model.safetensors");
        let mut t = read(&model_path)?;
        let net = &meta.network;
        let layout = &net.obs_layout;
        let (encoder, grid, input) = match &net.cnn {
            Some(cnn) => {
                let [(offset, h, w, levels)] = layout.grids()[..] else {
                    return Err(PolicyError::Meta { path: meta_path, message: "network.cnn: needs one grid".into() });
                };
                let enc = Cnn::load(&mut t, "encoder", (h, w, levels), cnn, None, &model_path)?;
                (Some(enc), (offset, h * w), cnn.features + layout.vector_dim())
            }
            None => (None, (0, 0), layout.obs_dim),
        };
        let mut mlp = Vec::new();
        let mut d = input;
        for (i, &h) in net.hidden.iter().enumerate() {
            mlp.push(Dense::load(&mut t, &format!("actor.layers.{i}"), d, h, &model_path)?);
            d = h;
        }
        let head = Dense::load(&mut t, "actor_head", d, net.action_layout.output_dim, &model_path)?;
        let discriminator = match &meta.discriminator {
            Some(dm) => {
                let path = dir.join("discriminator.safetensors");
                let mut t = read(&path)?;
                let (_, h, w, levels) = dm.layout.grid;
                let cnn = Cnn::load(&mut t, "encoder", (h, w, levels), &dm.cnn, dm.polar, &path)?;
                let mut head = Dense::load(&mut t, "head", dm.cnn.features, dm.layout.classes, &path)?;
                // softmax(logits / T): the temperature folds into the last layer.
                if dm.temperature != 1.0 {
                    head.w.iter_mut().chain(&mut head.b).for_each(|v| *v /= dm.temperature);
                }
                Some(Discriminator {
                    meta: dm.clone(),
                    cnn,
                    head,
                    features: vec![0.0; dm.cnn.features],
                    logits: vec![0.0; dm.layout.classes],
                    probs: vec![0.0; dm.layout.classes],
                    turned: vec![0.0; if dm.turn_average { h * w } else { 0 }],
                    posterior: match &dm.posterior {
                        Some(pm) => {
                            let post = ShapePosterior::new(pm).map_err(|e| PolicyError::Meta {
                                path: meta_path.clone(),
                                message: format!("discriminator.posterior.{e}"),
                            })?;
                            let evidence = vec![post.evidence()];
                            Some((post, evidence))
                        }
                        None => None,
                    },
                })
            }
            None => None,
        };
        let bounds = if meta.action_bounds.is_empty() {
            vec![(f32::NEG_INFINITY, f32::INFINITY); meta.action_dim()]
        } else {
            meta.action_bounds
                .iter()
                .map(|[lo, hi]| (lo.unwrap_or(f32::NEG_INFINITY), hi.unwrap_or(f32::INFINITY)))
                .collect()
        };
        let norm = meta.obs_norm.as_ref().map(|n| {
            (n.stats.mean.clone(), n.stats.var.clone(), n.clip, n.ranges.iter().map(|r| r[0]..r[1]).collect())
        });
        let widest = net.hidden.iter().copied().chain([input, net.action_layout.output_dim]).max().unwrap_or(1);
        let side = net.egocentric.map_or(0, |(_, n, _)| n * n);
        Ok(Policy {
            vectors: if encoder.is_some() { layout.vector_ranges() } else { Vec::new() },
            obs: vec![0.0; meta.obs_dim()],
            ego: vec![0.0; side],
            x: vec![0.0; widest],
            y: vec![0.0; widest],
            out: vec![0.0; net.action_layout.output_dim],
            explorer: vec![0.0; net.action_layout.action_dim],
            dir: dir.to_owned(),
            encoder,
            grid,
            mlp,
            head,
            discriminator,
            bounds,
            norm,
            calibrations: Vec::new(),
            meta,
        })
    }

    /// What the policy is.
    pub fn meta(&self) -> &PolicyMeta {
        &self.meta
    }

    /// The folder it was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The actor's raw outputs (Gaussian means and categorical logits, in
    /// the action layout's order) for one observation.
    pub fn outputs(&mut self, obs: &[f32]) -> Result<&[f32], PolicyError> {
        let od = self.meta.obs_dim();
        if obs.len() != od {
            return Err(PolicyError::Observation(format!("{} values, the policy reads {od}", obs.len())));
        }
        if let Some(i) = obs.iter().position(|v| !v.is_finite()) {
            return Err(PolicyError::Observation(format!("value {i} is {}", obs[i])));
        }
        self.obs.copy_from_slice(obs);
        if let Some((mean, var, clip, ranges)) = &self.norm {
            normalize(mean, var, *clip, ranges, &mut self.obs);
        }
        if let Some((offset, n, agent)) = self.meta.network.egocentric {
            egocentric(&mut self.obs, od, (offset, n), agent, &mut self.ego);
        }
        let mut d = match &mut self.encoder {
            Some(enc) => {
                let (offset, cells) = self.grid;
                let features = enc.linear.output;
                enc.forward(&self.obs[offset..offset + cells], &mut self.x);
                let mut at = features;
                for r in &self.vectors {
                    self.x[at..at + r.len()].copy_from_slice(&self.obs[r.clone()]);
                    at += r.len();
                }
                at
            }
            None => {
                self.x[..od].copy_from_slice(&self.obs);
                od
            }
        };
        for layer in &self.mlp {
            layer.forward(&self.x[..d], &mut self.y);
            for (x, y) in self.x.iter_mut().zip(&self.y[..layer.output]) {
                *x = y.tanh();
            }
            d = layer.output;
        }
        self.head.forward(&self.x[..d], &mut self.out);
        Ok(&self.out)
    }

    /// The discriminator's class probabilities for one observation (uniform
    /// without enough evidence), or `None` for a policy without one.
    pub fn class_probabilities(&mut self, obs: &[f32]) -> Option<&[f32]> {
        let d = self.discriminator.as_mut()?;
        d.probabilities(obs, 0);
        Some(&d.probs)
    }

    /// The deterministic env action for one observation, clipped to the
    /// action bounds. Refuses an observation of another length or with a
    /// value that is not finite.
    pub fn act(&mut self, obs: &[f32], action: &mut [f32]) -> Result<(), PolicyError> {
        self.act_row(obs, action, 0)
    }

    /// [`Policy::act`] for row `row` of a batch (a posterior discriminator
    /// keeps each row's evidence).
    fn act_row(&mut self, obs: &[f32], action: &mut [f32], row: usize) -> Result<(), PolicyError> {
        let ad = self.meta.action_dim();
        if action.len() != ad {
            return Err(PolicyError::Observation(format!(
                "action buffer of {} values, the policy writes {ad}",
                action.len()
            )));
        }
        self.outputs(obs)?;
        self.meta.network.action_layout.deterministic(&self.out, &mut self.explorer);
        match &mut self.discriminator {
            Some(d) => {
                d.probabilities(obs, row);
                let (mut filled, mut guess) = ([0.0], [0.0]);
                declare_from(&d.probs, d.meta.layout.classes, d.meta.declaring_threshold(), &mut filled);
                guess_from(&d.probs, d.meta.layout.classes, &mut guess);
                d.meta.layout.env_action(&self.explorer, filled[0], guess[0], action);
            }
            None => action.copy_from_slice(&self.explorer),
        }
        for (a, &(lo, hi)) in action.iter_mut().zip(&self.bounds) {
            *a = a.clamp(lo, hi);
        }
        // A robot never gets a NaN: the caller gets an error and keeps its
        // last safe command.
        if let Some(i) = action.iter().position(|a| !a.is_finite()) {
            let bad_obs = obs.iter().position(|o| !o.is_finite());
            return Err(PolicyError::NonFiniteAction {
                element: i,
                cause: match bad_obs {
                    Some(k) => format!("observation element {k} is {}", obs[k]),
                    None => "the observation is finite: the network overflowed".into(),
                },
            });
        }
        Ok(())
    }

    /// Deterministic actions for a batch (`batch x obs_dim` in, `batch x
    /// action_dim` out). A posterior discriminator takes row `i` of each
    /// batch as the same episode's next observation (its evidence is kept
    /// per row; a row whose grid forgets a read cell starts again).
    pub fn act_batch(&mut self, obs: &[f32], actions: &mut [f32]) -> Result<(), PolicyError> {
        let (od, ad) = (self.meta.obs_dim(), self.meta.action_dim());
        if od == 0 || !obs.len().is_multiple_of(od) || actions.len() != obs.len() / od * ad {
            return Err(PolicyError::Observation(format!(
                "{} values is not a whole batch of {od}-value observations for {} action values",
                obs.len(),
                actions.len()
            )));
        }
        for (row, (o, a)) in obs.chunks(od).zip(actions.chunks_mut(ad)).enumerate() {
            self.act_row(o, a, row)?;
        }
        Ok(())
    }

    /// Attaches the calibration of a real sensor: from now on
    /// [`Policy::act_mapped`] writes its mapped readings into the taxel
    /// slot it names. Refused if the policy has no such slot or the
    /// calibration maps onto another number of taxels.
    pub fn calibrate(&mut self, calibration: Calibration) -> Result<(), PolicyError> {
        let Some(slot) = self.meta.taxels.iter().find(|t| t.sensor == calibration.sensor) else {
            let known: Vec<&str> = self.meta.taxels.iter().map(|t| t.sensor.as_str()).collect();
            return Err(PolicyError::Calibration {
                path: self.dir.join("meta.json"),
                message: format!("no taxel array `{}` in this policy (it has {known:?})", calibration.sensor),
            });
        };
        if calibration.sim_taxels() != slot.count || calibration.quantity != slot.quantity {
            return Err(PolicyError::Calibration {
                path: self.dir.join("meta.json"),
                message: format!(
                    "`{}` holds {} {} readings; the calibration maps {} {}",
                    slot.sensor,
                    slot.count,
                    slot.quantity,
                    calibration.sim_taxels(),
                    calibration.quantity
                ),
            });
        }
        self.calibrations.retain(|c| c.sensor != calibration.sensor);
        self.calibrations.push(calibration);
        Ok(())
    }

    /// Acts on an observation whose taxel slots are filled from real
    /// sensors' raw readings through the attached calibrations
    /// (`readings[i]` for the i-th attached one) and the task's scaling
    /// (`obs_per_unit`); the other values of `obs` are used as they are
    /// and the slots are overwritten.
    pub fn act_mapped(&mut self, obs: &mut [f32], readings: &[&[f32]], action: &mut [f32]) -> Result<(), PolicyError> {
        if readings.len() != self.calibrations.len() || obs.len() != self.meta.obs_dim() {
            return Err(PolicyError::Observation(format!(
                "{} sensor readings for {} calibrations",
                readings.len(),
                self.calibrations.len()
            )));
        }
        for (cal, raw) in self.calibrations.iter().zip(readings) {
            let Some(slot) = self.meta.taxels.iter().find(|t| t.sensor == cal.sensor) else { continue };
            let values = &mut obs[slot.obs_offset..slot.obs_offset + slot.count];
            cal.apply(raw, values)?;
            values.iter_mut().for_each(|v| *v *= slot.obs_per_unit);
        }
        self.act(obs, action)
    }
}
