//! How observations enter a network: the [`ObsLayout`] of a space (which
//! flat dimensions are vectors, which are 2-D grids), and the small CNN
//! that encodes grids (occupancy grids, taxel images).
//!
//! A grid whose cells hold small integer codes (a Box with low 0 and the
//! same integer high `L <= 8` everywhere, like Explore-v0's occupancy grid)
//! is one-hot encoded into `L` channels, code 0 being all zeros; any other
//! grid enters as one channel of raw values. Vector dimensions are the ones
//! that observation normalisation applies to; grids are never normalised.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Int, Tensor, TensorData};
use rand::rngs::StdRng;
use tactile_env::Space;
pub use tactile_policy::{CnnConfig, ObsLayout, ObsPart, PolarView, egocentric};

use crate::init::orthogonal_linear;

/// The layout of an observation space. Without `grids`, every dimension
/// is a vector dimension; with it, each 2-D Box (of a Dict or alone) at
/// least 4 x 4 becomes a grid.
pub fn obs_layout(space: &Space, grids: bool) -> ObsLayout {
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

/// The vector dimensions of a batch `[batch, obs_dim]`, side by side
/// (`None` when there are none).
pub fn vectors(layout: &ObsLayout, obs: &Tensor<2>) -> Option<Tensor<2>> {
    let batch = obs.dims()[0];
    let pieces: Vec<Tensor<2>> = layout.vector_ranges().into_iter().map(|r| obs.clone().slice([0..batch, r])).collect();
    (!pieces.is_empty()).then(|| Tensor::cat(pieces, 1))
}

/// A CNN over one grid, or over its polar picture ([`PolarView`]: the
/// convolutions then wrap around the angle and the features are the
/// maximum over the angles).
#[derive(Module, Debug)]
pub struct CnnEncoder {
    convs: Vec<Conv2d>,
    linear: Linear,
    #[module(skip)]
    grid: (usize, usize, usize, usize),
    #[module(skip)]
    polar: bool,
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
        Self::with_view(grid, config, None, rng, device)
    }

    /// An encoder that reads the grid through a polar view (or as it is,
    /// with `None`); its input is then [`CnnEncoder::forward_picture`]'s.
    pub fn with_view(
        grid: (usize, usize, usize, usize),
        config: &CnnConfig,
        polar: Option<PolarView>,
        rng: &mut StdRng,
        device: &Device,
    ) -> Result<Self, &'static str> {
        let (_, height, width, levels) = grid;
        let flat = match polar {
            Some(view) => {
                view.check(height, width)?;
                view.output_size(config)?.1
            }
            None => {
                let (h, w) = config.output_size(height, width)?;
                h * w
            }
        };
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
        let linear = orthogonal_linear(c_in * flat, config.features, std::f32::consts::SQRT_2, rng, device);
        Ok(CnnEncoder { convs, linear, grid, polar: polar.is_some() })
    }

    /// The grid it reads: `(offset, height, width, levels)`.
    pub fn grid(&self) -> (usize, usize, usize, usize) {
        self.grid
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
        one_hot(grid, levels, 1)
    }

    /// Features `[batch, features]` of a batch of flat observations (an
    /// encoder without a polar view).
    ///
    /// A first convolution whose stride is its kernel (a patch stem, as
    /// the default's) runs as one matrix product over the grid's patches,
    /// each read from the codes and one-hot encoded ([`tiled_patches`]):
    /// the same function with the same weights as burn's `Conv2d` (a unit
    /// test compares them), but cheaper on burn's CPU backend, whose direct
    /// convolution walks a strided kernel cell by cell; and the one-hot
    /// image is never made. The convolutions after it run as products too, over patches
    /// gathered by index ([`gathered_patches`]).
    pub fn forward(&self, obs: &Tensor<2>) -> Tensor<2> {
        let tiling = |c: &&Conv2d| c.stride == c.kernel_size && c.kernel_size[0] == c.kernel_size[1];
        let Some(stem) = self.convs.first().filter(tiling).filter(|_| !self.polar) else {
            return self.forward_picture(self.image(obs));
        };
        let (offset, height, width, levels) = self.grid;
        let k = stem.kernel_size[0];
        let x = if levels > 0 {
            one_hot_patches(obs, self.grid, k)
        } else {
            let batch = obs.dims()[0];
            let grid = obs.clone().slice([0..batch, offset..offset + height * width]);
            tiled_patches(grid.reshape([batch, height, width, 1]), k)
        };
        let mut x = relu(conv_as_matmul(x, stem));
        // The later convolutions as products over their gathered patches,
        // the images kept channels-last throughout.
        for conv in &self.convs[1..] {
            let (k, s) = (conv.kernel_size[0], conv.stride[0]);
            x = relu(conv_as_matmul(gathered_patches(x, k, s), conv));
        }
        relu(self.linear.forward(x.permute([0, 3, 1, 2]).flatten(1, 3)))
    }

    /// Features `[batch, features]` of pictures `[batch, channels, h, w]`:
    /// [`CnnEncoder::image`]'s, or polar pictures `[batch, channels,
    /// angles, rings]` ([`PolarView::picture`]) for a polar encoder.
    pub fn forward_picture(&self, mut x: Tensor<4>) -> Tensor<2> {
        for conv in &self.convs {
            if self.polar {
                let p = conv.weight.dims()[2] / 2;
                x = wrap_rows(x, p);
            }
            x = relu(conv.forward(x));
        }
        if self.polar {
            x = x.max_dim(2);
        }
        relu(self.linear.forward(x.flatten(1, 3)))
    }
}

