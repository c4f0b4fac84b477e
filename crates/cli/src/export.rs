//! `tactile export` (a policy folder to ONNX or to a runtime folder) and
//! `tactile act` (actions for a batch of observations from a policy folder
//! or an ONNX file).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use rand::SeedableRng;
use rand::rngs::StdRng;
use tactile_env::{Env, Info};
use tactile_policy::PolicyMeta;
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::Factoid;

/// What `tactile export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One ONNX file: normalisation, network, heads, discriminator and
    /// clipping in one graph (input `obs`, output `action`).
    Onnx,
    /// The runtime's policy folder (what tactile-policy loads on a robot).
    Policy,
}

/// A run folder means its `final/`.
pub fn policy_dir(dir: &Path) -> PathBuf {
    if !dir.join("meta.json").exists() && dir.join("final").join("meta.json").exists() {
        dir.join("final")
    } else {
        dir.to_owned()
    }
}

/// Observations the policy meets: `episodes` seeded episodes of its task
/// driven by the trained policy itself, at most `steps` each.
fn visited_observations(policy: &tactile_rl::TrainedPolicy, episodes: u64, steps: usize) -> Result<Vec<f32>> {
    let env_id = &policy.meta.env_id;
    let mut env = tactile_env::make(env_id, None).with_context(|| format!("making {env_id}"))?;
    let (od, ad) = (env.observation_space().flat_dim(), env.action_space().flat_dim());
    let (mut obs, mut action, mut info): (Vec<f32>, Vec<f32>, Info) = (vec![0.0; od], vec![0.0; ad], env.new_info());
    let mut rng = StdRng::seed_from_u64(7);
    let mut all = Vec::new();
    for e in 0..episodes {
        env.reset(Some(1000 + e), &mut obs, &mut info);
        for _ in 0..steps {
            all.extend_from_slice(&obs);
            policy.act_with(&obs, &mut action, Some(&mut rng));
            let step = env.step(&action, &mut obs, &mut info)?;
            if step.terminated || step.truncated {
                break;
            }
        }
    }
    Ok(all)
}

/// Runs an ONNX file on a batch of observations with tract.
pub fn run_onnx(path: &Path, obs: &[f32], obs_dim: usize) -> Result<Vec<f32>> {
    run_onnx_model(load_onnx(path)?, path, obs, obs_dim)
}

/// Reads an ONNX file (not yet typed or optimised).
fn load_onnx(path: &Path) -> Result<InferenceModel> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let model = tract_onnx::onnx()
        .model_for_read(&mut std::io::Cursor::new(&bytes))
        .map_err(|e| anyhow::anyhow!("{}: not an ONNX model: {e}", path.display()))?;
    if tactile_policy::verify_onnx(&bytes, path)? == tactile_policy::OnnxCheck::Unsigned {
        eprintln!(
            "warning: {} carries no tactile checksum ({}), so damage to it goes unseen",
            path.display(),
            tactile_policy::ONNX_CHECKSUM_KEY
        );
    }
    Ok(model)
}

/// Runs a loaded ONNX policy on a batch of observations.
fn run_onnx_model(model: InferenceModel, path: &Path, obs: &[f32], obs_dim: usize) -> Result<Vec<f32>> {
    let batch = obs.len() / obs_dim.max(1);
    let model = model
        .with_input_fact(0, f32::fact([batch, obs_dim]).into())
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .map_err(|e| anyhow::anyhow!("{}: not a usable ONNX policy: {e}", path.display()))?;
    let input = Tensor::from_shape(&[batch, obs_dim], obs)?;
    let out = model.run(tvec!(input.into())).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let values = out[0]
        .try_as_plain_ram()
        .and_then(|v| v.as_slice::<f32>().map(<[f32]>::to_vec))
        .map_err(|e| anyhow::anyhow!("{}: output: {e}", path.display()))?;
    Ok(values)
}

