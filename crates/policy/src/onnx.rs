//! ONNX export of a loaded policy: the whole deterministic policy as one
//! graph (opset 17), normalisation, the egocentric view, the CNN, the MLP,
//! the action heads, the TANDEM discriminator and the action clipping
//! folded in. Input `obs` (`batch x obs_dim`, f32), output `action`
//! (`batch x action_dim`, f32; categorical choices as integer values).
//! A policy that declares by its Bayes posterior ([`crate::ShapePosterior`],
//! which keeps each episode's evidence and has no place in a stateless
//! graph) exports its co-trained CNN as the graph's discriminator; the
//! runtime declares by the posterior.
//!
//! The protobuf is written here field by field (onnx.proto3's numbering);
//! the graph uses only standard operators that every runtime has.

use crate::PolarView;
use crate::Policy;
use crate::network_layout::{Head, quarter_turn_source};
use crate::runtime::{Cnn, Conv, Dense, Polar};

/// The opset the graph is written against.
pub const OPSET: i64 = 17;
const IR_VERSION: i64 = 8;
const FLOAT: i64 = 1;
const INT64: i64 = 7;

/// A protobuf message under construction.
#[derive(Default)]
struct Pb(Vec<u8>);

impl Pb {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn int(&mut self, field: u32, v: i64) -> &mut Self {
        self.varint(u64::from(field) << 3);
        self.varint(v as u64);
        self
    }
    fn bytes(&mut self, field: u32, b: &[u8]) -> &mut Self {
        self.varint((u64::from(field) << 3) | 2);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
        self
    }
    fn msg(&mut self, field: u32, m: &Pb) -> &mut Self {
        self.bytes(field, &m.0)
    }
}

