//! The 2D overlay: the status line, the heatmap's legend in newtons, the
//! plots over time with a cursor at the shown frame (and, for a task with
//! a classifier, its belief over the objects with the declaration marked),
//! the occupancy grid of a task that keeps one, the timeline (click or drag
//! to scrub) and the help panel.

use bevy::asset::RenderAssetUsages;
use bevy::image::ImageSampler;
use bevy::prelude::*;
use bevy::render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use bevy::ui::RelativeCursorPosition;

use crate::playback::{PLAYBACK_KEYS, Playback, PlaybackCommand, PlaybackSystems};
use crate::replay::{Replay, heat_srgb};
use crate::scene::{DrawOptions, ReplayData};
use tactile_rollout::GridRecord;

/// Plot size in pixels.
const PLOT_W: u32 = 320;
const PLOT_H: u32 = 72;
/// Line colours of the plotted series (ten, one per object of a belief).
const SERIES: [[u8; 3]; 10] = [
    [240, 200, 60],
    [90, 170, 250],
    [240, 110, 90],
    [120, 220, 120],
    [200, 130, 230],
    [230, 230, 230],
    [80, 210, 200],
    [250, 150, 40],
    [150, 150, 255],
    [180, 110, 70],
];
/// Side of the occupancy-grid panel's picture (pixels).
pub const GRID_PANEL_PX: u32 = 240;
/// The grid panel's picture: left edge and distance of its bottom edge from
/// the window's bottom (pixels).
pub const GRID_PANEL_AT: (u32, u32) = (14, 36);
/// Colours of the grid's cell codes (0 unexplored, 1 free, 2 contact, 3 the
/// finger's cell; any other code is drawn magenta).
pub const GRID_COLOURS: [[u8; 3]; 4] = [[46, 48, 56], [196, 198, 204], [240, 120, 40], [60, 150, 250]];

/// The keys of the view itself (the playback's are in [`PLAYBACK_KEYS`]).
pub const VIEW_KEYS: &[(&str, &str)] = &[
    ("left drag", "orbit"),
    ("right / middle drag", "pan"),
    ("wheel", "zoom"),
    ("C", "frame the scene again"),
    ("F", "total force arrows on / off"),
    ("T", "per-taxel force arrows on / off"),
    ("R", "finger trail on / off"),
    ("G", "ground grid on / off"),
    ("V", "view from above / from the side"),
    ("H or F1", "this help"),
    ("Esc", "quit"),
];

#[derive(Component)]
struct StatusText;
#[derive(Component)]
struct HelpPanel;
#[derive(Component)]
struct Timeline;
#[derive(Component)]
struct TimelineFill;
#[derive(Component)]
struct PlotCursor;
#[derive(Component)]
struct PlotRange(usize);
#[derive(Component)]
struct GridTitle;

/// A named series of values, one per frame.
pub type Series = (String, Vec<f32>);

/// One plot: its title, its series, and a frame to mark.
#[derive(Clone, Debug, PartialEq)]
pub struct Plot {
    /// The title.
    pub title: String,
    /// The series drawn in it.
    pub series: Vec<Series>,
    /// A frame marked with a vertical line (the belief's declaration).
    pub marker: Option<usize>,
}

impl Plot {
    fn new(title: &str, series: Vec<Series>) -> Self {
        Plot { title: title.into(), series, marker: None }
    }

    /// Its picture, `w` x `h` RGBA: [`rasterize`], with the marked frame's
    /// column drawn in white.
    pub fn picture(&self, w: u32, h: u32) -> Vec<u8> {
        let mut px = rasterize(&self.series, w, h);
        let frames = self.series.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
        if let Some(frame) = self.marker.filter(|&f| f < frames) {
            let x = ((frame as f32 + 0.5) / frames as f32 * w as f32) as usize;
            for y in 0..h as usize {
                let i = (y * w as usize + x.min(w as usize - 1)) * 4;
                px[i..i + 4].copy_from_slice(&[255, 255, 255, 255]);
            }
        }
        px
    }
}

