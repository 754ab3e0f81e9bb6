//! [`Session`]: a [`Runtime`] on its own thread, paced to real time, for
//! interactive front ends. The front end sends [`SessionCommand`]s and reads
//! the latest [`Snapshot`]; it never touches the runtime or the script VMs,
//! and a slow script never freezes it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::view::{EntityDetail, WorldView};
use super::{Runtime, RuntimeCommand, RuntimeEvent};
use crate::project::Project;

/// A request to the session.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionCommand {
    /// Run frames paced to `fixed_dt / speed`.
    Play,
    /// Stop running frames.
    Pause,
    /// Pause, then run exactly this many frames.
    Step(u32),
    /// Simulation speed factor (1 = real time).
    SetSpeed(f64),
    /// Which entity the snapshot details (the inspector's selection).
    Inspect(Option<u64>),
    /// A change to the world or the project, applied between frames.
    Runtime(RuntimeCommand),
}

/// What the session reports besides snapshots, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// From the runtime's event stream.
    Runtime(RuntimeEvent),
    /// A command that could not be applied, and why.
    CommandFailed(String),
    /// The runtime thread stopped after an internal error.
    Crashed(String),
}

/// The state of the session at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Increases with every snapshot.
    pub seq: u64,
    /// The world and scripts.
    pub view: WorldView,
    /// The inspected entity, if it exists.
    pub detail: Option<EntityDetail>,
    /// Whether frames are running.
    pub playing: bool,
    /// The speed factor.
    pub speed: f64,
}

#[derive(Default)]
struct Shared {
    latest: Option<Arc<Snapshot>>,
}

enum Message {
    Command(SessionCommand),
    Shutdown,
}

/// A project running on its own thread.
pub struct Session {
    project: Project,
    tx: Sender<Message>,
    shared: Arc<Mutex<Shared>>,
    events: Receiver<SessionEvent>,
    thread: Option<JoinHandle<()>>,
}

/// Called from the session thread whenever there is something new to show.
pub type Notify = Arc<dyn Fn() + Send + Sync>;

/// Most frames run to catch up after a slow frame before giving up on real
/// time (so one slow frame does not cascade).
const MAX_CATCH_UP: u32 = 4;

/// Snapshots are built at most this often while playing.
const PUBLISH_INTERVAL: Duration = Duration::from_millis(15);

impl Session {
    /// Starts the project on a new thread, playing or paused.
    pub fn start(project: Project, playing: bool, notify: Notify) -> Session {
        let (tx, rx) = channel();
        let (events_tx, events) = channel();
        let shared: Arc<Mutex<Shared>> = Arc::default();
        let thread = {
            let project = project.clone();
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("ecscope-runtime".into())
                .spawn(move || {
                    let crash_tx = events_tx.clone();
                    let crash_notify = Arc::clone(&notify);
                    let result = catch_unwind(AssertUnwindSafe(|| {
                        let mut worker = Worker {
                            runtime: Runtime::open(project),
                            playing,
                            speed: 1.0,
                            inspect: None,
                            seq: 0,
                            shared,
                            events: events_tx,
                            notify,
                        };
                        worker.run(rx);
                    }));
                    if let Err(panic) = result {
                        let message = panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_else(|| "unknown error".into());
                        let _ = crash_tx.send(SessionEvent::Crashed(message));
                        crash_notify();
                    }
                })
                .ok()
        };
        Session {
            project,
            tx,
            shared,
            events,
            thread,
        }
    }

    /// The project this session runs.
    pub fn project(&self) -> &Project {
        &self.project
    }

    /// Sends a command; it is applied between frames.
    pub fn send(&self, command: SessionCommand) {
        let _ = self.tx.send(Message::Command(command));
    }

    /// The latest snapshot, once the first one is ready.
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.shared.lock().ok()?.latest.clone()
    }

    /// Events since the last call.
    pub fn drain_events(&self) -> Vec<SessionEvent> {
        self.events.try_iter().collect()
    }

    /// Waits until a snapshot satisfies `done` or `timeout` passes; returns
    /// the last snapshot seen. For tests and scripted front ends.
    pub fn wait_for(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&Snapshot) -> bool,
    ) -> Option<Arc<Snapshot>> {
        let deadline = Instant::now() + timeout;
        loop {
            let snapshot = self.snapshot();
            if let Some(s) = &snapshot
                && done(s)
            {
                return snapshot;
            }
            if Instant::now() >= deadline {
                return snapshot;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.tx.send(Message::Shutdown);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Worker {
    runtime: Runtime,
    playing: bool,
    speed: f64,
    inspect: Option<u64>,
    seq: u64,
    shared: Arc<Mutex<Shared>>,
    events: Sender<SessionEvent>,
    notify: Notify,
}

impl Worker {
    fn run(&mut self, rx: Receiver<Message>) {
        self.publish();
        let mut last_tick = Instant::now();
        let mut last_publish = Instant::now();
        let mut owed = 0.0f64;
        loop {
            let dt = self.runtime.project().manifest.world.fixed_dt;
            let wait = if self.playing {
                Duration::from_secs_f64(((dt - owed).max(0.0) / self.speed).min(0.1))
            } else {
                Duration::from_millis(250)
            };
            let mut dirty = false;
            match rx.recv_timeout(wait) {
                Ok(Message::Shutdown) | Err(RecvTimeoutError::Disconnected) => return,
                Ok(Message::Command(command)) => {
                    dirty |= self.handle(command);
                    while let Ok(message) = rx.try_recv() {
                        match message {
                            Message::Shutdown => return,
                            Message::Command(command) => dirty |= self.handle(command),
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            let now = Instant::now();
            if self.playing {
                owed += now.duration_since(last_tick).as_secs_f64() * self.speed;
                let mut steps = 0;
                while owed >= dt && steps < MAX_CATCH_UP {
                    self.runtime.step();
                    owed -= dt;
                    steps += 1;
                }
                if steps == MAX_CATCH_UP {
                    owed = owed.min(dt);
                }
                dirty |= steps > 0;
            } else {
                owed = 0.0;
            }
            last_tick = now;
            if dirty && (!self.playing || now.duration_since(last_publish) >= PUBLISH_INTERVAL) {
                self.publish();
                last_publish = now;
            }
        }
    }

    /// Applies a command; true when the world or the view changed.
    fn handle(&mut self, command: SessionCommand) -> bool {
        match command {
            SessionCommand::Play => self.playing = true,
            SessionCommand::Pause => self.playing = false,
            SessionCommand::Step(frames) => {
                self.playing = false;
                for _ in 0..frames {
                    self.runtime.step();
                }
            }
            SessionCommand::SetSpeed(speed) => {
                if speed.is_finite() && speed > 0.0 {
                    self.speed = speed.clamp(0.01, 100.0);
                }
            }
            SessionCommand::Inspect(id) => self.inspect = id,
            SessionCommand::Runtime(command) => {
                if let Err(message) = self.runtime.apply(command) {
                    let _ = self.events.send(SessionEvent::CommandFailed(message));
                }
            }
        }
        true
    }

    fn publish(&mut self) {
        self.seq += 1;
        let snapshot = Snapshot {
            seq: self.seq,
            view: self.runtime.view(),
            detail: self.inspect.and_then(|id| self.runtime.entity_detail(id)),
            playing: self.playing,
            speed: self.speed,
        };
        for event in self.runtime.drain_events() {
            let _ = self.events.send(SessionEvent::Runtime(event));
        }
        if let Ok(mut shared) = self.shared.lock() {
            shared.latest = Some(Arc::new(snapshot));
        }
        (self.notify)();
    }
}
