//! Running mean and variance (parallel Welford, as Gymnasium's `RunningMeanStd`).

/// Per-element running mean and variance of a stream of vectors.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunningMeanStd {
    /// Mean per element.
    pub mean: Vec<f64>,
    /// Variance per element.
    pub var: Vec<f64>,
    /// Number of vectors seen (starts at a tiny epsilon, as Gymnasium's).
    pub count: f64,
}

impl RunningMeanStd {
    /// Statistics over vectors of `dim` elements: mean 0, variance 1.
    pub fn new(dim: usize) -> Self {
        RunningMeanStd { mean: vec![0.0; dim], var: vec![1.0; dim], count: 1e-4 }
    }

    /// Folds one vector in.
    pub fn update(&mut self, x: &[f32]) {
        let total = self.count + 1.0;
        for ((mean, var), &xi) in self.mean.iter_mut().zip(self.var.iter_mut()).zip(x) {
            let delta = f64::from(xi) - *mean;
            let m2 = *var * self.count + delta * delta * self.count / total;
            *mean += delta / total;
            *var = m2 / total;
        }
        self.count = total;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_batch_mean_and_variance() {
        let xs = [[1.0f32, 10.0], [2.0, 20.0], [4.0, 40.0], [7.0, 70.0]];
        let mut s = RunningMeanStd::new(2);
        for x in &xs {
            s.update(x);
        }
        // mean 3.5, population variance 5.25 (x10 and x100 for the second).
        assert!((s.mean[0] - 3.5).abs() < 1e-3 && (s.var[0] - 5.25).abs() < 1e-2, "{s:?}");
        assert!((s.mean[1] - 35.0).abs() < 1e-2 && (s.var[1] - 525.0).abs() < 1.0, "{s:?}");
    }
}
