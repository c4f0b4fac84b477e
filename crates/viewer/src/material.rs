//! The viewer's one material: flat colour with fixed lights, or unlit
//! vertex colours for the heatmaps. bevy's `StandardMaterial` samples
//! several textures per pixel, which on a software renderer (Mesa's
//! lavapipe under Xvfb) costs most of the frame; this samples none.

use bevy::prelude::*;
use bevy::render::render_resource::AsBindGroup;
use bevy::shader::ShaderRef;

/// A shaded or unlit colour.
#[derive(Asset, TypePath, AsBindGroup, Debug, Clone)]
pub struct ShadedMaterial {
    /// The colour (linear), multiplied by the mesh's vertex colours.
    #[uniform(0)]
    pub color: LinearRgba,
    /// `x`: 1 to show the colour unlit.
    #[uniform(1)]
    pub params: Vec4,
    /// Opaque or blended.
    pub alpha_mode: AlphaMode,
    /// Drawn as if this much nearer the camera (m) when sorting blended
    /// meshes.
    pub depth_bias: f32,
}

impl ShadedMaterial {
    /// An opaque colour lit by the viewer's lights.
    pub fn lit(color: Color) -> Self {
        ShadedMaterial { color: color.to_linear(), params: Vec4::ZERO, alpha_mode: AlphaMode::Opaque, depth_bias: 0.0 }
    }

    /// A see-through colour lit by the viewer's lights.
    pub fn see_through(color: Color, alpha: f32) -> Self {
        ShadedMaterial { alpha_mode: AlphaMode::Blend, ..Self::lit(color.with_alpha(alpha)) }
    }

    /// Vertex colours as they are, blended (opaque colours blend to
    /// themselves) and sorted `depth_bias` metres nearer.
    pub fn unlit_on_top(depth_bias: f32) -> Self {
        ShadedMaterial { color: LinearRgba::WHITE, params: Vec4::X, alpha_mode: AlphaMode::Blend, depth_bias }
    }
}

impl Material for ShadedMaterial {
    fn fragment_shader() -> ShaderRef {
        "embedded://tactile_viewer/shaded.wgsl".into()
    }

    fn alpha_mode(&self) -> AlphaMode {
        self.alpha_mode
    }

    fn depth_bias(&self) -> f32 {
        self.depth_bias
    }
}

/// Registers [`ShadedMaterial`] and its shader.
pub struct ShadedMaterialPlugin;

impl Plugin for ShadedMaterialPlugin {
    fn build(&self, app: &mut App) {
        bevy::asset::embedded_asset!(app, "shaded.wgsl");
        app.add_plugins(MaterialPlugin::<ShadedMaterial>::default());
    }
}
