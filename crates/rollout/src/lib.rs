//! # tactile-rollout
//!
//! Episodes as MCAP files (chunked, zstd-compressed), written while they
//! run and read back by the viewer, with no simulation dependency.
//!
//! ## Schema, version 2
//! Three channels, and a fourth where the task has a grid; every channel's
//! metadata holds `schema_version = 2`. Version 1 files (the same without
//! the grid channel) are read as well.
//! - `/tactile/scene` (JSON, schema `tactile.Scene`), once, first: a
//!   [`SceneRecord`] — env id, tactile version, env step `dt`, every body
//!   with its kind and shapes (primitives, or inline meshes), every taxel
//!   array with its body, pad pose and taxel positions and normals, the
//!   action width and the reward term names.
//! - `/tactile/step` (binary `tactile-step`, schema `tactile.Step`), one
//!   for the state after each reset and one per env step: a [`StepRecord`], little-endian: `episode u32, step
//!   u32, time_s f64, n_bodies u16, n_sensors u16, action_dim u16, n_terms
//!   u16`, then `n_sensors` taxel counts (`u32`), every body pose (`x y z qx
//!   qy qz qw`, f32, world frame), every array's normal forces (N) then its
//!   shear forces (two per taxel, N), the action, the reward, the reward
//!   terms (f32), and a flags byte (bit 0 terminated, 1 truncated, 2
//!   success, 3 physics fault).
//! - `/tactile/episode` (JSON, schema `tactile.Episode`), at each episode's
//!   end: an [`EpisodeRecord`] with its outcome.
//! - `/tactile/grid` (binary `tactile-grid`, schema `tactile.Grid`,
//!   optional, since version 2), after a step's message for a task that
//!   keeps an occupancy grid (the Explore tasks): a [`GridRecord`],
//!   little-endian: `episode u32, step u32, width u16, height u16, classes
//!   u16, declared u8`, then `width * height` cell codes (`u8`, row-major)
//!   and `classes` belief values (`f32`: a classifier's probabilities over
//!   the objects, none without one). `declared` is 0, or `k + 1` on the
//!   step that declared object `k`.
//!
//! A crash mid-write loses at most the open chunk: [`Rollout::read`] takes
//! every whole, checksummed chunk and says in [`Rollout::truncated`] why
//! it stopped early. A file that is not MCAP, of another schema version, or
//! damaged is refused with one error naming the file.
//!
//! ```
//! use tactile_rollout::{EpisodeRecord, Rollout, RolloutWriter, SceneRecord, StepRecord};
//! let scene = SceneRecord::new("Press-v0", 0.01, 1, vec!["force".into()]);
//! let mut bytes = std::io::Cursor::new(Vec::new());
//! let mut w = RolloutWriter::new(&mut bytes, &scene).unwrap();
//! let mut step = StepRecord::empty(&scene);
//! step.reward = -0.5;
//! w.write_step(&step).unwrap();
//! w.end_episode(&EpisodeRecord { steps: 1, ..Default::default() }).unwrap();
//! w.finish().unwrap();
//! let r = Rollout::from_bytes(bytes.get_ref(), "mem.mcap".as_ref()).unwrap();
//! assert_eq!((r.steps.len(), r.episodes.len(), r.truncated.is_none()), (1, 1, true));
//! ```

use std::collections::BTreeMap;
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = 2;
/// The oldest schema version this build reads.
pub const OLDEST_SCHEMA_VERSION: u32 = 1;
/// The largest chunk (uncompressed) the reader accepts: 256 MiB, a
/// thousand times what the writer makes.
pub const MAX_CHUNK_BYTES: u64 = 256 << 20;
const SCENE_TOPIC: &str = "/tactile/scene";
const STEP_TOPIC: &str = "/tactile/step";
const EPISODE_TOPIC: &str = "/tactile/episode";
const GRID_TOPIC: &str = "/tactile/grid";

