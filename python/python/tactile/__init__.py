"""tactile's touch-only robot tasks as Gymnasium environments.

Importing the package registers every task as ``tactile/<ID>``::

    import gymnasium, tactile
    env = gymnasium.make("tactile/Press-v0")
    envs = gymnasium.make_vec("tactile/Explore-v0", num_envs=16)  # the Rust vector env

The simulation runs in Rust (``tactile._native``); the vector env steps its
envs on a persistent thread pool with the GIL released and resets them in
Gymnasium's next-step mode.
"""

from __future__ import annotations

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import batch_space

from . import _native
from ._native import env_seed

__all__ = ["TactileEnv", "TactileVectorEnv", "env_ids", "env_seed"]
__version__ = "0.1.0"


def env_ids() -> list[str]:
    """The registered ids, ``tactile/<ID>``."""
    return [f"tactile/{i}" for i, _, _ in _native.env_specs()]


def _to_space(d: dict) -> spaces.Space:
    kind = d["type"]
    if kind == "Box":
        shape = tuple(d["shape"])
        # An unbounded side becomes the largest float32: the same set of
        # finite values, and the bounds Gymnasium's checker asks for.
        big = np.finfo(np.float32).max
        low = np.nan_to_num(np.asarray(d["low"], dtype=np.float32), neginf=-big).reshape(shape)
        high = np.nan_to_num(np.asarray(d["high"], dtype=np.float32), posinf=big).reshape(shape)
        return spaces.Box(low=low, high=high, shape=shape, dtype=np.float32)
    if kind == "Discrete":
        return spaces.Discrete(d["n"])
    if kind == "MultiDiscrete":
        return spaces.MultiDiscrete(np.asarray(d["nvec"], dtype=np.int64))
    return spaces.Dict([(name, _to_space(s)) for name, s in d["entries"]])


def _flat_dim(d: dict) -> int:
    kind = d["type"]
    if kind == "Box":
        return int(np.prod(d["shape"]))
    if kind == "Discrete":
        return 1
    if kind == "MultiDiscrete":
        return len(d["nvec"])
    return sum(_flat_dim(s) for _, s in d["entries"])


class _Layout:
    """Maps a tactile space onto flat float32 rows and back (by entry name,
    so the order Gymnasium keeps a Dict in does not matter)."""

    def __init__(self, d: dict):
        self.d = d
        self.dim = _flat_dim(d)

    def unflatten(self, flat: np.ndarray, d: dict | None = None, at: int = 0):
        """Views of ``flat`` (``[..., dim]``) shaped as the space's values."""
        d = d or self.d
        lead = flat.shape[:-1]
        kind = d["type"]
        if kind == "Box":
            n = int(np.prod(d["shape"]))
            return flat[..., at:at + n].reshape(lead + tuple(d["shape"]))
        if kind == "Discrete":
            return flat[..., at].astype(np.int64)
        if kind == "MultiDiscrete":
            return flat[..., at:at + len(d["nvec"])].astype(np.int64)
        out, k = {}, at
        for name, s in d["entries"]:
            out[name] = self.unflatten(flat, s, k)
            k += _flat_dim(s)
        return out

    def flatten(self, value, batch: int | None, d: dict | None = None, where: str = "action") -> np.ndarray:
        """``value`` as float32 rows ``[batch, dim]`` (or ``[dim]``)."""
        d = d or self.d
        lead = () if batch is None else (batch,)
        kind = d["type"]
        if kind == "Dict":
            if not isinstance(value, dict):
                raise ValueError(f"{where}: expected a dict with keys {[n for n, _ in d['entries']]}, got {type(value).__name__}")
            missing = [n for n, _ in d["entries"] if n not in value]
            if missing:
                raise ValueError(f"{where}: missing key(s) {missing}")
            parts = [self.flatten(value[n], batch, s, f"{where}[{n!r}]") for n, s in d["entries"]]
            return np.concatenate(parts, axis=-1)
        shape = {"Box": tuple(d.get("shape", ())), "Discrete": (), "MultiDiscrete": (len(d.get("nvec", [])),)}[kind]
        try:
            arr = np.asarray(value, dtype=np.float32)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{where}: not numeric: {e}") from None
        if arr.shape != lead + shape:
            raise ValueError(f"{where}: shape {arr.shape}, expected {lead + shape}")
        return arr.reshape(lead + (-1,)) if shape else arr.reshape(lead + (1,))


