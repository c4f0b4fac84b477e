//! The viewer's logic in apps with no window and no GPU, driven by
//! `App::update`: time to frame, keys, scrubbing, speed, episode switch,
//! and the scene posed and coloured from the shown frame.

use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use bevy::input::ButtonState;
use bevy::input::keyboard::{Key, KeyboardInput};
use bevy::mesh::VertexAttributeValues;
use bevy::prelude::*;
use bevy::render::RenderPlugin;
use bevy::render::settings::WgpuSettings;
use bevy::time::TimeUpdateStrategy;
use bevy::winit::WinitPlugin;
use tactile_rollout::{
    BodyRecord, EpisodeRecord, Geometry, Rollout, RolloutWriter, SceneRecord, SensorRecord, ShapeRecord, StepRecord,
};
use tactile_viewer::{
    BodyVisual, PadHeatmap, Playback, PlaybackCommand, PlaybackPlugin, Replay, ReplayPlugin, ShownFrame, episode_list,
    heat_srgb,
};

const DT_S: f32 = 0.05;
const EPISODES: [u32; 2] = [41, 11];

/// A pad over the ground: its height falls by 1 mm a frame, and taxel i
/// reads `0.01 * frame * (i + 1)` N.
fn replay() -> Replay {
    let mut scene = SceneRecord::new("Synthetic-v0", DT_S, 1, vec!["a".into(), "b".into()]);
    let identity = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0];
    scene.bodies.push(BodyRecord {
        name: "ground".into(),
        kind: "static".into(),
        shapes: vec![ShapeRecord {
            geometry: Geometry::Cuboid { half_extents_m: [0.1, 0.1, 0.01] },
            body_from_shape: identity,
        }],
    });
    scene.bodies.push(BodyRecord {
        name: "pad".into(),
        kind: "dynamic".into(),
        shapes: vec![ShapeRecord {
            geometry: Geometry::Cuboid { half_extents_m: [0.01, 0.01, 0.002] },
            body_from_shape: identity,
        }],
    });
    scene.sensors.push(SensorRecord {
        name: "pad".into(),
        body: 1,
        body_from_pad: [0.0, 0.0, -0.002, 0.0, 0.0, 0.0, 1.0],
        positions_m: vec![[-0.005, -0.005, 0.0], [0.005, -0.005, 0.0], [-0.005, 0.005, 0.0], [0.005, 0.005, 0.0]],
        normals: vec![[0.0, 0.0, 1.0]; 4],
        tangents: vec![[1.0, 0.0, 0.0]; 4],
    });
    let mut bytes = Cursor::new(Vec::new());
    let mut w = RolloutWriter::new(&mut bytes, &scene).unwrap();
    let mut step = StepRecord::empty(&scene);
    for (e, frames) in EPISODES.iter().enumerate() {
        for k in 0..*frames {
            step.episode = e as u32;
            step.step = k;
            step.time_s = f64::from(k) * f64::from(DT_S);
            step.body_poses[1] = [0.0, 0.0, 0.05 - 0.001 * k as f32, 0.0, 0.0, 0.0, 1.0];
            for (i, f) in step.normal_n[0].iter_mut().enumerate() {
                *f = 0.01 * k as f32 * (i + 1) as f32;
            }
            step.reward = -(k as f32);
            w.write_step(&step).unwrap();
        }
        w.end_episode(&EpisodeRecord { episode: e as u32, steps: frames - 1, ..Default::default() }).unwrap();
    }
    w.finish().unwrap();
    let rollout = Rollout::from_bytes(bytes.get_ref(), "synthetic.mcap".as_ref()).unwrap();
    Replay::from_rollout(rollout, "synthetic.mcap".as_ref()).unwrap()
}

/// The playback alone: no window, no renderer, 100 ms per update.
fn playback_app() -> App {
    let replay = replay();
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, bevy::input::InputPlugin))
        .insert_resource(ReplayPlugin::new(Arc::new(replay)).playback())
        .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_millis(100)))
        .add_plugins(PlaybackPlugin);
    // The first update starts the clock (its delta is zero).
    app.update();
    app
}

