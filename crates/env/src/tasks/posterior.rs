//! The Bayes posterior over an Explore task's objects, read from its
//! occupancy grid: the best any discriminator can do with the same grid.
//!
//! It knows what a learned discriminator has to learn: the ten polygons,
//! the finger's radius, how far past it a guarded move still touches, the
//! object's jitter and the sensor's phantom contacts. Each object's pose
//! (yaw, and offset within the jitter) is a point of a lattice; a read cell
//! whose centre lies within the finger's radius of the object so placed is
//! contact, beyond the radius and the guard free, and between the two
//! (widened by the lattice's spacing, so that the true pose, between
//! lattice points, agrees with its nearest one) either. A cell's reading
//! against its class is a phantom contact (the task's flip probability) or
//! a missed one; the posterior of an object sums its poses' likelihoods.
//!
//! The evidence of an episode is sparse: only the poses within
//! [`KEEP_NATS`] of the best stay in the running, so that after the first
//! touches an update costs a few thousand lookups, not the lattice's
//! millions. A pose dropped so would need some seven wrong readings in
//! the best pose's favour to have mattered.

use super::explore::{ExploreConfig, cell};
use super::polygons;
use crate::EnvError;

/// Log-likelihood below the best pose's at which a pose is dropped.
pub const KEEP_NATS: f32 = 40.0;

/// The distance fields' resolution (m).
const FIELD_CELL_M: f32 = 0.00025;

/// The lattice of poses the posterior sums over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoseLattice {
    /// Yaws, evenly over a turn.
    pub yaws: usize,
    /// Offsets per axis, evenly over the jitter's range.
    pub offsets: usize,
}

impl Default for PoseLattice {
    /// 1,440 yaws by 11 x 11 offsets: on Explore-v2 its spacing blurs the
    /// contact band by under a millimetre.
    fn default() -> Self {
        Self { yaws: 1440, offsets: 11 }
    }
}

/// A cell's class under a pose: the readings it allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Class {
    Contact = 0,
    Either = 1,
    Free = 2,
}

/// What the posterior knows of a task, shared by all its episodes.
pub struct ShapePosterior {
    /// Per object, its class field in its own frame: `field_side` squared
    /// cells of `FIELD_CELL_M`, centred on the object's origin.
    fields: Vec<Vec<Class>>,
    field_side: usize,
    field_half_m: f32,
    /// `(sin, cos)` of each lattice yaw.
    yaw_trig: Vec<(f32, f32)>,
    /// Each lattice offset along one axis (m).
    offsets_m: Vec<f32>,
    /// Each grid cell's centre (m), and whether any pose can make it other
    /// than free (readings elsewhere tell nothing).
    cell_centres_m: Vec<[f32; 2]>,
    informative: Vec<bool>,
    /// log p(reading | class): rows free, contact; columns by [`Class`].
    log_likelihood: [[f32; 3]; 2],
    objects: usize,
}

/// One episode's evidence: the poses still in the running with their
/// log-likelihoods, and each cell's reading when it was last read.
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    poses: Vec<(u32, f32)>,
    seen: Vec<u8>,
    started: bool,
}

impl Evidence {
    /// The poses still in the running (see [`ShapePosterior::pose_object`])
    /// and their log-likelihoods; empty before the first informative
    /// reading.
    pub fn poses(&self) -> &[(u32, f32)] {
        &self.poses
    }

    /// Forgets everything (a new episode), keeping the memory.
    pub fn clear(&mut self) {
        self.poses.clear();
        self.seen.iter_mut().for_each(|s| *s = 0);
        self.started = false;
    }
}

/// A reading, as the posterior sees a grid cell: none, free or contact.
fn reading(code: f32) -> u8 {
    match code as u8 {
        cell::FREE | cell::CURRENT => 1,
        cell::CONTACT => 2,
        _ => 0,
    }
}

