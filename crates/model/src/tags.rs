//! What a blocked goroutine waits on, read from well-known frames of the stack where it
//! blocked: an HTTP server reading a request, a TLS handshake, a `database/sql` call, a
//! `sync.Mutex`... A table of rules in priority order (the more specific first: an HTTP
//! client's read is "HTTP client", not "network read"); the first rule that some frame
//! of the stack matches names the tag.

/// A kind of wait, named by the frames of the stack it blocked in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Tag {
    HttpServerRead,
    HttpServerWrite,
    HttpClient,
    TlsHandshake,
    Dns,
    Dial,
    Sql,
    NetRead,
    NetWrite,
    Accept,
    FileIo,
    Mutex,
    RwMutex,
    WaitGroup,
    Cond,
    Sleep,
}

impl Tag {
    /// Every tag, in rule order.
    pub const ALL: [Tag; 16] = [
        Tag::HttpServerRead,
        Tag::HttpServerWrite,
        Tag::HttpClient,
        Tag::TlsHandshake,
        Tag::Dns,
        Tag::Dial,
        Tag::Sql,
        Tag::NetRead,
        Tag::NetWrite,
        Tag::Accept,
        Tag::FileIo,
        Tag::Mutex,
        Tag::RwMutex,
        Tag::WaitGroup,
        Tag::Cond,
        Tag::Sleep,
    ];

    /// The tag's name as shown on spans, in filters and in search.
    pub fn name(self) -> &'static str {
        match self {
            Tag::HttpServerRead => "HTTP server: read request",
            Tag::HttpServerWrite => "HTTP server: write response",
            Tag::HttpClient => "HTTP client",
            Tag::TlsHandshake => "TLS handshake",
            Tag::Dns => "DNS lookup",
            Tag::Dial => "dial",
            Tag::Sql => "database/sql",
            Tag::NetRead => "network read",
            Tag::NetWrite => "network write",
            Tag::Accept => "accept",
            Tag::FileIo => "file I/O",
            Tag::Mutex => "sync.Mutex",
            Tag::RwMutex => "sync.RWMutex",
            Tag::WaitGroup => "sync.WaitGroup",
            Tag::Cond => "sync.Cond",
            Tag::Sleep => "sleep",
        }
    }
}

/// How a rule matches a frame's function name.
#[derive(Clone, Copy, Debug)]
enum Pattern {
    /// The name starts with this.
    Prefix(&'static str),
    /// The name is this.
    Exact(&'static str),
}

impl Pattern {
    fn matches(self, func: &str) -> bool {
        match self {
            Pattern::Prefix(p) => func.starts_with(p),
            Pattern::Exact(p) => func == p,
        }
    }
}

use Pattern::{Exact, Prefix};

/// The rules, most specific first.
const RULES: &[(Pattern, Tag)] = &[
    (Exact("net/http.(*connReader).Read"), Tag::HttpServerRead),
    (Exact("net/http.(*conn).readRequest"), Tag::HttpServerRead),
    (
        Exact("net/http.(*connReader).backgroundRead"),
        Tag::HttpServerRead,
    ),
    (
        Exact("net/http.checkConnErrorWriter.Write"),
        Tag::HttpServerWrite,
    ),
    (
        Exact("net/http.(*response).finishRequest"),
        Tag::HttpServerWrite,
    ),
    (Prefix("net/http.(*persistConn)."), Tag::HttpClient),
    (Prefix("net/http.(*Transport)."), Tag::HttpClient),
    (Prefix("net/http.(*Client)."), Tag::HttpClient),
    (Prefix("crypto/tls.(*Conn).Handshake"), Tag::TlsHandshake),
    (Prefix("crypto/tls.(*Conn).handshake"), Tag::TlsHandshake),
    (Prefix("net.(*Resolver)."), Tag::Dns),
    (Prefix("net.(*conf)."), Tag::Dns),
    (Prefix("net.(*Dialer)."), Tag::Dial),
    (Prefix("net.(*sysDialer)."), Tag::Dial),
    (Prefix("database/sql."), Tag::Sql),
    (Exact("net.(*conn).Read"), Tag::NetRead),
    (Exact("net.(*netFD).Read"), Tag::NetRead),
    (Exact("net.(*netFD).readFrom"), Tag::NetRead),
    (Exact("net.(*netFD).readMsg"), Tag::NetRead),
    (Exact("net.(*conn).Write"), Tag::NetWrite),
    (Exact("net.(*netFD).Write"), Tag::NetWrite),
    (Exact("net.(*netFD).writeTo"), Tag::NetWrite),
    (Exact("net.(*netFD).accept"), Tag::Accept),
    (Prefix("os.(*File)."), Tag::FileIo),
    (Prefix("sync.(*RWMutex)."), Tag::RwMutex),
    (Prefix("sync.(*Mutex)."), Tag::Mutex),
    (Exact("sync.(*WaitGroup).Wait"), Tag::WaitGroup),
    (Exact("sync.(*Cond).Wait"), Tag::Cond),
    (Exact("time.Sleep"), Tag::Sleep),
];

/// The tag of a stack given its frames' function names (any order): the first rule some
/// frame matches, if any.
pub fn classify<'a>(funcs: impl IntoIterator<Item = &'a str> + Clone) -> Option<Tag> {
    RULES.iter().find_map(|&(pattern, tag)| {
        funcs
            .clone()
            .into_iter()
            .any(|f| pattern.matches(f))
            .then_some(tag)
    })
}

/// Every stack's tag, by stack id (0 for none, else the tag's index + 1).
#[derive(Debug, Default)]
pub(crate) struct StackTags(Vec<u8>);

impl StackTags {
    pub(crate) fn of(interner: &crate::Interner) -> StackTags {
        StackTags(
            (0..interner.stack_count())
                .map(|id| {
                    let funcs: Vec<&str> = interner
                        .stack(id as crate::StackId)
                        .map(|f| interner.string(f.func))
                        .collect();
                    classify(funcs.iter().copied()).map_or(0, |t| t as u8 + 1)
                })
                .collect(),
        )
    }

