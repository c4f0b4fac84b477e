//! Arbitrary bytes as a training checkpoint of Press-v0: three
//! little-endian u32 lengths, then `trainer.json`, `optimizer.bpk` and
//! `meta.json` of those lengths, the rest `model.safetensors`; the folder
//! gets a `checksums.json` that matches, so the parsers behind the CRC
//! check are what is reached. `load_checkpoint` must load or return one
//! error; a checkpoint that loads must put a batch of envs back or return
//! one error.
#![no_main]

use burn::tensor::Device;
use libfuzzer_sys::fuzz_target;
use tactile_env::VecEnv;
use tactile_rl::load_checkpoint;

fuzz_target!(|data: &[u8]| {
    if data.len() < 12 {
        return;
    }
    let mut rest = &data[12..];
    let mut parts = Vec::new();
    for k in 0..3 {
        let n = u32::from_le_bytes(data[4 * k..4 * k + 4].try_into().unwrap()) as usize;
        let (part, tail) = rest.split_at(n.min(rest.len()));
        parts.push(part);
        rest = tail;
    }
    let dir = std::env::temp_dir().join(format!("tactile-fuzz-ckpt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let names = ["trainer.json", "optimizer.bpk", "meta.json", "model.safetensors"];
    for (name, bytes) in names.iter().zip(parts.iter().copied().chain([rest])) {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    tactile_policy::write_checksums(&dir, names).unwrap();
    let env = tactile_env::make("Press-v0", None).unwrap();
    let (obs, act) = (env.observation_space().clone(), env.action_space().clone());
    if let Ok(resumed) = load_checkpoint(&dir, &obs, &act, 0, Device::flex()) {
        let n = resumed.state.config.num_envs;
        if n <= 8 {
            if let Ok(mut envs) = VecEnv::make("Press-v0", n, 1, None) {
                let _ = resumed.restore_env(&mut envs);
            }
        }
    }
});