/// What can go wrong writing or reading a rollout.
#[derive(Debug, thiserror::Error)]
pub enum RolloutError {
    /// The file is not a usable rollout.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Writing failed.
    #[error("writing a rollout: {0}")]
    Write(String),
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

/// A body's shape, in the body's frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Geometry {
    /// A box of these half extents (m).
    Cuboid {
        /// Half extents (m).
        half_extents_m: [f32; 3],
    },
    /// A sphere.
    Ball {
        /// Radius (m).
        radius_m: f32,
    },
    /// A capsule along y.
    Capsule {
        /// Half the segment's length (m).
        half_height_m: f32,
        /// Radius (m).
        radius_m: f32,
    },
    /// A cylinder along y.
    Cylinder {
        /// Half height (m).
        half_height_m: f32,
        /// Radius (m).
        radius_m: f32,
    },
    /// A triangle mesh, inline.
    Mesh {
        /// Vertices (m).
        vertices_m: Vec<[f32; 3]>,
        /// Triangles as vertex indices.
        triangles: Vec<[u32; 3]>,
    },
}

/// One shape of a body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShapeRecord {
    /// The geometry.
    pub geometry: Geometry,
    /// Its pose in the body frame: `x y z qx qy qz qw`.
    pub body_from_shape: [f32; 7],
}

/// A body of the scene.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BodyRecord {
    /// Its name in the scene.
    pub name: String,
    /// `static`, `dynamic` or `kinematic`.
    pub kind: String,
    /// Its shapes.
    pub shapes: Vec<ShapeRecord>,
}

/// A taxel array.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SensorRecord {
    /// Its name.
    pub name: String,
    /// Index of the body that carries it in [`SceneRecord::bodies`].
    pub body: usize,
    /// The pad's pose in the body frame: `x y z qx qy qz qw`.
    pub body_from_pad: [f32; 7],
    /// Taxel centres in the pad frame (m).
    pub positions_m: Vec<[f32; 3]>,
    /// Taxel normals in the pad frame (into the pad).
    pub normals: Vec<[f32; 3]>,
    /// Each taxel's first shear axis in the pad frame; the second is
    /// `normal x tangent`. Absent from files written before it was added
    /// (their shear cannot be placed in space).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tangents: Vec<[f32; 3]>,
}

/// The static scene, written once at the start.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SceneRecord {
    /// [`SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// The task id with its version.
    pub env_id: String,
    /// The tactile version that recorded it.
    pub tactile_version: String,
    /// Seconds per env step.
    pub env_dt_s: f32,
    /// The bodies, in the order step records list their poses.
    pub bodies: Vec<BodyRecord>,
    /// The taxel arrays, in the order step records list their readings.
    pub sensors: Vec<SensorRecord>,
    /// Values per action.
    pub action_dim: usize,
    /// Reward term names, in the order step records list them.
    pub reward_terms: Vec<String>,
}

impl SceneRecord {
    /// A scene with no bodies or sensors yet.
    pub fn new(env_id: &str, env_dt_s: f32, action_dim: usize, reward_terms: Vec<String>) -> Self {
        SceneRecord {
            schema_version: SCHEMA_VERSION,
            env_id: env_id.into(),
            tactile_version: env!("CARGO_PKG_VERSION").into(),
            env_dt_s,
            bodies: Vec::new(),
            sensors: Vec::new(),
            action_dim,
            reward_terms,
        }
    }
}

/// Flag bits of a step.
pub mod flags {
    /// The episode terminated at this step.
    pub const TERMINATED: u8 = 1;
    /// The episode was truncated at this step.
    pub const TRUNCATED: u8 = 2;
    /// The task counts the episode a success.
    pub const SUCCESS: u8 = 4;
    /// The physics failed at this step.
    pub const PHYSICS_FAULT: u8 = 8;
}

/// One env step.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StepRecord {
    /// Episode index in the file.
    pub episode: u32,
    /// Step index in the episode: 0 is the state after the reset (action,
    /// reward and terms zero), `k` the result of the k-th action.
    pub step: u32,
    /// Simulated time since the episode began (s).
    pub time_s: f64,
    /// Every body's pose, world frame: `x y z qx qy qz qw`.
    pub body_poses: Vec<[f32; 7]>,
    /// Every taxel array's normal forces (N).
    pub normal_n: Vec<Vec<f32>>,
    /// Every taxel array's shear forces (N, two axes per taxel).
    pub shear_n: Vec<Vec<[f32; 2]>>,
    /// The action taken.
    pub action: Vec<f32>,
    /// The reward.
    pub reward: f32,
    /// The reward terms.
    pub terms: Vec<f32>,
    /// [`flags`] bits.
    pub flags: u8,
}

