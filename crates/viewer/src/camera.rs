//! An orbit camera: left drag turns around the focus, right or middle drag
//! pans, the wheel zooms, `C` frames the scene again, `V` switches between
//! the view from above and the view from the side.

use bevy::camera::CameraProjection;
use bevy::core_pipeline::tonemapping::Tonemapping;
use bevy::input::mouse::{AccumulatedMouseMotion, AccumulatedMouseScroll, MouseScrollUnit};
use bevy::prelude::*;

use crate::scene::{ViewFraming, to_view};

/// The camera's orbit around its focus (bevy frame).
#[derive(Component, Clone, Debug, PartialEq)]
pub struct OrbitCamera {
    /// The point it looks at.
    pub focus: Vec3,
    /// Distance from the focus (m).
    pub radius: f32,
    /// Turn about the vertical (rad).
    pub yaw: f32,
    /// Elevation above the horizontal (rad).
    pub pitch: f32,
}

impl OrbitCamera {
    /// The view that frames `framing`: from the front right, above, or
    /// from straight above where the framing asks for it.
    pub fn framing(framing: &ViewFraming) -> Self {
        if framing.from_above { Self::from_above(framing) } else { Self::from_side(framing) }
    }

    /// The view of `framing` from the front right, above.
    pub fn from_side(framing: &ViewFraming) -> Self {
        OrbitCamera { focus: to_view(framing.centre_m), radius: 2.5 * framing.size_m, yaw: 0.6, pitch: 0.5 }
    }

    /// The view of `framing` from straight above, the world's x to the
    /// right and y up the picture.
    pub fn from_above(framing: &ViewFraming) -> Self {
        OrbitCamera { focus: to_view(framing.centre_m), radius: 1.4 * framing.size_m, yaw: 0.0, pitch: TOP_DOWN_RAD }
    }

    /// The camera transform of this orbit.
    pub fn transform(&self) -> Transform {
        let rotation = Quat::from_euler(EulerRot::YXZ, self.yaw, -self.pitch, 0.0);
        Transform { translation: self.focus + rotation * Vec3::Z * self.radius, rotation, scale: Vec3::ONE }
    }

    /// Where a point of the simulation's world (m) lands in a `width` x
    /// `height` picture of this view (pixels from the top left), or `None`
    /// when it is behind the camera.
    pub fn project(&self, framing: &ViewFraming, point_m: [f32; 3], (width, height): (u32, u32)) -> Option<[f32; 2]> {
        let mut projection = lens(framing);
        projection.aspect_ratio = width as f32 / height as f32;
        let view_from_world = self.transform().to_matrix().inverse();
        let clip = projection.get_clip_from_view() * view_from_world * to_view(point_m).extend(1.0);
        if clip.w <= 0.0 {
            return None;
        }
        let ndc = clip.truncate() / clip.w;
        Some([(ndc.x + 1.0) * 0.5 * width as f32, (1.0 - ndc.y) * 0.5 * height as f32])
    }
}

/// The steepest pitch (rad): straight down would make the orbit's up
/// direction undefined.
const TOP_DOWN_RAD: f32 = 1.5;

/// The camera's lens: bevy's default field of view, a near plane scaled to
/// the scene.
fn lens(framing: &ViewFraming) -> PerspectiveProjection {
    PerspectiveProjection { near: 0.001 * framing.size_m, ..default() }
}

/// The camera and its mouse controls.
pub struct OrbitCameraPlugin;

impl Plugin for OrbitCameraPlugin {
    fn build(&self, app: &mut App) {
        app.add_systems(Startup, spawn_camera).add_systems(Update, orbit);
    }
}

fn spawn_camera(mut commands: Commands, framing: Res<ViewFraming>) {
    let orbit = OrbitCamera::framing(&framing);
    commands.spawn((
        Camera3d::default(),
        // The heatmap's colours are the legend's: no tone mapping.
        Tonemapping::None,
        // Software renderers (Mesa's lavapipe under Xvfb) pay for every
        // sample: no multisampling.
        Msaa::Off,
        Projection::from(lens(&framing)),
        orbit.transform(),
        orbit,
    ));
}

fn orbit(
    buttons: Option<Res<ButtonInput<MouseButton>>>,
    keys: Option<Res<ButtonInput<KeyCode>>>,
    motion: Option<Res<AccumulatedMouseMotion>>,
    scroll: Option<Res<AccumulatedMouseScroll>>,
    framing: Res<ViewFraming>,
    mut cameras: Query<(&mut OrbitCamera, &mut Transform)>,
) {
    let Ok((mut orbit, mut transform)) = cameras.single_mut() else { return };
    let before = orbit.clone();
    if keys.as_ref().is_some_and(|k| k.just_pressed(KeyCode::KeyC)) {
        *orbit = OrbitCamera::framing(&framing);
    }
    if keys.as_ref().is_some_and(|k| k.just_pressed(KeyCode::KeyV)) {
        let above = orbit.pitch >= TOP_DOWN_RAD - 1e-3;
        *orbit = if above { OrbitCamera::from_side(&framing) } else { OrbitCamera::from_above(&framing) };
    }
    if let (Some(buttons), Some(motion)) = (buttons, motion) {
        let d = motion.delta;
        if buttons.pressed(MouseButton::Left) {
            orbit.yaw -= d.x * 0.006;
            orbit.pitch = (orbit.pitch + d.y * 0.006).clamp(-TOP_DOWN_RAD, TOP_DOWN_RAD);
        } else if buttons.any_pressed([MouseButton::Right, MouseButton::Middle]) {
            let (right, up) = (transform.right(), transform.up());
            let m_per_px = orbit.radius * 0.0015;
            orbit.focus += (-right * d.x + up * d.y) * m_per_px;
        }
    }
    if let Some(scroll) = scroll {
        let lines = match scroll.unit {
            MouseScrollUnit::Line => scroll.delta.y,
            MouseScrollUnit::Pixel => scroll.delta.y / 40.0,
        };
        orbit.radius = (orbit.radius * 0.88f32.powf(lines)).clamp(0.01 * framing.size_m, 50.0 * framing.size_m);
    }
    if *orbit != before {
        *transform = orbit.transform();
    }
}
