//! Explore-v2, TANDEM's setup: the grid holds the cells the 18 mm finger's
//! centre cannot enter, the start comes from the corner uncounted, the
//! yes/no contact flips at the stated rate, and moves are counted and
//! judged TANDEM's way.

use tactile_env::tasks::polygons::clearance_m;
use tactile_env::tasks::{Explore, ExploreConfig, cell};
use tactile_env::{Env, Info, SimEnv};

const RADIUS_M: f32 = 0.018;

fn v2(edit: impl FnOnce(&mut ExploreConfig)) -> (SimEnv<Explore>, Vec<f32>, Info) {
    let spec = tactile_env::spec("Explore-v2").unwrap();
    let mut config: ExploreConfig = toml::from_str(spec.config_toml).unwrap();
    edit(&mut config);
    let env = Explore::versioned("Explore-v2", config).unwrap();
    let obs = vec![0.0; env.observation_space().flat_dim()];
    let info = env.new_info();
    (env, obs, info)
}

#[test]
fn contact_cells_are_where_the_finger_centre_cannot_go() {
    // Noise off: every contact cell is one the finger's centre cannot
    // reach (within a finger radius of the solid, give or take the guard's
    // last step), every cell it stood on is one it can, over walks around
    // the objects.
    let (mut env, mut obs, mut info) = v2(|c| c.contact_flip_prob = Some(0.0));
    let mut rng = 12345u64;
    let (mut contacts, mut free) = (0, 0);
    for episode in 0..10u64 {
        env.reset(Some(episode), &mut obs, &mut info);
        let polygon = env.placed_polygon();
        for _ in 0..300 {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            // Half the moves head for the object's centre, half are random.
            let [x, y] = env.finger_m();
            let toward = if x.abs() > y.abs() {
                if x > 0.0 { 1.0 } else { 0.0 }
            } else if y > 0.0 {
                3.0
            } else {
                2.0
            };
            let mv = if rng >> 63 == 0 { toward } else { ((rng >> 61) & 3) as f32 };
            let s = env.step(&[mv, 0.0, 0.0], &mut obs, &mut info).unwrap();
            assert!(!s.terminated && !s.truncated);
        }
        for (i, &g) in env.grid().iter().enumerate() {
            let d = clearance_m(&polygon, env.cell_centre(i));
            match g {
                cell::CONTACT => {
                    contacts += 1;
                    assert!(d < RADIUS_M + 0.0025, "episode {episode}: contact cell {i} is {d} m from the object");
                }
                cell::FREE | cell::CURRENT => {
                    free += 1;
                    assert!(d > RADIUS_M - 0.001, "episode {episode}: the finger stood {d} m from the object");
                }
                _ => {}
            }
        }
    }
    assert!(contacts > 50 && free > 300, "{contacts} contact and {free} free cells");
}

#[test]
fn the_start_comes_from_the_corner_along_the_diagonal_and_is_not_counted() {
    let (mut env, mut obs, mut info) = v2(|c| c.contact_flip_prob = Some(0.0));
    for seed in 0..5 {
        env.reset(Some(seed), &mut obs, &mut info);
        assert_eq!(info.fact("moves"), Some(0.0));
        assert_eq!(info.fact("approach_moves"), Some(0.0));
        assert_eq!(info.fact("contact_cells"), Some(1.0));
        let grid = env.grid();
        let side = 60;
        // The trail: the staircase from cell (0, 0), x first.
        let current = grid.iter().position(|&g| g == cell::CURRENT).unwrap();
        let (cx, cy) = (current % side, current / side);
        assert!(cx == cy || cx == cy + 1, "the finger rests at ({cx}, {cy}), off the diagonal");
        assert_eq!(grid[0], cell::FREE);
        let trail = grid.iter().filter(|&&g| g == cell::FREE).count();
        assert_eq!(trail, cx + cy, "every cell of the staircase before the finger's is free");
        // The touch: the next cell of the staircase.
        let next = if cx == cy { current + 1 } else { current + side };
        assert_eq!(grid[next], cell::CONTACT);
        assert_eq!(obs[next], 2.0);
        // The finger stands at its cell's centre.
        let [x, y] = env.finger_m();
        let [ex, ey] = env.cell_centre(current);
        assert!((x - ex).abs() < 1e-4 && (y - ey).abs() < 1e-4, "finger at ({x}, {y}), cell centre ({ex}, {ey})");
    }
}

#[test]
fn a_move_through_free_space_reads_contact_at_the_stated_rate() {
    // A zigzag over the four rows nearest the workspace's edge (13 cm or
    // more from the centre, where no object reaches): every contact there
    // is a flipped reading. At 5 % a move, 239 moves expect 12.
    let (mut env, mut obs, mut info) = v2(|c| c.contact_flip_prob = Some(0.05));
    let mut phantoms = 0.0;
    let mut moves = 0;
    for seed in 0..4u64 {
        env.reset(Some(seed), &mut obs, &mut info);
        env.reset_to(3, 0.5, [0.0; 2], env.cell_centre(0), &mut obs, &mut info);
        let mut route = Vec::new();
        for row in 0..4 {
            let along = if row % 2 == 0 { 0.0 } else { 1.0 };
            route.extend(std::iter::repeat_n(along, 59));
            if row < 3 {
                route.push(2.0);
            }
        }
        for &mv in &route {
            env.step(&[mv, 0.0, 0.0], &mut obs, &mut info).unwrap();
            moves += 1;
        }
        phantoms += info.fact("contact_cells").unwrap();
    }
    let rate = phantoms / f64::from(moves);
    // 956 moves at p = 0.05: standard deviation 0.007.
    assert!((rate - 0.05).abs() < 0.025, "{phantoms} phantom contacts in {moves} moves");
    // Without noise there are none.
    let (mut env, mut obs, mut info) = v2(|c| c.contact_flip_prob = Some(0.0));
    env.reset(Some(0), &mut obs, &mut info);
    env.reset_to(3, 0.5, [0.0; 2], env.cell_centre(0), &mut obs, &mut info);
    for _ in 0..59 {
        env.step(&[0.0, 0.0, 0.0], &mut obs, &mut info).unwrap();
    }
    assert_eq!(info.fact("contact_cells"), Some(0.0));
}

