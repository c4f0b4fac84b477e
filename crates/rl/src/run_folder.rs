//! A training run on disk: `config.json`, `metrics.csv` and TensorBoard
//! event files with CleanRL's metric names, and evaluation.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::RlError;
use crate::ppo::UpdateStats;
use crate::ppo::config::PpoConfig;
use crate::tensorboard::EventWriter;

/// What a run folder records about its run (written as `config.json`).
#[derive(Clone, Debug, Serialize)]
pub struct RunInfo<'a> {
    /// The task id.
    pub env_id: &'a str,
    /// The algorithm.
    pub algo: &'a str,
    /// Every hyperparameter.
    pub ppo: &'a PpoConfig,
    /// The compute device.
    pub device: &'a str,
    /// What the device runs on, in words (the GPU adapter's name, API and
    /// driver; [`crate::describe_device`]).
    pub adapter: &'a str,
    /// The tactile version.
    pub version: &'a str,
    /// The git commit of the build.
    pub commit: &'a str,
}

/// What a resumed run reads back of a run folder's `config.json`.
#[derive(Clone, Debug, Deserialize)]
pub struct RunConfig {
    /// The task id.
    pub env_id: String,
    /// The algorithm.
    pub algo: String,
}

impl RunConfig {
    /// Reads `config.json` of run folder `dir`.
    pub fn read(dir: &Path) -> Result<Self, RlError> {
        let path = dir.join("config.json");
        let bad = |message: String| RlError::Checkpoint { path: path.clone(), message };
        let text = std::fs::read_to_string(&path).map_err(|e| bad(format!("not a run folder ({e})")))?;
        serde_json::from_str(&text).map_err(|e| bad(format!("not valid: {e}")))
    }
}

/// Writes a run's metrics as it trains.
pub struct RunWriter {
    dir: PathBuf,
    csv: BufWriter<File>,
    events: EventWriter,
    terms: Vec<String>,
    extra: Vec<String>,
    start: std::time::Instant,
    wall_offset_s: f64,
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> RlError + '_ {
    move |source| RlError::Io { path: path.to_owned(), source }
}

const COLUMNS: &[&str] = &[
    "global_step",
    "wall_s",
    "charts/episodic_return",
    "charts/episodic_length",
    "charts/success_rate",
    "charts/SPS",
    "charts/learning_rate",
    "losses/policy_loss",
    "losses/value_loss",
    "losses/entropy",
    "losses/approx_kl",
    "losses/clipfrac",
    "losses/explained_variance",
];

