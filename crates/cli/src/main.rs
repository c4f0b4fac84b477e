//! The `tactile` command-line tool.

mod bench;
mod export;
mod plot;
mod process;
mod record;
mod train;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::json;
use tactile_env::{check_env, make, registry};
use tactile_sim::Assets;

/// Robots that learn by touch: simulate tactile sensors, train, evaluate and
/// export touch-only policies.
#[derive(Parser, Debug)]
#[command(name = "tactile", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the task ids with their spaces and success criteria.
    Envs {
        /// Print one JSON object on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Run Gymnasium's env checks on a task.
    Check {
        /// The task id, e.g. Press-v0.
        env_id: String,
        /// A TOML file whose keys override the task's parameters.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Print one JSON object on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Make a grasp cache for a task that starts from grasps
    /// (InHandRotate-v0), deterministically from a seed, as a TOML file.
    Grasps {
        /// The task id.
        env_id: String,
        /// Grasps to keep.
        #[arg(long, default_value_t = 64)]
        count: usize,
        /// The seed of the candidates' draws.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// How far each candidate's targets are drawn from the scene's
        /// stored grasp (rad).
        #[arg(long, default_value_t = 0.1)]
        spread_rad: f32,
        /// A TOML file whose keys override the task's parameters.
        #[arg(long)]
        config: Option<PathBuf>,
        /// The file to write (it must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Train a policy with PPO; writes a run folder (config.json,
    /// metrics.csv, TensorBoard events, checkpoints/, final/) and evaluates
    /// the result. Ctrl-C writes a checkpoint; --resume goes on from it.
    Train(train::TrainArgs),
    /// Evaluate a trained policy: deterministic actions on fresh seeded
    /// episodes.
    Eval {
        /// A policy folder (a run's final/ or a checkpoint), or a run folder.
        policy_dir: PathBuf,
        /// Episodes to run.
        #[arg(long, default_value_t = 100)]
        episodes: usize,
        /// Seed of the episodes.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Threads that step the envs.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Sample the policy's actions (seeded) instead of taking the most
        /// likely ones (default: as the policy's training config says).
        #[arg(long, conflicts_with = "deterministic")]
        stochastic: bool,
        /// Take the most likely actions.
        #[arg(long)]
        deterministic: bool,
        /// Also record the episodes into this MCAP rollout (they then run
        /// one at a time on one env, episode k seeded env_seed(seed, k), and
        /// the figures are theirs).
        #[arg(long)]
        record: Option<PathBuf>,
        /// Who moves the finger on an Explore task: `learned` (the
        /// policy), `learned-avoiding-contact` (TANDEM's evaluation: a move
        /// into a known contact cell gives way to the next most likely),
        /// or TANDEM's scripted baselines `random-walk`, `not-go-back`,
        /// `edge-follower`, `info-gain` (the move the policy's
        /// discriminator expects to learn most from); the policy's
        /// discriminator still declares.
        /// Default: the scripted explorer the policy's discriminator was
        /// trained with (`train --explorer`), else `learned`.
        #[arg(long, conflicts_with = "record")]
        explorer: Option<String>,
        /// The confidence at which a TANDEM policy's discriminator
        /// declares, in (0, 1] (default: the one it trained with; TANDEM's
        /// is 0.98).
        #[arg(long, conflicts_with = "record")]
        threshold: Option<f32>,
        /// A TANDEM policy's discriminator reads each grid's four quarter
        /// turns and declares on the mean of their probabilities (the
        /// training option `[tandem] turn_average`; default: as it
        /// trained).
        #[arg(long, conflicts_with = "record")]
        turn_average: bool,
        /// Who declares for a TANDEM policy: `learned` (its co-trained
        /// CNN) or `posterior` (the Bayes posterior over the task's known
        /// objects, Explore-v2; the folder's own, else one with the
        /// default `[tandem.posterior]` settings). Default: as the folder
        /// says.
        #[arg(long, conflicts_with = "record")]
        discriminator: Option<String>,
        /// Print one JSON object on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Record episodes into an MCAP rollout file (the scene, every step's
    /// body poses, taxel readings, action, reward terms and flags, and each
    /// episode's outcome), driven by a trained policy or random actions.
    Record {
        /// The task id (default: the policy's), or `taxel-slide` or
        /// `hand-hold` for a scripted benchmark scene (no policy).
        env_id: Option<String>,
        /// A policy folder (or a run folder) to act.
        #[arg(long, conflicts_with = "random")]
        policy: Option<PathBuf>,
        /// Random actions (the task's random rollout).
        #[arg(long)]
        random: bool,
        /// Episodes to record.
        #[arg(long, default_value_t = 1)]
        episodes: usize,
        /// Seed of the first episode (episode k: env_seed(seed, k)).
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// The rollout file to write (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Replay a rollout file in a window: bodies, taxel heatmaps, force
    /// arrows, plots and playback controls (H lists the keys); or render
    /// one frame to a PNG (--screenshot), or measure the frame rate.
    View(ViewArgs),
    /// Export a trained policy: an ONNX file, or the folder the
    /// tactile-policy runtime loads on a robot. The export is checked
    /// against the trained network before it is kept.
    Export {
        /// A policy folder (a run's final/) or a run folder.
        policy_dir: PathBuf,
        /// What to write.
        #[arg(long, value_enum)]
        format: export::Format,
        /// The file (onnx) or folder (policy) to write.
        #[arg(long)]
        out: PathBuf,
        /// Who declares in the written policy (TANDEM): `learned` (the
        /// co-trained CNN) or `posterior` (the Bayes posterior over the
        /// task's known objects, written into meta.json). Default: as the
        /// folder says.
        #[arg(long)]
        discriminator: Option<String>,
    },
    /// Print a policy's deterministic actions for a batch of observations
    /// (a JSON array of arrays in, a JSON array of arrays out).
    Act {
        /// A policy folder or an .onnx file.
        policy: PathBuf,
        /// The observations (JSON).
        #[arg(long)]
        obs: PathBuf,
    },
    /// Draw a run's learning curves (return, success rate, losses) as a PNG.
    Plot {
        /// The run folder (with metrics.csv).
        run_dir: PathBuf,
        /// The image (default: <RUN_DIR>/curves.png).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Measure speed on the project's canonical workloads.
    Bench {
        /// Which workload.
        #[arg(value_enum)]
        what: BenchWhat,
        /// Steps timed (env steps for sim and env, batch steps for vec).
        #[arg(long)]
        steps: Option<usize>,
        /// Envs in the batch (vec).
        #[arg(long, default_value_t = 16)]
        num_envs: usize,
        /// Print one JSON object on stdout instead of a table.
        #[arg(long)]
        json: bool,
        /// Assets folder (default: the built-in assets).
        #[arg(long)]
        assets: Option<PathBuf>,
        /// Compute device for the PPO benchmark: cpu, wgpu, vulkan or cuda.
        #[arg(long, default_value = "cpu")]
        device: String,
    },
}

/// `tactile view`'s arguments.
#[derive(clap::Args, Debug)]
struct ViewArgs {
    /// The rollout (.mcap).
    file: PathBuf,
    /// The episode to show first (0-based).
    #[arg(long, default_value_t = 0)]
    episode: usize,
    /// The frame of that episode to show first (0: after the reset).
    #[arg(long, default_value_t = 0)]
    frame: usize,
    /// Render --frame of --episode to this PNG and exit.
    #[arg(long, conflicts_with_all = ["measure_fps", "check"])]
    screenshot: Option<PathBuf>,
    /// Window size, WIDTHxHEIGHT in pixels.
    #[arg(long, default_value = "1280x720", value_parser = parse_size)]
    size: (u32, u32),
    /// Play in a loop for this many seconds and report frames per second.
    #[arg(long, conflicts_with = "check")]
    measure_fps: Option<f64>,
    /// Only open and prepare the file (no window): print what it holds
    /// and how long opening took.
    #[arg(long)]
    check: bool,
    /// Print one JSON object on stdout (with --check or --measure-fps).
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum BenchWhat {
    /// The taxel-slide scene: physics only, and physics + 64 taxels.
    Sim,
    /// The hand-hold scene: the Allegro hand holding a cylinder, physics
    /// only and with the four fingertip arrays read.
    Hand,
    /// One env of each task, random actions.
    Env,
    /// The VecEnv of each task on one thread and on all cores.
    Vec,
    /// PPO update throughput and end-to-end training speed.
    Ppo,
    /// All of the above.
    All,
}

fn grasps(env_id: &str, count: usize, seed: u64, spread_rad: f32, config: Option<&Path>, out: &Path) -> Result<()> {
    use tactile_env::tasks::{GraspCache, InHandRotateConfig, generate_grasps};
    let spec = tactile_env::spec(env_id)?;
    anyhow::ensure!(spec.id == "InHandRotate-v0", "{}: starts from no grasp cache (InHandRotate-v0 does)", spec.id);
    anyhow::ensure!(count > 0, "--count must be at least 1");
    if out.exists() {
        anyhow::bail!("{}: exists; remove it or choose another --out", out.display());
    }
    let c: InHandRotateConfig = tactile_env::load_config(spec.config_toml, &spec.config_origin(), config)?;
    let grasps = generate_grasps(&c, count, seed, spread_rad)?;
    anyhow::ensure!(!grasps.is_empty(), "no candidate held the object; try a smaller --spread-rad");
    let cache = GraspCache {
        made_by: format!(
            "tactile grasps {} --count {count} --seed {seed} --spread-rad {spread_rad}{}",
            spec.id,
            match c.object {
                tactile_env::tasks::HeldObject::Cylinder => String::new(),
                other => format!(" --config FILE (a task config with object = \"{}\")", other.name()),
            }
        ),
        grasps,
    };
    let text = toml::to_string(&cache).context("writing the grasps as TOML")?;
    std::fs::write(out, text).with_context(|| format!("writing {}", out.display()))?;
    println!("{}: {} grasps", out.display(), cache.grasps.len());
    Ok(())
}

fn envs(json_out: bool) -> Result<()> {
    let mut rows = Vec::new();
    for spec in registry() {
        let env = make(spec.id, None).with_context(|| format!("making {}", spec.id))?;
        rows.push((spec, env.observation_space().describe(), env.action_space().describe()));
    }
    if json_out {
        let list: Vec<_> = rows
            .iter()
            .map(|(s, obs, act)| {
                json!({
                    "id": s.id,
                    "summary": s.summary,
                    "observation_space": obs,
                    "action_space": act,
                    "max_episode_steps": s.max_episode_steps,
                    "success": s.success,
                })
            })
            .collect();
        println!("{}", json!({ "envs": list }));
    } else {
        for (s, obs, act) in rows {
            println!("{}  ({} steps)", s.id, s.max_episode_steps);
            println!("  {}", s.summary);
            println!("  observation: {obs}");
            println!("  action:      {act}");
            println!("  success:     {}", s.success);
        }
    }
    Ok(())
}

fn check(id: &str, config: Option<&std::path::Path>, json_out: bool) -> Result<()> {
    let spec = tactile_env::spec(id)?;
    // Fail early, with the config's own message, if the config is bad.
    make(id, config)?;
    let report =
        check_env(&|| make(id, config), 2 * spec.max_episode_steps as usize + 10).map_err(anyhow::Error::msg)?;
    if json_out {
        println!("{}", json!({ "env_id": id, "ok": true, "steps": report.steps, "passed": report.passed }));
    } else {
        println!("{id}: all checks passed");
        for p in &report.passed {
            println!("  ok  {p}");
        }
    }
    Ok(())
}

/// What `tactile eval` was asked for (without `--record`).
struct EvalOptions {
    episodes: usize,
    seed: u64,
    threads: usize,
    /// `None`: as the policy's training config says.
    stochastic: Option<bool>,
    explorer: Option<tactile_rl::Explorer>,
    threshold: Option<f32>,
    /// Read the discriminator over the grid's four quarter turns.
    turn_average: bool,
    /// Who declares (`None`: as the folder says).
    discriminator: Option<tactile_rl::DiscriminatorKind>,
}

fn eval(dir: &std::path::Path, options: EvalOptions, json_out: bool) -> Result<()> {
    let EvalOptions { episodes, seed, threads, stochastic, explorer, threshold, turn_average, discriminator } = options;
    let dir = export::policy_dir(dir);
    let mut policy = tactile_rl::TrainedPolicy::load(&dir)?;
    if let Some(kind) = discriminator {
        policy
            .set_discriminator(kind, &tactile_rl::PosteriorConfig::default())
            .with_context(|| format!("--discriminator: {}", dir.display()))?;
    }
    let posterior = policy.meta.discriminator.as_ref().is_some_and(|d| d.posterior.is_some());
    if turn_average && posterior {
        anyhow::bail!(
            "--turn-average reads the learned discriminator; {} declares by its posterior (add --discriminator learned)",
            dir.display()
        );
    }
    if turn_average {
        policy.set_turn_average(true).with_context(|| format!("--turn-average: {}", dir.display()))?;
    }
    if let Some(t) = threshold {
        if !(t > 0.0 && t <= 1.0) {
            anyhow::bail!("--threshold {t}: a confidence in (0, 1]");
        }
        let Some(d) = policy.meta.discriminator.as_mut() else {
            anyhow::bail!("--threshold: {} has no discriminator (it is not a TANDEM policy)", dir.display());
        };
        // A grid without evidence reads as uniform: at 1/classes or less
        // it would declare before the first touch.
        let floor = 1.0 / d.layout.classes.max(1) as f32;
        if t <= floor {
            anyhow::bail!("--threshold {t}: at or below 1/{} even a grid without evidence declares", d.layout.classes);
        }
        d.set_declaring_threshold(t);
    }
    let threshold = policy.meta.discriminator.as_ref().map(|d| d.declaring_threshold());
    // A discriminator trained beside a scripted explorer is evaluated
    // with it unless asked otherwise.
    let trained_with = policy.meta.training.pointer("/tandem/explorer").and_then(|v| v.as_str());
    let explorer = explorer
        .or_else(|| trained_with.and_then(tactile_rl::Explorer::from_name))
        .unwrap_or(tactile_rl::Explorer::Learned);
    export::warn_if_old(&policy.meta);
    let env_id = policy.meta.env_id.clone();
    let start = std::time::Instant::now();
    let trained_stochastic = policy.meta.training.get("eval_stochastic").and_then(|v| v.as_bool());
    let stochastic = stochastic.or(trained_stochastic).unwrap_or(false);
    let report = tactile_rl::evaluate_with(&policy, &env_id, episodes, seed, threads, stochastic, explorer)
        .with_context(|| format!("evaluating {} on {env_id}", dir.display()))?;
    let wall_s = start.elapsed().as_secs_f64();
    if json_out {
        println!(
            "{}",
            json!({
                "env_id": env_id,
                "policy_dir": dir.display().to_string(),
                "algo": policy.meta.algo,
                "steps": (report.mean_episode_len * report.episodes as f64).round() as u64,
                "wall_s": wall_s,
                "episodes": report.episodes,
                "seed": seed,
                "mean_return": report.mean_return,
                "success_rate": report.success_rate,
                "mean_episode_len": report.mean_episode_len,
                "mean_success_len": report.mean_success_len,
                "final_facts": report.final_facts,
                "stochastic": stochastic,
                "explorer": explorer.name(),
                "threshold": threshold,
                "discriminator": policy.meta.discriminator.as_ref().map(|_| if posterior { "posterior" } else { "learned" }),
                "turn_average": policy.meta.discriminator.as_ref().map(|d| d.turn_average),
            })
        );
    } else {
        println!(
            "{env_id} ({}, trained {} steps): {} episodes from seed {seed}",
            policy.meta.algo, policy.meta.global_step, report.episodes
        );
        println!(
            "mean return {:.3}, success rate {:.3}, mean length {:.1} ({wall_s:.1} s)",
            report.mean_return, report.success_rate, report.mean_episode_len
        );
        if !report.final_facts.is_empty() {
            let facts: Vec<String> = report.final_facts.iter().map(|(k, v)| format!("{k} {v:.3}")).collect();
            println!("at the end of an episode, on average: {}", facts.join(", "));
        }
    }
    Ok(())
}

/// The discriminator a `--discriminator NAME` names.
fn discriminator_kind(name: &str) -> Result<tactile_rl::DiscriminatorKind> {
    tactile_rl::DiscriminatorKind::from_name(name)
        .ok_or_else(|| anyhow::anyhow!("unknown discriminator `{name}`; expected learned or posterior"))
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("{s}: expected WIDTHxHEIGHT, e.g. 1280x720");
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    Ok((w.trim().parse().map_err(|_| bad())?, h.trim().parse().map_err(|_| bad())?))
}

fn view(args: ViewArgs) -> Result<()> {
    #[cfg(not(feature = "viewer"))]
    {
        let _ = args;
        anyhow::bail!("this tactile was built without the viewer; build it with `--features viewer`")
    }
    #[cfg(feature = "viewer")]
    view_with_viewer(args)
}

#[cfg(feature = "viewer")]
fn view_with_viewer(args: ViewArgs) -> Result<()> {
    let ViewArgs { file, episode, frame, screenshot, size, measure_fps, check, json: json_out } = args;
    let file = file.as_path();
    use tactile_viewer::{Replay, ViewerMode, ViewerOptions, ViewerOutcome};
    let start = std::time::Instant::now();
    let replay = Replay::open(file)?;
    let open_s = start.elapsed().as_secs_f64();
    if check {
        let (episodes, steps) = (replay.episodes.len(), replay.steps.len());
        if json_out {
            println!(
                "{}",
                json!({
                    "file": file.display().to_string(), "env_id": replay.scene.env_id, "episodes": episodes,
                    "steps": steps, "open_s": open_s, "force_scale_n": replay.force_scale_n,
                    "truncated": replay.truncated,
                })
            );
        } else {
            println!(
                "{}: {}, {episodes} episodes, {steps} steps, heatmap scale {} N, opened in {:.3} s",
                file.display(),
                replay.scene.env_id,
                replay.force_scale_n,
                open_s
            );
            if let Some(why) = &replay.truncated {
                println!("cut short: {why}");
            }
        }
        return Ok(());
    }
    let mode = match (screenshot, measure_fps) {
        (Some(png), _) => ViewerMode::Screenshot(png),
        (None, Some(s)) if !(s.is_finite() && s > 0.0) => {
            anyhow::bail!("--measure-fps {s}: give a positive number of seconds")
        }
        (None, Some(s)) => ViewerMode::MeasureFps(s),
        (None, None) => ViewerMode::Interactive,
    };
    match tactile_viewer::run(replay, &ViewerOptions { episode, frame, size, mode })? {
        ViewerOutcome::Closed => {}
        ViewerOutcome::Screenshot(png) => println!("{}", png.display()),
        ViewerOutcome::Fps(r) if json_out => println!(
            "{}",
            json!({
                "file": file.display().to_string(), "frames": r.frames, "seconds": r.seconds, "fps": r.fps,
                "max_frame_ms": r.max_frame_ms, "size": [size.0, size.1],
            })
        ),
        ViewerOutcome::Fps(r) => println!(
            "{} frames in {:.2} s: {:.1} frames per second (slowest frame {:.1} ms) at {}x{}",
            r.frames, r.seconds, r.fps, r.max_frame_ms, size.0, size.1
        ),
    }
    Ok(())
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Envs { json } => envs(json),
        Command::Check { env_id, config, json } => check(&env_id, config.as_deref(), json),
        Command::Grasps { env_id, count, seed, spread_rad, config, out } => {
            grasps(&env_id, count, seed, spread_rad, config.as_deref(), &out)
        }
        Command::Train(args) => train::run(args),
        Command::Eval {
            policy_dir,
            episodes,
            seed,
            threads: _,
            stochastic,
            deterministic,
            record: Some(out),
            explorer: _,
            threshold: _,
            turn_average: _,
            discriminator: _,
            json,
        } => {
            let mode = (stochastic || deterministic).then_some(stochastic);
            let start = std::time::Instant::now();
            let r = record::record(None, Some(&policy_dir), episodes, seed, mode, &out)?;
            let wall_s = start.elapsed().as_secs_f64();
            let mean_len = r.steps as f64 / r.episodes.max(1) as f64;
            if json {
                println!(
                    "{}",
                    json!({
                        "env_id": r.env_id, "episodes": r.episodes, "seed": seed, "steps": r.steps,
                        "wall_s": wall_s, "mean_return": r.mean_return, "success_rate": r.success_rate,
                        "mean_episode_len": mean_len, "record": out.display().to_string(),
                    })
                );
            } else {
                println!(
                    "{}: {} episodes recorded into {}: mean return {:.3}, success rate {:.3}, mean length {mean_len:.1}",
                    r.env_id,
                    r.episodes,
                    out.display(),
                    r.mean_return,
                    r.success_rate
                );
            }
            Ok(())
        }
        Command::Eval {
            policy_dir,
            episodes,
            seed,
            threads,
            stochastic,
            deterministic,
            record: None,
            explorer,
            threshold,
            turn_average,
            discriminator,
            json,
        } => {
            let explorer = explorer
                .map(|name| {
                    tactile_rl::Explorer::from_name(&name).ok_or_else(|| {
                        anyhow::anyhow!(
                            "unknown explorer `{name}`; expected one of {}",
                            tactile_rl::Explorer::names().join(", ")
                        )
                    })
                })
                .transpose()?;
            let discriminator = discriminator.as_deref().map(discriminator_kind).transpose()?;
            let mode = (stochastic || deterministic).then_some(stochastic);
            let options = EvalOptions {
                episodes,
                seed,
                threads,
                stochastic: mode,
                explorer,
                threshold,
                turn_average,
                discriminator,
            };
            eval(&policy_dir, options, json)
        }
        Command::Record { env_id, policy, random, episodes, seed, out } => {
            let scripted = env_id.as_deref().filter(|id| record::SCRIPTED.contains(id));
            let r = if let (Some(id), None) = (scripted, &policy) {
                record::record_scripted(id, episodes, seed, &out)?
            } else if policy.is_none() && !random {
                anyhow::bail!("give --policy DIR or --random (only {} are scripted)", record::SCRIPTED.join(" and "))
            } else {
                record::record(env_id.as_deref(), policy.as_deref(), episodes, seed, None, &out)?
            };
            println!(
                "{}: {} episodes, {} steps, success rate {:.3}, mean return {:.3}",
                out.display(),
                r.episodes,
                r.steps,
                r.success_rate,
                r.mean_return
            );
            Ok(())
        }
        Command::View(args) => view(args),
        Command::Export { policy_dir, format, out, discriminator } => {
            export::export(&policy_dir, format, &out, discriminator.as_deref().map(discriminator_kind).transpose()?)
        }
        Command::Act { policy, obs } => export::act(&policy, &obs),
        Command::Plot { run_dir, out } => {
            let out = out.unwrap_or_else(|| run_dir.join("curves.png"));
            plot::plot(&run_dir, &out)?;
            println!("{}", out.display());
            Ok(())
        }
        Command::Bench { what, steps, num_envs, json, assets, device } => {
            let assets = assets.map(Assets::new).unwrap_or_else(Assets::from_env);
            if matches!(what, BenchWhat::Sim | BenchWhat::All) {
                bench::sim(steps.unwrap_or(10_000), json, &assets)?;
            }
            if matches!(what, BenchWhat::Hand | BenchWhat::All) {
                bench::hand(steps.unwrap_or(2_000), json, &assets)?;
            }
            if matches!(what, BenchWhat::Env | BenchWhat::All) {
                bench::env(steps.unwrap_or(5_000), json)?;
            }
            if matches!(what, BenchWhat::Vec | BenchWhat::All) {
                bench::vec(num_envs, steps.unwrap_or(600), json)?;
            }
            if matches!(what, BenchWhat::Ppo | BenchWhat::All) {
                bench::ppo(json, &device)?;
            }
            Ok(())
        }
    }
}

fn main() -> std::process::ExitCode {
    process::keep_freed_memory();
    process::quiet_on_closed_pipe();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if e.is::<train::Interrupted>() => std::process::ExitCode::from(130),
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// An error and its causes on one line, each cause once: a cause whose
/// text the message already holds (an error that shows its source) is not
/// repeated.
fn one_line(e: &anyhow::Error) -> String {
    let mut line = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line
}
