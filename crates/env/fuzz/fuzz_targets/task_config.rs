//! Arbitrary bytes as a user's task config (`tactile check ID --config
//! FILE`, `tactile_env::make(id, Some(file))`) for every registered task,
//! the first byte choosing the task: the env must build or return one
//! error, and an env that builds must reset and step without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, text)) = data.split_first() else { return };
    let specs = tactile_env::registry();
    let spec = &specs[usize::from(which) % specs.len()];
    let path = std::env::temp_dir().join(format!("tactile-fuzz-task-{}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    if let Ok(mut env) = tactile_env::make(spec.id, Some(&path)) {
        let mut obs = vec![0.0; env.observation_space().flat_dim()];
        let mut info = env.new_info();
        env.reset(Some(1), &mut obs, &mut info);
        let action = vec![0.5; env.action_space().flat_dim()];
        for _ in 0..5 {
            if env.step(&action, &mut obs, &mut info).is_err() {
                break;
            }
        }
    }
});
