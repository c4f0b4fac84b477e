//! How well a TANDEM discriminator tells an Explore task's objects apart
//! on episodes it never saw, away from co-training: record the grids of a
//! trained explorer once, then fit discriminators of other shapes on them,
//! or judge a trained policy's own discriminator on them.
//!
//! ```sh
//! # 1,000 training and 200 held-out episodes of 150 moves (declarations off)
//! cargo run --release -p tactile-rl --example discriminator_study -- record runs/<run>/final /tmp/grids
//! # fit a discriminator for 1,000 minibatches of 256 and report every 250
//! cargo run --release -p tactile-rl --example discriminator_study -- fit /tmp/grids 1000 plain
//! cargo run --release -p tactile-rl --example discriminator_study -- fit /tmp/grids 1000 polar
//! # the trained policy's own discriminator on the held-out episodes
//! cargo run --release -p tactile-rl --example discriminator_study -- judge runs/<run>/final /tmp/grids
//! # the same grids from a scripted contour follower instead of a policy
//! cargo run --release -p tactile-rl --example discriminator_study -- record-tracer /tmp/grids
//! # on Explore-v2: 8,000 training episodes of 120 moves, every 4th grid
//! # kept (more episodes in the same memory), no held-out ones
//! STUDY_ENV=Explore-v2 STUDY_SIZES=8000,0,120 STUDY_EVERY=4 cargo run ... -- record policies/Explore-v2 /tmp/grids
//! # the Bayes-optimal discriminator on the held-out episodes: the ceiling
//! # of any discriminator reading the grids of the explorer that made them
//! STUDY_ENV=Explore-v2 cargo run ... -- bayes /tmp/grids
//! # grids from greedy information gain on that posterior instead
//! STUDY_ENV=Explore-v2 STUDY_SIZES=2,300,200 cargo run ... -- record-infogain /tmp/grids
//! ```
//!
//! `STUDY_ENV` picks the task (Explore-v0 by default); a trained explorer's
//! moves give way to its next most likely one where they head into a known
//! contact cell (TANDEM's evaluation), and the moves recorded are the
//! task's own count (`moves`) where it keeps one. `fit` trains on the
//! recorded episodes but the last 100 and fits a temperature (as `[tandem]
//! calibration_envs` does in co-training) on those 100. Every 250
//! minibatches it prints the accuracy on the training minibatches and on
//! every held-out grid (also by the grid's contact cells, in tens), and,
//! per held-out episode, the first move at which the discriminator is sure
//! (`STUDY_THRESHOLD`, 0.98 by default): how many episodes it declares in,
//! how many of those are right, the mean move of the declaration and its
//! contact cells. It does so with the raw probabilities (`T 1.00`) and
//! with the fitted temperature; every 1,000 minibatches also at other
//! thresholds, raw and with the probabilities averaged over the grid's
//! four quarter turns (`TTA4`). `STUDY_CHANNELS=16,32,32` (and
//! `STUDY_KERNELS`, `STUDY_STRIDES`, `STUDY_FEATURES`, `STUDY_LR`) change
//! the CNN, `STUDY_ANGLES=64` the polar one's angle bins, and
//! `STUDY_NO_ROTATE` turns off the quarter-turn augmentation.
//!
//! `bayes` reads the grids as `tactile_policy::ShapePosterior` does:
//! the posterior over the ten polygons that knows what a learned
//! discriminator has to learn (their shapes, the finger's radius, the
//! guard and the noise), summed over the object's pose on a lattice
//! (`STUDY_YAWS` yaws by `STUDY_OFFSETS` offsets per axis within the
//! jitter; 1,440 x 11 x 11 by default), and reports its declarations as
//! `fit` does (`tactile eval --discriminator posterior` lets it declare
//! in `tactile eval`'s own loop), and `record-infogain` moves the finger to the unexplored
//! cell within 4 moves whose reading tells most about the object (mutual
//! information under the posterior) per move to reach it.

use std::io::{Read, Write};
use std::path::Path;

