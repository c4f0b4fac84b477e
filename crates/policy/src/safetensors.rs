//! Weights as safetensors: every float tensor under its module path
//! (`actor.layers.0.weight`), little-endian `F32`, in the format any
//! safetensors reader takes (an 8-byte header length, a JSON header of
//! names, dtypes, shapes and byte ranges, then the data). Decoding checks
//! everything and names the file and the tensor that is wrong.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::PolicyError;

/// Named tensors: shape and row-major values by name.
pub type Tensors = BTreeMap<String, (Vec<usize>, Vec<f32>)>;

fn bad(path: &Path, message: impl Into<String>) -> PolicyError {
    PolicyError::Weights { path: path.to_owned(), message: message.into() }
}

#[derive(Serialize, Deserialize)]
struct Entry {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: [usize; 2],
}

/// Encodes named tensors (in the given order) as safetensors bytes, with
/// string metadata.
pub fn encode(tensors: &[(String, Vec<usize>, Vec<f32>)], metadata: &BTreeMap<String, String>) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    if !metadata.is_empty() {
        header.insert("__metadata__".into(), serde_json::json!(metadata));
    }
    let mut at = 0;
    for (name, shape, values) in tensors {
        let end = at + 4 * values.len();
        let entry = Entry { dtype: "F32".into(), shape: shape.clone(), data_offsets: [at, end] };
        header.insert(name.clone(), serde_json::to_value(entry).unwrap_or_default());
        at = end;
    }
    let mut text = serde_json::Value::Object(header).to_string().into_bytes();
    while !text.len().is_multiple_of(8) {
        text.push(b' ');
    }
    let mut bytes = Vec::with_capacity(8 + text.len() + at);
    bytes.extend_from_slice(&(text.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&text);
    for (_, _, values) in tensors {
        for v in values {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
    }
    bytes
}

/// Named tensors and metadata decoded from safetensors bytes (`path` names
/// the file in errors).
pub fn decode(bytes: &[u8], path: &Path) -> Result<(Tensors, BTreeMap<String, String>), PolicyError> {
    if bytes.len() < 8 {
        return Err(bad(path, format!("{} bytes is too short for a safetensors file", bytes.len())));
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&bytes[..8]);
    let header_len = u64::from_le_bytes(len);
    let data_start = usize::try_from(header_len)
        .ok()
        .and_then(|h| h.checked_add(8))
        .filter(|&s| s <= bytes.len())
        .ok_or_else(|| bad(path, format!("header of {header_len} bytes runs past the end (truncated?)")))?;
    let header: BTreeMap<String, serde_json::Value> = serde_json::from_slice(&bytes[8..data_start])
        .map_err(|e| bad(path, format!("the header is not valid JSON: {e}")))?;
    let data = &bytes[data_start..];
    let (mut tensors, mut metadata) = (BTreeMap::new(), BTreeMap::new());
    for (name, value) in header {
        if name == "__metadata__" {
            metadata = serde_json::from_value(value).map_err(|e| bad(path, format!("__metadata__: {e}")))?;
            continue;
        }
        let entry: Entry = serde_json::from_value(value).map_err(|e| bad(path, format!("tensor `{name}`: {e}")))?;
        if entry.dtype != "F32" {
            return Err(bad(path, format!("tensor `{name}` is {}, expected F32", entry.dtype)));
        }
        let count = entry.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        let [begin, end] = entry.data_offsets;
        if count.and_then(|c| c.checked_mul(4)) != end.checked_sub(begin) || end > data.len() {
            return Err(bad(
                path,
                format!("tensor `{name}`: bytes {begin}..{end} do not hold shape {:?}", entry.shape),
            ));
        }
        let values: Vec<f32> =
            data[begin..end].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(bad(
                path,
                format!("tensor `{name}` holds a non-finite value (element {i}): the weights are damaged"),
            ));
        }
        tensors.insert(name, (entry.shape, values));
    }
    Ok((tensors, metadata))
}

/// Reads and decodes a safetensors file.
pub fn read(path: &Path) -> Result<Tensors, PolicyError> {
    let bytes = std::fs::read(path).map_err(crate::error::io(path))?;
    Ok(decode(&bytes, path)?.0)
}

/// Takes the tensor `name` of exactly `shape` out of `tensors`.
pub fn take(tensors: &mut Tensors, name: &str, shape: &[usize], path: &Path) -> Result<Vec<f32>, PolicyError> {
    match tensors.remove(name) {
        Some((s, values)) if s == shape => Ok(values),
        Some((s, _)) => Err(bad(path, format!("tensor `{name}` has shape {s:?}, the network needs {shape:?}"))),
        None => Err(bad(path, format!("tensor `{name}` is missing"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensors_round_trip_and_broken_files_name_the_file() {
        let tensors = vec![("a.weight".to_string(), vec![2, 3], (0..6).map(|i| i as f32 * 0.5).collect::<Vec<_>>())];
        let meta = BTreeMap::from([("format".to_string(), "x".to_string())]);
        let bytes = encode(&tensors, &meta);
        let p = Path::new("p/model.safetensors");
        let (mut t, m) = decode(&bytes, p).unwrap();
        assert_eq!(m, meta);
        assert_eq!(take(&mut t.clone(), "a.weight", &[2, 3], p).unwrap(), tensors[0].2);
        let e = take(&mut t, "a.weight", &[3, 2], p).unwrap_err().to_string();
        assert_eq!(e, "p/model.safetensors: tensor `a.weight` has shape [2, 3], the network needs [3, 2]");
        for cut in [0, 5, 20, bytes.len() - 3] {
            let e = decode(&bytes[..cut], p).err().unwrap().to_string();
            assert!(e.starts_with("p/model.safetensors: "), "{e}");
        }
        // A NaN among the weights is refused, naming the tensor.
        let nan = vec![("b".to_string(), vec![3], vec![1.0, f32::NAN, 2.0])];
        let e = decode(&encode(&nan, &meta), p).err().unwrap().to_string();
        assert_eq!(e, "p/model.safetensors: tensor `b` holds a non-finite value (element 1): the weights are damaged");
    }
}
