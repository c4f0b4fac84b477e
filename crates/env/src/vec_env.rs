//! VecEnv: N envs stepped as one batch on K worker threads.
//!
//! The envs are split into K contiguous chunks. The caller's thread steps
//! chunk 0 while K - 1 worker threads step the others; a chunk is handed to
//! its worker and back through crossbeam channels, buffers and all, so a
//! batch step allocates nothing, and waiting threads poll briefly before
//! they sleep (see [`SPIN`]). Autoreset follows Gymnasium's next-step mode: the step
//! after an episode ends resets that env (its action is ignored, its reward
//! is 0 and its flags false) and returns the new episode's first
//! observation. Env `i` is seeded from the batch seed and `i` alone, so a
//! seed and N give the same trajectories bit for bit whatever K is.

use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, bounded};

use crate::{Env, EnvError, Info, Space};

/// The seed of env `index` in a batch seeded with `seed` (SplitMix64).
pub fn env_seed(seed: u64, index: usize) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15u64.wrapping_mul(index as u64 + 1));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A contiguous slice of the batch: its envs and their buffers.
struct Chunk {
    start: usize,
    envs: Vec<Box<dyn Env>>,
    obs_dim: usize,
    act_dim: usize,
    actions: Vec<f32>,
    obs: Vec<f32>,
    rewards: Vec<f32>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
    needs_reset: Vec<bool>,
    infos: Vec<Info>,
}

impl Chunk {
    fn reset(&mut self, seed: u64) {
        for (j, env) in self.envs.iter_mut().enumerate() {
            let obs = &mut self.obs[j * self.obs_dim..(j + 1) * self.obs_dim];
            env.reset(Some(env_seed(seed, self.start + j)), obs, &mut self.infos[j]);
            self.rewards[j] = 0.0;
            self.terminated[j] = false;
            self.truncated[j] = false;
            self.needs_reset[j] = false;
        }
    }

    fn step(&mut self) -> Result<(), EnvError> {
        for (j, env) in self.envs.iter_mut().enumerate() {
            let obs = &mut self.obs[j * self.obs_dim..(j + 1) * self.obs_dim];
            if self.needs_reset[j] {
                env.reset(None, obs, &mut self.infos[j]);
                self.rewards[j] = 0.0;
                self.terminated[j] = false;
                self.truncated[j] = false;
                self.needs_reset[j] = false;
                continue;
            }
            let action = &self.actions[j * self.act_dim..(j + 1) * self.act_dim];
            let s = env.step(action, obs, &mut self.infos[j])?;
            self.rewards[j] = s.reward;
            self.terminated[j] = s.terminated;
            self.truncated[j] = s.truncated;
            self.needs_reset[j] = s.terminated || s.truncated;
        }
        Ok(())
    }
}

enum Command {
    Reset(Box<Chunk>, u64),
    Step(Box<Chunk>),
}

type Reply = (Box<Chunk>, Result<(), EnvError>);

struct Worker {
    commands: Sender<Command>,
    replies: Receiver<Reply>,
    thread: Option<JoinHandle<()>>,
}

/// N envs of one task stepped as a batch. After [`VecEnv::reset`] and each
/// [`VecEnv::step`] the batch buffers hold every env's observation (row `i`
/// of [`VecEnv::obs`]), reward, flags and info.
pub struct VecEnv {
    id: String,
    obs_space: Space,
    act_space: Space,
    num_envs: usize,
    obs_dim: usize,
    act_dim: usize,
    chunks: Vec<Option<Box<Chunk>>>,
    workers: Vec<Worker>,
    /// Observations, `num_envs x obs_dim`, row-major.
    pub obs: Vec<f32>,
    /// Rewards of the last step.
    pub rewards: Vec<f32>,
    /// Terminated flags of the last step.
    pub terminated: Vec<bool>,
    /// Truncated flags of the last step.
    pub truncated: Vec<bool>,
    /// Infos of the last step.
    pub infos: Vec<Info>,
}

