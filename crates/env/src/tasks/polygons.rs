//! TANDEM's objects: random 8-segment polygons extruded into prisms, made
//! deterministically from one seed and stored as OBJ meshes under
//! `assets/objects/` (`cargo run -p tactile-env --example gen_objects`
//! writes them; a test checks that the stored files are what this code
//! makes). Three sets: [`polygons`] (star-shaped, Explore-v0's default),
//! [`tandem_polygons`] (Explore-v1's: any simple polygon through random
//! points, notches and all) and [`random_polygons`] (Explore-v2's, drawn as
//! TANDEM's own objects were: trimesh's `random_polygon`). [`stats`]
//! measures a set (area, solidity, smallest vertex radius).

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
/// Smallest gap between a vertex and an edge not its own in
/// [`tandem_polygons`] (m): a finger 1 cm wide can feel every feature.
pub const MIN_FEATURE_M: f32 = 0.01;

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

/// The `count` polygons of TANDEM's kind for `seed`: `SEGMENTS` points
/// uniform in the disc of radius `MAX_RADIUS_M`, joined into a simple
/// polygon by undoing crossing edges (each undoing shortens the outline, so
/// it ends), counter-clockwise. A draw where a vertex comes within
/// `MIN_FEATURE_M` of an edge not its own is drawn again. Unlike
/// [`polygons`], these need not be star-shaped: they have notches and
/// spikes, and differ from each other more.
pub fn tandem_polygons(seed: u64, count: usize) -> Vec<Vec<[f32; 2]>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            loop {
                let mut p: Vec<[f32; 2]> = (0..SEGMENTS)
                    .map(|_| {
                        let r = MAX_RADIUS_M * rng.random::<f32>().sqrt();
                        let a = rng.random_range(0.0..std::f32::consts::TAU);
                        [r * a.cos(), r * a.sin()]
                    })
                    .collect();
                untangle(&mut p);
                if signed_area(&p) < 0.0 {
                    p.reverse();
                }
                if min_feature(&p) >= MIN_FEATURE_M {
                    break p;
                }
            }
        })
        .collect()
}

/// The `count` polygons of `seed` drawn the way TANDEM drew its objects
/// (trimesh's `random_polygon(segments=8, radius=0.1)`, as
/// `create_extruded_polygons.py` calls it): `SEGMENTS` angles, each the
/// running sum of uniform turns in `[0, 2 pi)` taken modulo a turn, sorted;
/// radii uniform in `[0, MAX_RADIUS_M]`; counter-clockwise, so each is
/// star-shaped about the origin, with spikes and deep notches where a
/// radius comes out small. Our own generator and seed: the shapes are of
/// TANDEM's distribution, not its ten meshes. A draw with two vertices
/// within a micrometre, or with a gap of half a turn or more between two
/// angles (about 6 % of draws: the outline then is not star-shaped about
/// the centre and may cross itself, which trimesh's `buffer(0)` repairs
/// into some other shape), is drawn again.
pub fn random_polygons(seed: u64, count: usize) -> Vec<Vec<[f32; 2]>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let tau = std::f64::consts::TAU;
    (0..count)
        .map(|_| {
            loop {
                let mut sum = 0.0f64;
                let mut angles: Vec<f64> = (0..SEGMENTS)
                    .map(|_| {
                        sum += rng.random::<f64>() * tau;
                        sum % tau
                    })
                    .collect();
                angles.sort_by(f64::total_cmp);
                let p: Vec<[f32; 2]> = angles
                    .iter()
                    .map(|&a| {
                        let r = rng.random::<f64>() * f64::from(MAX_RADIUS_M);
                        [(r * a.cos()) as f32, (r * a.sin()) as f32]
                    })
                    .collect();
                let distinct = (0..SEGMENTS).all(|i| {
                    let (a, b) = (p[i], p[(i + 1) % SEGMENTS]);
                    (a[0] - b[0]).hypot(a[1] - b[1]) > 1e-6
                });
                let star = (0..SEGMENTS).all(|i| cross([0.0; 2], p[i], p[(i + 1) % SEGMENTS]) > 0.0);
                if distinct && star {
                    break p;
                }
            }
        })
        .collect()
}

