//! The actor-critic network and its action distributions.
//!
//! An action space is laid out as a list of heads: a Box becomes one
//! Gaussian head (a mean per dimension, a state-independent log-std per
//! dimension), a Discrete one categorical head, a MultiDiscrete one
//! categorical head per component, a Dict the heads of its entries in
//! order. The actor's output row holds the means and logits of all heads
//! side by side.

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::nn::Linear;
use burn::tensor::activation::{log_softmax, sigmoid};
use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};
use tactile_env::Space;

use crate::RlError;
use crate::encoder::{CnnConfig, CnnEncoder, ObsLayout, vectors};
use crate::init::orthogonal_linear;
pub use tactile_policy::{ActionLayout, Head};

/// The layout of an action space: a Box is one Gaussian head, a Discrete
/// one categorical head, a MultiDiscrete one categorical head per
/// component, a Dict the heads of its entries in order.
pub fn action_layout(space: &Space) -> ActionLayout {
    fn walk(space: &Space, heads: &mut Vec<Head>) {
        match space {
            Space::Box { low, .. } => heads.push(Head::Gaussian { dim: low.len() }),
            Space::Discrete { n } => heads.push(Head::Categorical { n: *n as usize }),
            Space::MultiDiscrete { nvec } => heads.extend(nvec.iter().map(|&n| Head::Categorical { n: n as usize })),
            Space::Dict(entries) => entries.iter().for_each(|(_, s)| walk(s, heads)),
        }
    }
    let mut heads = Vec::new();
    walk(space, &mut heads);
    ActionLayout::from_heads(heads)
}

/// A multilayer perceptron with tanh activations.
#[derive(Module, Debug)]
pub struct Mlp {
    layers: Vec<Linear>,
}

impl Mlp {
    /// Hidden layers of the given widths after `input` features, each
    /// followed by tanh, orthogonally initialised with gain sqrt(2).
    pub fn new(input: usize, hidden: &[usize], rng: &mut StdRng, device: &Device) -> Self {
        let mut layers = Vec::new();
        let mut d = input;
        for &h in hidden {
            layers.push(orthogonal_linear(d, h, std::f32::consts::SQRT_2, rng, device));
            d = h;
        }
        Mlp { layers }
    }

    /// The forward pass.
    pub fn forward(&self, mut x: Tensor<2>) -> Tensor<2> {
        for l in &self.layers {
            x = tanh(l.forward(x));
        }
        x
    }
}

/// tanh, computed as `2 sigmoid(2x) - 1`: the same function to about 1e-7
/// (absolute), and on burn's CPU backend several times cheaper (its tanh
/// is the C library's scalar `tanhf`, its sigmoid `expf`).
fn tanh<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    sigmoid(x.mul_scalar(2.0)).mul_scalar(2.0).sub_scalar(1.0)
}

/// The actor-critic: an optional CNN over the observation's grid (shared by
/// actor and critic, as in CleanRL's Atari PPO), separate MLP trunks over
/// its features and the vector inputs, an actor head (means and logits), a
/// critic head (the value), and the Gaussian heads' log-std.
#[derive(Module, Debug)]
pub struct ActorCritic {
    encoder: Option<CnnEncoder>,
    actor: Mlp,
    actor_head: Linear,
    critic: Mlp,
    critic_head: Linear,
    log_std: Param<Tensor<1>>,
    #[module(skip)]
    obs: ObsLayout,
    /// Privileged state values the critic reads after the features (0:
    /// none).
    #[module(skip)]
    state_dim: usize,
}

