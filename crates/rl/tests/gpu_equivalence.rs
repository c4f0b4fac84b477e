//! PPO's update on burn's GPU backend (wgpu, with fusion and autotuning)
//! agrees with the CPU backend: two learners of one config and seed (so
//! the same initial weights), on the same synthetic rollouts and the same
//! minibatch order, one on `Device::flex()` and one on the wgpu device.
//! Machines here have no GPU: CI runs it on Mesa's software Vulkan
//! (lavapipe), installed by `scripts/install-render-deps.sh`, which runs
//! the same compute shaders a GPU would. Without any wgpu adapter the test
//! says so and passes, unless `TACTILE_REQUIRE_RENDER=1` (as CI sets).
//!
//! The tolerances: both backends compute in f32 but sum in different
//! orders (a GPU reduces in parallel trees), which moves a loss by a few
//! units in the last place, about 1e-6 relative after the minibatch means.
//! The losses of the first update see the same weights and must agree to
//! 1e-4 relative. Adam then divides each gradient by its own running
//! scale, so a parameter whose gradient is all rounding noise can step by
//! up to the learning rate either way: after `n` optimiser steps a
//! parameter may differ by `n x lr` at most. Such parameters are rare, so
//! the mean difference must stay below a thousandth of how far training
//! moved the parameters on average. On lavapipe (Mesa 22.3.6) the 10,825
//! parameters differed by 3.0e-8 at most and 5.8e-10 on average after 24
//! steps that moved them 2.6e-3 on average; the losses agreed to 2e-7.
#![cfg(feature = "wgpu")]

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};
use tactile_env::Space;
use tactile_rl::{Ppo, PpoConfig, UpdateStats};

struct Flatten(Vec<f32>);

impl ModuleVisitor for Flatten {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.extend(param.val().into_data().try_to_vec::<f32>().unwrap());
    }
}

fn params(ppo: &Ppo) -> Vec<f32> {
    let mut f = Flatten(Vec::new());
    ppo.model.visit(&mut f);
    f.0
}

fn gpu_or_skip() -> Option<Device> {
    let adapter = tactile_rl::describe_device("wgpu");
    if adapter.starts_with("no wgpu adapter") {
        assert!(
            std::env::var("TACTILE_REQUIRE_RENDER").as_deref() != Ok("1"),
            "TACTILE_REQUIRE_RENDER=1 but no wgpu adapter (install Mesa's Vulkan drivers: scripts/install-render-deps.sh)"
        );
        eprintln!("note: no wgpu adapter here; the GPU backend was not compared");
        return None;
    }
    eprintln!("wgpu adapter: {adapter}");
    Some(tactile_rl::device("wgpu").unwrap())
}

fn close(a: f32, b: f32, rel: f32) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-3)
}

#[test]
fn ppo_updates_on_the_gpu_backend_match_the_cpu_backend() {
    let Some(gpu) = gpu_or_skip() else { return };
    let config = PpoConfig {
        num_envs: 1,
        num_steps: 1024,
        num_minibatches: 4,
        update_epochs: 2,
        hidden: vec![64, 64],
        learning_rate: 3e-4,
        ..PpoConfig::default()
    };
    let obs = Space::uniform_box(f32::NEG_INFINITY, f32::INFINITY, &[16]);
    let act = Space::uniform_box(-1.0, 1.0, &[4]);
    let mut cpu = Ppo::new(config.clone(), &obs, &act, 0, Device::flex()).unwrap();
    let mut gpu = Ppo::new(config.clone(), &obs, &act, 0, gpu).unwrap();
    let start = params(&cpu);
    assert_eq!(start, params(&gpu), "the same seed gives the same initial weights on both");
    let updates = 3;
    let (mut first_cpu, mut first_gpu) = (UpdateStats::default(), UpdateStats::default());
    for k in 0..updates {
        let (c, g) = (cpu.synthetic_update(), gpu.synthetic_update());
        if k == 0 {
            (first_cpu, first_gpu) = (c, g);
        }
    }
    for (name, c, g) in [
        ("policy_loss", first_cpu.policy_loss, first_gpu.policy_loss),
        ("value_loss", first_cpu.value_loss, first_gpu.value_loss),
        ("entropy", first_cpu.entropy, first_gpu.entropy),
    ] {
        eprintln!("{name}: cpu {c}, gpu {g}");
        assert!(close(c, g, 1e-4), "{name}: cpu {c}, gpu {g}");
    }
    let (after_cpu, after_gpu) = (params(&cpu), params(&gpu));
    let steps = (updates * config.update_epochs * config.num_minibatches) as f32;
    let bound = steps * config.learning_rate as f32;
    let diffs: Vec<f32> = after_cpu.iter().zip(&after_gpu).map(|(a, b)| (a - b).abs()).collect();
    let (max, mean) = (diffs.iter().copied().fold(0.0, f32::max), diffs.iter().sum::<f32>() / diffs.len() as f32);
    let moved = after_cpu.iter().zip(&start).map(|(a, b)| (a - b).abs()).sum::<f32>() / diffs.len() as f32;
    eprintln!("{} parameters: moved {moved:.3e} on average; cpu vs gpu max {max:.3e}, mean {mean:.3e}", diffs.len());
    assert!(moved > 1e-2 * bound, "training moved the weights ({moved:.3e})");
    assert!(max <= bound, "a parameter differs by {max:.3e}, more than {steps} steps x lr = {bound:.3e}");
    assert!(mean <= 1e-3 * moved, "the parameters differ by {mean:.3e} on average (moved {moved:.3e})");
}
