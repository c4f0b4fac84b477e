//! `tactile._native`: tactile's tasks for Python. The Python package
//! (`tactile`) builds Gymnasium environments on these two classes; the
//! simulation stays in Rust, stepping runs with the GIL released, and
//! observations are written straight into numpy arrays the caller owns.

use std::sync::Mutex;

use numpy::{PyArray1, PyReadonlyArray1, PyReadonlyArray2, PyReadwriteArray1, PyReadwriteArray2};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use tactile_env::{Env as _, EnvError, Info, Space, VecEnv as RustVecEnv};

fn value_error(e: EnvError) -> PyErr {
    match e {
        EnvError::Worker(_) => PyRuntimeError::new_err(e.to_string()),
        other => PyValueError::new_err(other.to_string()),
    }
}

/// A space as plain Python data: `{"type": "Box", "low": [...], "high":
/// [...], "shape": [...]}`, `{"type": "Discrete", "n": n}`,
/// `{"type": "MultiDiscrete", "nvec": [...]}`, `{"type": "Dict",
/// "entries": [[name, space], ...]}`.
fn space_to_py<'py>(py: Python<'py>, space: &Space) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    match space {
        Space::Box { low, high, shape } => {
            d.set_item("type", "Box")?;
            d.set_item("low", low.clone())?;
            d.set_item("high", high.clone())?;
            d.set_item("shape", shape.clone())?;
        }
        Space::Discrete { n } => {
            d.set_item("type", "Discrete")?;
            d.set_item("n", *n)?;
        }
        Space::MultiDiscrete { nvec } => {
            d.set_item("type", "MultiDiscrete")?;
            d.set_item("nvec", nvec.clone())?;
        }
        Space::Dict(entries) => {
            d.set_item("type", "Dict")?;
            let list = PyList::empty(py);
            for (name, s) in entries {
                list.append((name.as_str(), space_to_py(py, s)?))?;
            }
            d.set_item("entries", list)?;
        }
    }
    Ok(d)
}

fn info_to_py<'py>(py: Python<'py>, info: &Info) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let terms = PyDict::new(py);
    for (name, v) in &info.reward_terms {
        terms.set_item(*name, *v)?;
    }
    d.set_item("reward_terms", terms)?;
    for (name, v) in &info.facts {
        d.set_item(*name, *v)?;
    }
    d.set_item("is_success", info.success)?;
    d.set_item("physics_fault", info.physics_fault)?;
    if !info.state.is_empty() {
        d.set_item("state", PyArray1::from_slice(py, &info.state))?;
    }
    Ok(d)
}

/// The task ids with their episode limits.
#[pyfunction]
fn env_specs() -> Vec<(String, u32, String)> {
    tactile_env::registry().iter().map(|s| (s.id.to_owned(), s.max_episode_steps, s.summary.to_owned())).collect()
}

/// The seed tactile's vector env gives env `index` of a batch reset with
/// `seed` (Gymnasium's vector envs use `seed + index`).
#[pyfunction]
fn env_seed(seed: u64, index: usize) -> u64 {
    tactile_env::env_seed(seed, index)
}

/// One env, flat `float32` observations and actions.
#[pyclass(module = "tactile._native", unsendable)]
struct Env {
    env: Box<dyn tactile_env::Env>,
    obs: Vec<f32>,
    info: Info,
    taxels: Option<(usize, usize)>,
}

#[pymethods]
impl Env {
    /// Makes task `id`; `config` is a TOML file whose keys override the
    /// task's parameters.
    #[new]
    #[pyo3(signature = (id, config=None))]
    fn new(id: &str, config: Option<std::path::PathBuf>) -> PyResult<Self> {
        let env = tactile_env::make(id, config.as_deref()).map_err(value_error)?;
        let obs = vec![0.0; env.observation_space().flat_dim()];
        let info = env.new_info();
        let taxels = env.taxel_slots().first().map(|t| (t.obs_offset, t.count));
        Ok(Env { env, obs, info, taxels })
    }

