//! How observations enter a network: the [`ObsLayout`] of a space (which
//! flat dimensions are vectors, which are 2-D grids), and the small CNN
//! that encodes grids (occupancy grids, taxel images).
//!
//! A grid whose cells hold small integer codes (a Box with low 0 and the
//! same integer high `L <= 8` everywhere, like Explore-v0's occupancy grid)
//! is one-hot encoded into `L` channels, code 0 being all zeros; any other
//! grid enters as one channel of raw values. Vector dimensions are the ones
//! that observation normalisation applies to; grids are never normalised.

use std::ops::Range;

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use tactile_env::Space;

use crate::policy::orthogonal_linear;

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
    /// The layout of an observation space. Without `grids`, every
    /// dimension is a vector dimension; with it, each 2-D Box (of a Dict or
    /// alone) at least 4 x 4 becomes a grid.
    pub fn of(space: &Space, grids: bool) -> Self {
        fn walk(space: &Space, grids: bool, at: &mut usize, parts: &mut Vec<ObsPart>) {
            match space {
                Space::Box { low, high, shape } if grids && shape.len() == 2 && shape[0] >= 4 && shape[1] >= 4 => {
                    let top = high.first().copied().unwrap_or(0.0);
                    let codes = top.fract() == 0.0
                        && (1.0..=8.0).contains(&top)
                        && low.iter().all(|&l| l == 0.0)
                        && high.iter().all(|&h| h == top);
                    parts.push(ObsPart::Grid {
                        offset: *at,
                        height: shape[0],
                        width: shape[1],
                        levels: if codes { top as usize } else { 0 },
                    });
                    *at += low.len();
                }
                Space::Dict(entries) => entries.iter().for_each(|(_, s)| walk(s, grids, at, parts)),
                other => {
                    let dim = other.flat_dim();
                    match parts.last_mut() {
                        Some(ObsPart::Vector { offset, dim: d }) if *offset + *d == *at => *d += dim,
                        _ => parts.push(ObsPart::Vector { offset: *at, dim }),
                    }
                    *at += dim;
                }
            }
        }
        let (mut at, mut parts) = (0, Vec::new());
        walk(space, grids, &mut at, &mut parts);
        ObsLayout { parts, obs_dim: at }
    }

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

    /// The vector dimensions of a batch `[batch, obs_dim]`, side by side
    /// (`None` when there are none).
    pub fn vectors(&self, obs: &Tensor<2>) -> Option<Tensor<2>> {
        let batch = obs.dims()[0];
        let pieces: Vec<Tensor<2>> =
            self.vector_ranges().into_iter().map(|r| obs.clone().slice([0..batch, r])).collect();
        (!pieces.is_empty()).then(|| Tensor::cat(pieces, 1))
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
        if self.channels.is_empty()
            || self.channels.len() != self.kernels.len()
            || self.channels.len() != self.strides.len()
        {
            return Err("needs as many kernels and strides as channels, at least one");
        }
        if self.features == 0 || self.channels.contains(&0) || self.kernels.contains(&0) || self.strides.contains(&0) {
            return Err("sizes must be at least 1");
        }
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
}

/// A CNN over one grid.
#[derive(Module, Debug)]
pub struct CnnEncoder {
    convs: Vec<Conv2d>,
    linear: Linear,
    #[module(skip)]
    grid: (usize, usize, usize, usize),
}

