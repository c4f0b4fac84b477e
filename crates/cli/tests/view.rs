//! `tactile view`: bad files and bad requests fail with one line; a frame
//! of a recorded press renders under Xvfb with Mesa's software Vulkan, and
//! its pixels show the heatmap where the pad presses.
#![cfg(feature = "viewer")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tactile_rollout::{Rollout, RolloutWriter, StepRecord};
use tactile_viewer::{OrbitCamera, Replay, ViewFraming, heatmap_square_centre, transform_point};

fn tactile() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tactile"))
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tactile-view-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `tactile` and returns its one line of error.
fn one_line_error(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(!out.status.success(), "{cmd:?} should fail");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    stderr
}

fn record_slide(path: &Path) {
    ok(tactile().args(["record", "taxel-slide", "--out", path.to_str().unwrap()]).output().unwrap());
}

#[test]
fn bad_files_and_requests_fail_with_one_clear_line() {
    let dir = temp("bad");
    let good = dir.join("slide.mcap");
    record_slide(&good);
    let v: serde_json::Value = serde_json::from_str(&ok(tactile()
        .args(["view", good.to_str().unwrap(), "--check", "--json"])
        .output()
        .unwrap()))
    .unwrap();
    // The scripted protocol: 210 steps and the state after the reset.
    assert_eq!(
        (v["env_id"].as_str(), v["episodes"].as_u64(), v["steps"].as_u64()),
        (Some("taxel-slide"), Some(1), Some(211))
    );

    let bytes = std::fs::read(&good).unwrap();
    let noise: Vec<u8> = (0..4000u32).map(|i| (i.wrapping_mul(2654435761) >> 11) as u8).collect();
    let mut other_version = Rollout::read(&good).unwrap().scene;
    other_version.schema_version = 3;
    let mut v3 = std::io::Cursor::new(Vec::new());
    {
        let mut w = RolloutWriter::new(&mut v3, &other_version).unwrap();
        w.write_step(&StepRecord::empty(&other_version)).unwrap();
        w.finish().unwrap();
    }
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("empty.mcap", Vec::new(), "not an MCAP file"),
        ("noise.mcap", noise, "not an MCAP file"),
        ("cut.mcap", bytes[..bytes.len().min(300)].to_vec(), "cut.mcap"),
        ("v3.mcap", v3.into_inner(), "schema version 3"),
    ];
    for (name, content, says) in cases {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        for extra in [&["--check"][..], &[][..], &["--screenshot", "x.png"][..]] {
            let e = one_line_error(tactile().arg("view").arg(&path).args(extra));
            assert!(e.contains(says), "{name} {extra:?}: {e}");
        }
    }
    let e = one_line_error(tactile().arg("view").arg(dir.join("missing.mcap")));
    assert!(e.contains("missing.mcap"), "{e}");
    // Requests outside the file, a bad size, no display.
    let e = one_line_error(tactile().arg("view").arg(&good).args(["--frame", "500", "--screenshot", "x.png"]));
    assert!(e.contains("frame 500: episode 0 has 211 frames"), "{e}");
    let e = one_line_error(tactile().arg("view").arg(&good).args(["--episode", "3"]));
    assert!(e.contains("episode 3"), "{e}");
    // clap's own usage error: its first line says what is wrong.
    let out = tactile().arg("view").arg(&good).args(["--size", "wide"]).output().unwrap();
    let e = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success() && e.lines().next().unwrap().contains("WIDTHxHEIGHT"), "{e}");
    let e = one_line_error(tactile().arg("view").arg(&good).env_remove("DISPLAY"));
    assert!(e.contains("DISPLAY"), "{e}");
    assert!(!dir.join("x.png").exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// Whether Xvfb and a software Vulkan driver are installed; when
/// `TACTILE_REQUIRE_RENDER` is set (CI sets it) their absence fails the
/// test instead of skipping it.
fn renderer_present() -> bool {
    let xvfb = Command::new("sh").args(["-c", "command -v xvfb-run"]).output().is_ok_and(|o| o.status.success());
    let vulkan = std::fs::read_dir("/usr/share/vulkan/icd.d")
        .map(|d| d.filter_map(|e| e.ok()).any(|e| e.file_name().to_string_lossy().starts_with("lvp_icd")))
        .unwrap_or(false);
    if xvfb && vulkan {
        return true;
    }
    let why = format!(
        "no renderer (xvfb-run: {xvfb}, Mesa lavapipe: {vulkan}); scripts/install-render-deps.sh installs them"
    );
    assert!(std::env::var_os("TACTILE_REQUIRE_RENDER").is_none(), "{why}");
    eprintln!("skipped: {why}");
    false
}

const SIZE: (u32, u32) = (1280, 720);

/// Renders `frame` of episode 0 of `file` to a PNG through Xvfb and
/// returns its RGB pixels.
fn screenshot(file: &Path, frame: usize, png: &Path) -> Vec<[u8; 3]> {
    let out = Command::new("xvfb-run")
        .args(["-a", "-s", "-screen 0 1280x720x24"])
        .arg(env!("CARGO_BIN_EXE_tactile"))
        .arg("view")
        .arg(file)
        .args(["--frame", &frame.to_string(), "--size", &format!("{}x{}", SIZE.0, SIZE.1), "--screenshot"])
        .arg(png)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), SIZE);
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf[..info.buffer_size()].chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect()
}

