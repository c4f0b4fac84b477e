//! The compute device: burn's CPU backend always, GPU backends when
//! compiled in.

use crate::RlError;

/// The compute device named on the command line: `cpu` (burn's flex
/// backend, always there), `cuda` or `wgpu` (when compiled with that cargo
/// feature).
pub fn device(name: &str) -> Result<burn::tensor::Device, RlError> {
    match name {
        "cpu" | "flex" => Ok(burn::tensor::Device::flex()),
        "cuda" => cuda_device(),
        "wgpu" => wgpu_device(),
        other => Err(RlError::Device(format!("unknown device `{other}` (expected cpu, cuda or wgpu)"))),
    }
}

#[cfg(not(all(feature = "cuda", feature = "wgpu")))]
fn not_compiled(name: &str) -> RlError {
    RlError::Device(format!("device `{name}` is not compiled into this build (rebuild with `--features {name}`)"))
}

#[cfg(feature = "cuda")]
fn cuda_device() -> Result<burn::tensor::Device, RlError> {
    Ok(burn::tensor::Device::cuda(0usize))
}

#[cfg(not(feature = "cuda"))]
fn cuda_device() -> Result<burn::tensor::Device, RlError> {
    Err(not_compiled("cuda"))
}

#[cfg(feature = "wgpu")]
fn wgpu_device() -> Result<burn::tensor::Device, RlError> {
    Ok(burn::tensor::Device::wgpu(Default::default()))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_device() -> Result<burn::tensor::Device, RlError> {
    Err(not_compiled("wgpu"))
}