impl ActorCritic {
    /// A fresh network for the observation layout and the action layout,
    /// with CleanRL's initialisation (orthogonal; gains sqrt 2, 0.01 for
    /// the actor head, 1 for the critic head; log-std `init_log_std`). The layout's grid
    /// (at most one) goes through a CNN of shape `cnn`; without `cnn` the
    /// whole flat observation feeds the MLPs. With `state_dim > 0` the
    /// critic also reads that many privileged state values (an asymmetric
    /// actor-critic); the actor never does.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        obs: &ObsLayout,
        layout: &ActionLayout,
        hidden: &[usize],
        cnn: Option<&CnnConfig>,
        init_log_std: f32,
        state_dim: usize,
        seed: u64,
        device: &Device,
    ) -> Result<Self, RlError> {
        let mut rng = <StdRng as rand::SeedableRng>::seed_from_u64(seed);
        let grids = obs.grids();
        let (encoder, input) = match (cnn, grids.as_slice()) {
            (Some(config), [grid]) => {
                let encoder = CnnEncoder::new(*grid, config, &mut rng, device)
                    .map_err(|reason| RlError::Config { field: "cnn", reason })?;
                (Some(encoder), config.features + obs.vector_dim())
            }
            (Some(_), []) => {
                return Err(RlError::Config { field: "cnn", reason: "needs a 2-D Box in the observation space" });
            }
            (Some(_), _) => {
                return Err(RlError::Config { field: "cnn", reason: "takes one grid; this space has several" });
            }
            (None, _) => (None, obs.obs_dim),
        };
        let last = hidden.last().copied().unwrap_or(input);
        let critic_last = hidden.last().copied().unwrap_or(input + state_dim);
        let net = ActorCritic {
            encoder,
            actor: Mlp::new(input, hidden, &mut rng, device),
            actor_head: orthogonal_linear(last, layout.output_dim, 0.01, &mut rng, device),
            critic: Mlp::new(input + state_dim, hidden, &mut rng, device),
            critic_head: orthogonal_linear(critic_last, 1, 1.0, &mut rng, device),
            log_std: Param::from_tensor(Tensor::full([layout.gaussian_dim.max(1)], init_log_std, device)),
            obs: if cnn.is_some() { obs.clone() } else { ObsLayout::default() },
            state_dim,
        };
        Ok(number_params(net, 1))
    }

    fn features(&self, obs: Tensor<2>) -> Tensor<2> {
        match &self.encoder {
            None => obs,
            Some(encoder) => match vectors(&self.obs, &obs) {
                Some(v) => Tensor::cat(vec![encoder.forward(&obs), v], 1),
                None => encoder.forward(&obs),
            },
        }
    }

    /// The critic's input: the features, then the state if it reads one.
    fn critic_input(&self, x: Tensor<2>, state: Option<Tensor<2>>) -> Tensor<2> {
        debug_assert_eq!(state.is_some(), self.state_dim > 0, "the critic reads a state exactly when state_dim > 0");
        match state {
            Some(s) if self.state_dim > 0 => Tensor::cat(vec![x, s], 1),
            _ => x,
        }
    }

    /// The number of privileged state values the critic reads (0: none).
    pub fn state_dim(&self) -> usize {
        self.state_dim
    }

    /// Actor outputs `[batch, output_dim]` and values `[batch]`; `state`
    /// (`[batch, state_dim]`) is the privileged state, needed when
    /// [`ActorCritic::state_dim`] is not 0.
    pub fn forward(&self, obs: Tensor<2>, state: Option<Tensor<2>>) -> (Tensor<2>, Tensor<1>) {
        let x = self.features(obs);
        let out = self.actor_head.forward(self.actor.forward(x.clone()));
        let value = self.critic_head.forward(self.critic.forward(self.critic_input(x, state))).flatten(0, 1);
        (out, value)
    }

    /// The actor outputs alone.
    pub fn actor(&self, obs: Tensor<2>) -> Tensor<2> {
        self.actor_head.forward(self.actor.forward(self.features(obs)))
    }

    /// The values alone (`state` as for [`ActorCritic::forward`]).
    pub fn value(&self, obs: Tensor<2>, state: Option<Tensor<2>>) -> Tensor<1> {
        let x = self.critic_input(self.features(obs), state);
        self.critic_head.forward(self.critic.forward(x)).flatten(0, 1)
    }

    /// The log-std of the Gaussian heads.
    pub fn log_std(&self) -> Tensor<1> {
        self.log_std.val()
    }
}

