//! Checkpoints (what `tactile train --resume` reads), and the plan of a
//! resumed run.
//!
//! A checkpoint is a policy folder ([`crate::TrainedPolicy`]) plus
//! `trainer.json` ([`TrainerState`]: the config, the learner's
//! [`PpoState`], each env's episode index), `optimizer.bpk` (Adam's state,
//! burn's burnpack format), under TANDEM `discriminator_optimizer.bpk`,
//! `replay.bin` and, when it calibrates, `held_out.bin` (the grids it holds
//! out of training), and `checksums.json` (CRC-32C of every other file,
//! checked before anything is read). It is written into a hidden folder and
//! renamed into place, so a crash leaves either the whole checkpoint or
//! none.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use burn::optim::OptimizerRecord;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use tactile_env::{Space, VecEnv};
use tactile_policy::{CHECKSUMS_FILE, PolicyError, PolicyMeta, verify_checksums, write_checksums};

use crate::RlError;
use crate::ppo::Ppo;
use crate::ppo::config::{Overrides, PpoConfig};
use crate::ppo::hook::BonusHook;
use crate::ppo::state::PpoState;
use crate::run_folder::RunConfig;
use crate::tandem::Tandem;
use crate::trained_policy::{io, write_atomically};
use crate::weights::load_module;

/// The `format` of a checkpoint's `trainer.json`.
pub const CHECKPOINT_FORMAT: &str = "tactile-checkpoint";
/// The version of that format this build reads and writes.
pub const CHECKPOINT_FORMAT_VERSION: u32 = 1;

/// A checkpoint's `trainer.json`: everything of a run that is not a
/// weight, an optimiser moment or a stored grid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// Always [`CHECKPOINT_FORMAT`].
    pub format: String,
    /// [`CHECKPOINT_FORMAT_VERSION`] when written.
    pub format_version: u32,
    /// The task id.
    pub env_id: String,
    /// The config of the run.
    pub config: PpoConfig,
    /// The learner's counters, normalisers and episodes so far.
    #[serde(flatten)]
    pub learner: PpoState,
    /// Each env's episode index since the run's seed.
    pub env_episodes: Vec<u64>,
    /// The discriminator's replay buffer's fill and next slot, under TANDEM.
    pub replay: Option<(usize, usize)>,
    /// The held-out grids' fill and next slot, under a calibrated TANDEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_out: Option<(usize, usize)>,
    /// Each env's value of the bonus fact after its last step.
    pub bonus_prev: Vec<f64>,
}

impl TrainerState {
    /// Reads and checks `trainer.json` of checkpoint folder `dir`.
    pub fn read(dir: &Path) -> Result<Self, RlError> {
        let path = dir.join("trainer.json");
        let state: TrainerState = serde_json::from_str(&fs::read_to_string(&path).map_err(io(&path))?)
            .map_err(|e| ckpt_err(&path, format!("not valid: {e}")))?;
        if state.format != CHECKPOINT_FORMAT || state.format_version != CHECKPOINT_FORMAT_VERSION {
            return Err(ckpt_err(
                &path,
                format!(
                    "format {} v{} is not {CHECKPOINT_FORMAT} v{CHECKPOINT_FORMAT_VERSION}",
                    state.format, state.format_version
                ),
            ));
        }
        Ok(state)
    }
}

fn ckpt_err(path: &Path, message: impl Into<String>) -> RlError {
    RlError::Checkpoint { path: path.to_owned(), message: message.into() }
}

