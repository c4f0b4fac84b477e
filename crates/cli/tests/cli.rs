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

#[test]
fn bench_hand_json_reports_every_figure_and_a_held_object() {
    let out = tactile().args(["bench", "hand", "--steps", "100", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    for key in [
        "control_steps_per_s",
        "physics_steps_per_s",
        "control_steps_per_s_taxels",
        "physics_steps_per_s_taxels",
        "reset_us",
        "taxel_sum_n",
        "solver_normal_n",
        "object_height_after_1s_m",
    ] {
        assert!(v[key].as_f64().is_some_and(f64::is_finite), "missing {key} in {v}");
    }
    assert_eq!(v["substeps"], 6);
    let (sum, solver) = (v["taxel_sum_n"].as_f64().unwrap(), v["solver_normal_n"].as_f64().unwrap());
    assert!(solver > 0.5 && (sum - solver).abs() < 0.05 * solver, "taxels {sum} N vs solver {solver} N");
    // Held: after 1 s the cylinder has slipped by less than 2 cm.
    let drop = v["object_start_height_m"].as_f64().unwrap() - v["object_height_after_1s_m"].as_f64().unwrap();
    assert!(drop < 0.02, "the cylinder fell {drop} m");
}

#[test]
fn a_bad_robot_in_a_users_assets_fails_with_one_line_naming_the_element() {
    let dir = std::env::temp_dir().join(format!("tactile-cli-robot-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("scenes")).unwrap();
    std::fs::create_dir_all(dir.join("robots/allegro")).unwrap();
    let scene = include_str!("../../../assets/scenes/hand-hold.toml");
    // An override for a joint the hand does not have.
    let bad = scene.replace("[robots.drive]", "joints.\"joint_99.0\" = { stiffness_nm_per_rad = 1.0 }\n[robots.drive]");
    std::fs::write(dir.join("scenes/hand-hold.toml"), bad).unwrap();
    let e = one_line_error(&["bench", "hand", "--assets", dir.to_str().unwrap()]);
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    assert!(e.contains("allegro.urdf") && e.contains("joint `joint_99.0`"), "{e}");
    // A URDF that is not XML.
    std::fs::write(dir.join("scenes/hand-hold.toml"), scene).unwrap();
    std::fs::write(dir.join("robots/allegro/allegro.urdf"), "<robot name=\"x\"><link name=\"a\"></robot").unwrap();
    let e2 = one_line_error(&["bench", "hand", "--assets", dir.to_str().unwrap()]);
    assert_eq!(e2.trim().lines().count(), 1, "{e2}");
    assert!(e2.contains("robots/allegro/allegro.urdf") && e2.contains("not a valid URDF"), "{e2}");
    std::fs::remove_dir_all(&dir).ok();
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
    let rows = 1 + 2048 / press_batch();
    assert_eq!(csv.lines().count() as u64, rows, "a header and one row per update:\n{csv}");
    let events = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("events.out.tfevents"));
    assert!(events.is_some());

    // The folder is never written over; bad devices and configs fail cleanly.
    let before = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let e = one_line_error(&["train", "Press-v0", "--steps", "512", "--out", dir.to_str().unwrap()]);
    assert!(e.contains("not empty"), "{e}");
    assert_eq!(std::fs::read_to_string(dir.join("metrics.csv")).unwrap(), before);
    let e = one_line_error(&["train", "Press-v0", "--device", "tpu"]);
    assert!(e.contains("unknown device `tpu`"), "{e}");
    let cfg = dir.with_extension("toml");
    std::fs::write(&cfg, "learning_rte = 0.1\n").unwrap();
    let e = one_line_error(&["train", "Press-v0", "--config", cfg.to_str().unwrap()]);
    assert!(e.contains(":1:") && e.contains("learning_rte"), "{e}");
}

fn run_json(args: &[&str]) -> serde_json::Value {
    let out = tactile().args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every file under `dir` with its bytes, sorted by path.
fn snapshot(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Steps per PPO update in Press-v0's defaults (`envs/Press-v0.ppo.toml`).
fn press_batch() -> u64 {
    let config = tactile_rl::PpoConfig::for_task("Press-v0").unwrap();
    (config.num_envs * config.num_steps) as u64
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tactile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The metrics rows without the columns that hold times.
fn metrics_without_times(dir: &std::path::Path) -> Vec<String> {
    let csv = std::fs::read_to_string(dir.join("metrics.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let keep: Vec<usize> = (0..header.len()).filter(|&i| header[i] != "wall_s" && header[i] != "charts/SPS").collect();
    csv.lines()
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            keep.iter().map(|&i| cells[i]).collect::<Vec<_>>().join(",")
        })
        .collect()
}

#[test]
fn a_resumed_run_ends_bit_for_bit_as_one_that_never_stopped() {
    // With a constant learning rate (Press-v0 anneals its own), a run of
    // 4096 steps extended to 8192 is the same run as one of 8192 steps.
    let (a, b) = (temp("whole"), temp("halves"));
    let (a_s, b_s) = (a.to_str().unwrap(), b.to_str().unwrap());
    let constant = temp("constant-lr.toml");
    std::fs::write(&constant, "anneal_lr = false\n").unwrap();
    let c = constant.to_str().unwrap();
    run_json(&["train", "Press-v0", "--config", c, "--steps", "8192", "--eval-episodes", "2", "--json", "--out", a_s]);
    run_json(&["train", "Press-v0", "--config", c, "--steps", "4096", "--eval-episodes", "2", "--json", "--out", b_s]);
    let v = run_json(&["train", "Press-v0", "--resume", b_s, "--steps", "8192", "--threads", "2", "--json"]);
    assert_eq!(v["steps"], 8192);
    let weights = |d: &std::path::Path| std::fs::read(d.join("final/model.safetensors")).unwrap();
    assert!(weights(&a) == weights(&b), "the resumed run's weights differ");
    assert_eq!(metrics_without_times(&a), metrics_without_times(&b));
    // Evaluating the two policies gives the same figures; a run folder
    // stands for its final/ policy.
    let ea = run_json(&["eval", a_s, "--episodes", "4", "--seed", "3", "--json"]);
    let eb = run_json(&["eval", &format!("{b_s}/final"), "--episodes", "4", "--seed", "3", "--json"]);
    for key in ["env_id", "episodes", "mean_return", "success_rate", "mean_episode_len", "steps"] {
        assert!(!ea[key].is_null(), "missing {key} in {ea}");
        assert_eq!(ea[key], eb[key], "{key}");
    }
    assert_eq!(ea["stochastic"], false);
    // Press-v0's facts at the episodes' end: the target force is drawn in
    // the task's range (0.5 to 5 N).
    let target = ea["final_facts"]["target_force_n"].as_f64().unwrap_or_else(|| panic!("no facts in {ea}"));
    assert!((0.5..=5.0).contains(&target), "{ea}");
    // Sampled actions are seeded: the same seed gives the same figures.
    let s1 = run_json(&["eval", a_s, "--episodes", "4", "--seed", "3", "--stochastic", "--json"]);
    let s2 = run_json(&["eval", a_s, "--episodes", "4", "--seed", "3", "--stochastic", "--json"]);
    assert_eq!(s1["stochastic"], true);
    assert_eq!((&s1["mean_return"], &s1["mean_episode_len"]), (&s2["mean_return"], &s2["mean_episode_len"]));

    // A damaged latest checkpoint: the resume goes on from the older whole
    // one, says which, sets the damaged one aside, and still ends bit for
    // bit as the run that never stopped.
    let checkpoints = |d: &std::path::Path| {
        let mut names: Vec<String> = std::fs::read_dir(d.join("checkpoints"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(checkpoints(&b), ["update_0000008", "update_0000016"]);
    let model = b.join("checkpoints/update_0000016/model.safetensors");
    let mut bytes = std::fs::read(&model).unwrap();
    let n = bytes.len();
    bytes[n - 5] ^= 1;
    std::fs::write(&model, &bytes).unwrap();
    let out = tactile()
        .args(["train", "Press-v0", "--resume", b_s, "--steps", "12288", "--eval-episodes", "2", "--json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("update_0000016/model.safetensors: checksum mismatch")
            && stderr.contains("going on from the older")
            && stderr.contains("update_0000008"),
        "{stderr}"
    );
    assert!(checkpoints(&b).contains(&"update_0000016.damaged".to_string()), "{:?}", checkpoints(&b));
    run_json(&["train", "Press-v0", "--resume", a_s, "--steps", "12288", "--eval-episodes", "2", "--json"]);
    assert!(weights(&a) == weights(&b), "the run resumed from the older checkpoint differs");
    assert_eq!(metrics_without_times(&a), metrics_without_times(&b));
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
    let _ = std::fs::remove_file(&constant);
}

#[test]
fn a_run_shorter_than_one_rollout_is_refused_before_anything_starts() {
    let dir = temp("too-few-steps");
    let args = ["train", "Press-v0", "--num-envs", "100000", "--steps", "10", "--out", dir.to_str().unwrap()];
    let e = one_line_error(&args);
    assert!(e.contains("total_steps 10 is less than one rollout (100000 envs x 64 steps = 6400000)"), "{e}");
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    assert!(!dir.exists(), "a refused run made its folder");
    // A length that is not whole rollouts is rounded up, and said so.
    let out = tactile()
        .args(["train", "Press-v0", "--steps", "1000", "--eval-episodes", "1", "--out", dir.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("note: training 1024 steps, 2 rollouts of 512 (8 envs x 64 steps)"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::process::Stdio;
    for args in [&["envs", "--json"][..], &["envs"], &["bench", "sim", "--steps", "60", "--json"]] {
        // The reader goes away before the tool writes anything.
        let mut child = tactile().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
        assert!(!out.status.success(), "{args:?}: a write to a closed pipe cannot succeed");
    }
}

#[test]
fn an_error_names_its_cause_once() {
    let empty = temp("empty-policy");
    std::fs::create_dir_all(&empty).unwrap();
    let e = one_line_error(&["eval", empty.to_str().unwrap()]);
    assert_eq!(e.matches("os error 2").count(), 1, "{e}");
    assert_eq!(e.trim().lines().count(), 1, "{e}");
    let _ = std::fs::remove_dir_all(&empty);
    if cfg!(feature = "viewer") {
        let e = one_line_error(&["view", "/nonexistent/missing.mcap", "--check"]);
        assert_eq!(e.matches("os error 2").count(), 1, "{e}");
    }
}

#[test]
fn ctrl_c_writes_a_checkpoint_and_the_run_resumes_from_it() {
    let dir = temp("interrupt");
    let d = dir.to_str().unwrap();
    let child = tactile()
        .args(["train", "Press-v0", "--steps", "10000000", "--json", "--out", d])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for two updates, then press Ctrl-C.
    let start = std::time::Instant::now();
    while std::fs::read_to_string(dir.join("metrics.csv")).map_or(0, |t| t.lines().count()) < 3 {
        assert!(start.elapsed().as_secs() < 120, "training never got going");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let killed = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--resume"), "{stderr}");
    let checkpoints: Vec<_> = std::fs::read_dir(dir.join("checkpoints")).unwrap().collect();
    assert_eq!(checkpoints.len(), 1);
    let rows = std::fs::read_to_string(dir.join("metrics.csv")).unwrap().lines().count() as u64 - 1;
    let steps = (rows + 1) * press_batch();
    let v = run_json(&["train", "Press-v0", "--resume", d, "--steps", &steps.to_string(), "--json"]);
    assert_eq!(v["steps"].as_u64().unwrap(), steps);
    assert!(dir.join("final/meta.json").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_resumes_and_policy_folders_fail_cleanly_and_leave_the_run_alone() {
    let dir = temp("bad-resume");
    let d = dir.to_str().unwrap();
    run_json(&["train", "Press-v0", "--steps", "2048", "--eval-episodes", "1", "--json", "--out", d]);
    let before = snapshot(&dir);
    let cases: &[(&[&str], &str)] = &[
        (&["train", "Pendulum-v1", "--resume", d], "the run trains Press-v0, not Pendulum-v1"),
        (&["train", "Press-v0", "--resume", d, "--num-envs", "4"], "num_envs differ"),
        (&["train", "Press-v0", "--resume", d, "--seed", "9"], "seed differ"),
        (&["train", "Press-v0", "--resume", d, "--algo", "tandem"], "cannot resume as tandem"),
        (&["train", "Press-v0", "--resume", "/nonexistent/run"], "not a run folder"),
        (&["train", "Press-v0", "--algo", "tandem"], "no [tandem] section"),
        (&["eval", "/nonexistent/policy"], "not a policy folder"),
    ];
    for (args, expected) in cases {
        let e = one_line_error(args);
        assert!(e.contains(expected), "{args:?}: {e}");
        assert_eq!(e.trim().lines().count(), 1, "{e}");
    }
    assert!(snapshot(&dir) == before, "a refused command changed the run folder");

    // A corrupted checkpoint, in a copy of the run.
    let copy = temp("bad-resume-copy");
    for (path, bytes) in &before {
        let to = copy.join(path.strip_prefix(&dir).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, bytes).unwrap();
    }
    let ckpt = std::fs::read_dir(copy.join("checkpoints")).unwrap().next().unwrap().unwrap().path();
    let model = ckpt.join("model.safetensors");
    let mut bytes = std::fs::read(&model).unwrap();
    let n = bytes.len();
    bytes[n - 5] ^= 1;
    std::fs::write(&model, &bytes).unwrap();
    let copied = snapshot(&copy);
    let e = one_line_error(&["train", "Press-v0", "--resume", copy.to_str().unwrap()]);
    assert!(e.contains("model.safetensors") && e.contains("checksum mismatch"), "{e}");
    assert!(snapshot(&copy) == copied);

    // Policy folders of another format version, or with a weight missing.
    let policy = copy.join("final");
    // (Without checksums.json, whose check would come first.)
    std::fs::remove_file(policy.join("checksums.json")).unwrap();
    let meta = std::fs::read_to_string(policy.join("meta.json")).unwrap();
    std::fs::write(policy.join("meta.json"), meta.replace("\"format_version\": 2", "\"format_version\": 99")).unwrap();
    let e = one_line_error(&["eval", policy.to_str().unwrap()]);
    assert!(e.contains("meta.json") && e.contains("format_version 99"), "{e}");
    // A hand-edited architecture that does not fit the task's spaces.
    assert!(meta.contains("\"action_dim\": 1,"));
    let meta = meta.replace("\"format_version\": 2", "\"format_version\": 1");
    std::fs::write(policy.join("meta.json"), meta.replace("\"action_dim\": 1,", "\"action_dim\": 2,")).unwrap();
    let e = one_line_error(&["eval", policy.to_str().unwrap()]);
    assert!(e.contains("meta.json") && e.contains("action_layout"), "{e}");
    std::fs::write(policy.join("meta.json"), &meta).unwrap();
    std::fs::remove_file(policy.join("model.safetensors")).unwrap();
    let e = one_line_error(&["eval", policy.to_str().unwrap()]);
    assert!(e.contains("model.safetensors"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&copy);
}

#[test]
fn plot_draws_the_learning_curves_as_a_png() {
    let dir = temp("plot");
    let d = dir.to_str().unwrap();
    run_json(&["train", "Press-v0", "--steps", "6144", "--eval-episodes", "1", "--json", "--out", d]);
    let png = dir.join("curves.png");
    let out = tactile().args(["plot", d]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buf).unwrap();
    assert_eq!((frame.width, frame.height), (1500, 1000));
    // The smoothed curves are drawn in pure blue, 2 px wide, in every
    // panel with data (at least 6 updates of a run of 6 rows).
    let step = frame.line_size / frame.width as usize;
    let blue = buf[..frame.buffer_size()].chunks(step).filter(|p| p[0] == 0 && p[1] == 0 && p[2] == 255).count();
    assert!(blue > 2000, "{blue} curve pixels");
    // A run folder without metrics is refused.
    let e = one_line_error(&["plot", "/nonexistent/run"]);
    assert!(e.contains("metrics.csv"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn export_writes_onnx_and_runtime_folders_that_act_alike() {
    let dir = temp("export");
    let run = dir.join("run");
    run_json(&[
        "train",
        "Press-v0",
        "--steps",
        "4096",
        "--eval-episodes",
        "1",
        "--json",
        "--out",
        run.to_str().unwrap(),
    ]);
    let onnx = dir.join("press.onnx");
    let folder = dir.join("press-policy");
    for (format, out) in [("onnx", &onnx), ("policy", &folder)] {
        let o = tactile()
            .args(["export", run.to_str().unwrap(), "--format", format, "--out", out.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let said = String::from_utf8_lossy(&o.stdout);
        assert!(said.contains("act as the trained network"), "{said}");
    }
    assert!(folder.join("meta.json").exists() && folder.join("model.safetensors").exists());
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["taxels"][0]["count"], 64);

    // `act` on a batch: the folder and the ONNX file give the same actions,
    // each within the action bounds.
    let rows: Vec<Vec<f32>> =
        (0..5).map(|r| (0..66).map(|i| ((r * 66 + i) as f32 * 0.7).sin() * 2.0).collect()).collect();
    let obs = dir.join("obs.json");
    std::fs::write(&obs, serde_json::to_string(&rows).unwrap()).unwrap();
    let act = |source: &std::path::Path| -> Vec<Vec<f32>> {
        let o = tactile().args(["act", source.to_str().unwrap(), "--obs", obs.to_str().unwrap()]).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let (a, b, c) = (act(&folder), act(&onnx), act(&run));
    assert_eq!(a.len(), 5);
    for ((x, y), z) in a.iter().zip(&b).zip(&c) {
        assert_eq!(x.len(), 1);
        assert!((x[0] - y[0]).abs() <= 1e-5 && (x[0] - z[0]).abs() <= 1e-5, "{x:?} {y:?} {z:?}");
        assert!((-1.0..=1.0).contains(&x[0]));
    }

    // An ONNX file whose bytes no longer match the checksum it carries.
    let mut bytes = std::fs::read(&onnx).unwrap();
    let last = bytes.len() - 1;
    bytes[last] = if bytes[last] == b'0' { b'1' } else { b'0' };
    let damaged = dir.join("damaged.onnx");
    std::fs::write(&damaged, &bytes).unwrap();
    let e = one_line_error(&["act", damaged.to_str().unwrap(), "--obs", obs.to_str().unwrap()]);
    assert!(e.contains("damaged.onnx: checksum mismatch"), "{e}");

    // Bad input: a short observation, a file that is not ONNX, no policy.
    std::fs::write(&obs, "[[1.0, 2.0]]").unwrap();
    let e = one_line_error(&["act", folder.to_str().unwrap(), "--obs", obs.to_str().unwrap()]);
    assert!(e.contains("observation 0 has 2 values, the policy reads 66"), "{e}");
    let e = one_line_error(&["act", onnx.to_str().unwrap(), "--obs", obs.to_str().unwrap()]);
    assert!(e.contains("observation 0 has 2 values, the policy reads 66"), "{e}");
    let fake = dir.join("fake.onnx");
    std::fs::write(&fake, b"not a model").unwrap();
    let e = one_line_error(&["act", fake.to_str().unwrap(), "--obs", obs.to_str().unwrap()]);
    assert!(e.contains("fake.onnx: not an ONNX model"), "{e}");
    let e = one_line_error(&["export", dir.join("nothing").to_str().unwrap(), "--format", "onnx", "--out", "x.onnx"]);
    assert!(e.contains("not a policy folder"), "{e}");

    // An observation with an infinity: an error, never a null action.
    let mut row = vec!["0.5".to_string(); 66];
    row[3] = "1e39".into();
    std::fs::write(&obs, format!("[[{}]]", row.join(","))).unwrap();
    for source in [&folder, &onnx] {
        let e = one_line_error(&["act", source.to_str().unwrap(), "--obs", obs.to_str().unwrap()]);
        assert!(e.contains("observation 0: value 3 is inf"), "{e}");
    }

    // Damaged policy folders are refused, naming the file, before anything
    // acts: four bytes overwritten in the weights; a weight set to NaN by
    // someone who also rewrote the checksums; a checksums.json that lacks
    // the weights.
    std::fs::write(&obs, serde_json::to_string(&rows).unwrap()).unwrap();
    let model = folder.join("model.safetensors");
    let good = std::fs::read(&model).unwrap();
    let mut bad = good.clone();
    let n = bad.len();
    bad[n - 8..n - 4].copy_from_slice(&[0xff; 4]);
    std::fs::write(&model, &bad).unwrap();
    for cmd in ["act", "eval", "export"] {
        let mut args = vec![cmd, folder.to_str().unwrap()];
        match cmd {
            "act" => args.extend(["--obs", obs.to_str().unwrap()]),
            "export" => args.extend(["--format", "onnx", "--out", "y.onnx"]),
            _ => {}
        }
        let e = one_line_error(&args);
        assert!(e.contains("model.safetensors") && e.contains("checksum mismatch"), "{cmd}: {e}");
    }
    let sums = folder.join("checksums.json");
    let good_sums = std::fs::read_to_string(&sums).unwrap();
    let crc = tactile_policy::crc32c(&bad);
    let mut table: serde_json::Value = serde_json::from_str(&good_sums).unwrap();
    table["model.safetensors"] = crc.into();
    std::fs::write(&sums, table.to_string()).unwrap();
    let e = one_line_error(&["act", folder.to_str().unwrap(), "--obs", obs.to_str().unwrap()]);
    assert!(e.contains("model.safetensors") && e.contains("non-finite value"), "{e}");
    std::fs::write(&model, &good).unwrap();
    table.as_object_mut().unwrap().remove("model.safetensors");
    std::fs::write(&sums, table.to_string()).unwrap();
    let e = one_line_error(&["act", folder.to_str().unwrap(), "--obs", obs.to_str().unwrap()]);
    assert!(e.contains("checksums.json") && e.contains("no checksum of `model.safetensors`"), "{e}");

    // A folder of format 1 (no checksums) still acts, with a warning.
    std::fs::remove_file(&sums).unwrap();
    let meta_path = folder.join("meta.json");
    let meta = std::fs::read_to_string(&meta_path).unwrap();
    assert!(meta.contains("\"format_version\": 2"));
    std::fs::write(&meta_path, meta.replace("\"format_version\": 2", "\"format_version\": 1")).unwrap();
    let o = tactile().args(["act", folder.to_str().unwrap(), "--obs", obs.to_str().unwrap()]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("warning: a policy folder of format_version 1 has no checksums")
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// The repository's `policies/` folder.
fn shipped() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies")
}

#[test]
fn shipped_policies_reach_what_their_model_cards_state() {
    let mut checked = 0;
    let mut entries: Vec<_> = std::fs::read_dir(shipped()).unwrap().filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for dir in entries.into_iter().filter(|p| p.join("card.json").exists()) {
        let card: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("card.json")).unwrap()).unwrap();
        let (episodes, seed) = (card["eval"]["episodes"].to_string(), card["eval"]["seed"].to_string());
        let mode = if card["eval"]["stochastic"] == true { "--stochastic" } else { "--deterministic" };
        let d = dir.to_str().unwrap();
        let got = run_json(&["eval", d, "--episodes", &episodes, "--seed", &seed, mode, "--json"]);
        assert_eq!(got["env_id"], card["env_id"]);
        let (want_s, got_s) = (card["eval"]["success_rate"].as_f64().unwrap(), got["success_rate"].as_f64().unwrap());
        let (want_r, got_r) = (card["eval"]["mean_return"].as_f64().unwrap(), got["mean_return"].as_f64().unwrap());
        assert!((got_s - want_s).abs() <= 0.02, "{d}: success rate {got_s}, the card says {want_s}");
        assert!(
            (got_r - want_r).abs() <= 0.02 * want_r.abs().max(1.0),
            "{d}: mean return {got_r}, the card says {want_r}"
        );
        // The task's facts at the episodes' ends (InHandRotate-v0: the
        // drop rate and the rotation speed), where the card states them.
        if let Some(facts) = card["eval"]["final_facts"].as_object() {
            for (name, want) in facts {
                let (want, got) = (want.as_f64().unwrap(), got["final_facts"][name].as_f64().unwrap());
                assert!(
                    (got - want).abs() <= 0.02 * want.abs().max(1.0),
                    "{d}: final {name} {got}, the card says {want}"
                );
            }
        }

        // The ONNX file acts as the folder on observations the task gives.
        let mut env = tactile_env::make(card["env_id"].as_str().unwrap(), None).unwrap();
        let od = env.observation_space().flat_dim();
        let mut info = env.new_info();
        let mut rows = Vec::new();
        for s in 0..3 {
            let mut obs = vec![0.0; od];
            env.reset(Some(s), &mut obs, &mut info);
            rows.push(obs);
        }
        let obs = temp(&format!("shipped-obs-{}", dir.file_name().unwrap().to_string_lossy()));
        std::fs::write(&obs, serde_json::to_string(&rows).unwrap()).unwrap();
        let act = |source: std::path::PathBuf| -> Vec<Vec<f32>> {
            let o = tactile().args(["act", source.to_str().unwrap(), "--obs", obs.to_str().unwrap()]).output().unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            serde_json::from_slice(&o.stdout).unwrap()
        };
        let (a, b) = (act(dir.clone()), act(dir.join("policy.onnx")));
        // Where the folder declares by its posterior, the ONNX graph's
        // discriminator is the co-trained CNN: the explorer's values agree.
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
        let disc = &meta["discriminator"];
        let declared: Vec<u64> = if disc["posterior"].is_object() {
            [&disc["layout"]["action_index"], &disc["layout"]["guess_index"]]
                .iter()
                .filter_map(|v| v.as_u64())
                .collect()
        } else {
            Vec::new()
        };
        for (x, y) in a.iter().zip(&b) {
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                assert!(declared.contains(&(i as u64)) || (x - y).abs() <= 1e-4, "{d}: {a:?} vs {b:?}");
            }
        }
        std::fs::remove_file(&obs).ok();
        checked += 1;
    }
    assert!(checked >= 3, "policies/ should ship at least Press, Pendulum and EdgeFollow ({checked})");
}

#[test]
fn eval_declares_at_the_threshold_asked_for() {
    // The shipped explorer on one seeded episode: at 20 % sure its
    // co-trained discriminator declares as soon as it has evidence, long
    // before the 98 % it trained with.
    let explore = shipped().join("Explore-v2");
    let d = explore.to_str().unwrap();
    let at = |extra: &[&str]| {
        let mut args = vec!["eval", d, "--episodes", "1", "--seed", "3", "--json"];
        args.extend_from_slice(extra);
        run_json(&args)
    };
    let (trained, eager) =
        (at(&["--discriminator", "learned"]), at(&["--discriminator", "learned", "--threshold", "0.2"]));
    assert_eq!(trained["discriminator"], "learned");
    assert_eq!(trained["threshold"].as_f64().unwrap() as f32, 0.98);
    assert_eq!(eager["threshold"].as_f64().unwrap() as f32, 0.2);
    let (t, e) = (trained["mean_episode_len"].as_f64().unwrap(), eager["mean_episode_len"].as_f64().unwrap());
    assert!(e < t, "declaring at 20 % took {e} moves, at 98 % {t}");
    // A confidence outside (0, 1], and a policy without a discriminator,
    // are one line each.
    let e = one_line_error(&["eval", d, "--threshold", "1.5"]);
    assert!(e.contains("a confidence in (0, 1]"), "{e}");
    let e = one_line_error(&["eval", d, "--threshold", "0.1"]);
    assert!(e.contains("at or below 1/10"), "{e}");
    let press = shipped().join("Press-v0");
    let e = one_line_error(&["eval", press.to_str().unwrap(), "--threshold", "0.9"]);
    assert!(e.contains("has no discriminator"), "{e}");
    // The four-turn reading is the policy's own unless asked for, and a
    // policy without a discriminator refuses it.
    assert_eq!(trained["turn_average"], serde_json::json!(false));
    assert_eq!(at(&["--discriminator", "learned", "--turn-average"])["turn_average"], serde_json::json!(true));
    // The shipped folder declares by its posterior over the ten objects,
    // at its own threshold, which --threshold sets; the four-turn reading
    // is the CNN's and is refused for it.
    let (own, surer) = (at(&[]), at(&["--threshold", "0.99"]));
    assert_eq!((&own["discriminator"], &surer["discriminator"]), (&"posterior".into(), &"posterior".into()));
    assert_eq!(own["threshold"].as_f64().unwrap() as f32, 0.9);
    assert_eq!(surer["threshold"].as_f64().unwrap() as f32, 0.99);
    let e = one_line_error(&["eval", d, "--turn-average"]);
    assert!(e.contains("declares by its posterior"), "{e}");
    let e = one_line_error(&["eval", d, "--discriminator", "oracle"]);
    assert!(e.contains("unknown discriminator `oracle`"), "{e}");
    let e = one_line_error(&["eval", press.to_str().unwrap(), "--turn-average"]);
    assert!(e.contains("needs a TANDEM policy"), "{e}");
}

#[test]
fn record_streams_episodes_into_a_rollout_the_reader_takes_back() {
    let dir = temp("record");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("press.mcap");
    let policy = shipped().join("Press-v0");
    let o = tactile()
        .args(["record", "--policy", policy.to_str().unwrap(), "--episodes", "2", "--seed", "3"])
        .args(["--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = tactile_rollout::Rollout::read(&out).unwrap();
    assert_eq!(r.truncated, None);
    assert_eq!(r.scene.env_id, "Press-v0");
    assert_eq!(r.scene.sensors.len(), 1);
    assert_eq!(r.scene.sensors[0].positions_m.len(), 64);
    assert!(r.scene.bodies.iter().any(|b| !b.shapes.is_empty()));
    assert_eq!(r.episodes.len(), 2);
    // A step 0 after each reset, then one per action.
    let total: u32 = r.episodes.iter().map(|e| e.steps + 1).sum();
    assert_eq!(r.steps.len() as u32, total);
    // The trained policy presses: the taxels feel it, and the pad moves.
    assert!(r.steps.iter().any(|s| s.total_normal_n() > 0.5), "no step presses");
    let z: Vec<f32> = r.steps.iter().map(|s| s.body_poses.iter().map(|p| p[2]).sum()).collect();
    assert!(z.iter().any(|&v| (v - z[0]).abs() > 1e-4), "nothing moves");
    // The reward terms sum to the reward.
    for s in &r.steps {
        assert!((s.terms.iter().sum::<f32>() - s.reward).abs() < 1e-4);
    }

    // Never written over; a random rollout needs a task; bad files are one line.
    let before = std::fs::read(&out).unwrap();
    let e = one_line_error(&["record", "Press-v0", "--random", "--out", out.to_str().unwrap()]);
    assert!(e.contains("exists"), "{e}");
    assert_eq!(std::fs::read(&out).unwrap(), before);
    let e = one_line_error(&["record", "--random", "--out", dir.join("x.mcap").to_str().unwrap()]);
    assert!(e.contains("name a task"), "{e}");
    // The explorer flags: an unknown name, and a task with no grid or no
    // discriminator, each one line.
    let e = one_line_error(&["eval", policy.to_str().unwrap(), "--explorer", "wander"]);
    assert!(e.contains("unknown explorer `wander`") && e.contains("edge-follower"), "{e}");
    let e = one_line_error(&["eval", policy.to_str().unwrap(), "--explorer", "edge-follower"]);
    assert!(e.contains("`grid` observation"), "{e}");
    let e = one_line_error(&["train", "Press-v0", "--explorer", "edge-follower", "--out", "z"]);
    assert!(e.contains("trains no discriminator"), "{e}");
    let e = one_line_error(&["train", "Explore-v2", "--explorer", "wander", "--out", "z"]);
    assert!(e.contains("unknown explorer `wander`"), "{e}");
    let e = one_line_error(&["record", "Explore-v0", "--policy", policy.to_str().unwrap(), "--out", "y.mcap"]);
    assert!(e.contains("trained on Press-v0"), "{e}");
    let random = dir.join("random.mcap");
    let o = tactile()
        .args(["record", "EdgeFollow-v0", "--random", "--episodes", "1", "--out", random.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = tactile_rollout::Rollout::read(&random).unwrap();
    assert_eq!(r.episodes.len(), 1);
    assert!(r.grids.is_empty(), "EdgeFollow-v0 keeps no grid");
    // An Explore task's rollout carries its grid beside every step: the
    // finger in one cell, contact cells that grow, the declaration on the
    // step that ended the episode.
    let explore = dir.join("explore.mcap");
    let o = tactile()
        .args(["record", "Explore-v2", "--random", "--episodes", "2", "--seed", "1"])
        .args(["--out", explore.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = tactile_rollout::Rollout::read(&explore).unwrap();
    assert_eq!(r.grids.len(), r.steps.len());
    let mut contacts = 0;
    for (g, s) in r.grids.iter().zip(&r.steps) {
        assert_eq!((g.episode, g.step, g.width, g.height), (s.episode, s.step, 60, 60));
        assert_eq!(g.cells.iter().filter(|&&c| c == 3).count(), 1, "one finger cell");
        assert!(g.cells.iter().all(|&c| c <= 3) && g.belief.is_empty());
        let now = g.cells.iter().filter(|&&c| c == 2).count();
        if g.step == 0 {
            assert_eq!(now, 1, "the start ends on one touch");
        } else {
            // A wrong reading's mark goes when the finger stands there.
            assert!(now + 1 >= contacts, "contact cells vanish one at a time at most");
        }
        contacts = now;
        let ended = s.flags & tactile_rollout::flags::TERMINATED != 0;
        assert_eq!(g.declared > 0, ended, "step {} declared {}", g.step, g.declared);
        assert_eq!(f32::from(g.declared), s.action[1]);
    }
    // eval --record: the evaluated episodes, recorded.
    let evaluated = dir.join("eval.mcap");
    let v = run_json(&[
        "eval",
        policy.to_str().unwrap(),
        "--episodes",
        "3",
        "--record",
        evaluated.to_str().unwrap(),
        "--json",
    ]);
    let r = tactile_rollout::Rollout::read(&evaluated).unwrap();
    assert_eq!(r.episodes.len(), 3);
    let successes = r.episodes.iter().filter(|e| e.success).count() as f64;
    assert_eq!(v["success_rate"].as_f64().unwrap(), successes / 3.0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_users_task_scene_without_what_the_task_needs_fails_with_one_line() {
    let dir = std::env::temp_dir().join(format!("tactile-cli-taskscene-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("scenes")).unwrap();
    // Press-v0's scene without its pad, and EdgeFollow-v0's with the pad's
    // array missing: each once made the task index out of range.
    std::fs::write(
        dir.join("scenes/press.toml"),
        "[[bodies]]\nname = \"surface\"\nkind = \"static\"\n[[bodies.colliders]]\nshape = { kind = \"box\", half_extents_m = [0.05, 0.05, 0.01] }\n",
    )
    .unwrap();
    let edge = include_str!("../../../assets/scenes/edge-follow.toml");
    std::fs::write(dir.join("scenes/edge-follow.toml"), &edge[..edge.find("[[sensors]]").unwrap()]).unwrap();
    for (id, expected) in [("Press-v0", "the task needs a body `pad`"), ("EdgeFollow-v0", "taxel arrays [\"pad\"]")] {
        let out = tactile().args(["check", id]).env("TACTILE_ASSETS", &dir).output().unwrap();
        assert!(!out.status.success(), "{id} should fail");
        let e = String::from_utf8(out.stderr).unwrap();
        assert!(!e.contains("panicked"), "{e}");
        assert_eq!(e.trim().lines().count(), 1, "{e}");
        assert!(e.contains(expected), "{id}: {e}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_posterior_the_task_cannot_have_is_refused_before_training() {
    let dir = temp("posterior-config");
    std::fs::create_dir_all(&dir).unwrap();
    let (surface, bad) = (dir.join("surface.toml"), dir.join("bad.toml"));
    std::fs::write(&surface, "[tandem]\ndiscriminator = \"posterior\"\n").unwrap();
    std::fs::write(&bad, "[tandem.posterior]\nthreshold = 1.5\n").unwrap();
    // Explore-v0 marks the surface, not the cells the finger could not enter.
    let e = one_line_error(&[
        "train",
        "Explore-v0",
        "--config",
        surface.to_str().unwrap(),
        "--out",
        dir.join("a").to_str().unwrap(),
    ]);
    assert!(e.contains("Explore-v0: the posterior discriminator") && e.contains("mark"), "{e}");
    let e = one_line_error(&[
        "train",
        "Explore-v2",
        "--config",
        bad.to_str().unwrap(),
        "--out",
        dir.join("b").to_str().unwrap(),
    ]);
    assert!(e.contains("threshold: 1.5"), "{e}");
    assert!(!dir.join("a").exists() && !dir.join("b").exists(), "nothing trained");
    std::fs::remove_dir_all(&dir).ok();
}