/// The plots of the episode shown, redrawn when the episode changes.
#[derive(Resource)]
struct Plots {
    images: Vec<Handle<Image>>,
    episode: usize,
    plots: Vec<Plot>,
    /// Each plot's value range.
    ranges: Vec<(f32, f32)>,
}

impl Plots {
    fn of(replay: &Replay, episode: usize, images: Vec<Handle<Image>>) -> Self {
        let plots = plot_series(replay, episode);
        let ranges = plots.iter().map(|p| value_range(&p.series)).collect();
        Plots { images, episode, plots, ranges }
    }
}

/// The overlay.
pub struct OverlayPlugin;

impl Plugin for OverlayPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, spawn_overlay).add_systems(
            Update,
            (
                scrub,
                view_keys.before(PlaybackSystems),
                (update_status, update_plots, update_cursors, update_grid).after(PlaybackSystems),
            ),
        );
    }
}

/// The series a plot shows, with their names.
pub fn plot_series(replay: &Replay, episode: usize) -> Vec<Plot> {
    let span = &replay.episodes[episode];
    let frames = &replay.steps[span.start..span.start + span.len];
    let reward = vec![("reward".to_owned(), frames.iter().map(|s| s.reward).collect())];
    let terms = replay
        .scene
        .reward_terms
        .iter()
        .enumerate()
        .map(|(i, name)| (name.clone(), frames.iter().map(|s| s.terms[i]).collect()))
        .collect::<Vec<_>>();
    let mut plots = vec![Plot::new("reward", reward)];
    if !terms.is_empty() {
        plots.push(Plot::new("reward terms", terms));
    }
    let force = vec![("force".to_owned(), span.total_force_n.clone())];
    plots.push(Plot::new("total taxel force (N)", force));
    // The classifier's belief, one line per object, the declaration marked.
    let grids: Vec<_> = (0..span.len).map(|f| replay.grids.get(span.start + f).and_then(Option::as_ref)).collect();
    let classes = grids.iter().flatten().map(|g| g.belief.len()).max().unwrap_or(0);
    if classes > 0 {
        let series = (0..classes)
            .map(|k| {
                (
                    k.to_string(),
                    grids.iter().map(|g| g.and_then(|g| g.belief.get(k).copied()).unwrap_or(f32::NAN)).collect(),
                )
            })
            .collect();
        let marker = grids.iter().position(|g| g.is_some_and(|g| g.declared > 0));
        plots.push(Plot { title: "belief per object".into(), series, marker });
    }
    plots
}

/// The grid as an RGBA picture, one pixel per cell, its last row at the
/// top (rows run along the world's y, which the top-down view shows up).
pub fn grid_picture(grid: &GridRecord) -> Vec<u8> {
    let (w, h) = (usize::from(grid.width), usize::from(grid.height));
    let mut px = vec![0u8; w * h * 4];
    for (row, line) in grid.cells.chunks(w.max(1)).take(h).enumerate() {
        for (col, &code) in line.iter().enumerate() {
            let c = GRID_COLOURS.get(usize::from(code)).copied().unwrap_or([255, 0, 255]);
            let i = ((h - 1 - row) * w + col) * 4;
            px[i..i + 4].copy_from_slice(&[c[0], c[1], c[2], 255]);
        }
    }
    px
}

/// The grid panel's title: the most likely object and the declaration.
fn grid_title(grid: &GridRecord) -> String {
    let contact = grid.cells.iter().filter(|&&c| c == 2).count();
    let mut title = format!("occupancy grid: {contact} contact cells");
    if let Some((k, p)) = grid.belief.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)) {
        title.push_str(&format!("\nmost likely object {k} ({p:.2})"));
    }
    if grid.declared > 0 {
        title.push_str(&format!("\ndeclared object {}", grid.declared - 1));
    }
    title
}