/// The ONNX model's observation width (its input's second dimension).
fn onnx_obs_dim(model: &InferenceModel, path: &Path) -> Result<usize> {
    let fact = model.input_fact(0).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let dims: Vec<String> = fact.shape.dims().map(|d| format!("{d:?}")).collect();
    fact.shape
        .dims()
        .nth(1)
        .and_then(|d| d.concretize())
        .and_then(|d| d.as_i64())
        .and_then(|d| usize::try_from(d).ok())
        .with_context(|| format!("{}: input `obs` has no fixed width ({dims:?})", path.display()))
}

fn largest_difference(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// Says on stderr what a user should know about a policy folder that
/// loaded (an old format without checksums).
pub fn warn_if_old(meta: &PolicyMeta) {
    if let Some(warning) = meta.warning() {
        eprintln!("warning: {warning}");
    }
}

/// `tactile export`: writes the file or folder, then checks it against
/// the trained network on observations from seeded episodes. With
/// `discriminator`, the written policy declares by it (the posterior's
/// description goes into the folder's `meta.json`). An ONNX graph holds
/// the co-trained CNN as its discriminator: a posterior does not fit in
/// one, so a policy that declares by its posterior is checked against the
/// ONNX file with its CNN declaring.
pub fn export(
    dir: &Path,
    format: Format,
    out: &Path,
    discriminator: Option<tactile_rl::DiscriminatorKind>,
) -> Result<()> {
    let dir = policy_dir(dir);
    let mut trained = tactile_rl::TrainedPolicy::load(&dir)?;
    if let Some(kind) = discriminator {
        trained
            .set_discriminator(kind, &tactile_rl::PosteriorConfig::default())
            .with_context(|| format!("--discriminator: {}", dir.display()))?;
    }
    warn_if_old(&trained.meta);
    let mut meta: PolicyMeta = trained.meta.clone();
    // Written in the current format, with checksums.
    meta.format_version = tactile_policy::POLICY_FORMAT_VERSION;
    // Folders written before the bounds and taxels were recorded get them
    // from the task.
    let env = tactile_env::make(&meta.env_id, None)?;
    if meta.action_bounds.is_empty() {
        meta.action_bounds = tactile_rl::action_bounds(env.action_space());
    }
    if meta.taxels.is_empty() {
        meta.taxels = tactile_rl::taxel_slots(&env);
    }
    let staging =
        out.with_file_name(format!(".{}.partial", out.file_name().and_then(|n| n.to_str()).unwrap_or("export")));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).with_context(|| format!("removing {}", staging.display()))?;
    }
    std::fs::create_dir_all(&staging).with_context(|| format!("creating {}", staging.display()))?;
    meta.write(&staging)?;
    let mut files = vec!["meta.json"];
    for file in ["model.safetensors", "discriminator.safetensors"] {
        if dir.join(file).exists() {
            std::fs::copy(dir.join(file), staging.join(file))
                .with_context(|| format!("copying {}", dir.join(file).display()))?;
            files.push(file);
        }
    }
    tactile_policy::write_checksums(&staging, files)?;
    let mut runtime = tactile_policy::Policy::load(&staging)?;
    let obs = visited_observations(&trained, 10, 100)?;
    let (od, ad) = (meta.obs_dim(), meta.action_dim());
    let batch = obs.len() / od;
    // One observation at a time, in the episodes' order: a posterior
    // discriminator then reads each grid as its episode's next (a batch
    // would read every row as a new episode, from the start).
    let (mut expected, mut got) = (vec![0.0; batch * ad], vec![0.0; batch * ad]);
    for ((o, e), g) in obs.chunks(od).zip(expected.chunks_mut(ad)).zip(got.chunks_mut(ad)) {
        trained.act(o, e);
        runtime.act(o, g)?;
    }
    let runtime_diff = largest_difference(&expected, &got);
    let (written, diff) = match format {
        Format::Policy => {
            if out.exists() {
                std::fs::remove_dir_all(out).with_context(|| format!("replacing {}", out.display()))?;
            }
            std::fs::rename(&staging, out).with_context(|| format!("writing {}", out.display()))?;
            (out.display().to_string(), runtime_diff)
        }
        Format::Onnx => {
            let bytes = runtime.to_onnx();
            let tmp = staging.join("policy.onnx");
            std::fs::write(&tmp, &bytes).with_context(|| format!("writing {}", tmp.display()))?;
            let onnx = run_onnx(&tmp, &obs, od)?;
            if trained.meta.discriminator.as_ref().is_some_and(|d| d.posterior.is_some()) {
                trained.set_discriminator(tactile_rl::DiscriminatorKind::Learned, &Default::default())?;
                for (o, e) in obs.chunks(od).zip(expected.chunks_mut(ad)) {
                    trained.act(o, e);
                }
                println!(
                    "{}: the ONNX graph declares by the co-trained CNN (the runtime, by the posterior)",
                    out.display()
                );
            }
            let diff = largest_difference(&expected, &onnx).max(runtime_diff);
            std::fs::rename(&tmp, out).with_context(|| format!("writing {}", out.display()))?;
            std::fs::remove_dir_all(&staging).ok();
            (out.display().to_string(), diff)
        }
    };
    if diff > 1e-4 {
        bail!("{written}: the export's actions differ from the trained network's by {diff:e} on {batch} observations");
    }
    println!(
        "{written}: {} ({}), {batch} observations from 10 seeded episodes act as the trained network (largest difference {diff:.1e})",
        meta.env_id, meta.algo
    );
    Ok(())
}

