//! VecEnv: N envs stepped as one batch on K threads.
//!
//! The envs are split into contiguous chunks, several per thread. A batch
//! step puts every chunk on a shared work queue; the caller's thread and
//! K - 1 worker threads take chunks from it until it is empty, so envs whose
//! steps cost more (a contact, a reset) do not leave a thread idle. Chunks
//! travel through crossbeam channels, buffers and all, so a batch step
//! allocates nothing, and waiting threads poll briefly before they sleep
//! (see [`SPIN`]). Autoreset follows Gymnasium's next-step mode: the step
//! after an episode ends resets that env (its action is ignored, its reward
//! is 0 and its flags false) and returns the new episode's first
//! observation. [`VecEnv::set_same_step_autoreset`] switches to the
//! same-step mode (Stable-Baselines3's): an env that ends is reset within
//! the step, the new episode's first observation is returned, and the last
//! observation and info of the one that ended are kept in
//! [`VecEnv::final_obs`] and [`VecEnv::final_infos`]. Env `i` is seeded from the batch seed and `i` alone, and a
//! chunk's envs are stepped in order whichever thread takes it, so a seed
//! and N give the same trajectories bit for bit whatever K is.

use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender, unbounded};

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
    index: usize,
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
    episodes: Vec<u64>,
    infos: Vec<Info>,
    same_step: bool,
    final_obs: Vec<f32>,
    final_infos: Vec<Info>,
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
            self.episodes[j] = 0;
        }
    }

    fn step(&mut self) -> Result<(), EnvError> {
        for (j, env) in self.envs.iter_mut().enumerate() {
            let obs = &mut self.obs[j * self.obs_dim..(j + 1) * self.obs_dim];
            if self.needs_reset[j] {
                env.reset(None, obs, &mut self.infos[j]);
                self.episodes[j] += 1;
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
            if self.same_step && self.needs_reset[j] {
                self.final_obs[j * self.obs_dim..(j + 1) * self.obs_dim].copy_from_slice(obs);
                self.final_infos[j].clone_from(&self.infos[j]);
                env.reset(None, obs, &mut self.infos[j]);
                self.episodes[j] += 1;
                self.needs_reset[j] = false;
            }
        }
        Ok(())
    }
}

enum Command {
    Reset(Box<Chunk>, u64),
    Step(Box<Chunk>),
}

type Reply = (Box<Chunk>, Result<(), EnvError>);

/// Chunks per thread: enough for uneven env costs to even out, few enough
/// that queue traffic stays negligible.
const CHUNKS_PER_THREAD: usize = 4;

/// The work queue shared by the caller and the workers, and the way back.
struct Pool {
    work: Sender<Command>,
    queue: Receiver<Command>,
    done: Receiver<Reply>,
    threads: Vec<JoinHandle<()>>,
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
    pool: Option<Pool>,
    threads: usize,
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
    /// Episodes each env has started since the last [`VecEnv::reset`]
    /// (0 during the first).
    pub episodes: Vec<u64>,
    /// Under same-step autoreset: the last observation of each env whose
    /// episode ended in the last step (rows of other envs are stale).
    pub final_obs: Vec<f32>,
    /// Likewise, the last info of the episode that ended.
    pub final_infos: Vec<Info>,
}

