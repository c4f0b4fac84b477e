//! A learner as its config asks for it: PPO with the hooks that join its
//! rollout (an exploration bonus, TANDEM's discriminator).

use burn::tensor::Device;
use tactile_env::Space;

use crate::RlError;
use crate::ppo::Ppo;
use crate::ppo::config::PpoConfig;
use crate::ppo::hook::{BonusHook, RolloutHook};
use crate::tandem::Tandem;

impl Ppo {
    /// A learner for envs with these spaces and `state_dim` values of
    /// privileged state ([`tactile_env::Env::state_dim`]; the critic reads
    /// them under `privileged_critic`), with the hooks `config` asks
    /// for: the exploration bonus (`bonus`), then TANDEM's discriminator
    /// (`tandem`), which fills its action.
    pub fn new(
        config: PpoConfig,
        obs_space: &Space,
        act_space: &Space,
        state_dim: usize,
        device: Device,
    ) -> Result<Self, RlError> {
        config.validate()?;
        let train_device = device.autodiff();
        train_device.seed(config.seed);
        // The discriminator's convolutions draw from the device's seeded
        // stream before the actor-critic's.
        let tandem = match &config.tandem {
            Some(tc) => {
                let obs = crate::encoder::obs_layout(obs_space, config.cnn.is_some());
                Some(Tandem::for_env(tc.clone(), &obs, act_space, config.seed, &train_device)?)
            }
            None => None,
        };
        let mut hooks: Vec<Box<dyn RolloutHook>> = Vec::new();
        if let Some(bonus) = &config.bonus {
            hooks.push(Box::new(BonusHook::new(bonus.clone(), config.num_envs)));
        }
        if let Some(tandem) = tandem {
            hooks.push(Box::new(tandem));
        }
        Ppo::with_hooks(config, obs_space, act_space, state_dim, train_device, hooks)
    }

    /// The TANDEM discriminator, when the config co-trains one.
    pub fn tandem(&self) -> Option<&Tandem> {
        self.hook::<Tandem>()
    }
}
