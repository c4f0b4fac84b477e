//! Taxel layouts: where the taxels of an array sit on their pad, as data.
//!
//! A layout is written in TOML (`assets/sensors/*.toml`) and expands into a
//! [`Taxels`] table: per taxel a position, an inward unit normal (pointing
//! into the pad), a tangent and an area, all in the frame of the pad
//! collider the array is attached to.

use serde::{Deserialize, Serialize};

use crate::SimError;
use crate::math::Vector;

/// The shape of a taxel array, as written in a sensor file's `[layout]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LayoutDesc {
    /// A flat `rows x cols` grid on a face, row-major (row index along
    /// `v = normal x u`, column index along `u`).
    Grid {
        /// Number of rows (>= 1).
        rows: u32,
        /// Number of columns (>= 1).
        cols: u32,
        /// Centre-to-centre spacing of neighbouring taxels (m, > 0).
        pitch_m: f32,
        /// Centre of the grid on the face, in the pad collider's frame (m).
        center_m: [f32; 3],
        /// Inward normal of the face (into the pad); need not be unit length.
        normal: [f32; 3],
        /// Direction of increasing column index; projected onto the face.
        u_axis: [f32; 3],
    },
    /// Taxels on a spherical cap (a fingertip), in rings around its pole.
    Hemisphere {
        /// Radius of the sphere (m, > 0).
        radius_m: f32,
        /// Centre of the sphere in the pad collider's frame (m).
        center_m: [f32; 3],
        /// Outward direction of the pole (the fingertip's tip).
        pole: [f32; 3],
        /// Polar angle covered, from the pole (degrees, in (0, 180]).
        cap_angle_deg: f32,
        /// Number of rings between the pole and the cap's rim (>= 1).
        rings: u32,
        /// Number of taxels on the outermost ring (>= 1); inner rings get
        /// proportionally fewer so that taxel areas stay similar.
        outer_ring_taxels: u32,
    },
    /// Taxels on the lateral surface of a cylinder (a finger phalanx).
    Cylinder {
        /// Radius (m, > 0).
        radius_m: f32,
        /// Length of the covered part (m, > 0).
        length_m: f32,
        /// Centre of the cylinder in the pad collider's frame (m).
        center_m: [f32; 3],
        /// Direction of the cylinder's axis.
        axis: [f32; 3],
        /// Taxels along the axis (>= 1).
        rows: u32,
        /// Taxels around the circumference (>= 3).
        around: u32,
    },
}

/// The expanded table of an array's taxels, in the pad collider's frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Taxels {
    /// Taxel centres on the pad surface (m).
    pub position_m: Vec<Vector>,
    /// Inward unit normals (into the pad).
    pub normal: Vec<Vector>,
    /// First unit tangent; the second is `normal x tangent`.
    pub tangent: Vec<Vector>,
    /// Surface area each taxel stands for (m^2).
    pub area_m2: Vec<f32>,
    /// Typical spacing between neighbouring taxels (m).
    pub spacing_m: f32,
    /// Grid shape `(rows, cols)` where the layout is a grid, for images.
    pub grid: Option<(u32, u32)>,
}

impl Taxels {
    /// Number of taxels.
    pub fn len(&self) -> usize {
        self.position_m.len()
    }

    /// Whether the array has no taxel (never true for a validated layout).
    pub fn is_empty(&self) -> bool {
        self.position_m.is_empty()
    }
}

pub(crate) fn finite3(field: &str, v: [f32; 3]) -> Result<Vector, SimError> {
    if v.iter().all(|x| x.is_finite()) {
        Ok(Vector::new(v[0], v[1], v[2]))
    } else {
        Err(SimError::invalid(field, v, "must be finite"))
    }
}

pub(crate) fn unit3(field: &str, v: [f32; 3]) -> Result<Vector, SimError> {
    let x = finite3(field, v)?;
    let len = x.length();
    if len < 1e-6 {
        return Err(SimError::invalid(field, v, "must be a non-zero direction"));
    }
    Ok(x / len)
}

pub(crate) fn positive(field: &str, x: f32) -> Result<f32, SimError> {
    if x.is_finite() && x > 0.0 { Ok(x) } else { Err(SimError::invalid(field, x, "must be a finite number > 0")) }
}

/// The most taxels one array may have: far above any real sensor's, and
/// small enough that a layout cannot ask for gigabytes.
pub const MAX_TAXELS: u64 = 65_536;

/// Refuses a layout of `a x b` taxels above [`MAX_TAXELS`].
fn check_count(field: &str, a: u32, b: u32) -> Result<(), SimError> {
    if u64::from(a) * u64::from(b) > MAX_TAXELS {
        return Err(SimError::invalid(field, (a, b), "more than 65,536 taxels in one array"));
    }
    Ok(())
}