    /// The observation and action spaces.
    fn spaces<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyDict>, Bound<'py, PyDict>)> {
        Ok((space_to_py(py, self.env.observation_space())?, space_to_py(py, self.env.action_space())?))
    }

    /// Where the first taxel array sits in the flat observation:
    /// `(offset, count)`, or `None`.
    fn taxel_slot(&self) -> Option<(usize, usize)> {
        self.taxels
    }

    /// Starts an episode; returns the flat observation and the info.
    #[pyo3(signature = (seed=None))]
    fn reset<'py>(
        &mut self,
        py: Python<'py>,
        seed: Option<u64>,
    ) -> PyResult<(Bound<'py, PyArray1<f32>>, Bound<'py, PyDict>)> {
        self.env.reset(seed, &mut self.obs, &mut self.info);
        Ok((PyArray1::from_slice(py, &self.obs), info_to_py(py, &self.info)?))
    }

    /// Applies a flat action; returns (obs, reward, terminated, truncated, info).
    #[allow(clippy::type_complexity)]
    fn step<'py>(
        &mut self,
        py: Python<'py>,
        action: PyReadonlyArray1<'py, f32>,
    ) -> PyResult<(Bound<'py, PyArray1<f32>>, f32, bool, bool, Bound<'py, PyDict>)> {
        let action = action.as_slice()?;
        let step = self.env.step(action, &mut self.obs, &mut self.info).map_err(value_error)?;
        Ok((
            PyArray1::from_slice(py, &self.obs),
            step.reward,
            step.terminated,
            step.truncated,
            info_to_py(py, &self.info)?,
        ))
    }
}

/// A batch of envs stepped by a persistent thread pool with next-step
/// autoreset, writing into arrays the caller owns.
#[pyclass(module = "tactile._native")]
struct VecEnv {
    env: Mutex<RustVecEnv>,
}

impl VecEnv {
    fn lock(&self) -> PyResult<std::sync::MutexGuard<'_, RustVecEnv>> {
        self.env.lock().map_err(|_| PyRuntimeError::new_err("an earlier step of this vector env failed mid-way"))
    }
}

#[pymethods]
impl VecEnv {
    /// `num_envs` copies of task `id` stepped by `threads` threads.
    /// With `same_step`, an env that ends is reset within that step (the
    /// ended episode's last observation is kept, see `final_obs`).
    #[new]
    #[pyo3(signature = (id, num_envs, threads=None, config=None, same_step=false))]
    fn new(
        id: &str,
        num_envs: usize,
        threads: Option<usize>,
        config: Option<std::path::PathBuf>,
        same_step: bool,
    ) -> PyResult<Self> {
        if num_envs == 0 {
            return Err(PyValueError::new_err("num_envs must be at least 1"));
        }
        let threads =
            threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).clamp(1, num_envs);
        let mut env = RustVecEnv::make(id, num_envs, threads, config.as_deref()).map_err(value_error)?;
        env.set_same_step_autoreset(same_step);
        Ok(VecEnv { env: Mutex::new(env) })
    }

    /// The spaces of one env.
    fn spaces<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyDict>, Bound<'py, PyDict>)> {
        let env = self.lock()?;
        Ok((space_to_py(py, env.observation_space())?, space_to_py(py, env.action_space())?))
    }

    /// The names of the reward terms and of the facts, in order.
    fn info_names(&self) -> PyResult<(Vec<String>, Vec<String>)> {
        let env = self.lock()?;
        let info = &env.infos[0];
        Ok((
            info.reward_terms.iter().map(|(n, _)| (*n).to_owned()).collect(),
            info.facts.iter().map(|(n, _)| (*n).to_owned()).collect(),
        ))
    }

    /// Resets every env (env `i` seeded with `env_seed(seed, i)`) and
    /// writes the observations into `obs` (`num_envs x obs_dim`).
    fn reset(&mut self, py: Python<'_>, seed: u64, mut obs: PyReadwriteArray2<'_, f32>) -> PyResult<()> {
        let mut env = self.lock()?;
        let e = &mut *env;
        py.detach(|| e.reset(seed)).map_err(value_error)?;
        copy_into(obs.as_slice_mut()?, &env.obs)
    }

    /// Under same-step autoreset: writes the last observation of the
    /// episodes that ended in the last step into `obs` (other rows are
    /// stale) and their success flags into `success`.
    fn final_obs(&self, mut obs: PyReadwriteArray2<'_, f32>, mut success: PyReadwriteArray1<'_, bool>) -> PyResult<()> {
        let env = self.lock()?;
        copy_into(obs.as_slice_mut()?, &env.final_obs)?;
        let success = success.as_slice_mut()?;
        if success.len() != env.final_infos.len() {
            return Err(PyValueError::new_err("success must hold one flag per env"));
        }
        for (s, info) in success.iter_mut().zip(&env.final_infos) {
            *s = info.success;
        }
        Ok(())
    }

    /// Steps every env with `actions` (`num_envs x act_dim`) and writes the
    /// results into the caller's arrays: observations, rewards, the two
    /// flags, the reward terms (`num_envs x terms`), the facts (`num_envs x
    /// facts`), success and physics-fault flags.
    #[allow(clippy::too_many_arguments)]
    fn step(
        &mut self,
        py: Python<'_>,
        actions: PyReadonlyArray2<'_, f32>,
        mut obs: PyReadwriteArray2<'_, f32>,
        mut rewards: PyReadwriteArray1<'_, f32>,
        mut terminated: PyReadwriteArray1<'_, bool>,
        mut truncated: PyReadwriteArray1<'_, bool>,
        mut terms: PyReadwriteArray2<'_, f32>,
        mut facts: PyReadwriteArray2<'_, f64>,
        mut flags: PyReadwriteArray2<'_, bool>,
    ) -> PyResult<()> {
        let actions = actions.as_slice()?;
        let mut env = self.lock()?;
        let e = &mut *env;
        py.detach(|| e.step(actions)).map_err(value_error)?;
        let e = &*env;
        copy_into(obs.as_slice_mut()?, &e.obs)?;
        copy_into(rewards.as_slice_mut()?, &e.rewards)?;
        copy_into(terminated.as_slice_mut()?, &e.terminated)?;
        copy_into(truncated.as_slice_mut()?, &e.truncated)?;
        let (terms, facts, flags) = (terms.as_slice_mut()?, facts.as_slice_mut()?, flags.as_slice_mut()?);
        let (nt, nf) = (e.infos[0].reward_terms.len(), e.infos[0].facts.len());
        if terms.len() != e.num_envs() * nt || facts.len() != e.num_envs() * nf || flags.len() != e.num_envs() * 2 {
            return Err(PyValueError::new_err("info arrays do not match num_envs x (terms, facts, 2)"));
        }
        for (i, info) in e.infos.iter().enumerate() {
            for (k, (_, v)) in info.reward_terms.iter().enumerate() {
                terms[i * nt + k] = *v;
            }
            for (k, (_, v)) in info.facts.iter().enumerate() {
                facts[i * nf + k] = *v;
            }
            flags[2 * i] = info.success;
            flags[2 * i + 1] = info.physics_fault;
        }
        Ok(())
    }
}

