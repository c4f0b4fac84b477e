//! `tactile bench`: the project's speed figures.

use std::time::Instant;

use anyhow::{Context, Result};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::json;
use tactile_env::{Env, VecEnv, make, registry};
use tactile_sim::Assets;
use tactile_sim::hand_hold::HandHold;
use tactile_sim::taxel_slide::TaxelSlide;

/// The taxel-slide scene: physics only and physics + 64 taxels.
pub fn sim(steps: usize, json: bool, assets: &Assets) -> Result<()> {
    anyhow::ensure!(steps > 0, "--steps must be at least 1");
    let mut slide = TaxelSlide::new(assets).context("building the taxel-slide scene")?;
    let r = slide.bench(steps);
    let hold = r.episode.hold;
    if json {
        let out = json!({
            "bench": "sim",
            "scene": "taxel-slide",
            "steps": r.steps,
            "threads": 1,
            "physics_steps_per_s": r.physics_steps_per_s,
            "taxel_steps_per_s": r.taxel_steps_per_s,
            "physics_steps_per_cpu_s": r.physics_steps_per_cpu_s,
            "taxel_steps_per_cpu_s": r.taxel_steps_per_cpu_s,
            "reset_us": r.reset_us,
            "taxel_sum_n": hold.taxel_sum_n,
            "solver_normal_n": hold.solver_normal_n,
            "taxel_sum_error": (hold.taxel_sum_n - hold.solver_normal_n).abs() / hold.solver_normal_n.abs().max(1e-9),
            "nonzero_taxels": hold.nonzero_taxels,
            "cube_final_x_m": r.episode.cube_final_x_m,
            "cube_pushed_mm": (r.episode.cube_final_x_m - 0.06) * 1000.0,
        });
        println!("{out}");
    } else {
        println!("taxel-slide, {} env steps per mode, one thread", r.steps);
        println!("                      {:>10} {:>14}", "per second", "per CPU-second");
        println!("  physics only        {:>10.0} {:>14.0} env steps", r.physics_steps_per_s, r.physics_steps_per_cpu_s);
        println!("  physics + taxels    {:>10.0} {:>14.0} env steps", r.taxel_steps_per_s, r.taxel_steps_per_cpu_s);
        println!("  reset               {:>10.1} us", r.reset_us);
        println!("end of hold (t = 0.75 s):");
        println!("  taxel sum           {:>10.4} N", hold.taxel_sum_n);
        println!("  solver normal force {:>10.4} N", hold.solver_normal_n);
        println!("  non-zero taxels     {:>10} of 64", hold.nonzero_taxels);
        println!("cube pushed           {:>10.1} mm", (r.episode.cube_final_x_m - 0.06) * 1000.0);
    }
    Ok(())
}

