//! A 1 kHz control loop on a robot: read the tactile sensor, map its raw
//! readings onto the simulated taxel layout, run the policy, send the
//! command; report the loop's timing at the end.
//!
//! ```sh
//! cargo run --release -p tactile-policy --example robot_loop -- policies/Press-v0 [SECONDS]
//! ```
//!
//! The sensor and the robot are simulated here (a pad whose raw counts
//! follow how hard the commanded motion presses); on a robot, `read_raw`
//! and `send` talk to the hardware, and the calibration comes from
//! `Calibration::read` of a file fitted with `Calibration::fit`.

use std::time::{Duration, Instant};

use tactile_policy::{CALIBRATION_FORMAT, Calibration, Policy, PolicyError};

/// A simulated sensor: `raw_taxels` ADC channels, wired to the simulated
/// taxels in reverse order, 500 counts per newton, 40 counts at rest.
struct FakeSensor {
    depth_m: f32,
    counts: Vec<f32>,
    tick: u32,
}

impl FakeSensor {
    fn read_raw(&mut self) -> &[f32] {
        let n = self.counts.len();
        let force_n = (self.depth_m * 2000.0).max(0.0) / n as f32;
        self.tick = self.tick.wrapping_add(1);
        for (i, c) in self.counts.iter_mut().enumerate() {
            let ripple = ((self.tick as usize + i) % 7) as f32 * 0.3;
            *c = 40.0 + 500.0 * force_n + ripple;
        }
        &self.counts
    }

    fn send(&mut self, action: &[f32]) {
        // The first action value moves the pad down (+) or up (-).
        self.depth_m = (self.depth_m + 1e-5 * action.first().copied().unwrap_or(0.0)).clamp(-0.002, 0.002);
    }
}

fn main() -> Result<(), PolicyError> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "policies/Press-v0".into());
    let seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(2.0);
    let mut policy = Policy::load(dir.as_ref())?;
    let Some(slot) = policy.meta().taxels.first().cloned() else {
        eprintln!("{dir}: this policy reads no taxel array");
        std::process::exit(1);
    };
    let n = slot.count;
    let calibration = Calibration {
        format: CALIBRATION_FORMAT.into(),
        format_version: 1,
        sensor: slot.sensor.clone(),
        quantity: slot.quantity.clone(),
        raw_unit: "adc_counts".into(),
        raw_taxels: n,
        index: (0..n).map(|i| Some(n - 1 - i)).collect(),
        gain: vec![1.0 / 500.0; n],
        offset: vec![-40.0 / 500.0; n],
    };
    policy.calibrate(calibration)?;
    let mut sensor = FakeSensor { depth_m: 0.0, counts: vec![0.0; n], tick: 0 };
    let mut obs = vec![0.0; policy.meta().obs_dim()];
    let mut action = vec![0.0; policy.meta().action_dim()];
    // The last command that was safe to send: where the policy cannot act
    // (a non-finite action, a bad reading), the robot holds it.
    let mut safe = vec![0.0; policy.meta().action_dim()];
    let mut refused = 0usize;
    let mut raw = vec![0.0; n];

    let period = Duration::from_micros(1000);
    let iterations = (seconds * 1000.0) as usize;
    let (mut work_us, mut late) = (Vec::with_capacity(iterations), 0usize);
    let mut period_us = Vec::with_capacity(iterations);
    let start = Instant::now();
    let mut deadline = start + period;
    let mut last = start;
    for _ in 0..iterations {
        let t0 = Instant::now();
        raw.copy_from_slice(sensor.read_raw());
        match policy.act_mapped(&mut obs, &[&raw], &mut action) {
            Ok(()) => {
                safe.copy_from_slice(&action);
                sensor.send(&action);
            }
            Err(PolicyError::NonFiniteAction { .. } | PolicyError::Observation(_)) => {
                // Hold the last safe command (a real loop also raises a
                // fault after a few refusals in a row).
                refused += 1;
                sensor.send(&safe);
            }
            Err(other) => return Err(other),
        }
        let t1 = Instant::now();
        work_us.push((t1 - t0).as_secs_f64() * 1e6);
        // Sleep to the next tick, then spin the last 100 us.
        if let Some(wait) = deadline.checked_duration_since(t1) {
            if wait > Duration::from_micros(150) {
                std::thread::sleep(wait - Duration::from_micros(100));
            }
            while Instant::now() < deadline {
                std::hint::spin_loop();
            }
        } else {
            late += 1;
        }
        let now = Instant::now();
        period_us.push((now - last).as_secs_f64() * 1e6);
        last = now;
        deadline += period;
    }
    let total_s = start.elapsed().as_secs_f64();
    let pct = |v: &mut Vec<f64>, p: f64| {
        v.sort_by(f64::total_cmp);
        v[((v.len() - 1) as f64 * p) as usize]
    };
    println!(
        "{} ({}) at 1 kHz for {total_s:.2} s: {iterations} ticks, {late} overran, {refused} refused",
        policy.meta().env_id,
        dir
    );
    println!(
        "sensor + mapping + policy + command: median {:.1} us, p99 {:.1} us, max {:.1} us",
        pct(&mut work_us, 0.5),
        pct(&mut work_us, 0.99),
        pct(&mut work_us, 1.0)
    );
    println!(
        "loop period: median {:.1} us, p1 {:.1} us, p99 {:.1} us; last action {action:?}, pad depth {:.3} mm",
        pct(&mut period_us, 0.5),
        pct(&mut period_us, 0.01),
        pct(&mut period_us, 0.99),
        sensor.depth_m * 1e3
    );
    Ok(())
}
