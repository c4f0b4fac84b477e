"""Stable-Baselines3 on tactile's Rust vector env.

Stable-Baselines3 has a vector-env API of its own (same-step autoreset, the
ended episode's last observation in ``infos[i]["terminal_observation"]``);
``TactileSb3VecEnv`` gives it tactile's ``TactileVectorEnv`` in same-step
mode::

    from stable_baselines3 import PPO
    from tactile.sb3 import TactileSb3VecEnv
    model = PPO("MlpPolicy", TactileSb3VecEnv("Press-v0", num_envs=8)).learn(100_000)

Needs ``stable-baselines3`` (not a dependency of tactile).
"""

from __future__ import annotations

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv

from . import TactileVectorEnv


class TactileSb3VecEnv(VecEnv):
    """``num_envs`` envs of a tactile task, stepped in Rust."""

    def __init__(self, env_id: str, num_envs: int = 8, threads: int | None = None, seed: int = 0):
        self.venv = TactileVectorEnv(env_id, num_envs, threads, autoreset_mode="same_step")
        super().__init__(num_envs, self.venv.single_observation_space, self.venv.single_action_space)
        self._seed = seed
        self._actions = None

    def reset(self):
        seeds = [s for s in getattr(self, "_seeds", []) if s is not None]
        obs, _ = self.venv.reset(seed=seeds[0] if seeds else self._seed)
        self._seed += 1
        return obs

    def step_async(self, actions):
        self._actions = actions

    def step_wait(self):
        actions = np.asarray(self._actions)
        if isinstance(self.action_space.shape, tuple) and len(self.action_space.shape) == 1 and actions.ndim == 1 \
                and self.action_space.shape[0] == 1 and self.num_envs > 1:
            actions = actions.reshape(self.num_envs, 1)
        obs, rewards, terminated, truncated, info = self.venv.step(actions)
        dones = terminated | truncated
        infos = [{} for _ in range(self.num_envs)]
        for i in np.flatnonzero(dones):
            infos[i]["terminal_observation"] = info["final_obs"][i]
            infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
            infos[i]["is_success"] = info["final_info"][i]["is_success"]
        return obs, rewards, dones, infos

    def close(self):
        pass

    def get_attr(self, attr_name, indices=None):
        return [getattr(self.venv, attr_name)] * len(self._indices(indices))

    def set_attr(self, attr_name, value, indices=None):
        setattr(self.venv, attr_name, value)

    def env_method(self, method_name, *args, indices=None, **kwargs):
        raise NotImplementedError("the envs live in Rust; they have no Python methods to call")

    def env_is_wrapped(self, wrapper_class, indices=None):
        return [False] * len(self._indices(indices))

    def _indices(self, indices):
        if indices is None:
            return range(self.num_envs)
        return [indices] if isinstance(indices, int) else indices