/// The hand-hold scene: the Allegro hand holding a cylinder under random
/// joint targets, physics only and with its four fingertip arrays read.
pub fn hand(steps: usize, json: bool, assets: &Assets) -> Result<()> {
    anyhow::ensure!(steps > 0, "--steps must be at least 1");
    let mut hold = HandHold::new(assets).context("building the hand-hold scene")?;
    let r = hold.bench(steps);
    let c = r.check;
    let error = (c.taxel_sum_n - c.solver_normal_n).abs() / c.solver_normal_n.abs().max(1e-9);
    if json {
        let out = json!({
            "bench": "hand",
            "scene": "hand-hold",
            "steps": r.steps,
            "threads": 1,
            "substeps": r.substeps,
            "control_steps_per_s": r.control_steps_per_s,
            "physics_steps_per_s": r.control_steps_per_s * r.substeps as f64,
            "control_steps_per_s_taxels": r.control_steps_per_s_taxels,
            "physics_steps_per_s_taxels": r.control_steps_per_s_taxels * r.substeps as f64,
            "control_steps_per_cpu_s": r.control_steps_per_cpu_s,
            "control_steps_per_cpu_s_taxels": r.control_steps_per_cpu_s_taxels,
            "reset_us": r.reset_us,
            "taxel_sum_n": c.taxel_sum_n,
            "solver_normal_n": c.solver_normal_n,
            "taxel_sum_error": error,
            "tips_in_contact": c.tips_in_contact,
            "object_start_height_m": c.start_height_m,
            "object_height_after_1s_m": c.height_after_1s_m,
        });
        println!("{out}");
    } else {
        println!("hand-hold, {} control steps per mode ({} physics steps each), one thread", r.steps, r.substeps);
        println!("                      {:>10} {:>14} {:>14}", "per second", "per CPU-second", "physics/s");
        let row = |name: &str, wall: f64, cpu: f64| {
            println!("  {name:<20}{wall:>10.0} {cpu:>14.0} {:>14.0}", wall * r.substeps as f64);
        };
        row("physics only", r.control_steps_per_s, r.control_steps_per_cpu_s);
        row("physics + taxels", r.control_steps_per_s_taxels, r.control_steps_per_cpu_s_taxels);
        println!("  reset               {:>10.1} us", r.reset_us);
        println!("at t = 0.5 s:");
        println!("  fingertip taxel sum {:>10.4} N", c.taxel_sum_n);
        println!("  solver normal force {:>10.4} N ({} tips touching)", c.solver_normal_n, c.tips_in_contact);
        println!(
            "object height         {:>10.4} m at the start, {:.4} m after 1 s",
            c.start_height_m, c.height_after_1s_m
        );
    }
    Ok(())
}

/// Steps per second of one env of a task with seeded random actions (the
/// task's [`tactile_env::EnvSpec::random_action`]),
/// resets included (as training sees them).
fn env_steps_per_s(id: &str, steps: usize) -> Result<f64> {
    let random_action = tactile_env::spec(id)?.random_action;
    let mut env = make(id, None)?;
    let mut obs = vec![0.0; env.observation_space().flat_dim()];
    let mut action = vec![0.0; env.action_space().flat_dim()];
    let mut info = env.new_info();
    let mut rng = StdRng::seed_from_u64(0);
    env.reset(Some(0), &mut obs, &mut info);
    let start = Instant::now();
    for _ in 0..steps {
        random_action(env.action_space(), &mut rng, &mut action);
        let s = env.step(&action, &mut obs, &mut info)?;
        if s.terminated || s.truncated {
            env.reset(None, &mut obs, &mut info);
        }
    }
    Ok(steps as f64 / start.elapsed().as_secs_f64().max(1e-12))
}

/// One env per task.
pub fn env(steps: usize, json: bool) -> Result<()> {
    anyhow::ensure!(steps > 0, "--steps must be at least 1");
    let mut rows = Vec::new();
    for spec in registry() {
        let sps = env_steps_per_s(spec.id, steps).with_context(|| format!("benchmarking {}", spec.id))?;
        rows.push((spec.id, sps));
    }
    if json {
        let tasks: serde_json::Map<String, serde_json::Value> =
            rows.iter().map(|(id, sps)| (id.to_string(), json!({ "steps_per_s": sps }))).collect();
        println!("{}", json!({ "bench": "env", "steps": steps, "threads": 1, "tasks": tasks }));
    } else {
        println!("one env per task, random actions, {steps} steps, one thread");
        for (id, sps) in rows {
            println!("  {id:<16} {sps:>10.0} steps/s");
        }
    }
    Ok(())
}

/// A VecEnv with its random actions, timed in rounds.
struct TimedVec {
    v: VecEnv,
    actions: Vec<f32>,
    rng: StdRng,
    random_action: tactile_env::RandomAction,
    seconds: f64,
    steps: usize,
}

