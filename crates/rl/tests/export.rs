//! The exported policy acts as the trained burn network: the allocation-
//! free runtime (tactile-policy) and the ONNX file (run by tract) against
//! burn on 1,000 random observations, for an MLP policy (Press-v0) and a
//! CNN + MLP TANDEM policy (Explore-v0: egocentric grid, discriminator on
//! the grid as it is or in polar form).

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tactile_env::VecEnv;
use tactile_rl::{CnnConfig, PolarView, Ppo, PpoConfig, TandemConfig, TrainedPolicy};
use tract_onnx::prelude::*;

const SAMPLES: usize = 1000;

/// Signs a deliberately edited policy folder again (its checksums.json),
/// so that what is tested is the edit, not the checksum.
fn resign(dir: &Path) {
    let files = ["meta.json", "model.safetensors", "discriminator.safetensors"];
    tactile_policy::write_checksums(dir, files.into_iter().filter(|f| dir.join(f).exists())).unwrap();
}

fn trained(env_id: &str, config: PpoConfig, updates: usize, dir: &Path) -> TrainedPolicy {
    let mut env = VecEnv::make(env_id, config.num_envs, 1, None).unwrap();
    env.reset(config.seed).unwrap();
    let mut ppo =
        Ppo::new(config, env.observation_space(), env.action_space(), env.state_dim(), Device::flex()).unwrap();
    for _ in 0..updates {
        ppo.iterate(&mut env).unwrap();
    }
    let policy = ppo.policy(env_id).unwrap();
    policy.save(dir).unwrap();
    policy
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tactile-export-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn run_onnx(bytes: &[u8], obs: &[f32], obs_dim: usize) -> Vec<f32> {
    let batch = obs.len() / obs_dim;
    let model = tract_onnx::onnx()
        .model_for_read(&mut std::io::Cursor::new(bytes))
        .unwrap()
        .with_input_fact(0, f32::fact([batch, obs_dim]).into())
        .unwrap()
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap();
    let out = model.run(tvec!(Tensor::from_shape(&[batch, obs_dim], obs).unwrap().into())).unwrap();
    out[0].try_as_plain_ram().unwrap().as_slice::<f32>().unwrap().to_vec()
}

/// Largest |a - b| / max(1, |b|).
fn worst(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs() / y.abs().max(1.0)).fold(0.0, f32::max)
}

/// Checks the runtime and the ONNX graph against burn on `obs`.
fn compare(burn: &TrainedPolicy, dir: &Path, obs: &[f32]) {
    let mut runtime = tactile_policy::Policy::load(dir).unwrap();
    let (od, ad) = (runtime.meta().obs_dim(), runtime.meta().action_dim());
    let batch = obs.len() / od;
    assert_eq!(batch, SAMPLES);
    // The actor's outputs.
    let expected = burn.actor_outputs(obs);
    let width = expected.len() / batch;
    let mut got = Vec::with_capacity(expected.len());
    for row in obs.chunks(od) {
        got.extend_from_slice(runtime.outputs(row).unwrap());
    }
    let e = worst(&got, &expected);
    assert!(e <= 1e-5, "runtime outputs differ from burn's by {e}");
    // The discriminator's probabilities.
    if let Some(expected) = burn.class_probabilities(obs) {
        let mut got = Vec::new();
        for row in obs.chunks(od) {
            got.extend_from_slice(runtime.class_probabilities(row).unwrap());
        }
        let e = worst(&got, &expected);
        assert!(e <= 1e-5, "runtime class probabilities differ from burn's by {e}");
    }
    // The actions: burn's, the runtime's, the ONNX graph's. A choice may
    // only differ where burn's own logits tie within the tolerance.
    let mut burn_actions = vec![0.0; batch * ad];
    burn.act(obs, &mut burn_actions);
    let mut runtime_actions = vec![0.0; batch * ad];
    runtime.act_batch(obs, &mut runtime_actions).unwrap();
    let onnx = runtime.to_onnx();
    let onnx_actions = run_onnx(&onnx, obs, od);
    let near_tie = |b: usize| {
        let row = &expected[b * width..(b + 1) * width];
        let mut sorted = row.to_vec();
        sorted.sort_by(|x, y| y.total_cmp(x));
        sorted.windows(2).any(|w| (w[0] - w[1]).abs() < 1e-4)
    };
    let mut declared = 0;
    for b in 0..batch {
        let want = &burn_actions[b * ad..(b + 1) * ad];
        if runtime.meta().discriminator.is_some() && want[1] > 0.0 {
            declared += 1;
        }
        for (name, got) in [("runtime", &runtime_actions), ("onnx", &onnx_actions)] {
            let got = &got[b * ad..(b + 1) * ad];
            let e = worst(got, want);
            assert!(e <= 1e-5 || near_tie(b), "{name} action {b}: {got:?}, burn {want:?}");
        }
    }
    if runtime.meta().discriminator.is_some() {
        assert!(declared > 50 && declared < batch - 50, "the test should exercise both branches: {declared}");
    }
}

