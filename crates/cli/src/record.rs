//! `tactile record`: episodes of a task, driven by a trained policy or by
//! random actions, streamed into an MCAP rollout file.

use std::path::Path;

use anyhow::{Context, Result, bail};
use rand::SeedableRng;
use rand::rngs::StdRng;
use tactile_env::Env;
use tactile_rollout::{EpisodeRecord, GridRecord, RolloutWriter, SceneRecord, StepRecord, flags};
use tactile_sim::hand_hold::HandHold;
use tactile_sim::taxel_slide::TaxelSlide;
use tactile_sim::{Assets, Scene, TaxelFrame};

/// The static scene of an env, as the rollout records it.
fn scene_record(env: &dyn Env, env_id: &str) -> SceneRecord {
    let terms = env.reward_terms().iter().map(|t| (*t).to_owned()).collect();
    let dt = env.scene().map_or(0.05, |s| s.env_dt_s());
    let mut record = SceneRecord::new(env_id, dt, env.action_space().flat_dim(), terms);
    if let Some(scene) = env.scene() {
        scene.describe(&mut record);
    }
    record
}

/// Fills `step` with the env's state after a step or reset.
fn observe(env: &dyn Env, step: &mut StepRecord) {
    if let Some(scene) = env.scene() {
        scene.write_body_poses(&mut step.body_poses);
    }
    for ((normal, shear), frame) in step.normal_n.iter_mut().zip(&mut step.shear_n).zip(env.taxel_frames()) {
        normal.copy_from_slice(&frame.normal_n);
        shear.copy_from_slice(&frame.shear_n);
    }
}

/// Where a task keeps an occupancy grid: the offset and side of a square
/// `grid` entry of the observation, and the flat index of a `declare`
/// entry of the action if it has one (the Explore tasks).
fn grid_layout(env: &dyn Env) -> Option<(usize, usize, Option<usize>)> {
    let (offset, side) = env.observation_space().square_grid()?;
    Some((offset, side, env.action_space().entry("declare").map(|(at, _)| at)))
}

/// Fills `grid` from an observation (and the policy's belief, if it has
/// a classifier) after step `step` with `action`.
fn observe_grid(
    layout: (usize, usize, Option<usize>),
    policy: Option<&tactile_rl::TrainedPolicy>,
    obs: &[f32],
    action: Option<&[f32]>,
    grid: &mut GridRecord,
) {
    let (offset, side, declare) = layout;
    grid.width = side as u16;
    grid.height = side as u16;
    grid.cells.clear();
    grid.cells.extend(obs[offset..offset + side * side].iter().map(|&c| c.clamp(0.0, 255.0) as u8));
    grid.belief = policy.and_then(|p| p.class_probabilities(obs)).unwrap_or_default();
    grid.declared = match (declare, action) {
        (Some(i), Some(a)) => a[i].clamp(0.0, 255.0) as u8,
        _ => 0,
    };
}

/// What was recorded.
pub struct Recorded {
    /// The task.
    pub env_id: String,
    /// Episodes.
    pub episodes: usize,
    /// Env steps.
    pub steps: u64,
    /// Fraction of successful episodes.
    pub success_rate: f64,
    /// Mean undiscounted return.
    pub mean_return: f64,
}

