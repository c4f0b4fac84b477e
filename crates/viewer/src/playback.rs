//! Playback: which episode and frame is shown, and how time moves it. No
//! rendering here, so that it runs (and is tested) in a windowless app.

use bevy::prelude::*;

/// The speeds that the faster and slower commands step through.
pub const SPEEDS: [f32; 7] = [0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0];

/// What is shown and how it moves.
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct Playback {
    /// The episode shown (index into the replay's episodes).
    pub episode: usize,
    /// The frame shown within the episode (0 is the state after reset).
    pub frame: usize,
    /// Whether time moves the frame.
    pub playing: bool,
    /// Rollout seconds per wall-clock second (0.1 to 10).
    pub speed: f32,
    /// At the last frame, start the episode again instead of pausing.
    pub looping: bool,
    /// Rollout time into the episode (s); `frame` is its whole env steps.
    pub clock_s: f64,
    /// Frames in each episode.
    episode_frames: Vec<usize>,
    /// Seconds per env step (frame).
    dt_s: f64,
}

/// A request to change the playback: from the keyboard, the timeline, a
/// test or a script.
#[derive(Message, Clone, Copy, Debug, PartialEq)]
pub enum PlaybackCommand {
    /// Play if paused (from the start if at the end), pause if playing.
    TogglePlay,
    /// Pause and move this many frames (negative: back).
    Step(i64),
    /// Show this frame (clamped to the episode).
    SeekFrame(usize),
    /// Show the frame at this fraction of the episode (0 first, 1 last).
    SeekFraction(f32),
    /// The next speed up.
    Faster,
    /// The next speed down.
    Slower,
    /// This speed, clamped to 0.1-10.
    Speed(f32),
    /// Show this episode from its first frame (clamped).
    Episode(usize),
    /// The next episode.
    NextEpisode,
    /// The previous episode.
    PreviousEpisode,
    /// Toggle looping at the episode's end.
    ToggleLoop,
}

impl Playback {
    /// Paused at frame 0 of episode 0 of episodes this long, `dt_s` apart.
    pub fn new(episode_frames: Vec<usize>, dt_s: f64) -> Self {
        let episode_frames = if episode_frames.is_empty() { vec![1] } else { episode_frames };
        let dt_s = if dt_s.is_finite() && dt_s > 0.0 { dt_s } else { 0.05 };
        Playback {
            episode: 0,
            frame: 0,
            playing: false,
            speed: 1.0,
            looping: false,
            clock_s: 0.0,
            episode_frames,
            dt_s,
        }
    }

    /// Frames in the episode shown.
    pub fn frames(&self) -> usize {
        self.episode_frames[self.episode].max(1)
    }

    /// Episodes.
    pub fn episodes(&self) -> usize {
        self.episode_frames.len()
    }

    /// Seconds per frame.
    pub fn dt_s(&self) -> f64 {
        self.dt_s
    }

    /// The shown frame as a fraction of the episode (0 to 1).
    pub fn fraction(&self) -> f32 {
        let last = self.frames() - 1;
        if last == 0 { 0.0 } else { self.frame as f32 / last as f32 }
    }

    fn show(&mut self, frame: usize) {
        self.frame = frame.min(self.frames() - 1);
        self.clock_s = self.frame as f64 * self.dt_s;
    }

