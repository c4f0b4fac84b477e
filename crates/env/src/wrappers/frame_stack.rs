//! FrameStack: the last k observations, oldest first.

use crate::{Env, EnvError, Info, Space, Step};

/// Observes the last `k` observations stacked (shape `[k, ...]`, oldest
/// first); after a reset every slot holds the reset observation.
pub struct FrameStack<E> {
    inner: E,
    k: usize,
    space: Space,
    frames: Vec<f32>,
}

impl<E: Env> FrameStack<E> {
    /// Wraps `inner`, stacking `k >= 1` frames.
    pub fn new(inner: E, k: usize) -> Self {
        let k = k.max(1);
        let (low, high, shape) = match inner.observation_space() {
            Space::Box { low, high, shape } => (low.clone(), high.clone(), shape.clone()),
            other => {
                let d = other.flat_dim();
                (vec![f32::NEG_INFINITY; d], vec![f32::INFINITY; d], vec![d])
            }
        };
        let space =
            Space::Box { low: low.repeat(k), high: high.repeat(k), shape: std::iter::once(k).chain(shape).collect() };
        let frames = vec![0.0; space.flat_dim()];
        FrameStack { inner, k, space, frames }
    }
}

impl<E: Env> Env for FrameStack<E> {
    super::forward_env!(core, act_space, info);
    fn observation_space(&self) -> &Space {
        &self.space
    }
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32], info: &mut Info) {
        let d = self.frames.len() / self.k;
        self.inner.reset(seed, &mut self.frames[..d], info);
        for j in 1..self.k {
            self.frames.copy_within(0..d, j * d);
        }
        obs.copy_from_slice(&self.frames);
    }
    fn step(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> Result<Step, EnvError> {
        let d = self.frames.len() / self.k;
        let n = self.frames.len();
        // The newest frame goes into the last slot; on error nothing moves.
        let s = self.inner.step(action, &mut obs[n - d..], info)?;
        self.frames.copy_within(d.., 0);
        self.frames[n - d..].copy_from_slice(&obs[n - d..]);
        obs.copy_from_slice(&self.frames);
        Ok(s)
    }
}
