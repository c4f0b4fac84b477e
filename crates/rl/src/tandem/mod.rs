//! TANDEM co-training (Xu et al., 2022): PPO learns where to move, a CNN
//! discriminator learns what the grid shows. The discriminator is trained
//! by supervision on the explorer's own occupancy grids, labelled with the
//! true object id from the info, drawn from a replay buffer after every
//! rollout; it fills the `declare` action as soon as its top class
//! probability reaches the threshold (TANDEM's 0.98), and says "go on"
//! until then. Without it (the All-in-one baseline) PPO learns `declare`
//! itself.

pub(crate) mod config;
mod posterior;

use burn::module::Module;
use burn::nn::Linear;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, OptimizerRecord};
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::Rng;
use rand::rngs::StdRng;
use tactile_env::{Info, Space};

use crate::RlError;
use crate::encoder::{CnnConfig, CnnEncoder, ObsLayout, PolarView};
use crate::init::orthogonal_linear;
use crate::network::{number_params, tensor2, to_vec};
use crate::ppo::hook::RolloutHook;
use crate::ppo::stats::UpdateStats;
pub use config::{DiscriminatorKind, PosteriorConfig, TandemConfig};
pub use posterior::posterior_meta;
use tactile_env::tasks::explorers::{InfoGainQuery, ScriptedExplorer, answer_all};
pub use tactile_policy::{TandemLayout, declare_from, guess_from, quarter_turns};
use tactile_policy::{add_softmax, turn_average_refusal};

/// The discriminator: a CNN over the grid (or its polar picture) and a
/// linear layer to the class logits.
#[derive(Module, Debug)]
pub struct Discriminator {
    encoder: CnnEncoder,
    head: Linear,
    /// The polar view and each cell's bin.
    #[module(skip)]
    polar: Option<(PolarView, Vec<u32>)>,
    /// Its probabilities are `softmax(logits / temperature)`.
    #[module(skip)]
    temperature: f32,
    /// Its probabilities are the mean of its four quarter turns' of the
    /// grid ([`TandemConfig::turn_average`]).
    #[module(skip)]
    turn_average: bool,
}

impl Discriminator {
    /// A fresh classifier of `height x width` grids with `levels` codes,
    /// reading them through `polar` if given.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        height: usize,
        width: usize,
        levels: usize,
        classes: usize,
        cnn: &CnnConfig,
        polar: Option<PolarView>,
        rng: &mut StdRng,
        device: &Device,
    ) -> Result<Self, RlError> {
        let encoder = CnnEncoder::with_view((0, height, width, levels), cnn, polar, rng, device)
            .map_err(|reason| RlError::Config { field: "tandem.cnn, tandem.polar", reason })?;
        let head = orthogonal_linear(cnn.features, classes, 0.01, rng, device);
        let polar = polar.map(|view| (view, view.bins(height, width)));
        Ok(number_params(Discriminator { encoder, head, polar, temperature: 1.0, turn_average: false }, 1))
    }

    /// The temperature its probabilities are read with.
    pub fn temperature(&self) -> f32 {
        self.temperature
    }

    /// The same network read with another temperature.
    pub fn with_temperature(self, temperature: f32) -> Self {
        Discriminator { temperature, ..self }
    }

    /// Whether its probabilities average the grid's four quarter turns.
    pub fn turn_average(&self) -> bool {
        self.turn_average
    }

    /// The same network, its probabilities averaged over the grid's four
    /// quarter turns (`true`) or read from the grid alone. Refused for a
    /// grid that is not square or read in polar form (which answers the
    /// same for every turn already).
    pub fn with_turn_average(self, turn_average: bool) -> Result<Self, RlError> {
        let (_, h, w, _) = self.encoder.grid();
        if let Some(reason) = turn_average_refusal(h, w, self.polar.is_some()).filter(|_| turn_average) {
            return Err(RlError::Config { field: "tandem.turn_average", reason });
        }
        Ok(Discriminator { turn_average, ..self })
    }

    /// Class logits `[batch, classes]` of `batch` grids (`height * width`
    /// codes each, side by side).
    pub fn logits(&self, grids: &[f32], batch: usize, device: &Device) -> Tensor<2> {
        let (_, h, w, levels) = self.encoder.grid();
        let features = match &self.polar {
            Some((view, bins)) => {
                let size = levels.max(1) * view.bins_per_channel();
                let mut pictures = vec![0.0f32; batch * size];
                for (grid, out) in grids.chunks(h * w).zip(pictures.chunks_mut(size)) {
                    view.picture(bins, levels, grid, out);
                }
                let shape = [batch, levels.max(1), view.angles, view.rings];
                self.encoder.forward_picture(Tensor::from_data(TensorData::new(pictures, shape), device))
            }
            None => self.encoder.forward(&tensor2(grids, batch, h * w, device)),
        };
        self.head.forward(features)
    }
}

/// Finds the grid and the filled action; returns the layout and the
/// explorer's action space (the env's without the filled entry).
pub fn tandem_layout(
    config: &TandemConfig,
    obs: &ObsLayout,
    act_space: &Space,
) -> Result<(TandemLayout, Space), RlError> {
    let bad = |reason| Err(RlError::Config { field: "tandem", reason });
    let [grid] = obs.grids()[..] else {
        return bad("needs exactly one grid in the observation (and a [cnn] section)");
    };
    let Space::Dict(entries) = act_space else { return bad("needs a Dict action space") };
    let mut at = 0;
    let mut found = None;
    let mut guess = None;
    let mut rest = Vec::new();
    for (name, s) in entries {
        if *name == config.action {
            found = Some((at, s.clone()));
        } else if name == "guess" {
            guess = Some((at, s.clone()));
        } else {
            rest.push((name.clone(), s.clone()));
        }
        at += s.flat_dim();
    }
    let Some((action_index, Space::Discrete { n })) = found else {
        return bad("the action it fills must be a Discrete entry of the action space");
    };
    let guess_index = match guess {
        None => None,
        Some((at, Space::Discrete { n: m })) if m == n => Some(at),
        Some(_) => return bad("a `guess` action must be Discrete with as many values as the filled action"),
    };
    if n < 3 || rest.is_empty() {
        return bad("needs at least two classes and an action left to the explorer");
    }
    let layout = TandemLayout {
        grid,
        action_index,
        classes: n as usize - 1,
        evidence: (config.evidence_code, config.min_evidence_cells),
        guess_index,
    };
    Ok((layout, Space::Dict(rest)))
}

