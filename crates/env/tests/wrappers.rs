//! Each wrapper changes the one thing it says.

use tactile_env::wrappers::{
    ClipAction, FrameStack, NormalizeObservation, NormalizeReward, RecordEpisodeStatistics, TimeLimit,
};
use tactile_env::{Env, make_unwrapped};

fn pendulum() -> Box<dyn Env> {
    make_unwrapped("Pendulum-v1", None).unwrap()
}

#[test]
fn time_limit_truncates_on_the_nth_step() {
    let mut env = TimeLimit::new(pendulum(), 5);
    let (mut obs, mut info) = (vec![0.0; 3], env.new_info());
    env.reset(Some(0), &mut obs, &mut info);
    for k in 1..=5 {
        let s = env.step(&[0.0], &mut obs, &mut info).unwrap();
        assert_eq!(s.truncated, k == 5);
    }
}

#[test]
fn clip_action_clips_into_the_box_but_refuses_nan() {
    let mut clipped = ClipAction::new(pendulum()).unwrap();
    let mut plain = pendulum();
    let (mut o1, mut o2) = (vec![0.0; 3], vec![0.0; 3]);
    let (mut i1, mut i2) = (clipped.new_info(), plain.new_info());
    clipped.reset(Some(3), &mut o1, &mut i1);
    plain.reset(Some(3), &mut o2, &mut i2);
    clipped.step(&[7.0], &mut o1, &mut i1).unwrap();
    plain.step(&[2.0], &mut o2, &mut i2).unwrap();
    assert_eq!(o1, o2);
    assert!(clipped.step(&[f32::NAN], &mut o1, &mut i1).is_err());
}

#[test]
fn frame_stack_keeps_the_last_k_observations_oldest_first() {
    let mut env = FrameStack::new(pendulum(), 3);
    assert_eq!(env.observation_space().flat_dim(), 9);
    let (mut obs, mut info) = (vec![0.0; 9], env.new_info());
    env.reset(Some(1), &mut obs, &mut info);
    assert_eq!(obs[0..3], obs[3..6]);
    assert_eq!(obs[3..6], obs[6..9]);
    let first = obs[6..9].to_vec();
    env.step(&[1.0], &mut obs, &mut info).unwrap();
    let second = obs[6..9].to_vec();
    env.step(&[1.0], &mut obs, &mut info).unwrap();
    assert_eq!(obs[0..3], first[..]);
    assert_eq!(obs[3..6], second[..]);
}

#[test]
fn normalize_observation_centres_and_scales() {
    let mut env = NormalizeObservation::new(TimeLimit::new(pendulum(), 200));
    let (mut obs, mut info) = (vec![0.0; 3], env.new_info());
    env.reset(Some(0), &mut obs, &mut info);
    for _ in 0..3000 {
        let s = env.step(&[1.0], &mut obs, &mut info).unwrap();
        if s.truncated {
            env.reset(None, &mut obs, &mut info);
        }
    }
    // The statistics track the raw observations: cos and sin lie in [-1, 1].
    for i in 0..2 {
        assert!(env.stats.mean[i].abs() <= 1.0 && env.stats.var[i] <= 1.0 + 1e-6);
    }
    assert!(env.stats.count > 3000.0);
    env.update = false;
    let frozen = env.stats.clone();
    env.step(&[0.0], &mut obs, &mut info).unwrap();
    assert_eq!(env.stats, frozen);
}

#[test]
fn normalize_reward_divides_by_the_return_spread_and_keeps_raw_terms() {
    let mut env = NormalizeReward::new(pendulum(), 0.99);
    let (mut obs, mut info) = (vec![0.0; 3], env.new_info());
    env.reset(Some(0), &mut obs, &mut info);
    let mut last = 0.0;
    for _ in 0..100 {
        last = env.step(&[0.0], &mut obs, &mut info).unwrap().reward;
    }
    let raw: f32 = info.reward_terms.iter().map(|(_, v)| v).sum();
    let expected = raw / (env.stats.var[0] + 1e-8).sqrt() as f32;
    assert!((last - expected).abs() < 1e-5 * expected.abs().max(1.0));
    assert!(env.stats.var[0] > 1.0, "returns of a pendulum spread widely");
}

