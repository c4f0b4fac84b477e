"""tactile's tasks as Gymnasium sees them: the env checker on every id,
the Rust vector env against Gymnasium's own SyncVectorEnv, and bad input."""

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import tactile

IDS = tactile.env_ids()


def test_every_task_is_registered_with_its_limit():
    assert {"tactile/Press-v0", "tactile/Explore-v0", "tactile/EdgeFollow-v0", "tactile/Pendulum-v1"} <= set(IDS)
    spec = gymnasium.spec("tactile/Explore-v0")
    assert spec.max_episode_steps == 2000
    assert spec.vector_entry_point == "tactile:TactileVectorEnv"


@pytest.mark.parametrize("env_id", IDS)
def test_check_env_passes_with_warnings_as_errors(env_id):
    env = gymnasium.make(env_id, render_mode="rgb_array")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if env_id == "tactile/Pendulum-v1":
            # Gymnasium's own Pendulum-v1 acts in [-2, 2] N m, and so does
            # ours: the checker's advice to normalise is not a fault.
            warnings.filterwarnings("ignore", message=".*symmetric and normalized space.*")
        # Its seed-determinism checks only run on the unwrapped env.
        check_env(env.unwrapped)
    env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_spaces_map_one_to_one_and_info_carries_the_reward_terms(env_id):
    env = gymnasium.make(env_id, render_mode="rgb_array")
    obs, info = env.reset(seed=3)
    assert env.observation_space.contains(obs)
    total = 0.0
    for _ in range(5):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert env.observation_space.contains(obs)
        assert abs(sum(info["reward_terms"].values()) - reward) < 1e-5
        if terminated or truncated:
            break
    image = env.render()
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    env.close()


def test_the_in_hand_info_carries_the_privileged_state_and_others_none():
    env = gymnasium.make("tactile/InHandRotate-v0")
    _, info = env.reset(seed=3)
    state = info["state"]
    assert state.dtype == np.float32 and state.shape == (17,)
    # At the start the object is where it began (offset 0), at rest, and
    # its mass (kg x 10) lies in the default 30-80 g.
    assert np.allclose(state[:6], 0.0, atol=1e-5) and 0.3 <= state[12] <= 0.8
    _, _, _, _, info = env.step(env.action_space.sample())
    assert np.all(np.isfinite(info["state"])) and np.any(info["state"][:6] != 0.0)
    env.close()
    env = gymnasium.make("tactile/Press-v0")
    assert "state" not in env.reset(seed=0)[1]
    env.close()


def test_explore_spaces_are_a_dict_of_grid_and_taxels():
    env = gymnasium.make("tactile/Explore-v0")
    assert env.observation_space["grid"].shape == (60, 60)
    assert env.observation_space["taxels"].shape == (48,)
    assert env.action_space["move"].n == 4 and env.action_space["declare"].n == 11
    obs, info = env.reset(seed=0)
    assert (obs["grid"] == 3).sum() == 1  # the finger's cell
    assert "object_id" in info


@pytest.mark.parametrize("env_id", ["tactile/Press-v0", "tactile/Explore-v0"])
def test_the_rust_vector_env_steps_as_gymnasiums_sync_vector_env(env_id):
    n, seed = 4, 7
    ours = gymnasium.make_vec(env_id, num_envs=n, threads=2)
    assert isinstance(ours.unwrapped, tactile.TactileVectorEnv)
    theirs = gymnasium.vector.SyncVectorEnv([lambda: gymnasium.make(env_id) for _ in range(n)])
    a, _ = ours.reset(seed=seed)
    b, _ = theirs.reset(seed=[tactile.env_seed(seed, i) for i in range(n)])
    rng = np.random.default_rng(0)
    theirs.action_space.seed(1)
    ends = 0
    for t in range(260):
        if env_id.endswith("Explore-v0"):
            # Moves, and now and then a declaration that ends an episode.
            actions = {"move": rng.integers(0, 4, n), "declare": np.where(rng.random(n) < 0.02, rng.integers(1, 11, n), 0)}
        else:
            actions = theirs.action_space.sample()
        a, ra, ta, ua, ia = ours.step(actions)
        b, rb, tb, ub, ib = theirs.step(actions)
        for key in (a.keys() if isinstance(a, dict) else [None]):
            x, y = (a[key], b[key]) if key else (a, b)
            assert np.array_equal(x, y), f"step {t}: observations differ ({key})"
        assert np.array_equal(ra, rb.astype(np.float32)), f"step {t}: rewards {ra} vs {rb}"
        assert np.array_equal(ta, tb) and np.array_equal(ua, ub), f"step {t}: flags differ"
        ends += int(ta.sum() + ua.sum())
    assert ends > 0, "the comparison should cross episode ends"
    ours.close()
    theirs.close()


def test_bad_input_raises_clear_python_errors():
    env = gymnasium.make("tactile/Press-v0").unwrapped
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"shape \(2,\), expected \(1,\)"):
        env.step(np.zeros(2, dtype=np.float32))
    with pytest.raises(ValueError, match="NaN|not finite|nan"):
        env.step(np.array([np.nan], dtype=np.float32))
    with pytest.raises(ValueError, match="not numeric"):
        env.step("push")
    with pytest.raises(ValueError, match="unknown env id `Prss-v0`"):
        tactile.TactileEnv("Prss-v0")
    with pytest.raises(gymnasium.error.NameNotFound):
        gymnasium.make("tactile/Prss-v0")
    explore = gymnasium.make("tactile/Explore-v0").unwrapped
    explore.reset(seed=0)
    with pytest.raises(ValueError, match="missing key"):
        explore.step({"move": 1})
    vec = gymnasium.make_vec("tactile/Press-v0", num_envs=3)
    vec.reset(seed=0)
    with pytest.raises(ValueError, match=r"shape \(2, 1\), expected \(3, 1\)"):
        vec.step(np.zeros((2, 1), dtype=np.float32))
    with pytest.raises(ValueError, match="env 1"):
        vec.step(np.array([[0.0], [5.0], [0.0]], dtype=np.float32))
    # The env still works after refusing all that.
    obs, *_ = vec.step(np.zeros((3, 1), dtype=np.float32))
    assert obs.shape == (3, 66)


def test_same_step_autoreset_keeps_the_final_observation():
    n = 3
    nxt = gymnasium.make_vec("tactile/Pendulum-v1", num_envs=n)
    same = gymnasium.make_vec("tactile/Pendulum-v1", num_envs=n, autoreset_mode="same_step")
    assert same.metadata["autoreset_mode"] == gymnasium.vector.AutoresetMode.SAME_STEP
    nxt.reset(seed=5)
    same.reset(seed=5)
    actions = np.full((n, 1), 0.3, dtype=np.float32)
    for _ in range(200):
        a, *_ = nxt.step(actions)
        b, _, _, truncated, info = same.step(actions)
    assert truncated.all() and info["_final_obs"].all()
    assert np.array_equal(np.stack(list(info["final_obs"])), a)
    reset_obs, *_ = nxt.step(actions)
    assert np.array_equal(b, reset_obs)
