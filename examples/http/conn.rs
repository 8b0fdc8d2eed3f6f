//! One client connection of `http.rs`: reads requests, answers them, closes.
//!
//! Pipelining is batching: every request already complete in the input buffer is parsed and
//! answered before the server reads again, and the answers pile up in one output buffer that
//! is written, with one `write_all`, only when the server is about to wait for the client. A
//! read that brings 16 pipelined requests therefore costs one read and one write. The input
//! buffer is consumed by moving a cursor (`start`), not by shifting bytes after each request,
//! and reads land in it directly.

use std::borrow::Cow;
use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

use may::net::TcpStream;

use crate::parse::{
    parse_chunk_line, parse_head, parse_trailers, Framing, Head, BAD_REQUEST, CONTENT_TOO_LARGE,
    HEADER_TOO_LARGE, MAX_BODY, REQUEST_TIMEOUT,
};
use crate::Timeouts;

/// The largest request head (request line and headers) accepted; larger gets 431. The same
/// bound applies to a chunk-size line and to the trailer section of a chunked body.
const MAX_HEAD: usize = 8 * 1024;
/// The least room one read is given.
const READ_CHUNK: usize = 4096;
/// How long and how much a closing connection keeps reading and discarding (see `close`).
const LINGER_TIME: Duration = Duration::from_secs(1);
const LINGER_BYTES: usize = 64 * 1024;

/// Why a connection stops serving requests.
#[derive(Clone, Copy, Debug)]
pub enum Stop {
    /// Answer with this status (e.g. "400 Bad Request"), then close.
    Reject(&'static str),
    /// Close without a word: the client left or asked to close, the connection stayed idle,
    /// or the socket failed.
    Close,
}

impl From<std::io::Error> for Stop {
    fn from(_: std::io::Error) -> Stop {
        Stop::Close
    }
}

/// One client connection and its buffers.
pub struct Connection {
    stream: TcpStream,
    timeouts: Timeouts,
    /// Received bytes. `input[start..end]` is not consumed yet: the rest of this request and
    /// pipelined ones; `input[end..]` is room for the next read (zeroed once, when it grew).
    input: Vec<u8>,
    start: usize,
    end: usize,
    /// Responses not written yet. They are written before each read, so the answers to
    /// pipelined requests go out in one write, and never later than the client waits for them.
    output: Vec<u8>,
    /// When the request being read must have arrived completely.
    deadline: Instant,
    /// When the last read returned: the clock is read once per read, not per request.
    read_at: Instant,
}

impl Connection {
    pub fn new(stream: TcpStream, timeouts: Timeouts) -> Connection {
        Connection {
            stream,
            timeouts,
            input: vec![0; READ_CHUNK],
            start: 0,
            end: 0,
            output: Vec::with_capacity(READ_CHUNK),
            deadline: Instant::now(),
            read_at: Instant::now(),
        }
    }

    /// Serves requests until the client leaves, asks to close, misbehaves or times out.
    pub fn serve(mut self) {
        if let Err(Stop::Reject(status)) = self.serve_requests() {
            self.queue_response(status, "", None);
        }
        self.close();
    }

    /// Serves requests until one of them ends the connection; `Err` says how.
    fn serve_requests(&mut self) -> Result<(), Stop> {
        // Each write may wait this long for room: a client that stops reading is dropped.
        self.stream.set_write_timeout(Some(self.timeouts.write))?;
        while self.serve_request()? {}
        Ok(())
    }

    /// The received bytes not consumed yet.
    fn pending(&self) -> &[u8] {
        &self.input[self.start..self.end]
    }

    /// Marks the first `len` pending bytes as consumed.
    fn consume(&mut self, len: usize) {
        self.start += len;
        debug_assert!(self.start <= self.end);
    }

