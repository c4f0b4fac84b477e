//! `tactile train`: PPO (or TANDEM co-training) on a task, with a run
//! folder, a progress bar, checkpoints, Ctrl-C and `--resume`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::json;
use tactile_env::VecEnv;
use tactile_env::tasks::explorers::Scripted;
use tactile_rl::{
    Explorer, Overrides, Ppo, PpoConfig, ResumePlan, RunInfo, RunWriter, checkpoint_dir, evaluate_with,
    list_checkpoints, load_checkpoint, save_checkpoint,
};

/// What the command line asked for.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// The task id, e.g. Press-v0.
    pub env_id: String,
    /// ppo, or tandem (PPO explorer + discriminator; the default where
    /// the task's config has a [tandem] section, as Explore-v0's).
    #[arg(long)]
    pub algo: Option<String>,
    /// Env steps to train for (default: the task's).
    #[arg(long)]
    pub steps: Option<u64>,
    /// Parallel envs (default: the task's).
    #[arg(long)]
    pub num_envs: Option<usize>,
    /// Threads that step the envs.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Seed of everything.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Compute device: cpu, wgpu, vulkan or cuda (GPU ones when compiled in).
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// A TOML file whose keys override the PPO hyperparameters.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The task's large-batch configuration for a many-core machine with
    /// a GPU (envs/<id>.gpu.ppo.toml: every core steps envs, rollouts of
    /// 32k samples, minibatches of thousands, wider networks), under --config.
    #[arg(long, conflicts_with = "resume")]
    pub large_batch: bool,
    /// The run folder (default: runs/<env>__<algo>__<seed>__<time>); must not exist or be empty.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Go on with the run in this folder from its latest checkpoint
    /// (bit for bit as if it had not stopped); --steps may extend it.
    #[arg(long, conflicts_with = "out")]
    pub resume: Option<PathBuf>,
    /// Seconds between checkpoints (one is also written at the end).
    #[arg(long, default_value_t = 300)]
    pub checkpoint_every_s: u64,
    /// Evaluation episodes after training.
    #[arg(long, default_value_t = 10)]
    pub eval_episodes: usize,
    /// TANDEM's baselines: a scripted explorer (`random-walk`,
    /// `not-go-back`, `edge-follower`, `info-gain`, which asks the
    /// discriminator as it trains) moves the finger and only the
    /// discriminator learns, on that explorer's own grids.
    #[arg(long, conflicts_with = "resume")]
    pub explorer: Option<String>,
    /// Print one JSON object on stdout at the end.
    #[arg(long)]
    pub json: bool,
}

/// Set by Ctrl-C; the loop checkpoints and stops at the next update.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// The error a Ctrl-C ends training with (exit status 130).
#[derive(Debug)]
pub struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "interrupted")
    }
}

impl std::error::Error for Interrupted {}

fn install_ctrl_c() {
    // A second Ctrl-C exits at once (checkpoints are written atomically,
    // so one cut short leaves the previous ones intact).
    let installed = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    if let Err(e) = installed {
        eprintln!("warning: Ctrl-C will not write a checkpoint ({e})");
    }
}

impl TrainArgs {
    /// What the flags set on top of the task's (or the run's) config.
    fn overrides(&self) -> Overrides<'_> {
        Overrides {
            file: self.config.as_deref(),
            algo: self.algo.as_deref(),
            total_steps: self.steps,
            num_envs: self.num_envs,
            threads: self.threads,
            seed: self.seed,
            large_batch: self.large_batch,
        }
    }
}

