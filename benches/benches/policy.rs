//! The tactile-policy runtime: one observation through an MLP 64x64 policy
//! (obs 64, normalised; action 3, Gaussian means clipped), the network of
//! `tactile bench ppo`, as a robot's control loop calls it. Target: at most
//! 10 us per call.

use std::collections::BTreeMap;

use criterion::{Criterion, criterion_group, criterion_main};
use tactile_policy::safetensors::encode;
use tactile_policy::{
    ActionLayout, Head, NetworkMeta, NormStats, ObsLayout, ObsNorm, POLICY_FORMAT, POLICY_FORMAT_VERSION, Policy,
    PolicyMeta,
};

const OBS: usize = 64;
const ACT: usize = 3;

/// A policy folder with deterministic pseudo-random weights.
fn folder() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tactile-bench-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp folder");
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut values = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state % 2001) as f32 / 1000.0 - 1.0
            })
            .map(|v| v * 0.2)
            .collect()
    };
    let mut tensors = Vec::new();
    for (name, shape) in [
        ("actor.layers.0.weight", vec![OBS, 64]),
        ("actor.layers.0.bias", vec![64]),
        ("actor.layers.1.weight", vec![64, 64]),
        ("actor.layers.1.bias", vec![64]),
        ("actor_head.weight", vec![64, ACT]),
        ("actor_head.bias", vec![ACT]),
    ] {
        let n = shape.iter().product();
        tensors.push((name.to_string(), shape, values(n)));
    }
    std::fs::write(dir.join("model.safetensors"), encode(&tensors, &BTreeMap::new())).expect("weights");
    let meta = PolicyMeta {
        format: POLICY_FORMAT.into(),
        format_version: POLICY_FORMAT_VERSION,
        env_id: "Bench-v0".into(),
        algo: "ppo".into(),
        tactile_version: env!("CARGO_PKG_VERSION").into(),
        commit: "bench".into(),
        observation_space: format!("Box(-inf, inf, [{OBS}], float32)"),
        action_space: format!("Box(-1, 1, [{ACT}], float32)"),
        obs_norm: Some(ObsNorm {
            ranges: vec![[0, OBS]],
            stats: NormStats { mean: vec![0.1; OBS], var: vec![2.0; OBS], count: 1000.0 },
            clip: 10.0,
        }),
        network: NetworkMeta {
            hidden: vec![64, 64],
            cnn: None,
            obs_layout: ObsLayout {
                parts: vec![tactile_policy::ObsPart::Vector { offset: 0, dim: OBS }],
                obs_dim: OBS,
            },
            egocentric: None,
            action_layout: ActionLayout::from_heads(vec![Head::Gaussian { dim: ACT }]),
            critic_state_dim: 0,
        },
        discriminator: None,
        action_bounds: vec![[Some(-1.0), Some(1.0)]; ACT],
        taxels: Vec::new(),
        global_step: 0,
        training: serde_json::Value::Null,
    };
    meta.write(&dir).expect("meta.json");
    dir
}

fn act_mlp_64x64(c: &mut Criterion) {
    let dir = folder();
    let mut policy = Policy::load(&dir).expect("the bench policy loads");
    let obs: Vec<f32> = (0..OBS).map(|i| (i as f32 * 0.37).sin()).collect();
    let mut action = [0.0f32; ACT];
    c.bench_function("policy_act_mlp_64x64", |b| {
        b.iter(|| {
            policy.act(std::hint::black_box(&obs), &mut action).expect("acts");
            std::hint::black_box(action)
        })
    });
    std::fs::remove_dir_all(&dir).ok();
}

criterion_group!(benches, act_mlp_64x64);
criterion_main!(benches);