/// The class probabilities (`batch x classes`, softmax) of a batch of raw
/// observations' grids; uniform for a grid without enough evidence.
pub fn probabilities(
    model: &Discriminator,
    layout: &TandemLayout,
    raw_obs: &[f32],
    obs_dim: usize,
    device: &Device,
    out: &mut [f32],
) {
    let (_, h, w, _) = layout.grid;
    let batch = out.len() / layout.classes;
    let mut grids = Vec::with_capacity(batch * h * w);
    for row in raw_obs.chunks(obs_dim).take(batch) {
        grids.extend_from_slice(layout.grid_of(row));
    }
    grid_probabilities(model, layout, &grids, device, out);
}

/// [`probabilities`] of bare grids (`batch x height * width` codes).
/// Under [`Discriminator::turn_average`], each grid's four quarter turns
/// go through the network in one batch and its probabilities are the mean
/// of their four softmaxes.
pub fn grid_probabilities(
    model: &Discriminator,
    layout: &TandemLayout,
    grids: &[f32],
    device: &Device,
    out: &mut [f32],
) {
    let (_, h, w, _) = layout.grid;
    let (classes, cells) = (layout.classes, h * w);
    let batch = out.len() / classes;
    let grids = &grids[..batch * cells];
    let (logits, turns) = if model.turn_average {
        let mut turned = vec![0.0f32; 4 * batch * cells];
        for (grid, four) in grids.chunks(cells).zip(turned.chunks_mut(4 * cells)) {
            for (t, dst) in four.chunks_mut(cells).enumerate() {
                quarter_turns(grid, h, t as u8, dst);
            }
        }
        (to_vec(model.logits(&turned, 4 * batch, device)), 4)
    } else {
        (to_vec(model.logits(grids, batch, device)), 1)
    };
    let uniform = 1.0 / classes as f32;
    for ((row, logits), grid) in out.chunks_mut(classes).zip(logits.chunks(turns * classes)).zip(grids.chunks(cells)) {
        if !layout.grid_has_evidence(grid) {
            row.fill(uniform);
            continue;
        }
        row.fill(0.0);
        for one in logits.chunks(classes) {
            add_softmax(one, model.temperature, 1.0 / turns as f32, row);
        }
    }
}

/// The temperature `T` that makes `labels` most likely under
/// `softmax(logits / T)` (`logits` is `labels.len() x classes`), within
/// `[1/16, 16]`. The negative log-likelihood is convex in `1 / T`, so a
/// golden-section search on `1 / T` finds it.
pub fn fit_temperature(logits: &[f32], labels: &[u8], classes: usize) -> f32 {
    let nll = |beta: f32| -> f64 {
        logits
            .chunks(classes)
            .zip(labels)
            .map(|(z, &y)| {
                let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let sum: f64 = z.iter().map(|&l| f64::from(beta * (l - max)).exp()).sum();
                sum.ln() - f64::from(beta * (z[usize::from(y)] - max))
            })
            .sum()
    };
    let (mut lo, mut hi) = (1.0f32 / 16.0, 16.0f32);
    let g = 0.618_034f32;
    let (mut a, mut b) = (hi - g * (hi - lo), lo + g * (hi - lo));
    let (mut fa, mut fb) = (nll(a), nll(b));
    for _ in 0..60 {
        if fa < fb {
            (hi, b, fb) = (b, a, fa);
            a = hi - g * (hi - lo);
            fa = nll(a);
        } else {
            (lo, a, fa) = (a, b, fb);
            b = lo + g * (hi - lo);
            fb = nll(b);
        }
    }
    2.0 / (lo + hi)
}

/// `T` moved the share `weight` of the way to `fitted`, in `ln T`: the
/// same factor up as down.
fn smoothed_temperature(temperature: f32, fitted: f32, weight: f32) -> f32 {
    if weight >= 1.0 {
        return fitted; // exactly: a weight of 1 takes the fit as it is
    }
    (temperature.ln() + weight * (fitted.ln() - temperature.ln())).exp()
}

/// The values of the filled action for a batch of raw observations: `k +
/// 1` where class `k`'s probability reaches `threshold`, else 0.
pub fn declare(
    model: &Discriminator,
    layout: &TandemLayout,
    threshold: f32,
    raw_obs: &[f32],
    obs_dim: usize,
    device: &Device,
    out: &mut [f32],
) {
    declare_and_guess(model, layout, threshold, raw_obs, obs_dim, device, out, &mut vec![0.0; out.len()]);
}

/// [`declare`], and the current guesses ([`guess_from`]) into `guesses`.
#[allow(clippy::too_many_arguments)]
pub fn declare_and_guess(
    model: &Discriminator,
    layout: &TandemLayout,
    threshold: f32,
    raw_obs: &[f32],
    obs_dim: usize,
    device: &Device,
    out: &mut [f32],
    guesses: &mut [f32],
) {
    let mut probs = vec![0.0; out.len() * layout.classes];
    probabilities(model, layout, raw_obs, obs_dim, device, &mut probs);
    declare_from(&probs, layout.classes, threshold, out);
    guess_from(&probs, layout.classes, guesses);
}

