//! The rollout buffer: one batch step after another, `[step][env]`
//! row-major, and the minibatches drawn from it.

/// What a rollout of `num_steps` batch steps over `num_envs` envs keeps.
pub(crate) struct RolloutBuffer {
    pub num_envs: usize,
    pub num_steps: usize,
    pub obs_dim: usize,
    pub action_dim: usize,
    /// Privileged state values per sample (0: the critic reads none).
    pub state_dim: usize,
    /// The network's inputs (normalised observations).
    pub obs: Vec<f32>,
    /// The critic's privileged states, one more batch step at the end (the
    /// bootstrap's).
    pub state: Vec<f32>,
    /// The policy's actions (before any hook fills the env's).
    pub actions: Vec<f32>,
    /// The env actions of the batch step under way (`num_envs x` the
    /// env's action width): what the envs are stepped with.
    pub env_actions: Vec<f32>,
    /// Their log-probabilities when sampled.
    pub logp: Vec<f32>,
    /// The critic's values, one more batch step at the end (the bootstrap).
    pub values: Vec<f32>,
    /// The rewards the learner is paid (shaped and scaled).
    pub rewards: Vec<f32>,
    /// The step ended the task.
    pub terminated: Vec<bool>,
    /// The step hit a time limit or a fault.
    pub truncated: Vec<bool>,
    /// The step is a transition (not an autoreset).
    pub valid: Vec<bool>,
}

/// One minibatch, gathered from the buffer.
#[derive(Default)]
pub(crate) struct Minibatch {
    pub obs: Vec<f32>,
    pub state: Vec<f32>,
    pub act: Vec<f32>,
    pub logp: Vec<f32>,
    pub adv: Vec<f32>,
    pub ret: Vec<f32>,
    pub val: Vec<f32>,
}

impl RolloutBuffer {
    pub fn new(
        num_envs: usize,
        num_steps: usize,
        obs_dim: usize,
        state_dim: usize,
        action_dim: usize,
        env_action_dim: usize,
    ) -> Self {
        let (n, t) = (num_envs, num_steps);
        RolloutBuffer {
            num_envs,
            num_steps,
            obs_dim,
            action_dim,
            state_dim,
            obs: vec![0.0; t * n * obs_dim],
            state: vec![0.0; (t + 1) * n * state_dim],
            actions: vec![0.0; t * n * action_dim],
            env_actions: vec![0.0; n * env_action_dim],
            logp: vec![0.0; t * n],
            values: vec![0.0; (t + 1) * n],
            rewards: vec![0.0; t * n],
            terminated: vec![false; t * n],
            truncated: vec![false; t * n],
            valid: vec![true; t * n],
        }
    }

    /// The samples `indices`, with their advantages and returns, into `mb`.
    pub fn gather(&self, indices: &[usize], adv: &[f32], ret: &[f32], mb: &mut Minibatch) {
        let (od, sd, ad) = (self.obs_dim, self.state_dim, self.action_dim);
        mb.obs.clear();
        mb.state.clear();
        mb.act.clear();
        mb.logp.clear();
        mb.adv.clear();
        mb.ret.clear();
        mb.val.clear();
        for &k in indices {
            mb.obs.extend_from_slice(&self.obs[k * od..(k + 1) * od]);
            mb.state.extend_from_slice(&self.state[k * sd..(k + 1) * sd]);
            mb.act.extend_from_slice(&self.actions[k * ad..(k + 1) * ad]);
            mb.logp.push(self.logp[k]);
            mb.adv.push(adv[k]);
            mb.ret.push(ret[k]);
            mb.val.push(self.values[k]);
        }
    }
}

impl RolloutBuffer {
    /// Copies the envs' privileged states (`infos[i].state`) into batch
    /// step `t` (`t == num_steps`: the bootstrap's).
    pub fn store_states(&mut self, t: usize, infos: &[tactile_env::Info]) {
        let (n, sd) = (self.num_envs, self.state_dim);
        if sd == 0 {
            return;
        }
        for (i, info) in infos.iter().enumerate().take(n) {
            let at = (t * n + i) * sd;
            self.state[at..at + sd].copy_from_slice(&info.state[..sd]);
        }
    }

    /// Batch step `t`'s privileged states (empty when the critic reads none).
    pub fn states(&self, t: usize) -> &[f32] {
        let w = self.num_envs * self.state_dim;
        &self.state[t * w..(t + 1) * w]
    }
}
