//! `StbCodec` over byte streams cut at arbitrary places, oversize buffers refused with
//! ESID 07 before they arrive, and plain TCP on 127.0.0.1: a round trip and the errors of
//! connecting and listening.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::{SinkExt, StreamExt};
use oftp2_codec::fields::BufferSize;
use oftp2_codec::reason::EsidReason;
use oftp2_codec::sth::frame;
use oftp2_session::transport::{
    connect, ClientSecurity, FramingError, Listener, ServerSecurity, Side, StbCodec, TransportError,
};
use proptest::prelude::*;
use tokio::io::AsyncWriteExt;
use tokio_util::codec::{Framed, FramedRead};

const LIMIT: Duration = Duration::from_secs(20);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Writes `stream` into an in-memory pipe in pieces of the given sizes (cycled), and
/// reads it back through `FramedRead` with a codec limited to `max` octets.
fn through_pipe(
    stream: Vec<u8>,
    pieces: Vec<usize>,
    max: Option<BufferSize>,
) -> Vec<Result<Bytes, FramingError>> {
    runtime().block_on(async move {
        let (mut writer, reader) = tokio::io::duplex(97);
        let write = tokio::spawn(async move {
            let mut rest = &stream[..];
            for size in pieces.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (piece, tail) = rest.split_at((*size).min(rest.len()));
                if writer.write_all(piece).await.is_err() {
                    break; // the reader gave up after an error
                }
                rest = tail;
            }
            let _ = writer.shutdown().await;
        });
        let mut codec = StbCodec::new();
        if let Some(max) = max {
            codec.set_max_exchange_buffer(max);
        }
        let mut framed = FramedRead::new(reader, codec);
        let mut items = Vec::new();
        while let Some(item) = tokio::time::timeout(LIMIT, framed.next()).await.unwrap() {
            let failed = item.is_err();
            items.push(item);
            if failed {
                break;
            }
        }
        drop(framed);
        write.await.unwrap();
        items
    })
}

fn framed(buffers: &[Vec<u8>]) -> Vec<u8> {
    let mut stream = BytesMut::new();
    for buffer in buffers {
        frame(buffer, &mut stream).unwrap();
    }
    stream.to_vec()
}

fn buffers() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::collection::vec(any::<u8>(), 1..300),
            1 => (1usize..=99_999).prop_map(|n| vec![(n % 251) as u8; n]),
        ],
        0..12,
    )
}

fn pieces() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(prop_oneof![1usize..8, 1usize..5000, 4usize..=4], 1..20)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_chunking_yields_the_same_buffers(buffers in buffers(), pieces in pieces()) {
        let items = through_pipe(framed(&buffers), pieces, None);
        let got: Vec<Vec<u8>> = items.into_iter().map(|item| item.unwrap().to_vec()).collect();
        prop_assert_eq!(got, buffers);
    }

    #[test]
    fn an_oversize_buffer_ends_the_stream_with_esid_07(
        before in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..=128), 0..6),
        oversize in 129usize..3000,
        pieces in pieces(),
    ) {
        let mut all = before.clone();
        all.push(vec![b'D'; oversize]);
        all.push(b"P".to_vec());
        let items = through_pipe(framed(&all), pieces, Some(BufferSize::new(128).unwrap()));
        prop_assert_eq!(items.len(), before.len() + 1);
        for (item, expected) in items.iter().zip(&before) {
            prop_assert_eq!(&item.as_ref().unwrap()[..], &expected[..]);
        }
        let error = items.last().unwrap().as_ref().unwrap_err();
        prop_assert_eq!(error.esid_reason(), Some(EsidReason::EXCHANGE_BUFFER_SIZE_ERROR));
    }
}

#[tokio::test]
async fn oversize_header_is_refused_before_its_buffer_arrives() {
    let (mut writer, reader) = tokio::io::duplex(1024);
    let mut codec = StbCodec::new();
    codec.set_max_exchange_buffer(BufferSize::new(2048).unwrap());
    assert_eq!(codec.max_exchange_buffer(), 2048);
    let mut framed = FramedRead::new(reader, codec);
    // Only the header of a 5000-octet buffer; the writer stays open.
    writer.write_all(&[0x10, 0x00, 0x13, 0x8C]).await.unwrap();
    let error = tokio::time::timeout(LIMIT, framed.next()).await.unwrap().unwrap().unwrap_err();
    let FramingError::Malformed(malformed) = &error else { panic!("{error}") };
    assert_eq!(malformed.reason, EsidReason::EXCHANGE_BUFFER_SIZE_ERROR);
    assert!(error.to_string().contains("ESID 07"), "{error}");
    drop(writer);
}

