//! TANDEM's objects: random 8-segment polygons extruded into prisms, made
//! deterministically from one seed and stored as OBJ meshes under
//! `assets/objects/` (`cargo run -p tactile-env --example gen_objects`
//! writes them; a test checks that the stored files are what this code
//! makes).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The seed of the shipped object set.
pub const OBJECT_SEED: u64 = 2026;
/// Number of objects.
pub const OBJECT_COUNT: usize = 10;
/// Vertices (and segments) per polygon.
pub const SEGMENTS: usize = 8;
/// Largest vertex radius (m).
pub const MAX_RADIUS_M: f32 = 0.1;
/// Smallest vertex radius (m).
pub const MIN_RADIUS_M: f32 = 0.04;
/// Extrusion height (m).
pub const HEIGHT_M: f32 = 0.05;

/// The `count` polygons of `seed`: each a counter-clockwise list of
/// `SEGMENTS` vertices (m) at sorted random angles (at least a twentieth of
/// a turn apart) and random radii in `[MIN_RADIUS_M, MAX_RADIUS_M]`, so each
/// is star-shaped about the origin.
pub fn polygons(seed: u64, count: usize) -> Vec<Vec<[f32; 2]>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            let min_gap = std::f32::consts::TAU / 20.0;
            let mut angles: Vec<f32>;
            loop {
                angles = (0..SEGMENTS).map(|_| rng.random_range(0.0..std::f32::consts::TAU)).collect();
                angles.sort_by(f32::total_cmp);
                let wrap = angles[0] + std::f32::consts::TAU - angles[SEGMENTS - 1];
                if angles.windows(2).all(|w| w[1] - w[0] >= min_gap) && wrap >= min_gap {
                    break;
                }
            }
            angles
                .iter()
                .map(|&a| {
                    let r = rng.random_range(MIN_RADIUS_M..=MAX_RADIUS_M);
                    [r * a.cos(), r * a.sin()]
                })
                .collect()
        })
        .collect()
}

/// The OBJ text of a polygon extruded from z = 0 to `HEIGHT_M`: a centre
/// vertex fans the caps (the polygon is star-shaped about it), quads close
/// the sides, every face wound counter-clockwise seen from outside.
pub fn extruded_obj(polygon: &[[f32; 2]], name: &str) -> String {
    let n = polygon.len();
    let mut s = format!("# {name}: a TANDEM polygon extruded {HEIGHT_M} m (tactile-env tasks/polygons.rs)\n");
    for z in [0.0, HEIGHT_M] {
        for p in polygon {
            s += &format!("v {:.6} {:.6} {:.6}\n", p[0], p[1], z);
        }
        s += &format!("v 0.000000 0.000000 {z:.6}\n");
    }
    // Vertex numbers (1-based): bottom ring 1..=n, bottom centre n+1, top
    // ring n+2..=2n+1, top centre 2n+2.
    let (bc, t0, tc) = (n + 1, n + 2, 2 * n + 2);
    for i in 0..n {
        let j = (i + 1) % n;
        s += &format!("f {} {} {}\n", bc, j + 1, i + 1);
        s += &format!("f {} {} {}\n", tc, t0 + i, t0 + j);
        s += &format!("f {} {} {} {}\n", i + 1, j + 1, t0 + j, t0 + i);
    }
    s
}

/// Whether point `p` lies inside the polygon (even-odd rule).
pub fn contains(polygon: &[[f32; 2]], p: [f32; 2]) -> bool {
    let mut inside = false;
    let n = polygon.len();
    for i in 0..n {
        let (a, b) = (polygon[i], polygon[(i + 1) % n]);
        if (a[1] > p[1]) != (b[1] > p[1]) {
            let x = a[0] + (p[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
            if p[0] < x {
                inside = !inside;
            }
        }
    }
    inside
}

/// Distance from `p` to the polygon's boundary.
pub fn distance_to_boundary(polygon: &[[f32; 2]], p: [f32; 2]) -> f32 {
    let n = polygon.len();
    (0..n)
        .map(|i| {
            let (a, b) = (polygon[i], polygon[(i + 1) % n]);
            let (abx, aby) = (b[0] - a[0], b[1] - a[1]);
            let t = (((p[0] - a[0]) * abx + (p[1] - a[1]) * aby) / (abx * abx + aby * aby)).clamp(0.0, 1.0);
            let (dx, dy) = (a[0] + t * abx - p[0], a[1] + t * aby - p[1]);
            (dx * dx + dy * dy).sqrt()
        })
        .fold(f32::INFINITY, f32::min)
}

/// Where a ray from `origin` along the unit `dir` first meets the polygon's
/// boundary, as a distance.
pub fn ray_hit(polygon: &[[f32; 2]], origin: [f32; 2], dir: [f32; 2]) -> Option<f32> {
    let n = polygon.len();
    let mut best: Option<f32> = None;
    for i in 0..n {
        let (a, b) = (polygon[i], polygon[(i + 1) % n]);
        let e = [b[0] - a[0], b[1] - a[1]];
        let denom = dir[0] * e[1] - dir[1] * e[0];
        if denom.abs() < 1e-12 {
            continue;
        }
        let w = [a[0] - origin[0], a[1] - origin[1]];
        let t = (w[0] * e[1] - w[1] * e[0]) / denom;
        let u = (w[0] * dir[1] - w[1] * dir[0]) / denom;
        if t >= 0.0 && (0.0..=1.0).contains(&u) && best.is_none_or(|b| t < b) {
            best = Some(t);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_objects_are_what_the_generator_makes() {
        let polys = polygons(OBJECT_SEED, OBJECT_COUNT);
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/objects");
        for (k, p) in polys.iter().enumerate() {
            let name = format!("polygon_{k}");
            let stored = std::fs::read_to_string(dir.join(format!("{name}.obj")))
                .unwrap_or_else(|e| panic!("assets/objects/{name}.obj: {e} (run the gen_objects example)"));
            assert_eq!(stored, extruded_obj(p, &name), "{name}.obj differs from the generator's output");
        }
    }

    #[test]
    fn polygons_are_star_shaped_within_the_radius() {
        for p in polygons(OBJECT_SEED, OBJECT_COUNT) {
            assert_eq!(p.len(), SEGMENTS);
            let mut last = f32::NEG_INFINITY;
            for v in &p {
                let r = (v[0] * v[0] + v[1] * v[1]).sqrt();
                assert!((MIN_RADIUS_M - 1e-6..=MAX_RADIUS_M + 1e-6).contains(&r));
                let a = v[1].atan2(v[0]).rem_euclid(std::f32::consts::TAU);
                assert!(a > last, "angles increase: counter-clockwise");
                last = a;
            }
            assert!(contains(&p, [0.0, 0.0]));
        }
    }

    #[test]
    fn geometry_helpers_agree_on_a_square() {
        let sq = [[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]];
        assert!(contains(&sq, [0.5, 0.5]) && !contains(&sq, [1.5, 0.0]));
        assert!((distance_to_boundary(&sq, [0.0, 0.5]) - 0.5).abs() < 1e-6);
        assert_eq!(ray_hit(&sq, [-3.0, 0.0], [1.0, 0.0]), Some(2.0));
        assert_eq!(ray_hit(&sq, [-3.0, 0.0], [-1.0, 0.0]), None);
    }
}
