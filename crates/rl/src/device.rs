//! The compute device: burn's CPU backend always, GPU backends when
//! compiled in, and what each one runs on, in words.

use crate::RlError;

/// The compute device named on the command line: `cpu` (burn's flex
/// backend, always there), `wgpu` (any GPU through wgpu), `vulkan` (wgpu
/// pinned to Vulkan, SPIR-V shaders) or `cuda`, each when compiled with
/// that cargo feature.
pub fn device(name: &str) -> Result<burn::tensor::Device, RlError> {
    match name {
        "cpu" | "flex" => Ok(burn::tensor::Device::flex()),
        "cuda" => cuda_device(),
        "wgpu" => wgpu_device(),
        "vulkan" => vulkan_device(),
        other => Err(RlError::Device(format!("unknown device `{other}` (expected cpu, wgpu, vulkan or cuda)"))),
    }
}

/// What device `name` runs on, in words, for the start of a run and its
/// `config.json`: for wgpu and vulkan the adapter (name, graphics API,
/// kind, driver) that burn's default device selects, by its rule (the
/// first API of Vulkan, DX12, GL with a GPU, else with anything; there the
/// highest-performance adapter). A software renderer (Mesa's lavapipe, say)
/// is named as one, so that nobody takes it for the GPU.
pub fn describe_device(name: &str) -> String {
    match name {
        "cpu" | "flex" => {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            format!("CPU (burn's flex backend; {cores} cores)")
        }
        "cuda" => "CUDA device 0".to_owned(),
        "wgpu" | "vulkan" => describe_adapter(name == "vulkan"),
        other => format!("unknown device `{other}`"),
    }
}

#[cfg(feature = "wgpu")]
fn describe_adapter(vulkan_only: bool) -> String {
    use wgpu::{Backend, DeviceType};
    let candidates: &[Backend] =
        if vulkan_only { &[Backend::Vulkan] } else { &[Backend::Vulkan, Backend::Dx12, Backend::Gl] };
    let mut software_only = None;
    let mut chosen = None;
    for &api in candidates {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends: api.into(),
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        let adapters: Vec<wgpu::AdapterInfo> =
            block_on(instance.enumerate_adapters(api.into())).iter().map(wgpu::Adapter::get_info).collect();
        if adapters.iter().any(|a| a.device_type != DeviceType::Cpu) {
            chosen = Some(adapters);
            break;
        }
        if software_only.is_none() && !adapters.is_empty() {
            software_only = Some(adapters);
        }
    }
    let rank = |t: DeviceType| match t {
        DeviceType::DiscreteGpu => 0,
        DeviceType::IntegratedGpu => 1,
        DeviceType::VirtualGpu => 2,
        DeviceType::Other => 3,
        DeviceType::Cpu => 4,
    };
    let Some(best) = chosen.or(software_only).and_then(|a| a.into_iter().min_by_key(|a| rank(a.device_type))) else {
        return "no wgpu adapter found".to_owned();
    };
    let kind = if best.device_type == DeviceType::Cpu {
        "a software renderer on the CPU, not a GPU".to_owned()
    } else {
        format!("{:?}", best.device_type)
    };
    format!("{} ({:?}; {kind}; driver {} {})", best.name, best.backend, best.driver, best.driver_info)
}

#[cfg(not(feature = "wgpu"))]
fn describe_adapter(_vulkan_only: bool) -> String {
    "wgpu is not compiled into this build".to_owned()
}

/// Runs a future that wgpu resolves without waiting on anything else
/// (adapter enumeration on native platforms) to its end.
#[cfg(feature = "wgpu")]
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
}

#[cfg(not(all(feature = "cuda", feature = "wgpu", feature = "vulkan")))]
fn not_compiled(name: &str) -> RlError {
    RlError::Device(format!("device `{name}` is not compiled into this build (rebuild with `--features {name}`)"))
}

/// Makes a GPU device and sums a small tensor on it, so that a machine
/// without the driver or the GPU gives one error here (the backends panic
/// on a worker thread where they cannot start) rather than a panic at the
/// first update. The panic hook is silenced for the probe and put back
/// (process-wide: a panic on another thread in that instant would lose its
/// message, so make devices before starting threads of your own).
#[cfg(any(feature = "cuda", feature = "wgpu"))]
fn probe(
    name: &str,
    make: impl FnOnce() -> burn::tensor::Device + std::panic::UnwindSafe,
) -> Result<burn::tensor::Device, RlError> {
    use std::sync::{Arc, Mutex};
    let first: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let seen = Arc::clone(&first);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        if let Ok(mut slot) = seen.lock() {
            slot.get_or_insert(text);
        }
    }));
    let result = std::panic::catch_unwind(|| {
        let device = make();
        let probe = burn::tensor::Tensor::<1>::from_floats([1.0, 2.0], &device);
        (probe.sum().into_scalar::<f32>(), device)
    });
    std::panic::set_hook(previous);
    match result {
        Ok((3.0, device)) => Ok(device),
        Ok((sum, _)) => Err(RlError::Device(format!("device `{name}` summed 1 + 2 to {sum}"))),
        Err(_) => {
            let why = first.lock().ok().and_then(|s| s.clone()).unwrap_or_default();
            // The backends' messages run on (cudarc lists every library
            // name it tried): the first sentence says it.
            let why = why.split(" - ").next().unwrap_or_default().trim().to_owned();
            Err(RlError::Device(format!("device `{name}` could not start: {why}")))
        }
    }
}

#[cfg(feature = "cuda")]
fn cuda_device() -> Result<burn::tensor::Device, RlError> {
    probe("cuda", || burn::tensor::Device::cuda(0usize))
}

#[cfg(not(feature = "cuda"))]
fn cuda_device() -> Result<burn::tensor::Device, RlError> {
    Err(not_compiled("cuda"))
}

#[cfg(feature = "wgpu")]
fn wgpu_device() -> Result<burn::tensor::Device, RlError> {
    probe("wgpu", || burn::tensor::Device::wgpu(Default::default()))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_device() -> Result<burn::tensor::Device, RlError> {
    Err(not_compiled("wgpu"))
}

#[cfg(feature = "vulkan")]
fn vulkan_device() -> Result<burn::tensor::Device, RlError> {
    probe("vulkan", || burn::tensor::Device::vulkan(Default::default()))
}

#[cfg(not(feature = "vulkan"))]
fn vulkan_device() -> Result<burn::tensor::Device, RlError> {
    Err(not_compiled("vulkan"))
}
