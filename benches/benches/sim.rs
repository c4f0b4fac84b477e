//! The taxel-slide workloads of `tactile bench sim` as criterion benchmarks:
//! one env step physics only, one env step with all 64 taxels read, one
//! reset, and the taxel read alone on a pressed pad.

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tactile_sim::Assets;
use tactile_sim::taxel_slide::{EPISODE_STEPS, HOLD_END_STEP, TaxelSlide};

/// Steps through back-to-back episodes; resets happen outside the timing.
fn env_steps(c: &mut Criterion, name: &str, read_taxels: bool) {
    let mut slide = TaxelSlide::new(&Assets::builtin()).expect("taxel-slide builds");
    let mut group = c.benchmark_group("taxel_slide");
    group.throughput(Throughput::Elements(EPISODE_STEPS as u64));
    group.bench_function(name, |b| {
        b.iter_custom(|episodes| {
            let mut total = Duration::ZERO;
            for _ in 0..episodes {
                slide.reset(0);
                let start = Instant::now();
                for _ in 0..EPISODE_STEPS {
                    slide.step(read_taxels);
                }
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
}

fn physics_only(c: &mut Criterion) {
    env_steps(c, "episode_physics_only", false);
}

fn physics_and_taxels(c: &mut Criterion) {
    env_steps(c, "episode_physics_taxels", true);
}

fn reset(c: &mut Criterion) {
    let mut slide = TaxelSlide::new(&Assets::builtin()).expect("taxel-slide builds");
    c.bench_function("taxel_slide/reset", |b| b.iter(|| slide.reset(0)));
}

fn taxel_read(c: &mut Criterion) {
    let mut slide = TaxelSlide::new(&Assets::builtin()).expect("taxel-slide builds");
    slide.reset(0);
    for _ in 0..=HOLD_END_STEP {
        slide.step(false);
    }
    c.bench_function("taxel_slide/read_64_taxels_pressed", |b| b.iter(|| slide.read_taxels()));
}

criterion_group!(benches, physics_only, physics_and_taxels, reset, taxel_read);
criterion_main!(benches);
