//! Triangle meshes from OBJ and STL (ASCII or binary) files.

use std::path::Path;

use crate::SimError;
use crate::math::Vector;

/// A triangle mesh: vertices (m, after scaling) and counter-clockwise
/// triangles as vertex indices.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TriMeshData {
    /// Vertex positions.
    pub vertices: Vec<Vector>,
    /// Triangles, three vertex indices each.
    pub indices: Vec<[u32; 3]>,
}

impl TriMeshData {
    /// Loads an `.obj` or `.stl` file, chosen by extension.
    pub fn load(path: &Path) -> Result<Self, SimError> {
        let bytes = std::fs::read(path).map_err(|source| SimError::Io { path: path.to_owned(), source })?;
        Self::parse(&bytes, path)
    }

    /// Parses the bytes of an `.obj` or `.stl` file, chosen by the
    /// extension of `path` (which also names it in errors).
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self, SimError> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        let mesh = match ext.as_deref() {
            Some("obj") => parse_obj(bytes, path)?,
            Some("stl") => parse_stl(bytes, path)?,
            _ => {
                return Err(SimError::Mesh {
                    path: path.to_owned(),
                    line: 0,
                    reason: "unknown mesh format: expected a .obj or .stl file".into(),
                });
            }
        };
        mesh.check(path)?;
        Ok(mesh)
    }

    fn check(&self, path: &Path) -> Result<(), SimError> {
        let err = |reason: &str| SimError::Mesh { path: path.to_owned(), line: 0, reason: reason.into() };
        if self.indices.is_empty() {
            return Err(err("the mesh has no triangle"));
        }
        if !self.vertices.iter().all(|v| v.is_finite()) {
            return Err(err("a vertex is not finite"));
        }
        Ok(())
    }

    /// Scales every vertex component-wise.
    pub fn scaled(mut self, scale: Vector) -> Self {
        for v in &mut self.vertices {
            *v *= scale;
        }
        self
    }
}

fn parse_obj(bytes: &[u8], path: &Path) -> Result<TriMeshData, SimError> {
    let text = std::str::from_utf8(bytes).map_err(|_| SimError::Mesh {
        path: path.to_owned(),
        line: 0,
        reason: "not UTF-8 text".into(),
    })?;
    let mut mesh = TriMeshData::default();
    let mut face = Vec::new();
    for (lineno, line) in text.lines().enumerate() {
        let err = |reason: String| SimError::Mesh { path: path.to_owned(), line: lineno + 1, reason };
        let mut words = line.split_whitespace();
        match words.next() {
            Some("v") => {
                let mut xyz = [0.0f32; 3];
                for c in &mut xyz {
                    let w = words.next().ok_or_else(|| err("a vertex needs 3 coordinates".into()))?;
                    *c = w.parse().map_err(|_| err(format!("`{w}` is not a number")))?;
                }
                mesh.vertices.push(Vector::from_array(xyz));
            }
            Some("f") => {
                face.clear();
                for w in words {
                    let first = w.split('/').next().unwrap_or("");
                    let i: i64 = first.parse().map_err(|_| err(format!("`{w}` is not a vertex index")))?;
                    let n = mesh.vertices.len() as i64;
                    let idx = if i < 0 { n + i } else { i - 1 };
                    if idx < 0 || idx >= n {
                        return Err(err(format!("vertex index {i} is out of range (1..={n})")));
                    }
                    face.push(idx as u32);
                }
                if face.len() < 3 {
                    return Err(err("a face needs at least 3 vertices".into()));
                }
                for k in 1..face.len() - 1 {
                    mesh.indices.push([face[0], face[k], face[k + 1]]);
                }
            }
            _ => {}
        }
    }
    Ok(mesh)
}