def _taxel_image(values: np.ndarray, scale: int = 16) -> np.ndarray:
    """A taxel frame as an RGB image: rows x columns of the most square
    arrangement, black (no force) through red and yellow to white (the
    frame's largest force)."""
    n = values.size
    rows = max(r for r in range(1, int(np.sqrt(n)) + 1) if n % r == 0)
    grid = np.clip(values.reshape(rows, n // rows), 0.0, None)
    top = grid.max()
    t = grid / top if top > 0 else grid
    rgb = np.stack([np.clip(3 * t, 0, 1), np.clip(3 * t - 1, 0, 1), np.clip(3 * t - 2, 0, 1)], axis=-1)
    return np.kron((rgb * 255).astype(np.uint8), np.ones((scale, scale, 1), dtype=np.uint8))


class TactileEnv(gymnasium.Env):
    """One tactile task (``gymnasium.make("tactile/<ID>")`` makes it).

    ``info`` holds ``reward_terms`` (the terms that sum to the reward), the
    task's facts, ``is_success`` and ``physics_fault``; a task with a
    privileged state for an asymmetric critic (the object's pose, velocity
    and mass in ``InHandRotate-v0``) adds it as ``state``, a float32 array
    that a deployable policy must not read. ``render()``
    (``render_mode="rgb_array"``) returns the taxel image.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}

    def __init__(self, env_id: str, render_mode: str | None = None, config: str | None = None):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode {render_mode!r} is not one of {self.metadata['render_modes']}")
        self._env = _native.Env(env_id, config)
        obs_d, act_d = self._env.spaces()
        self._obs, self._act = _Layout(obs_d), _Layout(act_d)
        self.observation_space = _to_space(obs_d)
        self.action_space = _to_space(act_d)
        self.render_mode = render_mode
        self.env_id = env_id
        self._last = np.zeros(self._obs.dim, dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        flat, info = self._env.reset(seed)
        self._last = flat
        return self._obs.unflatten(flat), info

    def step(self, action):
        flat_action = self._act.flatten(action, None)
        flat, reward, terminated, truncated, info = self._env.step(flat_action)
        self._last = flat
        return self._obs.unflatten(flat), float(reward), bool(terminated), bool(truncated), info

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        slot = self._env.taxel_slot()
        if slot is None:
            return np.zeros((16, 16, 3), dtype=np.uint8)
        offset, count = slot
        return _taxel_image(self._last[offset:offset + count])


class TactileVectorEnv(gymnasium.vector.VectorEnv):
    """``num_envs`` copies of a task stepped in Rust by a persistent thread
    pool (the GIL released), with next-step autoreset.

    ``reset(seed=s)`` seeds env ``i`` with ``tactile.env_seed(s, i)``.
    Observations are written into arrays allocated once; with ``copy=True``
    (the default) each call returns a copy of them. With
    ``autoreset_mode="same_step"`` an env that ends is reset within that
    step and ``info["final_obs"]`` / ``info["final_info"]`` hold what the
    ended episode last saw (Gymnasium's same-step mode).
    """

    metadata = {"autoreset_mode": gymnasium.vector.AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, env_id: str, num_envs: int = 1, threads: int | None = None, config: str | None = None,
                 copy: bool = True, render_mode: str | None = None, max_episode_steps: int | None = None,
                 autoreset_mode: str | gymnasium.vector.AutoresetMode = "next_step", **kwargs):
        if kwargs:
            raise ValueError(f"unknown argument(s) {sorted(kwargs)}")
        limit = {i: m for i, m, _ in _native.env_specs()}.get(env_id)
        if max_episode_steps is not None and max_episode_steps != limit:
            raise ValueError(f"max_episode_steps: {env_id} ends episodes after {limit} steps (its own time limit)")
        names = {"next_step": "NextStep", "same_step": "SameStep"}
        if isinstance(autoreset_mode, str):
            autoreset_mode = names.get(autoreset_mode.lower(), autoreset_mode)
        mode = gymnasium.vector.AutoresetMode(autoreset_mode)
        if mode not in (gymnasium.vector.AutoresetMode.NEXT_STEP, gymnasium.vector.AutoresetMode.SAME_STEP):
            raise ValueError(f"autoreset_mode {mode.value!r}: tactile's vector env offers next_step and same_step")
        self.metadata = {**self.metadata, "autoreset_mode": mode}
        self._same_step = mode == gymnasium.vector.AutoresetMode.SAME_STEP
        self._env = _native.VecEnv(env_id, num_envs, threads, config, self._same_step)
        obs_d, act_d = self._env.spaces()
        self._obs_l, self._act_l = _Layout(obs_d), _Layout(act_d)
        self.num_envs = num_envs
        self.single_observation_space = _to_space(obs_d)
        self.single_action_space = _to_space(act_d)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.render_mode = render_mode
        self.copy = copy
        self.env_id = env_id
        self._terms, self._facts = self._env.info_names()
        n = num_envs
        self._obs = np.zeros((n, self._obs_l.dim), dtype=np.float32)
        self._rewards = np.zeros(n, dtype=np.float32)
        self._terminated = np.zeros(n, dtype=bool)
        self._truncated = np.zeros(n, dtype=bool)
        self._term_values = np.zeros((n, len(self._terms)), dtype=np.float32)
        self._fact_values = np.zeros((n, len(self._facts)), dtype=np.float64)
        self._flags = np.zeros((n, 2), dtype=bool)
        self._final_obs = np.zeros((n, self._obs_l.dim), dtype=np.float32)
        self._final_success = np.zeros(n, dtype=bool)
        self._rng = np.random.default_rng()

    def _observations(self):
        obs = self._obs.copy() if self.copy else self._obs
        return self._obs_l.unflatten(obs)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is None:
            seed = int(self._rng.integers(0, 2**63))
        elif not isinstance(seed, (int, np.integer)):
            raise ValueError("seed: one int (env i is seeded with tactile.env_seed(seed, i))")
        self._rng = np.random.default_rng(seed)
        self._env.reset(int(seed), self._obs)
        self._rewards[:] = 0
        self._terminated[:] = False
        self._truncated[:] = False
        return self._observations(), {}

    def step(self, actions):
        flat = np.ascontiguousarray(self._act_l.flatten(actions, self.num_envs, where="actions"))
        self._env.step(flat, self._obs, self._rewards, self._terminated, self._truncated,
                       self._term_values, self._fact_values, self._flags)
        every = np.ones(self.num_envs, dtype=bool)
        info = {"reward_terms": {t: self._term_values[:, k].copy() for k, t in enumerate(self._terms)},
                "_reward_terms": every}
        for k, f in enumerate(self._facts):
            info[f] = self._fact_values[:, k].copy()
            info[f"_{f}"] = every
        info["is_success"], info["_is_success"] = self._flags[:, 0].copy(), every
        info["physics_fault"], info["_physics_fault"] = self._flags[:, 1].copy(), every
        done = self._terminated | self._truncated
        if self._same_step and done.any():
            self._env.final_obs(self._final_obs, self._final_success)
            final_obs = np.full(self.num_envs, None, dtype=object)
            final_info = np.full(self.num_envs, None, dtype=object)
            for i in np.flatnonzero(done):
                final_obs[i] = self._obs_l.unflatten(self._final_obs[i].copy())
                final_info[i] = {"is_success": bool(self._final_success[i])}
            info["final_obs"], info["_final_obs"] = final_obs, done.copy()
            info["final_info"], info["_final_info"] = final_info, done.copy()
        return (self._observations(), self._rewards.copy(), self._terminated.copy(), self._truncated.copy(), info)


for _id, _max_steps, _summary in _native.env_specs():
    gymnasium.register(
        id=f"tactile/{_id}",
        entry_point="tactile:TactileEnv",
        vector_entry_point="tactile:TactileVectorEnv",
        max_episode_steps=_max_steps,
        kwargs={"env_id": _id},
    )
