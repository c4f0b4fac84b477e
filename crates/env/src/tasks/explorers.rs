//! TANDEM's scripted explorers, its baselines for the Explore tasks
//! (`explorer.py` in jingxixu/tandem-public, re-derived on our grid): each
//! picks the next move from the world-frame occupancy grid alone, and a
//! discriminator declares. [`avoid_contact`] is the rule TANDEM's learned
//! explorer follows at evaluation: a move into a known contact cell gives
//! way to the next most likely one.

use rand::Rng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use super::explore::cell;

/// The moves, as the Explore tasks number them: +x, -x, +y, -y.
const STEP: [(i32, i32); 4] = [(1, 0), (-1, 0), (0, 1), (0, -1)];
/// Clockwise (x right, y up): +y, +x, -y, -x.
const CLOCKWISE: [usize; 4] = [3, 2, 0, 1];
/// Anticlockwise: the inverse of [`CLOCKWISE`].
const ANTICLOCKWISE: [usize; 4] = [2, 3, 1, 0];

/// Which scripted explorer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scripted {
    /// A uniform move each step (TANDEM's Random-walk).
    RandomWalk,
    /// A uniform move among those into unexplored cells, any move when
    /// there is none (TANDEM's Not-go-back).
    NotGoBack,
    /// A bug algorithm that keeps the object on its left (TANDEM's
    /// Edge-follower): after a touch it turns clockwise, else it first
    /// tries turning anticlockwise towards the object, then turns
    /// clockwise until the cell ahead is unexplored or free.
    EdgeFollower,
}

impl Scripted {
    /// Every explorer, as the command line names them.
    pub const ALL: [Scripted; 3] = [Scripted::RandomWalk, Scripted::NotGoBack, Scripted::EdgeFollower];

