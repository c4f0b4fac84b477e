//! Prints the statistics of the three object sets (area, solidity,
//! smallest vertex radius, star-shaped or not) beside TANDEM's ten, as the
//! table in `assets/objects/README.md`:
//! `cargo run -p tactile-env --example object_stats`.

use tactile_env::tasks::polygons::{
    OBJECT_COUNT, OBJECT_SEED, PolygonStats, polygons, random_polygons, stats, tandem_polygons,
};

fn main() {
    let sets = [
        ("`random_polygon_<k>` (Explore-v2)", random_polygons(OBJECT_SEED, OBJECT_COUNT)),
        ("`tandem_<k>` (Explore-v1)", tandem_polygons(OBJECT_SEED, OBJECT_COUNT)),
        ("`polygon_<k>` (Explore-v0)", polygons(OBJECT_SEED, OBJECT_COUNT)),
    ];
    println!("| set | area, cm^2 (mean) | solidity (mean) | smallest vertex radius, cm | star-shaped |");
    println!("|---|---|---|---|---|");
    for (name, objects) in &sets {
        let s: Vec<PolygonStats> = objects.iter().map(|p| stats(p)).collect();
        let range = |f: fn(&PolygonStats) -> f32| {
            let v: Vec<f32> = s.iter().map(f).collect();
            let (lo, hi) = (v.iter().copied().fold(f32::INFINITY, f32::min), v.iter().copied().fold(0.0, f32::max));
            (lo, hi, v.iter().sum::<f32>() / v.len() as f32)
        };
        let (a0, a1, am) = range(|s| s.area_cm2);
        let (s0, s1, sm) = range(|s| s.solidity);
        let (r0, r1, _) = range(|s| s.min_radius_cm);
        let star = s.iter().filter(|s| s.star_shaped).count();
        println!(
            "| {name} | {a0:.0}-{a1:.0} ({am:.0}) | {s0:.2}-{s1:.2} ({sm:.2}) | {r0:.1}-{r1:.1} | {star} of {} |",
            s.len()
        );
    }
    println!("| TANDEM's ten meshes (its repository) | 36-77 (60) | 0.56-0.97 (0.75) | 0.0-4.3 | 10 of 10 |");
}