/// Codes `1..=levels` of `x` as one-hot blocks side by side along `dim`
/// (block `k - 1` marks the cells holding code `k`; code 0 is all zeros).
fn one_hot(x: Tensor<4>, levels: usize, dim: usize) -> Tensor<4> {
    Tensor::cat((1..=levels).map(|k| x.clone().equal_elem(k as f32).float()).collect(), dim)
}

/// [`tiled_patches`] of the one-hot codes grid of a batch of flat
/// observations, made on the host in one pass over the codes: the same
/// values as [`one_hot`] of the tiles, without the tensor ops' bool and
/// float images of the whole grid, their concatenation and the copies of
/// the tiling.
fn one_hot_patches(obs: &Tensor<2>, grid: (usize, usize, usize, usize), k: usize) -> Tensor<4> {
    let (offset, height, width, levels) = grid;
    let [batch, dim] = obs.dims();
    let values = obs.clone().into_data().convert::<f32>().try_into_vec::<f32>().unwrap_or_default();
    let (rows, cols) = (height / k, width / k);
    let patch = levels * k * k;
    let mut patches = vec![0.0f32; batch * rows * cols * patch];
    for (row, out) in values.chunks_exact(dim).zip(patches.chunks_exact_mut(rows * cols * patch)) {
        let codes = &row[offset..offset + height * width];
        // The default stem's 4 x 4 made known to the compiler, which then
        // turns each line of a tile into one vector compare.
        match k {
            4 => fill_one_hot_tiles(codes, width, cols, levels, 4, out),
            _ => fill_one_hot_tiles(codes, width, cols, levels, k, out),
        }
    }
    Tensor::from_data(TensorData::new(patches, [batch, rows, cols, patch]), &obs.device())
}

/// One grid's one-hot tiles into `out` (tile after tile, row-major; each
/// its `levels` blocks of `k x k`, code `1` first), from its `codes`.
#[inline(always)]
fn fill_one_hot_tiles(codes: &[f32], width: usize, cols: usize, levels: usize, k: usize, out: &mut [f32]) {
    for (t, tile) in out.chunks_exact_mut(levels * k * k).enumerate() {
        let (r, c) = (t / cols, t % cols);
        for (l, block) in tile.chunks_exact_mut(k * k).enumerate() {
            let level = (l + 1) as f32;
            for (dy, line_out) in block.chunks_exact_mut(k).enumerate() {
                let line = &codes[(r * k + dy) * width + c * k..][..k];
                for (o, &code) in line_out.iter_mut().zip(line) {
                    *o = if code == level { 1.0 } else { 0.0 };
                }
            }
        }
    }
}