fn playback(app: &App) -> Playback {
    app.world().resource::<Playback>().clone()
}

fn press(app: &mut App, key: KeyCode) {
    let logical_key = Key::Unidentified(bevy::input::keyboard::NativeKey::Unidentified);
    for state in [ButtonState::Pressed, ButtonState::Released] {
        app.world_mut().write_message(KeyboardInput {
            key_code: key,
            logical_key: logical_key.clone(),
            state,
            text: None,
            repeat: false,
            window: Entity::PLACEHOLDER,
        });
        app.update();
    }
}

#[test]
fn updates_move_the_frame_with_time_and_speed() {
    let mut app = playback_app();
    app.world_mut().write_message(PlaybackCommand::TogglePlay);
    app.update();
    // 100 ms of playing at 1x with 50 ms frames: frame 2.
    assert_eq!((playback(&app).frame, playback(&app).playing), (2, true));
    for _ in 0..4 {
        app.update();
    }
    assert_eq!(playback(&app).frame, 10);
    app.world_mut().write_message(PlaybackCommand::Speed(10.0));
    app.update();
    assert_eq!(playback(&app).frame, 30);
    app.world_mut().write_message(PlaybackCommand::Speed(0.25));
    app.update();
    app.update();
    assert_eq!(playback(&app).frame, 31);
    // At the end it stops on the last frame.
    app.world_mut().write_message(PlaybackCommand::Speed(10.0));
    for _ in 0..5 {
        app.update();
    }
    assert_eq!((playback(&app).frame, playback(&app).playing), (40, false));
}

#[test]
fn keys_play_step_change_speed_and_episode() {
    let mut app = playback_app();
    press(&mut app, KeyCode::Space);
    assert!(playback(&app).playing);
    let before = playback(&app).frame;
    app.update();
    app.update();
    press(&mut app, KeyCode::Space);
    let paused = playback(&app);
    assert!(!paused.playing);
    assert!(paused.frame > before, "time moved the frame while playing");
    press(&mut app, KeyCode::ArrowRight);
    assert_eq!(playback(&app).frame, paused.frame + 1);
    press(&mut app, KeyCode::ArrowLeft);
    press(&mut app, KeyCode::ArrowLeft);
    assert_eq!(playback(&app).frame, paused.frame - 1);
    press(&mut app, KeyCode::End);
    assert_eq!(playback(&app).frame, 40);
    press(&mut app, KeyCode::Home);
    assert_eq!(playback(&app).frame, 0);
    press(&mut app, KeyCode::ArrowUp);
    assert_eq!(playback(&app).speed, 2.0);
    press(&mut app, KeyCode::ArrowDown);
    press(&mut app, KeyCode::ArrowDown);
    assert_eq!(playback(&app).speed, 0.5);
    press(&mut app, KeyCode::BracketRight);
    assert_eq!((playback(&app).episode, playback(&app).frame, playback(&app).frames()), (1, 0, 11));
    press(&mut app, KeyCode::PageUp);
    assert_eq!(playback(&app).episode, 0);
}

#[test]
fn scrubbing_and_switching_episodes_land_on_the_right_frame() {
    let mut app = playback_app();
    app.world_mut().write_message(PlaybackCommand::SeekFraction(0.5));
    app.update();
    assert_eq!(playback(&app).frame, 20);
    app.world_mut().write_message(PlaybackCommand::SeekFraction(1.0));
    app.update();
    assert_eq!(playback(&app).frame, 40);
    // Switching episodes starts the new one at its first frame, and a
    // seek beyond its end stops at its last.
    app.world_mut().write_message(PlaybackCommand::Episode(1));
    app.update();
    assert_eq!((playback(&app).episode, playback(&app).frame), (1, 0));
    app.world_mut().write_message(PlaybackCommand::SeekFrame(25));
    app.update();
    assert_eq!(playback(&app).frame, 10);
    app.world_mut().write_message(PlaybackCommand::Episode(7));
    app.update();
    assert_eq!(playback(&app).episode, 1);
}

