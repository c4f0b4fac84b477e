//! PPO learns Press-v0: a seeded run of 50,000 steps reaches a success
//! rate of at least 0.9 over 20 deterministic evaluation episodes.

use tactile_env::VecEnv;
use tactile_rl::{Ppo, PpoConfig};

#[test]
fn ppo_learns_press_within_50k_steps() {
    let config = PpoConfig::for_task("Press-v0").unwrap();
    assert_eq!(config.total_steps, 50_000);
    let mut env = VecEnv::make("Press-v0", config.num_envs, 2, None).unwrap();
    env.reset(config.seed).unwrap();
    let (obs_space, act_space) = (env.observation_space().clone(), env.action_space().clone());
    let mut ppo = Ppo::new(config, &obs_space, &act_space, env.state_dim(), burn::tensor::Device::flex()).unwrap();
    let mut first_returns = None;
    while ppo.global_step < ppo.config.total_steps {
        let stats = ppo.iterate(&mut env).unwrap();
        if first_returns.is_none() && !stats.episode_returns.is_empty() {
            first_returns = Some(stats.episode_returns.iter().sum::<f32>() / stats.episode_returns.len() as f32);
        }
    }

    // Deterministic evaluation on unseen seeds.
    let episodes = 20;
    let mut eval = VecEnv::make("Press-v0", episodes, 2, None).unwrap();
    eval.reset(12_345).unwrap();
    let policy = ppo.policy("Press-v0").unwrap();
    let mut actions = vec![0.0; episodes * act_space.flat_dim()];
    let (mut done, mut successes, mut returns) = (vec![false; episodes], 0, vec![0.0f32; episodes]);
    for _ in 0..200 {
        policy.act(&eval.obs, &mut actions);
        eval.step(&actions).unwrap();
        for i in 0..episodes {
            if !done[i] {
                returns[i] += eval.rewards[i];
                if eval.terminated[i] || eval.truncated[i] {
                    done[i] = true;
                    successes += usize::from(eval.infos[i].success);
                }
            }
        }
    }
    let rate = successes as f32 / episodes as f32;
    let mean = returns.iter().sum::<f32>() / episodes as f32;
    assert!(rate >= 0.9, "success rate {rate} (mean return {mean}, first episodes {first_returns:?})");
    assert!(mean > first_returns.unwrap_or(f32::NEG_INFINITY), "learning raised the return");
}
