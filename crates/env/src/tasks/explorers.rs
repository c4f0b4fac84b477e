//! TANDEM's scripted explorers, its baselines for the Explore tasks
//! (`explorer.py` in jingxixu/tandem-public, re-derived on our grid): each
//! picks the next move from the world-frame occupancy grid (Info-gain also
//! from a classifier's answers about it, [`InfoGainQuery`]), and a
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
    /// The move into an unexplored cell whose outcome, free or contact
    /// (equally likely), lowers the classifier's entropy over the objects
    /// most on average; a uniform one among them when all gain the same,
    /// any move when there is none (TANDEM's Info-gain). It asks a
    /// classifier through [`InfoGainQuery`]; without its answers every
    /// move gains the same and the choice is Not-go-back's. Where the
    /// classifier answers only grids with enough evidence (Explore-v2's
    /// discriminator: 3 contact cells) and uniformly below that, the
    /// first touches are sought by Not-go-back's draw or by the one
    /// outcome that would give evidence, where TANDEM's classifier answers
    /// every grid.
    InfoGain,
}

impl Scripted {
    /// Every explorer, as the command line names them.
    pub const ALL: [Scripted; 4] =
        [Scripted::RandomWalk, Scripted::NotGoBack, Scripted::EdgeFollower, Scripted::InfoGain];

    /// Its command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Scripted::RandomWalk => "random-walk",
            Scripted::NotGoBack => "not-go-back",
            Scripted::EdgeFollower => "edge-follower",
            Scripted::InfoGain => "info-gain",
        }
    }

    /// The explorer of that name.
    pub fn from_name(name: &str) -> Option<Scripted> {
        Scripted::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether it asks a classifier ([`InfoGainQuery`]).
    pub fn asks_classifier(self) -> bool {
        self == Scripted::InfoGain
    }
}

/// One grid's question to a classifier for Info-gain: for each move into
/// an unexplored cell, the grid with that cell free and with it contact
/// (TANDEM's `InfoGainExplorer`; the finger's own cell is left where it
/// is, as there). The answer also needs the classifier's probabilities of
/// the grid as it is, which its caller usually holds already.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InfoGainQuery {
    moves: [u8; 4],
    n: u8,
}

impl InfoGainQuery {
    /// Appends the question's grids to `grids`: the two outcomes of each
    /// candidate move ([`InfoGainQuery::grids`] in all). `grids` keeps its
    /// capacity from step to step.
    pub fn ask(grid: &[f32], side: usize, grids: &mut Vec<f32>) -> Self {
        let mut q = InfoGainQuery::default();
        let Some(at) = finger_cell(grid) else { return q };
        for m in 0..4 {
            let next = neighbour(at, m, side);
            if grid[next] != f32::from(cell::UNEXPLORED) {
                continue;
            }
            q.moves[usize::from(q.n)] = m as u8;
            q.n += 1;
            for code in [cell::FREE, cell::CONTACT] {
                let start = grids.len();
                grids.extend_from_slice(grid);
                grids[start + next] = f32::from(code);
            }
        }
        q
    }

    /// How many grids the question holds (2 per candidate move).
    pub fn grids(&self) -> usize {
        2 * usize::from(self.n)
    }

    /// The move from the classifier's probabilities of the grid as it is
    /// (`before`, `classes` of them) and of the question's grids
    /// (`answers`, `grids() x classes`, in their order).
    pub fn answer(&self, before: &[f32], answers: &[f32], classes: usize, rng: &mut StdRng) -> usize {
        let n = usize::from(self.n);
        if n == 0 {
            return rng.random_range(0..4);
        }
        let before = entropy_nats(&before[..classes]);
        let mut gains = [0.0f32; 4];
        for (i, gain) in gains[..n].iter_mut().enumerate() {
            let free = &answers[2 * i * classes..(2 * i + 1) * classes];
            let contact = &answers[(2 * i + 1) * classes..(2 * i + 2) * classes];
            *gain = before - 0.5 * (entropy_nats(free) + entropy_nats(contact));
        }
        let gains = &gains[..n];
        if gains.iter().all(|&g| g == gains[0]) {
            return usize::from(self.moves[rng.random_range(0..n)]);
        }
        // The first of equal maxima, as numpy's argmax.
        let mut best = 0;
        for (i, &g) in gains.iter().enumerate() {
            if g > gains[best] {
                best = i;
            }
        }
        usize::from(self.moves[best])
    }
}

/// The moves of a batch's questions, one per env (`None`: an env that
/// asks nothing, its move left as it is), from the classifier's
/// probabilities of each env's grid as it is (`before`, `classes` per env)
/// and of all the questions' grids in order (`answers`); the moves sit
/// `stride` apart in `moves`.
pub fn answer_all(
    queries: &[Option<InfoGainQuery>],
    before: &[f32],
    answers: &[f32],
    classes: usize,
    rng: &mut StdRng,
    moves: &mut [f32],
    stride: usize,
) {
    let mut at = 0;
    let envs = queries.iter().zip(before.chunks(classes)).zip(moves.iter_mut().step_by(stride.max(1)));
    for ((q, before), mv) in envs {
        if let Some(q) = q {
            *mv = q.answer(before, &answers[at * classes..(at + q.grids()) * classes], classes, rng) as f32;
            at += q.grids();
        }
    }
}