/// A node attribute.
enum Attr {
    Int(&'static str, i64),
    Ints(&'static str, Vec<i64>),
}

/// The graph under construction: nodes, initialisers, fresh names.
struct Graph {
    nodes: Vec<Pb>,
    initializers: Vec<Pb>,
    next: usize,
}

impl Graph {
    fn fresh(&mut self, hint: &str) -> String {
        self.next += 1;
        format!("{hint}_{}", self.next)
    }

    fn tensor(&mut self, hint: &str, dims: &[i64], data_type: i64, raw: Vec<u8>) -> String {
        let name = self.fresh(hint);
        let mut t = Pb::default();
        for &d in dims {
            t.int(1, d);
        }
        t.int(2, data_type).bytes(8, name.as_bytes()).bytes(9, &raw);
        self.initializers.push(t);
        name
    }

    fn floats(&mut self, hint: &str, dims: &[i64], values: &[f32]) -> String {
        self.tensor(hint, dims, FLOAT, values.iter().flat_map(|v| v.to_le_bytes()).collect())
    }

    fn ints(&mut self, hint: &str, dims: &[i64], values: &[i64]) -> String {
        self.tensor(hint, dims, INT64, values.iter().flat_map(|v| v.to_le_bytes()).collect())
    }

    fn node(&mut self, op: &str, inputs: &[&str], attrs: &[Attr]) -> String {
        let out = self.fresh(&op.to_lowercase());
        let mut n = Pb::default();
        for i in inputs {
            n.bytes(1, i.as_bytes());
        }
        n.bytes(2, out.as_bytes()).bytes(3, out.as_bytes()).bytes(4, op.as_bytes());
        for a in attrs {
            let mut p = Pb::default();
            match a {
                Attr::Int(name, v) => {
                    p.bytes(1, name.as_bytes()).int(3, *v).int(20, 2);
                }
                Attr::Ints(name, vs) => {
                    p.bytes(1, name.as_bytes());
                    for &v in vs {
                        p.int(8, v);
                    }
                    p.int(20, 7);
                }
            }
            n.msg(5, &p);
        }
        self.nodes.push(n);
        out
    }

    /// Columns `[start, end)` of a `[batch, d]` tensor.
    fn columns(&mut self, x: &str, start: usize, end: usize) -> String {
        let s = self.ints("start", &[1], &[start as i64]);
        let e = self.ints("end", &[1], &[end as i64]);
        let axes = self.ints("axes", &[1], &[1]);
        self.node("Slice", &[x, &s, &e, &axes], &[])
    }

    fn cast(&mut self, x: &str, to: i64) -> String {
        self.node("Cast", &[x], &[Attr::Int("to", to)])
    }

    fn dense(&mut self, x: &str, d: &Dense) -> String {
        let w = self.floats("weight", &[d.input as i64, d.output as i64], &d.w);
        let b = self.floats("bias", &[d.output as i64], &d.b);
        self.node("Gemm", &[x, &w, &b], &[])
    }

    /// Keeps each column within `[lo, hi]` (per column).
    fn clamp(&mut self, x: &str, lo: &[f32], hi: &[f32]) -> String {
        let l = self.floats("low", &[1, lo.len() as i64], lo);
        let h = self.floats("high", &[1, hi.len() as i64], hi);
        let m = self.node("Min", &[x, &h], &[]);
        self.node("Max", &[&m, &l], &[])
    }

    /// A valid-padding convolution, then ReLU.
    fn conv_relu(&mut self, x: &str, conv: &Conv) -> String {
        let (k, s) = (conv.k as i64, conv.stride as i64);
        let w = self.floats("conv_weight", &[conv.c_out as i64, conv.c_in as i64, k, k], &conv.w);
        let b = self.floats("conv_bias", &[conv.c_out as i64], &conv.b);
        let y = self.node(
            "Conv",
            &[x, &w, &b],
            &[Attr::Ints("kernel_shape", vec![k, k]), Attr::Ints("strides", vec![s, s])],
        );
        self.node("Relu", &[&y], &[])
    }

    /// Columns `[start, end)` along `axis` of a tensor.
    fn slice(&mut self, x: &str, axis: i64, start: usize, end: usize) -> String {
        let s = self.ints("start", &[1], &[start as i64]);
        let e = self.ints("end", &[1], &[end as i64]);
        let axes = self.ints("axes", &[1], &[axis]);
        self.node("Slice", &[x, &s, &e, &axes], &[])
    }

    /// The CNN's features `[batch, features]` of grids `[batch, h * w]`.
    fn cnn(&mut self, grid: &str, cnn: &Cnn) -> String {
        if let Some(polar) = &cnn.polar {
            return self.polar_cnn(grid, cnn, polar);
        }
        let shape = self.ints("shape", &[4], &[-1, 1, cnn.height as i64, cnn.width as i64]);
        let mut x = self.node("Reshape", &[grid, &shape], &[]);
        if cnn.levels > 0 {
            let codes: Vec<f32> = (1..=cnn.levels).map(|k| k as f32).collect();
            let c = self.floats("codes", &[1, cnn.levels as i64, 1, 1], &codes);
            let eq = self.node("Equal", &[&x, &c], &[]);
            x = self.cast(&eq, FLOAT);
        }
        for conv in &cnn.convs {
            x = self.conv_relu(&x, conv);
        }
        let flat = self.node("Flatten", &[&x], &[Attr::Int("axis", 1)]);
        let y = self.dense(&flat, &cnn.linear);
        self.node("Relu", &[&y], &[])
    }

    /// The features of a CNN that reads grids `[batch, h * w]` in polar
    /// form: the polar picture gathered bin by bin (the largest value of a
    /// bin's cells, 0 for a bin without one), convolutions on the picture
    /// wrapped around the angle, the maximum over the angles.
    fn polar_cnn(&mut self, grid: &str, cnn: &Cnn, polar: &Polar) -> String {
        let (angles, rings) = (polar.view.angles, polar.view.rings);
        let count = polar.view.bins_per_channel();
        let channels = cnn.levels.max(1) as i64;
        let shape = self.ints("shape", &[3], &[-1, 1, (cnn.height * cnn.width) as i64]);
        let mut x = self.node("Reshape", &[grid, &shape], &[]);
        if cnn.levels > 0 {
            let codes: Vec<f32> = (1..=cnn.levels).map(|k| k as f32).collect();
            let c = self.floats("codes", &[1, channels, 1], &codes);
            let eq = self.node("Equal", &[&x, &c], &[]);
            x = self.cast(&eq, FLOAT);
        }
        // Every bin gathers the same number of cells (its own, repeated).
        let cells = PolarView::cells_of_bins(&polar.bins, count);
        let per_bin = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let mut index = Vec::with_capacity(count * per_bin);
        let mut mask = Vec::with_capacity(count);
        for list in &cells {
            index.extend((0..per_bin).map(|j| list.get(j).or(list.first()).map_or(0, |&c| i64::from(c))));
            mask.push(if list.is_empty() { 0.0 } else { 1.0 });
        }
        let index = self.ints("polar_cells", &[index.len() as i64], &index);
        let gathered = self.node("Gather", &[&x, &index], &[Attr::Int("axis", 2)]);
        let shape = self.ints("shape", &[5], &[-1, channels, angles as i64, rings as i64, per_bin as i64]);
        let binned = self.node("Reshape", &[&gathered, &shape], &[]);
        let largest = self.node("ReduceMax", &[&binned], &[Attr::Ints("axes", vec![4]), Attr::Int("keepdims", 0)]);
        let largest = if cnn.levels == 0 { self.node("Relu", &[&largest], &[]) } else { largest };
        let mask = self.floats("polar_mask", &[1, 1, angles as i64, rings as i64], &mask);
        x = self.node("Mul", &[&largest, &mask], &[]);
        for conv in &cnn.convs {
            let p = conv.k / 2;
            let angles_in = conv.in_hw.0 - 2 * p;
            if p > 0 {
                let before = self.slice(&x, 2, angles_in - p, angles_in);
                let after = self.slice(&x, 2, 0, p);
                x = self.node("Concat", &[&before, &x, &after], &[Attr::Int("axis", 2)]);
            }
            x = self.conv_relu(&x, conv);
        }
        let pooled = self.node("ReduceMax", &[&x], &[Attr::Ints("axes", vec![2]), Attr::Int("keepdims", 0)]);
        let flat = self.node("Flatten", &[&pooled], &[Attr::Int("axis", 1)]);
        let y = self.dense(&flat, &cnn.linear);
        self.node("Relu", &[&y], &[])
    }

    /// Grids `[batch, n * n]` re-centred on the cell holding `agent` (the
    /// first such; the middle cell if none), cells from beyond the edge
    /// holding `agent + 1`.
    fn egocentric(&mut self, grid: &str, n: usize, agent: f32) -> String {
        let cells = n * n;
        let a = self.floats("agent", &[1], &[agent]);
        let eq = self.node("Equal", &[grid, &a], &[]);
        let eqf = self.cast(&eq, FLOAT);
        let first = self.node("ArgMax", &[&eqf], &[Attr::Int("axis", 1), Attr::Int("keepdims", 1)]);
        let found = self.node("ReduceMax", &[&eqf], &[Attr::Ints("axes", vec![1]), Attr::Int("keepdims", 1)]);
        let half = self.floats("half", &[1], &[0.5]);
        let has = self.node("Greater", &[&found, &half], &[]);
        let middle = self.ints("middle", &[1], &[(n / 2 * n + n / 2) as i64]);
        let at = self.node("Where", &[&has, &first, &middle], &[]);
        let side = self.ints("side", &[1], &[n as i64]);
        let row = self.node("Div", &[&at, &side], &[]);
        let row_start = self.node("Mul", &[&row, &side], &[]);
        let col = self.node("Sub", &[&at, &row_start], &[]);
        let h = (n / 2) as i64;
        let dr: Vec<i64> = (0..cells).map(|i| (i / n) as i64 - h).collect();
        let dc: Vec<i64> = (0..cells).map(|i| (i % n) as i64 - h).collect();
        let dr = self.ints("d_row", &[1, cells as i64], &dr);
        let dc = self.ints("d_col", &[1, cells as i64], &dc);
        let sr = self.node("Add", &[&row, &dr], &[]);
        let sc = self.node("Add", &[&col, &dc], &[]);
        let zero = self.ints("zero", &[1], &[0]);
        let mut inside = Vec::new();
        for v in [&sr, &sc] {
            let lo = self.node("GreaterOrEqual", &[v, &zero], &[]);
            let hi = self.node("Less", &[v, &side], &[]);
            inside.push(self.node("And", &[&lo, &hi], &[]));
        }
        let inside = self.node("And", &[&inside[0], &inside[1]], &[]);
        let src_row = self.node("Mul", &[&sr, &side], &[]);
        let src = self.node("Add", &[&src_row, &sc], &[]);
        let src = self.node("Where", &[&inside, &src, &zero], &[]);
        let values = self.node("GatherElements", &[grid, &src], &[Attr::Int("axis", 1)]);
        let outside = self.floats("outside", &[1], &[agent + 1.0]);
        self.node("Where", &[&inside, &values, &outside], &[])
    }

    fn value_info(name: &str, dims: [Option<i64>; 2]) -> Pb {
        let mut shape = Pb::default();
        for d in dims {
            let mut dim = Pb::default();
            match d {
                Some(v) => dim.int(1, v),
                None => dim.bytes(2, b"batch"),
            };
            shape.msg(1, &dim);
        }
        let mut tensor = Pb::default();
        tensor.int(1, FLOAT).msg(2, &shape);
        let mut ty = Pb::default();
        ty.msg(1, &tensor);
        let mut vi = Pb::default();
        vi.bytes(1, name.as_bytes()).msg(2, &ty);
        vi
    }
}

impl Policy {
    /// The policy as an ONNX model (bytes of a `ModelProto`).
    pub fn to_onnx(&self) -> Vec<u8> {
        let meta = self.meta();
        let (od, ad) = (meta.obs_dim(), meta.action_dim());
        let mut g = Graph { nodes: Vec::new(), initializers: Vec::new(), next: 0 };
        let mut x = "obs".to_string();
        if let Some((mean, var, clip, ranges)) = &self.norm {
            let (mut m, mut s) = (vec![0.0f32; od], vec![1.0f32; od]);
            let (mut lo, mut hi) = (vec![f32::MIN; od], vec![f32::MAX; od]);
            for i in ranges.iter().flat_map(|r| r.clone()) {
                m[i] = mean[i] as f32;
                s[i] = (var[i] + 1e-8).sqrt() as f32;
                lo[i] = -clip;
                hi[i] = *clip;
            }
            let m = g.floats("obs_mean", &[1, od as i64], &m);
            let s = g.floats("obs_std", &[1, od as i64], &s);
            let centred = g.node("Sub", &[&x, &m], &[]);
            let z = g.node("Div", &[&centred, &s], &[]);
            x = g.clamp(&z, &lo, &hi);
        }
        let net = &meta.network;
        let mut h = match &self.encoder {
            Some(enc) => {
                let (offset, cells) = self.grid;
                let mut grid = g.columns(&x, offset, offset + cells);
                if let Some((_, n, agent)) = net.egocentric {
                    grid = g.egocentric(&grid, n, agent);
                }
                let mut parts = vec![g.cnn(&grid, enc)];
                for r in &self.vectors {
                    parts.push(g.columns(&x, r.start, r.end));
                }
                let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
                if refs.len() == 1 { parts[0].clone() } else { g.node("Concat", &refs, &[Attr::Int("axis", 1)]) }
            }
            None => x.clone(),
        };
        for layer in &self.mlp {
            let y = g.dense(&h, layer);
            h = g.node("Tanh", &[&y], &[]);
        }
        let out = g.dense(&h, &self.head);
        let mut columns = Vec::new();
        let mut o = 0;
        for head in &net.action_layout.heads {
            match *head {
                Head::Gaussian { dim } => {
                    columns.push(g.columns(&out, o, o + dim));
                    o += dim;
                }
                Head::Categorical { n } => {
                    let logits = g.columns(&out, o, o + n);
                    let k = g.node(
                        "ArgMax",
                        &[&logits],
                        &[Attr::Int("axis", 1), Attr::Int("keepdims", 1), Attr::Int("select_last_index", 1)],
                    );
                    columns.push(g.cast(&k, FLOAT));
                    o += n;
                }
            }
        }
        if let Some(d) = &self.discriminator {
            let layout = &d.meta.layout;
            let (offset, gh, gw, _) = layout.grid;
            let grid = g.columns("obs", offset, offset + gh * gw);
            // Under turn_average the CNN reads the grid and its three
            // quarter turns (gathered by constant indices) as one batch
            // `[4 * batch, h * w]`, turn by turn, and the probabilities
            // are the mean of the four softmaxes.
            let read = if d.meta.turn_average {
                let mut turned = vec![grid.clone()];
                for turns in 1..4u8 {
                    let index: Vec<i64> = (0..gh * gw)
                        .map(|cell| {
                            let (r, c) = quarter_turn_source(gh, turns, cell / gw, cell % gw);
                            (r * gw + c) as i64
                        })
                        .collect();
                    let index = g.ints("turn_cells", &[index.len() as i64], &index);
                    turned.push(g.node("Gather", &[&grid, &index], &[Attr::Int("axis", 1)]));
                }
                let refs: Vec<&str> = turned.iter().map(String::as_str).collect();
                g.node("Concat", &refs, &[Attr::Int("axis", 0)])
            } else {
                grid.clone()
            };
            let logits = {
                let f = g.cnn(&read, &d.cnn);
                g.dense(&f, &d.head)
            };
            let mut p = g.node("Softmax", &[&logits], &[Attr::Int("axis", 1)]);
            if d.meta.turn_average {
                let shape = g.ints("turns_shape", &[3], &[4, -1, layout.classes as i64]);
                let by_turn = g.node("Reshape", &[&p, &shape], &[]);
                p = g.node("ReduceMean", &[&by_turn], &[Attr::Ints("axes", vec![0]), Attr::Int("keepdims", 0)]);
            }
            let top = g.node("ReduceMax", &[&p], &[Attr::Ints("axes", vec![1]), Attr::Int("keepdims", 1)]);
            let k = g.node(
                "ArgMax",
                &[&p],
                &[Attr::Int("axis", 1), Attr::Int("keepdims", 1), Attr::Int("select_last_index", 1)],
            );
            let kf = g.cast(&k, FLOAT);
            // Evidence: enough cells holding the evidence code, else the
            // probabilities are uniform (the last class, 1 / classes).
            let (code, min) = layout.evidence;
            let c = g.floats("evidence_code", &[1], &[code]);
            let eq = g.node("Equal", &[&grid, &c], &[]);
            let eqf = g.cast(&eq, FLOAT);
            let ones = g.floats("ones", &[(gh * gw) as i64, 1], &vec![1.0; gh * gw]);
            let count = g.node("MatMul", &[&eqf, &ones], &[]);
            let need = g.floats("evidence_cells", &[1], &[min as f32 - 0.5]);
            let enough = g.node("Greater", &[&count, &need], &[]);
            let classes = layout.classes as f32;
            let uniform = g.floats("uniform", &[1], &[1.0 / classes]);
            let last = g.floats("last_class", &[1], &[classes - 1.0]);
            let top = g.node("Where", &[&enough, &top, &uniform], &[]);
            let kf = g.node("Where", &[&enough, &kf, &last], &[]);
            let threshold = g.floats("threshold", &[1], &[d.meta.threshold]);
            let below = g.node("Less", &[&top, &threshold], &[]);
            let one = g.floats("one", &[1], &[1.0]);
            let class = g.node("Add", &[&kf, &one], &[]);
            let zero = g.floats("none", &[1], &[0.0]);
            let declare = g.node("Where", &[&below, &zero, &class], &[]);
            // Insert it at its index among the explorer's columns.
            let mut at = 0;
            let mut index = columns.len();
            for (i, head) in net.action_layout.heads.iter().enumerate() {
                if at == layout.action_index {
                    index = i;
                    break;
                }
                at += match head {
                    Head::Gaussian { dim } => *dim,
                    Head::Categorical { .. } => 1,
                };
            }
            columns.insert(index, declare);
            // The current guess (Explore-v2's `guess`): the most likely
            // class + 1 where the grid holds evidence, else 0.
            if let Some(guess_at) = layout.guess_index {
                let guess = g.node("Where", &[&enough, &class, &zero], &[]);
                let mut widths: Vec<usize> = net
                    .action_layout
                    .heads
                    .iter()
                    .map(|head| match head {
                        Head::Gaussian { dim } => *dim,
                        Head::Categorical { .. } => 1,
                    })
                    .collect();
                widths.insert(index.min(widths.len()), 1);
                let mut at = 0;
                let mut place = widths.len();
                for (i, w) in widths.iter().enumerate() {
                    if at == guess_at {
                        place = i;
                        break;
                    }
                    at += w;
                }
                columns.insert(place.min(columns.len()), guess);
            }
        }
        let refs: Vec<&str> = columns.iter().map(String::as_str).collect();
        let action =
            if refs.len() == 1 { columns[0].clone() } else { g.node("Concat", &refs, &[Attr::Int("axis", 1)]) };
        let (lo, hi): (Vec<f32>, Vec<f32>) =
            self.bounds.iter().map(|&(l, h)| (l.max(f32::MIN), h.min(f32::MAX))).unzip();
        let clipped = g.clamp(&action, &lo, &hi);
        g.node("Identity", &[&clipped], &[]);
        // Rename the last node's output to `action`.
        let last = g.nodes.len() - 1;
        let mut n = Pb::default();
        n.bytes(1, clipped.as_bytes()).bytes(2, b"action").bytes(3, b"action").bytes(4, b"Identity");
        g.nodes[last] = n;

        let mut graph = Pb::default();
        for n in &g.nodes {
            graph.msg(1, n);
        }
        graph.bytes(2, format!("tactile {}", meta.env_id).as_bytes());
        for t in &g.initializers {
            graph.msg(5, t);
        }
        graph.msg(11, &Graph::value_info("obs", [None, Some(od as i64)]));
        graph.msg(12, &Graph::value_info("action", [None, Some(ad as i64)]));
        let mut opset = Pb::default();
        opset.bytes(1, b"").int(2, OPSET);
        let mut model = Pb::default();
        model
            .int(1, IR_VERSION)
            .bytes(2, b"tactile")
            .bytes(3, meta.tactile_version.as_bytes())
            .msg(7, &graph)
            .msg(8, &opset);
        sign_onnx(model.0)
    }
}

/// The `metadata_props` key under which an exported model carries the
/// CRC-32C of the bytes before it.
pub const ONNX_CHECKSUM_KEY: &str = "tactile.crc32c";

/// The model's `metadata_props` entry (field 14) `tactile.crc32c` = the
/// CRC-32C of everything before it, in 8 hex digits, as its last record:
/// a protobuf reader sees one more metadata entry, and
/// [`verify_onnx`] finds it at a known place.
fn sign_onnx(mut model: Vec<u8>) -> Vec<u8> {
    let sum = format!("{:08x}", crate::checksums::crc32c(&model));
    let mut entry = Pb::default();
    entry.bytes(1, ONNX_CHECKSUM_KEY.as_bytes()).bytes(2, sum.as_bytes());
    let mut record = Pb::default();
    record.msg(14, &entry);
    model.extend_from_slice(&record.0);
    model
}

/// What [`verify_onnx`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnnxCheck {
    /// The model carries tactile's checksum and its bytes match it.
    Intact,
    /// The model carries no checksum (written elsewhere, or before tactile
    /// signed its exports): nothing could be checked.
    Unsigned,
}

/// Checks the checksum an exported model carries ([`ONNX_CHECKSUM_KEY`]);
/// a model whose bytes do not match it is refused.
pub fn verify_onnx(bytes: &[u8], path: &std::path::Path) -> Result<OnnxCheck, crate::PolicyError> {
    // The last record, as sign_onnx writes it: tag, length, key, value.
    let mut entry = Pb::default();
    entry.bytes(1, ONNX_CHECKSUM_KEY.as_bytes()).bytes(2, b"00000000");
    let mut record = Pb::default();
    record.msg(14, &entry);
    let len = record.0.len();
    let Some(start) = bytes.len().checked_sub(len) else { return Ok(OnnxCheck::Unsigned) };
    let tail = &bytes[start..];
    let value_at = len - 8;
    if tail[..value_at] != record.0[..value_at] {
        return Ok(OnnxCheck::Unsigned);
    }
    let stored = std::str::from_utf8(&tail[value_at..]).ok().and_then(|h| u32::from_str_radix(h, 16).ok());
    if stored != Some(crate::checksums::crc32c(&bytes[..start])) {
        return Err(crate::PolicyError::Damaged {
            path: path.to_owned(),
            message: "checksum mismatch: the ONNX file is corrupted or truncated".into(),
        });
    }
    Ok(OnnxCheck::Intact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_model_checks_and_a_changed_byte_is_refused() {
        let path = std::path::Path::new("p.onnx");
        let mut body = Pb::default();
        body.int(1, IR_VERSION).bytes(2, b"tactile");
        let signed = sign_onnx(body.0.clone());
        assert_eq!(verify_onnx(&signed, path).unwrap(), OnnxCheck::Intact);
        assert_eq!(verify_onnx(&body.0, path).unwrap(), OnnxCheck::Unsigned);
        let mut changed = signed.clone();
        changed[3] ^= 1;
        let e = verify_onnx(&changed, path).unwrap_err().to_string();
        assert_eq!(e, "p.onnx: checksum mismatch: the ONNX file is corrupted or truncated");
    }
}