/// Writes the run's state as checkpoint folder `dir` (atomically).
pub fn save_checkpoint(ppo: &Ppo, env: &VecEnv, dir: &Path) -> Result<(), RlError> {
    let env_id = env.id().to_owned();
    write_atomically(dir, |tmp| {
        // The checkpoint's weights are the training network's (the same values).
        ppo.policy(&env_id)?.write_files(tmp)?;
        let state = TrainerState {
            format: CHECKPOINT_FORMAT.into(),
            format_version: CHECKPOINT_FORMAT_VERSION,
            env_id: env_id.clone(),
            config: ppo.config.clone(),
            learner: ppo.state(),
            env_episodes: env.episodes.clone(),
            replay: ppo.tandem().map(|t| t.replay_fill()),
            held_out: ppo.tandem().and_then(|t| t.held_out_fill()),
            bonus_prev: match ppo.hook::<BonusHook>() {
                Some(b) => b.last.clone(),
                None => vec![0.0; ppo.config.num_envs],
            },
        };
        let path = tmp.join("trainer.json");
        let text = serde_json::to_string(&state).map_err(|e| ckpt_err(&path, e.to_string()))?;
        fs::write(&path, text).map_err(io(&path))?;
        let path = tmp.join("optimizer.bpk");
        ppo.optimizer_record().save(&path).map_err(|e| ckpt_err(&path, e.to_string()))?;
        if let Some(t) = ppo.tandem() {
            let path = tmp.join("discriminator_optimizer.bpk");
            t.optimizer_record().save(&path).map_err(|e| ckpt_err(&path, e.to_string()))?;
            for (name, parts) in t.ring_files() {
                let path = tmp.join(name);
                let mut f = std::io::BufWriter::new(fs::File::create(&path).map_err(io(&path))?);
                for part in parts {
                    f.write_all(part).map_err(io(&path))?;
                }
                f.flush().map_err(io(&path))?;
            }
        }
        // Checksums of everything (the policy's own list grows to the
        // whole checkpoint), checked before a resume reads anything.
        let mut names = Vec::new();
        for entry in fs::read_dir(tmp).map_err(io(tmp))? {
            let name = entry.map_err(io(tmp))?.file_name().to_string_lossy().into_owned();
            if name != CHECKSUMS_FILE {
                names.push(name);
            }
        }
        Ok(write_checksums(tmp, names.iter().map(String::as_str))?)
    })
}

/// Checks every file of checkpoint folder `dir` against `checksums.json`.
pub fn verify_checkpoint(dir: &Path) -> Result<(), RlError> {
    let path = dir.join(CHECKSUMS_FILE);
    let damaged = |message: String| RlError::Format(PolicyError::Damaged { path: path.clone(), message });
    let listed = verify_checksums(dir)?.ok_or_else(|| damaged("is missing".into()))?;
    for required in ["trainer.json", "optimizer.bpk", "model.safetensors", "meta.json"] {
        if !listed.iter().any(|l| l == required) {
            return Err(damaged(format!("lists no `{required}`")));
        }
    }
    Ok(())
}

/// Whether an error of [`verify_checkpoint`] means the checkpoint's files
/// were damaged on disk (a checksum mismatch, a listed file or the list
/// missing), rather than a failure that may pass (permissions, too many
/// open files).
fn is_damage(e: &RlError) -> bool {
    match e {
        RlError::Format(PolicyError::Damaged { .. }) => true,
        RlError::Format(PolicyError::Io { source, .. }) => source.kind() == std::io::ErrorKind::NotFound,
        _ => false,
    }
}

/// A run read back from a checkpoint.
pub struct Resumed {
    /// The learner, as it was.
    pub ppo: Ppo,
    /// Everything else the checkpoint held.
    pub state: TrainerState,
}

impl Resumed {
    /// Puts a fresh VecEnv of the run's task and size where the run left it.
    pub fn restore_env(&self, env: &mut VecEnv) -> Result<(), RlError> {
        Ok(env.restore(self.state.config.seed, &self.state.env_episodes, &self.state.learner.episodes.actions)?)
    }
}

/// Reads checkpoint folder `dir` (checksums first) into a learner on
/// `device`, for envs with these spaces and privileged state length.
pub fn load_checkpoint(
    dir: &Path,
    obs_space: &Space,
    act_space: &Space,
    state_dim: usize,
    device: Device,
) -> Result<Resumed, RlError> {
    verify_checkpoint(dir)?;
    let state = TrainerState::read(dir)?;
    let path = dir.join("trainer.json");
    if state.env_episodes.len() != state.config.num_envs || state.bonus_prev.len() != state.config.num_envs {
        return Err(ckpt_err(&path, "per-env state does not match num_envs or the observation space"));
    }
    let mut ppo = Ppo::new(state.config.clone(), obs_space, act_space, state_dim, device)?;
    ppo.restore(state.learner.clone())
        .map_err(|_| ckpt_err(&path, "per-env state does not match num_envs or the observation space"))?;
    ppo.model = load_module(ppo.model, &dir.join("model.safetensors"))?;
    let path = dir.join("optimizer.bpk");
    let record = OptimizerRecord::load(&path).map_err(|e| ckpt_err(&path, e.to_string()))?;
    ppo.load_optimizer_record(record);
    if let Some(b) = ppo.hook_mut::<BonusHook>() {
        b.last = state.bonus_prev.clone();
    }
    if let Some(t) = ppo.hook_mut::<Tandem>() {
        let path = dir.join("discriminator.safetensors");
        let temperature = PolicyMeta::read(dir)
            .map_err(|e| ckpt_err(&dir.join("meta.json"), e.to_string()))?
            .discriminator
            .map_or(1.0, |d| d.temperature);
        t.model = load_module(t.model.clone(), &path)?.with_temperature(temperature);
        let path = dir.join("discriminator_optimizer.bpk");
        let record = OptimizerRecord::load(&path).map_err(|e| ckpt_err(&path, e.to_string()))?;
        t.load_optimizer_record(record);
        let fills = [("replay.bin", state.replay), ("held_out.bin", state.held_out)];
        for (name, fill) in fills {
            if name == "held_out.bin" && t.held_out_fill().is_none() {
                continue;
            }
            let path = dir.join(name);
            let bytes = fs::read(&path).map_err(io(&path))?;
            t.restore_ring(name, &bytes, fill.unwrap_or((0, 0))).map_err(|e| ckpt_err(&path, e))?;
        }
    }
    Ok(Resumed { ppo, state })
}

