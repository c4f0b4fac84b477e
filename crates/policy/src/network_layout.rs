//! How a network reads a flat observation and writes a flat action: the
//! plain-data descriptions shared by training (tactile-rl) and the runtime.

use std::ops::Range;

use serde::{Deserialize, Serialize};

/// One contiguous part of a flat observation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObsPart {
    /// `dim` values fed to the MLP as they are (after normalisation).
    Vector {
        /// First flat index.
        offset: usize,
        /// Number of values.
        dim: usize,
    },
    /// A `height x width` grid (row-major) fed to the CNN.
    Grid {
        /// First flat index.
        offset: usize,
        /// Rows.
        height: usize,
        /// Columns.
        width: usize,
        /// One-hot channels for integer codes `1..=levels` (0: one raw channel).
        levels: usize,
    },
}

/// The parts of a flat observation, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObsLayout {
    /// The parts.
    pub parts: Vec<ObsPart>,
    /// Total flat dimension.
    pub obs_dim: usize,
}

impl ObsLayout {
    /// The flat ranges that observation normalisation applies to.
    pub fn vector_ranges(&self) -> Vec<Range<usize>> {
        self.parts
            .iter()
            .filter_map(|p| match *p {
                ObsPart::Vector { offset, dim } => Some(offset..offset + dim),
                ObsPart::Grid { .. } => None,
            })
            .collect()
    }

    /// Total vector dimensions.
    pub fn vector_dim(&self) -> usize {
        self.vector_ranges().iter().map(|r| r.len()).sum()
    }

    /// The grids, as `(offset, height, width, levels)`.
    pub fn grids(&self) -> Vec<(usize, usize, usize, usize)> {
        self.parts
            .iter()
            .filter_map(|p| match *p {
                ObsPart::Grid { offset, height, width, levels } => Some((offset, height, width, levels)),
                ObsPart::Vector { .. } => None,
            })
            .collect()
    }

    /// Whether every part lies inside an observation of `obs_dim` values.
    pub fn fits(&self, obs_dim: usize) -> bool {
        self.obs_dim == obs_dim
            && self.parts.iter().all(|p| match *p {
                ObsPart::Vector { offset, dim } => offset.checked_add(dim).is_some_and(|e| e <= obs_dim),
                ObsPart::Grid { offset, height, width, .. } => {
                    height.checked_mul(width).and_then(|n| n.checked_add(offset)).is_some_and(|e| e <= obs_dim)
                }
            })
    }
}

/// The CNN's shape: convolutions (ReLU after each), then one linear layer
/// (ReLU) to `features`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CnnConfig {
    /// Output channels of each convolution.
    pub channels: Vec<usize>,
    /// Square kernel size of each convolution.
    pub kernels: Vec<usize>,
    /// Stride of each convolution.
    pub strides: Vec<usize>,
    /// Width of the feature vector out of the encoder.
    pub features: usize,
}

impl Default for CnnConfig {
    fn default() -> Self {
        // A 4 x 4 patch stem (a 60 x 60 grid becomes 15 x 15), then two 3 x 3
        // convolutions (7 x 7, 5 x 5): about 0.25 M multiply-adds per grid.
        CnnConfig { channels: vec![8, 16, 16], kernels: vec![4, 3, 3], strides: vec![4, 2, 1], features: 128 }
    }
}

impl CnnConfig {
    /// Checks the shape against a grid; returns the spatial size out of the
    /// last convolution, or what is wrong.
    pub fn output_size(&self, height: usize, width: usize) -> Result<(usize, usize), &'static str> {
        self.check()?;
        let (mut h, mut w) = (height, width);
        for (&k, &s) in self.kernels.iter().zip(&self.strides) {
            if k > h || k > w {
                return Err("the kernels do not fit the grid");
            }
            h = (h - k) / s + 1;
            w = (w - k) / s + 1;
        }
        Ok((h, w))
    }

    /// Checks the lists' lengths and that no size is 0.
    pub fn check(&self) -> Result<(), &'static str> {
        if self.channels.is_empty()
            || self.channels.len() != self.kernels.len()
            || self.channels.len() != self.strides.len()
        {
            return Err("needs as many kernels and strides as channels, at least one");
        }
        if self.features == 0 || self.channels.contains(&0) || self.kernels.contains(&0) || self.strides.contains(&0) {
            return Err("sizes must be at least 1");
        }
        Ok(())
    }
}

/// One part of an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Head {
    /// `dim` continuous values, Gaussian.
    Gaussian {
        /// Number of values.
        dim: usize,
    },
    /// One of `n` choices.
    Categorical {
        /// Number of choices.
        n: usize,
    },
}

