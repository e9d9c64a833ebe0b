//! Destination connection ID extraction from QUIC packets (RFC 9000 §17), for ELB `QUIC_CID`.
//!
//! Long header (first bit set): version in bytes 1..5, DCID length in byte 5, DCID from byte 6
//! (RFC 9000 §17.2). Short header (first bit clear): the DCID starts at byte 1 and its length is
//! not on the wire (§17.3), so the load balancer must be told the length the servers issue.
//! The header form and the DCID position are version-independent (RFC 8999), so the version is
//! not checked.

/// Largest connection ID QUIC v1 allows (RFC 9000 §17.2: "MUST NOT exceed 20 bytes").
pub const MAX_CID_LEN: usize = 20;

/// Server CID length assumed for short-header packets until the simulator says otherwise:
/// Katran's `QUIC_MIN_CONNID_LEN` and the minimum a client uses in its first Initial (§7.2).
pub const DEFAULT_SHORT_DCID_LEN: u8 = 8;

/// The destination connection ID of `packet`, or `None` when the packet is empty, truncated or
/// (long header) announces a DCID longer than QUIC v1 allows.
pub fn dcid(packet: &[u8], short_dcid_len: usize) -> Option<&[u8]> {
    let first = *packet.first()?;
    if first & 0x80 != 0 {
        let len = usize::from(*packet.get(5)?);
        if len > MAX_CID_LEN {
            return None;
        }
        packet.get(6..6 + len)
    } else {
        packet.get(1..1 + short_dcid_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9001 Appendix A.2: the unprotected header of the client Initial packet.
    const RFC9001_CLIENT_INITIAL: [u8; 22] = [
        0xc3, 0x00, 0x00, 0x00, 0x01, 0x08, 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08, 0x00,
        0x00, 0x44, 0x9e, 0x00, 0x00, 0x00, 0x02,
    ];

    #[test]
    fn rfc9001_client_initial_dcid() {
        assert_eq!(
            dcid(&RFC9001_CLIENT_INITIAL, 8),
            Some(&[0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08][..])
        );
    }

    #[test]
    fn short_header_uses_configured_length() {
        // 1-RTT packet: form 0, fixed bit 1, then a 4-byte server CID and a packet number.
        let pkt = [0x41, 0xaa, 0xbb, 0xcc, 0xdd, 0x01, 0x02];
        assert_eq!(dcid(&pkt, 4), Some(&[0xaa, 0xbb, 0xcc, 0xdd][..]));
        assert_eq!(dcid(&pkt, 8), None, "packet shorter than the CID");
    }

    #[test]
    fn malformed_packets_have_no_dcid() {
        assert_eq!(dcid(&[], 8), None);
        assert_eq!(
            dcid(&RFC9001_CLIENT_INITIAL[..10], 8),
            None,
            "truncated DCID"
        );
        let mut too_long = RFC9001_CLIENT_INITIAL.to_vec();
        too_long[5] = 21;
        too_long.resize(40, 0);
        assert_eq!(dcid(&too_long, 8), None);
        let mut empty = RFC9001_CLIENT_INITIAL.to_vec();
        empty[5] = 0;
        assert_eq!(dcid(&empty, 8), Some(&[][..]));
    }
}
