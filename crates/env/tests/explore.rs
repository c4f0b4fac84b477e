//! Explore-v0: the occupancy grid records what the finger touched, and
//! declarations end the episode.

use tactile_env::tasks::polygons::ray_hit;
use tactile_env::tasks::{Explore, ExploreConfig, cell};
use tactile_env::{Env, Info, SimEnv};

fn scripted() -> (SimEnv<Explore>, Vec<f32>, Info) {
    let env = Explore::new(ExploreConfig::default()).unwrap();
    let obs = vec![0.0; env.observation_space().flat_dim()];
    let info = env.new_info();
    (env, obs, info)
}

fn chebyshev(a: usize, b: usize, side: usize) -> usize {
    let (ax, ay, bx, by) = (a % side, a / side, b % side, b / side);
    ax.abs_diff(bx).max(ay.abs_diff(by))
}

#[test]
fn moving_into_a_known_edge_marks_the_right_cell() {
    let (mut env, mut obs, mut info) = scripted();
    let start = [-0.1375, 0.0025];
    env.reset_to(0, 0.0, [0.0, 0.0], start, &mut obs, &mut info);
    let polygon = env.placed_polygon();
    // Where the finger's surface meets the polygon moving along +x.
    let hit = ray_hit(&polygon, start, [1.0, 0.0]).expect("the polygon lies to the right");
    let boundary = [start[0] + hit, start[1]];
    let side = 60;
    let mut moves = 0;
    while info.fact("contact_cells") == Some(0.0) {
        let s = env.step(&[0.0, 0.0], &mut obs, &mut info).unwrap();
        assert!(!s.terminated && !s.truncated);
        moves += 1;
        assert!(moves < 60, "no contact after {moves} moves");
    }
    // The approach ends with the move that touched: the finger's surface
    // (5 mm ahead of its centre) had `hit - 5 mm` to go, in 5 mm moves (the
    // last one cut short).
    assert_eq!(info.fact("approach_moves"), Some(f64::from(moves)));
    let expected_moves = ((hit - 0.005) / 0.005).ceil();
    assert!((f64::from(moves) - f64::from(expected_moves)).abs() <= 1.0, "{moves} moves for a {hit} m approach");
    let grid = env.grid();
    let contacts: Vec<usize> = (0..grid.len()).filter(|&i| grid[i] == cell::CONTACT).collect();
    assert_eq!(contacts.len(), 1);
    let expected = env.cell_of(boundary).unwrap();
    assert!(
        chebyshev(contacts[0], expected, side) <= 1,
        "contact at cell {} but the edge is in cell {expected}",
        contacts[0]
    );
    // The finger stopped against the edge: its centre one radius short of it.
    let finger = env.finger_m();
    assert!((boundary[0] - finger[0] - 0.005).abs() < 0.0015, "finger at {finger:?}, edge at {boundary:?}");
    // The cells it passed are free, its own cell is current, the grid is in the observation.
    let passed = env.cell_of([start[0] + 0.02, start[1]]).unwrap();
    assert_eq!(grid[passed], cell::FREE);
    let current = env.cell_of(finger).unwrap();
    assert_eq!(grid[current], cell::CURRENT);
    assert_eq!(obs[contacts[0]], 2.0);
    assert_eq!(obs[current], 3.0);
    // The last taxel frame, in the observation, felt the contact, and the
    // most loaded taxel faces +x (the first of each ring of 16 does).
    let taxels = &obs[3600..];
    assert!(taxels.iter().sum::<f32>() > 0.05, "{taxels:?}");
    let imax = (0..taxels.len()).max_by(|&a, &b| taxels[a].total_cmp(&taxels[b])).unwrap();
    let around = imax % 16;
    assert!(around <= 1 || around >= 15, "the most loaded taxel is at {around}/16 around the finger");
    // Later moves count as moves, not as approach.
    env.step(&[3.0, 0.0], &mut obs, &mut info).unwrap();
    assert_eq!(info.fact("moves"), Some(f64::from(moves + 1)));
    assert_eq!(info.fact("approach_moves"), Some(f64::from(moves)));
}

#[test]
fn a_guarded_move_stops_at_the_wall_and_does_not_push_through() {
    let (mut env, mut obs, mut info) = scripted();
    env.reset_to(3, 0.7, [0.002, -0.003], [0.1225, 0.0025], &mut obs, &mut info);
    for _ in 0..80 {
        env.step(&[1.0, 0.0], &mut obs, &mut info).unwrap(); // -x, towards the object
    }
    let polygon = env.placed_polygon();
    let finger = env.finger_m();
    assert!(!tactile_env::tasks::polygons::contains(&polygon, finger), "the finger went inside the object");
    assert!(tactile_env::tasks::polygons::distance_to_boundary(&polygon, finger) > 0.0035);
    assert!(info.fact("contact_cells").unwrap() >= 1.0);
}

