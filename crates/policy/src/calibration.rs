//! Mapping a real sensor onto the simulated taxel layout.
//!
//! A calibration file (`calibration.json`) says, for each simulated taxel
//! of one array, which reading of the real sensor it takes (`index`, or
//! `null` for a taxel the real sensor lacks: it reads 0) and the affine
//! map from that reading's raw unit to the simulated quantity:
//! `sim = gain * raw + offset`.
//!
//! ```json
//! {"format": "tactile-calibration", "format_version": 1,
//!  "sensor": "pad", "quantity": "normal_force_n", "raw_unit": "adc_counts",
//!  "raw_taxels": 64, "index": [0, 1, ...], "gain": [0.0021, ...], "offset": [-0.4, ...]}
//! ```
//!
//! [`Calibration::fit`] finds the index map (where not given) and the
//! gains and offsets by least squares from paired readings: the real
//! sensor's raw readings and the forces the simulated taxels (or a
//! reference load cell spread over them) read for the same presses.

use std::path::Path;

use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

use crate::PolicyError;
use crate::error::io;

/// The `format` of a calibration file.
pub const CALIBRATION_FORMAT: &str = "tactile-calibration";

/// How one real sensor's raw readings become a simulated taxel array's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// Always [`CALIBRATION_FORMAT`].
    pub format: String,
    /// 1.
    pub format_version: u32,
    /// The simulated taxel array it maps onto (a policy's `taxels[].sensor`).
    pub sensor: String,
    /// The simulated quantity, with its unit (`normal_force_n`).
    pub quantity: String,
    /// The real sensor's unit, for the record (`adc_counts`, `kpa`).
    pub raw_unit: String,
    /// Number of raw readings the real sensor gives.
    pub raw_taxels: usize,
    /// For each simulated taxel, the raw reading it takes (`null`: none).
    pub index: Vec<Option<usize>>,
    /// Per simulated taxel: sim = gain * raw + offset.
    pub gain: Vec<f32>,
    /// Per simulated taxel, in the simulated unit.
    pub offset: Vec<f32>,
}

/// How well a fit explains its readings.
#[derive(Clone, Debug, PartialEq)]
pub struct FitReport {
    /// Root-mean-square residual of each simulated taxel (simulated unit).
    pub rms: Vec<f32>,
    /// The largest of them.
    pub max_rms: f32,
}

fn bad(path: &Path, message: impl Into<String>) -> PolicyError {
    PolicyError::Calibration { path: path.to_owned(), message: message.into() }
}

impl Calibration {
    /// Number of simulated taxels it fills.
    pub fn sim_taxels(&self) -> usize {
        self.index.len()
    }

    /// Checks sizes and values (`path` names the file in errors).
    pub fn check(&self, path: &Path) -> Result<(), PolicyError> {
        if self.format != CALIBRATION_FORMAT || self.format_version != 1 {
            return Err(bad(path, format!("not a {CALIBRATION_FORMAT} v1 file")));
        }
        let n = self.index.len();
        if n == 0 || self.gain.len() != n || self.offset.len() != n {
            return Err(bad(path, format!("index, gain and offset must have one entry per taxel ({n})")));
        }
        if let Some(i) = self.index.iter().flatten().find(|&&i| i >= self.raw_taxels) {
            return Err(bad(path, format!("index {i} is beyond the {} raw taxels", self.raw_taxels)));
        }
        if let Some(k) = self.gain.iter().chain(&self.offset).position(|v| !v.is_finite()) {
            return Err(bad(path, format!("gain/offset entry {k} is not finite")));
        }
        Ok(())
    }