/// Records `episodes` episodes of `env_id` (episode 0 seeded with `seed`,
/// episode k with `env_seed(seed, k)`) into `out`, which must not exist;
/// a policy samples its actions if `stochastic` says so (default: as its
/// training config's evaluation does).
pub fn record(
    env_id: Option<&str>,
    policy_dir: Option<&Path>,
    episodes: usize,
    seed: u64,
    stochastic: Option<bool>,
    out: &Path,
) -> Result<Recorded> {
    let policy = policy_dir.map(|d| tactile_rl::TrainedPolicy::load(&crate::export::policy_dir(d))).transpose()?;
    let env_id = match (env_id, &policy) {
        (Some(id), Some(p)) if id != p.meta.env_id => {
            bail!("the policy was trained on {}, not {id}", p.meta.env_id)
        }
        (Some(id), _) => id.to_owned(),
        (None, Some(p)) => p.meta.env_id.clone(),
        (None, None) => bail!("name a task or a --policy"),
    };
    if out.exists() {
        bail!("{}: exists; remove it or choose another --out (a rollout is never written over)", out.display());
    }
    let spec = tactile_env::spec(&env_id)?;
    let mut env = tactile_env::make(&env_id, None).with_context(|| format!("making {env_id}"))?;
    let scene = scene_record(&env, &env_id);
    let file = std::fs::File::create_new(out).with_context(|| format!("creating {}", out.display()))?;
    let mut writer = RolloutWriter::new(std::io::BufWriter::new(file), &scene)?;
    let trained = policy.as_ref().and_then(|p| p.meta.training.get("eval_stochastic").and_then(|v| v.as_bool()));
    let stochastic = stochastic.or(trained).unwrap_or(false);
    let od = env.observation_space().flat_dim();
    let (mut obs, mut info) = (vec![0.0; od], env.new_info());
    let mut rng = StdRng::seed_from_u64(seed ^ 0xAC71_0E5E);
    let mut step = StepRecord::empty(&scene);
    let layout = grid_layout(&*env);
    let mut grid = GridRecord::default();
    let (mut total_steps, mut successes, mut returns) = (0u64, 0usize, 0.0f64);
    for e in 0..episodes {
        let episode_seed = if e == 0 { seed } else { tactile_env::env_seed(seed, e) };
        env.reset((e == 0).then_some(seed), &mut obs, &mut info);
        let (mut t, mut ret) = (0u32, 0.0f64);
        // Step 0: the state after the reset.
        step.episode = e as u32;
        step.step = 0;
        step.time_s = 0.0;
        step.action.fill(0.0);
        step.reward = 0.0;
        step.terms.fill(0.0);
        step.flags = 0;
        observe(&env, &mut step);
        writer.write_step(&step)?;
        if let Some(layout) = layout {
            (grid.episode, grid.step) = (step.episode, 0);
            observe_grid(layout, policy.as_ref(), &obs, None, &mut grid);
            writer.write_grid(&grid)?;
        }
        loop {
            let action = &mut step.action;
            match &policy {
                Some(p) if stochastic => {
                    p.act_with(&obs, action, Some(&mut rng));
                }
                Some(p) => p.act(&obs, action),
                None => (spec.random_action)(env.action_space(), &mut rng, action),
            }
            let s = env.step(&step.action, &mut obs, &mut info).with_context(|| format!("{env_id}: episode {e}"))?;
            t += 1;
            ret += f64::from(s.reward);
            step.episode = e as u32;
            step.step = t;
            step.time_s = f64::from(t) * f64::from(scene.env_dt_s);
            step.reward = s.reward;
            for (dst, (_, v)) in step.terms.iter_mut().zip(&info.reward_terms) {
                *dst = *v;
            }
            step.flags = [
                (s.terminated, flags::TERMINATED),
                (s.truncated, flags::TRUNCATED),
                (info.success, flags::SUCCESS),
                (info.physics_fault, flags::PHYSICS_FAULT),
            ]
            .iter()
            .filter(|(on, _)| *on)
            .fold(0, |bits, (_, bit)| bits | bit);
            observe(&env, &mut step);
            writer.write_step(&step)?;
            if let Some(layout) = layout {
                (grid.episode, grid.step) = (step.episode, t);
                // After the step the observation is the next state's; the
                // belief is the one that state gives.
                observe_grid(layout, policy.as_ref(), &obs, Some(&step.action), &mut grid);
                writer.write_grid(&grid)?;
            }
            if s.terminated || s.truncated {
                writer.end_episode(&EpisodeRecord {
                    episode: e as u32,
                    seed: Some(episode_seed),
                    steps: t,
                    episode_return: ret,
                    success: info.success,
                    terminated: s.terminated,
                    truncated: s.truncated,
                })?;
                // A crash from here on loses none of this episode.
                writer.flush()?;
                break;
            }
        }
        total_steps += u64::from(t);
        successes += usize::from(info.success);
        returns += ret;
    }
    writer.finish()?;
    let n = episodes.max(1) as f64;
    Ok(Recorded { env_id, episodes, steps: total_steps, success_rate: successes as f64 / n, mean_return: returns / n })
}