#[test]
fn record_episode_statistics_reports_the_return_at_the_end() {
    let mut env = RecordEpisodeStatistics::new(TimeLimit::new(pendulum(), 10));
    let (mut obs, mut info) = (vec![0.0; 3], env.new_info());
    env.reset(Some(0), &mut obs, &mut info);
    let mut sum = 0.0f64;
    for k in 1..=10 {
        let s = env.step(&[0.3], &mut obs, &mut info).unwrap();
        sum += f64::from(s.reward);
        let length = info.fact("episode_length").unwrap();
        if k < 10 {
            assert_eq!(length, 0.0);
        } else {
            assert!(s.truncated);
            assert_eq!(length, 10.0);
            assert!((info.fact("episode_return").unwrap() - sum).abs() < 1e-9);
        }
    }
}

#[test]
fn domain_randomization_draws_in_range_per_episode_and_is_seeded() {
    use tactile_env::wrappers::{DomainRandomization, DomainRandomizationConfig};
    let config = DomainRandomizationConfig {
        friction_scale: [0.5, 1.5],
        mass_scale: [2.0, 3.0],
        bodies: vec!["pad".into()],
        gaussian_sigma_n: [0.001, 0.01],
        sensors: vec!["pad".into()],
        ..Default::default()
    };
    let make = || DomainRandomization::new(make_unwrapped("Press-v0", None).unwrap(), config.clone()).unwrap();
    let (mut a, mut b) = (make(), make());
    let mut obs = vec![0.0; a.observation_space().flat_dim()];
    let (mut ia, mut ib) = (a.new_info(), b.new_info());
    let mut draws = Vec::new();
    for seed in 0..4 {
        a.reset(Some(seed), &mut obs, &mut ia);
        b.reset(Some(seed), &mut obs, &mut ib);
        assert_eq!(ia.facts, ib.facts, "one seed, one draw");
        let friction = ia.fact("dr_friction_scale").unwrap();
        let mass = ia.fact("dr_mass_scale").unwrap();
        assert!((0.5..=1.5).contains(&friction) && (2.0..=3.0).contains(&mass));
        // The draw reached the physics: the pad weighs 0.05 kg times it.
        let scene = a.scene_mut().unwrap();
        let pad = scene.body("pad").unwrap();
        assert!(
            (f64::from(scene.mass_kg(pad)) - 0.05 * mass).abs() < 1e-6,
            "{} vs {}",
            scene.mass_kg(pad),
            0.05 * mass
        );
        draws.push(mass);
    }
    draws.dedup();
    assert_eq!(draws.len(), 4, "each episode draws anew");
    // Names that do not exist are refused when wrapping.
    let bad = DomainRandomizationConfig { bodies: vec!["ghost".into()], ..Default::default() };
    let e = DomainRandomization::new(make_unwrapped("Press-v0", None).unwrap(), bad).err().unwrap();
    assert!(e.to_string().contains("unknown body `ghost`"), "{e}");
    let e = DomainRandomization::new(pendulum(), DomainRandomizationConfig::default()).err().unwrap();
    assert!(e.to_string().contains("simulates no scene"), "{e}");
}

#[test]
fn domain_randomization_refuses_to_resize_a_sensing_body() {
    use tactile_env::wrappers::{DomainRandomization, DomainRandomizationConfig};
    let config =
        DomainRandomizationConfig { object_scale: [0.9, 1.1], bodies: vec!["pad".into()], ..Default::default() };
    let e = DomainRandomization::new(make_unwrapped("Press-v0", None).unwrap(), config).err().unwrap();
    assert!(e.to_string().contains("taxel array"), "{e}");
}