impl TimedVec {
    fn new(id: &str, num_envs: usize, threads: usize) -> Result<Self> {
        let random_action = tactile_env::spec(id)?.random_action;
        let mut v = VecEnv::make(id, num_envs, threads, None)?;
        v.reset(0)?;
        let actions = vec![0.0; num_envs * v.action_space().flat_dim()];
        let mut t = TimedVec { v, actions, rng: StdRng::seed_from_u64(0), random_action, seconds: 0.0, steps: 0 };
        // A few untimed steps start the threads and fill the caches.
        t.round(5)?;
        t.seconds = 0.0;
        t.steps = 0;
        Ok(t)
    }

    fn round(&mut self, batch_steps: usize) -> Result<()> {
        let act_dim = self.v.action_space().flat_dim();
        for _ in 0..batch_steps {
            for row in self.actions.chunks_mut(act_dim) {
                (self.random_action)(self.v.action_space(), &mut self.rng, row);
            }
            let start = Instant::now();
            self.v.step(&self.actions)?;
            self.seconds += start.elapsed().as_secs_f64();
        }
        self.steps += batch_steps * self.v.num_envs();
        Ok(())
    }

    fn steps_per_s(&self) -> f64 {
        self.steps as f64 / self.seconds.max(1e-12)
    }
}

/// Steps per second of a VecEnv on one thread and on `threads`, measured
/// in alternating rounds so that a machine whose speed drifts slows both.
fn vec_pair(id: &str, num_envs: usize, threads: usize, batch_steps: usize) -> Result<(f64, f64)> {
    let mut one = TimedVec::new(id, num_envs, 1)?;
    let mut all = TimedVec::new(id, num_envs, threads)?;
    let round = 200.min(batch_steps);
    let mut done = 0;
    while done < batch_steps {
        let n = round.min(batch_steps - done);
        one.round(n)?;
        all.round(n)?;
        done += n;
    }
    Ok((one.steps_per_s(), all.steps_per_s()))
}

/// The VecEnv on one thread and on all cores, per task.
pub fn vec(num_envs: usize, batch_steps: usize, json: bool) -> Result<()> {
    anyhow::ensure!(num_envs > 0 && batch_steps > 0, "--num-envs and --steps must be at least 1");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut rows = Vec::new();
    for spec in registry() {
        let (one, all) =
            vec_pair(spec.id, num_envs, cores, batch_steps).with_context(|| format!("benchmarking {}", spec.id))?;
        rows.push((spec.id, one, all));
    }
    if json {
        let tasks: serde_json::Map<String, serde_json::Value> = rows
            .iter()
            .map(|(id, one, all)| {
                (id.to_string(), json!({ "steps_per_s_1": one, "steps_per_s_all": all, "scaling": all / one }))
            })
            .collect();
        println!(
            "{}",
            json!({ "bench": "vec", "num_envs": num_envs, "batch_steps": batch_steps, "threads": cores, "tasks": tasks })
        );
    } else {
        println!("VecEnv of {num_envs} envs, {batch_steps} batch steps, 1 thread vs {cores}");
        println!("  {:<16} {:>12} {:>12} {:>8}", "task", "1 thread", "all cores", "scaling");
        for (id, one, all) in rows {
            println!("  {id:<16} {one:>12.0} {all:>12.0} {:>8.2}", all / one);
        }
    }
    Ok(())
}

/// Gradient-phase samples per second of `learner`'s configured rollout:
/// the median of three updates after a warm-up.
fn update_rate(learner: &mut tactile_rl::Ppo) -> f64 {
    learner.bench_update(); // warm-up (and the GPU's autotuning)
    let mut rates: Vec<f64> = (0..3).map(|_| learner.bench_update()).collect();
    rates.sort_by(f64::total_cmp);
    rates[1]
}

/// One large-batch workload's figure.
struct Large {
    name: &'static str,
    network: String,
    samples: usize,
    minibatch: usize,
    samples_per_s: f64,
}

