//! ClipAction: clips a continuous action into the env's Box.

use crate::{Env, EnvError, Info, Space, Step};

/// Accepts any finite action of the right length and clips it into the
/// wrapped env's Box action space (a Gaussian policy's samples, say).
/// NaN is still refused.
pub struct ClipAction<E> {
    inner: E,
    space: Space,
    clipped: Vec<f32>,
}

impl<E: Env> ClipAction<E> {
    /// Wraps `inner`, whose action space must be a Box.
    pub fn new(inner: E) -> Result<Self, EnvError> {
        let Space::Box { shape, .. } = inner.action_space() else {
            return Err(EnvError::InvalidAction {
                id: inner.id().to_owned(),
                reason: "ClipAction needs a Box action space".into(),
            });
        };
        let space = Space::uniform_box(f32::NEG_INFINITY, f32::INFINITY, shape);
        let clipped = vec![0.0; space.flat_dim()];
        Ok(ClipAction { inner, space, clipped })
    }
}

impl<E: Env> Env for ClipAction<E> {
    super::forward_env!(core, obs_space, info);
    fn action_space(&self) -> &Space {
        &self.space
    }
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32], info: &mut Info) {
        self.inner.reset(seed, obs, info);
    }
    fn step(&mut self, action: &[f32], obs: &mut [f32], info: &mut Info) -> Result<Step, EnvError> {
        crate::check_action(self.inner.id(), &self.space, action)?;
        if let Space::Box { low, high, .. } = self.inner.action_space() {
            for i in 0..action.len() {
                self.clipped[i] = action[i].clamp(low[i], high[i]);
            }
        }
        self.inner.step(&self.clipped, obs, info)
    }
}