/// The discriminator in training: its network, optimiser and replay buffer.
pub struct Tandem {
    /// The settings.
    pub config: TandemConfig,
    /// Where it sits in the spaces.
    pub layout: TandemLayout,
    /// The network (autodiff device).
    pub model: Discriminator,
    optim: ModuleOptimizer,
    device: Device,
    /// The grids it trains on (`buffer_size`).
    replay: GridRing,
    /// The calibration envs' grids (`calibration_size`).
    held_out: GridRing,
    /// The explorer's action space (the env's without the filled entry),
    /// when made for an env ([`Tandem::for_env`]).
    explorer_space: Option<Space>,
    /// Its part in the rollout under way.
    rollout: RolloutScratch,
    /// The scripted explorers of `config.explorer`, one per env.
    scripted: ScriptedRun,
}

/// The scripted explorers' state: one per env, the grids they read, the
/// moves they chose, and their random stream.
struct ScriptedRun {
    explorers: Vec<ScriptedExplorer>,
    /// Envs whose episode has just begun (the explorer starts afresh).
    fresh: Vec<bool>,
    grids: Vec<f32>,
    moves: Vec<f32>,
    rng: StdRng,
    /// Flat index of the move in the env's action.
    move_index: usize,
    /// Info-gain's questions, their grids and the discriminator's answers.
    queries: Vec<Option<InfoGainQuery>>,
    query_grids: Vec<f32>,
    query_probs: Vec<f32>,
}

/// What the discriminator holds during a rollout: the class
/// probabilities before and after each batch step (they fill `declare`
/// and pay the shaping reward), what it filled, and how many episodes
/// ended on a declaration.
#[derive(Default)]
struct RolloutScratch {
    probs: Vec<f32>,
    probs_next: Vec<f32>,
    filled: Vec<f32>,
    guesses: Vec<f32>,
    declared: usize,
}

/// Labelled grids, one code per byte, in a ring: once it is full, the
/// newest replaces the oldest.
#[derive(Clone, Debug, PartialEq)]
struct GridRing {
    cells: usize,
    /// `capacity x cells` codes (the filled part first).
    grids: Vec<u8>,
    /// Their labels.
    labels: Vec<u8>,
    /// Grids stored.
    len: usize,
    /// Where the next grid goes.
    next: usize,
}

impl GridRing {
    fn new(capacity: usize, cells: usize) -> Self {
        GridRing { cells, grids: vec![0; capacity * cells], labels: vec![0; capacity], len: 0, next: 0 }
    }

    fn push(&mut self, grid: &[f32], label: u8) {
        let slot = &mut self.grids[self.next * self.cells..(self.next + 1) * self.cells];
        for (dst, &src) in slot.iter_mut().zip(grid) {
            *dst = src.clamp(0.0, 255.0) as u8;
        }
        self.labels[self.next] = label;
        self.next = (self.next + 1) % self.labels.len();
        self.len = (self.len + 1).min(self.labels.len());
    }

    fn grid(&self, k: usize) -> &[u8] {
        &self.grids[k * self.cells..(k + 1) * self.cells]
    }

    /// The filled part: its grids, then its labels (a checkpoint's file).
    fn bytes(&self) -> impl Iterator<Item = &[u8]> {
        [&self.grids[..self.len * self.cells], &self.labels[..self.len]].into_iter()
    }

    /// Puts back what [`GridRing::bytes`] wrote, with its fill and next slot.
    fn restore(&mut self, bytes: &[u8], len: usize, next: usize) -> Result<(), &'static str> {
        if len > self.labels.len() || next >= self.labels.len().max(1) || bytes.len() != len * (self.cells + 1) {
            return Err("does not hold the grids trainer.json describes");
        }
        self.grids[..len * self.cells].copy_from_slice(&bytes[..len * self.cells]);
        self.labels[..len].copy_from_slice(&bytes[len * self.cells..]);
        (self.len, self.next) = (len, next);
        Ok(())
    }
}

impl Tandem {
    /// A fresh discriminator for this layout.
    pub fn new(config: TandemConfig, layout: TandemLayout, seed: u64, device: &Device) -> Result<Self, RlError> {
        if !(config.threshold > 0.0 && config.threshold <= 1.0) {
            return Err(RlError::Config { field: "tandem.threshold", reason: "must be in (0, 1]" });
        }
        if config.buffer_size == 0
            || config.batch_size == 0
            || config.learning_rate.is_nan()
            || config.learning_rate <= 0.0
        {
            return Err(RlError::Config {
                field: "tandem.buffer_size, batch_size, learning_rate",
                reason: "must be positive",
            });
        }
        let (_, h, w, levels) = layout.grid;
        let mut rng = <StdRng as rand::SeedableRng>::seed_from_u64(seed ^ 0xD15C);
        let model = Discriminator::new(h, w, levels, layout.classes, &config.cnn, config.polar, &mut rng, device)?
            .with_turn_average(config.turn_average)?;
        if config.calibration_envs > 0 && config.calibration_size == 0 {
            return Err(RlError::Config {
                field: "tandem.calibration_size",
                reason: "must be positive where calibration_envs is",
            });
        }
        if !(config.calibration_smoothing > 0.0 && config.calibration_smoothing <= 1.0) {
            return Err(RlError::Config { field: "tandem.calibration_smoothing", reason: "must be in (0, 1]" });
        }
        let calibration = if config.calibration_envs > 0 { config.calibration_size } else { 0 };
        Ok(Tandem {
            replay: GridRing::new(config.buffer_size, h * w),
            held_out: GridRing::new(calibration, h * w),
            optim: AdamConfig::new().init(),
            device: device.clone(),
            explorer_space: None,
            rollout: RolloutScratch::default(),
            scripted: ScriptedRun {
                explorers: Vec::new(),
                fresh: Vec::new(),
                grids: Vec::new(),
                moves: Vec::new(),
                rng: <StdRng as rand::SeedableRng>::seed_from_u64(seed ^ 0x5C21_97ED),
                move_index: (0..).find(|&i| i != layout.action_index && Some(i) != layout.guess_index).unwrap_or(0),
                queries: Vec::new(),
                query_grids: Vec::new(),
                query_probs: Vec::new(),
            },
            model,
            layout,
            config,
        })
    }

