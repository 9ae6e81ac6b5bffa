//! How the process's allocator is set up for model builds: large blocks from the heap, and
//! freed memory kept for the next build rather than given back at once; and giving it back
//! when nothing is about to be built.

/// Largest block glibc takes from its heaps rather than mapping on its own (its default:
/// 128 KiB, raised as mapped blocks are freed, to at most 32 MiB).
pub const HEAP_BLOCK_MAX_BYTES: usize = 64 << 20;

/// Free memory at the top of a heap that glibc keeps before giving it back (its default:
/// 128 KiB, or twice the block limit above as that is raised). The viewer's kept windows
/// take up to 192 MiB (`KEPT_BYTES` there); up to this much freed by dropped ones is
/// what the next build reuses.
pub const HEAP_KEPT_FREE_BYTES: usize = 256 << 20;

/// Sets the allocator up for builds; call once, before a viewer's threads start (the
/// headless commands, which read a trace once, keep glibc's defaults: on the 100,000-
/// goroutine `fanout` trace these limits kept 21 MB more of `goscope findings`' freed
/// memory, for no speed on the 1.1 GB trace; BENCHMARKS.md, session 21). Whether it did
/// (false where the allocator is not glibc's).
///
/// A build grows lane vectors to megabytes and drops a window's model when the view moves
/// on. With glibc's defaults each block over its mapping limit was mapped, and given back
/// when freed, so every build faulted its memory in afresh: 164 thousand page faults in
/// the overview of the 859 MB benchmark trace and seven windows of a tenth of its
/// generation 4, against 71 thousand with these limits, and a window 0.36 → 0.34 s
/// (BENCHMARKS.md, session 16). The viewer still gives free memory back when a load
/// settles (`give_back_freed_memory`).
pub fn tune_allocator() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets the allocator's parameters (it takes its own lock);
        // it reads no memory of ours. A refused value leaves the parameter as it was.
        unsafe {
            let kept = libc::mallopt(libc::M_TRIM_THRESHOLD, HEAP_KEPT_FREE_BYTES as i32);
            let blocks = libc::mallopt(libc::M_MMAP_THRESHOLD, HEAP_BLOCK_MAX_BYTES as i32);
            kept == 1 && blocks == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    false
}

/// Returns the memory freed inside the allocator's heaps to the system. glibc keeps what a
/// dropped model held (a preview is some 60 MB, a whole trace hundreds) and what a finished
/// background computation used for reuse, so the window would go on holding it. Takes a
/// few milliseconds; the viewer calls it once a load settles and when a background job is
/// done.
pub fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it takes no pointers
    // and may be called from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    /// Minor page faults of the calling thread so far.
    fn faults() -> i64 {
        // SAFETY: getrusage writes only the struct it is given, which is ours.
        unsafe {
            let mut u: libc::rusage = std::mem::zeroed();
            assert_eq!(libc::getrusage(libc::RUSAGE_THREAD, &mut u), 0);
            u.ru_minflt
        }
    }

    /// Page faults while a 48 MiB block is made and filled (and then freed).
    fn faults_of_a_block() -> i64 {
        let before = faults();
        let block = vec![1u8; 48 << 20];
        std::hint::black_box(&block);
        drop(block);
        faults() - before
    }

    /// After the set-up, a block as large as a big lane's, freed and made again, reuses
    /// the memory: the second time takes a fraction of the page faults (12,288 pages if
    /// mapped afresh, as glibc's defaults do for blocks over 32 MiB). Measured on a thread
    /// of its own, whose allocator arena other tests running at once do not use.
    #[test]
    fn a_freed_block_is_reused_without_faulting_it_in_again() {
        assert!(tune_allocator(), "mallopt refused the limits");
        let (first, again) = std::thread::spawn(|| (faults_of_a_block(), faults_of_a_block()))
            .join()
            .expect("the measuring thread");
        assert!(first > 10_000, "the first block took {first} faults");
        assert!(
            again * 4 < first,
            "the block made again took {again} faults, the first {first}"
        );
    }
}