impl StepRecord {
    /// A zeroed step sized for `scene`.
    pub fn empty(scene: &SceneRecord) -> Self {
        StepRecord {
            body_poses: vec![[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]; scene.bodies.len()],
            normal_n: scene.sensors.iter().map(|s| vec![0.0; s.positions_m.len()]).collect(),
            shear_n: scene.sensors.iter().map(|s| vec![[0.0; 2]; s.positions_m.len()]).collect(),
            action: vec![0.0; scene.action_dim],
            terms: vec![0.0; scene.reward_terms.len()],
            ..Default::default()
        }
    }

    /// Total normal force over every taxel (N).
    pub fn total_normal_n(&self) -> f32 {
        self.normal_n.iter().flatten().sum()
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.clear();
        let f = |out: &mut Vec<u8>, v: f32| out.extend_from_slice(&v.to_le_bytes());
        out.extend_from_slice(&self.episode.to_le_bytes());
        out.extend_from_slice(&self.step.to_le_bytes());
        out.extend_from_slice(&self.time_s.to_le_bytes());
        for n in [self.body_poses.len(), self.normal_n.len(), self.action.len(), self.terms.len()] {
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        for n in &self.normal_n {
            out.extend_from_slice(&(n.len() as u32).to_le_bytes());
        }
        self.body_poses.iter().flatten().for_each(|&v| f(out, v));
        for (normal, shear) in self.normal_n.iter().zip(&self.shear_n) {
            normal.iter().for_each(|&v| f(out, v));
            shear.iter().flatten().for_each(|&v| f(out, v));
        }
        self.action.iter().for_each(|&v| f(out, v));
        f(out, self.reward);
        self.terms.iter().for_each(|&v| f(out, v));
        out.push(self.flags);
    }

    fn decode(bytes: &[u8]) -> Result<Self, String> {
        struct Cursor<'a>(&'a [u8]);
        impl Cursor<'_> {
            fn take<const N: usize>(&mut self) -> Result<[u8; N], String> {
                if self.0.len() < N {
                    return Err("ends early".into());
                }
                let (head, rest) = self.0.split_at(N);
                self.0 = rest;
                let mut a = [0u8; N];
                a.copy_from_slice(head);
                Ok(a)
            }
            fn f32(&mut self) -> Result<f32, String> {
                Ok(f32::from_le_bytes(self.take()?))
            }
            fn u16(&mut self) -> Result<usize, String> {
                Ok(usize::from(u16::from_le_bytes(self.take()?)))
            }
        }
        let mut c = Cursor(bytes);
        let mut s = StepRecord {
            episode: u32::from_le_bytes(c.take()?),
            step: u32::from_le_bytes(c.take()?),
            time_s: f64::from_le_bytes(c.take()?),
            ..Default::default()
        };
        let (bodies, sensors, action, terms) = (c.u16()?, c.u16()?, c.u16()?, c.u16()?);
        let mut counts = Vec::with_capacity(sensors);
        for _ in 0..sensors {
            counts.push(u32::from_le_bytes(c.take()?) as usize);
        }
        // Every size is checked against what is left before allocating.
        let floats = bodies * 7 + counts.iter().map(|n| n * 3).sum::<usize>() + action + 1 + terms;
        if c.0.len() != floats * 4 + 1 {
            return Err(format!("holds {} bytes of values, its counts need {}", c.0.len(), floats * 4 + 1));
        }
        for _ in 0..bodies {
            let mut p = [0.0; 7];
            for v in &mut p {
                *v = c.f32()?;
            }
            s.body_poses.push(p);
        }
        for n in counts {
            s.normal_n.push((0..n).map(|_| c.f32()).collect::<Result<_, _>>()?);
            s.shear_n.push((0..n).map(|_| Ok([c.f32()?, c.f32()?])).collect::<Result<_, String>>()?);
        }
        s.action = (0..action).map(|_| c.f32()).collect::<Result<_, _>>()?;
        s.reward = c.f32()?;
        s.terms = (0..terms).map(|_| c.f32()).collect::<Result<_, _>>()?;
        s.flags = c.take::<1>()?[0];
        Ok(s)
    }
}

/// A task's occupancy grid and a classifier's belief after one step.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GridRecord {
    /// Episode index in the file.
    pub episode: u32,
    /// Step index in the episode (as its [`StepRecord`]'s).
    pub step: u32,
    /// Cells per row.
    pub width: u16,
    /// Rows.
    pub height: u16,
    /// The cell codes, row-major (the task's own codes: for the Explore
    /// tasks 0 unexplored, 1 free, 2 contact, 3 the finger's cell).
    pub cells: Vec<u8>,
    /// A classifier's probabilities over the classes (empty without one).
    pub belief: Vec<f32>,
    /// 0, or `k + 1` on the step that declared class `k`.
    pub declared: u8,
}