#[tokio::test]
async fn a_zero_length_header_is_refused() {
    let (mut writer, reader) = tokio::io::duplex(64);
    let mut framed = FramedRead::new(reader, StbCodec::new());
    writer.write_all(&[0x10, 0x00, 0x00, 0x04, b'X']).await.unwrap();
    let error = tokio::time::timeout(LIMIT, framed.next()).await.unwrap().unwrap().unwrap_err();
    assert_eq!(error.esid_reason(), Some(EsidReason::EXCHANGE_BUFFER_SIZE_ERROR));
}

#[tokio::test]
async fn plain_tcp_round_trip() {
    let listener = Listener::bind("127.0.0.1:0", ServerSecurity::PlainTcp).await.unwrap();
    assert!(!listener.is_tls());
    let address = listener.local_addr().unwrap().to_string();
    let (accepted, connected) = tokio::time::timeout(LIMIT, async {
        tokio::join!(listener.accept(), connect(&address, &ClientSecurity::PlainTcp, LIMIT))
    })
    .await
    .unwrap();
    let ((server_side, peer), client_side) = (accepted.unwrap(), connected.unwrap());
    assert!(!server_side.is_tls() && !client_side.is_tls());
    assert_eq!((server_side.side(), client_side.side()), (Side::Server, Side::Client));
    assert_eq!(peer, client_side.local_addr().unwrap());
    assert_eq!(client_side.peer_addr().to_string(), address);
    assert!(client_side.tcp().nodelay().unwrap());
    assert!(server_side.tcp().nodelay().unwrap());
    #[cfg(feature = "tls")]
    assert_eq!(client_side.peer_certificates(), None);

    let mut responder = Framed::new(server_side, StbCodec::new());
    let mut initiator = Framed::new(client_side, StbCodec::new());
    responder.send(&b"IODETTE FTP READY \r"[..]).await.unwrap();
    assert_eq!(&initiator.next().await.unwrap().unwrap()[..], b"IODETTE FTP READY \r");
    let data: Vec<Bytes> = (1..=50).map(|n| Bytes::from(vec![n as u8; n * 1999])).collect();
    let send = async {
        for buffer in &data {
            initiator.feed(buffer.clone()).await.unwrap();
        }
        SinkExt::<Bytes>::flush(&mut initiator).await.unwrap();
        initiator.get_mut().shutdown().await.unwrap();
        initiator
    };
    let receive = async {
        let mut got = Vec::new();
        while let Some(buffer) = responder.next().await {
            got.push(buffer.unwrap());
        }
        got
    };
    let (_initiator, got) =
        tokio::time::timeout(LIMIT, async { tokio::join!(send, receive) }).await.unwrap();
    assert_eq!(got, data);
    // An empty buffer is never sent.
    assert!(matches!(responder.send(Bytes::new()).await, Err(FramingError::Encode(_))));
}

#[tokio::test]
async fn connection_errors_say_what_failed() {
    // Nothing listens on a port just released.
    let port = {
        let probe = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        probe.local_addr().unwrap().port()
    };
    let address = format!("127.0.0.1:{port}");
    let error = connect(&address, &ClientSecurity::PlainTcp, LIMIT).await.unwrap_err();
    let TransportError::Connect { source, .. } = &error else { panic!("{error}") };
    assert_eq!(source.kind(), std::io::ErrorKind::ConnectionRefused);
    assert!(error.to_string().contains("nothing listens on that port"), "{error}");

    // No port.
    let error = connect("127.0.0.1", &ClientSecurity::PlainTcp, LIMIT).await.unwrap_err();
    assert!(matches!(error, TransportError::Resolve { .. }), "{error}");
    assert!(error.to_string().contains("expected host:port"), "{error}");

    // A port already taken.
    let listener = Listener::bind("127.0.0.1:0", ServerSecurity::PlainTcp).await.unwrap();
    let taken = listener.local_addr().unwrap().to_string();
    let error = Listener::bind(&taken, ServerSecurity::PlainTcp).await.unwrap_err();
    assert!(matches!(error, TransportError::Bind { .. }), "{error}");
    assert!(error.to_string().contains(&taken), "{error}");
}

#[tokio::test]
async fn accept_tcp_then_handshake_in_a_task() {
    let listener = Listener::bind("127.0.0.1:0", ServerSecurity::PlainTcp).await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let client = tokio::spawn(async move {
        let mut c = connect(&address, &ClientSecurity::PlainTcp, LIMIT).await.unwrap();
        c.write_all(b"hi").await.unwrap();
        c
    });
    let incoming = tokio::time::timeout(LIMIT, listener.accept_tcp()).await.unwrap().unwrap();
    let peer = incoming.peer_addr();
    let connection = tokio::spawn(incoming.handshake()).await.unwrap().unwrap();
    assert_eq!(connection.peer_addr(), peer);
    let _ = client.await.unwrap();
}
