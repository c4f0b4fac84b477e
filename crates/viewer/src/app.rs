//! The viewer app: a window over a rollout, or a screenshot of one frame,
//! or a frame-rate measurement; errors come back as values, never panics.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bevy::log::{Level, LogPlugin};
use bevy::prelude::*;
use bevy::render::render_resource::PipelineCache;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use bevy::render::{Render, RenderApp, RenderSystems};
use bevy::window::{PresentMode, WindowResolution};

use crate::ReplayPlugin;
use crate::playback::{Playback, PlaybackCommand};
use crate::replay::{Replay, ViewerError};

/// How to open the viewer.
#[derive(Clone, Debug)]
pub struct ViewerOptions {
    /// The episode to show first (0-based).
    pub episode: usize,
    /// The frame of that episode to show first (0 is the state after the
    /// reset).
    pub frame: usize,
    /// Window size in pixels.
    pub size: (u32, u32),
    /// What to do.
    pub mode: ViewerMode,
}

impl Default for ViewerOptions {
    fn default() -> Self {
        ViewerOptions { episode: 0, frame: 0, size: (1280, 720), mode: ViewerMode::Interactive }
    }
}

/// What the viewer does.
#[derive(Clone, Debug, PartialEq)]
pub enum ViewerMode {
    /// A window, until it is closed.
    Interactive,
    /// Render the chosen frame to this PNG and exit.
    Screenshot(PathBuf),
    /// Play the rollout in a loop (at speed 1, no vsync) and count the
    /// frames drawn over this many seconds, after the shaders are ready.
    MeasureFps(f64),
}

/// What a run of the viewer gives back.
#[derive(Clone, Debug, PartialEq)]
pub enum ViewerOutcome {
    /// The window was closed.
    Closed,
    /// The screenshot was written.
    Screenshot(PathBuf),
    /// Frames drawn per second.
    Fps(FpsReport),
}

/// The frame-rate measurement.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FpsReport {
    /// Frames drawn while measuring.
    pub frames: u64,
    /// Seconds measured.
    pub seconds: f64,
    /// `frames / seconds`.
    pub fps: f64,
    /// The slowest frame's time (ms).
    pub max_frame_ms: f64,
}

/// How many render pipelines are still compiling, as the render world last
/// saw it (shared by both worlds).
#[derive(Resource, Clone, Default)]
struct PipelinesWaiting(Arc<AtomicUsize>);

/// Frames drawn with every pipeline ready, in a row.
#[derive(Resource, Default)]
struct Readiness {
    frames: u64,
    ready_frames: u64,
}

/// Frames the scene must be drawn, with nothing compiling, before it is
/// captured or timed.
const READY_FRAMES: u64 = 5;

/// Where a run's outcome is left for [`run`].
#[derive(Resource, Clone, Default)]
struct OutcomeSlot(Arc<Mutex<Option<Result<ViewerOutcome, String>>>>);

impl OutcomeSlot {
    fn set(&self, outcome: Result<ViewerOutcome, String>) {
        if let Ok(mut slot) = self.0.lock() {
            slot.get_or_insert(outcome);
        }
    }
}

