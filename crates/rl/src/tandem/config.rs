//! TANDEM's settings (`[tandem]` in a PPO config): plain data, read with
//! the rest of the training config.

use serde::{Deserialize, Serialize};

use tactile_env::tasks::explorers::Scripted;

use crate::encoder::{CnnConfig, PolarView};

/// The co-training's settings (`[tandem]` in a PPO config).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TandemConfig {
    /// The entry of the Dict action space that the discriminator fills
    /// (a Discrete: 0 goes on, `k + 1` declares class `k`).
    pub action: String,
    /// The info fact that holds the true class.
    pub label_fact: String,
    /// Declare once the top class probability reaches this.
    pub threshold: f32,
    /// Grids kept in the replay buffer (the oldest go first).
    pub buffer_size: usize,
    /// Grids in one discriminator minibatch.
    pub batch_size: usize,
    /// Discriminator minibatches after every rollout.
    pub train_steps: usize,
    /// Adam's learning rate for the discriminator.
    pub learning_rate: f64,
    /// The discriminator's CNN.
    pub cnn: CnnConfig,
    /// Weight of the explorer's shaping reward `shaping * (gamma * p' -
    /// p)`, where `p` is the discriminator's probability of the true class
    /// before a move and `p'` after it (0 once the episode ends): a
    /// potential-based term (Ng et al., 1999), so the best explorer stays
    /// the best, that pays at once for moves that make the discriminator
    /// surer instead of only at the declaration. 0 turns it off.
    pub shaping: f32,
    /// Train on each grid turned by a random quarter turn about its centre:
    /// right where the class does not change with the turn (Explore-v0:
    /// the object's yaw is uniform and the workspace square and centred).
    pub rotate: bool,
    /// Read the discriminator's probabilities as the mean of those of the
    /// grid's four quarter turns about its centre (test-time augmentation):
    /// a discriminator trained with `rotate` answers each turn a little
    /// differently, and the mean is right more often than any one reading
    /// but surer later, so it wants a lower `threshold`. Four forward
    /// passes where one was; training's minibatches are unchanged, and a
    /// calibration fits the temperature on single readings. Needs a square
    /// grid read as it is (a polar discriminator answers the same for every
    /// turn already). Saved policies carry it (the runtime and ONNX read
    /// the same mean).
    pub turn_average: bool,
    /// The grid code of a cell that is evidence (Explore-v0: 2, contact).
    pub evidence_code: f32,
    /// Grids with fewer evidence cells are not classified: they are not
    /// stored for training, nothing is declared on them, and their class
    /// probabilities count as uniform. Without it the discriminator learns
    /// to read the class from the path through free space (which episodes
    /// share by chance), declares with confidence and is wrong; and the
    /// explorer learns to hide from it.
    pub min_evidence_cells: usize,
    /// Read the grid in polar form about its centre ([`PolarView`]): the
    /// CNN's convolutions wrap around the angle and its features are the
    /// maximum over all angles, so it answers the same for every turn of
    /// the object about the centre and need not learn each turn apart.
    /// Right where the object stands at the grid's centre (Explore-v0).
    /// `rotate` is then not needed.
    pub polar: Option<PolarView>,
    /// Envs whose grids are held out of training to calibrate the
    /// probabilities (0: no calibration). After each retraining, the
    /// temperature `T` that makes the newest `calibration_size` of these
    /// grids' labels most likely under `softmax(logits / T)` is fitted,
    /// and the probabilities are read with it. A network trained by
    /// cross-entropy grows surer than it is right on episodes it has not
    /// seen; calibrated, a 0.98 top probability is right about 98 % of the
    /// time. The grids must come from episodes it never trained on
    /// (earlier grids of the same episode would make it look surer than it
    /// is), hence whole envs. Saved policies carry `T`.
    pub calibration_envs: usize,
    /// Held-out grids kept for the calibration (the newest).
    pub calibration_size: usize,
    /// Weight of each new fit in the temperature, in `(0, 1]`: `ln T`
    /// moves this share of the way to the fitted `ln T` after each
    /// retraining. 1 takes every fit as it is; less damps a single
    /// outlying fit, though not a drift that lasts (what it measured on
    /// Explore-v0 is in `envs/Explore-v0.ppo.toml`).
    pub calibration_smoothing: f32,
    /// A scripted explorer that moves the finger in place of PPO's
    /// (`"random-walk"`, `"not-go-back"`, `"edge-follower"`): TANDEM's
    /// baselines, each with a discriminator trained on its own grids. PPO
    /// then learns nothing; only the discriminator trains. `tactile train
    /// --explorer NAME` sets it.
    pub explorer: Option<Scripted>,
    /// Who declares in the saved policy: `"learned"` (the co-trained CNN,
    /// TANDEM's own) or `"posterior"` (the Bayes posterior over the task's
    /// known objects, [`PosteriorConfig`]; the Explore tasks that mark the
    /// cell the finger could not enter). Training co-trains the CNN either
    /// way, and the explorer's reward comes from it; the policy folder
    /// keeps both, and `tactile eval --discriminator` chooses.
    pub discriminator: DiscriminatorKind,
    /// The posterior's settings (`[tandem.posterior]`).
    pub posterior: PosteriorConfig,
}

/// Who declares (`[tandem] discriminator`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiscriminatorKind {
    /// The co-trained CNN.
    #[default]
    Learned,
    /// The Bayes posterior over the task's objects.
    Posterior,
}

impl DiscriminatorKind {
    /// The kind of a command-line name (`learned`, `posterior`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "learned" => Some(Self::Learned),
            "posterior" => Some(Self::Posterior),
            _ => None,
        }
    }
}

/// The Bayes posterior discriminator's settings (`[tandem.posterior]`);
/// the objects, the finger, the grid and the sensor come from the task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PosteriorConfig {
    /// Declare once the top object's probability reaches this.
    pub threshold: f32,
    /// How far past the finger's radius a guarded move may still touch
    /// (m; Explore-v2: its last 1 mm increment and the drive's lag).
    pub guard_m: f32,
    /// Lattice yaws over a turn.
    pub yaws: usize,
    /// Lattice offsets per axis over the object's jitter.
    pub offsets: usize,
}

impl Default for PosteriorConfig {
    fn default() -> Self {
        let lattice = tactile_policy::PoseLattice::default();
        PosteriorConfig { threshold: 0.9, guard_m: 0.002, yaws: lattice.yaws, offsets: lattice.offsets }
    }
}

impl Default for TandemConfig {
    fn default() -> Self {
        TandemConfig {
            action: "declare".into(),
            label_fact: "object_id".into(),
            threshold: 0.98,
            buffer_size: 20_000,
            batch_size: 256,
            train_steps: 8,
            learning_rate: 1e-3,
            cnn: CnnConfig::default(),
            shaping: 0.0,
            rotate: false,
            turn_average: false,
            evidence_code: 2.0,
            min_evidence_cells: 0,
            polar: None,
            calibration_envs: 0,
            calibration_size: 1024,
            calibration_smoothing: 1.0,
            explorer: None,
            discriminator: DiscriminatorKind::Learned,
            posterior: PosteriorConfig::default(),
        }
    }
}
