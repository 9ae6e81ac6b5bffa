//! Keeps a mapped trace file that is truncated on disk from killing the process.
//!
//! `go test -trace=trace.out` run again, like `curl -o`, truncates the file it writes in
//! place (the same inode), and a read of a mapping past its file's new end raises SIGBUS,
//! whose default action ends the process. Each mapping is watched here: a handler for
//! SIGBUS that finds the faulting address in a watched mapping maps zeros over the rest of
//! it and returns, so the read goes on over zeros (which no reader takes for trace data:
//! it stops with an error naming the offset) and the mapping says its file changed
//! (`Watch::changed`). Any other SIGBUS goes to the handler that was there before (Rust's
//! own, for stack overflows) or kills the process as it would have.
//!
//! The handler uses atomics and `mmap` only; the watched mappings are a fixed table, so
//! that it takes no lock and allocates nothing.

use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};

/// Mappings watched at once at most; one more is mapped unwatched (as all were before).
const WATCHED: usize = 64;

/// A watched mapping's addresses, `start..start + len`: a free slot has `start` 0, and one
/// being claimed or freed has `len` 0, which the handler skips.
struct Entry {
    start: AtomicUsize,
    len: AtomicUsize,
    changed: AtomicBool,
}

static TABLE: [Entry; WATCHED] = [const {
    Entry {
        start: AtomicUsize::new(0),
        len: AtomicUsize::new(0),
        changed: AtomicBool::new(false),
    }
}; WATCHED];

/// The page size, for the handler.
static PAGE_BYTES: AtomicUsize = AtomicUsize::new(4096);

/// The SIGBUS action before ours (leaked once, read by the handler).
static PREVIOUS: AtomicPtr<libc::sigaction> = AtomicPtr::new(std::ptr::null_mut());

static INSTALL: Once = Once::new();

/// A mapping being watched; stops watching it when dropped (before it is unmapped).
pub(crate) struct Watch {
    slot: usize,
}

impl Watch {
    /// Watches the mapping `start..start + len`, if a slot is free (and the handler could
    /// be installed).
    pub(crate) fn new(start: *const u8, len: usize) -> Option<Watch> {
        if len == 0 || !install() {
            return None;
        }
        let start = start as usize;
        for (slot, e) in TABLE.iter().enumerate() {
            if e.start
                .compare_exchange(0, start, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                e.changed.store(false, Ordering::Relaxed);
                e.len.store(len, Ordering::Release);
                return Some(Watch { slot });
            }
        }
        None
    }

    /// Whether a read of the mapping found its file cut short (it reads zeros from there).
    pub(crate) fn changed(&self) -> bool {
        TABLE[self.slot].changed.load(Ordering::Relaxed)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let e = &TABLE[self.slot];
        e.len.store(0, Ordering::Release);
        e.start.store(0, Ordering::Release);
    }
}

/// Installs the handler once; whether it is installed.
fn install() -> bool {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    INSTALL.call_once(|| {
        // SAFETY: sysconf only reads its argument.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if page > 0 {
            PAGE_BYTES.store(page as usize, Ordering::Relaxed);
        }
        // SAFETY: both structs are zeroed then filled as sigaction(2) documents; the old
        // action is written into `old`, which is leaked so that the handler may read it
        // for as long as the process runs.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            let old = Box::into_raw(Box::new(std::mem::zeroed::<libc::sigaction>()));
            if libc::sigaction(libc::SIGBUS, &action, old) == 0 {
                PREVIOUS.store(old, Ordering::Release);
                INSTALLED.store(true, Ordering::Release);
            } else {
                drop(Box::from_raw(old));
            }
        }
    });
    INSTALLED.load(Ordering::Acquire)
}

/// The SIGBUS handler (see the module's comment).
extern "C" fn on_sigbus(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid siginfo for a handler installed with SA_SIGINFO.
    let addr = unsafe { (*info).si_addr() } as usize;
    for e in &TABLE {
        let len = e.len.load(Ordering::Acquire);
        let start = e.start.load(Ordering::Acquire);
        if len == 0 || addr < start || addr - start >= len {
            continue;
        }
        let page = PAGE_BYTES.load(Ordering::Relaxed);
        let from = addr & !(page - 1);
        let end = (start + len).div_ceil(page) * page;
        // SAFETY: the range lies within a mapping this process made and still holds
        // (a watch ends before its mapping is unmapped); MAP_FIXED replaces those pages,
        // read-only, with zeros. mmap is a plain system call, safe in a signal handler.
        let zeros = unsafe {
            libc::mmap(
                from as *mut libc::c_void,
                end - from,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if zeros != libc::MAP_FAILED {
            e.changed.store(true, Ordering::Relaxed);
            return;
        }
        break;
    }
    // Not a trace's mapping (or it could not be mended): as without this handler.
    let previous = PREVIOUS.load(Ordering::Acquire);
    // SAFETY: `previous` was written by sigaction(2) and is never freed.
    let handler = if previous.is_null() {
        libc::SIG_DFL
    } else {
        unsafe { (*previous).sa_sigaction }
    };
    if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
        // Back to the default action: the fault happens again when this returns, and ends
        // the process as it would have.
        // SAFETY: a zeroed sigaction with SIG_DFL restores the default action.
        unsafe {
            let mut default: libc::sigaction = std::mem::zeroed();
            default.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(libc::SIGBUS, &default, std::ptr::null_mut());
        }
        return;
    }
    // SAFETY: the previous handler was installed for SIGBUS with these arguments (with
    // SA_SIGINFO) or with the signal alone, which it reads first either way.
    unsafe {
        if (*previous).sa_flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                std::mem::transmute(handler);
            f(signal, info, context);
        } else {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(handler);
            f(signal);
        }
    }
}