impl VecEnv {
    /// `num_envs` envs made by `make(i)`, stepped on `threads` threads (at
    /// most one per env; 0: one per core): the caller's and `threads - 1`
    /// workers.
    pub fn new(
        num_envs: usize,
        threads: usize,
        mut make: impl FnMut(usize) -> Result<Box<dyn Env>, EnvError>,
    ) -> Result<Self, EnvError> {
        let num_envs = num_envs.max(1);
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            k => k,
        }
        .clamp(1, num_envs);
        let mut envs = (0..num_envs).map(&mut make).collect::<Result<Vec<_>, _>>()?;
        let first = &envs[0];
        let (id, obs_space, act_space) =
            (first.id().to_owned(), first.observation_space().clone(), first.action_space().clone());
        let (obs_dim, act_dim) = (obs_space.flat_dim(), act_space.flat_dim());
        let infos: Vec<Info> = envs.iter().map(|e| e.new_info()).collect();
        let mut chunks = Vec::new();
        let num_chunks = if threads == 1 { 1 } else { (threads * CHUNKS_PER_THREAD).min(num_envs) };
        let base = num_envs / num_chunks;
        let extra = num_envs % num_chunks;
        let mut start = 0;
        for t in 0..num_chunks {
            let n = base + usize::from(t < extra);
            let rest = envs.split_off(n);
            let chunk_envs = std::mem::replace(&mut envs, rest);
            chunks.push(Some(Box::new(Chunk {
                index: t,
                start,
                obs_dim,
                act_dim,
                actions: vec![0.0; n * act_dim],
                obs: vec![0.0; n * obs_dim],
                rewards: vec![0.0; n],
                terminated: vec![false; n],
                truncated: vec![false; n],
                needs_reset: vec![false; n],
                episodes: vec![0; n],
                infos: infos[start..start + n].to_vec(),
                same_step: false,
                final_obs: vec![0.0; n * obs_dim],
                final_infos: infos[start..start + n].to_vec(),
                envs: chunk_envs,
            })));
            start += n;
        }
        let pool = if threads > 1 { Some(spawn_pool(threads - 1)?) } else { None };
        Ok(VecEnv {
            id,
            obs_space,
            act_space,
            num_envs,
            obs_dim,
            act_dim,
            chunks,
            pool,
            threads,
            obs: vec![0.0; num_envs * obs_dim],
            final_obs: vec![0.0; num_envs * obs_dim],
            final_infos: infos.clone(),
            rewards: vec![0.0; num_envs],
            terminated: vec![false; num_envs],
            truncated: vec![false; num_envs],
            infos,
            episodes: vec![0; num_envs],
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
    /// The length of one env's privileged state ([`Info::state`]).
    pub fn state_dim(&self) -> usize {
        self.infos.first().map_or(0, |i| i.state.len())
    }
    /// Number of envs.
    pub fn num_envs(&self) -> usize {
        self.num_envs
    }
    /// Number of threads that step the batch (the caller's included).
    pub fn threads(&self) -> usize {
        self.threads
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

    /// Resets ended envs within the step that ends them (Gymnasium's
    /// same-step mode) instead of on the next step.
    pub fn set_same_step_autoreset(&mut self, same_step: bool) {
        for chunk in self.chunks.iter_mut().flatten() {
            chunk.same_step = same_step;
        }
    }

    /// Resets every env, env `i` with the seed derived from `seed` and `i`.
    pub fn reset(&mut self, seed: u64) -> Result<(), EnvError> {
        self.run(|chunk| Command::Reset(chunk, seed))
    }

    /// Puts every env back where a run left it: env `i` in episode
    /// `episodes[i]` of the batch seeded with `seed`, after the actions
    /// `actions[i]` (flat, `act_dim` each) of that episode. With envs that
    /// are deterministic given their seeds and actions (every registered
    /// task), the batch is then in the state the run had, bit for bit,
    /// whatever the number of threads. Replays on the caller's thread.
    pub fn restore(&mut self, seed: u64, episodes: &[u64], actions: &[Vec<f32>]) -> Result<(), EnvError> {
        let n = self.num_envs;
        if episodes.len() != n || actions.len() != n || actions.iter().any(|a| a.len() % self.act_dim.max(1) != 0) {
            return Err(EnvError::InvalidAction {
                id: self.id.clone(),
                reason: format!("restoring {n} envs needs {n} episode indices and {n} whole action histories"),
            });
        }
        for index in 0..self.chunks.len() {
            let broken = || EnvError::Worker("an earlier batch step lost envs to a worker that stopped".into());
            let mut chunk = self.chunks[index].take().ok_or_else(broken)?;
            let (start, od, ad) = (chunk.start, self.obs_dim, self.act_dim);
            let mut result = Ok(());
            for j in 0..chunk.envs.len() {
                let i = start + j;
                let obs = &mut chunk.obs[j * od..(j + 1) * od];
                let info = &mut chunk.infos[j];
                chunk.envs[j].reset_episode(env_seed(seed, i), episodes[i], obs, info);
                chunk.episodes[j] = episodes[i];
                chunk.rewards[j] = 0.0;
                chunk.terminated[j] = false;
                chunk.truncated[j] = false;
                chunk.needs_reset[j] = false;
                for action in actions[i].chunks(ad.max(1)) {
                    if chunk.needs_reset[j] {
                        result = Err(EnvError::InvalidAction {
                            id: self.id.clone(),
                            reason: format!("env {i}: the restored episode ended before its last action"),
                        });
                        break;
                    }
                    match chunk.envs[j].step(action, obs, info) {
                        Ok(s) => {
                            chunk.rewards[j] = s.reward;
                            chunk.terminated[j] = s.terminated;
                            chunk.truncated[j] = s.truncated;
                            chunk.needs_reset[j] = s.terminated || s.truncated;
                        }
                        Err(e) => {
                            result = Err(e);
                            break;
                        }
                    }
                }
            }
            self.collect(chunk);
            result?;
        }
        Ok(())
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
        // Every chunk is home between calls, unless an earlier call lost one
        // to a worker that died: then the batch cannot go on.
        let broken = || EnvError::Worker("an earlier batch step lost envs to a worker that stopped".into());
        let mut result = Ok(());
        match &self.pool {
            None => {
                for index in 0..self.chunks.len() {
                    let chunk = self.chunks[index].take().ok_or_else(broken)?;
                    let (chunk, r) = execute(command(chunk));
                    self.collect(chunk);
                    result = result.and(r);
                }
            }
            Some(pool) => {
                let lost = || EnvError::Worker("a worker thread has exited".into());
                for slot in &mut self.chunks {
                    let chunk = slot.take().ok_or_else(broken)?;
                    pool.work.send(command(chunk)).map_err(|_| lost())?;
                }
                // The caller works the queue too, then collects the rest.
                let mut home = 0;
                let (queue, done) = (pool.queue.clone(), pool.done.clone());
                while let Ok(item) = queue.try_recv() {
                    let (chunk, r) = execute(item);
                    self.collect(chunk);
                    result = result.and(r);
                    home += 1;
                }
                while home < self.chunks.len() {
                    let (chunk, r) = spin_recv(&done).ok_or_else(lost)?;
                    self.collect(chunk);
                    result = result.and(r);
                    home += 1;
                }
            }
        }
        result
    }

    /// Copies a chunk's results into the batch buffers and puts it home.
    /// Done as each chunk arrives, so the copies overlap the other
    /// threads' work.
    fn collect(&mut self, chunk: Box<Chunk>) {
        let (s, n) = (chunk.start, chunk.envs.len());
        self.obs[s * self.obs_dim..(s + n) * self.obs_dim].copy_from_slice(&chunk.obs);
        self.rewards[s..s + n].copy_from_slice(&chunk.rewards);
        self.terminated[s..s + n].copy_from_slice(&chunk.terminated);
        self.truncated[s..s + n].copy_from_slice(&chunk.truncated);
        self.episodes[s..s + n].copy_from_slice(&chunk.episodes);
        for (dst, src) in self.infos[s..s + n].iter_mut().zip(&chunk.infos) {
            dst.clone_from(src);
        }
        if chunk.same_step {
            self.final_obs[s * self.obs_dim..(s + n) * self.obs_dim].copy_from_slice(&chunk.final_obs);
            for (dst, src) in self.final_infos[s..s + n].iter_mut().zip(&chunk.final_infos) {
                dst.clone_from(src);
            }
        }
        let index = chunk.index;
        self.chunks[index] = Some(chunk);
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

fn spawn_pool(workers: usize) -> Result<Pool, EnvError> {
    let (work, queue) = unbounded::<Command>();
    let (finished, done) = unbounded::<Reply>();
    let mut threads = Vec::new();
    for index in 0..workers {
        let (queue, finished) = (queue.clone(), finished.clone());
        let thread = std::thread::Builder::new()
            .name(format!("tactile-vec-{index}"))
            .spawn(move || {
                while let Some(command) = spin_recv(&queue) {
                    if finished.send(execute(command)).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| EnvError::Worker(format!("cannot start a worker thread: {e}")))?;
        threads.push(thread);
    }
    Ok(Pool { work, queue, done, threads })
}

impl Drop for VecEnv {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            // Closing the work queue ends the workers' loops.
            let Pool { work, queue, done, threads } = pool;
            drop(work);
            drop(queue);
            for t in threads {
                let _ = t.join();
            }
            drop(done);
        }
    }
}