impl GridRecord {
    fn encode(&self, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&self.episode.to_le_bytes());
        out.extend_from_slice(&self.step.to_le_bytes());
        out.extend_from_slice(&self.width.to_le_bytes());
        out.extend_from_slice(&self.height.to_le_bytes());
        out.extend_from_slice(&(self.belief.len() as u16).to_le_bytes());
        out.push(self.declared);
        out.extend_from_slice(&self.cells);
        self.belief.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
    }

    fn decode(bytes: &[u8]) -> Result<Self, String> {
        const HEAD: usize = 4 + 4 + 2 + 2 + 2 + 1;
        if bytes.len() < HEAD {
            return Err(format!("holds {} bytes, its header alone needs {HEAD}", bytes.len()));
        }
        let u32_at = |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
        let (width, height, classes) = (u16_at(8), u16_at(10), usize::from(u16_at(12)));
        let cells = usize::from(width) * usize::from(height);
        if bytes.len() != HEAD + cells + 4 * classes {
            return Err(format!(
                "holds {} bytes, a {width} x {height} grid and {classes} classes need {}",
                bytes.len(),
                HEAD + cells + 4 * classes
            ));
        }
        let belief =
            bytes[HEAD + cells..].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        Ok(GridRecord {
            episode: u32_at(0),
            step: u32_at(4),
            width,
            height,
            cells: bytes[HEAD..HEAD + cells].to_vec(),
            belief,
            declared: bytes[14],
        })
    }
}

/// The records of an MCAP file, or of a chunk's content, that a rollout
/// uses (schemas, channels, messages, chunks, the data end), parsed and
/// owned. Every other record (header, footer, attachments, metadata,
/// indexes, statistics) is framed but never parsed: mcap's parsers of some
/// of them index out of range on damaged input.
struct Records<'a> {
    reader: mcap::sans_io::LinearReader,
    unread: &'a [u8],
}

impl<'a> Records<'a> {
    fn file(bytes: &'a [u8]) -> Self {
        use mcap::sans_io::{LinearReader, LinearReaderOptions};
        let options = LinearReaderOptions::default().with_record_length_limit(bytes.len()).with_emit_chunks(true);
        Records { reader: LinearReader::new_with_options(options), unread: bytes }
    }

    fn chunk(content: &'a [u8]) -> Self {
        use mcap::sans_io::{LinearReader, LinearReaderOptions};
        let options = LinearReaderOptions::default()
            .with_record_length_limit(content.len())
            .with_skip_start_magic(true)
            .with_skip_end_magic(true);
        Records { reader: LinearReader::new_with_options(options), unread: content }
    }
}

impl Iterator for Records<'_> {
    type Item = Result<mcap::records::Record<'static>, mcap::McapError>;

    fn next(&mut self) -> Option<Self::Item> {
        use mcap::records::op;
        use mcap::sans_io::LinearReadEvent;
        while let Some(event) = self.reader.next_event() {
            match event {
                Ok(LinearReadEvent::ReadRequest(need)) => {
                    let n = need.min(self.unread.len());
                    self.reader.insert(n).copy_from_slice(&self.unread[..n]);
                    self.reader.notify_read(n);
                    self.unread = &self.unread[n..];
                }
                Ok(LinearReadEvent::Record { data, opcode }) => {
                    if matches!(opcode, op::SCHEMA | op::CHANNEL | op::MESSAGE | op::CHUNK | op::DATA_END) {
                        return Some(mcap::parse_record(opcode, data).map(mcap::records::Record::into_owned));
                    }
                }
                Err(e) => return Some(Err(e)),
            }
        }
        None
    }
}