impl VecEnv {
    /// `num_envs` envs made by `make(i)`, stepped on `threads` threads (at
    /// most one per env): the caller's and `threads - 1` workers.
    pub fn new(
        num_envs: usize,
        threads: usize,
        mut make: impl FnMut(usize) -> Result<Box<dyn Env>, EnvError>,
    ) -> Result<Self, EnvError> {
        let num_envs = num_envs.max(1);
        let threads = threads.clamp(1, num_envs);
        let mut envs = (0..num_envs).map(&mut make).collect::<Result<Vec<_>, _>>()?;
        let first = &envs[0];
        let (id, obs_space, act_space) =
            (first.id().to_owned(), first.observation_space().clone(), first.action_space().clone());
        let (obs_dim, act_dim) = (obs_space.flat_dim(), act_space.flat_dim());
        let infos: Vec<Info> = envs.iter().map(|e| e.new_info()).collect();
        let mut chunks = Vec::new();
        let base = num_envs / threads;
        let extra = num_envs % threads;
        let mut start = 0;
        for t in 0..threads {
            let n = base + usize::from(t < extra);
            let rest = envs.split_off(n);
            let chunk_envs = std::mem::replace(&mut envs, rest);
            chunks.push(Some(Box::new(Chunk {
                start,
                obs_dim,
                act_dim,
                actions: vec![0.0; n * act_dim],
                obs: vec![0.0; n * obs_dim],
                rewards: vec![0.0; n],
                terminated: vec![false; n],
                truncated: vec![false; n],
                needs_reset: vec![false; n],
                infos: infos[start..start + n].to_vec(),
                envs: chunk_envs,
            })));
            start += n;
        }
        let workers = (1..threads).map(spawn_worker).collect::<Result<_, _>>()?;
        Ok(VecEnv {
            id,
            obs_space,
            act_space,
            num_envs,
            obs_dim,
            act_dim,
            chunks,
            workers,
            obs: vec![0.0; num_envs * obs_dim],
            rewards: vec![0.0; num_envs],
            terminated: vec![false; num_envs],
            truncated: vec![false; num_envs],
            infos,
        })
    }

    /// `num_envs` copies of a registered task (see [`crate::make`]).
    pub fn make(id: &str, num_envs: usize, threads: usize, config: Option<&std::path::Path>) -> Result<Self, EnvError> {
        VecEnv::new(num_envs, threads, |_| crate::make(id, config))
    }

    /// The task id.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// Number of envs.
    pub fn num_envs(&self) -> usize {
        self.num_envs
    }
    /// Number of worker threads (1: the caller's).
    pub fn threads(&self) -> usize {
        self.chunks.len()
    }
    /// One env's observation space.
    pub fn observation_space(&self) -> &Space {
        &self.obs_space
    }
    /// One env's action space.
    pub fn action_space(&self) -> &Space {
        &self.act_space
    }
    /// Observation of env `i`.
    pub fn obs_of(&self, i: usize) -> &[f32] {
        &self.obs[i * self.obs_dim..(i + 1) * self.obs_dim]
    }

    /// Resets every env, env `i` with the seed derived from `seed` and `i`.
    pub fn reset(&mut self, seed: u64) -> Result<(), EnvError> {
        self.run(|chunk| Command::Reset(chunk, seed))
    }

    /// Steps every env with its row of `actions` (`num_envs x act_dim`).
    /// Every action is checked first: one outside the action space is
    /// refused and no env moves.
    pub fn step(&mut self, actions: &[f32]) -> Result<(), EnvError> {
        if actions.len() != self.num_envs * self.act_dim {
            return Err(EnvError::InvalidAction {
                id: self.id.clone(),
                reason: format!("expected {} x {} actions, got {} values", self.num_envs, self.act_dim, actions.len()),
            });
        }
        for i in 0..self.num_envs {
            if let Some(why) = self.act_space.why_not(&actions[i * self.act_dim..(i + 1) * self.act_dim]) {
                return Err(EnvError::InvalidAction { id: self.id.clone(), reason: format!("env {i}: {why}") });
            }
        }
        for chunk in self.chunks.iter_mut().flatten() {
            let (a, b) = (chunk.start * self.act_dim, (chunk.start + chunk.envs.len()) * self.act_dim);
            chunk.actions.copy_from_slice(&actions[a..b]);
        }
        self.run(Command::Step)
    }

