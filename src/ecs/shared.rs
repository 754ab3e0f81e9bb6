//! The host as the runtime and every script binding share it: behind a
//! lock, since systems of different scripts may run on worker threads at
//! the same time (SCRIPT_API §5), and with the turn order that keeps what
//! they do in registration order.

use std::cell::{Ref, RefCell, RefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::{Condvar, Mutex, ReentrantMutex, ReentrantMutexGuard};

use super::host::{HostState, ScriptId};

/// The host shared between the runtime and the language backends of one
/// project.
pub type SharedHost = Arc<HostCell>;

/// A [`HostState`] for the runtime's thread and, while systems run
/// together, the worker threads running them.
///
/// On the thread that made it (the runtime's), outside a group, a borrow is
/// a plain `RefCell` borrow: that is every `ecs` call of a run on one
/// thread, and it must cost no more than it did before there were
/// workers. While a group runs, every thread takes a re-entrant lock
/// first, so one thread at a time reaches the `RefCell`; on one thread it
/// still behaves as the `RefCell` alone would (borrows nest, and a mutable
/// borrow while another is alive is refused rather than deadlocking). Any
/// other thread, at any other time, is refused with a panic.
pub struct HostCell {
    state: ReentrantMutex<RefCell<HostState>>,
    /// The thread that made the cell: the runtime's.
    owner: std::thread::ThreadId,
    /// Whether a group is running: most `ecs.spawn` calls happen outside
    /// one and need not take the turns' lock.
    grouped: AtomicBool,
    turns: Mutex<Turns>,
    turn_taken: Condvar,
}

/// The scripts whose systems run together now, in registration order, and
/// which of them are done.
#[derive(Default)]
struct Turns {
    members: Vec<(ScriptId, bool)>,
}

/// The host borrowed to read.
pub struct HostRef<'a> {
    // Declared first: dropped before the lock it was taken under.
    value: Ref<'a, HostState>,
    _lock: Option<ReentrantMutexGuard<'a, RefCell<HostState>>>,
}

/// The host borrowed to change.
pub struct HostMut<'a> {
    value: RefMut<'a, HostState>,
    _lock: Option<ReentrantMutexGuard<'a, RefCell<HostState>>>,
}

/// The calling thread's id, kept in a thread-local so that asking costs
/// no reference count.
fn this_thread() -> std::thread::ThreadId {
    thread_local! {
        static ID: std::thread::ThreadId = std::thread::current().id();
    }
    ID.with(|id| *id)
}

/// The host is already borrowed on this thread in a way that excludes the
/// borrow asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the host is already borrowed")]
pub struct Busy;

impl std::ops::Deref for HostRef<'_> {
    type Target = HostState;
    fn deref(&self) -> &HostState {
        &self.value
    }
}

impl std::ops::Deref for HostMut<'_> {
    type Target = HostState;
    fn deref(&self) -> &HostState {
        &self.value
    }
}

impl std::ops::DerefMut for HostMut<'_> {
    fn deref_mut(&mut self) -> &mut HostState {
        &mut self.value
    }
}

impl HostCell {
    /// Wraps a host for sharing.
    pub fn new(state: HostState) -> SharedHost {
        Arc::new(HostCell {
            state: ReentrantMutex::new(RefCell::new(state)),
            owner: this_thread(),
            grouped: AtomicBool::new(false),
            turns: Mutex::new(Turns::default()),
            turn_taken: Condvar::new(),
        })
    }