/// The whole viewer with bevy's default plugins but no window and no GPU.
fn viewer_app(replay: Arc<Replay>) -> App {
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .build()
            .disable::<WinitPlugin>()
            .disable::<bevy::log::LogPlugin>()
            .set(WindowPlugin { primary_window: None, ..default() })
            .set(RenderPlugin { render_creation: WgpuSettings { backends: None, ..default() }.into(), ..default() }),
    )
    .add_plugins(ReplayPlugin::new(replay).starting_at(0, 5))
    .insert_resource(TimeUpdateStrategy::ManualDuration(Duration::from_millis(100)));
    app.update();
    app
}

fn heatmap_colours(app: &mut App) -> Vec<[f32; 4]> {
    let handle = app.world_mut().query::<&PadHeatmap>().single(app.world()).unwrap().mesh.clone();
    let meshes = app.world().resource::<Assets<Mesh>>();
    match meshes.get(&handle).unwrap().attribute(Mesh::ATTRIBUTE_COLOR) {
        Some(VertexAttributeValues::Float32x4(c)) => c.clone(),
        other => panic!("no vertex colours: {other:?}"),
    }
}

#[test]
fn the_scene_follows_the_shown_frame() {
    let replay = Arc::new(replay());
    let mut app = viewer_app(replay.clone());
    assert_eq!(app.world().resource::<ShownFrame>().0, Some((0, 5)));
    let pad_z = |app: &mut App| {
        let mut q = app.world_mut().query::<(&BodyVisual, &Transform)>();
        q.iter(app.world()).find(|(b, _)| b.0 == 1).map(|(_, t)| t.translation.z).unwrap()
    };
    assert!((pad_z(&mut app) - 0.045).abs() < 1e-6);
    // The scale tops at the largest reading (0.01 * 40 * 4 = 1.6 N -> 2 N).
    assert_eq!(replay.force_scale_n, 2.0);
    let colour = |f_n: f32| Color::srgb_from_array(heat_srgb(f_n / 2.0)).to_linear().to_f32_array();
    let near = |a: [f32; 4], b: [f32; 4]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5);
    let c = heatmap_colours(&mut app);
    assert_eq!(c.len(), 16, "four corners a taxel");
    for i in 0..4 {
        assert!(near(c[4 * i], colour(0.05 * (i + 1) as f32)), "taxel {i} at frame 5: {:?}", c[4 * i]);
    }
    app.world_mut().write_message(PlaybackCommand::SeekFrame(40));
    app.update();
    assert_eq!(app.world().resource::<ShownFrame>().0, Some((0, 40)));
    assert!((pad_z(&mut app) - 0.010).abs() < 1e-6);
    let c = heatmap_colours(&mut app);
    assert!(near(c[12], colour(1.6)), "{:?}", c[12]);
    assert_ne!(c[12], c[0]);
    app.world_mut().write_message(PlaybackCommand::NextEpisode);
    app.update();
    assert_eq!(app.world().resource::<ShownFrame>().0, Some((1, 0)));
    assert!((pad_z(&mut app) - 0.05).abs() < 1e-6);
    assert!(heatmap_colours(&mut app).iter().all(|&v| near(v, colour(0.0))));
}

#[test]
fn the_episode_list_marks_outcomes_and_the_shown_episode() {
    let replay = replay();
    // Both episodes ended with success = false, terminated = false: '-'.
    assert_eq!(episode_list(&replay, 0, 5), "episodes [1-] 2-");
    assert_eq!(episode_list(&replay, 1, 0), "episodes .. [2-]");
    assert_eq!(episode_list(&replay, 0, 0), "episodes [1-] ..");
}
