//! A byte stream over a nonblocking mio socket, in clear or through rustls.
//! The engine uses it as a client, `ami-sim` as a server.

use std::io::{self, Read, Write};

use mio::net::TcpStream;

use crate::codec::Decoder;

/// A connection's byte stream.
pub enum Transport {
    /// TCP in clear.
    Plain(TcpStream),
    /// TLS from the first byte (AMI over TLS, port 5039 by default).
    Tls(Box<TlsLink>),
}

/// A TLS session over its socket.
pub struct TlsLink {
    tcp: TcpStream,
    tls: rustls::Connection,
}

/// The prefix of the errors that TLS itself raised (see [`is_tls_error`]).
const TLS_ERROR: &str = "TLS: ";

/// True for an error of the TLS layer (handshake, certificate, alert).
pub fn is_tls_error(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::InvalidData && e.to_string().starts_with(TLS_ERROR)
}

impl Transport {
    /// TLS over `tcp` with a client or server session.
    pub fn tls(tcp: TcpStream, session: impl Into<rustls::Connection>) -> Transport {
        Transport::Tls(Box::new(TlsLink { tcp, tls: session.into() }))
    }

    /// The socket, for registering with mio and socket options.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Transport::Plain(t) => t,
            Transport::Tls(l) => &l.tcp,
        }
    }

    /// The socket, mutably (mio registration).
    pub fn tcp_mut(&mut self) -> &mut TcpStream {
        match self {
            Transport::Plain(t) => t,
            Transport::Tls(l) => &mut l.tcp,
        }
    }

    /// Plain TCP: a short read means the socket is empty (TLS buffers
    /// records of its own, so there it means nothing).
    pub fn is_plain(&self) -> bool {
        matches!(self, Transport::Plain(_))
    }

    /// True while a TLS handshake is still going on.
    pub fn is_handshaking(&self) -> bool {
        matches!(self, Transport::Tls(l) if l.tls.is_handshaking())
    }

    /// Reads what is available into `decoder` (through the loop's `shared`
    /// buffer, see [`Decoder::read_shared`]): `Ok(0)` at end of stream,
    /// `WouldBlock` when nothing more can be read now.
    pub fn read_into(&mut self, decoder: &mut Decoder, shared: &mut Vec<u8>) -> io::Result<usize> {
        self.read_with(|r| decoder.read_shared(r, shared))
    }

    /// Reads plaintext into `buf`, with the same results as [`Transport::read_into`].
    pub fn read_bytes(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_with(|r| r.read(buf))
    }

    /// Runs `read` on the plaintext: the socket itself, or what TLS has
    /// decrypted, feeding TLS from the socket until it yields or blocks.
    fn read_with(&mut self, mut read: impl FnMut(&mut dyn Read) -> io::Result<usize>) -> io::Result<usize> {
        let link = match self {
            Transport::Plain(t) => return read(t),
            Transport::Tls(l) => l,
        };
        loop {
            match read(&mut link.tls.reader()) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(e) => return Err(e),
            }
            if link.tls.read_tls(&mut link.tcp)? == 0 {
                return Ok(0);
            }
            if let Err(e) = link.tls.process_new_packets() {
                let _ = link.tls.write_tls(&mut link.tcp); // the alert, if any
                return Err(io::Error::new(io::ErrorKind::InvalidData, format!("{TLS_ERROR}{e}")));
            }
            if link.tls.wants_write() {
                link.flush_tls()?; // handshake messages
            }
        }
    }

    /// Writes plaintext; returns how much was taken (TLS takes it into its
    /// buffer: call [`Transport::flush`] to send it).
    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(t) => t.write(buf),
            Transport::Tls(l) => l.tls.writer().write(buf),
        }
    }

    /// Sends what TLS holds; `Ok(false)` when the socket is full for now.
    pub fn flush(&mut self) -> io::Result<bool> {
        match self {
            Transport::Plain(_) => Ok(true),
            Transport::Tls(l) => l.flush_tls(),
        }
    }
}

impl TlsLink {
    fn flush_tls(&mut self) -> io::Result<bool> {
        while self.tls.wants_write() {
            match self.tls.write_tls(&mut self.tcp) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(t) => t.read(buf),
            Transport::Tls(l) => l.tls.reader().read(buf),
        }
    }
}
