//! Spaces: what observations and actions look like (Gymnasium's Box,
//! Discrete, MultiDiscrete and Dict).
//!
//! Every value travels as a flat `f32` buffer: a Box as its elements in
//! row-major order, a Discrete as one integer-valued element, a
//! MultiDiscrete as one element per component, a Dict as its entries
//! concatenated in the order they are listed.

use rand::Rng;

/// The element type a space's values have in Gymnasium terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    /// Real numbers (`float32`).
    F32,
    /// Integers (`int64`), carried as integer-valued `f32`.
    I64,
}

/// A space of values.
#[derive(Clone, Debug, PartialEq)]
pub enum Space {
    /// Real vectors or tensors with per-element bounds.
    Box {
        /// Lower bound per element (may be `-inf`).
        low: Vec<f32>,
        /// Upper bound per element (may be `+inf`).
        high: Vec<f32>,
        /// Tensor shape; its product is the number of elements.
        shape: Vec<usize>,
    },
    /// One of `n` choices, `0..n`.
    Discrete {
        /// Number of choices (>= 1).
        n: u32,
    },
    /// One choice per component, component `i` in `0..nvec[i]`.
    MultiDiscrete {
        /// Number of choices per component.
        nvec: Vec<u32>,
    },
    /// Named sub-spaces, flattened in this order.
    Dict(Vec<(String, Space)>),
}

impl Space {
    /// A box with the same bounds on every element.
    pub fn uniform_box(low: f32, high: f32, shape: &[usize]) -> Space {
        let n = shape.iter().product();
        Space::Box { low: vec![low; n], high: vec![high; n], shape: shape.to_vec() }
    }

    /// Number of `f32` elements a value of this space takes.
    pub fn flat_dim(&self) -> usize {
        match self {
            Space::Box { low, .. } => low.len(),
            Space::Discrete { .. } => 1,
            Space::MultiDiscrete { nvec } => nvec.len(),
            Space::Dict(entries) => entries.iter().map(|(_, s)| s.flat_dim()).sum(),
        }
    }

    /// A Dict entry by name: its offset in the flat value and its space
    /// (`None` for another kind of space or a name it does not hold).
    pub fn entry(&self, name: &str) -> Option<(usize, &Space)> {
        let Space::Dict(entries) = self else { return None };
        let mut offset = 0;
        for (n, s) in entries {
            if n == name {
                return Some((offset, s));
            }
            offset += s.flat_dim();
        }
        None
    }

    /// The offset and side of a square `grid` entry of a Dict space (the
    /// Explore tasks' occupancy grid).
    pub fn square_grid(&self) -> Option<(usize, usize)> {
        match self.entry("grid")? {
            (offset, Space::Box { shape, .. }) if shape.len() == 2 && shape[0] == shape[1] => Some((offset, shape[0])),
            _ => None,
        }
    }

    /// Element type.
    pub fn dtype(&self) -> Dtype {
        match self {
            Space::Box { .. } => Dtype::F32,
            Space::Discrete { .. } | Space::MultiDiscrete { .. } => Dtype::I64,
            Space::Dict(_) => Dtype::F32,
        }
    }

    /// Checks that the space itself is well formed: bounds ordered and not
    /// NaN, shapes matching, at least one choice per discrete component.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Space::Box { low, high, shape } => {
                if low.len() != high.len() || shape.iter().product::<usize>() != low.len() {
                    return Err(format!(
                        "Box bounds have {} and {} elements for shape {shape:?}",
                        low.len(),
                        high.len()
                    ));
                }
                for (i, (l, h)) in low.iter().zip(high).enumerate() {
                    if l.is_nan() || h.is_nan() || l > h {
                        return Err(format!("Box element {i}: low {l} and high {h} are not ordered numbers"));
                    }
                }
                Ok(())
            }
            Space::Discrete { n } if *n == 0 => Err("Discrete(0) has no choice".into()),
            Space::Discrete { .. } => Ok(()),
            Space::MultiDiscrete { nvec } => match nvec.iter().position(|&n| n == 0) {
                Some(i) => Err(format!("MultiDiscrete component {i} has no choice")),
                None => Ok(()),
            },
            Space::Dict(entries) => {
                for (name, s) in entries {
                    s.validate().map_err(|e| format!("{name}: {e}"))?;
                }
                Ok(())
            }
        }
    }

    /// Why `x` is not a value of this space, or `None` if it is.
    pub fn why_not(&self, x: &[f32]) -> Option<String> {
        if x.len() != self.flat_dim() {
            return Some(format!("expected {} values, got {}", self.flat_dim(), x.len()));
        }
        match self {
            Space::Box { low, high, .. } => {
                for i in 0..x.len() {
                    if x[i].is_nan() {
                        return Some(format!("element {i} is NaN"));
                    }
                    if x[i] < low[i] || x[i] > high[i] {
                        return Some(format!("element {i} = {} is outside [{}, {}]", x[i], low[i], high[i]));
                    }
                }
                None
            }
            Space::Discrete { n } => discrete_why_not(x[0], *n, "the choice"),
            Space::MultiDiscrete { nvec } => {
                nvec.iter().enumerate().find_map(|(i, &n)| discrete_why_not(x[i], n, &format!("component {i}")))
            }
            Space::Dict(entries) => {
                let mut at = 0;
                for (name, s) in entries {
                    let d = s.flat_dim();
                    if let Some(why) = s.why_not(&x[at..at + d]) {
                        return Some(format!("{name}: {why}"));
                    }
                    at += d;
                }
                None
            }
        }
    }

    /// Whether `x` is a value of this space.
    pub fn contains(&self, x: &[f32]) -> bool {
        self.why_not(x).is_none()
    }

    /// Draws a value uniformly (a Box with infinite bounds draws from a
    /// unit normal on that side) into `out`.
    pub fn sample(&self, rng: &mut impl Rng, out: &mut [f32]) {
        match self {
            Space::Box { low, high, .. } => {
                for i in 0..out.len() {
                    let (l, h) = (low[i], high[i]);
                    out[i] = match (l.is_finite(), h.is_finite()) {
                        (true, true) => l + (h - l) * rng.random::<f32>(),
                        (true, false) => l + rng.random::<f32>().max(1e-7).ln().abs(),
                        (false, true) => h - rng.random::<f32>().max(1e-7).ln().abs(),
                        (false, false) => rng.random::<f32>() * 2.0 - 1.0,
                    };
                }
            }
            Space::Discrete { n } => out[0] = rng.random_range(0..*n) as f32,
            Space::MultiDiscrete { nvec } => {
                for (o, &n) in out.iter_mut().zip(nvec) {
                    *o = rng.random_range(0..n) as f32;
                }
            }
            Space::Dict(entries) => {
                let mut at = 0;
                for (_, s) in entries {
                    let d = s.flat_dim();
                    s.sample(rng, &mut out[at..at + d]);
                    at += d;
                }
            }
        }
    }

    /// A short description in Gymnasium's notation.
    pub fn describe(&self) -> String {
        match self {
            Space::Box { low, high, shape } => {
                let lo = low.iter().copied().fold(f32::INFINITY, f32::min);
                let hi = high.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                format!("Box({lo}, {hi}, {shape:?}, float32)")
            }
            Space::Discrete { n } => format!("Discrete({n})"),
            Space::MultiDiscrete { nvec } => format!("MultiDiscrete({nvec:?})"),
            Space::Dict(entries) => {
                let inner: Vec<String> = entries.iter().map(|(k, s)| format!("{k}: {}", s.describe())).collect();
                format!("Dict({})", inner.join(", "))
            }
        }
    }
}