/// Where each head sits in the action vector and in the actor's output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionLayout {
    /// The heads, in action order.
    pub heads: Vec<Head>,
    /// Total action values (the action space's flat dimension).
    pub action_dim: usize,
    /// Total actor outputs (means and logits).
    pub output_dim: usize,
    /// Total Gaussian dimensions (log-std parameters).
    pub gaussian_dim: usize,
}

impl ActionLayout {
    /// The layout of these heads, in order.
    pub fn from_heads(heads: Vec<Head>) -> Self {
        let (mut action_dim, mut output_dim, mut gaussian_dim) = (0, 0, 0);
        for head in &heads {
            match *head {
                Head::Gaussian { dim } => {
                    action_dim += dim;
                    output_dim += dim;
                    gaussian_dim += dim;
                }
                Head::Categorical { n } => {
                    action_dim += 1;
                    output_dim += n;
                }
            }
        }
        ActionLayout { heads, action_dim, output_dim, gaussian_dim }
    }

    /// Whether the stored dimensions are those of the heads.
    pub fn is_consistent(&self) -> bool {
        *self == ActionLayout::from_heads(self.heads.clone())
    }

    /// Deterministic actions (`action_dim` values) from one row of actor
    /// outputs: Gaussian means, and the most likely choice of each
    /// categorical head (the last of equal maxima).
    pub fn deterministic(&self, outputs: &[f32], actions: &mut [f32]) {
        let (mut o, mut a) = (0, 0);
        for head in &self.heads {
            match *head {
                Head::Gaussian { dim } => {
                    actions[a..a + dim].copy_from_slice(&outputs[o..o + dim]);
                    o += dim;
                    a += dim;
                }
                Head::Categorical { n } => {
                    actions[a] = argmax(&outputs[o..o + n]) as f32;
                    o += n;
                    a += 1;
                }
            }
        }
    }
}

/// The index of the largest value (the last of equal maxima; 0 if empty).
pub fn argmax(values: &[f32]) -> usize {
    (0..values.len()).max_by(|&i, &j| values[i].total_cmp(&values[j])).unwrap_or(0)
}

/// Where a TANDEM discriminator sits in a task's spaces.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TandemLayout {
    /// The grid in the flat observation: offset, height, width, levels.
    pub grid: (usize, usize, usize, usize),
    /// Flat index of the filled action in the env's action.
    pub action_index: usize,
    /// Number of classes.
    pub classes: usize,
    /// The evidence a grid needs to be classified: `(code, cells)`, at
    /// least `cells` cells holding `code`.
    pub evidence: (f32, usize),
    /// Flat index of the action that carries the current guess, if the
    /// task has one (Explore-v2's `guess`, judged at its move limit): `k +
    /// 1` for the most likely class, 0 while the grid holds no evidence.
    #[serde(default)]
    pub guess_index: Option<usize>,
}

impl TandemLayout {
    /// The env's action: the explorer's with the filled value (and the
    /// guess, where the task has one) inserted.
    pub fn env_action(&self, explorer: &[f32], filled: f32, guess: f32, out: &mut [f32]) {
        let mut from = explorer.iter();
        for (i, o) in out.iter_mut().enumerate() {
            *o = if i == self.action_index {
                filled
            } else if Some(i) == self.guess_index {
                guess
            } else {
                from.next().copied().unwrap_or(0.0)
            };
        }
    }

    /// The grid of one flat observation.
    pub fn grid_of<'a>(&self, obs: &'a [f32]) -> &'a [f32] {
        let (offset, h, w, _) = self.grid;
        &obs[offset..offset + h * w]
    }

    /// Whether a flat observation's grid holds enough evidence to classify.
    pub fn has_evidence(&self, obs: &[f32]) -> bool {
        self.grid_has_evidence(self.grid_of(obs))
    }

    /// Whether a grid (`height * width` codes) holds enough evidence to
    /// classify.
    pub fn grid_has_evidence(&self, grid: &[f32]) -> bool {
        let (code, min) = self.evidence;
        min == 0 || grid.iter().filter(|&&v| v == code).take(min).count() >= min
    }
}

/// The values of the filled action from class probabilities (`batch x
/// classes`): `k + 1` where class `k` is the most likely and its
/// probability reaches `threshold`, else 0.
pub fn declare_from(probabilities: &[f32], classes: usize, threshold: f32, out: &mut [f32]) {
    for (o, row) in out.iter_mut().zip(probabilities.chunks(classes)) {
        let k = argmax(row);
        *o = if row[k] >= threshold { (k + 1) as f32 } else { 0.0 };
    }
}

/// The current guesses from class probabilities (`batch x classes`): `k +
/// 1` for the most likely class `k`, 0 where all are equal (a grid without
/// evidence reads uniform).
pub fn guess_from(probabilities: &[f32], classes: usize, out: &mut [f32]) {
    for (o, row) in out.iter_mut().zip(probabilities.chunks(classes)) {
        let k = argmax(row);
        *o = if row.iter().all(|&p| p == row[k]) { 0.0 } else { (k + 1) as f32 };
    }
}

