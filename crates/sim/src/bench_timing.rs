//! The timing protocol the benchmark scenes share: episodes of a scene
//! from a reset, physics only and with the taxels read, alternating so
//! that a machine whose speed drifts slows both modes alike.

use std::time::Instant;

use cpu_time::ThreadTime;

/// A benchmark scene as the timing drives it.
pub(crate) trait Timed {
    /// Back to the start of an episode.
    fn reset(&mut self, seed: u64);
    /// One env (control) step, reading the taxels or not.
    fn step(&mut self, read_taxels: bool);
}

/// Seconds spent per mode, over all the timed episodes.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Timings {
    /// Env steps timed per mode.
    pub steps: usize,
    pub physics_s: f64,
    pub taxel_s: f64,
    pub physics_cpu_s: f64,
    pub taxel_cpu_s: f64,
    /// Mean wall time of one reset (s).
    pub reset_s: f64,
}

impl Timings {
    /// Env steps per second of `seconds`.
    pub fn rate(&self, seconds: f64) -> f64 {
        self.steps as f64 / seconds.max(1e-12)
    }
}

/// One episode of `steps` env steps from a reset: (step wall s, step CPU
/// s, reset wall s).
fn episode(scene: &mut impl Timed, steps: usize, read_taxels: bool, seed: u64) -> (f64, f64, f64) {
    let t0 = Instant::now();
    scene.reset(seed);
    let reset_s = t0.elapsed().as_secs_f64();
    let (t1, c1) = (Instant::now(), ThreadTime::now());
    for _ in 0..steps {
        scene.step(read_taxels);
    }
    (t1.elapsed().as_secs_f64(), c1.elapsed().as_secs_f64(), reset_s)
}

/// Times `steps` env steps per mode in episodes of at most `episode_steps`,
/// the two modes alternating on the same seed; `seed_of(k)` is episode
/// `k`'s seed.
pub(crate) fn alternate(
    scene: &mut impl Timed,
    steps: usize,
    episode_steps: usize,
    seed_of: impl Fn(u64) -> u64,
) -> Timings {
    let mut t = Timings { steps, ..Timings::default() };
    let (mut done, mut k, mut resets) = (0, 0u64, 0usize);
    while done < steps {
        let n = episode_steps.min(steps - done);
        let (a, ca, ra) = episode(scene, n, false, seed_of(k));
        let (b, cb, rb) = episode(scene, n, true, seed_of(k));
        t.physics_s += a;
        t.taxel_s += b;
        t.physics_cpu_s += ca;
        t.taxel_cpu_s += cb;
        t.reset_s += ra + rb;
        resets += 2;
        done += n;
        k += 1;
    }
    t.reset_s /= resets.max(1) as f64;
    t
}