/// A chunk's records, decompressed with the size its header claims as a
/// hard limit (mcap's own chunk reader reserves whatever a damaged header
/// says, and panics on absurd sizes) and checked against its CRC.
fn chunk_content(header: &mcap::records::ChunkHeader, data: &[u8]) -> Result<Vec<u8>, String> {
    if header.uncompressed_size > MAX_CHUNK_BYTES {
        return Err(format!(
            "it claims {} bytes uncompressed, more than the {MAX_CHUNK_BYTES} this reader takes",
            header.uncompressed_size
        ));
    }
    let size = header.uncompressed_size as usize;
    let content = match header.compression.as_str() {
        "" => data.to_vec(),
        "zstd" => zstd::bulk::decompress(data, size).map_err(|e| format!("zstd: {e}"))?,
        other => return Err(format!("compression {other:?}; this reader takes zstd or none")),
    };
    if content.len() != size {
        return Err(format!("it holds {} bytes uncompressed, its header says {size}", content.len()));
    }
    // A CRC of 0 means none was written (the MCAP spec).
    if header.uncompressed_crc != 0 && crc32fast::hash(&content) != header.uncompressed_crc {
        return Err("its CRC does not match its content".into());
    }
    Ok(content)
}

/// The end of an episode.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpisodeRecord {
    /// Episode index in the file.
    pub episode: u32,
    /// The seed it was reset with, if known.
    pub seed: Option<u64>,
    /// Steps it took.
    pub steps: u32,
    /// Undiscounted return.
    pub episode_return: f64,
    /// The task counted it a success.
    pub success: bool,
    /// It ended by termination.
    pub terminated: bool,
    /// It ended by truncation (time limit or physics fault).
    pub truncated: bool,
}

/// Writes a rollout as it happens: the scene first, then steps and
/// episode ends; chunks of about 256 KiB, zstd-compressed.
pub struct RolloutWriter<W: Write + Seek> {
    mcap: mcap::Writer<W>,
    step_channel: u16,
    episode_channel: u16,
    grid_channel: Option<u16>,
    sequence: u32,
    time_ns: u64,
    dt_ns: u64,
    buffer: Vec<u8>,
}

fn werr(e: impl std::fmt::Display) -> RolloutError {
    RolloutError::Write(e.to_string())
}

impl<W: Write + Seek> RolloutWriter<W> {
    /// Starts a rollout on `w` with its scene.
    pub fn new(w: W, scene: &SceneRecord) -> Result<Self, RolloutError> {
        let mut mcap = mcap::WriteOptions::new()
            .compression(Some(mcap::Compression::Zstd))
            .chunk_size(Some(256 * 1024))
            .compression_threads(0)
            .profile("tactile-rollout")
            .create(w)
            .map_err(werr)?;
        let meta = BTreeMap::from([("schema_version".to_string(), SCHEMA_VERSION.to_string())]);
        let mut channel = |name: &str, encoding: &str, topic: &str| -> Result<u16, RolloutError> {
            let schema =
                mcap.add_schema(name, encoding, format!("{name} v{SCHEMA_VERSION}").as_bytes()).map_err(werr)?;
            mcap.add_channel(schema, topic, encoding, &meta).map_err(werr)
        };
        let scene_channel = channel("tactile.Scene", "json", SCENE_TOPIC)?;
        let step_channel = channel("tactile.Step", "tactile-step", STEP_TOPIC)?;
        let episode_channel = channel("tactile.Episode", "json", EPISODE_TOPIC)?;
        let json = serde_json::to_vec(scene).map_err(werr)?;
        let header =
            mcap::records::MessageHeader { channel_id: scene_channel, sequence: 0, log_time: 0, publish_time: 0 };
        mcap.write_to_known_channel(&header, &json).map_err(werr)?;
        let dt_ns = (f64::from(scene.env_dt_s) * 1e9).round() as u64;
        Ok(RolloutWriter {
            mcap,
            step_channel,
            episode_channel,
            grid_channel: None,
            sequence: 1,
            time_ns: 0,
            dt_ns,
            buffer: Vec::new(),
        })
    }

    fn write(&mut self, channel: u16, data_from_buffer: bool, json: &[u8]) -> Result<(), RolloutError> {
        let header = mcap::records::MessageHeader {
            channel_id: channel,
            sequence: self.sequence,
            log_time: self.time_ns,
            publish_time: self.time_ns,
        };
        self.sequence = self.sequence.wrapping_add(1);
        let data = if data_from_buffer { &self.buffer[..] } else { json };
        self.mcap.write_to_known_channel(&header, data).map_err(werr)
    }

    /// Appends one step.
    pub fn write_step(&mut self, step: &StepRecord) -> Result<(), RolloutError> {
        let mut buffer = std::mem::take(&mut self.buffer);
        step.encode(&mut buffer);
        self.buffer = buffer;
        self.time_ns += self.dt_ns;
        self.write(self.step_channel, true, &[])
    }

