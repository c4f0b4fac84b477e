//! `tactile train`: PPO on a task, with a run folder and a progress bar.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use serde_json::json;
use tactile_env::VecEnv;
use tactile_rl::{Ppo, PpoConfig, RunInfo, RunWriter, evaluate};

/// What the command line asked for.
pub struct TrainArgs {
    pub env_id: String,
    pub steps: Option<u64>,
    pub num_envs: Option<usize>,
    pub threads: Option<usize>,
    pub seed: Option<u64>,
    pub device: String,
    pub config: Option<PathBuf>,
    pub out: Option<PathBuf>,
    pub eval_episodes: usize,
    pub json: bool,
}

/// The PPO config of a run: the task's defaults, a user's TOML on top,
/// then the command-line flags.
fn config(args: &TrainArgs) -> Result<PpoConfig> {
    let base = toml::to_string(&PpoConfig::for_task(&args.env_id)?).context("serialising the task's PPO defaults")?;
    let mut c: PpoConfig =
        tactile_env::load_config(&base, &format!("envs/{}.ppo.toml", args.env_id), args.config.as_deref())?;
    if let Some(s) = args.steps {
        c.total_steps = s;
    }
    if let Some(n) = args.num_envs {
        c.num_envs = n;
    }
    if let Some(k) = args.threads {
        c.threads = k;
    }
    if let Some(s) = args.seed {
        c.seed = s;
    }
    c.validate()?;
    Ok(c)
}

pub fn run(args: TrainArgs) -> Result<()> {
    tactile_env::spec(&args.env_id)?;
    let config = config(&args)?;
    let device = tactile_rl::device(&args.device)?;
    let unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("runs").join(format!("{}__ppo__{}__{unix}", args.env_id, config.seed)));
    let mut env = VecEnv::make(&args.env_id, config.num_envs, config.threads, None)?;
    env.reset(config.seed)?;
    let (obs_space, act_space) = (env.observation_space().clone(), env.action_space().clone());
    let terms: Vec<&str> = env.infos[0].reward_terms.iter().map(|(t, _)| *t).collect();
    let info = RunInfo {
        env_id: &args.env_id,
        algo: "ppo",
        ppo: &config,
        device: &args.device,
        version: env!("CARGO_PKG_VERSION"),
    };
    let mut writer = RunWriter::create(&dir, &info, &terms).context("creating the run folder")?;
    let mut ppo = Ppo::new(config.clone(), &obs_space, &act_space, device)?;

    let bar = (!args.json && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(config.total_steps);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {per_sec}  ETA {eta}  {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let start = Instant::now();
    let (mut last_return, mut last_success) = (f32::NAN, f32::NAN);
    while ppo.global_step < config.total_steps {
        let stats = ppo.iterate(&mut env)?;
        writer.record(&stats)?;
        if !stats.episode_returns.is_empty() {
            let n = stats.episode_returns.len() as f32;
            last_return = stats.episode_returns.iter().sum::<f32>() / n;
            last_success = stats.episode_successes.iter().filter(|&&s| s).count() as f32 / n;
        }
        if let Some(bar) = &bar {
            bar.set_position(stats.global_step.min(config.total_steps));
            bar.set_message(format!("return {last_return:.2}  success {last_success:.2}"));
        }
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let wall_s = start.elapsed().as_secs_f64();
    let eval = evaluate(&ppo, &args.env_id, args.eval_episodes, config.seed.wrapping_add(1_000_000), config.threads)?;
    if args.json {
        println!(
            "{}",
            json!({
                "env_id": args.env_id,
                "algo": "ppo",
                "steps": ppo.global_step,
                "wall_s": wall_s,
                "sps": ppo.global_step as f64 / wall_s,
                "eval_episodes": eval.episodes,
                "mean_return": eval.mean_return,
                "success_rate": eval.success_rate,
                "mean_episode_len": eval.mean_episode_len,
                "run_dir": writer.dir().display().to_string(),
            })
        );
    } else {
        println!(
            "{}: {} steps in {wall_s:.1} s ({:.0} steps/s)",
            args.env_id,
            ppo.global_step,
            ppo.global_step as f64 / wall_s
        );
        println!(
            "evaluation over {} episodes: mean return {:.3}, success rate {:.2}, mean length {:.1}",
            eval.episodes, eval.mean_return, eval.success_rate, eval.mean_episode_len
        );
        println!("run folder: {}", writer.dir().display());
    }
    Ok(())
}