fn discrete_why_not(x: f32, n: u32, what: &str) -> Option<String> {
    if x.is_nan() {
        Some(format!("{what} is NaN"))
    } else if x.fract() != 0.0 || x < 0.0 || x >= n as f32 {
        Some(format!("{what} = {x} is not an integer in 0..{n}"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn explore_like() -> Space {
        Space::Dict(vec![("move".into(), Space::Discrete { n: 4 }), ("declare".into(), Space::Discrete { n: 11 })])
    }

    #[test]
    fn dict_entries_are_found_with_their_flat_offsets() {
        let space = Space::Dict(vec![
            ("grid".into(), Space::uniform_box(0.0, 3.0, &[3, 3])),
            ("taxels".into(), Space::uniform_box(0.0, 1.0, &[4])),
        ]);
        assert_eq!(space.entry("taxels").map(|(at, s)| (at, s.flat_dim())), Some((9, 4)));
        assert_eq!(space.square_grid(), Some((0, 3)));
        assert!(space.entry("move").is_none());
        let wide = Space::Dict(vec![("grid".into(), Space::uniform_box(0.0, 3.0, &[2, 3]))]);
        assert_eq!(wide.square_grid(), None);
        assert_eq!(Space::Discrete { n: 2 }.entry("grid").map(|(at, _)| at), None);
    }

    #[test]
    fn samples_lie_in_their_space() {
        let mut rng = StdRng::seed_from_u64(0);
        for space in [
            Space::uniform_box(-2.0, 2.0, &[3]),
            Space::Box { low: vec![0.0, f32::NEG_INFINITY], high: vec![f32::INFINITY, 1.0], shape: vec![2] },
            Space::Discrete { n: 5 },
            Space::MultiDiscrete { nvec: vec![2, 3, 4] },
            explore_like(),
        ] {
            space.validate().unwrap();
            let mut x = vec![0.0; space.flat_dim()];
            for _ in 0..200 {
                space.sample(&mut rng, &mut x);
                assert!(space.contains(&x), "{} does not contain {x:?}", space.describe());
            }
        }
    }

    #[test]
    fn contains_says_why_not() {
        let b = Space::uniform_box(-1.0, 1.0, &[2]);
        assert!(b.why_not(&[0.0, 1.5]).unwrap().contains("element 1 = 1.5"));
        assert!(b.why_not(&[f32::NAN, 0.0]).unwrap().contains("NaN"));
        assert!(b.why_not(&[0.0]).unwrap().contains("expected 2 values"));
        let d = explore_like();
        assert_eq!(d.flat_dim(), 2);
        assert!(d.why_not(&[1.0, 11.0]).unwrap().starts_with("declare:"));
        assert!(d.why_not(&[0.5, 0.0]).unwrap().starts_with("move:"));
        assert!(d.contains(&[3.0, 10.0]));
    }

    #[test]
    fn malformed_spaces_are_caught() {
        let bad = Space::Box { low: vec![1.0], high: vec![0.0], shape: vec![1] };
        assert!(bad.validate().is_err());
        assert!(Space::Discrete { n: 0 }.validate().is_err());
        let bad_shape = Space::Box { low: vec![0.0; 3], high: vec![1.0; 3], shape: vec![2, 2] };
        assert!(bad_shape.validate().is_err());
    }
}