use rand::SeedableRng;
use rand::rngs::StdRng;
use tactile_env::Env;
use tactile_env::tasks::explorers::avoid_contact;
use tactile_policy::{Evidence, ShapePosterior};
use tactile_rl::{
    CnnConfig, PolarView, PosteriorConfig, Tandem, TandemConfig, TrainedPolicy, fit_temperature, obs_layout,
    posterior_meta, tandem_layout,
};

type Error = Box<dyn std::error::Error>;

/// Grids of Explore-v0's 60 x 60 cells, then the taxels.
const CELLS: usize = 3600;
/// One stored grid: its cells, the object, the episode, the move.
const RECORD: usize = CELLS + 1 + 4 + 2;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["record", policy, out] => {
            let policy = TrainedPolicy::load(Path::new(policy))?;
            let mut explorer = Explorer::Policy(Box::new(policy));
            std::fs::create_dir_all(out)?;
            record_both(&mut explorer, Path::new(out))
        }
        ["record-tracer", out] => {
            let mut explorer = Explorer::Tracer(Vec::new());
            std::fs::create_dir_all(out)?;
            record_both(&mut explorer, Path::new(out))
        }
        ["record-infogain", out] => {
            let mut explorer = Explorer::InfoGain(Box::new(posterior()?), Vec::new());
            std::fs::create_dir_all(out)?;
            record_both(&mut explorer, Path::new(out))
        }
        ["judge", policy, dir] => judge(Path::new(policy), Path::new(dir)),
        ["bayes", dir] => bayes(Path::new(dir)),
        ["fit", dir, minibatches, kind @ ("plain" | "polar")] => {
            fit(Path::new(dir), minibatches.parse()?, kind == "polar")
        }
        _ => Err("usage: discriminator_study record POLICY_DIR OUT_DIR | record-tracer OUT_DIR | record-infogain OUT_DIR | fit DIR MINIBATCHES plain|polar | judge POLICY_DIR DIR | bayes DIR".into()),
    }
}

/// The task: `STUDY_ENV` (Explore-v0 or Explore-v1), Explore-v0 by default.
fn study_env() -> String {
    std::env::var("STUDY_ENV").unwrap_or_else(|_| "Explore-v0".into())
}

/// Training and held-out episodes and moves per episode:
/// `STUDY_SIZES=1000,200,150` by default.
fn study_sizes() -> Result<(usize, usize, usize), Error> {
    match env_list("STUDY_SIZES", &[1000, 200, 150])?[..] {
        [train, test, moves] if train > 0 && moves > 0 => Ok((train, test, moves)),
        _ => Err("STUDY_SIZES: three numbers, training episodes, held-out episodes, moves (e.g. 1000,200,150)".into()),
    }
}

/// A comma-separated list of numbers from the environment variable
/// `name`, or `default` where it is not set.
fn env_list(name: &str, default: &[usize]) -> Result<Vec<usize>, Error> {
    let Ok(text) = std::env::var(name) else { return Ok(default.to_vec()) };
    text.split(',')
        .map(|c| c.trim().parse().map_err(|_| format!("{name}={text}: {c:?} is not a whole number").into()))
        .collect()
}

/// A number from the environment variable `name`, or `default`.
fn env_number(name: &str, default: f64) -> Result<f64, Error> {
    let Ok(text) = std::env::var(name) else { return Ok(default) };
    text.trim().parse().map_err(|_| format!("{name}={text}: not a number").into())
}

/// The trained policy's own discriminator on the held-out episodes: at
/// its threshold, then at others, read from the grid and averaged over
/// its four quarter turns (`TTA4`, the discriminator's `turn_average`).
fn judge(policy: &Path, dir: &Path) -> Result<(), Error> {
    let mut policy = TrainedPolicy::load(policy)?;
    let env = tactile_env::make(&study_env(), None)?;
    let od = env.observation_space().flat_dim();
    let test = load(&dir.join("test.bin"), od)?;
    let threshold = policy.meta.discriminator.as_ref().map_or(0.98, |d| d.threshold);
    let read = |policy: &TrainedPolicy| -> Result<Vec<f32>, Error> {
        let mut probs = Vec::new();
        for o in test.obs.chunks(1000 * od) {
            let grids: Vec<f32> = o.chunks(od).flat_map(|r| r[..CELLS].iter().copied()).collect();
            probs.extend(policy.grid_class_probabilities(&grids).ok_or("the policy has no discriminator")?);
        }
        Ok(probs)
    };
    let plain = read(&policy)?;
    report(&test, &plain, 1.0, threshold);
    policy.set_turn_average(true)?;
    let turned = read(&policy)?;
    for t in [0.9, 0.95, 0.98, 0.99, 0.995] {
        print!("  plain at {t} ");
        report(&test, &plain, 1.0, t);
        print!("  TTA4 at {t} ");
        report(&test, &turned, 1.0, t);
    }
    Ok(())
}