impl ShapePosterior {
    /// The posterior of an Explore task configured by `config`, whose
    /// guarded moves touch up to `guard_m` past the finger's radius (2 mm
    /// on Explore-v2: its last 1 mm increment and the drive's lag), on
    /// `lattice`. Refuses a lattice without poses or a negative guard.
    pub fn new(config: &ExploreConfig, guard_m: f32, lattice: PoseLattice) -> Result<Self, EnvError> {
        let bad = |field, value: f32, reason| super::invalid("posterior", field, value, reason);
        if lattice.yaws == 0 {
            return Err(bad("yaws", 0.0, "the lattice needs at least one yaw"));
        }
        if lattice.offsets == 0 {
            return Err(bad("offsets", 0.0, "the lattice needs at least one offset per axis"));
        }
        if !(guard_m.is_finite() && guard_m >= 0.0) {
            return Err(bad("guard_m", guard_m, "must be finite and >= 0"));
        }
        let polys = config.object_set.polygons();
        let yaws = if config.random_yaw { lattice.yaws } else { 1 };
        let jitter = config.jitter_m;
        let offset_step = if lattice.offsets > 1 { 2.0 * jitter / (lattice.offsets - 1) as f32 } else { 0.0 };
        let offsets_m: Vec<f32> = if lattice.offsets > 1 {
            (0..lattice.offsets).map(|o| -jitter + offset_step * o as f32).collect()
        } else {
            vec![0.0]
        };
        let max_radius = polys.iter().flatten().map(|p| p[0].hypot(p[1])).fold(0.0f32, f32::max);
        // How far a cell's true distance may lie from its nearest lattice
        // pose's, and from the field's sample.
        let yaw_slack = if yaws > 1 { std::f32::consts::PI / yaws as f32 * max_radius } else { 0.0 };
        let slack =
            0.5 * offset_step * std::f32::consts::SQRT_2 + yaw_slack + 0.5 * FIELD_CELL_M * std::f32::consts::SQRT_2;
        let r = config.finger_radius_m;
        let (near, far) = (r - slack, r + guard_m + slack);
        let field_half_m = max_radius + far + FIELD_CELL_M;
        let field_side = (2.0 * field_half_m / FIELD_CELL_M).ceil() as usize;
        let fields = polys
            .iter()
            .map(|poly| {
                (0..field_side * field_side)
                    .map(|i| {
                        let q = [
                            (i % field_side) as f32 * FIELD_CELL_M + 0.5 * FIELD_CELL_M - field_half_m,
                            (i / field_side) as f32 * FIELD_CELL_M + 0.5 * FIELD_CELL_M - field_half_m,
                        ];
                        let d = polygons::clearance_m(poly, q);
                        if d < near {
                            Class::Contact
                        } else if d <= far {
                            Class::Either
                        } else {
                            Class::Free
                        }
                    })
                    .collect()
            })
            .collect();
        let side = config.grid_side();
        let cell_centres_m: Vec<[f32; 2]> = (0..side * side).map(|i| config.cell_centre_m(i)).collect();
        let reach = max_radius + far + jitter * std::f32::consts::SQRT_2;
        let informative = cell_centres_m.iter().map(|p| p[0].hypot(p[1]) <= reach).collect();
        let phantom = config.contact_flip_prob.unwrap_or(0.0).max(1e-4);
        let missed = 1e-3f32;
        let log_likelihood =
            [[missed.ln(), 0.5f32.ln(), (1.0 - phantom).ln()], [(1.0 - missed).ln(), 0.5f32.ln(), phantom.ln()]];
        Ok(Self {
            fields,
            field_side,
            field_half_m,
            yaw_trig: (0..yaws).map(|y| (std::f32::consts::TAU * y as f32 / yaws as f32).sin_cos()).collect(),
            offsets_m,
            cell_centres_m,
            informative,
            log_likelihood,
            objects: polys.len(),
        })
    }

    /// Number of objects.
    pub fn objects(&self) -> usize {
        self.objects
    }

    /// Number of cells of the grid it reads.
    pub fn cells(&self) -> usize {
        self.cell_centres_m.len()
    }

    /// Number of poses of the lattice, over all objects.
    pub fn poses(&self) -> usize {
        self.objects * self.poses_per_object()
    }

    fn poses_per_object(&self) -> usize {
        self.yaw_trig.len() * self.offsets_m.len() * self.offsets_m.len()
    }