/// The Shannon entropy of a distribution (nats; `0 ln 0 = 0`).
fn entropy_nats(p: &[f32]) -> f32 {
    p.iter().filter(|&&x| x > 0.0).map(|&x| -x * x.ln()).sum()
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
            Scripted::NotGoBack | Scripted::InfoGain => {
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

    #[test]
    fn info_gain_asks_about_unexplored_neighbours_and_takes_the_most_telling() {
        // A 3 x 3 grid, the finger in the middle; +x and -y unexplored.
        let side = 3;
        let mut grid = vec![f32::from(cell::FREE); 9];
        grid[4] = f32::from(cell::CURRENT);
        grid[5] = f32::from(cell::UNEXPLORED); // +x
        grid[1] = f32::from(cell::UNEXPLORED); // -y
        let mut grids = Vec::new();
        let q = InfoGainQuery::ask(&grid, side, &mut grids);
        assert_eq!(q.grids(), 4);
        assert_eq!(grids.len(), 4 * 9);
        // +x first: free, then contact, in cell 5 only.
        assert_eq!(grids[5], f32::from(cell::FREE));
        assert_eq!(grids[9 + 5], f32::from(cell::CONTACT));
        assert_eq!(grids[18 + 1], f32::from(cell::FREE));
        assert_eq!(grids[27 + 1], f32::from(cell::CONTACT));
        let changed = |k: usize| (0..9).filter(|&c| grids[k * 9 + c] != grid[c]).count();
        assert_eq!([changed(0), changed(1), changed(2), changed(3)], [1, 1, 1, 1]);
        // Two classes. Now 50/50 (ln 2 nats). Moving +x settles it either
        // way (gain ln 2); -y settles it only if contact (gain ln 2 / 2).
        let now = [0.5, 0.5];
        let answers = [1.0, 0.0, 0.0, 1.0, 0.5, 0.5, 1.0, 0.0];
        let mut rng = StdRng::seed_from_u64(3);
        assert_eq!(q.answer(&now, &answers, 2, &mut rng), 0);
        // Swap the candidates' answers: -y is the telling one.
        let answers = [0.5, 0.5, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0];
        assert_eq!(q.answer(&now, &answers, 2, &mut rng), 3);
        // All equal (a classifier without evidence): both moves are drawn.
        let uniform = [0.5; 8];
        let drawn: std::collections::BTreeSet<usize> = (0..40).map(|_| q.answer(&now, &uniform, 2, &mut rng)).collect();
        assert_eq!(drawn, [0, 3].into_iter().collect());
        // No unexplored neighbour: any move, no further grids.
        grid[5] = f32::from(cell::FREE);
        grid[1] = f32::from(cell::CONTACT);
        let mut grids = Vec::new();
        let q = InfoGainQuery::ask(&grid, side, &mut grids);
        assert_eq!((q.grids(), grids.len()), (0, 0));
        let drawn: std::collections::BTreeSet<usize> = (0..60).map(|_| q.answer(&now, &[], 2, &mut rng)).collect();
        assert_eq!(drawn.len(), 4);
    }

    #[test]
    fn a_batch_of_questions_reads_each_its_own_answers() {
        // Three envs on 3 x 3 grids: one finger with two unexplored
        // neighbours (+x, -y), one with one (+y), one that asks nothing
        // (its episode is over); moves strided as in a flat action batch.
        let side = 3;
        let free = f32::from(cell::FREE);
        let mut a = vec![free; 9];
        a[4] = f32::from(cell::CURRENT);
        a[5] = f32::from(cell::UNEXPLORED);
        a[1] = f32::from(cell::UNEXPLORED);
        let mut b = vec![free; 9];
        b[4] = f32::from(cell::CURRENT);
        b[7] = f32::from(cell::UNEXPLORED);
        let mut grids = Vec::new();
        let queries =
            [Some(InfoGainQuery::ask(&a, side, &mut grids)), None, Some(InfoGainQuery::ask(&b, side, &mut grids))];
        assert_eq!(grids.len(), (4 + 2) * 9);
        // Env a: -y is the telling move; env b's only candidate is +y.
        let before = [0.5, 0.5, 0.9, 0.1, 0.5, 0.5];
        let answers = [
            0.5, 0.5, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, // a: +x free/contact, -y free/contact
            1.0, 0.0, 0.0, 1.0, // b: +y free/contact
        ];
        let mut moves = [-1.0, 9.0, -1.0, 9.0, -1.0, 9.0];
        answer_all(&queries, &before, &answers, 2, &mut StdRng::seed_from_u64(0), &mut moves, 2);
        assert_eq!(moves, [3.0, 9.0, -1.0, 9.0, 2.0, 9.0]);
    }
}