/// The ids `tactile record` takes for the scripted benchmark scenes.
pub const SCRIPTED: [&str; 2] = ["taxel-slide", "hand-hold"];

/// A benchmark scene and its scripted protocol, as the recorder drives it.
trait Scripted {
    fn scene(&self) -> &Scene;
    fn reset(&mut self, seed: u64);
    /// One env step, taxels read.
    fn step(&mut self);
    /// The taxel frames, one per array of the scene, in its order.
    fn frames(&self) -> &[TaxelFrame];
}

impl Scripted for TaxelSlide {
    fn scene(&self) -> &Scene {
        TaxelSlide::scene(self)
    }
    fn reset(&mut self, seed: u64) {
        TaxelSlide::reset(self, seed);
        self.read_taxels();
    }
    fn step(&mut self) {
        TaxelSlide::step(self, true);
    }
    fn frames(&self) -> &[TaxelFrame] {
        std::slice::from_ref(self.frame())
    }
}

impl Scripted for HandHold {
    fn scene(&self) -> &Scene {
        HandHold::scene(self)
    }
    fn reset(&mut self, seed: u64) {
        HandHold::reset(self, seed);
    }
    fn step(&mut self) {
        HandHold::step(self, true);
    }
    fn frames(&self) -> &[TaxelFrame] {
        &self.frames()[..]
    }
}

/// Records `episodes` runs of a scripted benchmark scene (`taxel-slide`:
/// the pad descends, holds, slides into the cube; `hand-hold`: the hand
/// holds the cylinder under random joint targets; no actions, no reward)
/// into `out`, which must not exist.
pub fn record_scripted(id: &str, episodes: usize, seed: u64, out: &Path) -> Result<Recorded> {
    if out.exists() {
        bail!("{}: exists; remove it or choose another --out (a rollout is never written over)", out.display());
    }
    let assets = Assets::from_env();
    let (mut run, steps): (Box<dyn Scripted>, usize) = match id {
        "taxel-slide" => (
            Box::new(TaxelSlide::new(&assets).context("building the taxel-slide scene")?),
            tactile_sim::taxel_slide::EPISODE_STEPS,
        ),
        "hand-hold" => (
            Box::new(HandHold::new(&assets).context("building the hand-hold scene")?),
            tactile_sim::hand_hold::EPISODE_STEPS,
        ),
        other => bail!("{other}: not a scripted scene (those are {})", SCRIPTED.join(", ")),
    };
    let mut scene = SceneRecord::new(id, run.scene().env_dt_s(), 0, Vec::new());
    run.scene().describe(&mut scene);
    let file = std::fs::File::create_new(out).with_context(|| format!("creating {}", out.display()))?;
    let mut writer = RolloutWriter::new(std::io::BufWriter::new(file), &scene)?;
    let mut step = StepRecord::empty(&scene);
    for e in 0..episodes {
        let episode_seed = if e == 0 { seed } else { tactile_env::env_seed(seed, e) };
        run.reset(episode_seed);
        for t in 0..=steps {
            if t > 0 {
                run.step();
            }
            step.episode = e as u32;
            step.step = t as u32;
            step.time_s = t as f64 * f64::from(scene.env_dt_s);
            step.flags = if t == steps { flags::TRUNCATED } else { 0 };
            run.scene().write_body_poses(&mut step.body_poses);
            for (k, f) in run.frames().iter().enumerate() {
                step.normal_n[k].copy_from_slice(&f.normal_n);
                step.shear_n[k].copy_from_slice(&f.shear_n);
            }
            writer.write_step(&step)?;
        }
        writer.end_episode(&EpisodeRecord {
            episode: e as u32,
            seed: Some(episode_seed),
            steps: steps as u32,
            episode_return: 0.0,
            success: false,
            terminated: false,
            truncated: true,
        })?;
        writer.flush()?;
    }
    writer.finish()?;
    Ok(Recorded { env_id: id.into(), episodes, steps: (episodes * steps) as u64, success_rate: 0.0, mean_return: 0.0 })
}