    /// Reads one request, head and body, and queues its response. Returns whether the
    /// connection stays open for the next one.
    fn serve_request(&mut self) -> Result<bool, Stop> {
        if self.pending().is_empty() {
            // Between requests: a client that sends nothing for a while is just let go.
            self.fill(self.timeouts.idle, Stop::Close)?;
        }
        // From the request's first byte on, head and body must arrive within one deadline:
        // a per-read timeout alone never fires for a client sending a byte at a time. That
        // byte came with the last read (pipelined requests: with it or before it).
        self.deadline = self.read_at + self.timeouts.request;
        let head = self.read_parsed(HEADER_TOO_LARGE, parse_head)?;
        self.consume(head.len);

        let has_body = !matches!(head.framing, Framing::Length(0));
        if head.expects_continue && has_body {
            // Goes out with the next flush, before the server waits for the body.
            self.output
                .extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        let body = match head.framing {
            Framing::Length(len) => self.read_sized_body(len)?,
            Framing::Chunked => self.read_chunked_body()?,
        };

        // The application: greet, or say how much was received.
        let text: Cow<str> = if body.is_empty() {
            Cow::Borrowed("Hello, world!")
        } else {
            Cow::Owned(format!("received {} body bytes", body.len()))
        };
        self.queue_response("200 OK", &text, Some(&head));
        Ok(head.keep_alive)
    }

    /// Parses something at the start of the pending bytes with `parse` (which returns
    /// `Ok(None)` while it needs more bytes), reading until it is complete. It must fit in
    /// `MAX_HEAD` bytes, else the request is rejected with `too_large`.
    fn read_parsed<T>(
        &mut self,
        too_large: &'static str,
        parse: impl Fn(&[u8]) -> Result<Option<T>, Stop>,
    ) -> Result<T, Stop> {
        loop {
            // Pipelined requests may follow, so only the first MAX_HEAD bytes are looked at.
            let pending = self.pending();
            let window = &pending[..pending.len().min(MAX_HEAD)];
            if let Some(parsed) = parse(window)? {
                return Ok(parsed);
            }
            if window.len() == MAX_HEAD {
                return Err(Stop::Reject(too_large));
            }
            self.fill_request()?;
        }
    }

    /// Reads a body of exactly `len` bytes (`len` was checked against `MAX_BODY`).
    fn read_sized_body(&mut self, len: u64) -> Result<Vec<u8>, Stop> {
        let len = usize::try_from(len).map_err(|_| Stop::Reject(CONTENT_TOO_LARGE))?;
        while self.pending().len() < len {
            self.fill_request()?;
        }
        let body = self.pending()[..len].to_vec();
        self.consume(len);
        Ok(body)
    }

    /// Decodes a chunked body (RFC 9112, section 7.1): chunks `SIZE[;extensions]\r\nDATA\r\n`,
    /// a last chunk of size 0, then trailer fields (ignored here) and an empty line.
    fn read_chunked_body(&mut self) -> Result<Vec<u8>, Stop> {
        let mut body = Vec::new();
        loop {
            let (line_len, size) = self.read_parsed(BAD_REQUEST, parse_chunk_line)?;
            self.consume(line_len);
            if size == 0 {
                break;
            }
            if body.len() as u64 + size > MAX_BODY {
                return Err(Stop::Reject(CONTENT_TOO_LARGE));
            }
            let size = size as usize; // at most MAX_BODY, checked above
            while self.pending().len() < size + 2 {
                self.fill_request()?;
            }
            if &self.pending()[size..size + 2] != b"\r\n" {
                return Err(Stop::Reject(BAD_REQUEST));
            }
            body.extend_from_slice(&self.pending()[..size]);
            self.consume(size + 2);
        }
        let trailer_len = self.read_parsed(HEADER_TOO_LARGE, parse_trailers)?;
        self.consume(trailer_len);
        Ok(body)
    }

    /// Reads more of the current request; its deadline passing is answered with 408.
    fn fill_request(&mut self) -> Result<(), Stop> {
        self.fill_until(self.deadline, Stop::Reject(REQUEST_TIMEOUT))?;
        Ok(())
    }

    /// `fill`, waiting at most until `deadline`.
    fn fill_until(&mut self, deadline: Instant, on_timeout: Stop) -> Result<usize, Stop> {
        // A read timeout bounds one read call, so it is set to what is left of the deadline.
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(on_timeout);
        }
        self.fill(left, on_timeout)
    }

