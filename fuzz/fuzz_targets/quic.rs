//! QUIC packets: DCID extraction, and QUIC_CID picks over the same bytes.
#![no_main]

use lbsim::balancer::quic;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&short_len, packet)) = data.split_first() else {
        return;
    };
    if let Some(dcid) = quic::dcid(packet, usize::from(short_len)) {
        assert!(dcid.len() <= packet.len());
        if packet[0] & 0x80 != 0 {
            assert!(dcid.len() <= quic::MAX_CID_LEN);
        } else {
            assert_eq!(dcid.len(), usize::from(short_len));
        }
    }
});
