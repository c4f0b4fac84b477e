//! Rollouts written and read back: bit for bit, through truncation at
//! every cut, and refusing files that are not rollouts.

use std::io::Cursor;
use std::path::Path;

use tactile_rollout::{
    BodyRecord, EpisodeRecord, Geometry, GridRecord, MAX_CHUNK_BYTES, Rollout, RolloutWriter, SceneRecord,
    SensorRecord, ShapeRecord, StepRecord, flags,
};

fn scene() -> SceneRecord {
    let mut s = SceneRecord::new("Press-v0", 0.01, 1, vec!["force_error".into(), "on_target".into()]);
    let shape = |geometry| ShapeRecord { geometry, body_from_shape: [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0] };
    s.bodies.push(BodyRecord {
        name: "ground".into(),
        kind: "static".into(),
        shapes: vec![shape(Geometry::Cuboid { half_extents_m: [0.2, 0.2, 0.01] })],
    });
    s.bodies.push(BodyRecord {
        name: "pad".into(),
        kind: "dynamic".into(),
        shapes: vec![shape(Geometry::Mesh {
            vertices_m: vec![[0.0; 3], [0.01, 0.0, 0.0], [0.0, 0.01, 0.0]],
            triangles: vec![[0, 1, 2]],
        })],
    });
    s.sensors.push(SensorRecord {
        name: "pad".into(),
        body: 1,
        body_from_pad: [0.0, 0.0, -0.005, 0.0, 0.0, 0.0, 1.0],
        positions_m: (0..16).map(|i| [i as f32 * 0.002, 0.0, 0.0]).collect(),
        normals: vec![[0.0, 0.0, 1.0]; 16],
        tangents: vec![[1.0, 0.0, 0.0]; 16],
    });
    s
}

/// Two episodes of 700 and 500 steps with values that differ every step.
fn record(s: &SceneRecord, finish: bool, flush_at: Option<usize>) -> (Vec<u8>, Vec<StepRecord>, Vec<EpisodeRecord>) {
    let mut out = Cursor::new(Vec::new());
    let mut steps = Vec::new();
    let mut episodes = Vec::new();
    {
        let mut w = RolloutWriter::new(&mut out, s).unwrap();
        let mut k = 0;
        for (e, len) in [700u32, 500].into_iter().enumerate() {
            for t in 1..=len {
                let mut step = StepRecord::empty(s);
                step.episode = e as u32;
                step.step = t;
                step.time_s = f64::from(t) * 0.01;
                step.body_poses[1][2] = 0.01 - t as f32 * 1e-6;
                for (i, v) in step.normal_n[0].iter_mut().enumerate() {
                    *v = ((k + i) as f32 * 0.37).sin().abs();
                }
                step.shear_n[0][3] = [0.1 * t as f32, -0.2];
                step.action[0] = (t as f32 * 0.1).cos();
                step.reward = -(t as f32) * 1e-3;
                step.terms = vec![step.reward, 0.0];
                if t == len {
                    step.flags = flags::TERMINATED | flags::SUCCESS;
                }
                w.write_step(&step).unwrap();
                steps.push(step);
                k += 1;
                if flush_at == Some(k) {
                    w.flush().unwrap();
                }
            }
            let ep = EpisodeRecord {
                episode: e as u32,
                seed: Some(e as u64),
                steps: len,
                episode_return: -1.0,
                success: true,
                terminated: true,
                truncated: false,
            };
            w.end_episode(&ep).unwrap();
            episodes.push(ep);
        }
        if finish {
            w.finish().unwrap();
        } else {
            // A crash: the writer is dropped without finish... which would
            // finish it; take the bytes first instead.
            std::mem::forget(w);
        }
    }
    (out.into_inner(), steps, episodes)
}

#[test]
fn a_rollout_reads_back_as_written() {
    let s = scene();
    let (bytes, steps, episodes) = record(&s, true, None);
    let r = Rollout::from_bytes(&bytes, Path::new("a.mcap")).unwrap();
    assert_eq!(r.truncated, None);
    assert_eq!(r.scene, s);
    assert_eq!(r.episodes, episodes);
    assert_eq!(r.steps.len(), 1200);
    assert!(r.steps == steps, "steps differ");
    // Chunked and compressed: far smaller than the raw step bytes.
    assert!(bytes.len() < 1200 * 180 / 2, "{} bytes", bytes.len());
}

#[test]
fn a_truncated_rollout_reads_up_to_its_last_whole_chunk_and_says_so() {
    let s = scene();
    let (bytes, steps, _) = record(&s, true, None);
    let mut seen_partial = false;
    for cut in (0..bytes.len()).step_by(97).chain([bytes.len() - 1]) {
        match Rollout::from_bytes(&bytes[..cut], Path::new("cut.mcap")) {
            Ok(r) => {
                assert!(r.truncated.is_some(), "cut at {cut} must be reported");
                assert!(r.steps.len() <= steps.len());
                assert!(r.steps[..] == steps[..r.steps.len()], "cut at {cut}: the steps read are a prefix");
                seen_partial |= !r.steps.is_empty() && r.steps.len() < steps.len();
            }
            Err(e) => {
                let e = e.to_string();
                assert!(e.starts_with("cut.mcap: "), "{e}");
            }
        }
    }
    assert!(seen_partial, "some cuts should keep whole chunks");
}

