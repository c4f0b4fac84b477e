//! The rollout as the viewer needs it: steps grouped into episodes, checked
//! once against the scene so that drawing never indexes out of range, and
//! the per-episode series (reward, terms, total force, finger trail) worked
//! out at load time.

use std::path::{Path, PathBuf};

use tactile_rollout::{EpisodeRecord, GridRecord, Rollout, RolloutError, SceneRecord, StepRecord};

/// What can go wrong opening a rollout for viewing.
#[derive(Debug, thiserror::Error)]
pub enum ViewerError {
    /// The file could not be read as a rollout.
    #[error(transparent)]
    Rollout(#[from] RolloutError),
    /// The file is a rollout, but its contents contradict its scene.
    #[error("{path}: {what}")]
    Inconsistent {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// The viewer could not start or render.
    #[error("viewer: {0}")]
    Render(String),
}

/// One episode: a run of consecutive steps with the same episode index.
#[derive(Clone, Debug)]
pub struct EpisodeSpan {
    /// The episode index as recorded.
    pub index: u32,
    /// Index of its first step in [`Replay::steps`].
    pub start: usize,
    /// Its steps (frames), the state after the reset included.
    pub len: usize,
    /// Its outcome, if the file holds it (absent when cut short).
    pub outcome: Option<EpisodeRecord>,
    /// Total taxel normal force per frame (N).
    pub total_force_n: Vec<f32>,
    /// Each sensor's pad centre per frame, world frame (m).
    pub pad_trails_m: Vec<Vec<[f32; 3]>>,
}

/// A rollout ready to replay.
#[derive(Clone, Debug)]
pub struct Replay {
    /// The file it came from.
    pub path: PathBuf,
    /// The static scene.
    pub scene: SceneRecord,
    /// Every step in file order.
    pub steps: Vec<StepRecord>,
    /// The task's occupancy grid (and a classifier's belief) after each
    /// step, beside [`Replay::steps`] (empty when the file holds none).
    pub grids: Vec<Option<GridRecord>>,
    /// The episodes, in file order.
    pub episodes: Vec<EpisodeSpan>,
    /// The top of the heatmap colour scale (N): the largest taxel normal
    /// force in the file, rounded up to 1, 2 or 5 times a power of ten.
    pub force_scale_n: f32,
    /// Why the file ended early, if it did.
    pub truncated: Option<String>,
}

impl Replay {
    /// Reads `path` and prepares it.
    pub fn open(path: &Path) -> Result<Self, ViewerError> {
        Self::from_rollout(Rollout::read(path)?, path)
    }

    /// Checks `rollout` against its scene and prepares it.
    pub fn from_rollout(rollout: Rollout, path: &Path) -> Result<Self, ViewerError> {
        let bad = |what: String| ViewerError::Inconsistent { path: path.to_owned(), what };
        let Rollout { scene, steps, episodes: outcomes, grids: recorded, truncated } = rollout;
        if steps.is_empty() {
            return Err(bad(match &truncated {
                Some(why) => format!("holds no whole step ({why})"),
                None => "holds no steps".into(),
            }));
        }
        // The reader has checked that every step fits the scene.
        let peak_n = steps
            .iter()
            .flat_map(|s| s.normal_n.iter().flatten())
            .filter(|v| v.is_finite())
            .fold(0.0f32, |m, &v| m.max(v));
        let mut episodes: Vec<EpisodeSpan> = Vec::new();
        for (k, s) in steps.iter().enumerate() {
            match episodes.last_mut() {
                Some(e) if e.index == s.episode => e.len += 1,
                _ => episodes.push(EpisodeSpan {
                    index: s.episode,
                    start: k,
                    len: 1,
                    outcome: None,
                    total_force_n: Vec::new(),
                    pad_trails_m: Vec::new(),
                }),
            }
        }
        for e in &mut episodes {
            e.outcome = outcomes.iter().find(|o| o.episode == e.index).cloned();
            let frames = &steps[e.start..e.start + e.len];
            e.total_force_n = frames.iter().map(StepRecord::total_normal_n).collect();
            e.pad_trails_m = scene
                .sensors
                .iter()
                .map(|sensor| {
                    frames
                        .iter()
                        .map(|f| transform_point(&f.body_poses[sensor.body], translation(&sensor.body_from_pad)))
                        .collect()
                })
                .collect();
        }
        // Each grid beside the step it follows (the writer puts it right
        // after; a grid of no step is dropped).
        let mut grids: Vec<Option<GridRecord>> = Vec::new();
        if !recorded.is_empty() {
            grids.resize(steps.len(), None);
            let at: std::collections::HashMap<(u32, u32), usize> =
                steps.iter().enumerate().map(|(k, s)| ((s.episode, s.step), k)).collect();
            for g in recorded {
                if let Some(&k) = at.get(&(g.episode, g.step)) {
                    grids[k] = Some(g);
                }
            }
        }
        Ok(Replay {
            path: path.to_owned(),
            scene,
            steps,
            grids,
            episodes,
            force_scale_n: nice_ceiling(peak_n),
            truncated,
        })
    }

    /// The grid shown at `frame` of episode `episode` (both clamped), if
    /// the file has one there.
    pub fn grid(&self, episode: usize, frame: usize) -> Option<&GridRecord> {
        let e = &self.episodes[episode.min(self.episodes.len() - 1)];
        self.grids.get(e.start + frame.min(e.len - 1))?.as_ref()
    }

    /// The step shown at `frame` of episode `episode` (both clamped).
    pub fn step(&self, episode: usize, frame: usize) -> &StepRecord {
        let e = &self.episodes[episode.min(self.episodes.len() - 1)];
        &self.steps[e.start + frame.min(e.len - 1)]
    }
}

/// The smallest of 1, 2, 5 times a power of ten at or above `x` (at least
/// 0.001, so that an untouched pad still shows a scale).
pub fn nice_ceiling(x: f32) -> f32 {
    let x = f64::from(if x.is_finite() { x.max(1e-3) } else { 1e-3 });
    let decade = x.log10().floor() as i32;
    let nice =
        [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * 10f64.powi(decade)).find(|v| *v >= x * (1.0 - 1e-6)).unwrap_or(x);
    nice as f32
}

/// The translation of a pose `x y z qx qy qz qw`.
pub fn translation(pose: &[f32; 7]) -> [f32; 3] {
    [pose[0], pose[1], pose[2]]
}

/// `pose` (`x y z qx qy qz qw`) applied to `p`.
pub fn transform_point(pose: &[f32; 7], p: [f32; 3]) -> [f32; 3] {
    let r = rotate(&[pose[3], pose[4], pose[5], pose[6]], p);
    [pose[0] + r[0], pose[1] + r[1], pose[2] + r[2]]
}

/// The unit quaternion `q` (`x y z w`) applied to `v`.
pub fn rotate(q: &[f32; 4], v: [f32; 3]) -> [f32; 3] {
    let (u, w) = ([q[0], q[1], q[2]], q[3]);
    let cross =
        |a: [f32; 3], b: [f32; 3]| [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
    // v + 2w (u x v) + 2 u x (u x v)
    let t = cross(u, v).map(|c| 2.0 * c);
    let ut = cross(u, t);
    [v[0] + w * t[0] + ut[0], v[1] + w * t[1] + ut[1], v[2] + w * t[2] + ut[2]]
}

/// The heatmap colour of `fraction` of the scale (clamped to 0..1): the
/// viridis colour map, as sRGB components in 0..1.
pub fn heat_srgb(fraction: f32) -> [f32; 3] {
    // Viridis at 0, 1/8, ..., 1 (matplotlib's table).
    const STOPS: [[f32; 3]; 9] = [
        [0.267, 0.005, 0.329],
        [0.283, 0.141, 0.458],
        [0.254, 0.265, 0.530],
        [0.207, 0.372, 0.553],
        [0.164, 0.471, 0.558],
        [0.128, 0.567, 0.551],
        [0.135, 0.659, 0.518],
        [0.267, 0.749, 0.441],
        [0.993, 0.906, 0.144],
    ];
    let f = if fraction.is_finite() { fraction.clamp(0.0, 1.0) } else { 0.0 } * 8.0;
    let i = (f.floor() as usize).min(7);
    let t = f - i as f32;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ceiling_rounds_up_to_one_two_five() {
        assert_eq!(nice_ceiling(0.0), 1e-3);
        assert_eq!(nice_ceiling(0.73), 1.0);
        assert_eq!(nice_ceiling(1.0), 1.0);
        assert_eq!(nice_ceiling(1.2), 2.0);
        assert_eq!(nice_ceiling(3.9), 5.0);
        assert_eq!(nice_ceiling(7.5), 10.0);
        assert!((nice_ceiling(0.034) - 0.05).abs() < 1e-7);
        assert_eq!(nice_ceiling(f32::NAN), 1e-3);
    }

    #[test]
    fn a_quarter_turn_about_z_takes_x_to_y() {
        let h = std::f32::consts::FRAC_1_SQRT_2;
        let pose = [1.0, 2.0, 3.0, 0.0, 0.0, h, h];
        let p = transform_point(&pose, [1.0, 0.0, 0.0]);
        for (a, b) in p.iter().zip([1.0, 3.0, 3.0]) {
            assert!((a - b).abs() < 1e-6, "{p:?}");
        }
    }

    #[test]
    fn the_colour_map_runs_from_dark_purple_to_yellow() {
        let near = |a: [f32; 3], b: [f32; 3]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6);
        assert!(near(heat_srgb(0.0), [0.267, 0.005, 0.329]));
        assert!(near(heat_srgb(1.0), [0.993, 0.906, 0.144]));
        assert_eq!(heat_srgb(2.0), heat_srgb(1.0));
        assert_eq!(heat_srgb(f32::NAN), heat_srgb(0.0));
        // Brightness rises along the map.
        let lum = |c: [f32; 3]| 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
        let l: Vec<f32> = (0..=16).map(|i| lum(heat_srgb(i as f32 / 16.0))).collect();
        assert!(l.windows(2).all(|w| w[1] > w[0]), "{l:?}");
    }
}