/// What a set's objects are like: what TANDEM's ten measure (area,
/// solidity, smallest vertex radius) and what an 18 mm fingertip can feel.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PolygonStats {
    /// Area (cm^2).
    pub area_cm2: f32,
    /// Area over the area of the convex hull (1: convex).
    pub solidity: f32,
    /// The smallest distance from the centre to a vertex (cm).
    pub min_radius_cm: f32,
    /// Star-shaped about the centre (every vertex seen from it in order).
    pub star_shaped: bool,
}

/// The statistics of one polygon (m, counter-clockwise).
pub fn stats(polygon: &[[f32; 2]]) -> PolygonStats {
    let n = polygon.len();
    let area = signed_area(polygon).abs();
    let hull = convex_hull(polygon);
    PolygonStats {
        area_cm2: area * 1e4,
        solidity: area / signed_area(&hull).abs().max(f32::MIN_POSITIVE),
        min_radius_cm: polygon.iter().map(|v| v[0].hypot(v[1])).fold(f32::INFINITY, f32::min) * 100.0,
        star_shaped: (0..n).all(|i| cross([0.0; 2], polygon[i], polygon[(i + 1) % n]) > 0.0),
    }
}

/// The convex hull, counter-clockwise (Andrew's monotone chain).
fn convex_hull(points: &[[f32; 2]]) -> Vec<[f32; 2]> {
    let mut p = points.to_vec();
    p.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    let mut hull: Vec<[f32; 2]> = Vec::with_capacity(2 * p.len());
    for pass in 0..2 {
        let start = hull.len();
        let iter: Box<dyn Iterator<Item = &[f32; 2]>> =
            if pass == 0 { Box::new(p.iter()) } else { Box::new(p.iter().rev()) };
        for &q in iter {
            while hull.len() >= start + 2 && cross(hull[hull.len() - 2], hull[hull.len() - 1], q) <= 0.0 {
                hull.pop();
            }
            hull.push(q);
        }
        hull.pop();
    }
    hull
}

/// Reverses the run between two crossing edges until none cross (2-opt).
fn untangle(p: &mut [[f32; 2]]) {
    let n = p.len();
    loop {
        let mut crossed = false;
        for i in 0..n {
            for j in i + 2..n {
                if i == 0 && j == n - 1 {
                    continue; // adjacent through the wrap
                }
                if segments_cross(p[i], p[i + 1], p[j], p[(j + 1) % n]) {
                    p[i + 1..=j].reverse();
                    crossed = true;
                }
            }
        }
        if !crossed {
            return;
        }
    }
}

fn cross(o: [f32; 2], a: [f32; 2], b: [f32; 2]) -> f32 {
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
}

/// Whether segments ab and cd cross at a point inside both.
fn segments_cross(a: [f32; 2], b: [f32; 2], c: [f32; 2], d: [f32; 2]) -> bool {
    let (d1, d2) = (cross(a, b, c), cross(a, b, d));
    let (d3, d4) = (cross(c, d, a), cross(c, d, b));
    d1 * d2 < 0.0 && d3 * d4 < 0.0
}

/// The signed area (positive when counter-clockwise).
fn signed_area(p: &[[f32; 2]]) -> f32 {
    let n = p.len();
    0.5 * (0..n).map(|i| cross([0.0; 2], p[i], p[(i + 1) % n])).sum::<f32>()
}

/// The smallest distance from a vertex to an edge not its own.
fn min_feature(p: &[[f32; 2]]) -> f32 {
    let n = p.len();
    let mut best = f32::INFINITY;
    for (v, &q) in p.iter().enumerate() {
        for i in 0..n {
            if i == v || (i + 1) % n == v {
                continue;
            }
            best = best.min(distance_to_boundary(&[p[i], p[(i + 1) % n]], q));
        }
    }
    best
}

