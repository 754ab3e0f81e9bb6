//! `--serve-profile`: streams a runtime's frames with puffin_http, so
//! `puffin_viewer` (or ECScope's File › Connect) can watch a headless run.
//! puffin_http installs its sink through plain functions, so the runtime
//! being served is kept in a process-wide slot (one served runtime at a
//! time).

use std::sync::Mutex;

use puffin::{FrameSink, FrameSinkId};

use super::profiler::Collector;

static SERVED: Mutex<Option<Collector>> = Mutex::new(None);

fn install(sink: FrameSink) -> FrameSinkId {
    let served = SERVED.lock().unwrap_or_else(|p| p.into_inner());
    let collector = served.as_ref().expect("set before the server starts");
    let mut collector = collector.lock().unwrap_or_else(|p| p.into_inner());
    let id = collector.add_sink(sink);
    // Viewers that connect need every scope's name, not only new ones.
    collector.emit_scope_snapshot();
    id
}

fn remove(id: FrameSinkId) {
    let served = SERVED.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(collector) = served.as_ref() {
        collector
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove_sink(id);
    }
}

/// Serves the frames of `collector` on `addr` until the server is dropped.
/// A viewer that disconnects is dropped by the server; frames are sent
/// only while one is connected.
pub fn serve(
    collector: Collector,
    addr: &str,
) -> Result<puffin_http::Server, super::profiler::ProfileError> {
    *SERVED.lock().unwrap_or_else(|p| p.into_inner()) = Some(collector);
    puffin_http::Server::new_custom(addr, install, remove).map_err(|e| {
        super::profiler::ProfileError::Listen {
            address: addr.to_string(),
            message: format!("{e:#}"),
        }
    })
}