/// Who chooses the moves: a trained explorer (sampled moves), or a
/// scripted contour follower (one state per env).
enum Explorer {
    Policy(Box<TrainedPolicy>),
    Tracer(Vec<Tracer>),
    /// Greedy information gain on the Bayes posterior, one evidence per env.
    InfoGain(Box<ShapePosterior>, Vec<Evidence>),
}

/// A scripted contour follower: straight to the workspace's centre (the
/// object stands there, within its jitter) until the first touch, then
/// around the object with the wall on its right. It taps the wall side
/// (a blocked move is a touch and marks a contact cell), then moves ahead.
/// A face that slants into its way stops the move ahead with a new touch:
/// it steps out once and goes ahead again. A touch ahead that finds nothing
/// new is a corner: it turns left. A tap that finds no wall is the other
/// corner: it turns right. Each new contact cell costs about two moves.
#[derive(Clone, Copy, Default)]
struct Tracer {
    /// The heading once in contact (a move: +x, -x, +y, -y).
    heading: Option<usize>,
    /// What the last move was, and the contact cells before it.
    last: Leg,
    cells: usize,
}

#[derive(Clone, Copy, Default, PartialEq)]
enum Leg {
    #[default]
    Approach,
    Tap,
    Ahead,
    Out,
}

/// The direction a quarter turn to the right of `d` (x right, y up).
fn right_of(d: usize) -> usize {
    [3, 2, 0, 1][d]
}

fn left_of(d: usize) -> usize {
    [2, 3, 1, 0][d]
}

impl Tracer {
    /// The next move, from the raw observation (the grid, then taxels):
    /// whether the last move was blocked shows in the taxels.
    fn act(&mut self, obs: &[f32]) -> usize {
        let touched = obs[CELLS..].iter().sum::<f32>() > 0.05;
        let cells = obs[..CELLS].iter().filter(|&&c| c == 2.0).count();
        let new_cell = cells > self.cells;
        self.cells = cells;
        let (heading, next) = match (self.last, self.heading) {
            (Leg::Approach, _) if !touched => {
                let side = (CELLS as f64).sqrt() as i32;
                let at = obs[..CELLS].iter().position(|&c| c == 3.0).unwrap_or(0) as i32;
                let (dx, dy) = (side / 2 - at % side, side / 2 - at / side);
                let toward = match (dx.abs() >= dy.abs(), dx > 0, dy > 0) {
                    (true, true, _) => 0,
                    (true, false, _) => 1,
                    (false, _, true) => 2,
                    (false, _, false) => 3,
                };
                // The heading that would put the wall on the right.
                self.heading = Some(left_of(toward));
                return toward;
            }
            // The first touch: the wall is on the right; go ahead.
            (Leg::Approach, Some(h)) => (h, Leg::Ahead),
            // Touching from the start (Explore-v1): the wall lies where the
            // most loaded taxel faces (taxel k of each ring of 16 faces
            // k/16 of a turn counter-clockwise from +x).
            (Leg::Approach, None) => {
                let taxels = &obs[CELLS..];
                let most = (0..taxels.len()).max_by(|&a, &b| taxels[a].total_cmp(&taxels[b])).unwrap_or(0);
                let toward = [0, 2, 1, 3][((most % 16 + 2) / 4) % 4];
                (left_of(toward), Leg::Ahead)
            }
            (Leg::Tap, Some(h)) if touched => (h, Leg::Ahead),
            // No wall: round a convex corner, that way is ahead now.
            (Leg::Tap, Some(h)) => (right_of(h), Leg::Tap),
            (Leg::Ahead, Some(h)) if !touched => (h, Leg::Tap),
            (Leg::Ahead, Some(h)) if new_cell => (h, Leg::Out),
            // Blocked with nothing new: a concave corner, turn left.
            (Leg::Ahead, Some(h)) => (left_of(h), Leg::Ahead),
            (Leg::Out, Some(h)) => (h, Leg::Ahead),
            (_, None) => (0, Leg::Tap),
        };
        self.heading = Some(heading);
        self.last = next;
        match next {
            Leg::Tap => right_of(heading),
            Leg::Out => left_of(heading),
            _ => heading,
        }
    }
}

