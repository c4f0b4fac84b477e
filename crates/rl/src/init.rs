//! Orthogonal initialisation (Saxe et al., 2014), as CleanRL's PPO uses
//! it: weights drawn from the learner's seeded RNG, biases zero.

use burn::module::Param;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::{Device, Tensor, TensorData};
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

/// A `[input, output]` linear layer with an orthogonal weight of `gain`
/// (drawn from `rng`: Gram-Schmidt on a Gaussian matrix) and a zero bias.
pub fn orthogonal_linear(input: usize, output: usize, gain: f32, rng: &mut StdRng, device: &Device) -> Linear {
    let mut linear = LinearConfig::new(input, output).with_initializer(Initializer::Zeros).init(device);
    let w = orthogonal(input, output, gain, rng);
    linear.weight = Param::from_tensor(Tensor::from_data(TensorData::new(w, [input, output]), device));
    linear
}

/// A `rows x cols` matrix (row-major) whose rows (if rows <= cols) or
/// columns are orthonormal, times `gain`.
pub fn orthogonal(rows: usize, cols: usize, gain: f32, rng: &mut StdRng) -> Vec<f32> {
    // Orthonormalise the shorter side's vectors (Gram-Schmidt in f64).
    let (n, m, transpose) = if rows <= cols { (rows, cols, false) } else { (cols, rows, true) };
    let mut vs: Vec<Vec<f64>> = Vec::with_capacity(n);
    while vs.len() < n {
        let mut v: Vec<f64> = (0..m).map(|_| StandardNormal.sample(rng)).collect();
        for u in &vs {
            let d: f64 = v.iter().zip(u).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(u).for_each(|(a, b)| *a -= d * b);
        }
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if norm > 1e-6 {
            v.iter_mut().for_each(|a| *a /= norm);
            vs.push(v);
        }
    }
    let mut w = vec![0.0f32; rows * cols];
    for (i, v) in vs.iter().enumerate() {
        for (j, x) in v.iter().enumerate() {
            let (r, c) = if transpose { (j, i) } else { (i, j) };
            w[r * cols + c] = (*x as f32) * gain;
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn orthogonal_rows_are_orthonormal_times_the_gain() {
        let mut rng = StdRng::seed_from_u64(3);
        let (r, c) = (4, 7);
        let w = orthogonal(r, c, 2.0, &mut rng);
        for i in 0..r {
            for j in 0..r {
                let dot: f32 = (0..c).map(|k| w[i * c + k] * w[j * c + k]).sum();
                let expected = if i == j { 4.0 } else { 0.0 };
                assert!((dot - expected).abs() < 1e-4, "({i}, {j}): {dot}");
            }
        }
    }
}
