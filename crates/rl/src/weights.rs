//! A module's weights as a safetensors file: every float parameter under
//! its module path (`actor.layers.0.weight`), little-endian `F32`, in the
//! format any safetensors reader takes (an 8-byte header length, a JSON
//! header of names, dtypes, shapes and byte ranges, then the data).
//! Reading checks everything and names the file and the tensor that is
//! wrong: a truncated or corrupted file, a missing tensor, another shape.

use std::collections::BTreeMap;
use std::path::Path;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::{Tensor, TensorData};
pub use tactile_policy::safetensors::{decode, encode};

use crate::RlError;

fn bad(path: &Path, message: impl Into<String>) -> RlError {
    RlError::Weights { path: path.to_owned(), message: message.into() }
}

/// The float parameters of a module by path, with their shapes and values.
pub fn named_params<M: Module>(module: &M) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    struct Collect {
        path: Vec<String>,
        out: Vec<(String, Vec<usize>, Vec<f32>)>,
    }
    impl ModuleVisitor for Collect {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.path.push(name.to_owned());
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let t = param.val();
            let shape = t.dims().to_vec();
            let values = t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap_or_default();
            self.out.push((self.path.join("."), shape, values));
        }
    }
    let mut c = Collect { path: Vec::new(), out: Vec::new() };
    module.visit(&mut c);
    c.out
}

/// Loads named tensors into a module's float parameters (same paths, same
/// shapes, every one present, none left over); parameter ids are kept.
pub fn load_params<M: Module>(
    module: M,
    mut tensors: BTreeMap<String, (Vec<usize>, Vec<f32>)>,
    path: &Path,
) -> Result<M, RlError> {
    struct Load<'a> {
        path: Vec<String>,
        tensors: &'a mut BTreeMap<String, (Vec<usize>, Vec<f32>)>,
        error: Option<String>,
    }
    impl ModuleMapper for Load<'_> {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.path.push(name.to_owned());
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.path.pop();
        }
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let name = self.path.join(".");
            let old = param.val();
            let shape = old.dims().to_vec();
            match self.tensors.remove(&name) {
                Some((s, values)) if s == shape => {
                    let t = Tensor::<D>::from_data(TensorData::new(values, s), &old.device());
                    let id: ParamId = param.id;
                    let mut p = Param::from_tensor(t);
                    p.id = id;
                    p
                }
                Some((s, _)) => {
                    self.error.get_or_insert(format!("tensor `{name}` has shape {s:?}, the network needs {shape:?}"));
                    param
                }
                None => {
                    self.error.get_or_insert(format!("tensor `{name}` is missing"));
                    param
                }
            }
        }
    }
    let mut load = Load { path: Vec::new(), tensors: &mut tensors, error: None };
    let module = module.map(&mut load);
    if let Some(message) = load.error {
        return Err(bad(path, message));
    }
    if let Some(extra) = tensors.keys().next() {
        return Err(bad(path, format!("tensor `{extra}` is not part of the network")));
    }
    Ok(module)
}

/// Writes a module's weights to a safetensors file.
pub fn save_module<M: Module>(module: &M, metadata: &BTreeMap<String, String>, path: &Path) -> Result<(), RlError> {
    std::fs::write(path, encode(&named_params(module), metadata))
        .map_err(|source| RlError::Io { path: path.to_owned(), source })
}

/// Reads a safetensors file into a module of the same architecture.
pub fn load_module<M: Module>(module: M, path: &Path) -> Result<M, RlError> {
    let bytes = std::fs::read(path).map_err(|source| RlError::Io { path: path.to_owned(), source })?;
    let (tensors, _) = decode(&bytes, path)?;
    load_params(module, tensors, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoder::CnnConfig;
    use crate::network::ActorCritic;
    use burn::tensor::Device;
    use tactile_env::Space;

    fn net(seed: u64) -> ActorCritic {
        let space = Space::Dict(vec![
            ("grid".into(), Space::uniform_box(0.0, 3.0, &[8, 8])),
            ("v".into(), Space::uniform_box(-1.0, 1.0, &[3])),
        ]);
        let cnn = CnnConfig { channels: vec![2], kernels: vec![2], strides: vec![2], features: 4 };
        let layout = crate::network::action_layout(&Space::Discrete { n: 3 });
        ActorCritic::new(
            &crate::encoder::obs_layout(&space, true),
            &layout,
            &[5],
            Some(&cnn),
            0.0,
            0,
            seed,
            &Device::flex(),
        )
        .unwrap()
    }

    #[test]
    fn weights_round_trip_bit_for_bit_and_keep_parameter_ids() {
        let a = net(1);
        let meta = BTreeMap::from([("format".to_string(), "test".to_string())]);
        let bytes = encode(&named_params(&a), &meta);
        let (tensors, m) = decode(&bytes, Path::new("a.safetensors")).unwrap();
        assert_eq!(m, meta);
        assert!(tensors.contains_key("encoder.convs.0.weight"), "{:?}", tensors.keys());
        assert!(tensors.contains_key("actor.layers.0.bias"));
        let b = load_params(net(2), tensors, Path::new("a.safetensors")).unwrap();
        let (pa, pb) = (named_params(&a), named_params(&b));
        assert_eq!(pa.len(), pb.len());
        for ((na, sa, va), (nb, sb, vb)) in pa.iter().zip(&pb) {
            assert_eq!((na, sa), (nb, sb));
            assert!(va.iter().zip(vb).all(|(x, y)| x.to_bits() == y.to_bits()), "{na}");
        }
    }

    #[test]
    fn broken_files_are_refused_with_the_file_and_the_tensor() {
        let p = Path::new("policy/model.safetensors");
        let bytes = encode(&named_params(&net(1)), &BTreeMap::new());
        for cut in [0, 5, 20, bytes.len() - 3] {
            let e = decode(&bytes[..cut], p).err().unwrap().to_string();
            assert!(e.starts_with("policy/model.safetensors: "), "{e}");
        }
        // A tensor missing, and one of another shape.
        let (mut tensors, _) = decode(&bytes, p).unwrap();
        tensors.remove("critic_head.weight");
        let e = load_params(net(1), tensors.clone(), p).err().unwrap().to_string();
        assert!(e.contains("`critic_head.weight` is missing"), "{e}");
        tensors.insert("critic_head.weight".into(), (vec![2, 2], vec![0.0; 4]));
        let e = load_params(net(1), tensors.clone(), p).err().unwrap().to_string();
        assert!(e.contains("`critic_head.weight` has shape [2, 2]"), "{e}");
        tensors.insert("critic_head.weight".into(), (vec![5, 1], vec![0.0; 5]));
        tensors.insert("extra".into(), (vec![1], vec![0.0]));
        let e = load_params(net(1), tensors, p).err().unwrap().to_string();
        assert!(e.contains("`extra` is not part of the network"), "{e}");
    }
}
