//! The loopback redirect (RFC 8252 §7.3): a tiny HTTP listener on 127.0.0.1 (and [::1]
//! on the same port, since `localhost` may resolve there first) that waits for the
//! browser to come back from the sign-in page with `?code=…&state=…` or `?error=…`.
//!
//! It answers exactly one request that way; everything else (another path, a favicon, a
//! request without code or error, a connection that says nothing) gets a 404 or is
//! dropped, and the wait goes on. The request line carries the code, so the buffer it is
//! read into is zeroized and never logged.

use std::{
    io,
    net::{Ipv4Addr, Ipv6Addr},
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    task::JoinSet,
};
use zeroize::Zeroizing;

/// A request head longer than this is not a redirect from a sign-in page.
const MAX_HEAD: usize = 16 * 1024;
/// A connection that says nothing (a browser's speculative one) is dropped after this.
const READ_TIMEOUT: Duration = Duration::from_secs(20);

pub(crate) struct Loopback {
    v4: TcpListener,
    v6: Option<TcpListener>,
    port: u16,
}

/// What came back on the redirect URI.
#[derive(Default)]
pub(crate) struct RedirectQuery {
    pub code: Option<Zeroizing<String>>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub error_subcode: Option<String>,
}

/// The browser's request at the redirect URI, waiting for its answer.
pub(crate) struct Redirect {
    pub query: RedirectQuery,
    stream: TcpStream,
}

impl Loopback {
    /// 127.0.0.1 on a free port, and [::1] on the same port where that works.
    pub async fn bind() -> io::Result<Self> {
        let v4 = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let port = v4.local_addr()?.port();
        let v6 = TcpListener::bind((Ipv6Addr::LOCALHOST, port)).await.ok();
        Ok(Self { v4, v6, port })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Waits for the browser to arrive at `/` with a code or an error.
    pub async fn redirect(&self) -> Redirect {
        let mut reading = JoinSet::new();
        loop {
            tokio::select! {
                accepted = self.v4.accept() => match accepted {
                    Ok((stream, _)) => { reading.spawn(read_request(stream)); }
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await, // out of descriptors: wait a little
                },
                accepted = accept(self.v6.as_ref()) => match accepted {
                    Ok((stream, _)) => { reading.spawn(read_request(stream)); }
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                },
                Some(done) = reading.join_next() => {
                    if let Ok(Some(redirect)) = done {
                        return redirect;
                    }
                }
            }
        }
    }
}

async fn accept(listener: Option<&TcpListener>) -> io::Result<(TcpStream, std::net::SocketAddr)> {
    match listener {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    }
}

impl Redirect {
    /// Answers the browser with a page and closes the connection. A browser that went
    /// away meanwhile changes nothing.
    pub async fn answer(mut self, html: &str) {
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nContent-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\nConnection: close\r\n\r\n",
            html.len()
        );
        let _ = self.stream.write_all(head.as_bytes()).await;
        let _ = self.stream.write_all(html.as_bytes()).await;
        let _ = self.stream.shutdown().await;
    }
}

/// Reads one request head; a GET of `/` with a code or an error is the redirect, anything
/// else is answered 404 (or dropped) here.
async fn read_request(mut stream: TcpStream) -> Option<Redirect> {
    let head = tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await.ok()??;
    let query = parse_request_line(&head);
    match query {
        Some(query) if query.code.is_some() || query.error.is_some() => {
            tracing::debug!("sign-in: the browser came back to the redirect URI");
            Some(Redirect { query, stream })
        }
        _ => {
            let body = "Not found";
            let answer = format!("HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            let _ = stream.write_all(answer.as_bytes()).await;
            let _ = stream.shutdown().await;
            None
        }
    }
}

async fn read_head(stream: &mut TcpStream) -> Option<Zeroizing<Vec<u8>>> {
    let mut head = Zeroizing::new(Vec::with_capacity(1024));
    let mut chunk = Zeroizing::new([0_u8; 1024]);
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let read = stream.read(&mut chunk[..]).await.ok()?;
        if read == 0 || head.len() + read > MAX_HEAD {
            return None;
        }
        head.extend_from_slice(&chunk[..read]);
    }
    Some(head)
}

/// `GET /?query HTTP/1.1` → the query, when the path is `/`.
fn parse_request_line(head: &[u8]) -> Option<RedirectQuery> {
    let line = head.split(|&b| b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(' ');
    let (method, target) = (parts.next()?, parts.next()?);
    if method != "GET" {
        return None;
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != "/" {
        return None;
    }
    let mut found = RedirectQuery::default();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let value = Zeroizing::new(value.into_owned());
        match name.as_ref() {
            "code" => found.code = Some(value),
            "state" => found.state = Some(value.to_string()),
            "error" => found.error = Some(value.to_string()),
            "error_description" => found.error_description = Some(value.to_string()),
            "error_subcode" => found.error_subcode = Some(value.to_string()),
            _ => {}
        }
    }
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_get_of_the_root_is_read() {
        let query = parse_request_line(b"GET /?code=abc%2Bd&state=s-1&session_state=x HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
        assert_eq!(query.code.as_deref().map(String::as_str), Some("abc+d"));
        assert_eq!(query.state.as_deref(), Some("s-1"));
        let query = parse_request_line(b"GET /?error=access_denied&error_description=AADSTS&error_subcode=tap_used&state=s HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!((query.error.as_deref(), query.error_subcode.as_deref()), (Some("access_denied"), Some("tap_used")));
        assert_eq!(query.error_description.as_deref(), Some("AADSTS"));
        assert!(parse_request_line(b"GET /favicon.ico HTTP/1.1\r\n\r\n").is_none());
        assert!(parse_request_line(b"POST /?code=abc HTTP/1.1\r\n\r\n").is_none());
        assert!(parse_request_line(b"\xff\xfe\r\n\r\n").is_none());
        let empty = parse_request_line(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        assert!(empty.code.is_none() && empty.error.is_none());
    }

    #[tokio::test]
    async fn other_paths_get_404_and_the_wait_goes_on() {
        let loopback = Loopback::bind().await.unwrap();
        let port = loopback.port();
        let browser = async move {
            let mut favicon = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await.unwrap();
            favicon.write_all(b"GET /favicon.ico HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
            let mut answer = String::new();
            favicon.read_to_string(&mut answer).await.unwrap();
            assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
            let _silent = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await.unwrap();
            let mut redirect = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await.unwrap();
            redirect.write_all(b"GET /?code=c&state=s HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
            let mut answer = String::new();
            redirect.read_to_string(&mut answer).await.unwrap();
            answer
        };
        let app = async {
            let redirect = loopback.redirect().await;
            assert_eq!(redirect.query.state.as_deref(), Some("s"));
            redirect.answer("<p>done</p>").await;
        };
        let (answer, ()) = tokio::join!(browser, app);
        assert!(answer.starts_with("HTTP/1.1 200 OK") && answer.ends_with("<p>done</p>"), "{answer}");
    }
}