    /// The object a pose places.
    pub fn pose_object(&self, pose: u32) -> usize {
        pose as usize / self.poses_per_object()
    }

    /// New, empty evidence for an episode.
    pub fn evidence(&self) -> Evidence {
        Evidence { poses: Vec::new(), seen: vec![0; self.cells()], started: false }
    }

    fn class(&self, pose: usize, cell: usize) -> Class {
        let n = self.offsets_m.len();
        let per_yaw = n * n;
        let (object, rest) = (pose / self.poses_per_object(), pose % self.poses_per_object());
        let (yaw, offset) = (rest / per_yaw, rest % per_yaw);
        let (s, c) = self.yaw_trig[yaw];
        let p = self.cell_centres_m[cell];
        let (dx, dy) = (p[0] - self.offsets_m[offset % n], p[1] - self.offsets_m[offset / n]);
        // The cell's centre in the object's frame.
        let q = [c * dx + s * dy, -s * dx + c * dy];
        let ix = ((q[0] + self.field_half_m) / FIELD_CELL_M).floor();
        let iy = ((q[1] + self.field_half_m) / FIELD_CELL_M).floor();
        let side = self.field_side as f32;
        if (0.0..side).contains(&ix) && (0.0..side).contains(&iy) {
            self.fields[object][iy as usize * self.field_side + ix as usize]
        } else {
            Class::Free
        }
    }

    /// The chance that reading `cell` under `pose` feels contact.
    pub fn contact_probability(&self, pose: u32, cell: usize) -> f32 {
        self.log_likelihood[1][self.class(pose as usize, cell) as usize].exp()
    }

    /// Whether any pose can make `cell` other than free.
    pub fn is_informative(&self, cell: usize) -> bool {
        self.informative[cell]
    }

    /// Reads the grid's cells (the observation's codes) that changed since
    /// the last call. A grid of another size is ignored.
    pub fn update(&self, ev: &mut Evidence, grid: &[f32]) {
        if grid.len() != self.cells() {
            return;
        }
        if ev.seen.len() != self.cells() {
            ev.seen = vec![0; self.cells()];
        }
        let ll = &self.log_likelihood;
        let term = |class: Class, old: u8, now: u8| {
            let k = class as usize;
            let before = if old > 0 { ll[usize::from(old - 1)][k] } else { 0.0 };
            let after = if now > 0 { ll[usize::from(now - 1)][k] } else { 0.0 };
            after - before
        };
        if !ev.started {
            let mut any = false;
            for (c, &code) in grid.iter().enumerate() {
                ev.seen[c] = reading(code);
                any |= ev.seen[c] > 0 && self.informative[c];
            }
            if !any {
                return;
            }
            // Every pose against every informative reading so far, keeping
            // those near the best so far (pruned again at the end).
            let read: Vec<(usize, u8)> = ev
                .seen
                .iter()
                .enumerate()
                .filter(|&(c, &s)| s > 0 && self.informative[c])
                .map(|(c, &s)| (c, s))
                .collect();
            let mut best = f32::NEG_INFINITY;
            ev.poses.clear();
            for pose in 0..self.poses() {
                let score: f32 = read.iter().map(|&(c, now)| term(self.class(pose, c), 0, now)).sum();
                if score > best - KEEP_NATS {
                    ev.poses.push((pose as u32, score));
                    best = best.max(score);
                }
            }
            ev.poses.retain(|p| p.1 > best - KEEP_NATS);
            ev.started = true;
            return;
        }
        let mut changed = false;
        for (c, &code) in grid.iter().enumerate() {
            let now = reading(code);
            let old = ev.seen[c];
            if now == old {
                continue;
            }
            ev.seen[c] = now;
            if !self.informative[c] {
                continue;
            }
            changed = true;
            for (pose, score) in ev.poses.iter_mut() {
                *score += term(self.class(*pose as usize, c), old, now);
            }
        }
        if changed {
            let best = ev.poses.iter().map(|p| p.1).fold(f32::NEG_INFINITY, f32::max);
            ev.poses.retain(|p| p.1 > best - KEEP_NATS);
        }
    }