    fn run(&mut self, command: impl Fn(Box<Chunk>) -> Command) -> Result<(), EnvError> {
        let mut result;
        if self.workers.is_empty() {
            let chunk = self.chunks[0].take().expect("the chunk is home between calls");
            let (chunk, r) = execute(command(chunk));
            self.chunks[0] = Some(chunk);
            result = r;
        } else {
            // Chunks 1.. go to the workers; the caller's thread runs chunk 0
            // meanwhile, so K threads do the work with K - 1 hand-offs.
            for (slot, worker) in self.chunks[1..].iter_mut().zip(&self.workers) {
                let chunk = slot.take().expect("the chunk is home between calls");
                worker.commands.send(command(chunk)).map_err(|_| EnvError::Worker("the worker has exited".into()))?;
            }
            let chunk = self.chunks[0].take().expect("the chunk is home between calls");
            let (chunk, r) = execute(command(chunk));
            self.chunks[0] = Some(chunk);
            result = r;
            for (slot, worker) in self.chunks[1..].iter_mut().zip(&self.workers) {
                let (chunk, r) =
                    spin_recv(&worker.replies).ok_or_else(|| EnvError::Worker("the worker panicked".into()))?;
                *slot = Some(chunk);
                if result.is_ok() {
                    result = r;
                }
            }
        }
        for chunk in self.chunks.iter().flatten() {
            let (s, n) = (chunk.start, chunk.envs.len());
            self.obs[s * self.obs_dim..(s + n) * self.obs_dim].copy_from_slice(&chunk.obs);
            self.rewards[s..s + n].copy_from_slice(&chunk.rewards);
            self.terminated[s..s + n].copy_from_slice(&chunk.terminated);
            self.truncated[s..s + n].copy_from_slice(&chunk.truncated);
            for (dst, src) in self.infos[s..s + n].iter_mut().zip(&chunk.infos) {
                dst.clone_from(src);
            }
        }
        result
    }
}

fn execute(command: Command) -> Reply {
    match command {
        Command::Reset(mut chunk, seed) => {
            chunk.reset(seed);
            (chunk, Ok(()))
        }
        Command::Step(mut chunk) => {
            let r = chunk.step();
            (chunk, r)
        }
    }
}

/// How long a waiting thread polls before it sleeps. Waking a sleeping
/// thread costs tens of microseconds on a virtual machine (the idle vCPU
/// halts), as much as a batch step of a light task: a worker between two
/// batch steps, and the caller waiting for a worker, poll instead.
const SPIN: std::time::Duration = std::time::Duration::from_micros(500);

/// Receives, polling for up to [`SPIN`] before blocking; `None` once the
/// sender is gone.
fn spin_recv<T>(rx: &Receiver<T>) -> Option<T> {
    let start = std::time::Instant::now();
    loop {
        match rx.try_recv() {
            Ok(v) => return Some(v),
            Err(crossbeam_channel::TryRecvError::Disconnected) => return None,
            Err(crossbeam_channel::TryRecvError::Empty) => {
                if start.elapsed() > SPIN {
                    return rx.recv().ok();
                }
                std::hint::spin_loop();
            }
        }
    }
}

fn spawn_worker(index: usize) -> Result<Worker, EnvError> {
    let (commands, inbox) = bounded::<Command>(1);
    let (outbox, replies) = bounded::<Reply>(1);
    let thread = std::thread::Builder::new()
        .name(format!("tactile-vec-{index}"))
        .spawn(move || {
            while let Some(command) = spin_recv(&inbox) {
                if outbox.send(execute(command)).is_err() {
                    break;
                }
            }
        })
        .map_err(|e| EnvError::Worker(format!("cannot start a worker thread: {e}")))?;
    Ok(Worker { commands, replies, thread: Some(thread) })
}

impl Drop for VecEnv {
    fn drop(&mut self) {
        for w in &mut self.workers {
            // Closing the command channel ends the worker's loop.
            let (closed, _) = bounded(0);
            drop(std::mem::replace(&mut w.commands, closed));
            if let Some(t) = w.thread.take() {
                let _ = t.join();
            }
        }
    }
}