/// Triangles (vertex indices, counter-clockwise) covering a simple
/// counter-clockwise polygon, by clipping ears.
fn triangulate(polygon: &[[f32; 2]]) -> Vec<[usize; 3]> {
    let mut left: Vec<usize> = (0..polygon.len()).collect();
    let mut out = Vec::new();
    while left.len() > 3 {
        let m = left.len();
        let ear = (0..m).find(|&k| {
            let (a, b, c) = (left[(k + m - 1) % m], left[k], left[(k + 1) % m]);
            let (pa, pb, pc) = (polygon[a], polygon[b], polygon[c]);
            cross(pa, pb, pc) > 0.0
                && left.iter().all(|&o| {
                    o == a
                        || o == b
                        || o == c
                        || !(cross(pa, pb, polygon[o]) >= 0.0
                            && cross(pb, pc, polygon[o]) >= 0.0
                            && cross(pc, pa, polygon[o]) >= 0.0)
                })
        });
        // A simple polygon always has an ear; fall back to the first
        // vertex should rounding hide it.
        let k = ear.unwrap_or(0);
        out.push([left[(k + m - 1) % m], left[k], left[(k + 1) % m]]);
        left.remove(k);
    }
    out.push([left[0], left[1], left[2]]);
    out
}

/// The OBJ text of a polygon extruded from z = 0 to `HEIGHT_M`, every face
/// wound counter-clockwise seen from outside: quads close the sides; a
/// centre vertex fans the caps where the polygon is star-shaped about the
/// origin ([`polygons`]), clipped ears cover them otherwise
/// ([`tandem_polygons`]).
pub fn extruded_obj(polygon: &[[f32; 2]], name: &str) -> String {
    let n = polygon.len();
    let star = (0..n).all(|i| cross([0.0; 2], polygon[i], polygon[(i + 1) % n]) > 0.0);
    let mut s = format!("# {name}: a TANDEM polygon extruded {HEIGHT_M} m (tactile-env tasks/polygons.rs)\n");
    for z in [0.0, HEIGHT_M] {
        for p in polygon {
            s += &format!("v {:.6} {:.6} {:.6}\n", p[0], p[1], z);
        }
        if star {
            s += &format!("v 0.000000 0.000000 {z:.6}\n");
        }
    }
    // Vertex numbers (1-based): bottom ring 1..=n, (bottom centre n+1), top
    // ring from t0, (top centre 2n+2).
    let t0 = if star { n + 2 } else { n + 1 };
    if !star {
        for [a, b, c] in triangulate(polygon) {
            s += &format!("f {} {} {}\n", c + 1, b + 1, a + 1);
            s += &format!("f {} {} {}\n", t0 + a, t0 + b, t0 + c);
        }
    }
    let (bc, tc) = (n + 1, 2 * n + 2);
    for i in 0..n {
        let j = (i + 1) % n;
        if star {
            s += &format!("f {} {} {}\n", bc, j + 1, i + 1);
            s += &format!("f {} {} {}\n", tc, t0 + i, t0 + j);
        }
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

/// Distance from `p` to the polygon's solid: 0 inside, else to its
/// boundary.
pub fn clearance_m(polygon: &[[f32; 2]], p: [f32; 2]) -> f32 {
    if contains(polygon, p) { 0.0 } else { distance_to_boundary(polygon, p) }
}

/// Distance from `p` to the polygon's boundary.
pub fn distance_to_boundary(polygon: &[[f32; 2]], p: [f32; 2]) -> f32 {
    let q = closest_point(polygon, p);
    ((q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2)).sqrt()
}

/// The point of the polygon's boundary nearest to `p`.
pub fn closest_point(polygon: &[[f32; 2]], p: [f32; 2]) -> [f32; 2] {
    let n = polygon.len();
    let mut best = (f32::INFINITY, p);
    for i in 0..n {
        let (a, b) = (polygon[i], polygon[(i + 1) % n]);
        let (abx, aby) = (b[0] - a[0], b[1] - a[1]);
        let t = (((p[0] - a[0]) * abx + (p[1] - a[1]) * aby) / (abx * abx + aby * aby)).clamp(0.0, 1.0);
        let q = [a[0] + t * abx, a[1] + t * aby];
        let d2 = (q[0] - p[0]).powi(2) + (q[1] - p[1]).powi(2);
        if d2 < best.0 {
            best = (d2, q);
        }
    }
    best.1
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
        let assets = tactile_sim::Assets::builtin();
        let sets = [
            ("polygon", polygons(OBJECT_SEED, OBJECT_COUNT)),
            ("tandem", tandem_polygons(OBJECT_SEED, OBJECT_COUNT)),
            ("random_polygon", random_polygons(OBJECT_SEED, OBJECT_COUNT)),
        ];
        for (set, objects) in &sets {
            for (k, p) in objects.iter().enumerate() {
                let name = format!("{set}_{k}");
                let stored = assets
                    .read_text(&format!("objects/{name}.obj"))
                    .unwrap_or_else(|e| panic!("{e} (run the gen_objects example)"));
                assert_eq!(stored, extruded_obj(p, &name), "{name}.obj differs from the generator's output");
            }
        }
    }

    #[test]
    fn tandem_polygons_are_simple_counter_clockwise_and_finger_sized() {
        let objects = tandem_polygons(OBJECT_SEED, OBJECT_COUNT);
        let mut star_shaped = 0;
        for p in &objects {
            assert_eq!(p.len(), SEGMENTS);
            assert!(p.iter().all(|v| (v[0] * v[0] + v[1] * v[1]).sqrt() <= MAX_RADIUS_M));
            let n = p.len();
            for i in 0..n {
                for j in 0..n {
                    let adjacent = i == j || (i + 1) % n == j || (j + 1) % n == i;
                    assert!(adjacent || !segments_cross(p[i], p[(i + 1) % n], p[j], p[(j + 1) % n]), "{p:?}");
                }
            }
            assert!(signed_area(p) > 0.0);
            assert!(min_feature(p) >= MIN_FEATURE_M);
            star_shaped += usize::from((0..n).all(|i| cross([0.0; 2], p[i], p[(i + 1) % n]) > 0.0));
        }
        // TANDEM's kind: most are not star-shaped about the centre.
        assert!(star_shaped <= 3, "{star_shaped} of 10 are star-shaped");
    }

    #[test]
    fn random_polygons_are_star_shaped_in_the_disc_as_trimesh_draws_them() {
        let objects = random_polygons(OBJECT_SEED, OBJECT_COUNT);
        assert_eq!(objects, random_polygons(OBJECT_SEED, OBJECT_COUNT), "deterministic from the seed");
        for p in &objects {
            assert_eq!(p.len(), SEGMENTS);
            assert!(p.iter().all(|v| v[0].hypot(v[1]) <= MAX_RADIUS_M));
            let s = stats(p);
            assert!(s.star_shaped && s.area_cm2 > 0.0 && s.solidity > 0.0 && s.solidity <= 1.0 + 1e-6, "{s:?}");
        }
        // Radii uniform in [0, r]: over many draws the mean radius is r/2
        // and some vertices come close to the centre (v0's never do).
        let many = random_polygons(1, 500);
        let radii: Vec<f32> = many.iter().flatten().map(|v| v[0].hypot(v[1])).collect();
        let mean = radii.iter().sum::<f32>() / radii.len() as f32;
        assert!((mean - 0.05).abs() < 0.002, "mean radius {mean}");
        assert!(radii.iter().any(|&r| r < 0.005));
        // The area is 1/2 sum r r' sin(gap): about 54 cm^2 on average at
        // r = 10 cm (10^5 draws of the same process, outside this test;
        // about 2 cm^2 is the spread of a mean of 500). TANDEM's ten
        // measure 60 on average, 36 to 77.
        let area = many.iter().map(|p| stats(p).area_cm2).sum::<f32>() / many.len() as f32;
        assert!((49.0..=59.0).contains(&area), "mean area {area} cm^2");
    }

    #[test]
    fn the_objects_readme_shows_the_sets_statistics() {
        let readme = include_str!("../../../../assets/objects/README.md");
        for (name, objects) in [
            ("`random_polygon_<k>` (Explore-v2)", random_polygons(OBJECT_SEED, OBJECT_COUNT)),
            ("`tandem_<k>` (Explore-v1)", tandem_polygons(OBJECT_SEED, OBJECT_COUNT)),
            ("`polygon_<k>` (Explore-v0)", polygons(OBJECT_SEED, OBJECT_COUNT)),
        ] {
            let s: Vec<PolygonStats> = objects.iter().map(|p| stats(p)).collect();
            let mean = |f: fn(&PolygonStats) -> f32| s.iter().map(f).sum::<f32>() / s.len() as f32;
            let row = readme.lines().find(|l| l.starts_with(&format!("| {name} |"))).expect(name);
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            assert!(cells[2].ends_with(&format!("({:.0})", mean(|s| s.area_cm2))), "{row}");
            assert!(cells[3].ends_with(&format!("({:.2})", mean(|s| s.solidity))), "{row}");
        }
    }

    #[test]
    fn stats_of_a_square_and_an_l() {
        let square = [[-0.01, -0.01], [0.01, -0.01], [0.01, 0.01], [-0.01, 0.01]];
        let s = stats(&square);
        assert!((s.area_cm2 - 4.0).abs() < 1e-4 && (s.solidity - 1.0).abs() < 1e-6 && s.star_shaped, "{s:?}");
        assert!((s.min_radius_cm - 2f32.sqrt()).abs() < 1e-5);
        // An L of three unit squares: hull area 3.5, solidity 3/3.5.
        let l = [[0.0, 0.0], [0.02, 0.0], [0.02, 0.01], [0.01, 0.01], [0.01, 0.02], [0.0, 0.02]];
        let s = stats(&l);
        assert!((s.area_cm2 - 3.0).abs() < 1e-4 && (s.solidity - 3.0 / 3.5).abs() < 1e-5, "{s:?}");
        assert!(!s.star_shaped && s.min_radius_cm == 0.0);
    }

    #[test]
    fn clipped_ears_cover_the_polygon_once() {
        // An L (concave, not star-shaped about the origin) and the set.
        let l = vec![[0.0, 0.0], [2.0, 0.0], [2.0, 1.0], [1.0, 1.0], [1.0, 3.0], [0.0, 3.0]];
        for p in std::iter::once(l).chain(tandem_polygons(OBJECT_SEED, OBJECT_COUNT)) {
            let tris = triangulate(&p);
            assert_eq!(tris.len(), p.len() - 2);
            let mut area = 0.0;
            for [a, b, c] in tris {
                let t = 0.5 * cross(p[a], p[b], p[c]);
                assert!(t > 0.0, "a triangle wound clockwise");
                area += t;
            }
            assert!(
                (area - signed_area(&p)).abs() <= 1e-6 * signed_area(&p).max(1.0),
                "{area} against {}",
                signed_area(&p)
            );
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
        assert_eq!(closest_point(&sq, [3.0, 0.5]), [1.0, 0.5]);
        assert_eq!(closest_point(&sq, [3.0, 4.0]), [1.0, 1.0]);
        assert_eq!(ray_hit(&sq, [-3.0, 0.0], [1.0, 0.0]), Some(2.0));
        assert_eq!(ray_hit(&sq, [-3.0, 0.0], [-1.0, 0.0]), None);
    }
}
