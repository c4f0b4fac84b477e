#!/usr/bin/env bash
# The Python package as a user meets it, run by CI:
#  1. the README's commands as written: a venv, `pip install ./python`, a
#     task made from Python, `python/bench.py` (shortened), the tests;
#  2. off the tree: a wheel built once with `pip wheel`, installed into a
#     fresh venv in another folder, and the tests (Gymnasium's check_env on
#     every id) run there with this checkout hidden behind an empty mount,
#     so that nothing can be read from the source tree.
# Needs Python 3.9+ with venv, PyPI, and for step 2 `unshare` as root (set
# TACTILE_REQUIRE_OFF_TREE=1 to fail rather than skip where it is missing).
# MATURIN_PEP517_ARGS="--profile dev" builds the module in the dev profile.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

echo "-- the README's commands"
python3 -m venv .venv && .venv/bin/pip install --quiet ./python
.venv/bin/python -c "import gymnasium, tactile; print(gymnasium.make('tactile/Press-v0').reset(seed=0)[0].shape)"
.venv/bin/python python/bench.py --batches 20
.venv/bin/pip install --quiet pytest
.venv/bin/python -m pytest python/tests -q

echo "-- a wheel installed elsewhere, the checkout hidden"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/pip wheel --quiet --no-deps -w "$work/wheels" ./python
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet "$work"/wheels/*.whl pytest
cp -r python/tests "$work/tests"
cd "$work"
hide='mount -t tmpfs -o ro none "$0" && exec "$@"'
if unshare --mount --propagation private true 2>/dev/null; then
    unshare --mount --propagation private sh -c "$hide" "$root" "$work/venv/bin/python" -m pytest tests -q -p no:cacheprovider
elif [ "${TACTILE_REQUIRE_OFF_TREE:-0}" = 1 ]; then
    echo "cannot hide the checkout: unshare --mount is not permitted here" >&2
    exit 1
else
    echo "note: unshare --mount is not permitted here; the wheel's tests ran with the checkout visible" >&2
    "$work/venv/bin/python" -m pytest tests -q -p no:cacheprovider
fi
