//! The `tactile` binary needs no source tree: a copy of it, run from an
//! empty folder with the whole checkout hidden behind an empty read-only
//! mount (a private mount namespace made with `unshare`, as root), makes
//! and steps every task and runs the canonical scene.
//!
//! Where `unshare --mount` is not permitted the test says so and passes;
//! with `TACTILE_REQUIRE_OFF_TREE=1` (CI) it fails instead.

use std::path::Path;
use std::process::Command;

fn unshare_works() -> bool {
    Command::new("unshare")
        .args(["--mount", "--propagation", "private", "true"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn a_copy_of_the_binary_runs_every_task_with_the_checkout_hidden() {
    if !unshare_works() {
        assert!(
            std::env::var("TACTILE_REQUIRE_OFF_TREE").as_deref() != Ok("1"),
            "TACTILE_REQUIRE_OFF_TREE=1 but `unshare --mount` is not permitted here"
        );
        eprintln!("note: `unshare --mount` is not permitted here; the off-tree test did not run");
        return;
    }
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap();
    let work = std::env::temp_dir().join(format!("tactile-off-tree-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    assert!(!work.starts_with(&checkout), "the temporary folder must lie outside the checkout");
    std::fs::copy(env!("CARGO_BIN_EXE_tactile"), work.join("tactile")).unwrap();
    let ids: Vec<String> = tactile_env::registry().iter().map(|s| s.id.to_owned()).collect();
    // Inside the namespace: hide the checkout, then run the copy from the
    // temporary folder; any failure stops the script with its status.
    let script = r#"
        mount -t tmpfs -o ro none "$0" || exit 90
        test -z "$(ls -A "$0")" || exit 91
        cd "$1" && shift
        ./tactile bench sim --steps 300 --json >/dev/null || exit 92
        for id in "$@"; do ./tactile check "$id" || exit 93; done
    "#;
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", script])
        .arg(&checkout)
        .arg(&work)
        .args(&ids)
        .env_remove("TACTILE_ASSETS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "status {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}", out.status.code());
    for id in &ids {
        assert!(stdout.contains(&format!("{id}: all checks passed")), "{id}:\n{stdout}");
    }
    std::fs::remove_dir_all(&work).unwrap();
}
