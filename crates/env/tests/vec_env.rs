//! The batched env: determinism across thread counts, autoreset, bad input.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tactile_env::{Env, VecEnv, make};

/// Steps a VecEnv with seeded random actions; returns every buffer's bits.
fn trajectory(id: &str, n: usize, threads: usize, steps: usize) -> Vec<u32> {
    let mut v = VecEnv::make(id, n, threads, None).unwrap();
    assert_eq!(v.threads(), threads.min(n));
    v.reset(99).unwrap();
    let act_dim = v.action_space().flat_dim();
    let mut rng = StdRng::seed_from_u64(5);
    let mut actions = vec![0.0; n * act_dim];
    let mut out: Vec<u32> = v.obs.iter().map(|x| x.to_bits()).collect();
    for _ in 0..steps {
        for i in 0..n {
            v.action_space().sample(&mut rng, &mut actions[i * act_dim..(i + 1) * act_dim]);
        }
        v.step(&actions).unwrap();
        out.extend(v.obs.iter().map(|x| x.to_bits()));
        out.extend(v.rewards.iter().map(|x| x.to_bits()));
        out.extend(v.terminated.iter().chain(&v.truncated).map(|&b| u32::from(b)));
        for info in &v.infos {
            out.extend(info.reward_terms.iter().map(|(_, x)| x.to_bits()));
        }
    }
    out
}

#[test]
fn one_seed_gives_the_same_batch_on_one_and_two_threads() {
    for (id, steps) in [("Press-v0", 260), ("Pendulum-v1", 420)] {
        let one = trajectory(id, 5, 1, steps);
        let two = trajectory(id, 5, 2, steps);
        assert_eq!(one.len(), two.len());
        assert!(one == two, "{id}: K = 1 and K = 2 trajectories differ");
    }
}

#[test]
fn envs_in_a_batch_are_seeded_apart() {
    let mut v = VecEnv::make("Pendulum-v1", 3, 1, None).unwrap();
    v.reset(1).unwrap();
    assert_ne!(v.obs_of(0), v.obs_of(1));
    assert_ne!(v.obs_of(1), v.obs_of(2));
}

#[test]
fn autoreset_follows_gymnasiums_next_step_mode() {
    // Pendulum truncates at 200 steps. The step after that resets: reward 0,
    // no flags, and the observation a fresh env with the continued RNG gives.
    let mut v = VecEnv::make("Pendulum-v1", 2, 2, None).unwrap();
    v.reset(7).unwrap();
    let actions = vec![0.5; 2];
    for k in 1..=200 {
        v.step(&actions).unwrap();
        assert_eq!(v.truncated[0], k == 200, "step {k}");
    }
    assert!(!v.terminated[0]);
    v.step(&actions).unwrap();
    assert_eq!(v.rewards, vec![0.0, 0.0]);
    assert!(!v.truncated[0] && !v.terminated[0]);
    // The same as one env reset with the batch seed, run 200 steps, then
    // reset without a seed.
    let mut env = make("Pendulum-v1", None).unwrap();
    let mut obs = vec![0.0; 3];
    let mut info = env.new_info();
    env.reset(Some(tactile_env::env_seed(7, 0)), &mut obs, &mut info);
    for _ in 0..200 {
        env.step(&[0.5], &mut obs, &mut info).unwrap();
    }
    env.reset(None, &mut obs, &mut info);
    assert_eq!(v.obs_of(0), &obs[..]);
    // And the next step is an ordinary step again.
    v.step(&actions).unwrap();
    assert!(v.rewards[0] < 0.0);
}