/// Opens `replay` in a window (or renders a frame, or measures).
pub fn run(replay: Replay, options: &ViewerOptions) -> Result<ViewerOutcome, ViewerError> {
    let episodes = replay.episodes.len();
    let Some(span) = replay.episodes.get(options.episode) else {
        return Err(ViewerError::Render(format!(
            "episode {}: the file holds {episodes} (0 to {})",
            options.episode,
            episodes - 1
        )));
    };
    if options.frame >= span.len {
        return Err(ViewerError::Render(format!(
            "frame {}: episode {} has {} frames (0 to {})",
            options.frame,
            options.episode,
            span.len,
            span.len - 1
        )));
    }
    let (w, h) = options.size;
    if !(16..=8192).contains(&w) || !(16..=8192).contains(&h) {
        return Err(ViewerError::Render(format!("size {w}x{h}: each side must be 16 to 8192 pixels")));
    }
    if std::env::var_os("DISPLAY").is_none_or(|d| d.is_empty()) {
        return Err(ViewerError::Render(
            "no display to open a window on (DISPLAY is not set); on a machine without one, run it under xvfb-run"
                .into(),
        ));
    }
    let title = format!("tactile: {}", replay.path.display());
    let slot = OutcomeSlot::default();
    let mut app = App::new();
    let present_mode = if matches!(options.mode, ViewerMode::MeasureFps(_)) {
        PresentMode::AutoNoVsync
    } else {
        PresentMode::AutoVsync
    };
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: Some(Window {
                    title,
                    resolution: WindowResolution::new(w, h),
                    present_mode,
                    ..default()
                }),
                ..default()
            })
            .set(LogPlugin {
                level: Level::ERROR,
                filter: "wgpu=error,naga=error,bevy_render=error".into(),
                ..default()
            }),
    )
    .add_plugins(ReplayPlugin::new(Arc::new(replay)).starting_at(options.episode, options.frame))
    .insert_resource(slot.clone())
    .init_resource::<Readiness>();
    let waiting = PipelinesWaiting::default();
    app.insert_resource(waiting.clone());
    if let Some(render_app) = app.get_sub_app_mut(RenderApp) {
        render_app.insert_resource(waiting).add_systems(Render, count_waiting_pipelines.in_set(RenderSystems::Cleanup));
    }
    app.add_systems(Last, track_readiness);
    match &options.mode {
        ViewerMode::Interactive => {}
        ViewerMode::Screenshot(path) => {
            let path = path.clone();
            app.add_systems(Last, move |commands: Commands, readiness: Res<Readiness>, mut taken: Local<bool>| {
                take_screenshot(commands, &readiness, &mut taken, &path)
            });
        }
        ViewerMode::MeasureFps(seconds) => {
            let seconds = *seconds;
            app.add_systems(Startup, |mut playback: ResMut<Playback>| {
                playback.apply(PlaybackCommand::Episode(0));
                playback.looping = true;
                playback.playing = true;
            });
            app.add_systems(
                Last,
                move |readiness: Res<Readiness>,
                      slot: Res<OutcomeSlot>,
                      mut exit: MessageWriter<AppExit>,
                      mut clock: Local<Option<FpsClock>>| {
                    measure_fps(&readiness, &slot, &mut exit, &mut clock, seconds)
                },
            );
        }
    }
    // A failure inside bevy (no display server, no Vulkan device) is a
    // panic there; it becomes this function's error, printed once by the
    // caller, with bevy's own panic message kept quiet.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let ran = std::panic::catch_unwind(AssertUnwindSafe(move || app.run()));
    std::panic::set_hook(hook);
    let exit = ran.map_err(|payload| {
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "an unknown failure".into());
        ViewerError::Render(format!("could not render: {}", message.lines().next().unwrap_or_default()))
    })?;
    let outcome = slot.0.lock().ok().and_then(|mut s| s.take());
    match (outcome, exit) {
        (Some(Ok(outcome)), _) => Ok(outcome),
        (Some(Err(why)), _) => Err(ViewerError::Render(why)),
        (None, AppExit::Success) if options.mode == ViewerMode::Interactive => Ok(ViewerOutcome::Closed),
        (None, AppExit::Success) => Err(ViewerError::Render("the window was closed before the work was done".into())),
        (None, AppExit::Error(code)) => Err(ViewerError::Render(format!("the app stopped with code {code}"))),
    }
}

fn count_waiting_pipelines(cache: Res<PipelineCache>, waiting: Res<PipelinesWaiting>) {
    waiting.0.store(cache.waiting_pipelines().count(), Ordering::Relaxed);
}

fn track_readiness(waiting: Res<PipelinesWaiting>, mut readiness: ResMut<Readiness>) {
    readiness.frames += 1;
    // The first frames build the scene; after that, frames count once
    // every pipeline has compiled.
    if readiness.frames > 3 && waiting.0.load(Ordering::Relaxed) == 0 {
        readiness.ready_frames += 1;
    } else {
        readiness.ready_frames = 0;
    }
}

fn take_screenshot(mut commands: Commands, readiness: &Readiness, taken: &mut bool, path: &std::path::Path) {
    if *taken || readiness.ready_frames < READY_FRAMES {
        return;
    }
    *taken = true;
    let path = path.to_owned();
    commands.spawn(Screenshot::primary_window()).observe(
        move |captured: On<ScreenshotCaptured>, slot: Res<OutcomeSlot>, mut exit: MessageWriter<AppExit>| {
            let saved = captured
                .image
                .clone()
                .try_into_dynamic()
                .map_err(|e| format!("the screenshot could not be converted: {e}"))
                .and_then(|image| image.to_rgb8().save(&path).map_err(|e| format!("{}: {e}", path.display())));
            slot.set(saved.map(|()| ViewerOutcome::Screenshot(path.clone())));
            // Exit only once the picture is on disk (exiting as it is asked
            // for loses it).
            exit.write(AppExit::Success);
        },
    );
}

struct FpsClock {
    start: Instant,
    last: Instant,
    frames: u64,
    max_frame_s: f64,
}

fn measure_fps(
    readiness: &Readiness,
    slot: &OutcomeSlot,
    exit: &mut MessageWriter<AppExit>,
    clock: &mut Option<FpsClock>,
    seconds: f64,
) {
    if readiness.ready_frames < READY_FRAMES {
        return;
    }
    let now = Instant::now();
    let Some(c) = clock else {
        *clock = Some(FpsClock { start: now, last: now, frames: 0, max_frame_s: 0.0 });
        return;
    };
    c.frames += 1;
    c.max_frame_s = c.max_frame_s.max((now - c.last).as_secs_f64());
    c.last = now;
    let elapsed = (now - c.start).as_secs_f64();
    if elapsed >= seconds {
        slot.set(Ok(ViewerOutcome::Fps(FpsReport {
            frames: c.frames,
            seconds: elapsed,
            fps: c.frames as f64 / elapsed,
            max_frame_ms: c.max_frame_s * 1e3,
        })));
        exit.write(AppExit::Success);
    }
}