    /// Carries out one command.
    pub fn apply(&mut self, command: PlaybackCommand) {
        match command {
            PlaybackCommand::TogglePlay => {
                if !self.playing && self.frame + 1 >= self.frames() {
                    self.show(0);
                }
                self.playing = !self.playing;
            }
            PlaybackCommand::Step(n) => {
                self.playing = false;
                let to = (self.frame as i64).saturating_add(n).max(0);
                self.show(usize::try_from(to).unwrap_or(usize::MAX));
            }
            PlaybackCommand::SeekFrame(k) => self.show(k),
            PlaybackCommand::SeekFraction(f) => {
                let f = if f.is_finite() { f.clamp(0.0, 1.0) } else { 0.0 };
                self.show((f * (self.frames() - 1) as f32).round() as usize);
            }
            PlaybackCommand::Faster => {
                self.speed =
                    SPEEDS.iter().copied().find(|&s| s > self.speed * 1.001).unwrap_or(SPEEDS[SPEEDS.len() - 1]);
            }
            PlaybackCommand::Slower => {
                self.speed = SPEEDS.iter().rev().copied().find(|&s| s < self.speed * 0.999).unwrap_or(SPEEDS[0]);
            }
            PlaybackCommand::Speed(s) => {
                self.speed = if s.is_finite() { s.clamp(SPEEDS[0], SPEEDS[SPEEDS.len() - 1]) } else { 1.0 };
            }
            PlaybackCommand::Episode(e) => {
                self.episode = e.min(self.episodes() - 1);
                self.show(0);
            }
            PlaybackCommand::NextEpisode => self.apply(PlaybackCommand::Episode(self.episode + 1)),
            PlaybackCommand::PreviousEpisode => self.apply(PlaybackCommand::Episode(self.episode.saturating_sub(1))),
            PlaybackCommand::ToggleLoop => self.looping = !self.looping,
        }
    }

    /// Moves the clock on by `wall_s` seconds at the current speed.
    pub fn advance(&mut self, wall_s: f64) {
        if !self.playing || !wall_s.is_finite() || wall_s <= 0.0 {
            return;
        }
        let last = self.frames() - 1;
        self.clock_s += wall_s * f64::from(self.speed);
        // The epsilon keeps k * dt from landing just below frame k (dt comes
        // from an f32).
        let mut frame = (self.clock_s / self.dt_s + 1e-6).floor() as usize;
        if frame >= last {
            if self.looping && last > 0 {
                self.clock_s %= (last + 1) as f64 * self.dt_s;
                frame = ((self.clock_s / self.dt_s + 1e-6).floor() as usize).min(last);
            } else {
                frame = last;
                self.clock_s = last as f64 * self.dt_s;
                self.playing = false;
            }
        }
        self.frame = frame;
    }
}

/// Playback state, its commands, the keys that send them and the clock.
/// Needs only a [`Playback`] resource and `Time` (and uses the keyboard
/// when an input plugin is present).
pub struct PlaybackPlugin;

impl Plugin for PlaybackPlugin {
    fn build(&self, app: &mut App) {
        app.add_message::<PlaybackCommand>()
            .add_systems(Update, (keys_to_commands, apply_commands, advance_clock).chain().in_set(PlaybackSystems));
    }
}

/// The systems that move the playback; drawing runs after them.
#[derive(SystemSet, Clone, Debug, Hash, PartialEq, Eq)]
pub struct PlaybackSystems;

/// The playback keys, as the help overlay lists them.
pub const PLAYBACK_KEYS: &[(&str, &str)] = &[
    ("Space", "play / pause"),
    ("Right / Left", "step one frame (Shift: ten)"),
    ("Home / End", "first / last frame"),
    ("Up / Down", "faster / slower (0.1x to 10x)"),
    ("PgDn / PgUp, ] / [", "next / previous episode"),
    ("L", "loop the episode on / off"),
    ("click the timeline", "scrub"),
];

fn keys_to_commands(keys: Option<Res<ButtonInput<KeyCode>>>, mut out: MessageWriter<PlaybackCommand>) {
    let Some(keys) = keys else { return };
    let by = if keys.any_pressed([KeyCode::ShiftLeft, KeyCode::ShiftRight]) { 10 } else { 1 };
    let map = [
        (KeyCode::Space, PlaybackCommand::TogglePlay),
        (KeyCode::ArrowRight, PlaybackCommand::Step(by)),
        (KeyCode::ArrowLeft, PlaybackCommand::Step(-by)),
        (KeyCode::Home, PlaybackCommand::SeekFrame(0)),
        (KeyCode::End, PlaybackCommand::SeekFrame(usize::MAX)),
        (KeyCode::ArrowUp, PlaybackCommand::Faster),
        (KeyCode::ArrowDown, PlaybackCommand::Slower),
        (KeyCode::PageDown, PlaybackCommand::NextEpisode),
        (KeyCode::BracketRight, PlaybackCommand::NextEpisode),
        (KeyCode::PageUp, PlaybackCommand::PreviousEpisode),
        (KeyCode::BracketLeft, PlaybackCommand::PreviousEpisode),
        (KeyCode::KeyL, PlaybackCommand::ToggleLoop),
    ];
    for (key, command) in map {
        if keys.just_pressed(key) {
            out.write(command);
        }
    }
}

