//! Checkpoints: a run stopped and resumed goes on bit for bit as the
//! uninterrupted run, TANDEM's discriminator and replay buffer included;
//! broken checkpoints are refused with the file that is wrong.

use std::path::Path;

use burn::tensor::Device;
use tactile_env::VecEnv;
use tactile_rl::weights::named_params;
use tactile_rl::{
    CnnConfig, FactBonus, Ppo, PpoConfig, TandemConfig, TrainedPolicy, evaluate, load_checkpoint, save_checkpoint,
};

fn small_explore() -> PpoConfig {
    let cnn = CnnConfig { channels: vec![4, 8], kernels: vec![4, 3], strides: vec![4, 2], features: 32 };
    PpoConfig {
        num_envs: 3,
        threads: 1,
        num_steps: 24,
        num_minibatches: 2,
        update_epochs: 2,
        hidden: vec![32],
        tandem: Some(TandemConfig {
            buffer_size: 100,
            batch_size: 16,
            train_steps: 2,
            cnn: cnn.clone(),
            calibration_envs: 1,
            calibration_smoothing: 0.5,
            ..TandemConfig::default()
        }),
        cnn: Some(cnn),
        egocentric: true,
        bonus: Some(FactBonus { fact: "contact_cells".into(), per_unit: 0.05 }),
        total_steps: 4 * 3 * 24,
        ..PpoConfig::for_task("Explore-v0").unwrap()
    }
}

fn start(config: &PpoConfig, threads: usize) -> (Ppo, VecEnv) {
    let mut env = VecEnv::make("Explore-v0", config.num_envs, threads, None).unwrap();
    env.reset(config.seed).unwrap();
    let ppo =
        Ppo::new(config.clone(), env.observation_space(), env.action_space(), env.state_dim(), Device::flex()).unwrap();
    (ppo, env)
}

fn bits(ppo: &Ppo) -> Vec<u32> {
    let mut out = Vec::new();
    for (_, _, v) in named_params(&ppo.model) {
        out.extend(v.iter().map(|x| x.to_bits()));
    }
    let discriminator = &ppo.tandem().unwrap().model;
    for (_, _, v) in named_params(discriminator) {
        out.extend(v.iter().map(|x| x.to_bits()));
    }
    out.push(discriminator.temperature().to_bits());
    out.extend(ppo.obs_rms.mean.iter().map(|x| x.to_bits() as u32));
    out
}

#[test]
fn a_resumed_tandem_run_matches_the_uninterrupted_one_bit_for_bit() {
    let config = small_explore();
    let (mut a, mut env_a) = start(&config, 1);
    let mut returns_a = Vec::new();
    for _ in 0..4 {
        returns_a.push(a.iterate(&mut env_a).unwrap().episode_returns);
    }

    let dir = std::env::temp_dir().join(format!("tactile-ckpt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (mut b, mut env_b) = start(&config, 1);
    let mut returns_b = Vec::new();
    for _ in 0..2 {
        returns_b.push(b.iterate(&mut env_b).unwrap().episode_returns);
    }
    let ckpt = dir.join("update_2");
    save_checkpoint(&b, &env_b, &ckpt).unwrap();
    drop((b, env_b));

    // Resume on two threads: the envs are thread-count independent.
    let mut env_c = VecEnv::make("Explore-v0", config.num_envs, 2, None).unwrap();
    let (obs, act) = (env_c.observation_space().clone(), env_c.action_space().clone());
    let resumed = load_checkpoint(&ckpt, &obs, &act, 0, Device::flex()).unwrap();
    resumed.restore_env(&mut env_c).unwrap();
    let mut c = resumed.ppo;
    assert_eq!(c.updates, 2);
    // The calibration has run (after the second update) and came back.
    let t = c.tandem().unwrap().model.temperature();
    assert!(t != 1.0 && t.is_finite() && t > 0.0, "temperature {t}");
    for _ in 0..2 {
        returns_b.push(c.iterate(&mut env_c).unwrap().episode_returns);
    }
    assert_eq!(returns_a, returns_b);
    assert!(bits(&a) == bits(&c), "the resumed run's weights differ from the uninterrupted run's");
    assert_eq!(env_a.obs, env_c.obs);

    // The policy folder read back acts as the learner's own policy: the
    // CNN, the egocentric view, the normalisation and the discriminator.
    let folder = dir.join("final");
    a.policy("Explore-v0").unwrap().save(&folder).unwrap();
    let loaded = TrainedPolicy::load(&folder).unwrap();
    assert_eq!(loaded.meta.algo, "tandem");
    assert!(loaded.meta.network.egocentric.is_some());
    let ad = act.flat_dim();
    let (mut x, mut y) = (vec![0.0; 3 * ad], vec![0.0; 3 * ad]);
    a.policy("Explore-v0").unwrap().act(&env_a.obs, &mut x);
    loaded.act(&env_a.obs, &mut y);
    assert_eq!(x, y);

    // An evaluation reports the facts as they stood at each episode's end:
    // every step but a declaration is a move, and a move gains at most one
    // contact cell (facts read after the autoreset would be zeros).
    let report = evaluate(&loaded, "Explore-v0", 4, 7, 1, true).unwrap();
    let names: Vec<&str> = report.final_facts.keys().map(String::as_str).collect();
    assert_eq!(names, ["approach_moves", "contact_cells", "moves", "object_id"]);
    let (moves, cells) = (report.final_facts["moves"], report.final_facts["contact_cells"]);
    assert!(moves >= report.mean_episode_len - 1.0 && moves <= report.mean_episode_len, "{report:?}");
    // (These seeded episodes do touch the object, so the bound is not
    // met by zeros.)
    assert!(cells >= 1.0 && cells <= moves, "{report:?}");
    // Every episode touched, so each approach ended within it.
    let approach = report.final_facts["approach_moves"];
    assert!(approach >= 1.0 && approach <= moves, "{report:?}");

    // Corruption anywhere is caught by the checksums before anything is read.
    for file in ["model.safetensors", "replay.bin", "trainer.json", "optimizer.bpk"] {
        let copy = dir.join(format!("broken-{file}"));
        copy_dir(&ckpt, &copy);
        let path = copy.join(file);
        let mut bytes = std::fs::read(&path).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        let e = load_checkpoint(&copy, &obs, &act, 0, Device::flex()).err().unwrap().to_string();
        assert!(e.contains(file) && e.contains("checksum mismatch"), "{e}");
        // Truncated, likewise.
        std::fs::write(&path, &bytes[..mid]).unwrap();
        let e = load_checkpoint(&copy, &obs, &act, 0, Device::flex()).err().unwrap().to_string();
        assert!(e.contains("checksum mismatch"), "{e}");
    }
    let e = load_checkpoint(&dir.join("nothing"), &obs, &act, 0, Device::flex()).err().unwrap().to_string();
    assert!(e.contains("checksums.json"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
    }
}
