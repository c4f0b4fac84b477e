//! Process-wide settings, made first thing in `main`.
//!
//! glibc's allocator, tuned for training on the CPU: a PPO update
//! allocates and frees tensors of tens of megabytes many times a second (a
//! minibatch of 512 occupancy grids is 7 MB a channel). By default glibc
//! maps each such block fresh from the kernel and gives it back on free, or
//! trims the heap top after it, so every use page-faults and zeroes the
//! pages again.
//!
//! A closed pipe: Rust ignores SIGPIPE, so a write to a reader that has
//! gone (`tactile envs --json | head -c 300`) fails, and `println!` panics
//! on it. The default action ends the process quietly instead, as other
//! command-line tools end.

/// Keeps blocks under 32 MiB on the heap and the freed heap (up to
/// 256 MiB) in the process, so that buffers are reused, not faulted in
/// again. Settings the user made through `MALLOC_MMAP_THRESHOLD_` or
/// `MALLOC_TRIM_THRESHOLD_` are left alone. Call it first thing in `main`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn keep_freed_memory() {
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_some() || std::env::var_os("MALLOC_TRIM_THRESHOLD_").is_some() {
        return;
    }
    // SAFETY: `mallopt` only sets two of glibc's tuning parameters (both
    // documented as safe to change at any time); it is called from `main`
    // before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
    }
}

/// Other platforms' allocators are left as they are.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn keep_freed_memory() {}

/// Restores SIGPIPE's default action: the process ends quietly when the
/// reader of its output goes away.
#[cfg(unix)]
#[allow(unsafe_code)]
pub fn quiet_on_closed_pipe() {
    // SAFETY: `signal` sets the disposition of one signal to its default;
    // it is called from `main` before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Elsewhere there is no SIGPIPE.
#[cfg(not(unix))]
pub fn quiet_on_closed_pipe() {}