/// `tactile act`: actions for a JSON batch of observations.
pub fn act(source: &Path, obs_file: &Path) -> Result<()> {
    let text = std::fs::read_to_string(obs_file).with_context(|| format!("reading {}", obs_file.display()))?;
    // Read as f64, then narrowed: a value beyond f32's range becomes an
    // infinity that the check below names (serde_json refuses it as an f32
    // with only a column number).
    let wide: Vec<Vec<f64>> = serde_json::from_str(&text)
        .with_context(|| format!("{}: expected a JSON array of arrays of numbers", obs_file.display()))?;
    let rows: Vec<Vec<f32>> = wide.iter().map(|r| r.iter().map(|&v| v as f32).collect()).collect();
    let is_onnx = source.extension().is_some_and(|e| e.eq_ignore_ascii_case("onnx"));
    // The ONNX file is read once: its input width, then the run.
    let onnx = if is_onnx { Some(load_onnx(source)?) } else { None };
    let obs_dim = match &onnx {
        Some(model) => onnx_obs_dim(model, source)?,
        None => PolicyMeta::read(&policy_dir(source))?.obs_dim(),
    };
    if let Some((i, row)) = rows.iter().enumerate().find(|(_, r)| r.len() != obs_dim) {
        bail!("{}: observation {i} has {} values, the policy reads {obs_dim}", obs_file.display(), row.len());
    }
    if rows.is_empty() {
        bail!("{}: no observations", obs_file.display());
    }
    for (i, row) in rows.iter().enumerate() {
        if let Some(k) = row.iter().position(|v| !v.is_finite()) {
            bail!(
                "{}: observation {i}: value {k} is {} (a policy acts on finite values only)",
                obs_file.display(),
                row[k]
            );
        }
    }
    let flat: Vec<f32> = rows.concat();
    let (actions, action_dim) = if let Some(model) = onnx {
        let a = run_onnx_model(model, source, &flat, obs_dim)?;
        let ad = a.len() / rows.len();
        (a, ad)
    } else {
        let mut policy = tactile_policy::Policy::load(&policy_dir(source))?;
        warn_if_old(policy.meta());
        let ad = policy.meta().action_dim();
        let mut a = vec![0.0; rows.len() * ad];
        policy.act_batch(&flat, &mut a).with_context(|| obs_file.display().to_string())?;
        (a, ad)
    };
    // The runtime refuses a non-finite action itself; an ONNX graph does
    // not, so the same refusal is made here.
    if let Some(k) = actions.iter().position(|a| !a.is_finite()) {
        let row = k / action_dim.max(1);
        bail!(
            "{}: the action for observation {row} is not finite (does that observation hold an infinity?); \
             no action was written",
            source.display()
        );
    }
    let out: Vec<&[f32]> = actions.chunks(action_dim.max(1)).collect();
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}
