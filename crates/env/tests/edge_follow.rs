//! EdgeFollow-v0: the taxel image shows the edge, following it succeeds,
//! leaving it costs more than following it.

use tactile_env::tasks::{EdgeFollow, EdgeFollowConfig};
use tactile_env::{Env, Info, SimEnv};

fn env() -> (SimEnv<EdgeFollow>, Vec<f32>, Info) {
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

/// A scripted controller with the pose the policy is not given: along the
/// edge (direction `e`), and back towards it (normal `n`).
fn follow(p: [f32; 2], e: [f32; 2], n: [f32; 2]) -> [f32; 2] {
    let off = p[0] * n[0] + p[1] * n[1];
    let a = [e[0] - 20.0 * off * n[0], e[1] - 20.0 * off * n[1]];
    let norm = (a[0] * a[0] + a[1] * a[1]).sqrt().max(1.0);
    [a[0] / norm, a[1] / norm]
}

/// The return of an episode from the edge at `angle_rad`, the pad `offset_m`
/// across it, driven by `controller` (given the pad centre, the edge's
/// direction and normal) to its end or the registry's time limit of 150
/// steps; and whether it succeeded.
fn episode_return(
    angle_rad: f32,
    offset_m: f32,
    controller: fn([f32; 2], [f32; 2], [f32; 2]) -> [f32; 2],
) -> (f32, bool) {
    let (mut env, mut obs, mut info) = env();
    env.reset_to(angle_rad, offset_m, &mut obs, &mut info);
    let (e, n) = env.edge_axes();
    let mut total = 0.0;
    for _ in 0..150 {
        let s = env.step(&controller(env.pad_m(), e, n), &mut obs, &mut info).unwrap();
        total += s.reward;
        if s.terminated {
            assert_eq!(info.success, info.fact("d_goal_m").unwrap() < 0.01, "{:?}", info.facts);
            return (total, info.success);
        }
    }
    (total, false)
}

#[test]
fn following_the_edge_reaches_the_goal() {
    let (_, success) = episode_return(2.2, 0.002, follow);
    assert!(success, "never reached the goal");
}

#[test]
fn leaving_the_edge_does_not_end_the_episode_and_costs_more_than_following_it() {
    // Every reward is negative: were leaving the edge to end the episode,
    // leaving at once (about -1.5) would pay better than following the
    // edge to the goal (about -2.4). It must not end the episode: the pad
    // that left feels nothing and pays -10 d_edge until the time limit.
    for angle in [0.0f32, 0.7, 2.2, 4.0] {
        let (left, success) = episode_return(angle, 0.0, |_, _, n| n);
        assert!(!success);
        let (followed, success) = episode_return(angle, 0.0, follow);
        assert!(success, "angle {angle}");
        // Following: d_goal falls from 0.1 m by 2 mm a step, about
        // -sum(0.1 - 0.002 t) = -2.4 over 45 steps.
        assert!((-3.0..-2.0).contains(&followed), "angle {angle}: following returned {followed}");
        // Leaving: 150 steps, most of them more than 0.1 m from the edge.
        assert!(left < 10.0 * followed, "angle {angle}: leaving returned {left}, following {followed}");
    }
}
