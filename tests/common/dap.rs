//! A Debug Adapter Protocol client for the tests: raw bytes out, messages
//! in, over `ecscope dap`'s standard input and output or over TCP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_ecscope");

/// How long any one answer may take on a slow, busy machine.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A message with its header.
pub fn framed(body: &str) -> Vec<u8> {
    format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

/// Reads framed messages on a thread into a channel.
fn reader(input: impl Read + Send + 'static) -> Receiver<Value> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut input = BufReader::new(input);
        loop {
            let mut length = None;
            loop {
                let mut line = String::new();
                if input.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim();
                if line.is_empty() {
                    break;
                }
                if let Some(n) = line.strip_prefix("Content-Length:") {
                    length = n.trim().parse::<usize>().ok();
                }
            }
            let mut body = vec![0; length.expect("a Content-Length header")];
            if input.read_exact(&mut body).is_err() {
                return;
            }
            if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                return;
            }
        }
    });
    rx
}

/// A client of the adapter: raw bytes out, messages in.
pub struct Client {
    out: Box<dyn Write>,
    pub messages: Receiver<Value>,
    seq: i64,
    /// Messages read while waiting for another.
    pub seen: Vec<Value>,
    child: Option<Child>,
}

impl Client {
    pub fn stdio() -> Client {
        let mut child = Command::new(BIN)
            .arg("dap")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin: ChildStdin = child.stdin.take().unwrap();
        let messages = reader(child.stdout.take().unwrap());
        Client {
            out: Box::new(stdin),
            messages,
            seq: 0,
            seen: Vec::new(),
            child: Some(child),
        }
    }

    pub fn tcp(address: &str) -> Client {
        let deadline = Instant::now() + PATIENCE;
        let stream = loop {
            match TcpStream::connect(address) {
                Ok(stream) => break stream,
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Err(e) => panic!("cannot connect to {address}: {e}"),
            }
        };
        Client {
            out: Box::new(stream.try_clone().unwrap()),
            messages: reader(stream),
            seq: 0,
            seen: Vec::new(),
            child: None,
        }
    }

    pub fn raw(&mut self, bytes: &[u8]) {
        self.out.write_all(bytes).unwrap();
        self.out.flush().unwrap();
    }

    pub fn send(&mut self, command: &str, arguments: Value) -> i64 {
        self.seq += 1;
        let message =
            json!({"seq": self.seq, "type": "request", "command": command, "arguments": arguments});
        self.raw(&framed(&message.to_string()));
        self.seq
    }

    /// The first message (seen before or next) that `pick` accepts.
    pub fn wait(&mut self, what: &str, pick: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.seen.iter().position(&pick) {
            return self.seen.remove(i);
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(m) if pick(&m) => return m,
                Ok(m) => self.seen.push(m),
                Err(_) => panic!("no {what}; seen: {:#?}", self.seen),
            }
        }
    }

    pub fn response(&mut self, seq: i64) -> Value {
        self.wait(&format!("response to {seq}"), |m| {
            m["type"] == "response" && m["request_seq"] == seq
        })
    }

    pub fn request(&mut self, command: &str, arguments: Value) -> Value {
        let seq = self.send(command, arguments);
        self.response(seq)
    }

    pub fn ok(&mut self, command: &str, arguments: Value) -> Value {
        let answer = self.request(command, arguments);
        assert_eq!(answer["success"], true, "{command}: {answer}");
        answer
    }

    pub fn event(&mut self, name: &str) -> Value {
        self.wait(&format!("{name} event"), |m| {
            m["type"] == "event" && m["event"] == name
        })
    }

    pub fn initialize(&mut self) {
        self.ok("initialize", json!({"adapterID": "ecscope"}));
        self.event("initialized");
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
