//! Golden episodes: for every task id and three seeds, 400 steps of seeded
//! random actions (episodes reset as they end) hash to what is stored in
//! `tests/golden_episodes.txt`: every observation, reward, flag, reward
//! term and fact, bit for bit. A refactor of the tasks must leave these
//! unchanged; a change of a task's behaviour is a new version with a new
//! line. `TACTILE_BLESS=1 cargo test -p tactile-env --test golden` writes
//! the file afresh (for a new id).

use rand::SeedableRng;
use rand::rngs::StdRng;
use tactile_env::{make, registry};

const STEPS: usize = 400;
const SEEDS: [u64; 3] = [0, 1, 7];

/// FNV-1a, 64 bits: stable across Rust versions and platforms.
struct Fnv(u64);

impl Fnv {
    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn f32s(&mut self, xs: &[f32]) {
        xs.iter().for_each(|x| self.bytes(&x.to_bits().to_le_bytes()));
    }
}

fn episode_hash(id: &str, seed: u64) -> u64 {
    let spec = tactile_env::spec(id).unwrap();
    let mut env = make(id, None).unwrap();
    let mut obs = vec![0.0; env.observation_space().flat_dim()];
    let mut action = vec![0.0; env.action_space().flat_dim()];
    let mut info = env.new_info();
    let mut rng = StdRng::seed_from_u64(seed ^ 0x601D);
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    env.reset(Some(seed), &mut obs, &mut info);
    h.f32s(&obs);
    for _ in 0..STEPS {
        (spec.random_action)(env.action_space(), &mut rng, &mut action);
        let step = env.step(&action, &mut obs, &mut info).unwrap();
        h.f32s(&obs);
        h.f32s(&[step.reward]);
        h.bytes(&[u8::from(step.terminated), u8::from(step.truncated), u8::from(info.success)]);
        h.bytes(&[u8::from(info.physics_fault)]);
        for (name, v) in &info.reward_terms {
            h.bytes(name.as_bytes());
            h.f32s(&[*v]);
        }
        for (name, v) in &info.facts {
            h.bytes(name.as_bytes());
            h.bytes(&v.to_bits().to_le_bytes());
        }
        if step.terminated || step.truncated {
            env.reset(None, &mut obs, &mut info);
            h.f32s(&obs);
        }
    }
    h.0
}

#[test]
fn every_task_replays_its_golden_episodes_bit_for_bit() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden_episodes.txt");
    let mut lines = Vec::new();
    for spec in registry() {
        for seed in SEEDS {
            lines.push(format!("{} {seed} {:016x}", spec.id, episode_hash(spec.id, seed)));
        }
    }
    let now = lines.join("\n") + "\n";
    if std::env::var("TACTILE_BLESS").as_deref() == Ok("1") {
        std::fs::write(&path, &now).unwrap();
        return;
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    for line in &lines {
        let key = line.rsplit_once(' ').map_or("", |(key, _)| key);
        let old = stored.lines().find(|l| l.starts_with(&format!("{key} ")));
        assert_eq!(
            old,
            Some(line.as_str()),
            "{key}: the episode differs from the stored one (a new id is added with TACTILE_BLESS=1)"
        );
    }
}
