"""Ray RLlib PPO (new API stack, env runners) on Press-v0.

    pip install ./python "ray[rllib]" torch
    python python/examples/rllib_press.py [--steps 100000]              # a local Ray on 2 CPUs
    python python/examples/rllib_press.py --address auto                 # a running Ray cluster (RAY_CLUSTER.md)

Trains, evaluates the deterministic policy on 20 seeded episodes and
prints one JSON line (steps, wall time, success rate, mean return).
"""

import argparse
import json
import time

import gymnasium
import numpy as np
import ray
import torch
from ray.rllib.algorithms.ppo import PPOConfig
from ray.tune.registry import register_env


def make_press(_config):
    import tactile  # imported where the env runner runs

    return tactile.TactileEnv("Press-v0")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--address", default=None, help="a Ray cluster's address (default: start a local Ray)")
    p.add_argument("--env-runners", type=int, default=1)
    a = p.parse_args()
    if a.address:
        ray.init(address=a.address)
    else:
        ray.init(num_cpus=2, include_dashboard=False)
    register_env("tactile-press", make_press)
    config = (
        PPOConfig()
        .environment("tactile-press")
        .env_runners(num_env_runners=a.env_runners, num_envs_per_env_runner=4)
        .training(lr=1e-3, gamma=0.95, train_batch_size_per_learner=4000, minibatch_size=256, num_epochs=10)
        .rl_module(model_config={"fcnet_hiddens": [64, 64]})
        .debugging(seed=0)
    )
    algo = config.build_algo() if hasattr(config, "build_algo") else config.build()
    start, steps = time.perf_counter(), 0
    while steps < a.steps:
        result = algo.train()
        steps = result["env_runners"]["num_env_steps_sampled_lifetime"]
    wall_s = time.perf_counter() - start

    module = algo.get_module()
    env = gymnasium.make("tactile/Press-v0")
    successes, returns = 0, []
    for episode in range(20):
        obs, _ = env.reset(seed=10_000 + episode)
        total, done = 0.0, False
        while not done:
            with torch.no_grad():
                out = module.forward_inference({"obs": torch.from_numpy(np.asarray(obs, dtype=np.float32)[None])})
            mean = out["action_dist_inputs"][0, :1].numpy()  # Gaussian: means, then log-stds
            obs, reward, terminated, truncated, info = env.step(np.clip(mean, -1.0, 1.0))
            total += reward
            done = terminated or truncated
        successes += int(info["is_success"])
        returns.append(total)
    print(json.dumps({"env_id": "Press-v0", "library": "rllib", "steps": int(steps), "wall_s": round(wall_s, 1),
                      "success_rate": successes / 20, "mean_return": float(np.mean(returns))}))
    algo.stop()
    ray.shutdown()


if __name__ == "__main__":
    import tactile  # noqa: F401  (registers tactile/<ID> here too)

    main()