#[test]
fn a_crash_loses_at_most_the_open_chunk() {
    let s = scene();
    // Flushed after 1000 steps, then 200 more steps and the writer dies.
    let (bytes, steps, _) = record(&s, false, Some(1000));
    let r = Rollout::from_bytes(&bytes, Path::new("crash.mcap")).unwrap();
    assert!(r.truncated.is_some());
    assert!(r.steps.len() >= 1000, "{} steps survive", r.steps.len());
    assert!(r.steps[..] == steps[..r.steps.len()]);
}

#[test]
fn files_that_are_not_rollouts_are_refused_with_one_line() {
    let p = Path::new("x.mcap");
    let e = Rollout::from_bytes(&[], p).unwrap_err().to_string();
    assert_eq!(e, "x.mcap: not an MCAP file (0 bytes, no MCAP magic at the start)");
    let noise: Vec<u8> = (0..5000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let e = Rollout::from_bytes(&noise, p).unwrap_err().to_string();
    assert!(e.starts_with("x.mcap: not an MCAP file"), "{e}");
    // Random bytes after a valid magic: damaged, never a panic.
    let mut fake = b"\x89MCAP0\r\n".to_vec();
    fake.extend_from_slice(&noise);
    let e = Rollout::from_bytes(&fake, p).unwrap_err().to_string();
    assert!(e.starts_with("x.mcap: "), "{e}");
    // A newer schema version.
    let mut other = scene();
    other.schema_version = 3;
    let (bytes, _, _) = record(&other, true, None);
    let e = Rollout::from_bytes(&bytes, p).unwrap_err().to_string();
    assert_eq!(e, "x.mcap: schema version 3, this build reads versions 1 to 2");
    let e = Rollout::read(Path::new("/nonexistent/r.mcap")).unwrap_err().to_string();
    assert!(e.starts_with("/nonexistent/r.mcap: "), "{e}");
}

#[test]
fn a_scene_whose_sensors_do_not_fit_its_bodies_or_taxels_is_refused() {
    let p = Path::new("x.mcap");
    let mut on_a_missing_body = scene();
    on_a_missing_body.sensors[0].body = 2;
    let (bytes, _, _) = record(&on_a_missing_body, true, None);
    let e = Rollout::from_bytes(&bytes, p).unwrap_err().to_string();
    assert_eq!(e, "x.mcap: sensor 0 (pad) is on body 2, the scene has 2");
    let mut short_normals = scene();
    short_normals.sensors[0].normals.pop();
    let (bytes, _, _) = record(&short_normals, true, None);
    let e = Rollout::from_bytes(&bytes, p).unwrap_err().to_string();
    assert_eq!(e, "x.mcap: sensor 0 (pad) has 15 normals and 16 tangents for 16 taxels");
}

#[test]
fn flipped_bytes_inside_a_chunk_are_caught_not_read() {
    let s = scene();
    let (mut bytes, steps, _) = record(&s, true, None);
    // Inside the first chunk's compressed data (after the header record and
    // the chunk record's own header).
    for b in &mut bytes[300..316] {
        *b ^= 0x5A;
    }
    match Rollout::from_bytes(&bytes, Path::new("bad.mcap")) {
        Ok(r) => {
            assert!(r.truncated.is_some(), "damage must be reported");
            assert!(r.steps[..] == steps[..r.steps.len()], "what is read is what was written");
        }
        Err(e) => assert!(e.to_string().starts_with("bad.mcap: "), "{e}"),
    }
}

/// Found by the fuzzer: a chunk whose uncompressed size field is huge made
/// the MCAP decompressor reserve that much and panic.
#[test]
fn a_chunk_claiming_an_absurd_size_is_refused_not_reserved() {
    let (bytes, _, _) = record(&scene(), true, None);
    // Walk the top-level records (opcode, u64 length, content) to the
    // first chunk; its content starts with two u64 times, then the
    // uncompressed size.
    let mut at = mcap::MAGIC.len();
    while bytes[at] != 0x06 {
        at += 9 + u64::from_le_bytes(bytes[at + 1..at + 9].try_into().unwrap()) as usize;
    }
    for claim in [u64::MAX, u64::MAX / 2, MAX_CHUNK_BYTES + 1] {
        let mut damaged = bytes.clone();
        damaged[at + 25..at + 33].copy_from_slice(&claim.to_le_bytes());
        let e = Rollout::from_bytes(&damaged, Path::new("x.mcap")).unwrap_err().to_string();
        assert!(e.contains(&format!("claims {claim} bytes uncompressed")), "{e}");
    }
}

/// Found by the fuzzer: a string length far past its record's end made
/// mcap reserve up to 4 GiB before it failed, and a damaged attachment made
/// it index out of range. The reader parses only the records a rollout
/// uses; the header, attachments, metadata and indexes are stepped over.
#[test]
fn records_a_rollout_does_not_use_are_never_parsed() {
    let (bytes, steps, _) = record(&scene(), true, None);
    // The header record (opcode 1) comes first; its profile string's u32
    // length follows the opcode and the record length.
    let at = mcap::MAGIC.len();
    assert_eq!(bytes[at], 0x01);
    let mut damaged = bytes.clone();
    damaged[at + 9..at + 13].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    // And an attachment too short for its own fields, after the header.
    let header_end = at + 9 + u64::from_le_bytes(bytes[at + 1..at + 9].try_into().unwrap()) as usize;
    let attachment = [&[0x09u8][..], &3u64.to_le_bytes(), &[1, 2, 3]].concat();
    damaged.splice(header_end..header_end, attachment);
    match Rollout::from_bytes(&damaged, Path::new("x.mcap")) {
        Ok(r) => assert!(r.steps == steps && r.truncated.is_none(), "read {} of {} steps", r.steps.len(), steps.len()),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn grids_and_beliefs_come_back_as_written_beside_their_steps() {
    let s = scene();
    let mut out = Cursor::new(Vec::new());
    let mut written = Vec::new();
    {
        let mut w = RolloutWriter::new(&mut out, &s).unwrap();
        for t in 0..30u32 {
            let mut step = StepRecord::empty(&s);
            step.step = t;
            w.write_step(&step).unwrap();
            let grid = GridRecord {
                episode: 0,
                step: t,
                width: 6,
                height: 4,
                cells: (0..24).map(|i| ((i + t) % 4) as u8).collect(),
                belief: (0..10).map(|k| (k as f32 + t as f32) / 100.0).collect(),
                declared: if t == 29 { 4 } else { 0 },
            };
            w.write_grid(&grid).unwrap();
            written.push(grid);
        }
        w.end_episode(&EpisodeRecord { steps: 29, ..Default::default() }).unwrap();
        w.finish().unwrap();
    }
    let r = Rollout::from_bytes(out.get_ref(), Path::new("g.mcap")).unwrap();
    assert_eq!(r.grids, written);
    assert_eq!(r.steps.len(), 30);
    // A file without grids has none.
    let (bytes, _, _) = record(&s, true, None);
    assert!(Rollout::from_bytes(&bytes, Path::new("x.mcap")).unwrap().grids.is_empty());
}

#[test]
fn a_version_1_file_is_still_read() {
    // Written as version 1 wrote it: the same three channels and step
    // encoding, `schema_version = 1` in their metadata and in the scene.
    let mut s = scene();
    s.schema_version = 1;
    let mut out = Cursor::new(Vec::new());
    {
        let mut w = mcap::WriteOptions::new().profile("tactile-rollout").create(&mut out).unwrap();
        let meta = std::collections::BTreeMap::from([("schema_version".to_string(), "1".to_string())]);
        let mut channel = |name: &str, encoding: &str, topic: &str| {
            let schema = w.add_schema(name, encoding, b"v1").unwrap();
            w.add_channel(schema, topic, encoding, &meta).unwrap()
        };
        let scene_c = channel("tactile.Scene", "json", "/tactile/scene");
        let step_c = channel("tactile.Step", "tactile-step", "/tactile/step");
        let header =
            |channel_id, sequence| mcap::records::MessageHeader { channel_id, sequence, log_time: 0, publish_time: 0 };
        w.write_to_known_channel(&header(scene_c, 0), &serde_json::to_vec(&s).unwrap()).unwrap();
        // A step as version 1 encoded it (unchanged in version 2): two
        // bodies at the origin, 16 taxels, reward -0.25, all else zero.
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&0u32.to_le_bytes());
        bytes.extend_from_slice(&0u32.to_le_bytes());
        bytes.extend_from_slice(&0f64.to_le_bytes());
        for n in [2u16, 1, 1, 2] {
            bytes.extend_from_slice(&n.to_le_bytes());
        }
        bytes.extend_from_slice(&16u32.to_le_bytes());
        let mut floats = vec![0.0f32; 2 * 7 + 16 * 3 + 1 + 1 + 2];
        floats[6] = 1.0;
        floats[13] = 1.0;
        floats[2 * 7 + 16 * 3 + 1] = -0.25;
        floats.iter().for_each(|v| bytes.extend_from_slice(&v.to_le_bytes()));
        bytes.push(0);
        w.write_to_known_channel(&header(step_c, 1), &bytes).unwrap();
        w.finish().unwrap();
    }
    let r = Rollout::from_bytes(out.get_ref(), Path::new("v1.mcap")).unwrap();
    assert_eq!(r.scene.schema_version, 1);
    let mut expected = StepRecord::empty(&s);
    expected.reward = -0.25;
    assert_eq!(r.steps, [expected]);
    assert!(r.grids.is_empty());
}