/// PPO: gradient-phase throughput of the reference networks and batches
/// (today's small ones and the large-batch ones a GPU is for), and
/// end-to-end training speed on Pendulum-v1 with one env and on Press-v0's
/// large-batch configuration with envs on every core.
pub fn ppo(json: bool, device_name: &str) -> Result<()> {
    use tactile_env::Space;
    use tactile_rl::{Ppo, PpoConfig};
    let device = tactile_rl::device(device_name)?;
    let adapter = tactile_rl::describe_device(device_name);
    // MLP 64x64 tanh, obs 64, Gaussian action 3, minibatch 64 (32 of 2048),
    // 10 epochs over 2048 samples.
    let config =
        PpoConfig { num_envs: 1, num_steps: 2048, num_minibatches: 32, update_epochs: 10, ..PpoConfig::default() };
    let obs = Space::uniform_box(f32::NEG_INFINITY, f32::INFINITY, &[64]);
    let act = Space::uniform_box(-1.0, 1.0, &[3]);
    let update_samples_per_s = update_rate(&mut Ppo::new(config, &obs, &act, 0, device.clone())?);

    // The CNN network of Explore-v0's explorer (60 x 60 occupancy grid of
    // codes + 48 taxels, the default CNN, hidden 128, 4 moves), minibatch
    // 512, 4 epochs over 2048 samples: its defaults.
    let explore = tactile_env::make("Explore-v0", None)?;
    let config = PpoConfig { tandem: None, total_steps: 2048, ..PpoConfig::for_task("Explore-v0")? };
    let cnn_shape = config.cnn.clone().unwrap_or_default();
    let (batch, epochs) = (2048 / config.num_minibatches.max(1), config.update_epochs);
    let cnn_config = PpoConfig { num_envs: 1, num_steps: 2048, ..config };
    let moves = Space::Dict(vec![("move".into(), Space::Discrete { n: 4 })]);
    let cnn_update_samples_per_s =
        update_rate(&mut Ppo::new(cnn_config.clone(), explore.observation_space(), &moves, 0, device.clone())?);

    // The large-batch workloads: one epoch over a rollout, minibatches of
    // thousands (what the large-batch configurations train with).
    let wide = |samples: usize, minibatch: usize| PpoConfig {
        num_envs: 1,
        num_steps: samples,
        num_minibatches: samples / minibatch,
        update_epochs: 1,
        hidden: vec![256, 256],
        ..PpoConfig::default()
    };
    let act8 = Space::uniform_box(-1.0, 1.0, &[8]);
    let mut large = Vec::new();
    for (name, samples, minibatch) in [("mlp_mb4096", 32_768, 4_096), ("mlp_mb32768", 32_768, 32_768)] {
        let mut learner = Ppo::new(wide(samples, minibatch), &obs, &act8, 0, device.clone())?;
        large.push(Large {
            name,
            network: "MLP 256x256 tanh, obs 64, Gaussian action 8".into(),
            samples,
            minibatch,
            samples_per_s: update_rate(&mut learner),
        });
    }
    let cnn_large =
        PpoConfig { num_steps: 8_192, num_minibatches: 2, update_epochs: 1, hidden: vec![256], ..cnn_config };
    let mut learner = Ppo::new(cnn_large, explore.observation_space(), &moves, 0, device)?;
    large.push(Large {
        name: "cnn_mb4096",
        network: "Explore-v0's explorer CNN, MLP 256".into(),
        samples: 8_192,
        minibatch: 4_096,
        samples_per_s: update_rate(&mut learner),
    });

    // End to end on Pendulum-v1: one env, 2048-step rollouts, rollout + update.
    let config = PpoConfig {
        num_envs: 1,
        num_steps: 2048,
        num_minibatches: 32,
        update_epochs: 10,
        total_steps: 3 * 2048,
        ..PpoConfig::default()
    };
    let e2e_steps_per_s = end_to_end("Pendulum-v1", config, 0, device_name)?;
    // End to end on Press-v0's large-batch configuration: envs on every
    // core, 32,768-sample rollouts, minibatches of 4,096; two rollouts
    // timed after one.
    let config = PpoConfig::load_large_batch("Press-v0", None)?;
    let large_envs = config.num_envs;
    let e2e_large_steps_per_s = end_to_end("Press-v0", config, 1, device_name)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if json {
        let workloads: Vec<serde_json::Value> = large
            .iter()
            .map(|w| {
                json!({
                    "name": w.name,
                    "network": w.network,
                    "samples": w.samples,
                    "minibatch": w.minibatch,
                    "epochs": 1,
                    "update_samples_per_s": w.samples_per_s,
                })
            })
            .collect();
        println!(
            "{}",
            json!({
                "bench": "ppo",
                "device": device_name,
                "adapter": adapter,
                "network": "MLP 64x64 tanh, obs 64, Gaussian action 3",
                "minibatch": 64,
                "epochs": 10,
                "samples": 2048,
                "update_samples_per_s": update_samples_per_s,
                "e2e_env": "Pendulum-v1",
                "e2e_steps_per_s": e2e_steps_per_s,
                "cnn_network": format!("Explore-v0 explorer: CNN {:?} channels, {:?} kernels, {:?} strides, 128 features, MLP 128", cnn_shape.channels, cnn_shape.kernels, cnn_shape.strides),
                "cnn_minibatch": batch,
                "cnn_epochs": epochs,
                "cnn_update_samples_per_s": cnn_update_samples_per_s,
                "large": workloads,
                "e2e_large_env": "Press-v0 --large-batch",
                "e2e_large_num_envs": large_envs,
                "e2e_large_threads": cores,
                "e2e_large_steps_per_s": e2e_large_steps_per_s,
            })
        );
    } else {
        println!("PPO on {device_name}: {adapter}");
        println!(
            "  update          {update_samples_per_s:>10.0} samples/s (MLP 64x64, obs 64, action 3, minibatch 64, 10 epochs x 2048; median of 3)"
        );
        println!("  Pendulum-v1 e2e {e2e_steps_per_s:>10.0} env steps/s (1 env, rollout + update)");
        println!(
            "  CNN update      {cnn_update_samples_per_s:>10.0} samples/s (Explore-v0's explorer, minibatch {batch}, {epochs} epochs)"
        );
        for w in &large {
            println!(
                "  {:<15} {:>10.0} samples/s ({}, minibatch {} of {})",
                w.name, w.samples_per_s, w.network, w.minibatch, w.samples
            );
        }
        println!(
            "  Press-v0 large  {e2e_large_steps_per_s:>10.0} env steps/s ({large_envs} envs on {cores} cores, --large-batch, rollout + update)"
        );
    }
    Ok(())
}

/// Env steps per second of PPO training `env_id` with `config`, rollout
/// and update, over the whole run after `warmup` untimed iterations.
fn end_to_end(env_id: &str, config: tactile_rl::PpoConfig, warmup: usize, device_name: &str) -> Result<f64> {
    let device = tactile_rl::device(device_name)?;
    let mut env = VecEnv::make(env_id, config.num_envs, config.threads, None)?;
    env.reset(config.seed)?;
    let (o, a) = (env.observation_space().clone(), env.action_space().clone());
    let iterations =
        if warmup > 0 { warmup + 2 } else { (config.total_steps / config.rollout_steps()).max(1) as usize };
    let mut learner = tactile_rl::Ppo::new(config, &o, &a, env.state_dim(), device)?;
    for _ in 0..warmup {
        learner.iterate(&mut env)?;
    }
    let (first, start) = (learner.global_step, Instant::now());
    for _ in warmup..iterations {
        learner.iterate(&mut env)?;
    }
    Ok((learner.global_step - first) as f64 / start.elapsed().as_secs_f64())
}