pub fn run(args: TrainArgs) -> Result<()> {
    tactile_env::spec(&args.env_id)?;
    if let Some(dir) = args.resume.clone() {
        return resume(args, &dir);
    }
    let (mut config, algo) = PpoConfig::for_new_run(&args.env_id, &args.overrides())?;
    let algo = algo.as_str();
    if let Some(name) = &args.explorer {
        let kind = Scripted::from_name(name).with_context(|| {
            let names: Vec<&str> = Scripted::ALL.iter().map(|s| s.name()).collect();
            format!("unknown explorer `{name}`; expected one of {}", names.join(", "))
        })?;
        let tandem = config.tandem.as_mut().with_context(|| {
            format!("--explorer {name}: {} trains no discriminator (it needs --algo tandem)", args.env_id)
        })?;
        tandem.explorer = Some(kind);
    }
    if config.steps_trained() != config.total_steps && !args.json {
        eprintln!(
            "note: training {} steps, {} rollouts of {} ({} envs x {} steps)",
            config.steps_trained(),
            config.steps_trained() / config.rollout_steps(),
            config.rollout_steps(),
            config.num_envs,
            config.num_steps
        );
    }
    // A posterior the task cannot have is refused now, not after training.
    if let Some(t) = config.tandem.as_ref().filter(|t| t.discriminator == tactile_rl::DiscriminatorKind::Posterior) {
        tactile_rl::posterior_meta(&args.env_id, &t.posterior).context("[tandem] discriminator = \"posterior\"")?;
    }
    let device = tactile_rl::device(&args.device)?;
    let adapter = tactile_rl::describe_device(&args.device);
    if !args.json {
        eprintln!("device: {} = {adapter}", args.device);
    }
    let unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("runs").join(format!("{}__{algo}__{}__{unix}", args.env_id, config.seed)));
    let mut env = VecEnv::make(&args.env_id, config.num_envs, config.threads, None)?;
    env.reset(config.seed)?;
    let (obs_space, act_space) = (env.observation_space().clone(), env.action_space().clone());
    let ppo = Ppo::new(config.clone(), &obs_space, &act_space, env.state_dim(), device)?;
    let terms: Vec<&str> = env.infos[0].reward_terms.iter().map(|(t, _)| *t).collect();
    let info = RunInfo {
        env_id: &args.env_id,
        algo,
        ppo: &config,
        device: &args.device,
        adapter: &adapter,
        version: env!("CARGO_PKG_VERSION"),
        commit: tactile_rl::build_commit(),
    };
    let writer = RunWriter::create(&dir, &info, &terms, &ppo.extra_metrics()).context("creating the run folder")?;
    train_loop(ppo, env, writer, &args, Instant::now())
}

/// Goes on with the run in `dir` from its latest checkpoint. Everything is
/// checked before anything in the folder is touched.
fn resume(args: TrainArgs, dir: &Path) -> Result<()> {
    let plan = ResumePlan::new(dir, &args.env_id, &args.overrides())?;
    let (latest, wanted) = (plan.checkpoint, plan.config);
    let device = tactile_rl::device(&args.device)?;
    if !args.json {
        eprintln!("device: {} = {}", args.device, tactile_rl::describe_device(&args.device));
    }
    let mut env = VecEnv::make(&args.env_id, wanted.num_envs, wanted.threads, None)?;
    let (obs_space, act_space) = (env.observation_space().clone(), env.action_space().clone());
    let mut resumed = load_checkpoint(&latest, &obs_space, &act_space, env.state_dim(), device)
        .with_context(|| format!("resuming from {}", latest.display()))?;
    resumed.restore_env(&mut env).with_context(|| format!("putting the envs back from {}", latest.display()))?;
    // Only now, with the run loaded, is anything in its folder touched:
    // damaged newer checkpoints are set aside (kept, never deleted).
    for (damaged, why) in &plan.damaged {
        eprintln!("warning: {why}; going on from the older {}", latest.display());
        let aside = (0..)
            .map(|k| damaged.with_extension(if k == 0 { "damaged".to_owned() } else { format!("damaged-{k}") }))
            .find(|p| !p.exists())
            .unwrap_or_else(|| damaged.with_extension("damaged"));
        std::fs::rename(damaged, &aside)
            .with_context(|| format!("setting the damaged checkpoint {} aside", damaged.display()))?;
        eprintln!("         (the damaged checkpoint is kept as {})", aside.display());
    }
    resumed.ppo.config.total_steps = wanted.total_steps;
    resumed.ppo.config.threads = wanted.threads;
    let terms: Vec<&str> = env.infos[0].reward_terms.iter().map(|(t, _)| *t).collect();
    let writer = RunWriter::reopen(dir, &terms, &resumed.ppo.extra_metrics(), resumed.ppo.global_step)?;
    if !args.json {
        eprintln!("resuming {} from {} (step {})", args.env_id, latest.display(), resumed.ppo.global_step);
    }
    train_loop(resumed.ppo, env, writer, &args, Instant::now())
}

