// The viewer's material: a colour (times the mesh's vertex colours, if it
// has them), lit by two fixed directional lights and an ambient term, or
// shown as it is. Cheap on software renderers: no textures are sampled.
#import bevy_pbr::forward_io::VertexOutput

@group(#{MATERIAL_BIND_GROUP}) @binding(0) var<uniform> color: vec4<f32>;
// x: 1 shows the colour as it is (unlit).
@group(#{MATERIAL_BIND_GROUP}) @binding(1) var<uniform> params: vec4<f32>;

@fragment
fn fragment(in: VertexOutput) -> @location(0) vec4<f32> {
    var c = color;
#ifdef VERTEX_COLORS
    c = c * in.color;
#endif
    if params.x > 0.5 {
        return c;
    }
    let n = normalize(in.world_normal);
    let key = max(dot(n, normalize(vec3<f32>(0.4, 1.0, 0.3))), 0.0);
    let fill = max(dot(n, normalize(vec3<f32>(-0.6, 0.35, -0.5))), 0.0);
    let shade = 0.3 + 0.6 * key + 0.2 * fill;
    return vec4<f32>(c.rgb * shade, c.a);
}