#[test]
fn an_mlp_policy_exports_to_the_runtime_and_to_onnx() {
    let config =
        PpoConfig { num_envs: 2, num_steps: 64, hidden: vec![64, 64], ..PpoConfig::for_task("Press-v0").unwrap() };
    let dir = temp("press");
    let burn = trained("Press-v0", config, 2, &dir);
    let meta = tactile_policy::PolicyMeta::read(&dir).unwrap();
    assert_eq!(meta.action_bounds, vec![[Some(-1.0), Some(1.0)]]);
    assert_eq!(meta.taxels.len(), 1);
    assert_eq!((meta.taxels[0].obs_offset, meta.taxels[0].count), (0, 64));
    let mut rng = StdRng::seed_from_u64(3);
    // Wide enough that some means fall outside the bounds and are clipped.
    let obs: Vec<f32> = (0..SAMPLES * 66).map(|_| rng.random_range(-4.0..4.0)).collect();
    compare(&burn, &dir, &obs);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn an_asymmetric_actor_critic_exports_an_actor_that_reads_the_observation_alone() {
    // A critic that also reads InHandRotate-v0's privileged state (17
    // values): the policy folder keeps that critic, the runtime and the
    // ONNX graph act from the observation alone.
    let config = PpoConfig {
        num_envs: 2,
        num_steps: 32,
        privileged_critic: true,
        ..PpoConfig::for_task("InHandRotate-v0").unwrap()
    };
    let dir = temp("in-hand");
    let burn = trained("InHandRotate-v0", config, 1, &dir);
    let meta = tactile_policy::PolicyMeta::read(&dir).unwrap();
    assert_eq!(meta.network.critic_state_dim, 17);
    let od = meta.obs_dim();
    let mut rng = StdRng::seed_from_u64(5);
    let obs: Vec<f32> = (0..SAMPLES * od).map(|_| rng.random_range(-2.0..2.0)).collect();
    compare(&burn, &dir, &obs);
    // Reloaded from the folder, the burn policy acts the same.
    let again = TrainedPolicy::load(&dir).unwrap();
    assert_eq!(again.actor_outputs(&obs), burn.actor_outputs(&obs));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_privileged_critic_on_a_task_without_a_state_is_refused_by_name() {
    let config = PpoConfig { privileged_critic: true, ..PpoConfig::for_task("Press-v0").unwrap() };
    let env = VecEnv::make("Press-v0", config.num_envs, 1, None).unwrap();
    assert_eq!(env.state_dim(), 0);
    let e = Ppo::new(config, env.observation_space(), env.action_space(), env.state_dim(), Device::flex())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("privileged_critic") && e.contains("no privileged state"), "{e}");
}

#[test]
fn a_cnn_tandem_policy_exports_to_the_runtime_and_to_onnx() {
    let cnn = CnnConfig { channels: vec![4, 8], kernels: vec![4, 3], strides: vec![4, 2], features: 32 };
    tandem_exports("Explore-v0", "explore", cnn, None, true, false);
}

#[test]
fn a_tandem_policy_that_also_fills_the_guess_exports_to_the_runtime_and_to_onnx() {
    // Explore-v2's action: move, declare and the current guess.
    let cnn = CnnConfig { channels: vec![4, 8], kernels: vec![4, 3], strides: vec![4, 2], features: 32 };
    tandem_exports("Explore-v2", "explore-v2", cnn, None, false, false);
}

#[test]
fn a_polar_discriminator_exports_to_the_runtime_and_to_onnx() {
    // Kernels 3 and 2 wrap one angle bin around each end (an even kernel
    // wraps unevenly: one more output than input at stride 1); a stride of
    // 2 halves the angles and rings.
    let cnn = CnnConfig { channels: vec![4, 8], kernels: vec![3, 2], strides: vec![2, 1], features: 16 };
    tandem_exports("Explore-v0", "explore-polar", cnn, Some(PolarView { angles: 16, rings: 20 }), false, false);
}

#[test]
fn a_turn_averaged_discriminator_exports_to_the_runtime_and_to_onnx() {
    // The mean of four quarter turns' softmaxes, with a temperature.
    let cnn = CnnConfig { channels: vec![4, 8], kernels: vec![4, 3], strides: vec![4, 2], features: 32 };
    tandem_exports("Explore-v2", "explore-turns", cnn, None, true, true);
}

/// Trains a small TANDEM policy for two updates (the discriminator on its
/// grid as it is, or through `polar`; `calibrate`d or not; its
/// probabilities averaged over the grid's quarter turns or not) and
/// compares its exports with burn.
fn tandem_exports(
    env_id: &str,
    name: &str,
    discriminator_cnn: CnnConfig,
    polar: Option<PolarView>,
    calibrate: bool,
    turn_average: bool,
) {
    let cnn = CnnConfig { channels: vec![4, 8], kernels: vec![4, 3], strides: vec![4, 2], features: 32 };
    let config = PpoConfig {
        num_envs: 2,
        threads: 1,
        num_steps: 32,
        num_minibatches: 2,
        update_epochs: 1,
        hidden: vec![32],
        tandem: Some(TandemConfig {
            buffer_size: 100,
            batch_size: 16,
            train_steps: 4,
            cnn: discriminator_cnn,
            polar,
            turn_average,
            calibration_envs: usize::from(calibrate),
            ..TandemConfig::default()
        }),
        cnn: Some(cnn),
        egocentric: true,
        ..PpoConfig::for_task(env_id).unwrap()
    };
    let dir = temp(name);
    let burn = trained(env_id, config, 2, &dir);
    let guess = burn.meta.discriminator.as_ref().unwrap().layout.guess_index;
    assert_eq!(burn.meta.discriminator.as_ref().unwrap().turn_average, turn_average);
    assert_eq!(guess.is_some(), env_id == "Explore-v2");
    let mut rng = StdRng::seed_from_u64(4);
    let mut obs = Vec::with_capacity(SAMPLES * (3600 + 48));
    for b in 0..SAMPLES {
        // Contacts in most grids; a few grids without enough evidence.
        let contact = if b % 10 == 0 { 0.0 } else { rng.random_range(0.0..0.3) };
        let mut grid: Vec<f32> = (0..3600)
            .map(|_| {
                let u: f64 = rng.random();
                if u < contact {
                    2.0
                } else if u < 0.5 {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        // The finger's cell (none in a few grids).
        if b % 17 != 0 {
            grid[rng.random_range(0..3600)] = 3.0;
        }
        obs.extend_from_slice(&grid);
        obs.extend((0..48).map(|_| rng.random_range(0.0..0.5f32)));
    }
    let meta_path = dir.join("meta.json");
    let mut meta: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&meta_path).unwrap()).unwrap();
    // A calibrated discriminator carries its temperature, which the runtime
    // and the ONNX graph fold into the last layer. The one fitted after two
    // updates may be anything (a barely trained network): a temperature
    // of 1/4 that spreads the probabilities apart stands in for it.
    let fitted = meta["discriminator"].get("temperature").and_then(|t| t.as_f64());
    assert_eq!(fitted.is_some(), calibrate, "{:?}", meta["discriminator"]);
    let burn = if calibrate {
        meta["discriminator"]["temperature"] = serde_json::json!(0.25);
        std::fs::write(&meta_path, meta.to_string()).unwrap();
        resign(&dir);
        TrainedPolicy::load(&dir).unwrap()
    } else {
        burn
    };
    // A barely trained discriminator is never 98 % sure: set the threshold
    // near the median top probability so that about half the grids declare.
    let probs = burn.class_probabilities(&obs).unwrap();
    let mut tops: Vec<f32> = probs.chunks(10).map(|p| p.iter().copied().fold(0.0, f32::max)).collect();
    tops.sort_by(f32::total_cmp);
    // The threshold sits in the widest gap between neighbouring top
    // probabilities near the median, so that no grid lies within float
    // rounding of it (burn, the runtime and ONNX round differently).
    let i = (SAMPLES / 2 - 200..SAMPLES / 2 + 200)
        .max_by(|&a, &b| (tops[a + 1] - tops[a]).total_cmp(&(tops[b + 1] - tops[b])));
    let i = i.unwrap();
    assert!(
        tops[i + 1] - tops[i] > 2e-6,
        "no gap between top probabilities near the median: {} at {}",
        tops[i + 1] - tops[i],
        tops[i]
    );
    meta["discriminator"]["threshold"] = serde_json::json!(0.5 * (tops[i] + tops[i + 1]));
    std::fs::write(&meta_path, meta.to_string()).unwrap();
    resign(&dir);
    let burn = TrainedPolicy::load(&dir).unwrap();
    compare(&burn, &dir, &obs);
    if calibrate {
        let mut bad = meta.clone();
        bad["discriminator"]["temperature"] = serde_json::json!(-1.0);
        std::fs::write(&meta_path, bad.to_string()).unwrap();
        resign(&dir);
        let e = tactile_policy::Policy::load(&dir).err().expect("refused").to_string();
        assert_eq!(e, format!("{}: discriminator.temperature: -1 is not a positive number", meta_path.display()));
    }
    if polar.is_some() {
        // A polar discriminator is not turn-averaged: refused, naming the field.
        let mut turned = meta.clone();
        turned["discriminator"]["turn_average"] = serde_json::json!(true);
        std::fs::write(&meta_path, turned.to_string()).unwrap();
        resign(&dir);
        let e = tactile_policy::Policy::load(&dir).err().expect("refused").to_string();
        assert_eq!(
            e,
            format!(
                "{}: discriminator.turn_average: needs a square grid read as it is, not in polar form",
                meta_path.display()
            )
        );
        // A polar view that does not fit is refused, naming the field.
        meta["discriminator"]["polar"]["angles"] = serde_json::json!(6);
        std::fs::write(&meta_path, meta.to_string()).unwrap();
        resign(&dir);
        let e = tactile_policy::Policy::load(&dir).err().expect("refused").to_string();
        assert_eq!(
            e,
            format!("{}: discriminator.polar: angles must be a multiple of 4, at least 4", meta_path.display())
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_runtime_refuses_broken_folders_naming_the_file_and_field() {
    let config = PpoConfig { num_envs: 1, hidden: vec![64, 64], ..PpoConfig::for_task("Press-v0").unwrap() };
    let dir = temp("broken");
    trained("Press-v0", config, 0, &dir);
    let meta_path = dir.join("meta.json");
    let model_path = dir.join("model.safetensors");
    let (meta_text, model_bytes) = (std::fs::read_to_string(&meta_path).unwrap(), std::fs::read(&model_path).unwrap());
    let load_err = || tactile_policy::Policy::load(&dir).err().expect("a broken folder must be refused").to_string();
    let edit_meta = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v: serde_json::Value = serde_json::from_str(&meta_text).unwrap();
        f(&mut v);
        std::fs::write(&meta_path, v.to_string()).unwrap();
        resign(&dir);
    };
    let (m, w) = (meta_path.display().to_string(), model_path.display().to_string());

    // An edit the checksums do not know of is refused first.
    std::fs::write(&meta_path, meta_text.replace("\"global_step\"", "\"global_step\" ")).unwrap();
    assert_eq!(load_err(), format!("{m}: checksum mismatch: the file is corrupted or truncated"));
    edit_meta(&|v| v["format_version"] = 3.into());
    assert_eq!(load_err(), format!("{m}: format_version 3 is not a version this build reads (1 to 2)"));
    edit_meta(&|v| {
        v.as_object_mut().unwrap().remove("network");
    });
    assert_eq!(load_err(), format!("{m}: missing field `network`"));
    edit_meta(&|v| v["network"]["hidden"] = serde_json::json!([32, 64]));
    assert_eq!(
        load_err(),
        format!("{w}: tensor `actor.layers.0.weight` has shape [66, 64], the network needs [66, 32]")
    );
    edit_meta(&|v| v["action_bounds"] = serde_json::json!([[0.0, 1.0], [0.0, 1.0]]));
    assert_eq!(load_err(), format!("{m}: action_bounds: 2 entries for 1 action values"));
    std::fs::write(&meta_path, &meta_text).unwrap();
    resign(&dir);

    // Weights: one missing, a truncated file.
    let (mut tensors, _) = tactile_policy::safetensors::decode(&model_bytes, &model_path).unwrap();
    tensors.remove("actor_head.bias");
    let list: Vec<(String, Vec<usize>, Vec<f32>)> = tensors.into_iter().map(|(k, (s, v))| (k, s, v)).collect();
    std::fs::write(&model_path, tactile_policy::safetensors::encode(&list, &Default::default())).unwrap();
    resign(&dir);
    assert_eq!(load_err(), format!("{w}: tensor `actor_head.bias` is missing"));
    std::fs::write(&model_path, &model_bytes[..model_bytes.len() / 2]).unwrap();
    resign(&dir);
    assert!(load_err().starts_with(&format!("{w}: tensor `")), "{}", load_err());
    std::fs::write(&model_path, &model_bytes).unwrap();
    resign(&dir);

    // Observations it cannot act on.
    let mut policy = tactile_policy::Policy::load(&dir).unwrap();
    let mut action = [0.0];
    let e = policy.act(&[0.0; 65], &mut action).unwrap_err().to_string();
    assert_eq!(e, "observation: 65 values, the policy reads 66");
    let mut obs = [0.0; 66];
    obs[7] = f32::NAN;
    let e = policy.act(&obs, &mut action).unwrap_err().to_string();
    assert_eq!(e, "observation: value 7 is NaN");
    std::fs::remove_dir_all(&dir).ok();
}
