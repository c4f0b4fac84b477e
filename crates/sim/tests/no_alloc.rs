//! Reading a taxel array allocates nothing once its frame exists.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use tactile_sim::Assets;
use tactile_sim::taxel_slide::TaxelSlide;

struct Counting;

thread_local! {
    /// Allocations made by this thread: the test harness's own threads
    /// (reporting the other test's result while one runs) do not count.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

/// Allocations this thread has made so far.
fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: forwards every call to the system allocator unchanged.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // A const-initialised thread local needs no allocation to reach.
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
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

/// The tests of this file take turns.
static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn the_taxel_read_path_does_not_allocate() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let mut slide = TaxelSlide::new(&Assets::builtin()).unwrap();
    slide.reset(0);
    // Warm up through the contact phases (descend, press, slide, push).
    let mut during_reads = 0;
    for k in 0..210 {
        // Physics may allocate (rapier's own buffers); the read must not.
        slide.step(false);
        let before = allocations();
        slide.read_taxels();
        let after = allocations();
        if k > 20 {
            during_reads += after - before;
        }
    }
    assert_eq!(during_reads, 0, "the taxel reads allocated {during_reads} times");
    assert!(slide.frame().in_contact);
}

#[test]
fn the_joint_space_calls_and_fingertip_reads_do_not_allocate() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let assets = Assets::builtin();
    let desc = tactile_sim::SceneDesc::from_toml(&assets.read_text("scenes/hand-hold.toml").unwrap(), "hand").unwrap();
    let mut scene = tactile_sim::Scene::new(&desc, &assets).unwrap();
    let hand = scene.robot("hand").unwrap();
    let tip = scene.sensor("thumb_tip").unwrap();
    let mut frame = scene.new_frame(tip);
    let (mut q, mut v, mut tau, mut targets) = (vec![0.0; 16], vec![0.0; 16], vec![0.0; 16], vec![0.0; 16]);
    scene.joint_targets(hand, &mut targets).unwrap();
    let mut during = 0;
    for k in 0..40 {
        // Physics may allocate (rapier's own buffers); our calls must not.
        scene.step();
        let before = allocations();
        scene.read(tip, &mut frame);
        scene.joint_positions(hand, &mut q).unwrap();
        scene.joint_velocities(hand, &mut v).unwrap();
        scene.joint_torques(hand, &mut tau).unwrap();
        for t in targets.iter_mut() {
            *t += if k % 2 == 0 { 0.01 } else { -0.01 };
        }
        scene.set_joint_targets(hand, &targets).unwrap();
        let after = allocations();
        if k > 5 {
            during += after - before;
        }
    }
    assert_eq!(during, 0, "the joint-space calls allocated {during} times");
    assert!(tau.iter().any(|t| *t != 0.0), "the drives worked");
}
