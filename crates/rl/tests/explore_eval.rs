//! Evaluating Explore-v2 TANDEM's way: the discriminator fills `declare`
//! and the current `guess`, and a scripted baseline can move the finger in
//! place of the learned explorer.

use burn::tensor::Device;
use tactile_env::VecEnv;
use tactile_env::tasks::explorers::Scripted;
use tactile_rl::{CnnConfig, Explorer, Ppo, PpoConfig, TandemConfig, evaluate_with};

fn small_v2() -> PpoConfig {
    let cnn = CnnConfig { channels: vec![4, 8], kernels: vec![4, 3], strides: vec![4, 2], features: 32 };
    PpoConfig {
        num_envs: 2,
        threads: 1,
        num_steps: 16,
        hidden: vec![32],
        tandem: Some(TandemConfig {
            buffer_size: 100,
            batch_size: 16,
            train_steps: 1,
            cnn: cnn.clone(),
            min_evidence_cells: 1,
            ..TandemConfig::default()
        }),
        cnn: Some(cnn),
        ..PpoConfig::for_task("Explore-v2").unwrap()
    }
}

#[test]
fn a_scripted_explorer_moves_the_finger_and_the_discriminator_guesses() {
    let config = small_v2();
    let mut env = VecEnv::make("Explore-v2", 2, 1, None).unwrap();
    env.reset(3).unwrap();
    let ppo = Ppo::new(config, env.observation_space(), env.action_space(), 0, Device::flex()).unwrap();
    let policy = ppo.policy("Explore-v2").unwrap();
    // The learner found the `guess` action beside `declare` and fills both.
    let layout = &policy.meta.discriminator.as_ref().unwrap().layout;
    assert_eq!((layout.action_index, layout.guess_index), (1, Some(2)));
    let mut obs = env.obs.clone();
    let mut actions = vec![-1.0; 2 * 3];
    policy.act(&obs, &mut actions);
    for a in actions.chunks(3) {
        assert!((0.0..4.0).contains(&a[0]), "{a:?}");
        // Untrained, it is far from 98 % sure: no declaration, but a guess
        // (the start's touch is evidence enough for this config).
        assert_eq!(a[1], 0.0);
        assert!((1.0..=10.0).contains(&a[2]), "{a:?}");
    }
    // Saved and read back, by the learner's loader and by the runtime,
    // it acts the same, guess included.
    let dir = std::env::temp_dir().join(format!("tactile-explore-eval-{}", std::process::id()));
    policy.save(&dir).unwrap();
    let loaded = tactile_rl::TrainedPolicy::load(&dir).unwrap();
    let mut again = vec![-1.0; 2 * 3];
    loaded.act(&obs, &mut again);
    assert_eq!(again, actions);
    let mut runtime = tactile_policy::Policy::load(&dir).unwrap();
    let mut one = [0.0; 3];
    runtime.act(&obs[..obs.len() / 2], &mut one).unwrap();
    assert_eq!(one[..], actions[..3]);
    std::fs::remove_dir_all(&dir).ok();
    obs.fill(0.0);
    policy.act(&obs, &mut actions);
    assert_eq!(actions[2], 0.0, "an empty grid gives no guess");

    // An untrained explorer wanders; the edge follower goes round the
    // outline. Both run to the 2000-move limit (nothing declares).
    let learned = evaluate_with(&policy, "Explore-v2", 2, 4, 1, true, Explorer::Learned).unwrap();
    let edge = evaluate_with(&policy, "Explore-v2", 2, 4, 1, true, Explorer::Scripted(Scripted::EdgeFollower)).unwrap();
    assert_eq!(edge.mean_episode_len, 2000.0);
    assert_eq!(edge.final_facts["moves"], 2000.0);
    let (l, e) = (learned.final_facts["contact_cells"], edge.final_facts["contact_cells"]);
    assert!(e > 60.0 && e > 1.5 * l, "edge follower {e} contact cells, untrained explorer {l}");

    // A task without a grid is refused by name.
    let err = evaluate_with(&policy, "Press-v0", 1, 0, 1, false, Explorer::LearnedAvoidingContact).unwrap_err();
    assert!(err.to_string().contains("`grid` observation"), "{err}");
    assert_eq!(Explorer::from_name("edge-follower"), Some(Explorer::Scripted(Scripted::EdgeFollower)));
    assert_eq!(Explorer::from_name("wander"), None);
}