/// Records the training episodes (seed 1, every `STUDY_EVERY`-th grid)
/// and the held-out ones (seed 2, every grid) of `STUDY_SIZES`.
fn record_both(explorer: &mut Explorer, out: &Path) -> Result<(), Error> {
    let (train, test, moves) = study_sizes()?;
    let every = env_list("STUDY_EVERY", &[1])?.first().copied().unwrap_or(1).max(1);
    record(explorer, train, moves, every, 1, &out.join("train.bin"))?;
    if test > 0 {
        record(explorer, test, moves, 1, 2, &out.join("test.bin"))?;
    }
    Ok(())
}

/// Runs the explorer (never declaring) on `episodes` episodes of `moves`
/// moves and writes every `every`-th grid with 3 contact cells or more. A trained
/// explorer's move that heads into a known contact cell gives way to its
/// next most likely one (TANDEM's evaluation, `learned-avoiding-contact`).
fn record(
    explorer: &mut Explorer,
    episodes: usize,
    moves: usize,
    every: usize,
    seed: u64,
    path: &Path,
) -> Result<(), Error> {
    let n = 32.min(episodes);
    let mut envs = (0..n).map(|_| tactile_env::make(&study_env(), None)).collect::<Result<Vec<_>, _>>()?;
    let od = envs[0].observation_space().flat_dim();
    let ad = envs[0].action_space().flat_dim();
    let declare_at = match explorer {
        Explorer::Policy(p) => p.meta.discriminator.as_ref().map_or(1, |d| d.layout.action_index),
        Explorer::Tracer(_) | Explorer::InfoGain(..) => 1,
    };
    let side = (CELLS as f64).sqrt() as usize;
    let mut infos: Vec<_> = envs.iter().map(|e| e.new_info()).collect();
    let mut obs = vec![0.0f32; n * od];
    let mut actions = vec![0.0f32; n * ad];
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let (mut episode, mut count) = (vec![0u32; n], 0);
    let mut next = 0u32;
    let mut moved = vec![0u16; n];
    for (i, env) in envs.iter_mut().enumerate() {
        env.reset(Some(seed << 32 | u64::from(next)), &mut obs[i * od..(i + 1) * od], &mut infos[i]);
        (episode[i], next) = (next, next + 1);
    }
    while episode.iter().any(|&e| (e as usize) < episodes) {
        match explorer {
            Explorer::Policy(policy) => {
                let outputs = policy.act_with(&obs, &mut actions, Some(&mut rng));
                let per = outputs.len() / n;
                for i in 0..n {
                    let grid = &obs[i * od..i * od + CELLS];
                    let a = &mut actions[i * ad];
                    *a = avoid_contact(grid, side, *a as usize, &outputs[i * per..i * per + 4]) as f32;
                }
            }
            Explorer::Tracer(tracers) => {
                tracers.resize(n, Tracer::default());
                for (i, t) in tracers.iter_mut().enumerate() {
                    actions[i * ad] = t.act(&obs[i * od..(i + 1) * od]) as f32;
                }
            }
            Explorer::InfoGain(model, evidence) => {
                while evidence.len() < n {
                    evidence.push(model.evidence());
                }
                for (i, ev) in evidence.iter_mut().enumerate() {
                    let grid = &obs[i * od..i * od + CELLS];
                    model.update(ev, grid);
                    actions[i * ad] = explore(model, ev, grid, &mut rng) as f32;
                }
            }
        }
        for (i, env) in envs.iter_mut().enumerate() {
            actions[i * ad + declare_at] = 0.0; // never declare
            let o = &mut obs[i * od..(i + 1) * od];
            env.step(&actions[i * ad..(i + 1) * ad], o, &mut infos[i])?;
            moved[i] += 1;
            let kept = (moved[i] as usize).is_multiple_of(every);
            if kept && (episode[i] as usize) < episodes && infos[i].fact("contact_cells").unwrap_or(0.0) >= 3.0 {
                let grid: Vec<u8> = o[..CELLS].iter().map(|&v| v as u8).collect();
                out.write_all(&grid)?;
                out.write_all(&[infos[i].fact("object_id").unwrap_or(0.0) as u8])?;
                out.write_all(&episode[i].to_le_bytes())?;
                // The task's own count where it keeps one (Explore-v2 does
                // not count the approach from the corner).
                let counted = infos[i].fact("moves").map_or(moved[i], |m| m as u16);
                out.write_all(&counted.to_le_bytes())?;
                count += 1;
            }
            if moved[i] as usize >= moves {
                match explorer {
                    Explorer::Tracer(tracers) => tracers[i] = Tracer::default(),
                    Explorer::InfoGain(_, evidence) => evidence[i].clear(),
                    Explorer::Policy(_) => {}
                }
                env.reset(Some(seed << 32 | u64::from(next)), o, &mut infos[i]);
                (episode[i], next, moved[i]) = (next, next + 1, 0);
            }
        }
    }
    out.flush()?;
    println!("{}: {count} grids of {episodes} episodes", path.display());
    Ok(())
}