    /// Info-gain's moves for the batch's grids, the discriminator as it
    /// stands answering (its probabilities of the grids as they are, which
    /// filled `declare`, are reused).
    fn info_gain_moves(&mut self) {
        let (side, cells, classes) = (self.layout.grid.1, self.layout.grid.1 * self.layout.grid.2, self.layout.classes);
        let s = &mut self.scripted;
        s.queries.clear();
        s.query_grids.clear();
        for grid in s.grids.chunks(cells) {
            s.queries.push(Some(InfoGainQuery::ask(grid, side, &mut s.query_grids)));
        }
        s.query_probs.resize(s.query_grids.len() / cells * classes, 0.0);
        let inner = self.device.clone().inner();
        grid_probabilities(&self.model.valid(), &self.layout, &s.query_grids, &inner, &mut s.query_probs);
        answer_all(&s.queries, &self.rollout.probs, &s.query_probs, classes, &mut s.rng, &mut s.moves, 1);
    }

    /// Copies the batch's grids for the scripted explorers.
    fn keep_grids(&mut self, raw_obs: &[f32], obs_dim: usize) {
        let (offset, h, w, _) = self.layout.grid;
        let grids = &mut self.scripted.grids;
        grids.clear();
        for row in raw_obs.chunks(obs_dim) {
            grids.extend_from_slice(&row[offset..offset + h * w]);
        }
    }

    /// A fresh discriminator for an env with these observation layout and
    /// action space ([`tandem_layout`]); the explorer learns the rest of
    /// the actions.
    pub fn for_env(
        config: TandemConfig,
        obs: &ObsLayout,
        act_space: &Space,
        seed: u64,
        device: &Device,
    ) -> Result<Self, RlError> {
        let (layout, explorer) = tandem_layout(&config, obs, act_space)?;
        let mut tandem = Tandem::new(config, layout, seed, device)?;
        tandem.explorer_space = Some(explorer);
        Ok(tandem)
    }

    /// The replay buffer's fill and next slot.
    pub fn replay_fill(&self) -> (usize, usize) {
        (self.replay.len, self.replay.next)
    }

    /// The held-out grids' fill and next slot, when it calibrates.
    pub fn held_out_fill(&self) -> Option<(usize, usize)> {
        (self.config.calibration_envs > 0).then_some((self.held_out.len, self.held_out.next))
    }

    /// The grids it keeps, as a checkpoint stores them: per file name
    /// (`replay.bin`, and `held_out.bin` when it calibrates), the filled
    /// part's grids, then their labels.
    pub fn ring_files(&self) -> Vec<(&'static str, [&[u8]; 2])> {
        fn ring(r: &GridRing) -> [&[u8]; 2] {
            let mut parts = r.bytes();
            [parts.next().unwrap_or_default(), parts.next().unwrap_or_default()]
        }
        let mut files = vec![("replay.bin", ring(&self.replay))];
        if self.config.calibration_envs > 0 {
            files.push(("held_out.bin", ring(&self.held_out)));
        }
        files
    }