/// Env steps per second of the Rust vector env alone on task `id`
/// (`num_envs` envs, `threads` threads, `batches` batch steps of the
/// task's random actions, drawn before the clock starts): the figure the
/// Python vector env is compared with.
#[pyfunction]
#[pyo3(signature = (id, num_envs, threads, batches, seed=0))]
fn rust_vec_steps_per_s(
    py: Python<'_>,
    id: &str,
    num_envs: usize,
    threads: usize,
    batches: usize,
    seed: u64,
) -> PyResult<f64> {
    use rand::SeedableRng;
    let spec = tactile_env::spec(id).map_err(value_error)?;
    let mut env = RustVecEnv::make(id, num_envs, threads.clamp(1, num_envs.max(1)), None).map_err(value_error)?;
    let ad = env.action_space().flat_dim();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut actions = vec![0.0; batches * num_envs * ad];
    for row in actions.chunks_mut(ad.max(1)) {
        (spec.random_action)(env.action_space(), &mut rng, row);
    }
    py.detach(|| {
        env.reset(seed)?;
        let start = std::time::Instant::now();
        for batch in actions.chunks(num_envs * ad) {
            env.step(batch)?;
        }
        Ok((batches * num_envs) as f64 / start.elapsed().as_secs_f64())
    })
    .map_err(value_error)
}

fn copy_into<T: Copy>(dst: &mut [T], src: &[T]) -> PyResult<()> {
    if dst.len() != src.len() {
        return Err(PyValueError::new_err(format!(
            "an output array holds {} values, expected {}",
            dst.len(),
            src.len()
        )));
    }
    dst.copy_from_slice(src);
    Ok(())
}

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Env>()?;
    m.add_class::<VecEnv>()?;
    m.add_function(wrap_pyfunction!(env_specs, m)?)?;
    m.add_function(wrap_pyfunction!(env_seed, m)?)?;
    m.add_function(wrap_pyfunction!(rust_vec_steps_per_s, m)?)?;
    Ok(())
}