/// The `k x k` patches that tile `x` `[batch, height, width, channels]`
/// (stride `k`, cells past the last whole patch dropped, as a valid
/// convolution does): `[batch, rows, columns, channels * k * k]`,
/// channel-major then row-major in the patch, as a `Conv2d` weight
/// `[out, channels, k, k]` is laid out.
fn tiled_patches(x: Tensor<4>, k: usize) -> Tensor<4> {
    let [batch, height, width, channels] = x.dims();
    let (rows, cols) = (height / k, width / k);
    x.slice([0..batch, 0..rows * k, 0..cols * k, 0..channels])
        .reshape([batch, rows, k, cols, k * channels])
        .swap_dims(2, 3)
        .reshape([batch, rows, cols, k, k, channels])
        .permute([0, 1, 2, 5, 3, 4])
        .reshape([batch, rows, cols, channels * k * k])
}

/// The `k x k` patches of a valid convolution of stride `s` over `x`
/// `[batch, height, width, channels]`, gathered by one `select`:
/// `[batch, rows, columns, channels * k * k]`, laid out as in
/// [`tiled_patches`]. With [`conv_as_matmul`] it replaces burn's direct
/// convolution, which is slow on the CPU backend.
fn gathered_patches(x: Tensor<4>, k: usize, s: usize) -> Tensor<4> {
    let [batch, height, width, channels] = x.dims();
    let (rows, cols) = ((height - k) / s + 1, (width - k) / s + 1);
    let size = channels * k * k;
    let mut index = Vec::with_capacity(rows * cols * size);
    for r in 0..rows {
        for c in 0..cols {
            for ch in 0..channels {
                for dy in 0..k {
                    for dx in 0..k {
                        index.push((((r * s + dy) * width + c * s + dx) * channels + ch) as i64);
                    }
                }
            }
        }
    }
    let index = Tensor::<1, Int>::from_data(TensorData::new(index, [rows * cols * size]), &x.device());
    x.reshape([batch, height * width * channels]).select(1, index).reshape([batch, rows, cols, size])
}

/// A convolution's output `[batch, rows, columns, out]` from its input's
/// patches: one product with the weight as a `[channels * k * k, out]`
/// matrix, plus the bias.
fn conv_as_matmul(patches: Tensor<4>, conv: &Conv2d) -> Tensor<4> {
    let [batch, rows, cols, size] = patches.dims();
    let out = conv.weight.dims()[0];
    let weight = conv.weight.val().reshape([out, size]).transpose();
    let mut y = patches.reshape([batch * rows * cols, size]).matmul(weight);
    if let Some(bias) = &conv.bias {
        y = y + bias.val().reshape([1, out]);
    }
    y.reshape([batch, rows, cols, out])
}