    /// Puts back a file of [`Tandem::ring_files`] with its fill and next
    /// slot.
    pub fn restore_ring(&mut self, name: &str, bytes: &[u8], fill: (usize, usize)) -> Result<(), &'static str> {
        let ring = match name {
            "replay.bin" => &mut self.replay,
            "held_out.bin" => &mut self.held_out,
            _ => return Err("is not a ring of the discriminator"),
        };
        ring.restore(bytes, fill.0, fill.1)
    }

    /// Adam's state of the discriminator.
    pub fn optimizer_record(&self) -> OptimizerRecord {
        self.optim.to_record()
    }

    /// Puts back Adam's state from [`Tandem::optimizer_record`].
    pub fn load_optimizer_record(&mut self, record: OptimizerRecord) {
        self.optim = self.optim.clone().load_record(record);
    }

    /// Fills the action for a batch of raw observations.
    pub fn declare(&self, raw_obs: &[f32], obs_dim: usize, out: &mut [f32]) {
        let inner = self.device.clone().inner();
        declare(&self.model.valid(), &self.layout, self.config.threshold, raw_obs, obs_dim, &inner, out);
    }

    /// The class probabilities of a batch of raw observations.
    pub fn probabilities(&self, raw_obs: &[f32], obs_dim: usize, out: &mut [f32]) {
        let inner = self.device.clone().inner();
        probabilities(&self.model.valid(), &self.layout, raw_obs, obs_dim, &inner, out);
    }

    /// Stores each env's grid with the true label from its info (grids
    /// without enough evidence, and envs whose info lacks the fact or holds
    /// an out-of-range class, are skipped); the first `calibration_envs`
    /// envs' grids are held out for the calibration.
    pub fn store(&mut self, raw_obs: &[f32], obs_dim: usize, infos: &[Info]) {
        for (env, (row, info)) in raw_obs.chunks(obs_dim).zip(infos).enumerate() {
            let Some(label) = info.fact(&self.config.label_fact) else { continue };
            let usable = label >= 0.0 && label < self.layout.classes as f64 && self.layout.has_evidence(row);
            if !usable {
                continue;
            }
            let ring = if env < self.config.calibration_envs { &mut self.held_out } else { &mut self.replay };
            ring.push(self.layout.grid_of(row), label as u8);
        }
    }

    /// Fits the temperature on the held-out grids (once the network has
    /// trained on something) and moves `T` towards it by
    /// `calibration_smoothing` (in `ln T`).
    fn calibrate(&mut self) {
        let (cells, held_out) = (self.layout.grid.1 * self.layout.grid.2, self.held_out.len);
        if held_out == 0 {
            return;
        }
        let classes = self.layout.classes;
        let model = self.model.valid();
        let inner = self.device.clone().inner();
        let mut logits = Vec::with_capacity(held_out * classes);
        let mut floats = vec![0.0f32; 256.min(held_out) * cells];
        for grids in self.held_out.grids[..held_out * cells].chunks(256 * cells) {
            let batch = grids.len() / cells;
            for (dst, &src) in floats.iter_mut().zip(grids) {
                *dst = f32::from(src);
            }
            logits.extend(to_vec(model.logits(&floats[..batch * cells], batch, &inner)));
        }
        let fitted = fit_temperature(&logits, &self.held_out.labels[..held_out], classes);
        let temperature = smoothed_temperature(self.model.temperature(), fitted, self.config.calibration_smoothing);
        self.model = self.model.clone().with_temperature(temperature);
    }

    /// `train_steps` minibatches of cross-entropy from the buffer; returns
    /// the mean loss and accuracy (before each step), or `None` while the
    /// buffer holds less than a minibatch. Under calibration, the
    /// temperature is then fitted on the held-out grids.
    pub fn train(&mut self, rng: &mut StdRng) -> Option<(f32, f32)> {
        let trained = self.train_steps(rng);
        if trained.is_some() {
            self.calibrate();
        }
        trained
    }

    fn train_steps(&mut self, rng: &mut StdRng) -> Option<(f32, f32)> {
        let batch = self.config.batch_size;
        if self.replay.len < batch {
            return None;
        }
        let (h, w) = (self.layout.grid.1, self.layout.grid.2);
        let cells = h * w;
        // A polar discriminator answers the same for every quarter turn.
        let rotate = self.config.rotate && h == w && self.config.polar.is_none();
        let (mut loss_sum, mut acc_sum) = (0.0f64, 0.0f64);
        let mut grids = vec![0.0f32; batch * cells];
        let mut labels = vec![0i64; batch];
        for _ in 0..self.config.train_steps {
            for b in 0..batch {
                let k = rng.random_range(0..self.replay.len);
                let src = self.replay.grid(k);
                let dst = &mut grids[b * cells..(b + 1) * cells];
                let turns = if rotate { rng.random_range(0..4u8) } else { 0 };
                quarter_turns(src, h, turns, dst);
                labels[b] = i64::from(self.replay.labels[k]);
            }
            let y = Tensor::<1, Int>::from_data(TensorData::new(labels.clone(), [batch]), &self.device);
            let logp = log_softmax(self.model.logits(&grids, batch, &self.device), 1);
            let picked = logp.clone().gather(1, y.clone().unsqueeze_dim(1)).flatten::<1>(0, 1);
            let loss = -picked.mean();
            let correct = logp.argmax(1).flatten::<1>(0, 1).equal(y).int().sum();
            let grads = GradientsParams::from_grads(loss.backward(), &self.model);
            self.model = self.optim.step(self.config.learning_rate, self.model.clone(), grads);
            loss_sum += f64::from(loss.into_scalar::<f32>());
            acc_sum += correct.into_scalar::<i64>() as f64 / batch as f64;
        }
        let n = self.config.train_steps.max(1) as f64;
        Some(((loss_sum / n) as f32, (acc_sum / n) as f32))
    }
}

/// The metrics TANDEM reports, by name: the discriminator's loss and
/// accuracy, the share of ended episodes that declared, and (under
/// calibration) the fitted temperature.
const METRICS: [&str; 4] = [
    "losses/discriminator_loss",
    "charts/discriminator_accuracy",
    "charts/declare_rate",
    "charts/discriminator_temperature",
];

/// TANDEM joins PPO's rollout here: it fills `declare` from its
/// probabilities, pays the shaping reward, stores each grid with its
/// label, and trains after each update.
impl RolloutHook for Tandem {
    fn policy_action_space(&self, _env_space: &Space) -> Result<Space, RlError> {
        self.explorer_space
            .clone()
            .ok_or(RlError::Config { field: "tandem", reason: "was made without an env (use Tandem::for_env)" })
    }

    fn begin_rollout(&mut self, raw_obs: &[f32], obs_dim: usize) {
        let n = raw_obs.len() / obs_dim.max(1);
        let mut r = std::mem::take(&mut self.rollout);
        r.probs.resize(n * self.layout.classes, 0.0);
        r.probs_next.resize(n * self.layout.classes, 0.0);
        r.filled.resize(n, 0.0);
        r.guesses.resize(n, 0.0);
        r.declared = 0;
        self.probabilities(raw_obs, obs_dim, &mut r.probs);
        self.rollout = r;
        if let Some(kind) = self.config.explorer {
            let side = self.layout.grid.1;
            let s = &mut self.scripted;
            if s.explorers.len() != n {
                s.explorers = (0..n).map(|_| ScriptedExplorer::new(kind, side)).collect();
                s.fresh = vec![true; n];
                s.moves = vec![0.0; n];
            }
            self.keep_grids(raw_obs, obs_dim);
        }
    }

    fn before_step(&mut self) {
        let r = &mut self.rollout;
        declare_from(&r.probs, self.layout.classes, self.config.threshold, &mut r.filled);
        guess_from(&r.probs, self.layout.classes, &mut r.guesses);
        if let Some(kind) = self.config.explorer {
            if kind.asks_classifier() {
                self.info_gain_moves();
                return;
            }
            let cells = self.layout.grid.1 * self.layout.grid.2;
            let s = &mut self.scripted;
            for (i, e) in s.explorers.iter_mut().enumerate() {
                let grid = &s.grids[i * cells..(i + 1) * cells];
                if std::mem::take(&mut s.fresh[i]) {
                    e.reset(grid);
                }
                s.moves[i] = e.next_move(grid, &mut s.rng) as f32;
            }
        }
    }

    fn env_action(&self, env: usize, policy_action: &[f32], out: &mut [f32]) -> bool {
        self.layout.env_action(policy_action, self.rollout.filled[env], self.rollout.guesses[env], out);
        if self.config.explorer.is_some() {
            out[self.scripted.move_index] = self.scripted.moves[env];
        }
        true
    }