/// The cell `(row, column)` of an `n x n` grid that cell `(r, c)` of the
/// grid turned by `turns` quarter turns about its centre comes from (a
/// quarter turn brings the last column, read top down, to the top row).
pub fn quarter_turn_source(n: usize, turns: u8, r: usize, c: usize) -> (usize, usize) {
    match turns % 4 {
        0 => (r, c),
        1 => (c, n - 1 - r),
        2 => (n - 1 - r, n - 1 - c),
        _ => (n - 1 - c, r),
    }
}

/// Why a discriminator of `height x width` grids (read in polar form or
/// not) cannot average its probabilities over the grid's quarter turns,
/// or `None` where it can: the grid must be square, and a polar reading
/// answers the same for every turn already.
pub fn turn_average_refusal(height: usize, width: usize, polar: bool) -> Option<&'static str> {
    (height != width || polar).then_some("needs a square grid read as it is, not in polar form")
}

/// Writes the `n x n` grid `src` turned by `turns` quarter turns about
/// its centre ([`quarter_turn_source`]) into `dst`, as floats.
pub fn quarter_turns<T: Copy + Into<f32>>(src: &[T], n: usize, turns: u8, dst: &mut [f32]) {
    for r in 0..n {
        for c in 0..n {
            let (sr, sc) = quarter_turn_source(n, turns, r, c);
            dst[r * n + c] = src[sr * n + sc].into();
        }
    }
}

/// Adds `weight * softmax(logits / temperature)` to `out` (a weight of 1
/// on zeros writes the softmax itself, to the last bit).
pub fn add_softmax(logits: &[f32], temperature: f32, weight: f32, out: &mut [f32]) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = logits.iter().map(|&l| ((l - max) / temperature).exp()).sum();
    for (p, &l) in out.iter_mut().zip(logits) {
        *p += weight * (((l - max) / temperature).exp() / sum);
    }
}

/// Observation normalisation in place: each value in `ranges` of each row
/// (rows `mean.len()` long) becomes `(x - mean) / sqrt(var + 1e-8)`,
/// clipped to `+-clip`.
pub fn normalize(mean: &[f64], var: &[f64], clip: f32, ranges: &[Range<usize>], obs: &mut [f32]) {
    let d = mean.len();
    if d == 0 {
        return;
    }
    for row in obs.chunks_mut(d) {
        for r in ranges {
            for i in r.clone() {
                let z = (f64::from(row[i]) - mean[i]) / (var[i] + 1e-8).sqrt();
                row[i] = (z as f32).clamp(-clip, clip);
            }
        }
    }
}