    /// Its command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Scripted::RandomWalk => "random-walk",
            Scripted::NotGoBack => "not-go-back",
            Scripted::EdgeFollower => "edge-follower",
        }
    }

    /// The explorer of that name.
    pub fn from_name(name: &str) -> Option<Scripted> {
        Scripted::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// The cell a move leads to from `at` on an `side x side` grid (`at`
/// itself at the edge, where TANDEM's finger stays put).
pub fn neighbour(at: usize, mv: usize, side: usize) -> usize {
    let (x, y) = ((at % side) as i32, (at / side) as i32);
    let (dx, dy) = STEP[mv % 4];
    let (nx, ny) = (x + dx, y + dy);
    let n = side as i32;
    if (0..n).contains(&nx) && (0..n).contains(&ny) { (ny * n + nx) as usize } else { at }
}

/// The finger's cell in a grid of codes, if any.
pub fn finger_cell(grid: &[f32]) -> Option<usize> {
    grid.iter().position(|&g| g == f32::from(cell::CURRENT))
}

/// TANDEM's evaluation rule for a learned explorer: if `mv` leads into a
/// known contact cell, the most likely move (by `logits`) that does not,
/// else `mv`; when every neighbour is contact, `mv`.
pub fn avoid_contact(grid: &[f32], side: usize, mv: usize, logits: &[f32]) -> usize {
    let Some(at) = finger_cell(grid) else { return mv };
    let blocked = |m: usize| grid[neighbour(at, m, side)] == f32::from(cell::CONTACT);
    if !blocked(mv) {
        return mv;
    }
    let mut order = [0, 1, 2, 3];
    let n = logits.len().min(4);
    order[..n].sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
    order[..n].iter().copied().find(|&m| !blocked(m)).unwrap_or(mv)
}

/// One scripted explorer's state over one episode.
#[derive(Clone, Debug)]
pub struct ScriptedExplorer {
    kind: Scripted,
    side: usize,
    /// The last move (the edge follower's memory).
    previous: Option<usize>,
    /// The episode's start ended on a touch not yet turned away from.
    start_touch: bool,
    contacts: usize,
}

impl ScriptedExplorer {
    /// An explorer of `kind` on `side x side` grids.
    pub fn new(kind: Scripted, side: usize) -> Self {
        ScriptedExplorer { kind, side, previous: None, start_touch: false, contacts: 0 }
    }

    /// Starts an episode from its first grid: the edge follower takes the
    /// touch the start ended on as its last move's.
    pub fn reset(&mut self, grid: &[f32]) {
        self.contacts = count_contacts(grid);
        self.previous = finger_cell(grid)
            .and_then(|at| (0..4).find(|&m| grid[neighbour(at, m, self.side)] == f32::from(cell::CONTACT)));
        self.start_touch = self.previous.is_some();
    }

    /// The next move for this grid.
    pub fn next_move(&mut self, grid: &[f32], rng: &mut StdRng) -> usize {
        let side = self.side;
        let Some(at) = finger_cell(grid) else { return rng.random_range(0..4) };
        let contacts = count_contacts(grid);
        let touched = contacts > self.contacts;
        self.contacts = contacts;
        let open = |m: usize| {
            let next = neighbour(at, m, side);
            next != at && (grid[next] == f32::from(cell::UNEXPLORED) || grid[next] == f32::from(cell::FREE))
        };
        let mv = match self.kind {
            Scripted::RandomWalk => rng.random_range(0..4),
            Scripted::NotGoBack => {
                let mut fresh = [0; 4];
                let mut n = 0;
                for m in 0..4 {
                    if grid[neighbour(at, m, side)] == f32::from(cell::UNEXPLORED) {
                        fresh[n] = m;
                        n += 1;
                    }
                }
                if n == 0 { rng.random_range(0..4) } else { fresh[rng.random_range(0..n)] }
            }
            Scripted::EdgeFollower => {
                let last = self.previous.unwrap_or(0);
                // The touch the start ended on counts as one.
                let touched = touched || std::mem::take(&mut self.start_touch);
                let first = if touched { CLOCKWISE[last] } else { ANTICLOCKWISE[last] };
                let mut mv = first;
                loop {
                    if open(mv) {
                        break mv;
                    }
                    mv = CLOCKWISE[mv];
                    if mv == first {
                        break rng.random_range(0..4);
                    }
                }
            }
        };
        self.previous = Some(mv);
        mv
    }
}

fn count_contacts(grid: &[f32]) -> usize {
    grid.iter().filter(|&&g| g == f32::from(cell::CONTACT)).count()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn turns_are_quarter_turns_and_each_others_inverse() {
        for m in 0..4 {
            assert_eq!(ANTICLOCKWISE[CLOCKWISE[m]], m);
            // Clockwise: the cross product of the two steps points down.
            let ((ax, ay), (bx, by)) = (STEP[m], STEP[CLOCKWISE[m]]);
            assert_eq!(ax * by - ay * bx, -1);
        }
    }

    #[test]
    fn the_edge_follower_goes_round_a_wall_on_its_left() {
        // A 7 x 7 grid: the start ended with the finger at (2, 3) having
        // touched (3, 3), moving +x.
        let side = 7;
        let mut grid = vec![f32::from(cell::UNEXPLORED); side * side];
        grid[3 * side + 3] = f32::from(cell::CONTACT);
        grid[3 * side + 2] = f32::from(cell::CURRENT);
        let mut e = ScriptedExplorer::new(Scripted::EdgeFollower, side);
        e.reset(&grid);
        let mut rng = StdRng::seed_from_u64(0);
        // Touched moving +x: turn clockwise, to -y.
        assert_eq!(e.next_move(&grid, &mut rng), 3);
        // Moved to (2, 2) freely: try anticlockwise first (+x, towards the
        // object's side), into (3, 2).
        grid[3 * side + 2] = f32::from(cell::FREE);
        grid[2 * side + 2] = f32::from(cell::CURRENT);
        assert_eq!(e.next_move(&grid, &mut rng), 0);
    }

    #[test]
    fn not_go_back_prefers_unexplored_cells_and_avoid_contact_keeps_order() {
        let side = 3;
        let mut grid = vec![f32::from(cell::FREE); 9];
        grid[4] = f32::from(cell::CURRENT);
        grid[5] = f32::from(cell::UNEXPLORED); // +x
        grid[7] = f32::from(cell::CONTACT); // +y
        let mut e = ScriptedExplorer::new(Scripted::NotGoBack, side);
        e.reset(&grid);
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..20 {
            assert_eq!(e.next_move(&grid, &mut rng), 0);
        }
        // +y is contact: the next most likely (-y, then +x) is taken.
        assert_eq!(avoid_contact(&grid, side, 2, &[0.1, -1.0, 3.0, 0.5]), 3);
        assert_eq!(avoid_contact(&grid, side, 1, &[0.1, -1.0, 3.0, 0.5]), 1);
        assert_eq!(neighbour(0, 1, side), 0, "the edge holds the finger");
    }
}
