//! EdgeFollow-v0: the taxel image shows the edge, following it succeeds,
//! leaving it ends the episode.

use tactile_env::tasks::{EdgeFollow, EdgeFollowConfig};
use tactile_env::{Env, Info};

fn env() -> (EdgeFollow, Vec<f32>, Info) {
    let env = EdgeFollow::new(EdgeFollowConfig::default()).unwrap();
    let obs = vec![0.0; env.observation_space().flat_dim()];
    let info = env.new_info();
    (env, obs, info)
}

#[test]
fn the_taxel_image_shows_where_the_plate_ends() {
    let (mut env, mut obs, mut info) = env();
    // Edge along +x through the origin; the plate lies on the +y side.
    env.reset_to(0.0, 0.0, &mut obs, &mut info);
    for _ in 0..5 {
        env.step(&[0.0, 0.0], &mut obs, &mut info).unwrap();
    }
    // Rows run along y: rows 0-3 hang over the void, rows 4-7 press the plate.
    for row in 0..8 {
        let sum: f32 = obs[row * 8..row * 8 + 8].iter().sum();
        if row < 4 {
            assert_eq!(sum, 0.0, "row {row} is over the void");
        } else {
            assert!(sum > 0.5, "row {row} presses the plate: {sum}");
        }
    }
    // The same edge turned by 90 degrees turns the image: columns now.
    env.reset_to(std::f32::consts::FRAC_PI_2, 0.0, &mut obs, &mut info);
    for _ in 0..5 {
        env.step(&[0.0, 0.0], &mut obs, &mut info).unwrap();
    }
    // Edge along +y, plate on the -x side: columns 0-3 press.
    for col in 0..8 {
        let sum: f32 = (0..8).map(|r| obs[r * 8 + col]).sum();
        assert_eq!(sum > 0.5, col < 4, "column {col}: {sum}");
    }
}

#[test]
fn following_the_edge_reaches_the_goal() {
    let (mut env, mut obs, mut info) = env();
    let angle = 2.2f32;
    env.reset_to(angle, 0.002, &mut obs, &mut info);
    let (e, n) = env.edge_axes();
    let mut steps = 0;
    loop {
        // A scripted controller with the pose it is not given: along the
        // edge, and back towards it.
        let p = env.pad_m();
        let off = p[0] * n[0] + p[1] * n[1];
        let a = [e[0] - 20.0 * off * n[0], e[1] - 20.0 * off * n[1]];
        let norm = (a[0] * a[0] + a[1] * a[1]).sqrt().max(1.0);
        let s = env.step(&[a[0] / norm, a[1] / norm], &mut obs, &mut info).unwrap();
        steps += 1;
        if s.terminated {
            assert!(info.success, "terminated without success after {steps} steps: {:?}", info.facts);
            break;
        }
        assert!(steps < 150, "never reached the goal: {:?}", info.facts);
    }
    assert!(info.fact("d_goal_m").unwrap() < 0.01);
}

#[test]
fn leaving_the_edge_ends_the_episode_without_success() {
    let (mut env, mut obs, mut info) = env();
    env.reset_to(1.0, 0.0, &mut obs, &mut info);
    let (_, n) = env.edge_axes();
    for _ in 0..100 {
        let s = env.step(&[n[0], n[1]], &mut obs, &mut info).unwrap();
        if s.terminated {
            assert!(!info.success);
            assert!(info.fact("d_edge_m").unwrap() > 0.015);
            return;
        }
    }
    panic!("moving off the plate never ended the episode");
}