impl CnnEncoder {
    /// An encoder for the grid `(offset, height, width, levels)`; the
    /// linear layer is orthogonal with gain sqrt 2 (drawn from `rng`), the
    /// convolutions keep burn's default initialisation.
    pub fn new(
        grid: (usize, usize, usize, usize),
        config: &CnnConfig,
        rng: &mut StdRng,
        device: &Device,
    ) -> Result<Self, &'static str> {
        let (_, height, width, levels) = grid;
        let (h, w) = config.output_size(height, width)?;
        let mut convs = Vec::new();
        let mut c_in = levels.max(1);
        for ((&c, &k), &s) in config.channels.iter().zip(&config.kernels).zip(&config.strides) {
            convs.push(
                Conv2dConfig::new([c_in, c], [k, k])
                    .with_stride([s, s])
                    .with_padding(PaddingConfig2d::Valid)
                    .init(device),
            );
            c_in = c;
        }
        let linear = orthogonal_linear(c_in * h * w, config.features, std::f32::consts::SQRT_2, rng, device);
        Ok(CnnEncoder { convs, linear, grid })
    }

    /// The grid of a batch of flat observations as `[batch, channels, h, w]`.
    pub fn image(&self, obs: &Tensor<2>) -> Tensor<4> {
        let (offset, height, width, levels) = self.grid;
        let batch = obs.dims()[0];
        let flat = obs.clone().slice([0..batch, offset..offset + height * width]);
        let grid = flat.reshape([batch, 1, height, width]);
        if levels == 0 {
            return grid;
        }
        let channels: Vec<Tensor<4>> = (1..=levels).map(|k| grid.clone().equal_elem(k as f32).float()).collect();
        Tensor::cat(channels, 1)
    }

    /// Features `[batch, features]` of a batch of flat observations.
    pub fn forward(&self, obs: &Tensor<2>) -> Tensor<2> {
        let mut x = self.image(obs);
        for conv in &self.convs {
            x = relu(conv.forward(x));
        }
        relu(self.linear.forward(x.flatten(1, 3)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;
    use rand::SeedableRng;

    fn explore_like() -> Space {
        Space::Dict(vec![
            ("grid".into(), Space::uniform_box(0.0, 3.0, &[6, 5])),
            ("taxels".into(), Space::uniform_box(f32::NEG_INFINITY, f32::INFINITY, &[4])),
            ("k".into(), Space::Discrete { n: 3 }),
        ])
    }

    #[test]
    fn grids_are_found_only_when_asked_and_codes_are_recognised() {
        let flat = ObsLayout::of(&explore_like(), false);
        assert_eq!(flat.parts, vec![ObsPart::Vector { offset: 0, dim: 35 }]);
        let layout = ObsLayout::of(&explore_like(), true);
        assert_eq!(
            layout.parts,
            vec![ObsPart::Grid { offset: 0, height: 6, width: 5, levels: 3 }, ObsPart::Vector { offset: 30, dim: 5 }]
        );
        assert_eq!(layout.vector_ranges(), vec![30..35]);
        // A grid of forces is one raw channel.
        let forces = ObsLayout::of(&Space::uniform_box(0.0, 2.5, &[8, 8]), true);
        assert_eq!(forces.parts, vec![ObsPart::Grid { offset: 0, height: 8, width: 8, levels: 0 }]);
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
    fn codes_become_one_hot_channels_and_the_output_size_is_derived() {
        let device = Device::flex();
        let config = CnnConfig { channels: vec![2], kernels: vec![2], strides: vec![2], features: 3 };
        assert_eq!(config.output_size(6, 5), Ok((3, 2)));
        assert!(CnnConfig { kernels: vec![7], ..config.clone() }.output_size(6, 5).is_err());
        let mut rng = StdRng::seed_from_u64(0);
        let wide = CnnConfig { kernels: vec![3], ..config.clone() };
        let enc = CnnEncoder::new((1, 2, 2, 3), &wide, &mut rng, &device).unwrap_err();
        assert_eq!(enc, "the kernels do not fit the grid");
        let enc = CnnEncoder::new((1, 2, 3, 3), &CnnConfig { kernels: vec![1], ..config }, &mut rng, &device).unwrap();
        // One observation: a leading scalar, then the 2 x 3 grid of codes.
        let obs = Tensor::<2>::from_data(TensorData::new(vec![9.0f32, 0., 1., 2., 3., 1., 0.], [1, 7]), &device);
        let image = enc.image(&obs);
        assert_eq!(image.dims(), [1, 3, 2, 3]);
        let v = image.into_data().try_to_vec::<f32>().unwrap();
        // Channel k marks the cells holding code k + 1.
        assert_eq!(&v[0..6], &[0., 1., 0., 0., 1., 0.]);
        assert_eq!(&v[6..12], &[0., 0., 1., 0., 0., 0.]);
        assert_eq!(&v[12..18], &[0., 0., 0., 1., 0., 0.]);
        assert_eq!(enc.forward(&obs).dims(), [1, 3]);
    }
}