/// Gives a module's float parameters the ids `first, first + 1, ...` in
/// visiting order. Parameter ids key the optimiser's state; numbering them
/// makes a network rebuilt from a checkpoint match the saved optimiser.
pub fn number_params<M: Module>(module: M, first: u64) -> M {
    struct Numbering(u64);
    impl ModuleMapper for Numbering {
        fn map_float<const D: usize>(&mut self, mut param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            param.id = ParamId::from(self.0);
            self.0 += 1;
            param
        }
    }
    module.map(&mut Numbering(first))
}

/// Log-probabilities `[batch]` of `actions` (`[batch, action_dim]`, the
/// categorical ones as integer-valued floats) and entropies `[batch]`
/// under the actor outputs, differentiably.
pub fn log_prob_entropy(
    layout: &ActionLayout,
    out: Tensor<2>,
    log_std: Tensor<1>,
    actions: Tensor<2>,
) -> (Tensor<1>, Tensor<1>) {
    let batch = out.dims()[0];
    let device = out.device();
    let mut logp = Tensor::<1>::zeros([batch], &device);
    let mut entropy = Tensor::<1>::zeros([batch], &device);
    let (mut o, mut a, mut g) = (0usize, 0usize, 0usize);
    let half_log_2pi = 0.5 * (2.0 * std::f32::consts::PI).ln();
    for head in &layout.heads {
        match *head {
            Head::Gaussian { dim } => {
                let mean = out.clone().slice([0..batch, o..o + dim]);
                let x = actions.clone().slice([0..batch, a..a + dim]);
                let ls = log_std.clone().narrow(0, g, dim).unsqueeze_dim::<2>(0);
                let z = (x - mean) / ls.clone().exp();
                let lp = z.powi_scalar(2).mul_scalar(-0.5) - ls.clone() - half_log_2pi;
                logp = logp + lp.sum_dim(1).flatten(0, 1);
                let ent = (ls + (0.5 + half_log_2pi)).sum_dim(1).flatten::<1>(0, 1);
                entropy = entropy + ent.repeat_dim(0, batch);
                o += dim;
                a += dim;
                g += dim;
            }
            Head::Categorical { n } => {
                let logits = out.clone().slice([0..batch, o..o + n]);
                let lsm = log_softmax(logits, 1);
                let idx = actions.clone().slice([0..batch, a..a + 1]).int();
                logp = logp + lsm.clone().gather(1, idx).flatten(0, 1);
                entropy = entropy - (lsm.clone().exp() * lsm).sum_dim(1).flatten(0, 1);
                o += n;
                a += 1;
            }
        }
    }
    (logp, entropy)
}