    /// Appends the grid (and belief) of the step just written; the grid
    /// channel is opened with the first.
    pub fn write_grid(&mut self, grid: &GridRecord) -> Result<(), RolloutError> {
        let channel = match self.grid_channel {
            Some(c) => c,
            None => {
                let meta = BTreeMap::from([("schema_version".to_string(), SCHEMA_VERSION.to_string())]);
                let name = "tactile.Grid";
                let schema = self
                    .mcap
                    .add_schema(name, "tactile-grid", format!("{name} v{SCHEMA_VERSION}").as_bytes())
                    .map_err(werr)?;
                let c = self.mcap.add_channel(schema, GRID_TOPIC, "tactile-grid", &meta).map_err(werr)?;
                self.grid_channel = Some(c);
                c
            }
        };
        let mut buffer = std::mem::take(&mut self.buffer);
        grid.encode(&mut buffer);
        self.buffer = buffer;
        self.write(channel, true, &[])
    }

    /// Marks the end of an episode with its outcome.
    pub fn end_episode(&mut self, episode: &EpisodeRecord) -> Result<(), RolloutError> {
        let json = serde_json::to_vec(episode).map_err(werr)?;
        self.write(self.episode_channel, false, &json)
    }

    /// Closes the open chunk and flushes it to the file (what a crash
    /// after this call cannot lose).
    pub fn flush(&mut self) -> Result<(), RolloutError> {
        self.mcap.flush().map_err(werr)
    }

    /// Writes the summary and the footer.
    pub fn finish(mut self) -> Result<(), RolloutError> {
        self.mcap.finish().map_err(werr)?;
        Ok(())
    }
}

/// A rollout read back.
#[derive(Clone, Debug, PartialEq)]
pub struct Rollout {
    /// The scene.
    pub scene: SceneRecord,
    /// Every step, in order.
    pub steps: Vec<StepRecord>,
    /// Every finished episode, in order.
    pub episodes: Vec<EpisodeRecord>,
    /// The grid after each step, in order, for a task that keeps one
    /// (empty otherwise, and in version 1 files).
    pub grids: Vec<GridRecord>,
    /// Why reading stopped before the end of the file, if it did (a
    /// truncated or damaged file: what came before is in `steps`).
    pub truncated: Option<String>,
}

impl Rollout {
    /// Reads a rollout file.
    pub fn read(path: &Path) -> Result<Self, RolloutError> {
        let bytes = std::fs::read(path).map_err(|source| RolloutError::Io { path: path.to_owned(), source })?;
        Rollout::from_bytes(&bytes, path)
    }

