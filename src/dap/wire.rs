//! The Debug Adapter Protocol's framing: a `Content-Length` header, a
//! blank line, then that many bytes of JSON.

use std::io::{self, BufRead, Write};

use serde_json::Value;

/// A message larger than this is refused: nothing an editor sends comes
/// near it, and the length alone would make the adapter allocate it.
pub const MAX_MESSAGE: usize = 16 << 20;

/// What reading one message gave.
#[derive(Debug)]
pub enum Incoming {
    /// A JSON object.
    Message(Value),
    /// Something that is not a message, and why; reading goes on after it.
    Bad(String),
    /// The other side closed the stream (or it failed for good).
    Closed,
}

/// Reads one message. A header without a usable length is reported and
/// skipped up to the next `Content-Length`; a body that is not a JSON
/// object is reported.
pub fn read(input: &mut impl BufRead) -> Incoming {
    let mut length: Option<Result<usize, String>> = None;
    let mut line = Vec::new();
    loop {
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => return Incoming::Closed,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return Incoming::Closed,
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if length.is_some() {
                break;
            }
            // Blank lines between messages are tolerated.
            continue;
        }
        // After a bad message the next header may follow its body on the
        // same line.
        let Some(at) = text.find("Content-Length:") else {
            if length.is_none() {
                return Incoming::Bad(format!(
                    "expected a Content-Length header, got '{}'",
                    shorten(text)
                ));
            }
            // Other headers (Content-Type) are allowed and ignored.
            continue;
        };
        let value = text[at + "Content-Length:".len()..].trim();
        length = Some(match value.parse::<usize>() {
            Ok(n) if n > MAX_MESSAGE => Err(format!(
                "Content-Length {n} is over the {} MiB limit",
                MAX_MESSAGE >> 20
            )),
            Ok(n) => Ok(n),
            Err(_) => Err(format!(
                "Content-Length '{}' is not a length",
                shorten(value)
            )),
        });
    }
    let length = match length {
        Some(Ok(n)) => n,
        Some(Err(e)) => return Incoming::Bad(e),
        None => return Incoming::Closed,
    };
    let mut body = vec![0; length];
    if input.read_exact(&mut body).is_err() {
        return Incoming::Closed;
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(value) if value.is_object() => Incoming::Message(value),
        Ok(_) => Incoming::Bad("the message is JSON but not an object".into()),
        Err(e) => Incoming::Bad(format!("the message is not valid JSON: {e}")),
    }
}

/// Writes one message with its header.
pub fn write(out: &mut dyn Write, message: &Value) -> io::Result<()> {
    let body = serde_json::to_vec(message)?;
    write!(out, "Content-Length: {}\r\n\r\n", body.len())?;
    out.write_all(&body)?;
    out.flush()
}

/// At most 80 characters of a header, for a message about it.
fn shorten(text: &str) -> String {
    text.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn framed(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    #[test]
    fn reads_messages_and_reports_bad_ones_without_losing_the_next() {
        let text = format!(
            "{}Content-Length: abc\r\n\r\n{{}}{}{}",
            framed("{\"seq\":1}"),
            framed("[1,2]"),
            framed("{\"seq\":2")
        ) + &framed("{\"seq\":3}");
        let mut input = Cursor::new(text.into_bytes());
        assert!(matches!(read(&mut input), Incoming::Message(v) if v["seq"] == 1));
        assert!(matches!(read(&mut input), Incoming::Bad(e) if e.contains("'abc'")));
        assert!(matches!(read(&mut input), Incoming::Bad(e) if e.contains("not an object")));
        assert!(matches!(read(&mut input), Incoming::Bad(e) if e.contains("not valid JSON")));
        assert!(matches!(read(&mut input), Incoming::Message(v) if v["seq"] == 3));
        assert!(matches!(read(&mut input), Incoming::Closed));
    }

    #[test]
    fn refuses_a_huge_length_and_a_missing_header() {
        let mut input = Cursor::new(b"Content-Length: 999999999999\r\n\r\n".to_vec());
        assert!(matches!(read(&mut input), Incoming::Bad(e) if e.contains("limit")));
        let mut input = Cursor::new(b"hello\r\n".to_vec());
        assert!(matches!(read(&mut input), Incoming::Bad(e) if e.contains("expected")));
    }

    #[test]
    fn writes_what_it_reads() {
        let mut out = Vec::new();
        write(&mut out, &serde_json::json!({"seq": 7, "text": "é"})).unwrap();
        let mut input = Cursor::new(out);
        assert!(matches!(read(&mut input), Incoming::Message(v) if v["text"] == "é"));
    }
}
