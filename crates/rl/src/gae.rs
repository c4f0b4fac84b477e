//! Generalised advantage estimation over a batched rollout, with
//! terminated and truncated kept apart.
//!
//! The rollout comes from a [`tactile_env::VecEnv`] in Gymnasium's
//! next-step autoreset mode: the step that returns `terminated` or
//! `truncated` also returns the episode's final observation, and the next
//! step of that env only resets it. So:
//! - the value of the step after an episode end is the value of the final
//!   observation, which is what a truncated step bootstraps from;
//! - a terminated step bootstraps from nothing;
//! - the reset step itself is not a transition: `valid` is false for it and
//!   the losses skip it;
//! - the advantage chain stops at every episode end.

/// Advantages and returns of a rollout of `steps` batch steps over
/// `num_envs` envs, all slices row-major `[step][env]`.
///
/// `values` has `steps + 1` rows: the last is the value of the observation
/// after the rollout (the bootstrap). Returns are `advantage + value`.
/// Invalid (reset) steps get advantage 0.
#[allow(clippy::too_many_arguments)]
pub fn gae(
    num_envs: usize,
    rewards: &[f32],
    values: &[f32],
    terminated: &[bool],
    truncated: &[bool],
    valid: &[bool],
    gamma: f32,
    lambda: f32,
    advantages: &mut [f32],
    returns: &mut [f32],
) {
    let steps = rewards.len() / num_envs;
    debug_assert_eq!(values.len(), (steps + 1) * num_envs);
    for e in 0..num_envs {
        let mut next_advantage = 0.0f32;
        for t in (0..steps).rev() {
            let i = t * num_envs + e;
            if !valid[i] {
                advantages[i] = 0.0;
                returns[i] = values[i];
                next_advantage = 0.0;
                continue;
            }
            let next_value = if terminated[i] { 0.0 } else { values[i + num_envs] };
            let delta = rewards[i] + gamma * next_value - values[i];
            let ended = terminated[i] || truncated[i];
            let carry = if ended { 0.0 } else { gamma * lambda * next_advantage };
            advantages[i] = delta + carry;
            returns[i] = advantages[i] + values[i];
            next_advantage = advantages[i];
        }
    }
}

/// Normalises the valid entries of `x` to mean 0 and standard deviation 1
/// (PPO's advantage normalisation, per minibatch or per batch).
pub fn normalize(x: &mut [f32], valid: &[bool]) {
    let n = valid.iter().filter(|&&v| v).count();
    if n < 2 {
        return;
    }
    let mean = x.iter().zip(valid).filter(|(_, v)| **v).map(|(a, _)| f64::from(*a)).sum::<f64>() / n as f64;
    let var = x.iter().zip(valid).filter(|(_, v)| **v).map(|(a, _)| (f64::from(*a) - mean).powi(2)).sum::<f64>()
        / (n - 1) as f64;
    let std = var.sqrt() + 1e-8;
    for (a, v) in x.iter_mut().zip(valid) {
        if *v {
            *a = ((f64::from(*a) - mean) / std) as f32;
        }
    }
}

/// Explained variance of value predictions: `1 - var(returns - values) /
/// var(returns)` over the valid entries (1 is perfect, 0 no better than a
/// constant, NaN when the returns do not vary).
pub fn explained_variance(values: &[f32], returns: &[f32], valid: &[bool]) -> f32 {
    let pairs: Vec<(f64, f64)> = values
        .iter()
        .zip(returns)
        .zip(valid)
        .filter(|(_, v)| **v)
        .map(|((a, b), _)| (f64::from(*a), f64::from(*b)))
        .collect();
    let n = pairs.len() as f64;
    if n < 2.0 {
        return f32::NAN;
    }
    let var = |xs: &mut dyn Iterator<Item = f64>| {
        let v: Vec<f64> = xs.collect();
        let m = v.iter().sum::<f64>() / n;
        v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n
    };
    let var_y = var(&mut pairs.iter().map(|p| p.1));
    if var_y == 0.0 {
        return f32::NAN;
    }
    (1.0 - var(&mut pairs.iter().map(|p| p.1 - p.0)) / var_y) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rewards: &[f32], values: &[f32], term: &[bool], trunc: &[bool], valid: &[bool]) -> (Vec<f32>, Vec<f32>) {
        let mut adv = vec![0.0; rewards.len()];
        let mut ret = vec![0.0; rewards.len()];
        gae(1, rewards, values, term, trunc, valid, 0.9, 0.5, &mut adv, &mut ret);
        (adv, ret)
    }

    #[test]
    fn a_plain_chain_matches_the_hand_computation() {
        // gamma 0.9, lambda 0.5; r = [1, 2], V = [0.5, 1.0], bootstrap 2.0.
        // delta1 = 2 + 0.9*2 - 1 = 2.8; A1 = 2.8.
        // delta0 = 1 + 0.9*1 - 0.5 = 1.4; A0 = 1.4 + 0.45*2.8 = 2.66.
        let (adv, ret) = run(&[1.0, 2.0], &[0.5, 1.0, 2.0], &[false; 2], &[false; 2], &[true; 2]);
        assert!((adv[1] - 2.8).abs() < 1e-6 && (adv[0] - 2.66).abs() < 1e-6, "{adv:?}");
        assert!((ret[0] - 3.16).abs() < 1e-6 && (ret[1] - 3.8).abs() < 1e-6);
    }

    #[test]
    fn termination_cuts_the_bootstrap_and_truncation_keeps_it() {
        // Step 0 ends the episode; step 1 is the reset step (invalid); the
        // value at step 1 is the value of the final observation (3.0).
        let values = [1.0, 3.0, 0.0];
        // Terminated: delta0 = 1 - 1 = 0.
        let (adv, _) = run(&[1.0, 0.0], &values, &[true, false], &[false; 2], &[true, false]);
        assert!((adv[0] - 0.0).abs() < 1e-6 && adv[1] == 0.0, "{adv:?}");
        // Truncated: delta0 = 1 + 0.9*3 - 1 = 2.7, and nothing flows back
        // from the reset step.
        let (adv, _) = run(&[1.0, 0.0], &values, &[false; 2], &[true, false], &[true, false]);
        assert!((adv[0] - 2.7).abs() < 1e-6, "{adv:?}");
    }

    #[test]
    fn envs_are_independent_columns() {
        // Two envs, one step: env 0 terminates, env 1 does not.
        let mut adv = vec![0.0; 2];
        let mut ret = vec![0.0; 2];
        gae(
            2,
            &[1.0, 1.0],
            &[0.0, 0.0, 5.0, 5.0],
            &[true, false],
            &[false; 2],
            &[true; 2],
            0.9,
            0.5,
            &mut adv,
            &mut ret,
        );
        assert!((adv[0] - 1.0).abs() < 1e-6 && (adv[1] - 5.5).abs() < 1e-6, "{adv:?}");
    }

    #[test]
    fn normalization_and_explained_variance() {
        let mut x = vec![1.0, 2.0, 3.0, 100.0];
        normalize(&mut x, &[true, true, true, false]);
        assert!((x[0] + 1.0).abs() < 1e-6 && x[1].abs() < 1e-6 && (x[2] - 1.0).abs() < 1e-6 && x[3] == 100.0);
        let ret = [1.0, 2.0, 3.0];
        assert!((explained_variance(&ret, &ret, &[true; 3]) - 1.0).abs() < 1e-6);
        assert!(explained_variance(&[2.0; 3], &ret, &[true; 3]).abs() < 1e-6);
    }
}
