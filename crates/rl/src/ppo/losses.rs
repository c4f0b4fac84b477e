//! PPO's maths for one minibatch: the clipped surrogate and value losses,
//! and one gradient-norm clip over all parameters together.

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

/// PPO's losses for one minibatch: `(policy, value, entropy, approx_kl,
/// clipfrac)` as tensors of one element; the first three differentiable.
#[allow(clippy::too_many_arguments)]
pub fn ppo_losses(
    new_logp: Tensor<1>,
    entropy: Tensor<1>,
    new_values: Tensor<1>,
    old_logp: Tensor<1>,
    old_values: Tensor<1>,
    advantages: Tensor<1>,
    returns: Tensor<1>,
    clip_coef: f32,
    clip_vloss: bool,
) -> [Tensor<1>; 5] {
    let log_ratio = new_logp - old_logp;
    let ratio = log_ratio.clone().exp();
    let pg1 = -advantages.clone() * ratio.clone();
    let pg2 = -advantages * ratio.clone().clamp(1.0 - clip_coef, 1.0 + clip_coef);
    let policy = pg1.max_pair(pg2).mean();
    let unclipped = (new_values.clone() - returns.clone()).powi_scalar(2);
    let value = if clip_vloss {
        let clipped = old_values.clone() + (new_values - old_values).clamp(-clip_coef, clip_coef);
        unclipped.max_pair((clipped - returns).powi_scalar(2)).mean().mul_scalar(0.5)
    } else {
        unclipped.mean().mul_scalar(0.5)
    };
    let approx_kl = ((ratio.clone() - 1.0) - log_ratio).mean().detach();
    let clipfrac = (ratio - 1.0).abs().greater_elem(clip_coef).float().mean().detach();
    [policy, value, entropy.mean(), approx_kl, clipfrac]
}

/// Sums the squares of every float gradient of a module.
struct GradNorm<'a> {
    grads: &'a GradientsParams,
    sum: Option<Tensor<1>>,
    ids: Vec<(ParamId, usize)>,
}

impl ModuleVisitor for GradNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            let s = g.powi_scalar(2).sum();
            self.sum = Some(match self.sum.take() {
                Some(acc) => acc + s,
                None => s,
            });
            self.ids.push((param.id, D));
        }
    }
}

/// Scales all gradients together so that their global L2 norm is at most
/// `max_norm` (burn's own clipping works per parameter). Returns the norm.
pub fn clip_global_grad_norm<M: Module>(module: &M, grads: &mut GradientsParams, max_norm: f32) -> f32 {
    let mut v = GradNorm { grads, sum: None, ids: Vec::new() };
    module.visit(&mut v);
    let Some(sum) = v.sum else { return 0.0 };
    let ids = v.ids;
    let norm = sum.into_scalar::<f32>().sqrt();
    if norm > max_norm && norm.is_finite() {
        let scale = max_norm / (norm + 1e-6);
        for (id, d) in ids {
            match d {
                1 => scale_grad::<1>(grads, id, scale),
                2 => scale_grad::<2>(grads, id, scale),
                3 => scale_grad::<3>(grads, id, scale),
                4 => scale_grad::<4>(grads, id, scale),
                _ => {}
            }
        }
    }
    norm
}

fn scale_grad<const D: usize>(grads: &mut GradientsParams, id: ParamId, scale: f32) {
    if let Some(g) = grads.remove::<D>(id) {
        grads.register::<D>(id, g.mul_scalar(scale));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::{ActionLayout, ActorCritic, Head};
    use burn::tensor::{Device, TensorData};
    use tactile_env::Space;

    fn t1(x: &[f32]) -> Tensor<1> {
        Tensor::from_data(TensorData::new(x.to_vec(), [x.len()]), &Device::flex())
    }

    fn scalar(t: Tensor<1>) -> f32 {
        t.into_scalar::<f32>()
    }

    #[test]
    fn ppo_losses_match_a_hand_computed_minibatch() {
        // Two samples. log ratios 0.5 and -0.5 (ratios e^0.5 = 1.6487, e^-0.5 = 0.6065),
        // advantages +1 and +2, clip 0.2:
        //   sample 0: max(-1 * 1.6487, -1 * 1.2) = -1.2
        //   sample 1: max(-2 * 0.6065, -2 * 0.8) = -1.2131
        //   policy loss = mean = -1.20653
        let [pl, vl, ent, kl, cf] = ppo_losses(
            t1(&[0.5, -0.5]),
            t1(&[1.0, 3.0]),
            t1(&[1.0, 0.0]),
            t1(&[0.0, 0.0]),
            t1(&[0.5, 0.5]),
            t1(&[1.0, 2.0]),
            t1(&[2.0, 0.0]),
            0.2,
            true,
        );
        assert!((scalar(pl) + 1.206_53).abs() < 1e-4);
        // Values: new 1.0 vs return 2.0 (clipped 0.7: max(1, 1.69) = 1.69);
        // new 0.0 vs return 0.0 (clipped 0.3: max(0, 0.09) = 0.09);
        // 0.5 * mean = 0.445.
        assert!((scalar(vl) - 0.445).abs() < 1e-5);
        assert!((scalar(ent) - 2.0).abs() < 1e-6);
        // approx_kl = mean((r - 1) - log r) = ((0.6487 - 0.5) + (-0.3935 + 0.5)) / 2.
        assert!((scalar(kl) - 0.127_6).abs() < 1e-3);
        assert_eq!(scalar(cf), 1.0);
    }

    #[test]
    fn the_global_gradient_norm_is_clipped_as_one_vector() {
        let device = Device::flex().autodiff();
        let layout =
            ActionLayout { heads: vec![Head::Gaussian { dim: 2 }], action_dim: 2, output_dim: 2, gaussian_dim: 2 };
        let obs = crate::encoder::obs_layout(&Space::uniform_box(-1.0, 1.0, &[3]), false);
        let model = ActorCritic::new(&obs, &layout, &[4], None, 0.0, 0, 0, &device).unwrap();
        let obs = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, -2.0, 3.0], [1, 3]), &device);
        let (out, v) = model.forward(obs, None);
        let loss = out.sum().mul_scalar(100.0) + v.sum().mul_scalar(100.0);
        let mut grads = GradientsParams::from_grads(loss.backward(), &model);
        let before = clip_global_grad_norm(&model, &mut grads, 1.0);
        assert!(before > 1.0, "{before}");
        // After clipping, the norm over all parameters is 1.
        let after = clip_global_grad_norm(&model, &mut grads, f32::INFINITY);
        assert!((after - 1.0).abs() < 1e-3, "{after}");
    }
}
