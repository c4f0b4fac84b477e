//! Reading a taxel array allocates nothing once its frame exists.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use tactile_sim::Assets;
use tactile_sim::taxel_slide::TaxelSlide;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn the_taxel_read_path_does_not_allocate() {
    let mut slide = TaxelSlide::new(&Assets::builtin()).unwrap();
    slide.reset(0);
    // Warm up through the contact phases (descend, press, slide, push).
    let mut during_reads = 0;
    for k in 0..210 {
        // Physics may allocate (rapier's own buffers); the read must not.
        slide.step(false);
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        slide.read_taxels();
        let after = ALLOCATIONS.load(Ordering::Relaxed);
        if k > 20 {
            during_reads += after - before;
        }
    }
    assert_eq!(during_reads, 0, "the taxel reads allocated {during_reads} times");
    assert!(slide.frame().in_contact);
}