#[test]
fn declarations_end_the_episode_with_the_right_reward() {
    let (mut env, mut obs, mut info) = scripted();
    env.reset(Some(11), &mut obs, &mut info);
    let truth = info.fact("object_id").unwrap() as usize;
    let s = env.step(&[0.0, (truth + 1) as f32], &mut obs, &mut info).unwrap();
    assert!(s.terminated && info.success && s.reward == 1.0);
    env.reset(Some(11), &mut obs, &mut info);
    let wrong = (truth + 1) % 10;
    let s = env.step(&[2.0, (wrong + 1) as f32], &mut obs, &mut info).unwrap();
    assert!(s.terminated && !info.success && s.reward == -1.0);
    assert_eq!(info.term("declare"), Some(-1.0));
    // A move costs the time penalty and nothing else.
    env.reset(Some(11), &mut obs, &mut info);
    let s = env.step(&[3.0, 0.0], &mut obs, &mut info).unwrap();
    assert_eq!((s.reward, info.term("time"), info.term("declare")), (-0.01, Some(-0.01), Some(0.0)));
    assert_eq!(info.fact("moves"), Some(1.0));
}

#[test]
fn the_start_is_clear_of_the_object_and_depends_on_the_seed() {
    let (mut env, mut obs, mut info) = scripted();
    let mut starts = Vec::new();
    for seed in 0..20 {
        env.reset(Some(seed), &mut obs, &mut info);
        let polygon = env.placed_polygon();
        let finger = env.finger_m();
        assert!(!tactile_env::tasks::polygons::contains(&polygon, finger));
        starts.push((info.fact("object_id").unwrap() as usize, finger));
        assert_eq!(obs.iter().filter(|&&x| x == 3.0).count(), 1);
    }
    let objects: std::collections::BTreeSet<usize> = starts.iter().map(|s| s.0).collect();
    assert!(objects.len() >= 5, "20 episodes drew only {objects:?}");
}

#[test]
fn explore_v1_starts_against_the_object_with_no_move_counted() {
    let mut env = tactile_env::make("Explore-v1", None).unwrap();
    assert_eq!(env.id(), "Explore-v1");
    let mut obs = vec![0.0; env.observation_space().flat_dim()];
    let mut info = env.new_info();
    let mut first = Vec::new();
    for seed in 0..20 {
        env.reset(Some(seed), &mut obs, &mut info);
        assert_eq!(info.fact("moves"), Some(0.0));
        assert_eq!(info.fact("approach_moves"), Some(0.0));
        assert!(info.fact("contact_cells").unwrap() >= 1.0, "seed {seed}: not touching");
        // The grid shows the touch, the cells passed on the way, and the
        // taxels still feel the object.
        let grid = &obs[..3600];
        assert!(grid.contains(&2.0) && grid.contains(&1.0) && grid.contains(&3.0));
        assert!(obs[3600..].iter().sum::<f32>() > 0.05, "seed {seed}: the taxels feel nothing");
        if seed == 0 {
            first = obs.clone();
        }
    }
    env.reset(Some(0), &mut obs, &mut info);
    assert_eq!(obs, first, "the same seed, the same start");
    // The first move counts as a move, the approach is over.
    env.step(&[0.0, 0.0], &mut obs, &mut info).unwrap();
    assert_eq!((info.fact("moves"), info.fact("approach_moves")), (Some(1.0), Some(0.0)));
}

#[test]
fn a_touching_start_stops_one_finger_radius_from_the_outline() {
    use tactile_env::tasks::{ObjectSet, StartState};
    let config =
        ExploreConfig { object_set: ObjectSet::Tandem, start: StartState::Touching, ..ExploreConfig::default() };
    let mut env = Explore::new(config).unwrap();
    let mut obs = vec![0.0; env.observation_space().flat_dim()];
    let mut info = env.new_info();
    for seed in 0..10 {
        env.reset(Some(seed), &mut obs, &mut info);
        let polygon = env.placed_polygon();
        let finger = env.finger_m();
        let gap = tactile_env::tasks::polygons::distance_to_boundary(&polygon, finger);
        assert!(!tactile_env::tasks::polygons::contains(&polygon, finger), "seed {seed}: the finger is inside");
        assert!((gap - 0.005).abs() < 0.0015, "seed {seed}: the finger's centre is {gap} m from the outline");
    }
}