/// The pixel at the centre of each taxel's heatmap square (sensor 0) at
/// `frame` of episode 0.
fn taxel_pixels(replay: &Replay, frame: usize, pixels: &[[u8; 3]]) -> Vec<[u8; 3]> {
    sensor_pixels(replay, 0, frame, pixels)
}

/// The pixel where a world point lands at `frame`'s camera.
fn pixel_at(replay: &Replay, world: [f32; 3], pixels: &[[u8; 3]]) -> [u8; 3] {
    let framing = ViewFraming::of(replay);
    let camera = OrbitCamera::framing(&framing);
    let [x, y] = camera.project(&framing, world, SIZE).expect("in front of the camera");
    assert!(x >= 0.0 && y >= 0.0 && x < SIZE.0 as f32 && y < SIZE.1 as f32, "off screen at {x}, {y}");
    pixels[y as usize * SIZE.0 as usize + x as usize]
}

/// The pixel at the centre of each taxel's heatmap square of sensor `s`
/// at `frame` of episode 0.
fn sensor_pixels(replay: &Replay, s: usize, frame: usize, pixels: &[[u8; 3]]) -> Vec<[u8; 3]> {
    let framing = ViewFraming::of(replay);
    let camera = OrbitCamera::framing(&framing);
    let step = replay.step(0, frame);
    let sensor = &replay.scene.sensors[s];
    (0..sensor.positions_m.len())
        .map(|i| {
            let square = heatmap_square_centre(sensor, i);
            let world = transform_point(&step.body_poses[sensor.body], transform_point(&sensor.body_from_pad, square));
            let [x, y] = camera.project(&framing, world, SIZE).expect("taxel in front of the camera");
            assert!(x >= 0.0 && y >= 0.0 && x < SIZE.0 as f32 && y < SIZE.1 as f32, "taxel off screen at {x}, {y}");
            pixels[y as usize * SIZE.0 as usize + x as usize]
        })
        .collect()
}

fn distance(a: [u8; 3], b: [u8; 3]) -> i32 {
    (0..3).map(|i| (i32::from(a[i]) - i32::from(b[i])).abs()).sum()
}

