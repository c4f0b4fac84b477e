"""Stable-Baselines3 PPO on Press-v0 through tactile's Rust vector env.

    pip install ./python stable-baselines3
    python python/examples/sb3_press.py [--steps 100000] [--num-envs 8]

Trains, then evaluates the deterministic policy on 20 seeded episodes and
prints one JSON line (steps, wall time, success rate, mean return).
"""

import argparse
import json
import time

import gymnasium
import numpy as np
import torch
from stable_baselines3 import PPO

import tactile  # noqa: F401  (registers tactile/<ID>)
from tactile.sb3 import TactileSb3VecEnv


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--num-envs", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(1)
    env = TactileSb3VecEnv("Press-v0", num_envs=a.num_envs, threads=1, seed=a.seed)
    model = PPO("MlpPolicy", env, n_steps=256, batch_size=256, learning_rate=1e-3, gamma=0.95,
                policy_kwargs={"net_arch": [64, 64]}, seed=a.seed, verbose=0)
    start = time.perf_counter()
    model.learn(total_timesteps=a.steps)
    wall_s = time.perf_counter() - start

    single = gymnasium.make("tactile/Press-v0")
    successes, returns = 0, []
    for episode in range(20):
        obs, _ = single.reset(seed=10_000 + episode)
        total, done = 0.0, False
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, info = single.step(action)
            total += reward
            done = terminated or truncated
        successes += int(info["is_success"])
        returns.append(total)
    print(json.dumps({"env_id": "Press-v0", "library": "stable-baselines3", "steps": model.num_timesteps,
                      "wall_s": round(wall_s, 1), "sps": round(model.num_timesteps / wall_s),
                      "success_rate": successes / 20, "mean_return": float(np.mean(returns))}))


if __name__ == "__main__":
    main()
