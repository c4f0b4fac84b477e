//! The least-squares fit recovers a real sensor's index map, gains and
//! offsets from paired readings of synthetic presses.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tactile_policy::Calibration;

/// A synthetic real sensor: 16 raw channels wired in a shuffled order onto
/// 12 simulated taxels (4 channels are spare), each with its own gain
/// (counts per newton) and zero offset (counts), plus read noise.
struct Sensor {
    wiring: Vec<usize>,
    counts_per_n: Vec<f32>,
    zero_counts: Vec<f32>,
}

fn press(rng: &mut StdRng, taxels: usize) -> Vec<f32> {
    // A blob of force around a random centre on a 3 x 4 pad.
    let (cx, cy, f) = (rng.random_range(0.0..4.0f32), rng.random_range(0.0..3.0f32), rng.random_range(0.0..2.0f32));
    (0..taxels)
        .map(|k| {
            let (x, y) = ((k % 4) as f32, (k / 4) as f32);
            f * (-((x - cx).powi(2) + (y - cy).powi(2)) / 1.5).exp()
        })
        .collect()
}

fn readings(sensor: &Sensor, sim: &[f32], rng: &mut StdRng, noise: f32) -> Vec<f32> {
    let mut raw: Vec<f32> = (0..16).map(|_| rng.random_range(0.0..3.0f32)).collect();
    for (k, &ch) in sensor.wiring.iter().enumerate() {
        raw[ch] = sensor.counts_per_n[k] * sim[k] + sensor.zero_counts[k] + noise * rng.random_range(-1.0..1.0f32);
    }
    raw
}

#[test]
fn a_fit_recovers_known_gains_offsets_and_wiring() {
    let mut rng = StdRng::seed_from_u64(11);
    let mut wiring: Vec<usize> = (0..16).collect();
    for i in (1..16).rev() {
        wiring.swap(i, rng.random_range(0..=i));
    }
    wiring.truncate(12);
    let sensor = Sensor {
        counts_per_n: (0..12).map(|_| rng.random_range(200.0..900.0)).collect(),
        zero_counts: (0..12).map(|_| rng.random_range(-50.0..50.0)).collect(),
        wiring,
    };
    let sims: Vec<Vec<f32>> = (0..400).map(|_| press(&mut rng, 12)).collect();
    let raws: Vec<Vec<f32>> = sims.iter().map(|s| readings(&sensor, s, &mut rng, 2.0)).collect();

    // Wiring unknown: found by correlation.
    let (cal, report) = Calibration::fit("pad", "normal_force_n", "adc_counts", &raws, &sims, None).unwrap();
    let index: Vec<Option<usize>> = sensor.wiring.iter().map(|&c| Some(c)).collect();
    assert_eq!(cal.index, index);
    for k in 0..12 {
        // sim = gain * raw + offset: gain = 1 / counts_per_n, offset = -zero / counts_per_n.
        let (g, o) = (1.0 / sensor.counts_per_n[k], -sensor.zero_counts[k] / sensor.counts_per_n[k]);
        assert!((cal.gain[k] - g).abs() < 0.01 * g, "taxel {k}: gain {} vs {g}", cal.gain[k]);
        assert!((cal.offset[k] - o).abs() < 0.01, "taxel {k}: offset {} vs {o}", cal.offset[k]);
    }
    // Read noise of +-2 counts is about +-4 mN at worst: the residual says so.
    assert!(report.max_rms < 0.006, "{report:?}");

    // The fitted calibration maps fresh readings back onto the forces.
    let sim = press(&mut rng, 12);
    let raw = readings(&sensor, &sim, &mut rng, 0.0);
    let mut mapped = vec![0.0; 12];
    cal.apply(&raw, &mut mapped).unwrap();
    for (m, s) in mapped.iter().zip(&sim) {
        assert!((m - s).abs() < 2e-3, "{mapped:?} vs {sim:?}");
    }

    // It survives a round trip through its file.
    let path = std::env::temp_dir().join(format!("tactile-cal-{}.json", std::process::id()));
    cal.write(&path).unwrap();
    assert_eq!(Calibration::read(&path).unwrap(), cal);
    std::fs::write(&path, r#"{"format": "tactile-calibration"}"#).unwrap();
    let e = Calibration::read(&path).unwrap_err().to_string();
    assert!(e.starts_with(&format!("{}: missing field", path.display())), "{e}");
    std::fs::remove_file(&path).ok();
}

#[test]
fn a_fit_refuses_what_it_cannot_determine() {
    let sims = vec![vec![1.0, 2.0]; 5];
    let raws = vec![vec![3.0, 4.0]; 5];
    let e = Calibration::fit("pad", "normal_force_n", "counts", &raws, &sims, Some(vec![Some(0), Some(1)]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not vary"), "{e}");
    let e = Calibration::fit("pad", "normal_force_n", "counts", &raws[..2], &sims[..2], None).unwrap_err().to_string();
    assert!(e.contains("at least 3"), "{e}");
    let nan = vec![vec![f32::NAN, 1.0]; 5];
    let e = Calibration::fit("pad", "normal_force_n", "counts", &nan, &sims, None).unwrap_err().to_string();
    assert!(e.contains("not finite"), "{e}");
}