fn at_least(field: &str, x: u32, min: u32) -> Result<u32, SimError> {
    if x >= min {
        Ok(x)
    } else {
        Err(SimError::invalid(field, x, if min == 1 { "must be at least 1" } else { "must be at least 3" }))
    }
}

/// A unit vector orthogonal to `n`.
fn any_orthogonal(n: Vector) -> Vector {
    let helper = if n.x.abs() < 0.9 { Vector::X } else { Vector::Y };
    (helper - n * n.dot(helper)).normalize()
}

impl LayoutDesc {
    /// Checks every field and expands the layout into its taxels.
    ///
    /// `field` is the path of this layout in its file (for error messages).
    pub fn expand(&self, field: &str) -> Result<Taxels, SimError> {
        let f = |name: &str| format!("{field}.{name}");
        let mut t = Taxels {
            position_m: Vec::new(),
            normal: Vec::new(),
            tangent: Vec::new(),
            area_m2: Vec::new(),
            spacing_m: 0.0,
            grid: None,
        };
        match *self {
            LayoutDesc::Grid { rows, cols, pitch_m, center_m, normal, u_axis } => {
                let rows = at_least(&f("rows"), rows, 1)?;
                let cols = at_least(&f("cols"), cols, 1)?;
                check_count(&f("cols"), rows, cols)?;
                let pitch = positive(&f("pitch_m"), pitch_m)?;
                let c = finite3(&f("center_m"), center_m)?;
                let n = unit3(&f("normal"), normal)?;
                let u_raw = unit3(&f("u_axis"), u_axis)?;
                let u_proj = u_raw - n * n.dot(u_raw);
                if u_proj.length() < 1e-3 {
                    return Err(SimError::invalid(f("u_axis"), u_axis, "must not be parallel to the normal"));
                }
                let u = u_proj.normalize();
                let v = n.cross(u);
                for r in 0..rows {
                    for col in 0..cols {
                        let du = (col as f32 - (cols - 1) as f32 * 0.5) * pitch;
                        let dv = (r as f32 - (rows - 1) as f32 * 0.5) * pitch;
                        t.position_m.push(c + u * du + v * dv);
                        t.normal.push(n);
                        t.tangent.push(u);
                        t.area_m2.push(pitch * pitch);
                    }
                }
                t.spacing_m = pitch;
                t.grid = Some((rows, cols));
            }
            LayoutDesc::Hemisphere { radius_m, center_m, pole, cap_angle_deg, rings, outer_ring_taxels } => {
                let radius = positive(&f("radius_m"), radius_m)?;
                let c = finite3(&f("center_m"), center_m)?;
                let pole = unit3(&f("pole"), pole)?;
                let cap = positive(&f("cap_angle_deg"), cap_angle_deg)?;
                if cap > 180.0 {
                    return Err(SimError::invalid(f("cap_angle_deg"), cap, "must be at most 180"));
                }
                let rings = at_least(&f("rings"), rings, 1)?;
                let outer = at_least(&f("outer_ring_taxels"), outer_ring_taxels, 1)?;
                check_count(&f("outer_ring_taxels"), rings, outer)?;
                let cap = cap.to_radians();
                let e1 = any_orthogonal(pole);
                let e2 = pole.cross(e1);
                // Ring j covers polar angles [j, j+1] * cap / rings; its
                // taxels share the band's area equally.
                let band = cap / rings as f32;
                let outer_sin = ((rings as f32 - 0.5) * band).sin().max(1e-6);
                for j in 0..rings {
                    let theta = (j as f32 + 0.5) * band;
                    let count = ((outer as f32 * theta.sin() / outer_sin).round() as u32).max(1);
                    let (t0, t1) = (j as f32 * band, (j + 1) as f32 * band);
                    let band_area = std::f32::consts::TAU * radius * radius * (t0.cos() - t1.cos());
                    for k in 0..count {
                        let phi = std::f32::consts::TAU * (k as f32 + 0.5 * (j % 2) as f32) / count as f32;
                        let radial = e1 * phi.cos() + e2 * phi.sin();
                        let out = pole * theta.cos() + radial * theta.sin();
                        t.position_m.push(c + out * radius);
                        t.normal.push(-out);
                        // Tangent along increasing polar angle (towards the rim).
                        t.tangent.push(pole * -theta.sin() + radial * theta.cos());
                        t.area_m2.push(band_area / count as f32);
                    }
                }
                t.spacing_m = radius * band;
            }
            LayoutDesc::Cylinder { radius_m, length_m, center_m, axis, rows, around } => {
                let radius = positive(&f("radius_m"), radius_m)?;
                let length = positive(&f("length_m"), length_m)?;
                let c = finite3(&f("center_m"), center_m)?;
                let axis = unit3(&f("axis"), axis)?;
                let rows = at_least(&f("rows"), rows, 1)?;
                let around = at_least(&f("around"), around, 3)?;
                check_count(&f("around"), rows, around)?;
                let e1 = any_orthogonal(axis);
                let e2 = axis.cross(e1);
                let dz = length / rows as f32;
                let area = std::f32::consts::TAU * radius * length / (rows * around) as f32;
                for r in 0..rows {
                    let z = (r as f32 + 0.5) * dz - 0.5 * length;
                    for k in 0..around {
                        let phi = std::f32::consts::TAU * k as f32 / around as f32;
                        let radial = e1 * phi.cos() + e2 * phi.sin();
                        t.position_m.push(c + axis * z + radial * radius);
                        t.normal.push(-radial);
                        t.tangent.push(axis);
                        t.area_m2.push(area);
                    }
                }
                t.spacing_m = dz.min(std::f32::consts::TAU * radius / around as f32);
                t.grid = Some((rows, around));
            }
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(rows: u32, cols: u32, pitch_m: f32) -> LayoutDesc {
        LayoutDesc::Grid {
            rows,
            cols,
            pitch_m,
            center_m: [0.0, 0.0, -0.0025],
            normal: [0.0, 0.0, 1.0],
            u_axis: [1.0, 0.0, 0.0],
        }
    }

    #[test]
    fn grid_is_row_major_centred_and_tiles_the_face() {
        let t = grid(8, 8, 0.0025).expand("layout").unwrap();
        assert_eq!(t.len(), 64);
        // First taxel at (-3.5, -3.5) pitches, second one column further in +x.
        assert!((t.position_m[0].x + 3.5 * 0.0025).abs() < 1e-7);
        assert!((t.position_m[0].y + 3.5 * 0.0025).abs() < 1e-7);
        assert!((t.position_m[1].x - t.position_m[0].x - 0.0025).abs() < 1e-7);
        assert!((t.position_m[8].y - t.position_m[0].y - 0.0025).abs() < 1e-7);
        let area: f32 = t.area_m2.iter().sum();
        assert!((area - 0.02 * 0.02).abs() < 1e-9, "the grid covers the 20 mm face: {area}");
    }

    #[test]
    fn hemisphere_area_matches_the_cap() {
        let d = LayoutDesc::Hemisphere {
            radius_m: 0.01,
            center_m: [0.0; 3],
            pole: [0.0, 0.0, -1.0],
            cap_angle_deg: 90.0,
            rings: 6,
            outer_ring_taxels: 24,
        };
        let t = d.expand("layout").unwrap();
        let area: f32 = t.area_m2.iter().sum();
        let cap = std::f32::consts::TAU * 0.01 * 0.01;
        assert!((area - cap).abs() < 1e-6 * cap.max(1.0), "{area} vs {cap}");
        for (p, n) in t.position_m.iter().zip(&t.normal) {
            assert!((p.length() - 0.01).abs() < 1e-6);
            assert!((*n + *p / 0.01).length() < 1e-5, "normal points inward");
            assert!(p.z <= 1e-6, "on the -z cap");
        }
    }

    #[test]
    fn cylinder_area_matches_the_lateral_surface() {
        let d = LayoutDesc::Cylinder {
            radius_m: 0.008,
            length_m: 0.03,
            center_m: [0.0; 3],
            axis: [0.0, 0.0, 1.0],
            rows: 6,
            around: 12,
        };
        let t = d.expand("layout").unwrap();
        assert_eq!(t.len(), 72);
        let area: f32 = t.area_m2.iter().sum();
        let lateral = std::f32::consts::TAU * 0.008 * 0.03;
        assert!((area - lateral).abs() < 1e-6 * lateral.max(1.0));
    }

    #[test]
    fn bad_layouts_name_the_field() {
        let err = grid(0, 8, 0.0025).expand("sensors[0].layout").unwrap_err();
        assert!(err.to_string().contains("sensors[0].layout.rows"), "{err}");
        let err = grid(8, 8, -0.001).expand("layout").unwrap_err();
        assert!(err.to_string().contains("layout.pitch_m"), "{err}");
        let err = grid(8, 8, f32::NAN).expand("layout").unwrap_err();
        assert!(err.to_string().contains("pitch_m"), "{err}");
        let bad_normal = LayoutDesc::Grid {
            rows: 2,
            cols: 2,
            pitch_m: 0.001,
            center_m: [0.0, f32::NAN, 0.0],
            normal: [0.0, 0.0, 1.0],
            u_axis: [1.0, 0.0, 0.0],
        };
        let err = bad_normal.expand("layout").unwrap_err();
        assert!(err.to_string().contains("layout.center_m"), "{err}");
    }
}
