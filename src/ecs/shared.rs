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

/// A [`HostState`] that any thread may borrow, one thread at a time. The
/// lock is re-entrant and holds a `RefCell`, so on one thread it behaves
/// as the `RefCell` alone would: borrows nest, and a mutable borrow while
/// another borrow is alive is refused rather than deadlocking.
pub struct HostCell {
    state: ReentrantMutex<RefCell<HostState>>,
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
    _lock: ReentrantMutexGuard<'a, RefCell<HostState>>,
}

/// The host borrowed to change.
pub struct HostMut<'a> {
    value: RefMut<'a, HostState>,
    _lock: ReentrantMutexGuard<'a, RefCell<HostState>>,
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
            grouped: AtomicBool::new(false),
            turns: Mutex::new(Turns::default()),
            turn_taken: Condvar::new(),
        })
    }

    fn lock(
        &self,
    ) -> (
        ReentrantMutexGuard<'_, RefCell<HostState>>,
        &RefCell<HostState>,
    ) {
        let lock = self.state.lock();
        let cell: *const RefCell<HostState> = &*lock;
        // SAFETY: the cell lives inside `self`, so the reference is valid for
        // `self`'s borrow; every borrow made through it is kept together
        // with the guard and dropped before it (field order in
        // `HostRef`/`HostMut`), so no other thread reaches the cell while
        // it is borrowed.
        (lock, unsafe { &*cell })
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
    pub fn begin_turns(&self, scripts: &[ScriptId]) {
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
        self.grouped.store(false, Ordering::SeqCst);
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