fn train_loop(mut ppo: Ppo, mut env: VecEnv, mut writer: RunWriter, args: &TrainArgs, start: Instant) -> Result<()> {
    install_ctrl_c();
    let dir = writer.dir().to_owned();
    let total = ppo.config.total_steps;
    let bar = (!args.json && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {msg}  ETA {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_position(ppo.global_step.min(total));
        bar.reset_eta();
        bar
    });
    let first_step = ppo.global_step;
    let loop_start = Instant::now();
    let every = Duration::from_secs(args.checkpoint_every_s.max(1));
    let mut last_checkpoint = Instant::now();
    let (mut last_return, mut last_success) = (f32::NAN, f32::NAN);
    while ppo.global_step < total {
        if INTERRUPTED.load(Ordering::SeqCst) {
            if let Some(bar) = &bar {
                bar.abandon();
            }
            let at = checkpoint(&ppo, &env, &dir)?;
            eprintln!(
                "interrupted at step {}: checkpoint {}; go on with `tactile train {} --resume {}`",
                ppo.global_step,
                at.display(),
                env.id(),
                dir.display()
            );
            return Err(Interrupted.into());
        }
        let stats = ppo.iterate(&mut env)?;
        writer.record(&stats)?;
        if !stats.episode_returns.is_empty() {
            let n = stats.episode_returns.len() as f32;
            last_return = stats.episode_returns.iter().sum::<f32>() / n;
            last_success = stats.episode_successes.iter().filter(|&&s| s).count() as f32 / n;
        }
        if let Some(bar) = &bar {
            bar.set_position(stats.global_step.min(total));
            let rate = (stats.global_step - first_step) as f64 / loop_start.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!(
                "{} steps/s  return {last_return:.2}  success {last_success:.2}",
                readable_rate(rate)
            ));
        }
        if last_checkpoint.elapsed() >= every {
            checkpoint(&ppo, &env, &dir)?;
            last_checkpoint = Instant::now();
        }
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let wall_s = start.elapsed().as_secs_f64();
    checkpoint(&ppo, &env, &dir)?;
    let policy = ppo.policy(env.id())?;
    let final_dir = dir.join("final");
    policy.save(&final_dir)?;
    let explorer = match ppo.config.tandem.as_ref().and_then(|t| t.explorer) {
        Some(kind) => Explorer::Scripted(kind),
        None => Explorer::Learned,
    };
    let eval = evaluate_with(
        &policy,
        env.id(),
        args.eval_episodes,
        ppo.config.seed.wrapping_add(1_000_000),
        ppo.config.threads,
        ppo.config.eval_stochastic,
        explorer,
    )?;
    let steps_here = ppo.global_step - first_step;
    if args.json {
        println!(
            "{}",
            json!({
                "env_id": env.id(),
                "algo": policy.meta.algo,
                "steps": ppo.global_step,
                "wall_s": wall_s,
                "sps": steps_here as f64 / wall_s,
                "eval_episodes": eval.episodes,
                "mean_return": eval.mean_return,
                "success_rate": eval.success_rate,
                "mean_episode_len": eval.mean_episode_len,
                "mean_success_len": eval.mean_success_len,
                "final_facts": eval.final_facts,
                "eval_stochastic": ppo.config.eval_stochastic,
                "run_dir": dir.display().to_string(),
                "policy_dir": final_dir.display().to_string(),
            })
        );
    } else {
        println!(
            "{}: {} steps in {wall_s:.1} s ({:.0} steps/s)",
            env.id(),
            ppo.global_step,
            steps_here as f64 / wall_s
        );
        println!(
            "evaluation over {} episodes: mean return {:.3}, success rate {:.2}, mean length {:.1}",
            eval.episodes, eval.mean_return, eval.success_rate, eval.mean_episode_len
        );
        println!("run folder: {}  (policy: {})", dir.display(), final_dir.display());
    }
    Ok(())
}

/// A rate as a person reads it: whole numbers with thousands separators
/// from 100 up (`3,371`), one decimal from 10 (`42.5`), two below.
fn readable_rate(per_s: f64) -> String {
    if !per_s.is_finite() {
        return "-".into();
    }
    if per_s < 10.0 {
        return format!("{per_s:.2}");
    }
    if per_s < 100.0 {
        return format!("{per_s:.1}");
    }
    let digits = format!("{:.0}", per_s);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Writes a checkpoint and keeps the latest two.
fn checkpoint(ppo: &Ppo, env: &VecEnv, run_dir: &Path) -> Result<PathBuf> {
    let at = checkpoint_dir(run_dir, ppo.updates);
    save_checkpoint(ppo, env, &at).with_context(|| format!("writing checkpoint {}", at.display()))?;
    let all = list_checkpoints(run_dir)?;
    for old in all.iter().take(all.len().saturating_sub(2)) {
        // Out of sight first: a kill while the files go must not leave a
        // half-deleted checkpoint among the whole ones.
        let name = old.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let trash = old.with_file_name(format!(".{name}.removing"));
        std::fs::rename(old, &trash).with_context(|| format!("removing old checkpoint {}", old.display()))?;
    }
    // What an earlier kill left half-deleted goes now.
    let dir = at.parent().unwrap_or(run_dir);
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?.flatten() {
        let path = entry.path();
        if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.') && n.ends_with(".removing")) {
            std::fs::remove_dir_all(&path).with_context(|| format!("removing old checkpoint {}", path.display()))?;
        }
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::readable_rate;

    #[test]
    fn rates_read_as_people_write_them() {
        assert_eq!(readable_rate(3_371.494_9), "3,371");
        assert_eq!(readable_rate(1_234_567.8), "1,234,568");
        assert_eq!(readable_rate(625.4), "625");
        assert_eq!(readable_rate(42.46), "42.5");
        assert_eq!(readable_rate(4.256), "4.26");
        assert_eq!(readable_rate(f64::NAN), "-");
    }
}