#[test]
fn same_step_autoreset_resets_within_the_step_and_keeps_the_final_observation() {
    // Both modes run the same episodes: next-step mode shows the truncated
    // step's observation, then the reset one a step later; same-step mode
    // shows the reset one at once and keeps the final one aside.
    let (mut next, mut same) =
        (VecEnv::make("Pendulum-v1", 2, 2, None).unwrap(), VecEnv::make("Pendulum-v1", 2, 1, None).unwrap());
    same.set_same_step_autoreset(true);
    next.reset(7).unwrap();
    same.reset(7).unwrap();
    let actions = vec![0.5; 2];
    for k in 1..=200 {
        next.step(&actions).unwrap();
        same.step(&actions).unwrap();
        assert_eq!((same.truncated[0], same.rewards[0]), (next.truncated[0], next.rewards[0]), "step {k}");
        if k < 200 {
            assert_eq!(same.obs, next.obs, "step {k}");
        }
    }
    assert!(same.truncated[0] && same.truncated[1]);
    assert_eq!(same.final_obs, next.obs, "the final observations are kept");
    assert_eq!(same.episodes, vec![1, 1]);
    next.step(&actions).unwrap();
    assert_eq!(same.obs, next.obs, "the reset observation came a step earlier");
    // The next step of the same-step env is an ordinary one.
    same.step(&actions).unwrap();
    assert!(!same.truncated[0] && same.rewards[0] < 0.0);
}

#[test]
fn a_bad_action_in_a_batch_is_refused_and_nothing_moves() {
    let mut v = VecEnv::make("Press-v0", 3, 2, None).unwrap();
    v.reset(0).unwrap();
    let before = v.obs.clone();
    let e = v.step(&[0.0, f32::NAN, 0.0]).unwrap_err().to_string();
    assert!(e.contains("env 1") && e.contains("NaN"), "{e}");
    let e = v.step(&[0.0, 0.0]).unwrap_err().to_string();
    assert!(e.contains("expected 3 x 1 actions"), "{e}");
    assert_eq!(v.obs, before);
    let mut rng = StdRng::seed_from_u64(0);
    v.step(&[rng.random_range(-1.0..1.0), 0.0, 0.0]).unwrap();
}

#[test]
fn the_physics_tasks_are_thread_count_deterministic_too() {
    for (id, steps) in [("EdgeFollow-v0", 40), ("Explore-v0", 60), ("Explore-v1", 60), ("Explore-v2", 60)] {
        assert!(trajectory(id, 3, 1, steps) == trajectory(id, 3, 2, steps), "{id}: K = 1 and K = 2 differ");
    }
}

fn bits(v: &VecEnv) -> Vec<u32> {
    let mut out: Vec<u32> = v.obs.iter().map(|x| x.to_bits()).collect();
    out.extend(v.terminated.iter().chain(&v.truncated).map(|&b| u32::from(b)));
    out.extend(v.episodes.iter().map(|&e| e as u32));
    out
}

#[test]
fn a_batch_restored_from_episode_indices_and_actions_goes_on_as_the_original() {
    // Pendulum ends episodes often (200 steps) and Press has physics: run a
    // batch, keep each env's actions since its episode began, restore a
    // fresh batch (on another thread count) and step both on.
    for (id, n, steps) in [("Pendulum-v1", 3, 450), ("Press-v0", 4, 230)] {
        let mut a = VecEnv::make(id, n, 1, None).unwrap();
        a.reset(7).unwrap();
        let ad = a.action_space().flat_dim();
        let mut rng = StdRng::seed_from_u64(1);
        let mut actions = vec![0.0; n * ad];
        let mut history: Vec<Vec<f32>> = vec![Vec::new(); n];
        let mut ended = vec![false; n];
        for _ in 0..steps {
            for i in 0..n {
                a.action_space().sample(&mut rng, &mut actions[i * ad..(i + 1) * ad]);
            }
            a.step(&actions).unwrap();
            for i in 0..n {
                if ended[i] {
                    history[i].clear();
                } else {
                    history[i].extend_from_slice(&actions[i * ad..(i + 1) * ad]);
                }
                ended[i] = a.terminated[i] || a.truncated[i];
            }
        }
        assert!(a.episodes.iter().all(|&e| e >= 1), "{id}: {:?}", a.episodes);
        let mut b = VecEnv::make(id, n, 2, None).unwrap();
        b.restore(7, &a.episodes.clone(), &history).unwrap();
        assert_eq!(bits(&a), bits(&b), "{id}: the restored batch differs");
        for _ in 0..250 {
            for i in 0..n {
                a.action_space().sample(&mut rng, &mut actions[i * ad..(i + 1) * ad]);
            }
            a.step(&actions).unwrap();
            b.step(&actions).unwrap();
            assert_eq!(bits(&a), bits(&b), "{id}: the restored batch went another way");
        }
        // A history that does not fit the batch is refused.
        assert!(b.restore(7, &[0], &history).is_err());
    }
}