#[test]
fn a_screenshot_shows_the_heatmap_where_the_pad_presses() {
    if !renderer_present() {
        return;
    }
    let dir = temp("render");
    let file = dir.join("press.mcap");
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/Press-v0");
    ok(tactile()
        .args([
            "record",
            "Press-v0",
            "--policy",
            policy.to_str().unwrap(),
            "--seed",
            "0",
            "--out",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap());
    let replay = Replay::open(&file).unwrap();
    let span = &replay.episodes[0];
    let pressed = (0..span.len).max_by(|&a, &b| span.total_force_n[a].total_cmp(&span.total_force_n[b])).unwrap();
    assert!(span.total_force_n[pressed] > 0.5, "the policy presses");
    assert_eq!(span.total_force_n[0], 0.0, "the pad starts clear of the surface");

    let at_rest = screenshot(&file, 0, &dir.join("rest.png"));
    let pressing = screenshot(&file, pressed, &dir.join("press.png"));
    // The background (bevy's clear colour) covers a good part of the picture.
    let background = [43u8, 44, 47];
    let share = pressing.iter().filter(|p| distance(**p, background) <= 6).count() as f64 / pressing.len() as f64;
    assert!(share > 0.15, "background share {share}");
    let before = taxel_pixels(&replay, 0, &at_rest);
    let after = taxel_pixels(&replay, pressed, &pressing);
    let forces = &replay.step(0, pressed).normal_n[0];
    let mut checked = 0;
    for (i, ((b, a), f)) in before.iter().zip(&after).zip(forces).enumerate() {
        if *f < 0.25 * replay.force_scale_n {
            continue;
        }
        checked += 1;
        assert!(distance(*a, *b) > 60, "taxel {i} ({f} N): pressed {a:?} vs unpressed {b:?}");
        assert!(distance(*a, background) > 60, "taxel {i} ({f} N): pressed {a:?} vs background");
        // The map runs from dark purple to green and yellow: pressing adds green.
        assert!(a[1] > b[1] + 30, "taxel {i} ({f} N): {a:?} is not greener than {b:?}");
    }
    assert!(checked >= 16, "only {checked} taxels pressed hard enough");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_screenshot_draws_the_hand_with_heatmaps_on_its_fingertips() {
    if !renderer_present() {
        return;
    }
    let dir = temp("hand");
    let file = dir.join("hand.mcap");
    ok(tactile().args(["record", "hand-hold", "--out", file.to_str().unwrap()]).output().unwrap());
    let replay = Replay::open(&file).unwrap();
    // Every link of the hand is a recorded body, named <robot>/<link>.
    let links = replay.scene.bodies.iter().filter(|b| b.name.starts_with("hand/")).count();
    assert_eq!(links, 21, "the Allegro hand has 21 links");
    assert_eq!(replay.scene.sensors.len(), 4, "one array per fingertip");
    // The frame where one fingertip presses hardest, and that tip.
    let (frame, tip) = (1..replay.episodes[0].len)
        .flat_map(|f| (0..4).map(move |s| (f, s)))
        .max_by(|a, b| {
            let sum = |(f, s): (usize, usize)| replay.step(0, f).normal_n[s].iter().sum::<f32>();
            sum(*a).total_cmp(&sum(*b))
        })
        .unwrap();
    let rest = screenshot(&file, 0, &dir.join("rest.png"));
    let press = screenshot(&file, frame, &dir.join("press.png"));
    // The hand is drawn: the centre of every link's box or fingertip
    // sphere lands on something other than the background.
    let background = [43u8, 44, 47];
    let step = replay.step(0, frame);
    let mut drawn = 0;
    for (b, body) in replay.scene.bodies.iter().enumerate() {
        for shape in &body.shapes {
            let big = match &shape.geometry {
                tactile_rollout::Geometry::Cuboid { half_extents_m } => half_extents_m.iter().all(|h| *h >= 0.008),
                tactile_rollout::Geometry::Ball { radius_m } => *radius_m >= 0.008,
                _ => false,
            };
            if big {
                let c = &shape.body_from_shape;
                let at = pixel_at(&replay, transform_point(&step.body_poses[b], [c[0], c[1], c[2]]), &press);
                assert!(distance(at, background) > 12, "{} not drawn: {at:?}", body.name);
                drawn += 1;
            }
        }
    }
    assert!(drawn >= 16, "only {drawn} link shapes checked");
    // The pressing tip's heatmap: where a taxel reads a quarter of the scale
    // or more and faces the camera, its square turns from the map's dark
    // purple (nothing pressing at frame 0) to blue, green or yellow.
    let forces = &step.normal_n[tip];
    let before = sensor_pixels(&replay, tip, 0, &rest);
    let after = sensor_pixels(&replay, tip, frame, &press);
    let lit: Vec<usize> = (0..forces.len()).filter(|&i| forces[i] >= 0.25 * replay.force_scale_n).collect();
    assert!(!lit.is_empty(), "a tip presses: {forces:?}");
    let greener =
        lit.iter().filter(|&&i| after[i][1] > before[i][1] + 30 && distance(after[i], background) > 60).count();
    assert!(greener >= 1, "no pressed taxel of tip {tip} shows on the heatmap ({} pressed)", lit.len());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_screenshot_of_an_explore_episode_shows_its_grid_and_belief_as_the_file_holds_them() {
    if !renderer_present() {
        return;
    }
    use tactile_viewer::{GRID_COLOURS, GRID_PANEL_AT, GRID_PANEL_PX};
    let dir = temp("explore");
    let recorded = dir.join("recorded.mcap");
    ok(tactile()
        .args(["record", "Explore-v2", "--random", "--seed", "4", "--out", recorded.to_str().unwrap()])
        .output()
        .unwrap());
    // The recorded grids, with a belief written in: object 9 (drawn last,
    // so on top) rises from 0.1 to 0.9 over the episode, the others stay
    // at 0.01, and the declaration is marked at a third of the way.
    let r = Rollout::read(&recorded).unwrap();
    let n = r.steps.len();
    let declared_at = n / 3;
    let file = dir.join("belief.mcap");
    {
        let mut w = RolloutWriter::new(std::fs::File::create(&file).unwrap(), &r.scene).unwrap();
        for (k, (step, grid)) in r.steps.iter().zip(&r.grids).enumerate() {
            w.write_step(step).unwrap();
            let mut grid = grid.clone();
            grid.belief = vec![0.01; 10];
            grid.belief[9] = 0.1 + 0.8 * k as f32 / (n - 1) as f32;
            grid.declared = if k == declared_at { 10 } else { 0 };
            w.write_grid(&grid).unwrap();
        }
        for e in &r.episodes {
            w.end_episode(e).unwrap();
        }
        w.finish().unwrap();
    }
    let replay = Replay::open(&file).unwrap();
    let (w, h) = (SIZE.0 as usize, SIZE.1 as usize);
    // Two frames: the grid panel shows each frame's own grid, cell by cell.
    for frame in [n / 2, n - 1] {
        let pixels = screenshot(&file, frame, &dir.join(format!("f{frame}.png")));
        let grid = replay.grid(0, frame).unwrap();
        let side = usize::from(grid.width);
        let cell_px = GRID_PANEL_PX as usize / side;
        let (left, bottom) = (GRID_PANEL_AT.0 as usize, h - GRID_PANEL_AT.1 as usize);
        let top = bottom - GRID_PANEL_PX as usize;
        let mut wrong = Vec::new();
        for (i, &code) in grid.cells.iter().enumerate() {
            let (col, row) = (i % side, i / side);
            // Rows run along y, drawn upwards.
            let x = left + col * cell_px + cell_px / 2;
            let y = top + (side - 1 - row) * cell_px + cell_px / 2;
            let got = pixels[y * w + x];
            if distance(got, GRID_COLOURS[usize::from(code)]) > 6 {
                wrong.push((i, code, got));
            }
        }
        assert!(
            wrong.is_empty(),
            "frame {frame}: {} cells drawn wrong, e.g. {:?}",
            wrong.len(),
            &wrong[..wrong.len().min(5)]
        );
        let contact = grid.cells.iter().filter(|&&c| c == 2).count();
        assert!(contact >= 1 && grid.cells.contains(&1), "frame {frame}: a grid worth checking");
        // The belief plot: the last plot, just above the timeline at the
        // right. Its marked column is white from top to bottom, and object
        // 9's line passes where its value says.
        let (plot_w, plot_h) = (320usize, 72usize);
        let (plot_left, plot_bottom) = (w - 14 - plot_w, h - 36);
        let plot_top = plot_bottom - plot_h;
        let column = |f: usize| plot_left + ((f as f32 + 0.5) / n as f32 * plot_w as f32) as usize;
        let marker = column(declared_at);
        // (The plot's range text covers its top 16 rows.)
        assert!(
            (plot_top + 16..plot_bottom).all(|y| distance(pixels[y * w + marker], [255, 255, 255]) <= 6),
            "frame {frame}: no declaration mark at x {marker}"
        );
        let probe = n * 3 / 5;
        let x = plot_left + probe * plot_w / n;
        let value = 0.1 + 0.8 * probe as f32 / (n - 1) as f32;
        let y = plot_top + ((1.0 - value / 0.9) * (plot_h - 1) as f32).round() as usize;
        let near = (y.saturating_sub(2)..=y + 2).any(|y| distance(pixels[y * w + x], [180, 110, 70]) <= 12);
        assert!(near, "frame {frame}: object 9's belief line is not at x {x}, y {y}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