#[test]
fn the_declaring_step_moves_and_counts_and_the_limit_judges_the_guess() {
    let (mut env, mut obs, mut info) = v2(|c| c.move_limit = 5);
    env.reset(Some(3), &mut obs, &mut info);
    let truth = info.fact("object_id").unwrap() as usize;
    let right = (truth + 1) as f32;
    let wrong = ((truth + 1) % 10 + 1) as f32;
    // Four moves go on; the fifth is the limit: judged on the guess.
    for k in 1..=4 {
        let s = env.step(&[1.0, 0.0, wrong], &mut obs, &mut info).unwrap();
        assert!(!s.terminated && !s.truncated, "move {k}");
        assert_eq!(info.fact("moves"), Some(f64::from(k)));
    }
    let s = env.step(&[1.0, 0.0, right], &mut obs, &mut info).unwrap();
    assert!(s.truncated && !s.terminated && info.success);
    env.reset(Some(3), &mut obs, &mut info);
    for _ in 0..5 {
        env.step(&[1.0, 0.0, wrong], &mut obs, &mut info).unwrap();
    }
    assert!(!info.success);
    // A declaration ends the episode after its move, which counts.
    env.reset(Some(3), &mut obs, &mut info);
    env.step(&[1.0, 0.0, 0.0], &mut obs, &mut info).unwrap();
    let before = env.finger_m();
    let s = env.step(&[1.0, right, 0.0], &mut obs, &mut info).unwrap();
    assert!(s.terminated && info.success);
    assert_eq!(info.fact("moves"), Some(2.0));
    assert_eq!(s.reward, 1.0 - 0.01);
    assert!(env.finger_m()[0] < before[0] - 0.003, "the declaring step moved the finger -x");
}

#[test]
fn the_edge_follower_keeps_to_the_outline_and_finds_far_more_of_it_than_a_random_walk() {
    use rand::SeedableRng;
    use tactile_env::tasks::explorers::{Scripted, ScriptedExplorer};
    let (mut env, mut obs, mut info) = v2(|c| c.contact_flip_prob = Some(0.0));
    let mut found = |kind: Scripted| {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let mut cells = 0.0;
        for seed in 0..6 {
            env.reset(Some(seed), &mut obs, &mut info);
            let mut explorer = ScriptedExplorer::new(kind, 60);
            explorer.reset(&obs[..3600]);
            for _ in 0..80 {
                let mv = explorer.next_move(&obs[..3600], &mut rng) as f32;
                env.step(&[mv, 0.0, 0.0], &mut obs, &mut info).unwrap();
            }
            if kind == Scripted::EdgeFollower {
                // It never strays: its finger ends within two cells of the
                // object's dilated outline.
                let polygon = env.placed_polygon();
                let d = clearance_m(&polygon, env.finger_m());
                assert!(d < RADIUS_M + 0.01, "seed {seed}: the edge follower ended {d} m from the object");
            }
            cells += info.fact("contact_cells").unwrap();
        }
        cells / 6.0
    };
    let edge = found(Scripted::EdgeFollower);
    let random = found(Scripted::RandomWalk);
    let not_back = found(Scripted::NotGoBack);
    // 80 moves round an outline of about 90 cells touch it every few moves.
    assert!(edge > 15.0 && edge > 3.0 * random, "edge follower {edge} contact cells, random walk {random}");
    assert!(not_back >= random, "not-go-back {not_back}, random walk {random}");
}

#[test]
fn the_finger_always_has_its_cell_even_where_a_wrong_reading_marked_contact() {
    // At 20 % wrong readings the finger often comes back to a cell a
    // phantom contact marked; its own cell is then its cell again (the
    // egocentric view finds the finger by it).
    let (mut env, mut obs, mut info) = v2(|c| c.contact_flip_prob = Some(0.2));
    env.reset(Some(2), &mut obs, &mut info);
    let mut rng = 99u64;
    let mut phantoms_revisited = 0;
    for _ in 0..400 {
        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let mv = (rng >> 62) as f32;
        let before = env.grid().to_vec();
        env.step(&[mv, 0.0, 0.0], &mut obs, &mut info).unwrap();
        let grid = env.grid();
        assert_eq!(grid.iter().filter(|&&g| g == cell::CURRENT).count(), 1);
        let at = grid.iter().position(|&g| g == cell::CURRENT).unwrap();
        phantoms_revisited += usize::from(before[at] == cell::CONTACT);
    }
    assert!(phantoms_revisited > 0, "the walk never came back to a phantom contact");
}
