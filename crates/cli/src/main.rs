//! The `tactile` command-line tool.

use std::io::IsTerminal;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use tactile_sim::Assets;
use tactile_sim::taxel_slide::{BenchReport, TaxelSlide};

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
    /// Measure simulation speed on the project's canonical workloads.
    Bench {
        /// Which workload.
        #[arg(value_enum)]
        what: BenchWhat,
        /// Env steps timed per mode.
        #[arg(long, default_value_t = 10_000)]
        steps: usize,
        /// Print one JSON object on stdout instead of a table.
        #[arg(long)]
        json: bool,
        /// Assets folder (default: the built-in assets).
        #[arg(long)]
        assets: Option<std::path::PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum BenchWhat {
    /// The taxel-slide scene: physics only, and physics + 64 taxels.
    Sim,
    /// Every workload that exists.
    All,
}

fn bench_sim(steps: usize, json: bool, assets: &Assets) -> Result<()> {
    if steps == 0 {
        anyhow::bail!("--steps must be at least 1");
    }
    let mut slide = TaxelSlide::new(assets).context("building the taxel-slide scene")?;
    if !json && std::io::stderr().is_terminal() {
        eprintln!("taxel-slide: {steps} env steps physics only, then {steps} with taxels, one thread...");
    }
    let r: BenchReport = slide.bench(steps);
    let hold = r.episode.hold;
    if json {
        let out = serde_json::json!({
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

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Bench { what, steps, json, assets } => {
            let assets = assets.map(Assets::new).unwrap_or_else(Assets::workspace);
            match what {
                BenchWhat::Sim | BenchWhat::All => bench_sim(steps, json, &assets),
            }
        }
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
