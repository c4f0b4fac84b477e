//! A TensorBoard event-file writer: scalars only, which is what training
//! curves need.
//!
//! An event file is a sequence of TFRecords (`u64` length, masked CRC-32C of
//! the length, the bytes, masked CRC-32C of the bytes), each holding one
//! `tensorflow.Event` protobuf: `wall_time` (field 1, double), `step`
//! (field 2, int64), then either `file_version` (field 3, string; the first
//! record says `brain.Event:2`) or a `Summary` (field 5) whose `Value`s
//! (field 1) carry a `tag` (field 1, string) and a `simple_value` (field 2,
//! float). [`read_scalars`] reads such files back, checking every CRC.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use tactile_policy::crc32c;

fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c(data);
    crc.rotate_right(15).wrapping_add(0xA282_EAD8)
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn field_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    varint(out, u64::from(field << 3 | 2));
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn wall_time() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// Writes scalar summaries to a TensorBoard event file.
pub struct EventWriter {
    path: PathBuf,
    out: BufWriter<File>,
    buf: Vec<u8>,
}

impl EventWriter {
    /// Creates `events.out.tfevents.<time>.tactile` in `dir`.
    pub fn create(dir: &Path) -> io::Result<Self> {
        let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let path = dir.join(format!("events.out.tfevents.{secs}.tactile"));
        let out = BufWriter::new(File::create(&path)?);
        let mut w = EventWriter { path, out, buf: Vec::new() };
        let mut event = Vec::new();
        event.push(0x09);
        event.extend_from_slice(&wall_time().to_le_bytes());
        field_bytes(&mut event, 3, b"brain.Event:2");
        w.record(&event)?;
        Ok(w)
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn record(&mut self, data: &[u8]) -> io::Result<()> {
        let len = (data.len() as u64).to_le_bytes();
        self.out.write_all(&len)?;
        self.out.write_all(&masked_crc(&len).to_le_bytes())?;
        self.out.write_all(data)?;
        self.out.write_all(&masked_crc(data).to_le_bytes())
    }

    /// Writes one scalar `value` of `tag` at `step`.
    pub fn scalar(&mut self, tag: &str, step: u64, value: f32) -> io::Result<()> {
        let mut value_msg = Vec::new();
        field_bytes(&mut value_msg, 1, tag.as_bytes());
        value_msg.push(0x15);
        value_msg.extend_from_slice(&value.to_le_bytes());
        let mut summary = Vec::new();
        field_bytes(&mut summary, 1, &value_msg);
        self.buf.clear();
        self.buf.push(0x09);
        self.buf.extend_from_slice(&wall_time().to_le_bytes());
        self.buf.push(0x10);
        let mut event = std::mem::take(&mut self.buf);
        varint(&mut event, step);
        field_bytes(&mut event, 5, &summary);
        let r = self.record(&event);
        self.buf = event;
        r
    }

    /// Flushes what was written to the file.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// One scalar read back from an event file.
#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    /// The summary tag.
    pub tag: String,
    /// The step.
    pub step: u64,
    /// The value.
    pub value: f32,
}

fn read_varint(data: &[u8], at: &mut usize) -> io::Result<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *data.get(*at).ok_or_else(|| bad("truncated varint"))?;
        *at += 1;
        v |= u64::from(b & 0x7F) << shift;
        if b < 0x80 {
            return Ok(v);
        }
    }
    Err(bad("varint too long"))
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

/// One protobuf field: number, wire type, bytes (length-delimited and
/// fixed) and value (varint).
type Field<'a> = (u32, u8, &'a [u8], u64);

/// Parses one protobuf message into its fields.
fn fields(data: &[u8]) -> io::Result<Vec<Field<'_>>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let key = read_varint(data, &mut at)?;
        let (field, wire) = ((key >> 3) as u32, (key & 7) as u8);
        let take = |n: usize, at: &mut usize| -> io::Result<&[u8]> {
            let s = data.get(*at..*at + n).ok_or_else(|| bad("truncated field"))?;
            *at += n;
            Ok(s)
        };
        match wire {
            0 => {
                let v = read_varint(data, &mut at)?;
                out.push((field, wire, &data[0..0], v));
            }
            1 => out.push((field, wire, take(8, &mut at)?, 0)),
            2 => {
                let n = read_varint(data, &mut at)? as usize;
                out.push((field, wire, take(n, &mut at)?, 0));
            }
            5 => out.push((field, wire, take(4, &mut at)?, 0)),
            _ => return Err(bad("unsupported wire type")),
        }
    }
    Ok(out)
}

/// Reads every scalar of an event file, checking the framing and CRCs.
pub fn read_scalars(path: &Path) -> io::Result<Vec<Scalar>> {
    let mut data = Vec::new();
    File::open(path)?.read_to_end(&mut data)?;
    let mut at = 0;
    let mut out = Vec::new();
    while at < data.len() {
        let header = data.get(at..at + 12).ok_or_else(|| bad("truncated record header"))?;
        let len_bytes = &header[..8];
        let len = u64::from_le_bytes(len_bytes.try_into().map_err(|_| bad("length"))?) as usize;
        if u32::from_le_bytes(header[8..12].try_into().map_err(|_| bad("crc"))?) != masked_crc(len_bytes) {
            return Err(bad("length CRC mismatch"));
        }
        let body = data.get(at + 12..at + 12 + len).ok_or_else(|| bad("truncated record"))?;
        let crc = data.get(at + 12 + len..at + 16 + len).ok_or_else(|| bad("truncated record CRC"))?;
        if u32::from_le_bytes(crc.try_into().map_err(|_| bad("crc"))?) != masked_crc(body) {
            return Err(bad("data CRC mismatch"));
        }
        at += 16 + len;
        let event = fields(body)?;
        let step = event.iter().find(|f| f.0 == 2).map_or(0, |f| f.3);
        for summary in event.iter().filter(|f| f.0 == 5) {
            for value in fields(summary.2)?.iter().filter(|f| f.0 == 1) {
                let v = fields(value.2)?;
                let tag = v.iter().find(|f| f.0 == 1).map(|f| String::from_utf8_lossy(f.2).into_owned());
                let x = v
                    .iter()
                    .find(|f| f.0 == 2 && f.1 == 5)
                    .map(|f| f32::from_le_bytes([f.2[0], f.2[1], f.2[2], f.2[3]]));
                if let (Some(tag), Some(value)) = (tag, x) {
                    out.push(Scalar { tag, step, value });
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_read_back_as_written() {
        let dir = std::env::temp_dir().join(format!("tactile-tb-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut w = EventWriter::create(&dir).unwrap();
        w.scalar("charts/episodic_return", 2048, -312.5).unwrap();
        w.scalar("losses/approx_kl", 300, 0.0125).unwrap();
        w.scalar("charts/SPS", 1 << 40, 1234.0).unwrap();
        w.flush().unwrap();
        let got = read_scalars(w.path()).unwrap();
        assert_eq!(
            got,
            vec![
                Scalar { tag: "charts/episodic_return".into(), step: 2048, value: -312.5 },
                Scalar { tag: "losses/approx_kl".into(), step: 300, value: 0.0125 },
                Scalar { tag: "charts/SPS".into(), step: 1 << 40, value: 1234.0 },
            ]
        );
        // A flipped byte is caught by the CRC.
        let mut bytes = std::fs::read(w.path()).unwrap();
        let n = bytes.len();
        bytes[n - 6] ^= 0x40;
        let corrupt = dir.join("corrupt.tfevents");
        std::fs::write(&corrupt, bytes).unwrap();
        assert!(read_scalars(&corrupt).is_err());
    }
}
