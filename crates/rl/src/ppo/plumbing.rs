//! How observations and actions pass between the envs and the network:
//! running normalisation of the vector dimensions, the egocentric view of a
//! grid, and clipping sampled actions into the env's bounds.

use std::ops::Range;

use tactile_env::Space;
use tactile_env::wrappers::RunningMeanStd;

use crate::RlError;
use crate::encoder::{ObsLayout, ObsPart, egocentric};

/// The network's view of the observation under `egocentric`: the grid
/// gains the "beyond the edge" code; returns it and `(offset, side, agent
/// code)`.
#[allow(clippy::type_complexity)]
pub fn egocentric_layout(
    layout: &ObsLayout,
    egocentric: bool,
) -> Result<(ObsLayout, Option<(usize, usize, f32)>), RlError> {
    if !egocentric {
        return Ok((layout.clone(), None));
    }
    let bad = |reason| Err(RlError::Config { field: "egocentric", reason });
    let [(offset, h, w, levels)] = layout.grids()[..] else { return bad("needs exactly one grid") };
    if h != w || levels == 0 || levels >= 8 {
        return bad("needs a square grid of integer codes");
    }
    let mut view = layout.clone();
    for part in &mut view.parts {
        if let ObsPart::Grid { levels, .. } = part {
            *levels += 1;
        }
    }
    Ok((view, Some((offset, h, levels as f32))))
}

/// Running observation normalisation, `clip((obs - mean) / sqrt(var +
/// 1e-8))`, of the dimensions in `ranges` of each row (grids stay as
/// they are).
pub fn normalize_obs(stats: &RunningMeanStd, clip: f32, ranges: &[Range<usize>], obs: &mut [f32]) {
    tactile_policy::normalize(&stats.mean, &stats.var, clip, ranges, obs);
}

/// Clips continuous actions into the Box bounds of the action space
/// (the policy's Gaussian samples are not bounded).
pub fn clip_to_space(space: &Space, action: &mut [f32]) {
    match space {
        Space::Box { low, high, .. } => {
            for i in 0..action.len() {
                action[i] = action[i].clamp(low[i], high[i]);
            }
        }
        Space::Dict(entries) => {
            let mut at = 0;
            for (_, s) in entries {
                let d = s.flat_dim();
                clip_to_space(s, &mut action[at..at + d]);
                at += d;
            }
        }
        _ => {}
    }
}

/// Raw env observations to what the network reads.
pub(crate) struct ObsPrep {
    /// Flat observation size.
    pub obs_dim: usize,
    /// The dimensions that are normalised (none without normalisation).
    pub norm_ranges: Vec<Range<usize>>,
    /// The egocentric grid `(offset, side, agent code)`, if any.
    pub ego: Option<(usize, usize, f32)>,
    normalize: bool,
    ego_scratch: Vec<f32>,
}

impl ObsPrep {
    /// Normalising `norm_ranges` (none: no normalisation) and centring the
    /// grid `ego`.
    pub fn new(obs_dim: usize, norm_ranges: Option<Vec<Range<usize>>>, ego: Option<(usize, usize, f32)>) -> Self {
        ObsPrep {
            obs_dim,
            normalize: norm_ranges.is_some(),
            norm_ranges: norm_ranges.unwrap_or_default(),
            ego_scratch: vec![0.0; ego.map_or(0, |(_, n, _)| n * n)],
            ego,
        }
    }

    /// Writes the network's input for a batch of raw observations into
    /// `out`; with `update`, the raw rows update the running statistics
    /// first (rollout steps do, the bootstrap does not).
    pub fn observe(&mut self, raw: &[f32], stats: &mut RunningMeanStd, update: bool, clip: f32, out: &mut [f32]) {
        out.copy_from_slice(raw);
        if self.normalize {
            if update {
                for row in raw.chunks(self.obs_dim) {
                    stats.update(row);
                }
            }
            normalize_obs(stats, clip, &self.norm_ranges, out);
        }
        if let Some((offset, n, agent)) = self.ego {
            egocentric(out, self.obs_dim, (offset, n), agent, &mut self.ego_scratch);
        }
    }
}