    /// The posterior over the objects into `out` (one per object); uniform
    /// before the first informative reading.
    pub fn probabilities(&self, ev: &Evidence, out: &mut [f32]) {
        if !ev.started || ev.poses.is_empty() {
            out.iter_mut().for_each(|p| *p = 1.0 / self.objects as f32);
            return;
        }
        let best = ev.poses.iter().map(|p| p.1).fold(f32::NEG_INFINITY, f32::max);
        out.iter_mut().for_each(|p| *p = 0.0);
        for &(pose, score) in &ev.poses {
            if let Some(p) = out.get_mut(self.pose_object(pose)) {
                *p += (score - best).exp();
            }
        }
        let total: f32 = out.iter().sum();
        out.iter_mut().for_each(|p| *p /= total);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::ObjectSet;
    use crate::tasks::polygons::clearance_m;

    fn v2() -> ExploreConfig {
        crate::load_config(crate::spec("Explore-v2").unwrap().config_toml, "Explore-v2", None).unwrap()
    }

    /// A coarse lattice keeps the tests fast; the pose drawn lies on it.
    const LATTICE: PoseLattice = PoseLattice { yaws: 120, offsets: 3 };

    /// Object `object` placed at lattice yaw `yaw` (offset 0, a lattice
    /// point), and the grid the finger would read around it: every cell
    /// within `ring_m` of the finger's reach, contact where the centre is
    /// within the finger's radius of the solid, free beyond radius and
    /// guard.
    fn drawn(
        post: &ShapePosterior,
        config: &ExploreConfig,
        object: usize,
        yaw: usize,
        ring_m: f32,
    ) -> (Vec<[f32; 2]>, Vec<f32>) {
        let poly = &config.object_set.polygons()[object];
        let (s, c) = (std::f32::consts::TAU * yaw as f32 / LATTICE.yaws as f32).sin_cos();
        let placed: Vec<[f32; 2]> = poly.iter().map(|p| [c * p[0] - s * p[1], s * p[0] + c * p[1]]).collect();
        let r = config.finger_radius_m;
        let grid = post
            .cell_centres_m
            .iter()
            .map(|&p| {
                let d = clearance_m(&placed, p);
                if d < r - 0.001 && d > r - ring_m {
                    2.0
                } else if d > r + 0.003 && d < r + ring_m {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        (placed, grid)
    }

    #[test]
    fn names_the_object_a_grid_was_drawn_from() {
        let config = v2();
        let post = ShapePosterior::new(&config, 0.002, LATTICE).unwrap();
        assert_eq!(post.objects(), 10);
        let mut p = vec![0.0; 10];
        for object in 0..10 {
            let (_, grid) = drawn(&post, &config, object, 17 * object % LATTICE.yaws, 0.012);
            let mut ev = post.evidence();
            post.update(&mut ev, &grid);
            post.probabilities(&ev, &mut p);
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
            assert!(p[object] > 0.99, "object {object}: posterior {p:?}");
        }
    }

    #[test]
    fn a_phantom_contact_does_not_turn_it() {
        // A contact read in free space, 2-3.5 cm beyond the finger's reach,
        // where larger poses of other objects would feel one, read with
        // the rest: it costs the true pose the phantom rate, which is
        // less than what those poses' own contradictions cost them.
        let config = v2();
        let post = ShapePosterior::new(&config, 0.002, LATTICE).unwrap();
        let r = config.finger_radius_m;
        let mut p = vec![0.0; 10];
        for object in 0..10 {
            let (placed, mut grid) = drawn(&post, &config, object, 40 + 7 * object, 0.008);
            let far = (0..post.cells())
                .find(|&c| {
                    let d = clearance_m(&placed, post.cell_centres_m[c]);
                    grid[c] == 0.0 && post.is_informative(c) && d > r + 0.02 && d < r + 0.035
                })
                .unwrap();
            grid[far] = 2.0;
            let mut ev = post.evidence();
            post.update(&mut ev, &grid);
            post.probabilities(&ev, &mut p);
            assert!(p[object] > 0.9, "object {object}: posterior {p:?}");
        }
    }

    #[test]
    fn a_contact_against_a_pose_costs_it_the_phantom_rate() {
        // One pose per object: reading contact where object 0 leaves the
        // cell free and object j covers it moves their log-odds by
        // ln(phantom) - ln(1 - missed), and only theirs.
        let mut config = v2();
        config.random_yaw = false;
        config.jitter_m = 0.0;
        let post = ShapePosterior::new(&config, 0.002, PoseLattice { yaws: 1, offsets: 1 }).unwrap();
        let (c, j) = (0..post.cells())
            .find_map(|c| {
                let j = (1..10).find(|&j| post.class(j, c) == Class::Contact)?;
                (post.class(0, c) == Class::Free).then_some((c, j))
            })
            .unwrap();
        // Start from a free reading every object agrees on.
        let start =
            (0..post.cells()).find(|&c| post.is_informative(c) && (0..10).all(|k| post.class(k, c) == Class::Free));
        let mut grid = vec![0.0; post.cells()];
        grid[start.unwrap()] = 1.0;
        let mut ev = post.evidence();
        post.update(&mut ev, &grid);
        let mut before = vec![0.0; 10];
        post.probabilities(&ev, &mut before);
        assert!(before.iter().all(|&p| (p - 0.1).abs() < 1e-6), "{before:?}");
        grid[c] = 2.0;
        post.update(&mut ev, &grid);
        let mut after = vec![0.0; 10];
        post.probabilities(&ev, &mut after);
        let phantom = config.contact_flip_prob.unwrap();
        let expected = phantom.ln() - (1.0 - 1e-3f32).ln();
        let measured = (after[0] / after[j]).ln();
        assert!((measured - expected).abs() < 1e-3, "log-odds {measured}, expected {expected}");
    }

    #[test]
    fn nothing_read_near_the_object_tells_nothing() {
        let config = v2();
        let post = ShapePosterior::new(&config, 0.002, LATTICE).unwrap();
        let mut grid = vec![0.0; post.cells()];
        // The corner's free cells: no pose reaches them.
        grid[0] = 1.0;
        grid[1] = 3.0;
        let mut ev = post.evidence();
        post.update(&mut ev, &grid);
        let mut p = vec![0.0; 10];
        post.probabilities(&ev, &mut p);
        assert!(p.iter().all(|&v| (v - 0.1).abs() < 1e-6), "{p:?}");
        assert!(ev.poses().is_empty());
    }

    #[test]
    fn the_field_agrees_with_the_polygon_distance() {
        // One yaw, one offset: the class of each cell is the polygon's
        // distance from the cell's centre, banded.
        let mut config = v2();
        config.random_yaw = false;
        config.jitter_m = 0.0;
        config.object_set = ObjectSet::Random;
        let post = ShapePosterior::new(&config, 0.002, PoseLattice { yaws: 1, offsets: 1 }).unwrap();
        let polys = config.object_set.polygons();
        let r = config.finger_radius_m;
        let blur = 0.5 * FIELD_CELL_M * std::f32::consts::SQRT_2;
        for (object, poly) in polys.iter().enumerate() {
            for (c, &p) in post.cell_centres_m.iter().enumerate() {
                let d = clearance_m(poly, p);
                let class = post.class(object, c);
                let expect = if d < r - 2.0 * blur {
                    Some(Class::Contact)
                } else if d > r + 0.002 + 2.0 * blur {
                    Some(Class::Free)
                } else if d > r + blur && d < r + 0.002 - blur {
                    Some(Class::Either)
                } else {
                    None
                };
                if let Some(e) = expect {
                    assert_eq!(class, e, "object {object}, cell {c}: {d} m from it");
                }
            }
        }
    }

    #[test]
    fn refuses_an_empty_lattice() {
        let config = v2();
        let err = ShapePosterior::new(&config, 0.002, PoseLattice { yaws: 0, offsets: 3 }).err().unwrap();
        assert!(err.to_string().contains("yaws"), "{err}");
        assert!(ShapePosterior::new(&config, f32::NAN, LATTICE).is_err());
    }
}