/// `p` rows from each end of `[batch, channels, rows, columns]` copied
/// around to the other end (circular padding of the rows).
fn wrap_rows(x: Tensor<4>, p: usize) -> Tensor<4> {
    if p == 0 {
        return x;
    }
    let [b, c, rows, cols] = x.dims();
    let before = x.clone().slice([0..b, 0..c, rows - p..rows, 0..cols]);
    let after = x.clone().slice([0..b, 0..c, 0..p, 0..cols]);
    Tensor::cat(vec![before, x, after], 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use rand::{Rng, SeedableRng};

    fn explore_like() -> Space {
        Space::Dict(vec![
            ("grid".into(), Space::uniform_box(0.0, 3.0, &[6, 5])),
            ("taxels".into(), Space::uniform_box(f32::NEG_INFINITY, f32::INFINITY, &[4])),
            ("k".into(), Space::Discrete { n: 3 }),
        ])
    }

    #[test]
    fn grids_are_found_only_when_asked_and_codes_are_recognised() {
        let flat = obs_layout(&explore_like(), false);
        assert_eq!(flat.parts, vec![ObsPart::Vector { offset: 0, dim: 35 }]);
        let layout = obs_layout(&explore_like(), true);
        assert_eq!(
            layout.parts,
            vec![ObsPart::Grid { offset: 0, height: 6, width: 5, levels: 3 }, ObsPart::Vector { offset: 30, dim: 5 }]
        );
        assert_eq!(layout.vector_ranges(), vec![30..35]);
        // A grid of forces is one raw channel.
        let forces = obs_layout(&Space::uniform_box(0.0, 2.5, &[8, 8]), true);
        assert_eq!(forces.parts, vec![ObsPart::Grid { offset: 0, height: 8, width: 8, levels: 0 }]);
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

    /// The encoder of `config` on `grid` and `batch` observations of
    /// `grid`'s codes (or raw values) after a leading scalar, on `device`.
    fn encoder_and_obs(
        grid: (usize, usize, usize, usize),
        config: &CnnConfig,
        batch: usize,
        device: &Device,
    ) -> (CnnEncoder, Tensor<2>) {
        let mut rng = StdRng::seed_from_u64(3);
        let mut enc = CnnEncoder::new(grid, config, &mut rng, device).unwrap();
        // Conv2d draws its initial weights from burn's unseeded RNG; these
        // come from `rng`, so that the test is the same on every run (the
        // biases positive, so that the ReLUs pass something).
        for conv in &mut enc.convs {
            let dims = conv.weight.dims();
            let w: Vec<f32> = (0..dims.iter().product()).map(|_| rng.random_range(-0.5..0.5)).collect();
            conv.weight = Param::from_tensor(Tensor::from_data(TensorData::new(w, dims), device));
            let out = dims[0];
            let b: Vec<f32> = (0..out).map(|_| rng.random_range(0.05..0.2)).collect();
            conv.bias = Some(Param::from_tensor(Tensor::from_data(TensorData::new(b, [out]), device)));
        }
        let (offset, h, w, levels) = grid;
        let dim = offset + h * w + 1;
        let values: Vec<f32> = (0..batch * dim)
            .map(|i| {
                if levels > 0 {
                    // now and then a value that is no code at all
                    match i % 23 {
                        4 => 1.5,
                        9 => -1.0,
                        13 => (levels + 2) as f32,
                        17 => f32::NAN,
                        _ => ((i * 7 + i / 5) % (levels + 1)) as f32,
                    }
                } else {
                    ((i * 37) % 11) as f32 * 0.3 - 1.0
                }
            })
            .collect();
        (enc, Tensor::from_data(TensorData::new(values, [batch, dim]), device))
    }

    /// The largest difference between two tensors' values.
    fn max_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
        let (a, b) = (a.into_data().try_to_vec::<f32>().unwrap(), b.into_data().try_to_vec::<f32>().unwrap());
        assert_eq!(a.len(), b.len());
        assert!(a.iter().any(|&x| x != 0.0), "an all-zero output compares nothing");
        a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
    }

    #[test]
    fn a_tiling_stem_computes_what_the_convolution_does_with_the_same_gradients() {
        let device = Device::flex().autodiff();
        // Codes on a grid the 3 x 3 tiles do not cover (14 x 13), then a
        // raw grid with 2 x 2 tiles; each followed by an ordinary conv.
        let cases = [
            ((1, 14, 13, 3), CnnConfig { channels: vec![4, 5], kernels: vec![3, 2], strides: vec![3, 1], features: 6 }),
            ((1, 8, 6, 0), CnnConfig { channels: vec![3, 2], kernels: vec![2, 2], strides: vec![2, 2], features: 4 }),
            // and the default's 4 x 4 tiles, on 2 codes
            ((2, 10, 9, 2), CnnConfig { channels: vec![3, 2], kernels: vec![4, 1], strides: vec![4, 1], features: 5 }),
        ];
        for (grid, config) in cases {
            let (enc, obs) = encoder_and_obs(grid, &config, 5, &device);
            let tiled = enc.forward(&obs);
            let direct = enc.forward_picture(enc.image(&obs));
            assert!(max_diff(tiled.clone(), direct.clone()) < 1e-5, "{config:?}");
            let g_tiled = tiled.powf_scalar(2.0).sum().backward();
            let g_direct = direct.powf_scalar(2.0).sum().backward();
            for conv in &enc.convs {
                let (a, b) = (conv.weight.val().grad(&g_tiled).unwrap(), conv.weight.val().grad(&g_direct).unwrap());
                assert!(max_diff(a, b) < 1e-4, "{config:?}");
            }
        }
    }
}