    /// Writes the queued responses, then reads more bytes after the pending ones, waiting at
    /// most `timeout` (then fails with `on_timeout`). Returns how many bytes came. End of
    /// stream and errors fail with `Close`.
    fn fill(&mut self, timeout: Duration, on_timeout: Stop) -> Result<usize, Stop> {
        // The client may wait for these answers before it sends anything more.
        self.flush()?;
        self.make_room();
        self.stream.set_read_timeout(Some(timeout))?;
        match self.stream.read(&mut self.input[self.end..]) {
            Ok(0) => Err(Stop::Close),
            Ok(n) => {
                self.end += n;
                self.read_at = Instant::now();
                Ok(n)
            }
            // std and may report a read timeout as WouldBlock on Unix; TimedOut elsewhere.
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Err(on_timeout)
            }
            Err(_) => Err(Stop::Close),
        }
    }

    /// Leaves at least `READ_CHUNK` bytes of room after the pending bytes: moves them to the
    /// front (once per read, not once per request), and grows the buffer when a large body
    /// needs it.
    fn make_room(&mut self) {
        if self.input.len() - self.end >= READ_CHUNK {
            return;
        }
        self.input.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        if self.input.len() - self.end < READ_CHUNK {
            self.input.resize(self.end + READ_CHUNK, 0);
        }
    }

    /// Writes the queued responses. They are dropped even if the write fails: the connection
    /// is closed then, and trying again would wait for the write timeout a second time.
    fn flush(&mut self) -> std::io::Result<()> {
        if self.output.is_empty() {
            return Ok(());
        }
        let written = self.stream.write_all(&self.output);
        self.output.clear();
        written
    }

    /// Queues a response with a plain-text body, answering `request`, or with `None` an
    /// error that closes the connection.
    fn queue_response(&mut self, status: &str, text: &str, request: Option<&Head>) {
        let connection: &[u8] = match request {
            Some(head) if !head.keep_alive => b"Connection: close\r\n",
            // HTTP/1.0 closes after each response unless told otherwise.
            Some(head) if head.http10 => b"Connection: keep-alive\r\n",
            Some(_) => b"",
            None => b"Connection: close\r\n",
        };
        // Appended piece by piece: `format!` would cost an allocation per response.
        let out = &mut self.output;
        out.extend_from_slice(b"HTTP/1.1 ");
        out.extend_from_slice(status.as_bytes());
        out.extend_from_slice(b"\r\nContent-Type: text/plain\r\nContent-Length: ");
        push_decimal(out, text.len());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(connection);
        out.extend_from_slice(b"\r\n");
        // A response to HEAD announces the body's length but does not send the body.
        if !request.is_some_and(|head| head.is_head) {
            out.extend_from_slice(text.as_bytes());
        }
    }

    /// Writes what is queued and closes. The client may still be sending (the rest of a body
    /// that was refused, say); closing a socket with unread input makes the kernel answer
    /// with a reset, which can destroy the response before the client reads it. So the write
    /// side is shut first and what arrives is discarded for a moment, until the client closes.
    fn close(mut self) {
        // Only a last answer needs that; an idle or vanished client is just let go.
        let answered = !self.output.is_empty();
        if self.flush().is_err() || !answered || self.stream.shutdown(Shutdown::Write).is_err() {
            return;
        }
        let deadline = Instant::now() + LINGER_TIME;
        let mut discarded = 0;
        while discarded < LINGER_BYTES {
            (self.start, self.end) = (0, 0);
            match self.fill_until(deadline, Stop::Close) {
                Ok(n) => discarded += n,
                Err(_) => break,
            }
        }
    }
}

/// Appends `value` in decimal.
fn push_decimal(out: &mut Vec<u8>, mut value: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}