impl RunWriter {
    /// Creates the run folder, which must not exist or be empty (a run is
    /// never written over another one), and writes `config.json`. `extra`
    /// names metrics beyond CleanRL's (the discriminator's, say).
    pub fn create(dir: &Path, info: &RunInfo<'_>, reward_terms: &[&str], extra: &[&str]) -> Result<Self, RlError> {
        if dir.exists() && std::fs::read_dir(dir).map_err(io_err(dir))?.next().is_some() {
            return Err(RlError::Io {
                path: dir.to_owned(),
                source: std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "the run folder exists and is not empty (resume it with --resume, or choose another --out)",
                ),
            });
        }
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let config_path = dir.join("config.json");
        let text = serde_json::to_string_pretty(info)
            .map_err(|e| RlError::Io { path: config_path.clone(), source: std::io::Error::other(e) })?;
        std::fs::write(&config_path, text + "\n").map_err(io_err(&config_path))?;
        let csv_path = dir.join("metrics.csv");
        let terms: Vec<String> = reward_terms.iter().map(|t| format!("rewards/{t}")).collect();
        let extra: Vec<String> = extra.iter().map(|t| t.to_string()).collect();
        let header: Vec<&str> = COLUMNS
            .iter()
            .copied()
            .chain(terms.iter().map(String::as_str))
            .chain(extra.iter().map(String::as_str))
            .collect();
        let mut csv = BufWriter::new(File::create(&csv_path).map_err(io_err(&csv_path))?);
        writeln!(csv, "{}", header.join(",")).map_err(io_err(&csv_path))?;
        csv.flush().map_err(io_err(&csv_path))?;
        let events = EventWriter::create(dir).map_err(io_err(dir))?;
        Ok(RunWriter {
            dir: dir.to_owned(),
            csv,
            events,
            terms,
            extra,
            start: std::time::Instant::now(),
            wall_offset_s: 0.0,
        })
    }

    /// Reopens a run folder to go on from a checkpoint at `global_step`:
    /// `metrics.csv` keeps its rows up to that step (the later ones are
    /// rewritten by the resumed run; the file is replaced atomically) and a
    /// new TensorBoard event file is started beside the old ones.
    pub fn reopen(dir: &Path, reward_terms: &[&str], extra: &[&str], global_step: u64) -> Result<Self, RlError> {
        let csv_path = dir.join("metrics.csv");
        let text = std::fs::read_to_string(&csv_path).map_err(io_err(&csv_path))?;
        let mut kept = String::new();
        let mut wall_offset_s = 0.0;
        for (i, line) in text.lines().enumerate() {
            let mut cells = line.split(',');
            let step = cells.next().and_then(|c| c.parse::<u64>().ok());
            let wall = cells.next().and_then(|c| c.parse::<f64>().ok());
            match step {
                _ if i == 0 => {}
                Some(s) if s <= global_step => wall_offset_s = wall.unwrap_or(wall_offset_s),
                _ => continue,
            }
            kept.push_str(line);
            kept.push('\n');
        }
        let tmp = dir.join(".metrics.csv.partial");
        std::fs::write(&tmp, kept).map_err(io_err(&tmp))?;
        std::fs::rename(&tmp, &csv_path).map_err(io_err(&csv_path))?;
        let file = std::fs::OpenOptions::new().append(true).open(&csv_path).map_err(io_err(&csv_path))?;
        let events = EventWriter::create(dir).map_err(io_err(dir))?;
        Ok(RunWriter {
            dir: dir.to_owned(),
            csv: BufWriter::new(file),
            events,
            terms: reward_terms.iter().map(|t| format!("rewards/{t}")).collect(),
            extra: extra.iter().map(|t| t.to_string()).collect(),
            start: std::time::Instant::now(),
            wall_offset_s,
        })
    }

    /// The run folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Records one update's statistics (rows with no finished episode
    /// leave the episode columns empty in the CSV).
    pub fn record(&mut self, s: &UpdateStats) -> Result<(), RlError> {
        let wall = self.wall_offset_s + self.start.elapsed().as_secs_f64();
        let n = s.episode_returns.len();
        let mean = |xs: &mut dyn Iterator<Item = f64>| if n == 0 { None } else { Some(xs.sum::<f64>() / n as f64) };
        let ep_ret = mean(&mut s.episode_returns.iter().map(|&x| f64::from(x)));
        let ep_len = mean(&mut s.episode_lengths.iter().map(|&x| f64::from(x)));
        let success = mean(&mut s.episode_successes.iter().map(|&x| f64::from(u8::from(x))));
        let sps = s.global_step as f64 / wall.max(1e-9);
        let values: Vec<Option<f64>> = vec![
            Some(s.global_step as f64),
            Some(wall),
            ep_ret,
            ep_len,
            success,
            Some(sps),
            Some(s.learning_rate),
            Some(f64::from(s.policy_loss)),
            Some(f64::from(s.value_loss)),
            Some(f64::from(s.entropy)),
            Some(f64::from(s.approx_kl)),
            Some(f64::from(s.clipfrac)),
            Some(f64::from(s.explained_variance)),
        ];
        let mut term_values: Vec<Option<f64>> = s.reward_terms.iter().map(|(_, v)| Some(f64::from(*v))).collect();
        for name in &self.extra {
            term_values.push(s.extra.iter().find(|(n, _)| n == name).map(|(_, v)| f64::from(*v)));
        }
        let cells: Vec<String> =
            values.iter().chain(&term_values).map(|v| v.map_or(String::new(), |x| format!("{x}"))).collect();
        let csv_path = self.dir.join("metrics.csv");
        writeln!(self.csv, "{}", cells.join(",")).map_err(io_err(&csv_path))?;
        self.csv.flush().map_err(io_err(&csv_path))?;
        let step = s.global_step;
        let names =
            COLUMNS.iter().map(|c| c.to_string()).chain(self.terms.iter().cloned()).chain(self.extra.iter().cloned());
        for (name, v) in names.zip(values.iter().chain(&term_values)).skip(2) {
            if let Some(v) = v {
                self.events.scalar(&name, step, *v as f32).map_err(io_err(&self.dir))?;
            }
        }
        self.events.flush().map_err(io_err(&self.dir))
    }
}

/// A run's `metrics.csv` as columns: the header's names and, per name, the
/// `(global_step, value)` points where the cell is not empty.
#[allow(clippy::type_complexity)]
pub fn read_metrics(run_dir: &Path) -> Result<Vec<(String, Vec<(f64, f64)>)>, RlError> {
    let path = run_dir.join("metrics.csv");
    let text = std::fs::read_to_string(&path).map_err(io_err(&path))?;
    let mut lines = text.lines();
    let header = lines.next().ok_or_else(|| RlError::Io {
        path: path.clone(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, "empty: no header"),
    })?;
    let mut columns: Vec<(String, Vec<(f64, f64)>)> = header.split(',').map(|h| (h.to_owned(), Vec::new())).collect();
    if columns.first().map(|c| c.0.as_str()) != Some("global_step") {
        return Err(RlError::Io {
            path,
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, "not a tactile metrics.csv (no global_step)"),
        });
    }
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let Some(step) = cells.first().and_then(|c| c.parse::<f64>().ok()) else { continue };
        for (col, cell) in columns.iter_mut().zip(&cells) {
            if let Ok(v) = cell.parse::<f64>()
                && v.is_finite()
            {
                col.1.push((step, v));
            }
        }
    }
    Ok(columns)
}
