//! The polar view of a grid: its cells regrouped by angle and distance
//! about the grid's centre, so that a network reading it can be made blind
//! to the object's turn about that centre.
//!
//! Explore-v0's objects stand at the workspace's centre with a uniform
//! yaw. On the square grid a turned object is a new picture that a CNN has
//! to learn again; on the polar picture (rows: angle bins, columns: rings
//! one cell wide) the turn is a shift along the rows. A CNN whose
//! convolutions wrap around the angle and whose features are the maximum
//! over all angles (what [`PolarView`] asks of the networks that use it)
//! gives the same answer for every shift, so what it learns of an object
//! at one yaw holds at all of them.

use serde::{Deserialize, Serialize};

use crate::network_layout::CnnConfig;

/// A cell beyond the last ring.
pub const NO_BIN: u32 = u32::MAX;

/// The polar view's shape: `angles` bins around the grid's centre (a
/// multiple of 4, so that a quarter turn of the grid is an exact shift)
/// and `rings` rings, each one cell wide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolarView {
    /// Angle bins (rows of the polar picture).
    pub angles: usize,
    /// Rings of one cell's width (columns of the polar picture).
    pub rings: usize,
}

impl PolarView {
    /// Checks the view against a `height x width` grid.
    pub fn check(&self, height: usize, width: usize) -> Result<(), &'static str> {
        if self.angles < 4 || !self.angles.is_multiple_of(4) {
            return Err("angles must be a multiple of 4, at least 4");
        }
        if self.rings == 0 || 2 * self.rings > height.min(width) {
            return Err("rings must be at least 1 and fit inside the grid (at most half its side)");
        }
        Ok(())
    }

    /// Values in one channel of the polar picture.
    pub fn bins_per_channel(&self) -> usize {
        self.angles * self.rings
    }

    /// The bin of each cell of a `height x width` grid (row-major, rows
    /// along y), `angle * rings + ring`, or [`NO_BIN`] beyond the last ring.
    /// Angles count counter-clockwise from +x (towards +y); the bins of a
    /// grid turned by a quarter turn are those of the grid shifted by
    /// `angles / 4`, exactly.
    pub fn bins(&self, height: usize, width: usize) -> Vec<u32> {
        let quarter = self.angles / 4;
        let mut out = Vec::with_capacity(height * width);
        for r in 0..height {
            for c in 0..width {
                let (mut x, mut y) = (c as f64 + 0.5 - width as f64 / 2.0, r as f64 + 0.5 - height as f64 / 2.0);
                let ring = x.hypot(y).floor() as usize;
                if ring >= self.rings {
                    out.push(NO_BIN);
                    continue;
                }
                // Turn back into the first quadrant (exact on the cell
                // centres), so that every quadrant's bins are the first's.
                let mut q = 0;
                while !(x > 0.0 && y >= 0.0) && q < 4 {
                    (x, y) = (y, -x);
                    q += 1;
                }
                let turn = y.atan2(x) / std::f64::consts::TAU;
                let within = ((turn * self.angles as f64).floor() as usize).min(quarter - 1);
                out.push(((q % 4 * quarter + within) * self.rings + ring) as u32);
            }
        }
        out
    }

    /// The cells of each bin (for graphs that gather them); a bin without
    /// a cell has an empty list.
    pub fn cells_of_bins(bins: &[u32], count: usize) -> Vec<Vec<u32>> {
        let mut cells = vec![Vec::new(); count];
        for (i, &b) in bins.iter().enumerate() {
            if b != NO_BIN {
                cells[b as usize].push(i as u32);
            }
        }
        cells
    }

    /// The polar picture of one grid into `out` (`channels x angles x
    /// rings`): with `levels > 0`, channel `k` is 1 in the bins holding a
    /// cell of code `k + 1`; with `levels == 0`, one channel holding each
    /// bin's largest value (0 for a bin without a cell).
    pub fn picture(&self, bins: &[u32], levels: usize, grid: &[f32], out: &mut [f32]) {
        let n = self.bins_per_channel();
        out[..n * levels.max(1)].fill(0.0);
        for (&b, &v) in bins.iter().zip(grid) {
            if b == NO_BIN {
                continue;
            }
            let b = b as usize;
            if levels == 0 {
                out[b] = out[b].max(v);
            } else if v.fract() == 0.0 && v >= 1.0 && v <= levels as f32 {
                out[(v as usize - 1) * n + b] = 1.0;
            }
        }
    }

    /// The size `(angles, rings)` out of the CNN's convolutions, each
    /// padded by `kernel / 2` bins on both sides along the angle (wrapping
    /// around) and not padded along the rings; or what does not fit.
    pub fn output_size(&self, cnn: &CnnConfig) -> Result<(usize, usize), &'static str> {
        cnn.check()?;
        let (mut a, mut r) = (self.angles, self.rings);
        for (&k, &s) in cnn.kernels.iter().zip(&cnn.strides) {
            let padded = a + 2 * (k / 2);
            if k > padded || k > r || 2 * (k / 2) > a {
                return Err("the kernels do not fit the polar view");
            }
            a = (padded - k) / s + 1;
            r = (r - k) / s + 1;
        }
        Ok((a, r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> PolarView {
        PolarView { angles: 8, rings: 3 }
    }

    #[test]
    fn cells_fall_in_the_bin_of_their_angle_and_distance() {
        let v = view();
        let bins = v.bins(6, 6);
        // Cell (row 3, column 4): centre (+1.5, +0.5) from the grid's
        // centre, distance 1.58 (ring 1), angle 18.4 deg (bin 0 of 8).
        assert_eq!(bins[3 * 6 + 4], 1);
        // Cell (row 4, column 3): (+0.5, +1.5), 71.6 deg: bin 1, ring 1.
        assert_eq!(bins[4 * 6 + 3], 3 + 1);
        // Cell (row 2, column 1): (-1.5, -0.5), 198.4 deg: bin 4, ring 1.
        assert_eq!(bins[2 * 6 + 1], 4 * 3 + 1);
        // Cell (row 0, column 0): distance 3.54, beyond ring 2.
        assert_eq!(bins[0], NO_BIN);
        // The four centre cells are ring 0, one per quadrant (two bins of
        // 8 a quadrant): (-,-) third, (+,-) fourth, (-,+) second, (+,+) first.
        let quadrants: Vec<u32> =
            [(2, 2), (2, 3), (3, 2), (3, 3)].iter().map(|&(r, c)| bins[r * 6 + c]).map(|b| b / 3 / 2).collect();
        assert_eq!(quadrants, vec![2, 3, 1, 0]);
        assert!([(2, 2), (2, 3), (3, 2), (3, 3)].iter().all(|&(r, c)| bins[r * 6 + c].is_multiple_of(3)));
    }

    #[test]
    fn a_quarter_turn_of_the_grid_shifts_the_bins_by_a_quarter() {
        let v = PolarView { angles: 48, rings: 24 };
        let n = 60;
        let bins = v.bins(n, n);
        for r in 0..n {
            for c in 0..n {
                // Turning (x, y) to (-y, x) about the centre moves the cell
                // at (row r, column c) to (row c, column n - 1 - r).
                let (a, b) = (bins[r * n + c], bins[c * n + (n - 1 - r)]);
                if a == NO_BIN {
                    assert_eq!(b, NO_BIN);
                    continue;
                }
                let (angle, ring) = (a as usize / 24, a as usize % 24);
                assert_eq!(b as usize, ((angle + 12) % 48) * 24 + ring, "cell ({r}, {c})");
            }
        }
        // Every bin of the outer ring holds a cell.
        let cells = PolarView::cells_of_bins(&bins, v.bins_per_channel());
        assert!((0..48).all(|a| !cells[a * 24 + 23].is_empty()));
    }

    #[test]
    fn pictures_mark_codes_per_channel_and_sizes_wrap_the_angle() {
        let v = view();
        let bins = v.bins(6, 6);
        let mut grid = vec![0.0f32; 36];
        grid[3 * 6 + 4] = 2.0;
        grid[4 * 6 + 3] = 1.0;
        grid[0] = 2.0; // beyond the rings: not drawn
        let mut out = vec![9.0f32; 2 * 24];
        v.picture(&bins, 2, &grid, &mut out);
        let ones: Vec<usize> = (0..48).filter(|&i| out[i] == 1.0).collect();
        assert_eq!(ones, vec![4, 24 + 1]);
        assert_eq!(out.iter().sum::<f32>(), 2.0);
        let cnn = CnnConfig { channels: vec![4, 4], kernels: vec![3, 2], strides: vec![1, 2], features: 8 };
        // Angles: 8 -> 8 (padded 10, kernel 3) -> 4 (padded 10, kernel 2, stride 2);
        // rings: 3 -> 1 -> 0 does not fit.
        assert_eq!(v.output_size(&cnn), Err("the kernels do not fit the polar view"));
        let cnn = CnnConfig { kernels: vec![3, 1], ..cnn };
        assert_eq!(v.output_size(&cnn), Ok((4, 1)));
        assert!(PolarView { angles: 6, rings: 3 }.check(6, 6).is_err());
        assert!(PolarView { angles: 8, rings: 4 }.check(6, 6).is_err());
        assert!(v.check(6, 6).is_ok());
    }
}