    /// Reads and checks a calibration file.
    pub fn read(path: &Path) -> Result<Self, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(io(path))?;
        let cal: Calibration = serde_json::from_str(&text).map_err(|e| bad(path, e.to_string()))?;
        cal.check(path)?;
        Ok(cal)
    }

    /// Writes it as pretty JSON.
    pub fn write(&self, path: &Path) -> Result<(), PolicyError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| bad(path, e.to_string()))?;
        std::fs::write(path, text + "\n").map_err(io(path))
    }

    /// Maps one frame of raw readings onto the simulated taxels. Refuses a
    /// frame of another size or with a value that is not finite.
    pub fn apply(&self, raw: &[f32], sim: &mut [f32]) -> Result<(), PolicyError> {
        if raw.len() != self.raw_taxels || sim.len() != self.index.len() {
            return Err(PolicyError::Observation(format!(
                "sensor `{}`: {} raw readings, the calibration expects {}",
                self.sensor,
                raw.len(),
                self.raw_taxels
            )));
        }
        for (k, ((s, idx), (g, o))) in
            sim.iter_mut().zip(&self.index).zip(self.gain.iter().zip(&self.offset)).enumerate()
        {
            *s = match idx {
                Some(i) if raw[*i].is_finite() => g * raw[*i] + o,
                Some(i) => {
                    return Err(PolicyError::Observation(format!(
                        "sensor `{}`: raw reading {i} (for taxel {k}) is {}",
                        self.sensor, raw[*i]
                    )));
                }
                None => 0.0,
            };
        }
        Ok(())
    }

    /// Fits a calibration by least squares from paired frames: `raw[t]`
    /// (the real sensor, `raw_taxels` values) and `sim[t]` (the simulated
    /// taxels' readings for the same contact). Where `index` is `None`,
    /// each simulated taxel takes the raw reading that correlates best
    /// with it, each raw reading used at most once.
    pub fn fit(
        sensor: &str,
        quantity: &str,
        raw_unit: &str,
        raw: &[Vec<f32>],
        sim: &[Vec<f32>],
        index: Option<Vec<Option<usize>>>,
    ) -> Result<(Self, FitReport), PolicyError> {
        let here = Path::new("fit");
        let frames = raw.len();
        let (Some(r0), Some(s0)) = (raw.first(), sim.first()) else {
            return Err(bad(here, "no frames"));
        };
        let (nr, ns) = (r0.len(), s0.len());
        if sim.len() != frames || raw.iter().any(|r| r.len() != nr) || sim.iter().any(|s| s.len() != ns) {
            return Err(bad(here, "raw and sim frames must pair up and have one size each"));
        }
        if frames < 3 {
            return Err(bad(here, format!("{frames} frames; a fit needs at least 3")));
        }
        if raw.iter().flatten().chain(sim.iter().flatten()).any(|v| !v.is_finite()) {
            return Err(bad(here, "a reading is not finite"));
        }
        let column = |frames: &[Vec<f32>], j: usize| {
            DVector::from_iterator(frames.len(), frames.iter().map(|f| f64::from(f[j])))
        };
        let raw_cols: Vec<DVector<f64>> = (0..nr).map(|j| column(raw, j)).collect();
        let sim_cols: Vec<DVector<f64>> = (0..ns).map(|j| column(sim, j)).collect();
        let index = match index {
            Some(index) if index.len() == ns => index,
            Some(index) => return Err(bad(here, format!("index has {} entries for {ns} taxels", index.len()))),
            None => best_matches(&raw_cols, &sim_cols),
        };
        let (mut gain, mut offset, mut rms) = (vec![0.0; ns], vec![0.0; ns], vec![0.0; ns]);
        for (k, idx) in index.iter().enumerate() {
            let Some(i) = *idx else { continue };
            if i >= nr {
                return Err(bad(here, format!("index {i} is beyond the {nr} raw taxels")));
            }
            let a = DMatrix::from_fn(frames, 2, |t, c| if c == 0 { raw_cols[i][t] } else { 1.0 });
            let svd = a.clone().svd(true, true);
            let smallest = svd.singular_values.iter().copied().fold(f64::INFINITY, f64::min);
            if smallest < 1e-9 * svd.singular_values.max().max(1.0) {
                return Err(bad(
                    here,
                    format!("raw reading {i} (for taxel {k}) does not vary: gain and offset are not determined"),
                ));
            }
            let x = svd.solve(&sim_cols[k], 1e-12).map_err(|e| bad(here, e.to_string()))?;
            let residual = &a * &x - &sim_cols[k];
            gain[k] = x[0] as f32;
            offset[k] = x[1] as f32;
            rms[k] = (residual.norm_squared() / frames as f64).sqrt() as f32;
        }
        let max_rms = rms.iter().copied().fold(0.0, f32::max);
        let cal = Calibration {
            format: CALIBRATION_FORMAT.into(),
            format_version: 1,
            sensor: sensor.into(),
            quantity: quantity.into(),
            raw_unit: raw_unit.into(),
            raw_taxels: nr,
            index,
            gain,
            offset,
        };
        Ok((cal, FitReport { rms, max_rms }))
    }
}

/// For each simulated taxel, the unused raw reading with the largest
/// absolute correlation, taking the strongest pairs first (`None` where
/// no raw reading is left or none varies).
fn best_matches(raw: &[DVector<f64>], sim: &[DVector<f64>]) -> Vec<Option<usize>> {
    let centred = |v: &DVector<f64>| {
        let c = v.add_scalar(-v.mean());
        let n = c.norm();
        (n > 1e-12).then(|| c / n)
    };
    let (r, s): (Vec<_>, Vec<_>) = (raw.iter().map(centred).collect(), sim.iter().map(centred).collect());
    let mut pairs = Vec::new();
    for (k, sk) in s.iter().enumerate() {
        for (i, ri) in r.iter().enumerate() {
            if let (Some(a), Some(b)) = (sk, ri) {
                pairs.push((a.dot(b).abs(), k, i));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut index, mut used) = (vec![None; sim.len()], vec![false; raw.len()]);
    for (_, k, i) in pairs {
        if index[k].is_none() && !used[i] {
            index[k] = Some(i);
            used[i] = true;
        }
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_maps_and_refuses_bad_frames() {
        let cal = Calibration {
            format: CALIBRATION_FORMAT.into(),
            format_version: 1,
            sensor: "pad".into(),
            quantity: "normal_force_n".into(),
            raw_unit: "counts".into(),
            raw_taxels: 3,
            index: vec![Some(2), None, Some(0)],
            gain: vec![2.0, 1.0, 0.5],
            offset: vec![1.0, 0.0, -1.0],
        };
        cal.check(Path::new("c.json")).unwrap();
        let mut sim = [9.0; 3];
        cal.apply(&[4.0, 100.0, 3.0], &mut sim).unwrap();
        assert_eq!(sim, [7.0, 0.0, 1.0]);
        assert!(cal.apply(&[1.0, 2.0], &mut sim).is_err());
        let e = cal.apply(&[f32::NAN, 0.0, 0.0], &mut sim).unwrap_err().to_string();
        assert!(e.contains("raw reading 0 (for taxel 2) is NaN"), "{e}");
        let wrong = Calibration { index: vec![Some(5), None, None], ..cal };
        let e = wrong.check(Path::new("c.json")).unwrap_err().to_string();
        assert_eq!(e, "c.json: index 5 is beyond the 3 raw taxels");
    }
}
