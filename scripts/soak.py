#!/usr/bin/env python3
"""Soak test of training's checkpoints (outside CI: it runs for minutes).

    python3 scripts/soak.py [--kills 50] [--env Pendulum-v1] [--steps 200000]
                            [--seed 3] [--tactile target/release/tactile] [--work DIR]

Trains ENV once without interruption (the reference), then trains it again
with a checkpoint every second and kills the process with SIGKILL at a
random moment (seeded) KILLS times, resuming it with `--resume` after each
kill. After every kill it checks every checkpoint on disk: each
`checkpoints/update_*` folder must hold the files its `checksums.json`
lists, with those CRC-32C sums (a half-written one would fail). At the end
the killed run must equal the reference bit for bit: metrics.csv without
its time columns, the final weights and the last trainer state
(scripts/same-training.py). Prints one line of figures and exits 0 when
all of it holds, 1 otherwise.
"""

import argparse
import glob
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def crc32c(data):
    table = crc32c.table
    if table is None:
        table = []
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            table.append(c)
        crc32c.table = table
    c = 0xFFFFFFFF
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


crc32c.table = None


def check_checkpoints(run):
    """Names of the checkpoints on disk, or raises naming a damaged one."""
    names = []
    for ckpt in sorted(glob.glob(os.path.join(run, "checkpoints", "update_*"))):
        if ckpt.endswith(".damaged"):
            raise SystemExit(f"{ckpt}: the trainer found a damaged checkpoint")
        with open(os.path.join(ckpt, "checksums.json")) as f:
            sums = json.load(f)
        for name in ["trainer.json", "optimizer.bpk", "model.safetensors", "meta.json"]:
            if name not in sums:
                raise SystemExit(f"{ckpt}: checksums.json lists no {name}")
        for name, want in sums.items():
            with open(os.path.join(ckpt, name), "rb") as f:
                if crc32c(f.read()) != want:
                    raise SystemExit(f"{ckpt}/{name}: its CRC-32C differs from checksums.json (half-written)")
        names.append(os.path.basename(ckpt))
    return names


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--env", default="Pendulum-v1")
    ap.add_argument("--steps", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--tactile", default=os.path.join(HERE, "..", "target", "release", "tactile"))
    ap.add_argument("--work", default=None, help="folder for the two runs (default: a temporary one)")
    ap.add_argument("--min-s", type=float, default=1.5, help="earliest kill after a start (s)")
    ap.add_argument("--max-s", type=float, default=4.0, help="latest kill after a start (s)")
    args = ap.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="tactile-soak-")
    os.makedirs(work, exist_ok=True)
    ref, run = os.path.join(work, "reference"), os.path.join(work, "killed")
    for d in (ref, run):
        shutil.rmtree(d, ignore_errors=True)
    base = [args.tactile, "train", args.env, "--steps", str(args.steps), "--seed", str(args.seed),
            "--checkpoint-every-s", "1", "--eval-episodes", "1"]
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    t0 = time.monotonic()
    subprocess.run(base + ["--out", ref], check=True, **quiet)
    ref_s = time.monotonic() - t0

    rng = random.Random(args.seed)
    kills = resumes = fresh_starts = checks = 0
    t0 = time.monotonic()
    while True:
        have = os.path.isdir(os.path.join(run, "checkpoints")) and check_checkpoints(run)
        if have:
            cmd = base + ["--resume", run]
            resumes += 1
        else:
            # Killed before its first checkpoint: nothing to resume; a user
            # starts again.
            shutil.rmtree(run, ignore_errors=True)
            cmd = base + ["--out", run]
            fresh_starts += 1
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if kills < args.kills:
            try:
                proc.wait(timeout=rng.uniform(args.min_s, args.max_s))
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                kills += 1
                check_checkpoints(run)
                checks += 1
                continue
        else:
            proc.wait()
        err = proc.stderr.read().decode(errors="replace")
        if proc.returncode != 0:
            print(f"the run failed (exit {proc.returncode}):\n{err}", file=sys.stderr)
            return 1
        break
    run_s = time.monotonic() - t0
    if kills < args.kills:
        print(f"the run ended after {kills} of {args.kills} kills: give it more --steps", file=sys.stderr)
        return 1
    same = subprocess.run([sys.executable, os.path.join(HERE, "same-training.py"), ref, run])
    print(
        f"soak {args.env} {args.steps} steps: {kills} SIGKILLs, {resumes} resumes,"
        f" {fresh_starts - 1} restarts (killed before a first checkpoint),"
        f" checkpoints checked after each kill: none half-written;"
        f" reference {ref_s:.0f} s, killed run {run_s:.0f} s; identical: {'yes' if same.returncode == 0 else 'NO'}"
    )
    return same.returncode


if __name__ == "__main__":
    sys.exit(main())