/// The finite value range of `series`, widened to include 0 and to be
/// non-empty.
pub fn value_range(series: &[Series]) -> (f32, f32) {
    let (lo, hi) = series
        .iter()
        .flat_map(|(_, v)| v.iter())
        .filter(|v| v.is_finite())
        .fold((0.0f32, 0.0f32), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    if hi - lo < 1e-9 { (lo - 1.0, hi + 1.0) } else { (lo, hi) }
}

/// Draws `series` as lines into an RGBA image `w` x `h` (row 0 at the top),
/// one column per time slice, on a dark background with a zero line.
pub fn rasterize(series: &[Series], w: u32, h: u32) -> Vec<u8> {
    let (w, h) = (w as usize, h as usize);
    let mut px = vec![0u8; w * h * 4];
    for p in px.chunks_exact_mut(4) {
        p.copy_from_slice(&[18, 20, 26, 215]);
    }
    let (lo, hi) = value_range(series);
    let row = |v: f32| -> usize {
        let t = ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
        ((1.0 - t) * (h - 1) as f32).round() as usize
    };
    let mut put = |x: usize, y: usize, c: [u8; 3]| {
        let i = (y * w + x) * 4;
        px[i..i + 4].copy_from_slice(&[c[0], c[1], c[2], 255]);
    };
    let zero = row(0.0);
    for x in (0..w).step_by(2) {
        put(x, zero, [70, 72, 80]);
    }
    for (k, (_, values)) in series.iter().enumerate() {
        let colour = SERIES[k % SERIES.len()];
        let n = values.len();
        if n == 0 {
            continue;
        }
        let mut previous: Option<usize> = None;
        for x in 0..w {
            // The samples that fall in this column, joined to the last one.
            let a = x * n / w;
            let b = ((x + 1) * n / w).max(a + 1).min(n);
            let finite = values[a..b].iter().filter(|v| v.is_finite());
            let (mut top, mut bottom) = (usize::MAX, 0usize);
            for &v in finite {
                let y = row(v);
                top = top.min(y);
                bottom = bottom.max(y);
            }
            if top == usize::MAX {
                previous = None;
                continue;
            }
            if let Some(p) = previous {
                top = top.min(p);
                bottom = bottom.max(p);
            }
            for y in top..=bottom {
                put(x, y, colour);
            }
            previous = Some(row(values[b - 1]).clamp(top, bottom));
        }
    }
    px
}

/// The grid panel: its picture and the frame it shows.
#[derive(Resource)]
struct GridPanel {
    image: Handle<Image>,
    shown: Option<(usize, usize)>,
}

fn plot_image(w: u32, h: u32, data: Vec<u8>) -> Image {
    Image::new(
        Extent3d { width: w, height: h, depth_or_array_layers: 1 },
        TextureDimension::D2,
        data,
        TextureFormat::Rgba8UnormSrgb,
        RenderAssetUsages::default(),
    )
}

/// The legend's colour bar: the map from 1 (top) to 0 (bottom).
fn colour_bar(h: u32) -> Image {
    let mut data = Vec::with_capacity(h as usize * 4 * 4);
    for y in 0..h {
        let c = heat_srgb(1.0 - y as f32 / (h - 1) as f32).map(|v| (v * 255.0).round() as u8);
        for _ in 0..4 {
            data.extend_from_slice(&[c[0], c[1], c[2], 255]);
        }
    }
    plot_image(4, h, data)
}

fn text(value: impl Into<String>, size: f32) -> (Text, TextFont, TextColor) {
    (
        Text::new(value),
        TextFont { font_size: FontSize::Px(size), ..default() },
        TextColor(Color::srgb(0.92, 0.92, 0.95)),
    )
}

fn panel() -> BackgroundColor {
    BackgroundColor(Color::srgba(0.05, 0.06, 0.08, 0.72))
}

/// A force with two significant digits (whole newtons from 10 N up).
fn format_newtons(v: f32) -> String {
    if !(v.is_finite() && v > 0.0) {
        return "0 N".into();
    }
    let digits = (1 - v.log10().floor() as i32).clamp(0, 6) as usize;
    format!("{v:.digits$} N")
}

fn spawn_overlay(mut commands: Commands, replay: Res<ReplayData>, mut images: ResMut<Assets<Image>>) {
    let replay = &replay.0;
    // Status, top left.
    commands.spawn((
        StatusText,
        text("", 15.0),
        Node {
            position_type: PositionType::Absolute,
            top: px(8),
            left: px(8),
            padding: UiRect::all(px(6)),
            ..default()
        },
        panel(),
    ));
    // Legend, top right.
    let bar = images.add(colour_bar(160));
    let scale = replay.force_scale_n;
    commands
        .spawn((
            Node {
                position_type: PositionType::Absolute,
                top: px(8),
                right: px(8),
                padding: UiRect::all(px(6)),
                flex_direction: FlexDirection::Column,
                row_gap: px(4),
                ..default()
            },
            panel(),
        ))
        .with_children(|legend| {
            legend.spawn(text("taxel normal force", 13.0));
            legend.spawn(Node { flex_direction: FlexDirection::Row, column_gap: px(6), ..default() }).with_children(
                |row| {
                    row.spawn((ImageNode::new(bar), Node { width: px(16), height: px(160), ..default() }));
                    row.spawn(Node {
                        flex_direction: FlexDirection::Column,
                        justify_content: JustifyContent::SpaceBetween,
                        height: px(160),
                        ..default()
                    })
                    .with_children(|labels| {
                        for v in [scale, scale * 0.5, 0.0] {
                            labels.spawn(text(format_newtons(v), 13.0));
                        }
                    });
                },
            );
        });
    // Plots, bottom right, above the timeline.
    let plots = plot_series(replay, 0);
    let mut handles = Vec::new();
    commands
        .spawn((
            Node {
                position_type: PositionType::Absolute,
                bottom: px(30),
                right: px(8),
                padding: UiRect::all(px(6)),
                flex_direction: FlexDirection::Column,
                row_gap: px(6),
                ..default()
            },
            panel(),
        ))
        .with_children(|column| {
            for (k, plot @ Plot { title, series, .. }) in plots.iter().enumerate() {
                let names = series.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ");
                let label = match series.len() {
                    0 | 1 => title.clone(),
                    2..=6 => format!("{title}: {names}"),
                    n => format!("{title}: {} to {}", series[0].0, series[n - 1].0),
                };
                column.spawn(text(label, 12.0));
                let handle = images.add(plot_image(PLOT_W, PLOT_H, plot.picture(PLOT_W, PLOT_H)));
                handles.push(handle.clone());
                column.spawn(Node { width: px(PLOT_W), height: px(PLOT_H), ..default() }).with_children(|plot| {
                    plot.spawn((
                        ImageNode::new(handle),
                        Node { width: percent(100), height: percent(100), ..default() },
                    ));
                    plot.spawn((
                        PlotCursor,
                        Node { position_type: PositionType::Absolute, width: px(1), height: percent(100), ..default() },
                        BackgroundColor(Color::WHITE),
                    ));
                    plot.spawn((
                        PlotRange(k),
                        text("", 11.0),
                        Node { position_type: PositionType::Absolute, top: px(1), left: px(3), ..default() },
                    ));
                });
            }
        });
    commands.insert_resource(Plots::of(replay, 0, handles));
    // The occupancy grid, bottom left, above the timeline.
    if let Some(first) = replay.grids.iter().flatten().next() {
        let mut picture = plot_image(u32::from(first.width), u32::from(first.height), grid_picture(first));
        // One cell, one block of screen pixels.
        picture.sampler = ImageSampler::nearest();
        let image = images.add(picture);
        let (left, bottom) = GRID_PANEL_AT;
        commands
            .spawn((
                Node {
                    position_type: PositionType::Absolute,
                    bottom: px(bottom - 6),
                    left: px(left - 6),
                    padding: UiRect::all(px(6)),
                    flex_direction: FlexDirection::Column,
                    row_gap: px(4),
                    ..default()
                },
                panel(),
            ))
            .with_children(|column| {
                column.spawn((GridTitle, text(grid_title(first), 12.0)));
                column.spawn((
                    ImageNode::new(image.clone()),
                    Node { width: px(GRID_PANEL_PX), height: px(GRID_PANEL_PX), ..default() },
                ));
            });
        commands.insert_resource(GridPanel { image, shown: None });
    }
    // Timeline, along the bottom.
    commands
        .spawn((
            Timeline,
            Interaction::default(),
            RelativeCursorPosition::default(),
            Node {
                position_type: PositionType::Absolute,
                bottom: px(8),
                left: px(8),
                right: px(8),
                height: px(14),
                ..default()
            },
            BackgroundColor(Color::srgba(0.2, 0.22, 0.26, 0.9)),
        ))
        .with_children(|bar| {
            bar.spawn((
                TimelineFill,
                Node { width: percent(0), height: percent(100), ..default() },
                BackgroundColor(Color::srgb(0.2, 0.75, 0.85)),
            ));
        });
    // Help, centred, hidden until asked for.
    let mut lines = String::from("Keys\n");
    for (key, what) in PLAYBACK_KEYS.iter().chain(VIEW_KEYS) {
        lines.push_str(&format!("{key:>22}  {what}\n"));
    }
    commands
        .spawn((
            HelpPanel,
            Visibility::Hidden,
            Node {
                position_type: PositionType::Absolute,
                width: percent(100),
                height: percent(100),
                justify_content: JustifyContent::Center,
                align_items: AlignItems::Center,
                ..default()
            },
        ))
        .with_children(|centre| {
            centre.spawn((
                text(lines, 15.0),
                Node { padding: UiRect::all(px(14)), ..default() },
                BackgroundColor(Color::srgba(0.03, 0.04, 0.06, 0.92)),
            ));
        });
}

fn view_keys(
    keys: Option<Res<ButtonInput<KeyCode>>>,
    mut options: ResMut<DrawOptions>,
    mut help: Query<&mut Visibility, With<HelpPanel>>,
    mut exit: MessageWriter<AppExit>,
) {
    let Some(keys) = keys else { return };
    let options = &mut *options;
    let toggles = [
        (KeyCode::KeyF, &mut options.total_force_arrows),
        (KeyCode::KeyT, &mut options.taxel_arrows),
        (KeyCode::KeyR, &mut options.trails),
        (KeyCode::KeyG, &mut options.grid),
    ];
    for (key, flag) in toggles {
        if keys.just_pressed(key) {
            *flag = !*flag;
        }
    }
    if keys.any_just_pressed([KeyCode::KeyH, KeyCode::F1]) {
        for mut v in &mut help {
            *v = if *v == Visibility::Hidden { Visibility::Visible } else { Visibility::Hidden };
        }
    }
    if keys.just_pressed(KeyCode::Escape) {
        exit.write(AppExit::Success);
    }
}

fn scrub(
    buttons: Option<Res<ButtonInput<MouseButton>>>,
    timeline: Query<&RelativeCursorPosition, With<Timeline>>,
    mut dragging: Local<bool>,
    mut out: MessageWriter<PlaybackCommand>,
) {
    let Some(buttons) = buttons else { return };
    let Ok(cursor) = timeline.single() else { return };
    if buttons.just_pressed(MouseButton::Left) {
        *dragging = cursor.cursor_over();
    }
    if !buttons.pressed(MouseButton::Left) {
        *dragging = false;
    }
    if *dragging && let Some(at) = cursor.normalized {
        out.write(PlaybackCommand::SeekFraction(at.x + 0.5));
    }
}

fn update_status(replay: Res<ReplayData>, playback: Res<Playback>, mut status: Query<&mut Text, With<StatusText>>) {
    let Ok(mut status) = status.single_mut() else { return };
    let replay = &replay.0;
    let span = &replay.episodes[playback.episode];
    let step = replay.step(playback.episode, playback.frame);
    let outcome = match &span.outcome {
        Some(o) if o.success => format!("success, return {:.2}", o.episode_return),
        Some(o) if o.truncated => format!("truncated, return {:.2}", o.episode_return),
        Some(o) => format!("ended, return {:.2}", o.episode_return),
        None => "no outcome recorded".to_owned(),
    };
    let file = replay.path.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let list = episode_list(replay, playback.episode, 5);
    let cut = replay.truncated.as_ref().map_or_else(String::new, |why| format!("\nfile cut short: {why}"));
    **status = format!(
        "{file}  {}\nepisode {}/{} ({outcome})\n{list}\nframe {}/{}  t {:.3} s  {}  {}x{}\nreward {:+.4}  total force {:.3} N\nH: help{cut}",
        replay.scene.env_id,
        playback.episode + 1,
        playback.episodes(),
        playback.frame,
        playback.frames() - 1,
        step.time_s,
        if playback.playing { "playing" } else { "paused" },
        playback.speed,
        if playback.looping { " loop" } else { "" },
        step.reward,
        step.total_normal_n(),
    );
}

/// The episodes around `shown` (up to `around` each side), numbered from 1,
/// each marked with its outcome (`+` success, `-` ended otherwise, `t`
/// truncated, `?` not recorded), the shown one in brackets.
pub fn episode_list(replay: &Replay, shown: usize, around: usize) -> String {
    let n = replay.episodes.len();
    let (from, to) = (shown.saturating_sub(around), (shown + around + 1).min(n));
    let mut out = String::from("episodes");
    if from > 0 {
        out.push_str(" ..");
    }
    for (i, e) in replay.episodes.iter().enumerate().take(to).skip(from) {
        let mark = match &e.outcome {
            Some(o) if o.success => '+',
            Some(o) if o.truncated => 't',
            Some(_) => '-',
            None => '?',
        };
        let item = format!("{}{mark}", i + 1);
        out.push(' ');
        out.push_str(&if i == shown { format!("[{item}]") } else { item });
    }
    if to < n {
        out.push_str(" ..");
    }
    out
}

fn update_plots(
    replay: Res<ReplayData>,
    playback: Res<Playback>,
    mut plots: ResMut<Plots>,
    mut images: ResMut<Assets<Image>>,
    mut ranges: Query<(&PlotRange, &mut Text)>,
) {
    if plots.episode != playback.episode {
        let handles = std::mem::take(&mut plots.images);
        *plots = Plots::of(&replay.0, playback.episode, handles);
        for (handle, plot) in plots.images.iter().zip(&plots.plots) {
            if let Some(mut image) = images.get_mut(handle) {
                image.data = Some(plot.picture(PLOT_W, PLOT_H));
            }
        }
    }
    for (range, mut text) in &mut ranges {
        if let (Some(plot), Some((lo, hi))) = (plots.plots.get(range.0), plots.ranges.get(range.0)) {
            let at = plot.series.iter().map(|(_, v)| v.get(playback.frame).copied().unwrap_or(f32::NAN));
            let now = if plot.series.len() > 6 {
                // Many lines (a belief): the one on top.
                let top = at.enumerate().max_by(|a, b| a.1.total_cmp(&b.1));
                top.map_or_else(String::new, |(k, v)| format!("{} at {v:.3}", plot.series[k].0))
            } else {
                at.map(|v| format!("{v:.3}")).collect::<Vec<_>>().join(" / ")
            };
            **text = format!("{hi:.3} .. {lo:.3}   now {now}");
        }
    }
}

fn update_grid(
    replay: Res<ReplayData>,
    playback: Res<Playback>,
    panel: Option<ResMut<GridPanel>>,
    mut images: ResMut<Assets<Image>>,
    mut title: Query<&mut Text, With<GridTitle>>,
) {
    let Some(mut panel) = panel else { return };
    let at = (playback.episode, playback.frame);
    if panel.shown == Some(at) {
        return;
    }
    panel.shown = Some(at);
    let Some(grid) = replay.0.grid(at.0, at.1) else { return };
    if let Some(mut image) = images.get_mut(&panel.image)
        && image.width() == u32::from(grid.width)
        && image.height() == u32::from(grid.height)
    {
        image.data = Some(grid_picture(grid));
    }
    if let Ok(mut text) = title.single_mut() {
        **text = grid_title(grid);
    }
}

fn update_cursors(
    playback: Res<Playback>,
    mut cursors: Query<&mut Node, (With<PlotCursor>, Without<TimelineFill>)>,
    mut fill: Query<&mut Node, (With<TimelineFill>, Without<PlotCursor>)>,
) {
    let at = percent(100.0 * playback.fraction());
    for mut node in &mut cursors {
        node.left = at;
    }
    for mut node in &mut fill {
        node.width = at;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rising_line_is_drawn_from_bottom_left_to_top_right() {
        let series = vec![("x".to_owned(), (0..100).map(|i| i as f32).collect::<Vec<_>>())];
        let (w, h) = (50u32, 20u32);
        let px = rasterize(&series, w, h);
        let lit = |x: u32, y: u32| px[((y * w + x) * 4) as usize..][..3] == SERIES[0];
        assert!(lit(0, h - 1), "bottom left");
        assert!(lit(w - 1, 0), "top right");
        assert!(!lit(0, 0) && !lit(w - 1, h - 1));
        // Every column has the line, with no gap.
        assert!((0..w).all(|x| (0..h).any(|y| lit(x, y))));
    }

    #[test]
    fn the_grid_picture_puts_the_last_row_on_top_and_colours_each_code() {
        let grid = GridRecord { width: 3, height: 2, cells: vec![0, 1, 2, 3, 9, 0], ..Default::default() };
        let px = grid_picture(&grid);
        let at = |x: usize, y: usize| [px[(y * 3 + x) * 4], px[(y * 3 + x) * 4 + 1], px[(y * 3 + x) * 4 + 2]];
        // Row 0 (codes 0 1 2) is the picture's bottom row.
        assert_eq!([at(0, 1), at(1, 1), at(2, 1)], [GRID_COLOURS[0], GRID_COLOURS[1], GRID_COLOURS[2]]);
        assert_eq!([at(0, 0), at(1, 0), at(2, 0)], [GRID_COLOURS[3], [255, 0, 255], GRID_COLOURS[0]]);
        // A marked plot has a white column there.
        let plot = Plot { title: "b".into(), series: vec![("0".into(), vec![0.1; 10])], marker: Some(5) };
        let px = plot.picture(20, 8);
        let x = 11; // (5 + 0.5) / 10 * 20
        assert!((0..8).all(|y| px[(y * 20 + x) * 4..][..3] == [255, 255, 255]));
    }

    #[test]
    fn legend_labels_keep_two_significant_digits() {
        let labels: Vec<String> = [0.0, 0.0005, 0.025, 0.05, 0.5, 3.79, 10.0, 250.0].map(format_newtons).into();
        assert_eq!(labels, ["0 N", "0.00050 N", "0.025 N", "0.050 N", "0.50 N", "3.8 N", "10 N", "250 N"]);
    }

    #[test]
    fn ranges_hold_zero_and_are_never_empty() {
        let s = |v: Vec<f32>| vec![("s".to_owned(), v)];
        assert_eq!(value_range(&s(vec![2.0, 3.0])), (0.0, 3.0));
        assert_eq!(value_range(&s(vec![-2.0, f32::NAN])), (-2.0, 0.0));
        assert_eq!(value_range(&s(vec![0.0])), (-1.0, 1.0));
    }
}
