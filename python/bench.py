"""Steps per second of tactile's tasks driven from Python, against the Rust
vector env alone on the same workload (same envs, threads and kind of
random actions, drawn before the clock starts).

    python python/bench.py [--env Explore-v0] [--num-envs 16] [--threads 2] [--batches 600]
"""

import argparse
import json
import time

import gymnasium
import numpy as np

import tactile
from tactile import _native


def random_actions(space: gymnasium.Space, env_id: str, count: int, rng: np.random.Generator):
    """`count` actions; on Explore-v0 a declaration once in 200 moves (a
    uniform sample would declare, and end the episode, 10 times in 11)."""
    space.seed(int(rng.integers(2**31)))
    out = [space.sample() for _ in range(count)]
    if env_id == "Explore-v0":
        for a in out:
            a["declare"] = np.where(rng.random(np.shape(a["declare"])) < 1 / 200, a["declare"], 0)
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--env", default="Explore-v0")
    p.add_argument("--num-envs", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batches", type=int, default=600)
    a = p.parse_args()
    rng = np.random.default_rng(0)

    rust = _native.rust_vec_steps_per_s(a.env, a.num_envs, a.threads, a.batches)

    vec = gymnasium.make_vec(f"tactile/{a.env}", num_envs=a.num_envs, threads=a.threads)
    vec.reset(seed=0)
    actions = random_actions(vec.action_space, a.env, a.batches, rng)
    start = time.perf_counter()
    for act in actions:
        vec.step(act)
    python_vec = a.batches * a.num_envs / (time.perf_counter() - start)

    single = gymnasium.make(f"tactile/{a.env}")
    single.reset(seed=0)
    steps = a.batches * 4
    actions = random_actions(single.action_space, a.env, steps, rng)
    start = time.perf_counter()
    for act in actions:
        _, _, terminated, truncated, _ = single.step(act)
        if terminated or truncated:
            single.reset()
    python_single = steps / (time.perf_counter() - start)

    print(json.dumps({
        "env_id": a.env, "num_envs": a.num_envs, "threads": a.threads,
        "rust_vec_steps_per_s": round(rust), "python_vec_steps_per_s": round(python_vec),
        "python_vec_fraction_of_rust": round(python_vec / rust, 3),
        "python_single_steps_per_s": round(python_single),
    }))


if __name__ == "__main__":
    main()
