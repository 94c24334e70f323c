//! The decoder alone, on the event the simulator floods (~560 bytes, 20
//! headers), fed in 256 KiB reads: prints ns per event. For a count that
//! does not move with the machine's noise, run it under cachegrind:
//!
//! ```sh
//! cargo build --release --example decode_cost
//! valgrind --tool=cachegrind --cache-sim=no target/release/examples/decode_cost 20
//! ```
//!
//! and divide the `I refs` by the events it printed.

use std::time::Instant;

use ami::codec::{Decoder, Frame, Limits};

const EVENT: &str = "Event: SimFlood\r\nPrivilege: call,all\r\nSeq: 12345678\r\nChannel: PJSIP/1001-00000042\r\n\
ChannelState: 6\r\nChannelStateDesc: Up\r\nCallerIDNum: 1001\r\nCallerIDName: Alice\r\nConnectedLineNum: 1002\r\n\
ConnectedLineName: Bob\r\nLanguage: en\r\nAccountCode: \r\nContext: from-internal\r\nExten: 1002\r\nPriority: 3\r\n\
Uniqueid: 1795353862.66\r\nLinkedid: 1795353862.66\r\nApplication: Dial\r\nAppData: PJSIP/1002,30,tT\r\n\
Padding: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n\r\n";

fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(400);
    let mut chunk = Vec::new();
    while chunk.len() + EVENT.len() <= 256 * 1024 {
        chunk.extend_from_slice(EVENT.as_bytes());
    }
    let mut decoder = Decoder::server(Limits::default());
    let (start, mut events) = (Instant::now(), 0usize);
    for _ in 0..rounds {
        decoder.feed(&chunk);
        while let Some(Frame::Message(m)) = decoder.next_frame().expect("the event decodes") {
            assert_eq!(m.len(), 20);
            events += 1;
        }
    }
    let ns = start.elapsed().as_nanos() as f64 / events as f64;
    println!("{events} events of {} bytes: {ns:.0} ns per event", EVENT.len());
}