/// Re-centres the grids of a batch of flat observations (`rows`, each
/// `obs_dim` long) on the agent: the grid at `(offset, n, n)` holding
/// integer codes `0..=agent`, the agent's own cell being the one that
/// holds `agent` (Explore-v0's `current` cell), is redrawn so that the
/// agent's cell sits at row and column `n / 2`; cells that come from
/// beyond the grid's edge hold `agent + 1`. `scratch` holds one grid.
pub fn egocentric(rows: &mut [f32], obs_dim: usize, grid: (usize, usize), agent: f32, scratch: &mut [f32]) {
    let (offset, n) = grid;
    for row in rows.chunks_mut(obs_dim) {
        let g = &mut row[offset..offset + n * n];
        let at = g.iter().position(|&v| v == agent).unwrap_or(n / 2 * n + n / 2);
        let (ar, ac) = ((at / n) as isize, (at % n) as isize);
        scratch[..n * n].copy_from_slice(g);
        let half = (n / 2) as isize;
        for r in 0..n as isize {
            for c in 0..n as isize {
                let (sr, sc) = (ar + r - half, ac + c - half);
                let inside = (0..n as isize).contains(&sr) && (0..n as isize).contains(&sc);
                g[(r * n as isize + c) as usize] =
                    if inside { scratch[(sr * n as isize + sc) as usize] } else { agent + 1.0 };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarter_turns_rotate_about_the_centre_and_four_come_back() {
        // 2 x 2: rows (1 2) and (3 4); one quarter turn gives (2 4), (1 3).
        let g = [1u8, 2, 3, 4];
        let mut out = [0.0f32; 4];
        quarter_turns(&g, 2, 1, &mut out);
        assert_eq!(out, [2.0, 4.0, 1.0, 3.0]);
        quarter_turns(&g, 2, 2, &mut out);
        assert_eq!(out, [4.0, 3.0, 2.0, 1.0]);
        let mut g3 = [0u8; 9];
        g3[1] = 5; // (x 1, y 0)
        let mut once = [0.0f32; 9];
        quarter_turns(&g3, 3, 3, &mut once);
        let back: Vec<u8> = once.iter().map(|&v| v as u8).collect();
        let mut again = [0.0f32; 9];
        quarter_turns(&back, 3, 1, &mut again);
        assert_eq!(again.iter().map(|&v| v as u8).collect::<Vec<_>>(), g3.to_vec());
    }

    #[test]
    fn softmaxes_add_up_with_their_weights() {
        // exp of (0, ln 2, 0) is (1, 2, 1).
        let mut p = [0.0f32; 3];
        add_softmax(&[0.0, 2.0f32.ln(), 0.0], 1.0, 1.0, &mut p);
        assert!(p.iter().zip([0.25, 0.5, 0.25]).all(|(a, b)| (a - b).abs() < 1e-6), "{p:?}");
        // At temperature 2, logits (0, 0, 2 ln 2) read as (0, 0, ln 2); the
        // mean of the two softmaxes.
        let mut mean = [0.0f32; 3];
        add_softmax(&[0.0, 2.0f32.ln(), 0.0], 1.0, 0.5, &mut mean);
        add_softmax(&[0.0, 0.0, 2.0 * 2.0f32.ln()], 2.0, 0.5, &mut mean);
        assert!(mean.iter().zip([0.25, 0.375, 0.375]).all(|(a, b)| (a - b).abs() < 1e-6), "{mean:?}");
    }

    #[test]
    fn the_guess_is_the_most_likely_class_and_goes_in_its_own_place() {
        let mut g = [9.0; 2];
        guess_from(&[0.1, 0.7, 0.2, 0.25, 0.25, 0.25, 0.25][..6], 3, &mut g);
        assert_eq!(g, [2.0, 0.0]);
        // move, declare (filled), guess: the explorer writes only the move.
        let layout =
            TandemLayout { grid: (0, 2, 2, 3), action_index: 1, classes: 3, evidence: (2.0, 0), guess_index: Some(2) };
        let mut out = [0.0; 3];
        layout.env_action(&[3.0], 0.0, 2.0, &mut out);
        assert_eq!(out, [3.0, 0.0, 2.0]);
        let without = TandemLayout { guess_index: None, ..layout };
        let mut out = [0.0; 2];
        without.env_action(&[3.0], 1.0, 2.0, &mut out);
        assert_eq!(out, [3.0, 1.0]);
    }

    #[test]
    fn an_egocentric_grid_puts_the_agent_in_the_middle_and_marks_the_outside() {
        // A 4 x 4 grid (after one leading value): the agent (3) at row 0,
        // column 3; a contact (2) at row 1, column 2.
        let mut obs = vec![0.0f32; 17];
        obs[0] = 7.0;
        obs[1 + 3] = 3.0;
        obs[1 + 4 + 2] = 2.0;
        let mut scratch = vec![0.0; 16];
        egocentric(&mut obs, 17, (1, 4), 3.0, &mut scratch);
        let g = &obs[1..];
        assert_eq!(obs[0], 7.0);
        assert_eq!(g[2 * 4 + 2], 3.0, "{g:?}");
        // The contact: one row below and one column left of the agent.
        assert_eq!(g[3 * 4 + 1], 2.0, "{g:?}");
        // Rows above row 0 and columns right of column 3 are outside.
        assert_eq!(&g[0..4], &[4.0; 4]);
        assert_eq!(g[2 * 4 + 3], 4.0);
        assert_eq!(g[2 * 4], 0.0);
    }

    #[test]
    fn layouts_count_their_heads_and_pick_the_last_maximum() {
        let l = ActionLayout::from_heads(vec![Head::Gaussian { dim: 2 }, Head::Categorical { n: 3 }]);
        assert_eq!((l.action_dim, l.output_dim, l.gaussian_dim), (3, 5, 2));
        let mut a = [0.0; 3];
        l.deterministic(&[0.5, -0.25, 1.0, 2.0, 2.0], &mut a);
        assert_eq!(a, [0.5, -0.25, 2.0]);
        let mut d = [9.0; 2];
        declare_from(&[0.01, 0.98, 0.01, 0.5, 0.3, 0.2], 3, 0.98, &mut d);
        assert_eq!(d, [2.0, 0.0]);
    }

    #[test]
    fn normalisation_touches_only_its_ranges_and_clips() {
        let mut obs = [3.0f32, 3.0, 100.0];
        let ranges = [1..3, 3..3];
        normalize(&[1.0, 1.0, 0.0], &[4.0, 4.0, 1.0], 5.0, &ranges, &mut obs);
        assert_eq!(obs[0], 3.0);
        assert!((obs[1] - 1.0).abs() < 1e-6);
        assert_eq!(obs[2], 5.0);
    }
}