    /// The cell, and the lock it is reached under when it takes one.
    fn lock(
        &self,
    ) -> (
        Option<ReentrantMutexGuard<'_, RefCell<HostState>>>,
        &RefCell<HostState>,
    ) {
        let owner = this_thread() == self.owner;
        if owner && !self.grouped.load(Ordering::Acquire) {
            // SAFETY: no other thread reaches the cell now: workers only
            // while a group runs, which only this thread starts and which
            // has ended (`end_turns` waited for the lock), and any other
            // thread is refused below unless a group runs.
            return (None, unsafe { &*self.state.data_ptr() });
        }
        let lock = self.state.lock();
        // Checked under the lock, which `end_turns` also takes to end a
        // group: a thread that passes holds the lock until it is done.
        assert!(
            owner || self.grouped.load(Ordering::Relaxed),
            "the ECS host is used from a thread that neither runs the runtime nor a system of a group"
        );
        let cell: *const RefCell<HostState> = &*lock;
        // SAFETY: the cell lives inside `self`, so the reference is valid for
        // `self`'s borrow; every borrow made through it is kept together
        // with the guard and dropped before it (field order in
        // `HostRef`/`HostMut`), so no other thread reaches the cell while
        // it is borrowed.
        (Some(lock), unsafe { &*cell })
    }

    /// Borrows the host to read; panics if this thread has it borrowed to
    /// change (as `RefCell::borrow` does).
    pub fn borrow(&self) -> HostRef<'_> {
        let (lock, cell) = self.lock();
        HostRef {
            value: cell.borrow(),
            _lock: lock,
        }
    }

    /// Borrows the host to change; panics if this thread has it borrowed.
    pub fn borrow_mut(&self) -> HostMut<'_> {
        let (lock, cell) = self.lock();
        HostMut {
            value: cell.borrow_mut(),
            _lock: lock,
        }
    }

    /// Borrows the host to read, unless this thread has it borrowed to
    /// change.
    pub fn try_borrow(&self) -> Result<HostRef<'_>, Busy> {
        let (lock, cell) = self.lock();
        Ok(HostRef {
            value: cell.try_borrow().map_err(|_| Busy)?,
            _lock: lock,
        })
    }

    /// Borrows the host to change, unless this thread has it borrowed.
    pub fn try_borrow_mut(&self) -> Result<HostMut<'_>, Busy> {
        let (lock, cell) = self.lock();
        Ok(HostMut {
            value: cell.try_borrow_mut().map_err(|_| Busy)?,
            _lock: lock,
        })
    }

    /// Systems of these scripts (in registration order) run together from
    /// now until [`HostCell::end_turns`].
    ///
    /// Called on the runtime's thread with the host not borrowed: a borrow
    /// made without the lock must not outlive the switch to locking.
    pub fn begin_turns(&self, scripts: &[ScriptId]) {
        assert!(
            self.state
                .try_lock()
                .is_some_and(|cell| cell.try_borrow_mut().is_ok()),
            "a group of systems started with the host borrowed"
        );
        self.turns.lock().members = scripts.iter().map(|&s| (s, false)).collect();
        self.grouped.store(true, Ordering::SeqCst);
    }

    /// `script`'s system of the running group is done: later ones may now
    /// take their turn.
    pub fn finish_turn(&self, script: ScriptId) {
        let mut turns = self.turns.lock();
        if let Some(member) = turns.members.iter_mut().find(|(s, _)| *s == script) {
            member.1 = true;
        }
        self.turn_taken.notify_all();
    }

    /// The group is over.
    pub fn end_turns(&self) {
        {
            // Under the lock: a thread that still holds it finishes first.
            let _lock = self.state.lock();
            self.grouped.store(false, Ordering::SeqCst);
        }
        self.turns.lock().members.clear();
        self.turn_taken.notify_all();
    }

    /// Before something whose result depends on what earlier systems did
    /// (an entity id, a coroutine id): waits until every system registered
    /// before `script`'s in the running group is done, so the result is
    /// the one a run on one thread gives. Returns at once outside a group.
    /// Never called with the host borrowed: the systems waited for need
    /// it.
    pub fn wait_turn(&self, script: ScriptId) {
        if !self.grouped.load(Ordering::SeqCst) {
            return;
        }
        let mut turns = self.turns.lock();
        loop {
            let Some(at) = turns.members.iter().position(|(s, _)| *s == script) else {
                return;
            };
            if turns.members[..at].iter().all(|(_, done)| *done) {
                return;
            }
            self.turn_taken.wait(&mut turns);
        }
    }
}