fn parse_stl(bytes: &[u8], path: &Path) -> Result<TriMeshData, SimError> {
    // A binary STL has an 80-byte header, a u32 count and 50 bytes a
    // triangle; an ASCII one starts with `solid` (some binary files do too,
    // so the size decides).
    if bytes.len() >= 84 {
        let count = u32::from_le_bytes([bytes[80], bytes[81], bytes[82], bytes[83]]) as usize;
        if count.checked_mul(50).and_then(|b| b.checked_add(84)) == Some(bytes.len()) {
            return Ok(parse_binary_stl(&bytes[84..], count));
        }
    }
    if bytes.starts_with(b"solid") {
        return parse_ascii_stl(bytes, path);
    }
    Err(SimError::Mesh {
        path: path.to_owned(),
        line: 0,
        reason: format!("not an STL file: {} bytes is neither a whole binary STL nor ASCII `solid`", bytes.len()),
    })
}

fn parse_binary_stl(body: &[u8], count: usize) -> TriMeshData {
    let mut mesh = TriMeshData::default();
    let f = |b: &[u8], k: usize| f32::from_le_bytes([b[k], b[k + 1], b[k + 2], b[k + 3]]);
    for t in 0..count {
        let tri = &body[t * 50..t * 50 + 50];
        let base = mesh.vertices.len() as u32;
        for v in 0..3 {
            let o = 12 + v * 12;
            mesh.vertices.push(Vector::new(f(tri, o), f(tri, o + 4), f(tri, o + 8)));
        }
        mesh.indices.push([base, base + 1, base + 2]);
    }
    mesh
}

fn parse_ascii_stl(bytes: &[u8], path: &Path) -> Result<TriMeshData, SimError> {
    let text = std::str::from_utf8(bytes).map_err(|_| SimError::Mesh {
        path: path.to_owned(),
        line: 0,
        reason: "not UTF-8 text".into(),
    })?;
    let mut mesh = TriMeshData::default();
    let mut pending = 0;
    for (lineno, line) in text.lines().enumerate() {
        let err = |reason: String| SimError::Mesh { path: path.to_owned(), line: lineno + 1, reason };
        let mut words = line.split_whitespace();
        match words.next() {
            Some("vertex") => {
                let mut xyz = [0.0f32; 3];
                for c in &mut xyz {
                    let w = words.next().ok_or_else(|| err("a vertex needs 3 coordinates".into()))?;
                    *c = w.parse().map_err(|_| err(format!("`{w}` is not a number")))?;
                }
                mesh.vertices.push(Vector::from_array(xyz));
                pending += 1;
            }
            Some("endloop") => {
                if pending != 3 {
                    return Err(err(format!("a facet has {pending} vertices, expected 3")));
                }
                let b = mesh.vertices.len() as u32 - 3;
                mesh.indices.push([b, b + 1, b + 2]);
                pending = 0;
            }
            _ => {}
        }
    }
    Ok(mesh)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("tactile-mesh-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn obj_quads_are_fanned_and_negative_indices_work() {
        let p = tmp("quad.obj", b"# a square\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1/1/1 2/2/1 3/3/1 -1\n");
        let m = TriMeshData::load(&p).unwrap();
        assert_eq!(m.vertices.len(), 4);
        assert_eq!(m.indices, vec![[0, 1, 2], [0, 2, 3]]);
    }

    #[test]
    fn ascii_and_binary_stl_give_the_same_triangle() {
        let ascii = b"solid t\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex 0 1 0\nendloop\nendfacet\nendsolid t\n";
        let a = TriMeshData::load(&tmp("t.stl", ascii)).unwrap();
        let mut bin = vec![0u8; 80];
        bin.extend_from_slice(&1u32.to_le_bytes());
        for x in [0.0f32, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0] {
            bin.extend_from_slice(&x.to_le_bytes());
        }
        bin.extend_from_slice(&[0, 0]);
        let b = TriMeshData::load(&tmp("b.stl", &bin)).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn bad_meshes_name_the_file_and_line() {
        let e = TriMeshData::load(&tmp("bad.obj", b"v 0 0 0\nv 1 0 0\nf 1 2 7\n")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("bad.obj:3") && msg.contains("out of range"), "{msg}");
        let e = TriMeshData::load(&tmp("trunc.stl", &[1u8; 100])).unwrap_err();
        assert!(e.to_string().contains("not an STL file"), "{e}");
        let e = TriMeshData::load(Path::new("/nonexistent/cube.obj")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/cube.obj"), "{e}");
    }
}
