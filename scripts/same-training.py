#!/usr/bin/env python3
"""Whether two training runs are the same run, bit for bit: metrics.csv
without its time columns (wall_s, charts/SPS), the final weights
(final/*.safetensors), and the latest checkpoint's trainer.json.

    python3 scripts/same-training.py RUN_A RUN_B

Made for refactors: train with one seed before and after, e.g.
`tactile train Explore-v0 --steps 10240 --seed 5 --out runs/before`, then
compare. Exits 0 when the runs are the same, 1 otherwise, saying what
differs.
"""

import csv
import glob
import hashlib
import json
import os
import sys


def metrics(run):
    with open(os.path.join(run, "metrics.csv")) as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row.pop("wall_s", None)
        row.pop("charts/SPS", None)
    return rows


def weights(run):
    out = {}
    for path in sorted(glob.glob(os.path.join(run, "final", "*.safetensors"))):
        with open(path, "rb") as f:
            out[os.path.basename(path)] = hashlib.sha256(f.read()).hexdigest()
    return out


def trainer(run):
    checkpoints = sorted(glob.glob(os.path.join(run, "checkpoints", "update_*[0-9]")))
    if not checkpoints:
        return None
    with open(os.path.join(checkpoints[-1], "trainer.json")) as f:
        return json.load(f)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    a, b = sys.argv[1:]
    differ = [name for name, part in [("metrics", metrics), ("final weights", weights), ("trainer.json", trainer)]
              if part(a) != part(b)]
    if differ:
        print(f"different: {', '.join(differ)}")
        sys.exit(1)
    print(f"the same run: {len(metrics(a))} updates, weights {', '.join(weights(a))}")


if __name__ == "__main__":
    main()