    /// Reads a rollout held in memory (`path` names it in errors).
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Self, RolloutError> {
        use mcap::read::ChannelAccumulator;
        use mcap::records::Record;
        let bad = |message: String| RolloutError::File { path: path.to_owned(), message };
        if !bytes.starts_with(mcap::MAGIC) {
            return Err(bad(format!("not an MCAP file ({} bytes, no MCAP magic at the start)", bytes.len())));
        }
        let mut channels = ChannelAccumulator::default();
        let mut messages: Vec<(String, Option<String>, Vec<u8>)> = Vec::new();
        let mut truncated = None;
        fn take(
            record: Record<'_>,
            channels: &mut ChannelAccumulator<'static>,
            out: &mut Vec<(String, Option<String>, Vec<u8>)>,
        ) -> Result<(), mcap::McapError> {
            match record {
                Record::Schema { header, data } => channels.add_schema_from_slice(header, &data)?,
                Record::Channel(c) => channels.add_channel(c)?,
                Record::Message { header, data } => {
                    let channel = channels
                        .get(header.channel_id)
                        .ok_or(mcap::McapError::UnknownChannel(header.sequence, header.channel_id))?;
                    let version = channel.metadata.get("schema_version").cloned();
                    out.push((channel.topic.clone(), version, data.into_owned()));
                }
                _ => {}
            }
            Ok(())
        }
        let mut complete = false;
        for record in Records::file(bytes) {
            let record = match record {
                Ok(r) => r,
                Err(e) if complete => {
                    truncated = Some(format!("every step is there, but the summary after them is cut ({e})"));
                    break;
                }
                Err(e) => {
                    truncated = Some(format!("the file ends or breaks before its end ({e})"));
                    break;
                }
            };
            if complete {
                // The summary: nothing to take, but it must be whole.
                continue;
            }
            let mut pending = Vec::new();
            let result = match record {
                Record::Chunk { header, data } => chunk_content(&header, &data).and_then(|content| {
                    // Inside a whole, checked chunk: records no longer than it.
                    Records::chunk(&content)
                        .try_for_each(|r| take(r?, &mut channels, &mut pending))
                        .map_err(|e| e.to_string())
                }),
                Record::DataEnd(_) => {
                    complete = true;
                    continue;
                }
                other => take(other, &mut channels, &mut pending).map_err(|e| e.to_string()),
            };
            match result {
                Ok(()) => messages.append(&mut pending),
                Err(e) => {
                    truncated = Some(format!("a damaged chunk ({e})"));
                    break;
                }
            }
        }
        if !complete && truncated.is_none() {
            truncated = Some("the file has no end (truncated?)".into());
        }
        let mut scene: Option<SceneRecord> = None;
        let (mut steps, mut episodes, mut grids) = (Vec::new(), Vec::new(), Vec::new());
        let readable = |v: Option<&str>| {
            v.and_then(|v| v.parse::<u32>().ok()).is_some_and(|v| (OLDEST_SCHEMA_VERSION..=SCHEMA_VERSION).contains(&v))
        };
        for (k, (topic, version, data)) in messages.into_iter().enumerate() {
            if !readable(version.as_deref()) && topic.starts_with("/tactile/") {
                return Err(bad(format!(
                    "channel {topic} is schema version {}, this build reads versions {OLDEST_SCHEMA_VERSION} to {SCHEMA_VERSION}",
                    version.unwrap_or_else(|| "(none)".into())
                )));
            }
            match topic.as_str() {
                SCENE_TOPIC => {
                    let s: SceneRecord =
                        serde_json::from_slice(&data).map_err(|e| bad(format!("the scene message: {e}")))?;
                    scene = Some(s);
                }
                STEP_TOPIC => {
                    steps.push(StepRecord::decode(&data).map_err(|e| bad(format!("message {k} (a step) {e}")))?)
                }
                EPISODE_TOPIC => episodes.push(
                    serde_json::from_slice(&data).map_err(|e| bad(format!("message {k} (an episode end): {e}")))?,
                ),
                GRID_TOPIC => {
                    grids.push(GridRecord::decode(&data).map_err(|e| bad(format!("message {k} (a grid) {e}")))?)
                }
                _ => {}
            }
        }
        let scene = scene.ok_or_else(|| match &truncated {
            Some(why) => bad(format!("no scene before the file stops: {why}")),
            None => bad("no /tactile/scene message: not a tactile rollout".into()),
        })?;
        if !(OLDEST_SCHEMA_VERSION..=SCHEMA_VERSION).contains(&scene.schema_version) {
            return Err(bad(format!(
                "schema version {}, this build reads versions {OLDEST_SCHEMA_VERSION} to {SCHEMA_VERSION}",
                scene.schema_version
            )));
        }
        for (i, s) in scene.sensors.iter().enumerate() {
            let (name, taxels) = (&s.name, s.positions_m.len());
            if s.body >= scene.bodies.len() {
                return Err(bad(format!(
                    "sensor {i} ({name}) is on body {}, the scene has {}",
                    s.body,
                    scene.bodies.len()
                )));
            }
            if s.normals.len() != taxels || !(s.tangents.is_empty() || s.tangents.len() == taxels) {
                return Err(bad(format!(
                    "sensor {i} ({name}) has {} normals and {} tangents for {taxels} taxels",
                    s.normals.len(),
                    s.tangents.len()
                )));
            }
        }
        for (k, s) in steps.iter().enumerate() {
            let fits = s.body_poses.len() == scene.bodies.len()
                && s.normal_n.len() == scene.sensors.len()
                && s.normal_n.iter().zip(&scene.sensors).all(|(n, sensor)| n.len() == sensor.positions_m.len())
                && s.action.len() == scene.action_dim
                && s.terms.len() == scene.reward_terms.len();
            if !fits {
                return Err(bad(format!(
                    "step {k} (episode {}, step {}) does not fit the scene's bodies, sensors, action or terms",
                    s.episode, s.step
                )));
            }
        }
        Ok(Rollout { scene, steps, episodes, grids, truncated })
    }
}
