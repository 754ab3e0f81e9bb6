//! The Debug Adapter Protocol server (SCRIPT_API §6): editors (VS Code,
//! Neovim, JetBrains IDEs) debug a project's Lua and Python scripts in one
//! session, through the same session and debugger as the GUI.
//!
//! - [`serve_stdio`]: `ecscope dap`, launched by the editor; `launch`
//!   starts the project.
//! - [`Listener`]: `ecscope run DIR --dap ADDR` and the GUI's Debug ›
//!   Listen for an editor…; one client at a time attaches to a session
//!   that runs already.

pub mod adapter;
pub mod wire;

use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::json;

pub use adapter::{Adapter, Ended, Input};

use crate::runtime::session::SessionLink;

/// Reads the client's messages on a thread of their own into the
/// adapter's input, until the stream closes.
fn read_client(input: impl Read + Send + 'static, inputs: Sender<Input>) {
    let _ = std::thread::Builder::new()
        .name("ecscope-dap-read".into())
        .spawn(move || {
            let mut input = BufReader::new(input);
            loop {
                let incoming = wire::read(&mut input);
                let closed = matches!(incoming, wire::Incoming::Closed);
                if inputs.send(Input::Client(incoming)).is_err() || closed {
                    return;
                }
            }
        });
}

/// `ecscope dap`: one client on standard input and output. Anything else
/// the process writes to its standard output (a native library, a stray
/// print) would break the protocol, so standard output is moved to
/// standard error and the protocol keeps the original.
pub fn serve_stdio() -> std::io::Result<Ended> {
    let out = protocol_output()?;
    let (tx, rx) = channel();
    read_client(std::io::stdin(), tx.clone());
    let adapter = Adapter::standalone(out, tx);
    Ok(adapter.run(rx))
}

/// The process's standard output for the protocol alone.
fn protocol_output() -> std::io::Result<Box<dyn Write + Send>> {
    use std::os::fd::FromRawFd;
    // SAFETY: dup and dup2 on the process's own standard descriptors; the
    // duplicate is owned by the File made from it and by nothing else.
    let fd = unsafe { libc::dup(libc::STDOUT_FILENO) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: as above; fd 1 becomes a second handle on standard error.
    if unsafe { libc::dup2(libc::STDERR_FILENO, libc::STDOUT_FILENO) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor that nothing else owns.
    let file = unsafe { std::fs::File::from_raw_fd(fd) };
    Ok(Box::new(std::io::BufWriter::new(file)))
}

/// Says no to a client while another one is attached: its first request
/// gets an error response, then the connection closes.
fn refuse(stream: TcpStream) {
    let _ = std::thread::Builder::new()
        .name("ecscope-dap-refuse".into())
        .spawn(move || {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let Ok(reader) = stream.try_clone() else {
                return;
            };
            let mut reader = BufReader::new(reader);
            let (seq, command) = match wire::read(&mut reader) {
                wire::Incoming::Message(m) => (
                    m["seq"].as_i64().unwrap_or(0),
                    m["command"].as_str().unwrap_or_default().to_string(),
                ),
                _ => (0, String::new()),
            };
            let message = "another editor is attached: ECScope takes one debug client at a time";
            let mut out = stream;
            let _ = wire::write(
                &mut out,
                &json!({"seq": 1, "type": "response", "request_seq": seq, "success": false,
                        "command": command, "message": message,
                        "body": {"error": {"id": 2, "format": message, "showUser": true}}}),
            );
        });
}

/// Accepts debug clients on a TCP address, one at a time, each attached
/// to the session `connect` gives.
pub struct Listener {
    address: String,
    stop: Arc<AtomicBool>,
    attached: Arc<AtomicBool>,
    ended: Arc<Mutex<Option<Ended>>>,
    thread: Option<JoinHandle<()>>,
}

impl Listener {
    /// Listens on `address` (`127.0.0.1:4711`; port 0 picks a free one).
    /// `connect` gives a link to the session for each client; `None`
    /// refuses the client (no project is open).
    pub fn start(
        address: &str,
        connect: impl Fn() -> Option<SessionLink> + Send + 'static,
    ) -> std::io::Result<Listener> {
        let listener = TcpListener::bind(address)?;
        // A debug client evaluates code in the project's scripts (Python
        // unsandboxed): only this machine may connect.
        if !listener.local_addr()?.ip().is_loopback() {
            return Err(std::io::Error::other(format!(
                "{address} is not a loopback address: a debug client can run code in the project, so only 127.0.0.1 or ::1 may be listened on"
            )));
        }
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?.to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let attached = Arc::new(AtomicBool::new(false));
        let ended: Arc<Mutex<Option<Ended>>> = Arc::default();
        let thread = {
            let (stop, attached, ended) = (stop.clone(), attached.clone(), ended.clone());
            std::thread::Builder::new()
                .name("ecscope-dap-listen".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let stream = match listener.accept() {
                            Ok((stream, _)) => stream,
                            Err(_) => {
                                std::thread::sleep(Duration::from_millis(50));
                                continue;
                            }
                        };
                        let _ = stream.set_nonblocking(false);
                        let _ = stream.set_nodelay(true);
                        if attached.load(Ordering::Relaxed) {
                            refuse(stream);
                            continue;
                        }
                        let Some(link) = connect() else {
                            refuse(stream);
                            continue;
                        };
                        let (Ok(reader), Ok(writer)) = (stream.try_clone(), stream.try_clone())
                        else {
                            continue;
                        };
                        attached.store(true, Ordering::Relaxed);
                        let (attached, ended) = (attached.clone(), ended.clone());
                        let _ = std::thread::Builder::new()
                            .name("ecscope-dap".into())
                            .spawn(move || {
                                let (tx, rx) = channel();
                                read_client(reader, tx.clone());
                                let adapter = Adapter::attached(Box::new(writer), link, tx);
                                let how = adapter.run(rx);
                                let _ = stream.shutdown(std::net::Shutdown::Both);
                                if let Ok(mut slot) = ended.lock() {
                                    *slot = Some(how);
                                }
                                attached.store(false, Ordering::Relaxed);
                            });
                    }
                })?
        };
        Ok(Listener {
            address,
            stop,
            attached,
            ended,
            thread: Some(thread),
        })
    }

    /// The address clients connect to.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Whether a client is attached now.
    pub fn client_attached(&self) -> bool {
        self.attached.load(Ordering::Relaxed)
    }

    /// How the last client left, once one has (taken: reported once).
    pub fn take_ended(&self) -> Option<Ended> {
        self.ended.lock().ok()?.take()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
