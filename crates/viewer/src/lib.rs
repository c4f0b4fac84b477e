//! # tactile-viewer
//!
//! Replays rollout files (see `tactile-rollout`): the scene's bodies under
//! a light and a ground grid, every sensor pad's taxel pressure map drawn on
//! the pad as a colour map with its legend in newtons, contact force arrows,
//! the finger's trail, plots of the reward, its terms and the total taxel
//! force with a cursor at the shown frame, and playback controls (play,
//! pause, step, scrub, 0.1x to 10x, episode choice). `H` lists the keys.
//!
//! [`ReplayPlugin`] is the whole viewer as one bevy plugin; [`run`] opens it
//! in a window, or renders one frame to a PNG, or measures the frame rate.
//! The playback logic ([`PlaybackPlugin`]) needs no window, so it is tested
//! with `App::update`.
//!
//! ```no_run
//! use tactile_viewer::{Replay, ViewerMode, ViewerOptions};
//! let replay = Replay::open("press.mcap".as_ref())?;
//! let options = ViewerOptions { frame: 40, mode: ViewerMode::Screenshot("press.png".into()), ..Default::default() };
//! tactile_viewer::run(replay, &options)?;
//! # Ok::<(), tactile_viewer::ViewerError>(())
//! ```

mod app;
mod camera;
mod material;
mod overlay;
mod playback;
mod replay;
mod scene;

use std::sync::Arc;

use bevy::prelude::*;

pub use app::{FpsReport, ViewerMode, ViewerOptions, ViewerOutcome, run};
pub use camera::{OrbitCamera, OrbitCameraPlugin};
pub use material::{ShadedMaterial, ShadedMaterialPlugin};
pub use overlay::{
    GRID_COLOURS, GRID_PANEL_AT, GRID_PANEL_PX, OverlayPlugin, Plot, Series, VIEW_KEYS, episode_list, grid_picture,
    plot_series, rasterize, value_range,
};
pub use playback::{PLAYBACK_KEYS, Playback, PlaybackCommand, PlaybackPlugin, PlaybackSystems, SPEEDS};
pub use replay::{EpisodeSpan, Replay, ViewerError, heat_srgb, nice_ceiling, rotate, transform_point};
pub use scene::{
    BodyVisual, DrawOptions, OnTopGizmos, PadHeatmap, ReplayData, ScenePlugin, ShownFrame, ViewFraming, Z_UP_TO_Y_UP,
    heatmap_square_centre, pad_resultant, to_view,
};

/// The viewer over one rollout: playback, scene, camera and overlay. Add it
/// to an app that has bevy's default plugins (or, for the playback alone in
/// a test, use [`PlaybackPlugin`] with a [`Playback`] resource).
pub struct ReplayPlugin {
    replay: Arc<Replay>,
    start: (usize, usize),
}

impl ReplayPlugin {
    /// The viewer over `replay`, at frame 0 of episode 0.
    pub fn new(replay: Arc<Replay>) -> Self {
        ReplayPlugin { replay, start: (0, 0) }
    }

    /// Starts at `frame` of `episode` (clamped).
    pub fn starting_at(mut self, episode: usize, frame: usize) -> Self {
        self.start = (episode, frame);
        self
    }

    /// The playback state this plugin starts with.
    pub fn playback(&self) -> Playback {
        let frames = self.replay.episodes.iter().map(|e| e.len).collect();
        let mut playback = Playback::new(frames, f64::from(self.replay.scene.env_dt_s));
        playback.apply(PlaybackCommand::Episode(self.start.0));
        playback.apply(PlaybackCommand::SeekFrame(self.start.1));
        playback
    }
}

impl Plugin for ReplayPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(ReplayData(self.replay.clone()))
            .insert_resource(self.playback())
            .insert_resource(ViewFraming::of(&self.replay))
            .add_plugins((PlaybackPlugin, ScenePlugin, OrbitCameraPlugin, OverlayPlugin));
    }
}
