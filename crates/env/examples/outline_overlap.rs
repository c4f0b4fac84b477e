//! How much of an Explore-v0 object's outline must be felt before it is
//! told apart from the other nine: for arcs of each width, the distance
//! (root mean square over the arc, of the radius about the object's
//! centre) from an arc of one object to the closest arc of any other
//! object at any turn. Where that distance is below a grid cell (5 mm) the
//! grid cannot tell the two arcs apart with certainty, and the object's
//! offset from the grid's centre (up to 5 mm each way) blurs it further.
//!
//! ```sh
//! cargo run --release -p tactile-env --example outline_overlap
//! ```

use tactile_env::tasks::polygons::{self, OBJECT_COUNT, OBJECT_SEED};

/// Radii sampled per turn (2 degrees apart).
const SAMPLES: usize = 180;

fn main() {
    let objects = polygons::polygons(OBJECT_SEED, OBJECT_COUNT);
    // Each object's radius (m) about its centre at each sampled angle.
    let radii: Vec<Vec<f32>> = objects
        .iter()
        .map(|p| {
            (0..SAMPLES)
                .map(|k| {
                    let a = std::f32::consts::TAU * k as f32 / SAMPLES as f32;
                    polygons::ray_hit(p, [0.0, 0.0], [a.cos(), a.sin()]).unwrap_or(0.0)
                })
                .collect()
        })
        .collect();
    // Outline length (m) between consecutive samples.
    let steps: Vec<Vec<f32>> = radii
        .iter()
        .map(|r| {
            (0..SAMPLES)
                .map(|k| {
                    let point = |k: usize| {
                        let a = std::f32::consts::TAU * k as f32 / SAMPLES as f32;
                        [r[k % SAMPLES] * a.cos(), r[k % SAMPLES] * a.sin()]
                    };
                    let (p, q) = (point(k), point(k + 1));
                    (q[0] - p[0]).hypot(q[1] - p[1])
                })
                .collect()
        })
        .collect();
    println!(
        "arc (deg)  outline (5 mm cells)  closest other object's arc, rms (mm): median  10th pct  share > 5 mm  share > 2.5 mm"
    );
    for degrees in [30, 45, 60, 90, 120, 180, 240] {
        let width = degrees * SAMPLES / 360;
        let mut closest = Vec::new();
        let mut outline_m = 0.0;
        for (i, own) in radii.iter().enumerate() {
            for start in (0..SAMPLES).step_by(3) {
                outline_m += (0..width - 1).map(|k| steps[i][(start + k) % SAMPLES]).sum::<f32>();
                let mut best = f32::INFINITY;
                for (_, other) in radii.iter().enumerate().filter(|(j, _)| *j != i) {
                    for turn in 0..SAMPLES {
                        let sq: f32 = (0..width)
                            .map(|k| own[(start + k) % SAMPLES] - other[(turn + k) % SAMPLES])
                            .map(|d| d * d)
                            .sum();
                        best = best.min((sq / width as f32).sqrt());
                    }
                }
                closest.push(best * 1000.0);
            }
        }
        closest.sort_by(f32::total_cmp);
        let share = |mm: f32| closest.iter().filter(|&&d| d > mm).count() as f32 / closest.len() as f32;
        println!(
            "{degrees:>9}  {:>20.1}  {:>44.1}  {:>8.1}  {:>12.2}  {:>14.2}",
            outline_m / closest.len() as f32 / 0.005,
            closest[closest.len() / 2],
            closest[closest.len() / 10],
            share(5.0),
            share(2.5)
        );
    }
}