/// Stored grids as raw observations (taxels zero), labels, episodes, moves.
struct Grids {
    obs: Vec<f32>,
    labels: Vec<u8>,
    episodes: Vec<u32>,
    moves: Vec<u16>,
    contact: Vec<usize>,
}

fn load(path: &Path, obs_dim: usize) -> Result<Grids, Error> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.read_to_end(&mut bytes)?;
    let n = bytes.len() / RECORD;
    let mut g = Grids { obs: vec![0.0; n * obs_dim], labels: vec![], episodes: vec![], moves: vec![], contact: vec![] };
    for (k, r) in bytes.chunks_exact(RECORD).enumerate() {
        for (dst, &src) in g.obs[k * obs_dim..k * obs_dim + CELLS].iter_mut().zip(&r[..CELLS]) {
            *dst = f32::from(src);
        }
        g.contact.push(r[..CELLS].iter().filter(|&&c| c == 2).count());
        g.labels.push(r[CELLS]);
        g.episodes.push(u32::from_le_bytes([r[CELLS + 1], r[CELLS + 2], r[CELLS + 3], r[CELLS + 4]]));
        g.moves.push(u16::from_le_bytes([r[CELLS + 5], r[CELLS + 6]]));
    }
    Ok(g)
}

/// Fits a discriminator (Explore-v0's shapes: the plain CNN with quarter
/// turns, or the polar one) and reports on the held-out episodes.
fn fit(dir: &Path, minibatches: usize, polar: bool) -> Result<(), Error> {
    let env = tactile_env::make(&study_env(), None)?;
    let od = env.observation_space().flat_dim();
    let train = load(&dir.join("train.bin"), od)?;
    let test = load(&dir.join("test.bin"), od)?;
    // The polar CNN's defaults: 3 x 3 kernels all through (no patch stem).
    let (kernels, strides): (&[usize], &[usize]) =
        if polar { (&[3, 3, 3], &[1, 2, 1]) } else { (&[4, 3, 3], &[4, 2, 1]) };
    let cnn = CnnConfig {
        channels: env_list("STUDY_CHANNELS", &[8, 16, 16])?,
        kernels: env_list("STUDY_KERNELS", kernels)?,
        strides: env_list("STUDY_STRIDES", strides)?,
        features: env_number("STUDY_FEATURES", 128.0)? as usize,
    };
    let config = if polar {
        let angles = env_number("STUDY_ANGLES", 32.0)? as usize;
        TandemConfig { cnn, polar: Some(PolarView { angles, rings: 24 }), ..TandemConfig::default() }
    } else {
        TandemConfig { rotate: std::env::var("STUDY_NO_ROTATE").is_err(), cnn, ..TandemConfig::default() }
    };
    // The last 100 training episodes are held back to fit a temperature.
    let last = train.episodes.iter().copied().max().unwrap_or(0);
    let calib_from = train.labels.len() - train.episodes.iter().filter(|&&e| e + 100 > last).count();
    let lr = env_number("STUDY_LR", 1e-3)?;
    let threshold = env_number("STUDY_THRESHOLD", 0.98)? as f32;
    let config =
        TandemConfig { buffer_size: calib_from, train_steps: 250, min_evidence_cells: 3, learning_rate: lr, ..config };
    let (layout, _) = tandem_layout(&config, &obs_layout(env.observation_space(), true), env.action_space())?;
    let mut tandem = Tandem::new(config, layout, 0, &burn::tensor::Device::flex().autodiff())?;
    let mut info = env.new_info();
    let infos: Vec<_> = train
        .labels
        .iter()
        .map(|&l| {
            info.facts[0].1 = f64::from(l);
            info.clone()
        })
        .collect();
    tandem.store(&train.obs[..calib_from * od], od, &infos[..calib_from]);
    println!("{} training grids, {} held-out", train.labels.len(), test.labels.len());
    let mut rng = StdRng::seed_from_u64(3);
    let start = std::time::Instant::now();
    for round in 1..=minibatches / 250 {
        let (_, train_accuracy) = tandem.train(&mut rng).ok_or("fewer grids than a minibatch")?;
        let probs = probabilities(&tandem, &test.obs, od);
        let calib = probabilities(&tandem, &train.obs[calib_from * od..], od);
        // Log-probabilities are logits (up to a constant per grid).
        let log_probs: Vec<f32> = calib.iter().map(|p| p.max(1e-30).ln()).collect();
        let temperature = fit_temperature(&log_probs, &train.labels[calib_from..], 10);
        report(&test, &probs, 1.0, threshold);
        report(&test, &probs, temperature, threshold);
        if round % 4 == 0 || round == minibatches / 250 {
            let turned = turned_probabilities(&mut tandem, &test.obs, od)?;
            for t in [0.9, 0.95, 0.98, 0.99] {
                print!("  TTA4 at {t} ");
                report(&test, &turned, 1.0, t);
            }
            for t in [0.9, 0.95, 0.99] {
                print!("  plain at {t} ");
                report(&test, &probs, 1.0, t);
            }
        }
        println!(
            "{:>6} minibatches {:>6.0} s: accuracy train {train_accuracy:.3}, temperature {temperature:.2}",
            round * 250,
            start.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn probabilities(tandem: &Tandem, obs: &[f32], od: usize) -> Vec<f32> {
    let mut probs = vec![0.0f32; obs.len() / od * 10];
    for (o, p) in obs.chunks(1000 * od).zip(probs.chunks_mut(10_000)) {
        tandem.probabilities(o, od, p);
    }
    probs
}

/// The mean of the probabilities of the four quarter turns of each grid
/// (the discriminator's `turn_average`, turned as `rotate` turns them).
fn turned_probabilities(tandem: &mut Tandem, obs: &[f32], od: usize) -> Result<Vec<f32>, Error> {
    tandem.model = tandem.model.clone().with_turn_average(true)?;
    let mean = probabilities(tandem, obs, od);
    tandem.model = tandem.model.clone().with_turn_average(false)?;
    Ok(mean)
}

fn scaled(p: &[f32], temperature: f32, out: &mut [f32]) {
    let logits: Vec<f32> = p.iter().map(|&x| x.max(1e-30).ln() / temperature).collect();
    let max = logits.iter().cloned().fold(f32::MIN, f32::max);
    let sum: f32 = logits.iter().map(|l| (l - max).exp()).sum();
    for (o, l) in out.iter_mut().zip(&logits) {
        *o = (l - max).exp() / sum;
    }
}

fn report(test: &Grids, raw: &[f32], temperature: f32, threshold: f32) {
    let mut probs = vec![0.0f32; raw.len()];
    for (p, q) in raw.chunks(10).zip(probs.chunks_mut(10)) {
        scaled(p, temperature, q);
    }
    let mut buckets = [(0usize, 0usize); 6];
    for (k, p) in probs.chunks(10).enumerate() {
        let cells = test.contact[k];
        let b = (cells / 10).min(5);
        buckets[b].0 += 1;
        buckets[b].1 += usize::from(tactile_policy::argmax(p) == usize::from(test.labels[k]));
    }
    let acc: Vec<String> = buckets.iter().map(|(n, r)| format!("{:.2}", *r as f64 / (*n).max(1) as f64)).collect();
    let mut right = 0;
    let mut first: std::collections::BTreeMap<u32, Option<(u16, bool, usize)>> = Default::default();
    for (k, p) in probs.chunks(10).enumerate() {
        let best = tactile_policy::argmax(p);
        right += usize::from(best == usize::from(test.labels[k]));
        let e = first.entry(test.episodes[k]).or_insert(None);
        if e.is_none() && p[best] >= threshold {
            *e = Some((test.moves[k], best == usize::from(test.labels[k]), test.contact[k]));
        }
    }
    let declared: Vec<(u16, bool, usize)> = first.values().filter_map(|d| *d).collect();
    let correct = declared.iter().filter(|d| d.1).count();
    let n = first.len() as f64;
    println!(
        "  T {temperature:.2}: held-out {:.3} (by contact cells 0-9..50+: {}); declared in {:.3} of episodes, right in {:.3} ({:.3} of declarations), at move {:.1}, contact cells {:.1}",
        right as f64 / test.labels.len() as f64,
        acc.join(" "),
        declared.len() as f64 / n,
        correct as f64 / n,
        correct as f64 / declared.len().max(1) as f64,
        declared.iter().map(|d| f64::from(d.0)).sum::<f64>() / declared.len().max(1) as f64,
        declared.iter().map(|d| d.2 as f64).sum::<f64>() / declared.len().max(1) as f64,
    );
}

/// The study task's Bayes posterior ([`ShapePosterior`]) on the lattice of
/// `STUDY_YAWS` yaws by `STUDY_OFFSETS` offsets per axis (1,440 x 11 x 11
/// by default).
fn posterior() -> Result<ShapePosterior, Error> {
    let id = study_env();
    let d = PosteriorConfig::default();
    let config = PosteriorConfig {
        yaws: env_number("STUDY_YAWS", d.yaws as f64)? as usize,
        offsets: env_number("STUDY_OFFSETS", d.offsets as f64)? as usize,
        ..d
    };
    let t0 = std::time::Instant::now();
    let post = ShapePosterior::new(&posterior_meta(&id, &config)?)?;
    println!(
        "{id}: {} poses ({} yaws, {}x{} offsets), class fields in {:.1} s",
        post.poses(),
        config.yaws,
        config.offsets,
        config.offsets,
        t0.elapsed().as_secs_f64()
    );
    Ok(post)
}

/// Greedy information gain: the unexplored cell within 4 moves whose
/// reading tells most about the object (mutual information under the
/// posterior) per move to get there, and the first move towards it that
/// does not head into a known contact cell; towards the workspace's centre
/// where nothing near is worth reading.
fn explore(post: &ShapePosterior, ev: &Evidence, grid: &[f32], rng: &mut StdRng) -> usize {
    use rand::Rng;
    let side = (CELLS as f64).sqrt() as i32;
    let at = grid[..CELLS].iter().position(|&c| c == 3.0).unwrap_or(0) as i32;
    let (fx, fy) = (at % side, at / side);
    let best = ev.poses().map(|p| p.1).fold(f32::NEG_INFINITY, f32::max);
    let active: Vec<(u32, f32)> =
        ev.poses().filter(|p| p.1 > best - 15.0).map(|(h, v)| (h, (v - best).exp())).collect();
    let objects = post.objects();
    let mut weight = vec![0.0f32; objects];
    for &(h, w) in &active {
        weight[post.pose_object(h)] += w;
    }
    let total: f32 = weight.iter().sum();
    let entropy = |p: f32| if p <= 0.0 || p >= 1.0 { 0.0 } else { -(p * p.ln() + (1.0 - p) * (1.0 - p).ln()) };
    let (mut target, mut target_value) = (None, 1e-4f32);
    let mut reading = vec![0.0f32; objects];
    for dy in -4i32..=4 {
        for dx in -4i32..=4 {
            let dist = dx.abs() + dy.abs();
            let (x, y) = (fx + dx, fy + dy);
            if dist == 0 || dist > 4 || x < 0 || y < 0 || x >= side || y >= side {
                continue;
            }
            let c = (y * side + x) as usize;
            if grid[c] != 0.0 || !post.is_informative(c) {
                continue;
            }
            reading.iter_mut().for_each(|v| *v = 0.0);
            for &(h, w) in &active {
                reading[post.pose_object(h)] += w * post.contact_probability(h, c);
            }
            let (mut mean, mut conditional) = (0.0, 0.0);
            for (&r, &w) in reading.iter().zip(&weight) {
                if w > 0.0 {
                    let q = r / w;
                    mean += w / total * q;
                    conditional += w / total * entropy(q);
                }
            }
            let value = (entropy(mean) - conditional) / dist as f32;
            if value > target_value {
                (target, target_value) = (Some((x, y)), value);
            }
        }
    }
    let (tx, ty) = target.unwrap_or((side / 2, side / 2));
    let steps = [(1, 0), (-1, 0), (0, 1), (0, -1)];
    let mut options: Vec<(i32, usize)> = steps
        .iter()
        .enumerate()
        .filter_map(|(d, &(sx, sy))| {
            let (x, y) = (fx + sx, fy + sy);
            let inside = x >= 0 && y >= 0 && x < side && y < side;
            (inside && grid[(y * side + x) as usize] != 2.0).then(|| ((tx - x).abs() + (ty - y).abs(), d))
        })
        .collect();
    options.sort_unstable();
    match options.first() {
        Some(&(d0, _)) => {
            let ties: Vec<usize> = options.iter().filter(|o| o.0 == d0).map(|o| o.1).collect();
            ties[rng.random_range(0..ties.len())]
        }
        None => rng.random_range(0..4),
    }
}

/// The Bayes posterior's declarations on the held-out episodes: no learned
/// discriminator reading the same grids can be right sooner than it but
/// by chance; it is the ceiling of the explorer that made them.
fn bayes(dir: &Path) -> Result<(), Error> {
    let post = posterior()?;
    let env = tactile_env::make(&study_env(), None)?;
    let od = env.observation_space().flat_dim();
    let test = load(&dir.join("test.bin"), od)?;
    let mut by_episode: std::collections::BTreeMap<u32, Vec<usize>> = Default::default();
    for (k, &e) in test.episodes.iter().enumerate() {
        by_episode.entry(e).or_default().push(k);
    }
    let episodes: Vec<Vec<usize>> = by_episode
        .into_values()
        .map(|mut v| {
            v.sort_by_key(|&k| test.moves[k]);
            v
        })
        .collect();
    let t0 = std::time::Instant::now();
    let objects = post.objects();
    let mut probs = vec![0.0f32; test.labels.len() * objects];
    let results: Vec<Vec<(usize, Vec<f32>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = episodes
            .chunks(episodes.len().div_ceil(2).max(1))
            .map(|part| {
                let (post, test) = (&post, &test);
                s.spawn(move || {
                    let mut out = Vec::new();
                    let mut ev = post.evidence();
                    for grids in part {
                        ev.clear();
                        for &g in grids {
                            post.update(&mut ev, &test.obs[g * od..g * od + CELLS]);
                            let mut p = vec![0.0; objects];
                            post.probabilities(&ev, &mut p);
                            out.push((g, p));
                        }
                    }
                    out
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a posterior thread panicked")).collect()
    });
    for (g, p) in results.into_iter().flatten() {
        probs[g * objects..(g + 1) * objects].copy_from_slice(&p);
    }
    println!("  {} held-out grids in {:.1} s", test.labels.len(), t0.elapsed().as_secs_f64());
    for t in [0.9, 0.95, 0.98, 0.99, 0.995] {
        print!("  Bayes at {t} ");
        report(&test, &probs, 1.0, t);
    }
    Ok(())
}