    fn after_step(&mut self, raw_obs: &[f32], obs_dim: usize, infos: &[Info]) {
        if self.config.explorer.is_some() {
            self.keep_grids(raw_obs, obs_dim);
        }
        self.store(raw_obs, obs_dim, infos);
        let mut next = std::mem::take(&mut self.rollout.probs_next);
        self.probabilities(raw_obs, obs_dim, &mut next);
        self.rollout.probs_next = next;
    }

    fn shape(&mut self, env: usize, info: &Info, terminated: bool, gamma: f32) -> Option<f32> {
        let classes = self.layout.classes;
        if self.config.shaping == 0.0 {
            return None;
        }
        let label = info.fact(&self.config.label_fact).filter(|&l| l >= 0.0 && (l as usize) < classes)?;
        let c = label as usize;
        let r = &self.rollout;
        let after = if terminated { 0.0 } else { r.probs_next[env * classes + c] };
        Some(self.config.shaping * (gamma * after - r.probs[env * classes + c]))
    }

    fn episode_ends(&mut self, env: usize) {
        self.rollout.declared += usize::from(self.rollout.filled[env] > 0.0);
        if let Some(fresh) = self.scripted.fresh.get_mut(env) {
            *fresh = true;
        }
    }

    fn end_step(&mut self) {
        let r = &mut self.rollout;
        std::mem::swap(&mut r.probs, &mut r.probs_next);
    }

    fn after_update(&mut self, rng: &mut StdRng, stats: &mut UpdateStats) {
        let start = std::time::Instant::now();
        if let Some((loss, accuracy)) = self.train(rng) {
            stats.extra.push((METRICS[0], loss));
            stats.extra.push((METRICS[1], accuracy));
        }
        if self.config.calibration_envs > 0 {
            stats.extra.push((METRICS[3], self.model.temperature()));
        }
        let ended = stats.episode_returns.len();
        if ended > 0 {
            stats.extra.push((METRICS[2], self.rollout.declared as f32 / ended as f32));
        }
        stats.update_s += start.elapsed().as_secs_f64();
    }