    pub(crate) fn get(&self, stack: crate::StackId) -> Option<Tag> {
        match self.0.get(stack as usize).copied().unwrap_or(0) {
            0 => None,
            t => Tag::ALL.get(t as usize - 1).copied(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacks_are_tagged_by_their_most_specific_frame() {
        let cases: &[(&[&str], Option<Tag>)] = &[
            // An HTTP server reading the next request.
            (
                &[
                    "internal/poll.(*FD).Read",
                    "net.(*netFD).Read",
                    "net.(*conn).Read",
                    "net/http.(*connReader).Read",
                    "bufio.(*Reader).fill",
                    "net/http.(*conn).readRequest",
                    "net/http.(*conn).serve",
                ],
                Some(Tag::HttpServerRead),
            ),
            // An HTTP client waiting for the response: not a plain network read.
            (
                &[
                    "runtime.selectgo",
                    "net/http.(*persistConn).roundTrip",
                    "net/http.(*Transport).roundTrip",
                    "net/http.(*Client).Do",
                    "main.fetch",
                ],
                Some(Tag::HttpClient),
            ),
            (
                &[
                    "net.(*netFD).Read",
                    "crypto/tls.(*Conn).readRecord",
                    "crypto/tls.(*Conn).handshakeContext",
                    "crypto/tls.(*Conn).HandshakeContext",
                ],
                Some(Tag::TlsHandshake),
            ),
            (
                &["net.(*Resolver).lookupIPAddr", "net.(*Dialer).DialContext"],
                Some(Tag::Dns),
            ),
            (
                &["net.(*sysDialer).dialSerial", "net.(*Dialer).DialContext"],
                Some(Tag::Dial),
            ),
            (
                &["net.(*conn).Read", "database/sql.(*DB).QueryContext"],
                Some(Tag::Sql),
            ),
            (
                &["net.(*netFD).Read", "net.(*conn).Read", "main.echo"],
                Some(Tag::NetRead),
            ),
            (&["net.(*conn).Write", "main.echo"], Some(Tag::NetWrite)),
            (
                &["net.(*netFD).accept", "net.(*TCPListener).Accept"],
                Some(Tag::Accept),
            ),
            (&["os.(*File).Read", "main.load"], Some(Tag::FileIo)),
            (
                &[
                    "sync.runtime_SemacquireMutex",
                    "sync.(*Mutex).lockSlow",
                    "sync.(*Mutex).Lock",
                ],
                Some(Tag::Mutex),
            ),
            // An RWMutex's write lock takes its inner Mutex: the RWMutex names it.
            (
                &["sync.(*Mutex).Lock", "sync.(*RWMutex).Lock", "main.put"],
                Some(Tag::RwMutex),
            ),
            (
                &["sync.(*WaitGroup).Wait", "main.main"],
                Some(Tag::WaitGroup),
            ),
            (&["sync.(*Cond).Wait", "main.consume"], Some(Tag::Cond)),
            (&["time.Sleep", "main.poll"], Some(Tag::Sleep)),
            // Channel waits and selects say enough by their reason: no tag.
            (&["runtime.chanrecv1", "main.worker"], None),
            (&[], None),
            // A prefix is not a substring: a user type named like a std one is not tagged.
            (&["mysync.(*Mutex).Lock"], None),
        ];
        for (frames, want) in cases {
            assert_eq!(classify(frames.iter().copied()), *want, "{frames:?}");
        }
        // Every tag has a rule and a distinct name.
        for t in Tag::ALL {
            assert!(RULES.iter().any(|r| r.1 == t), "{t:?} has no rule");
            assert_eq!(Tag::ALL.iter().filter(|u| u.name() == t.name()).count(), 1);
        }
        assert!(Tag::ALL.iter().enumerate().all(|(i, t)| *t as usize == i));
    }
}