/// Samples actions for a batch from actor outputs read back to the CPU
/// (`out`, `batch x output_dim`) and the log-std, with the caller's seeded
/// RNG, writing actions (`batch x action_dim`) and their log-probabilities.
/// With `deterministic`, takes the means and the most likely choices.
pub fn sample(
    layout: &ActionLayout,
    out: &[f32],
    log_std: &[f32],
    rng: &mut StdRng,
    deterministic: bool,
    actions: &mut [f32],
    logp: &mut [f32],
) {
    let batch = logp.len();
    let half_log_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
    for b in 0..batch {
        let row = &out[b * layout.output_dim..(b + 1) * layout.output_dim];
        let act = &mut actions[b * layout.action_dim..(b + 1) * layout.action_dim];
        let (mut o, mut a, mut g) = (0usize, 0usize, 0usize);
        let mut lp = 0.0f64;
        for head in &layout.heads {
            match *head {
                Head::Gaussian { dim } => {
                    for k in 0..dim {
                        let (mean, ls) = (f64::from(row[o + k]), f64::from(log_std[g + k]));
                        let z: f64 = if deterministic { 0.0 } else { StandardNormal.sample(rng) };
                        act[a + k] = (mean + ls.exp() * z) as f32;
                        lp += -0.5 * z * z - ls - half_log_2pi;
                    }
                    o += dim;
                    a += dim;
                    g += dim;
                }
                Head::Categorical { n } => {
                    let logits = &row[o..o + n];
                    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let sum: f64 = logits.iter().map(|&l| f64::from(l - max).exp()).sum();
                    let choice = if deterministic {
                        (0..n).max_by(|&i, &j| logits[i].total_cmp(&logits[j])).unwrap_or(0)
                    } else {
                        let mut u = rng.random::<f64>() * sum;
                        let mut c = n - 1;
                        for (i, &l) in logits.iter().enumerate() {
                            u -= f64::from(l - max).exp();
                            if u <= 0.0 {
                                c = i;
                                break;
                            }
                        }
                        c
                    };
                    act[a] = choice as f32;
                    lp += f64::from(logits[choice] - max) - sum.ln();
                    o += n;
                    a += 1;
                }
            }
        }
        logp[b] = lp as f32;
    }
}

/// Reads a float tensor back as a `Vec<f32>`.
pub fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_to_vec::<f32>().unwrap_or_default()
}

/// A `[rows, cols]` tensor from a slice.
pub fn tensor2(data: &[f32], rows: usize, cols: usize, device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(data.to_vec(), [rows, cols]), device)
}