/// The checkpoints of a run folder, oldest first (hidden partial ones, and
/// damaged ones set aside as `update_<n>.damaged`, are not checkpoints).
pub fn list_checkpoints(run_dir: &Path) -> Result<Vec<PathBuf>, RlError> {
    let dir = run_dir.join("checkpoints");
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut found: Vec<PathBuf> = fs::read_dir(&dir)
        .map_err(io(&dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            p.is_dir() && name.starts_with("update_") && !name.contains('.')
        })
        .collect();
    found.sort();
    Ok(found)
}

/// The folder of the checkpoint after `updates` updates.
pub fn checkpoint_dir(run_dir: &Path, updates: u64) -> PathBuf {
    run_dir.join("checkpoints").join(format!("update_{updates:07}"))
}

/// What a resumed run goes on from, checked before anything in its folder
/// is touched.
#[derive(Clone, Debug)]
pub struct ResumePlan {
    /// The newest whole checkpoint.
    pub checkpoint: PathBuf,
    /// The run's config with what may change (the length of the run, the
    /// threads) as asked.
    pub config: PpoConfig,
    /// Newer checkpoints that are damaged, newest first, each with what is
    /// wrong with it.
    pub damaged: Vec<(PathBuf, String)>,
}

impl ResumePlan {
    /// Plans going on with the run in `run_dir` (of task `env_id`) from
    /// its latest checkpoint, with `overrides` on top of the run's config;
    /// refuses anything but a longer or shorter run and other threads.
    pub fn new(run_dir: &Path, env_id: &str, overrides: &Overrides<'_>) -> Result<Self, RlError> {
        let bad = |message: String| Err(ckpt_err(run_dir, message));
        let run = RunConfig::read(run_dir)?;
        if run.env_id != env_id {
            let other = &run.env_id;
            return bad(format!(
                "the run trains {other}, not {env_id} (resume it with `tactile train {other} --resume ...`)"
            ));
        }
        let all = list_checkpoints(run_dir)?;
        if all.is_empty() {
            return bad("no checkpoint to resume from (checkpoints/ is empty or missing)".into());
        }
        // The newest checkpoint that is whole; the damaged ones after it
        // are reported, never read.
        let mut damaged = Vec::new();
        let mut found = None;
        for checkpoint in all.iter().rev() {
            match verify_checkpoint(checkpoint) {
                Ok(()) => {
                    found = Some((checkpoint.clone(), TrainerState::read(checkpoint)?.config));
                    break;
                }
                Err(e) if is_damage(&e) => damaged.push((checkpoint.clone(), e.to_string())),
                Err(e) => return Err(e),
            }
        }
        let Some((checkpoint, saved)) = found else {
            let (_, newest) = &damaged[0];
            return bad(format!("no whole checkpoint to resume from; the newest: {newest}"));
        };
        let mut wanted = match overrides.file {
            Some(file) => saved.merged_with(file)?,
            None => saved.clone(),
        };
        wanted.apply(overrides);
        let saved_algo = saved.algo().as_str();
        if let Some(algo) = overrides.algo.filter(|&a| a != saved_algo) {
            return bad(format!("the run trains with {saved_algo}; it cannot resume as {algo}"));
        }
        let differing = saved.differences(&wanted);
        if !differing.is_empty() {
            return bad(format!(
                "cannot resume with another config ({} differ); only --steps and --threads may change",
                differing.join(", ")
            ));
        }
        wanted.validate()?;
        Ok(ResumePlan { checkpoint, config: wanted, damaged })
    }
}
