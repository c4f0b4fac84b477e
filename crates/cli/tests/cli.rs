//! The `tactile` binary as a user runs it.

use std::process::Command;

fn tactile() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tactile"))
}

#[test]
fn bench_sim_json_reports_every_figure_and_sane_physics() {
    let out = tactile().args(["bench", "sim", "--steps", "420", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "one JSON object on one line: {stdout}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    for key in [
        "physics_steps_per_s",
        "taxel_steps_per_s",
        "reset_us",
        "taxel_sum_n",
        "solver_normal_n",
        "nonzero_taxels",
        "cube_final_x_m",
    ] {
        assert!(v[key].is_number(), "missing {key} in {v}");
    }
    let sum = v["taxel_sum_n"].as_f64().unwrap();
    let solver = v["solver_normal_n"].as_f64().unwrap();
    assert!((sum - solver).abs() < 0.02 * solver, "{sum} vs {solver}");
    assert!(v["nonzero_taxels"].as_u64().unwrap() >= 60);
    let pushed = v["cube_final_x_m"].as_f64().unwrap() - 0.06;
    assert!((0.020..=0.040).contains(&pushed), "cube pushed {pushed} m");
    assert!(v["physics_steps_per_s"].as_f64().unwrap() > 0.0);
}

#[test]
fn bench_sim_table_names_its_figures() {
    let out = tactile().args(["bench", "sim", "--steps", "210"]).output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    for label in ["physics only", "physics + taxels", "taxel sum", "solver normal force", "cube pushed"] {
        assert!(stdout.contains(label), "{label} missing from\n{stdout}");
    }
}

fn one_line_error(args: &[&str]) -> String {
    let out = tactile().args(args).output().unwrap();
    assert!(!out.status.success(), "{args:?} should fail");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"), "{stderr}");
    stderr
}

#[test]
fn bad_input_fails_with_one_clear_line() {
    let e = one_line_error(&["bench", "sim", "--steps", "0"]);
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    assert!(e.contains("--steps"), "{e}");

    let e = one_line_error(&["bench", "warp-drive"]);
    assert!(e.contains("warp-drive"), "{e}");

    // A malformed scene file in a user's assets folder.
    let dir = std::env::temp_dir().join(format!("tactile-cli-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("scenes")).unwrap();
    std::fs::write(dir.join("scenes/taxel-slide.toml"), "[physics]\nphysics_hz = \"fast\"\n").unwrap();
    let e = one_line_error(&["bench", "sim", "--assets", dir.to_str().unwrap()]);
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    assert!(e.contains("taxel-slide.toml:2:") && e.contains("physics_hz") || e.contains("invalid type"), "{e}");
}

#[test]
fn envs_lists_every_task_with_its_spaces() {
    let out = tactile().args(["envs", "--json"]).output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = v["envs"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    for id in ["Explore-v0", "Pendulum-v1", "Press-v0"] {
        assert!(ids.contains(&id), "{ids:?}");
    }
    let space = |id: &str, key: &str| {
        let e = v["envs"].as_array().unwrap().iter().find(|e| e["id"] == id).unwrap();
        e[key].as_str().unwrap().to_owned()
    };
    assert!(space("Press-v0", "observation_space").starts_with("Box("));
    assert!(space("Explore-v0", "observation_space").starts_with("Dict(grid: Box(0, 3, [60, 60]"));
    assert_eq!(space("Explore-v0", "action_space"), "Dict(move: Discrete(4), declare: Discrete(11))");
}

#[test]
fn check_passes_for_a_task_and_refuses_bad_ids_and_configs() {
    let out = tactile().args(["check", "Press-v0", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true);

    let e = one_line_error(&["check", "press-v0"]);
    assert_eq!(e.trim(), "error: unknown env id `press-v0` (did you mean `Press-v0`?)");

    let cfg = std::env::temp_dir().join(format!("tactile-cli-cfg-{}.toml", std::process::id()));
    std::fs::write(&cfg, "hold_steps = \"twenty\"\n").unwrap();
    let e = one_line_error(&["check", "Press-v0", "--config", cfg.to_str().unwrap()]);
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    assert!(e.contains(&format!("{}:1:", cfg.display())), "{e}");
}

#[test]
fn bench_vec_reports_scaling_per_task() {
    let out = tactile().args(["bench", "vec", "--steps", "5", "--num-envs", "4", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let press = &v["tasks"]["Press-v0"];
    for key in ["steps_per_s_1", "steps_per_s_all", "scaling"] {
        assert!(press[key].as_f64().unwrap() > 0.0, "{key} in {v}");
    }
    assert!(v["threads"].as_u64().unwrap() >= 1);
}

#[test]
fn train_writes_a_run_folder_and_reports_json() {
    let dir = std::env::temp_dir().join(format!("tactile-train-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = tactile()
        .args([
            "train",
            "Press-v0",
            "--steps",
            "2048",
            "--eval-episodes",
            "2",
            "--json",
            "--out",
            dir.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["env_id", "steps", "wall_s", "mean_return", "success_rate", "mean_episode_len"] {
        assert!(!v[key].is_null(), "missing {key} in {v}");
    }
    assert_eq!(v["steps"], 2048);
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["ppo"]["total_steps"], 2048);
    let csv = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    assert!(csv.starts_with("global_step,wall_s,charts/episodic_return"));
    assert!(csv.lines().next().unwrap().contains("rewards/force_error"));
    assert_eq!(csv.lines().count(), 3, "a header and one row per update:\n{csv}");
    let events = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("events.out.tfevents"));
    assert!(events.is_some());

    // The folder is never written over; bad devices and configs fail cleanly.
    let before = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let e = one_line_error(&["train", "Press-v0", "--steps", "64", "--out", dir.to_str().unwrap()]);
    assert!(e.contains("not empty"), "{e}");
    assert_eq!(std::fs::read_to_string(dir.join("metrics.csv")).unwrap(), before);
    let e = one_line_error(&["train", "Press-v0", "--device", "tpu"]);
    assert!(e.contains("unknown device `tpu`"), "{e}");
    let cfg = dir.with_extension("toml");
    std::fs::write(&cfg, "learning_rte = 0.1\n").unwrap();
    let e = one_line_error(&["train", "Press-v0", "--config", cfg.to_str().unwrap()]);
    assert!(e.contains(":1:") && e.contains("learning_rte"), "{e}");
}