/// A `[n]` tensor from a slice.
pub fn tensor1(data: &[f32], device: &Device) -> Tensor<1> {
    Tensor::from_data(TensorData::new(data.to_vec(), [data.len()]), device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn scalar(t: Tensor<1>) -> f32 {
        t.into_scalar::<f32>()
    }

    #[test]
    fn tanh_by_sigmoid_matches_tanh_and_its_derivative() {
        let device = Device::flex().autodiff();
        // Both signs, near zero (where 2 sigmoid(2x) - 1 cancels), the
        // saturated tails, and values whose exp over- or underflows.
        let xs: Vec<f32> =
            (-400..=400).map(|i| i as f32 * 0.025).chain([1e-6, -1e-6, 1e-3, 60.0, -60.0, 1e4, -1e4]).collect();
        let x = Tensor::<1>::from_data(TensorData::new(xs.clone(), [xs.len()]), &device).require_grad();
        let y = tanh(x.clone());
        let grads = y.clone().sum().backward();
        let ys = y.into_data().try_into_vec::<f32>().unwrap();
        let gs = x.grad(&grads).unwrap().into_data().try_into_vec::<f32>().unwrap();
        for ((&x, &y), &g) in xs.iter().zip(&ys).zip(&gs) {
            let want = x.tanh();
            assert!((y - want).abs() <= 2e-7, "tanh({x}) = {y}, want {want}");
            assert!((g - (1.0 - want * want)).abs() <= 5e-7, "tanh'({x}) = {g}, want {}", 1.0 - want * want);
        }
        assert_eq!((ys[0], ys[800]), (-1.0, 1.0), "saturates exactly");
    }

    #[test]
    fn a_privileged_critic_reads_the_state_and_the_actor_does_not() {
        let device = Device::flex();
        let obs_layout = crate::encoder::obs_layout(&Space::uniform_box(-1.0, 1.0, &[3]), false);
        let layout = action_layout(&Space::uniform_box(-1.0, 1.0, &[2]));
        let net = ActorCritic::new(&obs_layout, &layout, &[8, 8], None, 0.0, 4, 7, &device).unwrap();
        assert_eq!(net.state_dim(), 4);
        let obs = || tensor2(&[0.3, -0.2, 0.9, 0.1, 0.5, -0.7], 2, 3, &device);
        let state_a = tensor2(&[0.0; 8], 2, 4, &device);
        let state_b = tensor2(&[1.0, -1.0, 2.0, 0.5, 0.0, 0.0, 0.0, 3.0], 2, 4, &device);
        let (out_a, v_a) = net.forward(obs(), Some(state_a));
        let (out_b, v_b) = net.forward(obs(), Some(state_b.clone()));
        assert_eq!(to_vec(out_a), to_vec(out_b.clone()), "the actor ignores the state");
        assert_eq!(to_vec(out_b), to_vec(net.actor(obs())));
        let (v_a, v_b) = (to_vec(v_a), to_vec(v_b));
        assert!(v_a.iter().zip(&v_b).all(|(a, b)| (a - b).abs() > 1e-6), "{v_a:?} {v_b:?}");
        assert_eq!(to_vec(net.value(obs(), Some(state_b))), v_b);
        // The same seed without a state: the same actor, a narrower critic.
        let plain = ActorCritic::new(&obs_layout, &layout, &[8, 8], None, 0.0, 0, 7, &device).unwrap();
        assert_eq!(to_vec(plain.actor(obs())), to_vec(net.actor(obs())));
    }

    #[test]
    fn log_probs_match_the_closed_forms_and_the_sampler() {
        let space = Space::Dict(vec![
            ("x".into(), Space::uniform_box(-1.0, 1.0, &[2])),
            ("k".into(), Space::Discrete { n: 3 }),
        ]);
        let layout = action_layout(&space);
        assert_eq!((layout.action_dim, layout.output_dim, layout.gaussian_dim), (3, 5, 2));
        // Means (0.5, -1), log-stds (0, ln 2), logits (0, ln 2, ln 3 -> p = 1/6, 2/6, 3/6).
        let out = [0.5f32, -1.0, 0.0, 2f32.ln(), 3f32.ln()];
        let log_std = [0.0f32, 2f32.ln()];
        let action = [1.0f32, 1.0, 2.0];
        let device = Device::flex();
        let (lp, ent) = log_prob_entropy(
            &layout,
            tensor2(&out, 1, 5, &device),
            tensor1(&log_std, &device),
            tensor2(&action, 1, 3, &device),
        );
        let ln2pi = (2.0 * std::f32::consts::PI).ln();
        // N(1; 0.5, 1) + N(1; -1, 2) + ln(1/2).
        let expected = (-0.5 * 0.25 - 0.5 * ln2pi) + (-0.5 * 1.0 - 2f32.ln() - 0.5 * ln2pi) + 0.5f32.ln();
        let lp = scalar(lp);
        assert!((lp - expected).abs() < 1e-5, "{lp} vs {expected}");
        let cat_entropy = -(1.0 / 6.0 * (1.0f32 / 6.0).ln() + 2.0 / 6.0 * (2.0f32 / 6.0).ln() + 0.5 * 0.5f32.ln());
        let expected_ent = (0.5 + 0.5 * ln2pi) * 2.0 + 2f32.ln() + cat_entropy;
        assert!((scalar(ent) - expected_ent).abs() < 1e-5);
        // The sampler's log-probability agrees with the differentiable one.
        let mut rng = StdRng::seed_from_u64(0);
        let (mut acts, mut logp) = (vec![0.0; 3], vec![0.0; 1]);
        sample(&layout, &out, &log_std, &mut rng, false, &mut acts, &mut logp);
        let (lp2, _) = log_prob_entropy(
            &layout,
            tensor2(&out, 1, 5, &device),
            tensor1(&log_std, &device),
            tensor2(&acts, 1, 3, &device),
        );
        assert!((scalar(lp2) - logp[0]).abs() < 1e-4);
        // Deterministic: the means and the most likely choice.
        sample(&layout, &out, &log_std, &mut rng, true, &mut acts, &mut logp);
        assert_eq!(acts, vec![0.5, -1.0, 2.0]);
    }
}