    fn metric_names(&self) -> &'static [&'static str] {
        // The temperature only where it is fitted.
        let count = if self.config.calibration_envs > 0 { 4 } else { 3 };
        &METRICS[..count]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn spaces() -> (ObsLayout, Space) {
        let obs = Space::Dict(vec![
            ("grid".into(), Space::uniform_box(0.0, 3.0, &[8, 8])),
            ("taxels".into(), Space::uniform_box(0.0, 1.0, &[2])),
        ]);
        let act =
            Space::Dict(vec![("move".into(), Space::Discrete { n: 4 }), ("declare".into(), Space::Discrete { n: 4 })]);
        (crate::encoder::obs_layout(&obs, true), act)
    }

    #[test]
    fn the_filled_action_is_found_and_put_back_in_its_place() {
        let (obs, act) = spaces();
        let (layout, explorer) = tandem_layout(&TandemConfig::default(), &obs, &act).unwrap();
        assert_eq!(
            layout,
            TandemLayout { grid: (0, 8, 8, 3), action_index: 1, classes: 3, evidence: (2.0, 0), guess_index: None }
        );
        assert_eq!(explorer, Space::Dict(vec![("move".into(), Space::Discrete { n: 4 })]));
        let mut out = [0.0; 2];
        layout.env_action(&[2.0], 3.0, 0.0, &mut out);
        assert_eq!(out, [2.0, 3.0]);
        let wrong = TandemConfig { action: "move2".into(), ..TandemConfig::default() };
        assert!(tandem_layout(&wrong, &obs, &act).is_err());
        assert!(tandem_layout(&TandemConfig::default(), &crate::encoder::obs_layout(&act, false), &act).is_err());
    }

    #[test]
    fn a_turn_averaged_discriminator_answers_the_same_for_every_quarter_turn() {
        let device = Device::flex();
        let mut rng = StdRng::seed_from_u64(9);
        let cnn = CnnConfig { channels: vec![4, 8], kernels: vec![3, 3], strides: vec![2, 2], features: 16 };
        let layout =
            TandemLayout { grid: (0, 30, 30, 3), action_index: 0, classes: 5, evidence: (2.0, 0), guess_index: None };
        // A random 30 x 30 grid of codes 0 to 3, and its quarter turns.
        let grid: Vec<u8> = (0..900).map(|_| rng.random_range(0..4u8)).collect();
        let mut turned = vec![0.0f32; 4 * 900];
        for (t, dst) in turned.chunks_mut(900).enumerate() {
            quarter_turns(&grid, 30, t as u8, dst);
        }
        let probabilities = |d: &Discriminator| {
            let mut p = vec![0.0f32; 4 * 5];
            grid_probabilities(d, &layout, &turned, &device, &mut p);
            p
        };
        // The largest change of a class's probability between the turns.
        let spread = |p: &[f32]| {
            let pairs = (0..5).flat_map(|k| (1..4).map(move |t| (k, t)));
            pairs.map(|(k, t)| (p[5 * t + k] - p[k]).abs()).fold(0.0f32, f32::max)
        };
        // A young network's logits are small (its head starts near 0): a
        // temperature of 1/100 spreads its probabilities apart.
        let plain = Discriminator::new(30, 30, 3, 5, &cnn, None, &mut rng, &device).unwrap().with_temperature(0.01);
        let p = probabilities(&plain);
        assert!(spread(&p) > 1e-3, "a plain CNN tells the turns apart: {p:?}");
        let averaged = plain.with_turn_average(true).unwrap();
        let q = probabilities(&averaged);
        assert!(spread(&q) < 1e-3 * spread(&p), "the mean over the turns does not: {q:?}");
        for row in q.chunks(5) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5, "{row:?}");
            let (lo, hi) = row.iter().fold((1.0f32, 0.0f32), |(lo, hi), &v| (lo.min(v), hi.max(v)));
            assert!(hi - lo > 1e-3, "not uniform: {row:?}");
        }
        // Refused where the grid cannot turn, or reads the same at every turn.
        let tall = Discriminator::new(30, 20, 3, 5, &cnn, None, &mut rng, &device).unwrap();
        assert!(tall.with_turn_average(true).is_err());
        let polar_cnn = CnnConfig { strides: vec![1, 2], ..cnn };
        let polar = Some(PolarView { angles: 16, rings: 12 });
        let polar = Discriminator::new(30, 30, 3, 5, &polar_cnn, polar, &mut rng, &device).unwrap();
        assert!(polar.with_turn_average(true).is_err());
    }

    #[test]
    fn a_polar_discriminator_answers_the_same_for_a_quarter_turn_and_a_plain_one_does_not() {
        let device = Device::flex();
        let mut rng = StdRng::seed_from_u64(5);
        let cnn = CnnConfig { channels: vec![4, 8], kernels: vec![3, 3], strides: vec![1, 2], features: 16 };
        let polar = Some(PolarView { angles: 16, rings: 12 });
        let turned_logits = |model: &Discriminator, grid: &[u8]| {
            let mut turned = vec![0.0f32; 2 * 900];
            quarter_turns(grid, 30, 0, &mut turned[..900]);
            quarter_turns(grid, 30, 1, &mut turned[900..]);
            to_vec(model.logits(&turned, 2, &device))
        };
        // A random 30 x 30 grid of codes 0 to 3.
        let grid: Vec<u8> = (0..900).map(|_| rng.random_range(0..4u8)).collect();
        let d = Discriminator::new(30, 30, 3, 5, &cnn, polar, &mut rng, &device).unwrap();
        let l = turned_logits(&d, &grid);
        // (The head starts small: logits near 1e-3.)
        let size = |l: &[f32]| l[..5].iter().fold(0.0f32, |m, &v| m.max(v.abs()));
        assert!(size(&l) > 1e-5, "the logits should not all be zero: {l:?}");
        assert!((0..5).all(|k| (l[k] - l[5 + k]).abs() <= 1e-3 * size(&l)), "{l:?}");
        // The same CNN on the grid as it is tells the two apart.
        let plain = CnnConfig { strides: vec![2, 2], ..cnn.clone() };
        let d = Discriminator::new(30, 30, 3, 5, &plain, None, &mut rng, &device).unwrap();
        let l = turned_logits(&d, &grid);
        assert!((0..5).any(|k| (l[k] - l[5 + k]).abs() > 0.05 * size(&l)), "{l:?}");
        // A view that does not fit the grid is refused.
        let wide = Some(PolarView { angles: 16, rings: 16 });
        assert!(Discriminator::new(30, 30, 3, 5, &cnn, wide, &mut rng, &device).is_err());
    }

    #[test]
    fn the_fitted_temperature_undoes_an_overconfident_scale() {
        // Labels drawn from softmax(z): z is calibrated, so the fit on
        // 3 z finds T near 3, and on z / 2 near 1/2.
        let mut rng = StdRng::seed_from_u64(9);
        let (n, classes) = (20_000, 4);
        let z: Vec<f32> = (0..n * classes).map(|_| rng.random_range(-2.0..2.0f32)).collect();
        let mut p = vec![0.0; classes];
        let labels: Vec<u8> = z
            .chunks(classes)
            .map(|row| {
                p.fill(0.0);
                add_softmax(row, 1.0, 1.0, &mut p);
                let u: f32 = rng.random();
                let mut acc = 0.0;
                p.iter()
                    .position(|&q| {
                        acc += q;
                        u < acc
                    })
                    .unwrap_or(classes - 1) as u8
            })
            .collect();
        for (scale, want) in [(3.0f32, 3.0f32), (1.0, 1.0), (0.5, 0.5)] {
            let scaled: Vec<f32> = z.iter().map(|v| v * scale).collect();
            let t = fit_temperature(&scaled, &labels, classes);
            assert!((t / want - 1.0).abs() < 0.06, "scale {scale}: T {t}");
        }
        // softmax(logits / T) at T = 2 is softmax of half the logits.
        let (mut a, mut b) = ([0.0; 3], [0.0; 3]);
        add_softmax(&[1.0, 3.0, -2.0], 2.0, 1.0, &mut a);
        add_softmax(&[0.5, 1.5, -1.0], 1.0, 1.0, &mut b);
        assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-6), "{a:?} {b:?}");
    }

    #[test]
    fn a_calibrated_discriminator_fits_its_temperature_on_envs_it_never_trains_on() {
        let (obs, act) = spaces();
        let config = TandemConfig {
            buffer_size: 100,
            batch_size: 16,
            train_steps: 2,
            cnn: CnnConfig { channels: vec![4], kernels: vec![3], strides: vec![1], features: 8 },
            calibration_envs: 2,
            calibration_size: 3,
            ..TandemConfig::default()
        };
        let (layout, _) = tandem_layout(&config, &obs, &act).unwrap();
        let device = Device::flex().autodiff();
        let no_room = TandemConfig { calibration_size: 0, ..config.clone() };
        let e = Tandem::new(no_room, layout.clone(), 0, &device).err().expect("refused").to_string();
        assert!(e.contains("tandem.calibration_size"), "{e}");
        for weight in [0.0, 1.5, f32::NAN] {
            let bad = TandemConfig { calibration_smoothing: weight, ..config.clone() };
            let e = Tandem::new(bad, layout.clone(), 0, &device).err().expect("refused").to_string();
            assert!(e.contains("tandem.calibration_smoothing") && e.contains("(0, 1]"), "{e}");
        }
        let mut t = Tandem::new(config, layout, 0, &device).unwrap();
        let mut rng = StdRng::seed_from_u64(1);
        // One step of 12 envs: random grids, classes 0 1 2 0 1 2 ...
        let mut batch = vec![0.0f32; 12 * 66];
        for row in batch.chunks_mut(66) {
            row[..64].iter_mut().for_each(|c| *c = rng.random_range(0..3) as f32);
        }
        let infos: Vec<Info> = (0..12)
            .map(|k| {
                let mut info = Info::new(&[], &["object_id"]);
                info.facts[0].1 = (k % 3) as f64;
                info
            })
            .collect();
        // Envs 0 and 1 are held out; with too few grids to train on yet,
        // the temperature stays 1.
        t.store(&batch, 66, &infos[..]);
        assert_eq!((t.replay.len, t.held_out.len, &t.held_out.labels[..]), (10, 2, &[0, 1, 0][..]));
        assert!(t.train(&mut rng).is_none());
        assert_eq!(t.model.temperature(), 1.0);
        assert_eq!(&t.replay.labels[..10], &[2, 0, 1, 2, 0, 1, 2, 0, 1, 2]);
        // Once trained, it fits the temperature on the held-out ring (the
        // newest 3 grids).
        t.store(&batch, 66, &infos[..]);
        assert!(t.train(&mut rng).is_some());
        let floats: Vec<f32> = t.held_out.grids.iter().map(|&c| f32::from(c)).collect();
        let logits = to_vec(t.model.valid().logits(&floats, 3, &Device::flex()));
        assert_eq!(&t.held_out.labels[..], &[1, 1, 0]);
        assert_eq!(t.model.temperature(), fit_temperature(&logits, &t.held_out.labels, 3));
        assert!(t.model.temperature() != 1.0);
        assert_eq!(t.replay.len, 20);
    }

    #[test]
    fn a_smoothed_temperature_moves_its_share_of_the_way_in_log_space() {
        assert_eq!(smoothed_temperature(3.0, 0.5, 1.0), 0.5);
        // Half way from 1 to 4 in ln T is 2; from 4 to 1, also 2.
        assert!((smoothed_temperature(1.0, 4.0, 0.5) - 2.0).abs() < 1e-6);
        assert!((smoothed_temperature(4.0, 1.0, 0.5) - 2.0).abs() < 1e-6);
        // A tenth a time, twenty fits of 8 take 1 to 8^(1 - 0.9^20).
        let t = (0..20).fold(1.0, |t, _| smoothed_temperature(t, 8.0, 0.1));
        assert!((t - 8f32.powf(1.0 - 0.9f32.powi(20))).abs() < 1e-4, "{t}");
    }

    #[test]
    fn a_class_is_declared_only_at_the_threshold() {
        // Probabilities 1/8, 2/8, 5/8: class 2 (action 3) at threshold 0.6,
        // nothing at 0.7.
        let probs = [0.125, 0.25, 0.625, 0.5, 0.25, 0.25];
        let mut out = [9.0; 2];
        declare_from(&probs, 3, 0.6, &mut out);
        assert_eq!(out, [3.0, 0.0]);
        declare_from(&probs, 3, 0.7, &mut out);
        assert_eq!(out, [0.0, 0.0]);
    }

    #[test]
    fn the_discriminator_learns_to_tell_grids_apart_and_then_declares() {
        // Three classes of 8 x 8 grids: contact cells (code 2) in the top
        // row, the left column or the diagonal, with random free cells.
        let (obs, act) = spaces();
        let config = TandemConfig {
            buffer_size: 300,
            batch_size: 32,
            train_steps: 1,
            learning_rate: 3e-3,
            cnn: CnnConfig { channels: vec![4], kernels: vec![3], strides: vec![1], features: 16 },
            ..TandemConfig::default()
        };
        let (layout, _) = tandem_layout(&config, &obs, &act).unwrap();
        let device = Device::flex().autodiff();
        let mut t = Tandem::new(config, layout, 0, &device).unwrap();
        let mut rng = StdRng::seed_from_u64(0);
        let grid = |class: usize, rng: &mut StdRng| {
            let mut o = vec![0.0f32; 66];
            for cell in &mut o[..64] {
                *cell = if rng.random_bool(0.3) { 1.0 } else { 0.0 };
            }
            for i in 0..8 {
                let c = [i, i * 8, i * 9][class];
                o[c] = 2.0;
            }
            o
        };
        let mut infos = Vec::new();
        let mut batch = Vec::new();
        for k in 0..300 {
            let mut info = Info::new(&[], &["object_id"]);
            info.facts[0].1 = (k % 3) as f64;
            infos.push(info);
            batch.extend(grid(k % 3, &mut rng));
        }
        t.store(&batch, 66, &infos);
        assert_eq!(t.replay.len, 300);
        let mut last = (0.0, 0.0);
        for _ in 0..150 {
            last = t.train(&mut rng).unwrap();
        }
        assert!(last.1 > 0.95, "accuracy {}", last.1);
        let fresh: Vec<f32> = (0..3).flat_map(|c| grid(c, &mut rng)).collect();
        let mut out = [0.0; 3];
        t.declare(&fresh, 66, &mut out);
        assert_eq!(out, [1.0, 2.0, 3.0]);
        // An empty grid is no class: nothing is declared.
        t.declare(&[0.0; 66], 66, &mut out[..1]);
        assert_eq!(out[0], 0.0);
        // Asking for more evidence (contact cells) than a grid holds: its
        // probabilities are uniform, nothing is declared, nothing stored.
        t.layout.evidence = (2.0, 9);
        t.declare(&fresh, 66, &mut out);
        assert_eq!(out, [0.0; 3]);
        let mut probs = [0.0; 9];
        t.probabilities(&fresh, 66, &mut probs);
        assert!(probs.iter().all(|&p| (p - 1.0 / 3.0).abs() < 1e-6));
        let next = t.replay.next;
        t.store(&fresh, 66, &infos[..3]);
        assert_eq!(t.replay.next, next);
        t.layout.evidence = (2.0, 8);
        t.declare(&fresh, 66, &mut out);
        assert_eq!(out, [1.0, 2.0, 3.0]);
    }
}
