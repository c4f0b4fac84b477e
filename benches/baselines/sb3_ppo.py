"""Stable-Baselines3's PPO on the workloads of `tactile bench ppo`, one thread.

The same network (separate 64x64 tanh MLPs for actor and critic, a Gaussian
action of 3 with a state-independent log-std), the same batch (2048 samples,
minibatch 64, 10 epochs) and the same end-to-end run (Pendulum-v1, one env,
three rollouts of 2048 steps and their updates). Prints one JSON object:
`sb3_update_samples_per_s` (median of three updates, after a warm-up) and
`sb3_e2e_steps_per_s`, to be read as ratios against `tactile bench ppo
--json` run on the same machine, alternating.

Needs `pip install stable-baselines3` (which brings torch and gymnasium);
tactile does not depend on them.
"""

import json
import statistics
import time

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import PPO

SAMPLES, MINIBATCH, EPOCHS = 2048, 64, 10


class Synthetic(gym.Env):
    """Observations of 64 uniform values, 3 actions in [-1, 1], random rewards."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, (64,), np.float32)
    action_space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        return self.np_random.uniform(-1, 1, 64).astype(np.float32), {}

    def step(self, action):
        obs = self.np_random.uniform(-1, 1, 64).astype(np.float32)
        return obs, float(self.np_random.uniform(-1, 1)), False, False, {}


def main():
    torch.set_num_threads(1)
    kwargs = dict(
        n_steps=SAMPLES,
        batch_size=MINIBATCH,
        n_epochs=EPOCHS,
        device="cpu",
        seed=7,
        verbose=0,
        policy_kwargs=dict(net_arch=dict(pi=[64, 64], vf=[64, 64]), activation_fn=torch.nn.Tanh),
    )
    model = PPO("MlpPolicy", Synthetic(), **kwargs)
    model.learn(SAMPLES)  # one rollout and one update: the warm-up
    rates = []
    for _ in range(3):
        start = time.perf_counter()
        model.train()  # the minibatch epochs over the rollout buffer
        rates.append(SAMPLES * EPOCHS / (time.perf_counter() - start))

    e2e = PPO("MlpPolicy", gym.make("Pendulum-v1"), **kwargs)
    start = time.perf_counter()
    e2e.learn(3 * SAMPLES)
    e2e_rate = 3 * SAMPLES / (time.perf_counter() - start)
    print(
        json.dumps(
            {
                "sb3_update_samples_per_s": statistics.median(rates),
                "sb3_e2e_steps_per_s": e2e_rate,
                "torch": torch.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