fn apply_commands(mut commands: MessageReader<PlaybackCommand>, mut playback: ResMut<Playback>) {
    for &command in commands.read() {
        playback.apply(command);
    }
}

fn advance_clock(time: Res<Time>, mut playback: ResMut<Playback>) {
    if playback.playing {
        playback.advance(time.delta_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn playback() -> Playback {
        Playback::new(vec![101, 11], 0.05)
    }

    #[test]
    fn time_moves_the_frame_at_the_chosen_speed() {
        let mut p = playback();
        p.apply(PlaybackCommand::TogglePlay);
        p.advance(0.5);
        assert_eq!(p.frame, 10);
        p.apply(PlaybackCommand::Speed(2.0));
        p.advance(0.5);
        assert_eq!(p.frame, 30);
        p.apply(PlaybackCommand::Speed(0.1));
        p.advance(0.5);
        assert_eq!(p.frame, 31);
        // Past the end: the last frame, paused.
        p.apply(PlaybackCommand::Speed(10.0));
        p.advance(10.0);
        assert_eq!((p.frame, p.playing), (100, false));
        // Play again starts over.
        p.apply(PlaybackCommand::TogglePlay);
        assert_eq!((p.frame, p.playing), (0, true));
    }

    #[test]
    fn stepping_pauses_and_stays_in_the_episode() {
        let mut p = playback();
        p.apply(PlaybackCommand::TogglePlay);
        p.apply(PlaybackCommand::Step(3));
        assert_eq!((p.frame, p.playing), (3, false));
        p.apply(PlaybackCommand::Step(-10));
        assert_eq!(p.frame, 0);
        p.apply(PlaybackCommand::SeekFrame(usize::MAX));
        assert_eq!(p.frame, 100);
        p.apply(PlaybackCommand::Step(i64::MAX));
        assert_eq!(p.frame, 100);
        p.apply(PlaybackCommand::SeekFraction(0.25));
        assert_eq!(p.frame, 25);
        assert!((p.clock_s - 1.25).abs() < 1e-12);
    }

    #[test]
    fn the_speed_ladder_ends_at_a_tenth_and_ten() {
        let mut p = playback();
        for _ in 0..10 {
            p.apply(PlaybackCommand::Faster);
        }
        assert_eq!(p.speed, 10.0);
        p.apply(PlaybackCommand::Slower);
        assert_eq!(p.speed, 5.0);
        for _ in 0..10 {
            p.apply(PlaybackCommand::Slower);
        }
        assert_eq!(p.speed, 0.1);
        p.apply(PlaybackCommand::Speed(f32::NAN));
        assert_eq!(p.speed, 1.0);
    }

    #[test]
    fn switching_episodes_starts_at_their_first_frame() {
        let mut p = playback();
        p.apply(PlaybackCommand::SeekFrame(50));
        p.apply(PlaybackCommand::NextEpisode);
        assert_eq!((p.episode, p.frame, p.frames()), (1, 0, 11));
        p.apply(PlaybackCommand::NextEpisode);
        assert_eq!(p.episode, 1);
        p.apply(PlaybackCommand::SeekFrame(50));
        assert_eq!(p.frame, 10);
        p.apply(PlaybackCommand::PreviousEpisode);
        assert_eq!((p.episode, p.frame), (0, 0));
    }

    #[test]
    fn looping_wraps_to_the_start() {
        let mut p = Playback::new(vec![11], 0.1);
        p.apply(PlaybackCommand::ToggleLoop);
        p.apply(PlaybackCommand::TogglePlay);
        p.advance(1.25);
        assert_eq!((p.frame, p.playing), (1, true));
    }
}
