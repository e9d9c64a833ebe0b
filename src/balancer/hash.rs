//! Routing keys: request fields encoded to bytes by hand and hashed with a hash whose output the
//! xxHash specification fixes (XXH3-64 for request keys, XXH64 for member keys), so a client maps
//! to the same member on every machine, platform and run. `std`'s `DefaultHasher` makes no such
//! promise and is never used for routing.
//!
//! Encoding: IPv4 = 4 big-endian bytes, IPv6 = 16 bytes, ports = 2 big-endian bytes, IP protocol
//! = 1 byte, fields concatenated in the order listed on [`tuple_key`].

use std::net::IpAddr;

use xxhash_rust::xxh3::xxh3_64;
use xxhash_rust::xxh64::xxh64;

use super::Request;
use crate::model::TupleFields;

/// Writes the address bytes (4 for IPv4, 16 for IPv6) at the start of `buf`, returns the length.
fn put_ip(buf: &mut [u8], ip: IpAddr) -> usize {
    match ip {
        IpAddr::V4(a) => {
            buf[..4].copy_from_slice(&a.octets());
            4
        }
        IpAddr::V6(a) => {
            buf[..16].copy_from_slice(&a.octets());
            16
        }
    }
}

/// Key of ELB `SOURCE_IP` / APIG strategy 3, and of the QUIC-CID fallback: the client address.
/// Hashes the fixed-size octets directly (the same bytes `put_ip` writes), so the compiler
/// specialises XXH3 for 4 or 16 bytes.
pub fn source_ip_key(ip: IpAddr) -> u64 {
    match ip {
        IpAddr::V4(a) => xxh3_64(&a.octets()),
        IpAddr::V6(a) => xxh3_64(&a.octets()),
    }
}

/// Key of APIG URI hashing (strategy 4) and of QUIC-CID hashing: the bytes as given.
pub fn bytes_key(bytes: &[u8]) -> u64 {
    xxh3_64(bytes)
}

/// Key of ELB `2/3/5_TUPLE_HASH`. Huawei does not list the fields; this follows the industry
/// convention recorded in huawei-semantics §1: 2-tuple = source IP, destination IP; 3-tuple adds
/// the IP protocol; 5-tuple adds source port then destination port.
pub fn tuple_key(fields: TupleFields, req: &Request<'_>) -> u64 {
    match (req.client_ip, req.dst_ip) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => v4_tuple_key(fields, src.octets(), dst.octets(), req),
        _ => any_tuple_key(fields, req),
    }
}

/// [`tuple_key`] of two IPv4 addresses: the same bytes in a fixed-size array, whose constant
/// lengths (8, 9, 13) let the compiler specialise XXH3 as for [`source_ip_key`].
fn v4_tuple_key(fields: TupleFields, src: [u8; 4], dst: [u8; 4], req: &Request<'_>) -> u64 {
    let mut buf = [0u8; 13];
    buf[..4].copy_from_slice(&src);
    buf[4..8].copy_from_slice(&dst);
    buf[8] = req.ip_proto;
    buf[9..11].copy_from_slice(&req.client_port.to_be_bytes());
    buf[11..].copy_from_slice(&req.dst_port.to_be_bytes());
    match fields {
        TupleFields::Two => xxh3_64(&buf[..8]),
        TupleFields::Three => xxh3_64(&buf[..9]),
        TupleFields::Five => xxh3_64(&buf),
    }
}

/// [`tuple_key`] when either address is IPv6.
fn any_tuple_key(fields: TupleFields, req: &Request<'_>) -> u64 {
    let mut buf = [0u8; 16 + 16 + 1 + 2 + 2];
    let mut n = put_ip(&mut buf, req.client_ip);
    n += put_ip(&mut buf[n..], req.dst_ip);
    if matches!(fields, TupleFields::Three | TupleFields::Five) {
        buf[n] = req.ip_proto;
        n += 1;
    }
    if fields == TupleFields::Five {
        buf[n..n + 2].copy_from_slice(&req.client_port.to_be_bytes());
        buf[n + 2..n + 4].copy_from_slice(&req.dst_port.to_be_bytes());
        n += 4;
    }
    xxh3_64(&buf[..n])
}

/// The two Maglev permutation hashes of a member key: XXH64 with seeds 0 and 1, as Envoy's
/// `maglev_lb.cc` derives `offset` and `skip` (lb-anchors §2.4).
pub fn member_hashes(key: &str) -> (u64, u64) {
    (xxh64(key.as_bytes(), 0), xxh64(key.as_bytes(), 1))
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    fn req(src: IpAddr, dst: IpAddr, proto: u8, sport: u16, dport: u16) -> Request<'static> {
        Request {
            client_ip: src,
            client_port: sport,
            dst_ip: dst,
            dst_port: dport,
            ip_proto: proto,
            addr_slot: 0,
            uri: b"",
            quic_packet: None,
            cookie: None,
        }
    }

    #[test]
    fn keys_hash_the_documented_encoding() {
        let v4 = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let v6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
        assert_eq!(source_ip_key(v4), xxh3_64(&[192, 0, 2, 1]));
        assert_eq!(source_ip_key(v6), xxh3_64(&v6_octets(v6)));
        let dst = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9));
        let r = req(v4, dst, 17, 0x1234, 443);
        assert_eq!(
            tuple_key(TupleFields::Two, &r),
            xxh3_64(&[192, 0, 2, 1, 10, 0, 0, 9])
        );
        assert_eq!(
            tuple_key(TupleFields::Three, &r),
            xxh3_64(&[192, 0, 2, 1, 10, 0, 0, 9, 17])
        );
        assert_eq!(
            tuple_key(TupleFields::Five, &r),
            xxh3_64(&[192, 0, 2, 1, 10, 0, 0, 9, 17, 0x12, 0x34, 0x01, 0xbb])
        );
        // an IPv6 client: 16 address bytes, then the same fields
        let r6 = req(v6, dst, 17, 0x1234, 443);
        let mut five = v6_octets(v6).to_vec();
        five.extend([10, 0, 0, 9, 17, 0x12, 0x34, 0x01, 0xbb]);
        assert_eq!(tuple_key(TupleFields::Two, &r6), xxh3_64(&five[..20]));
        assert_eq!(tuple_key(TupleFields::Three, &r6), xxh3_64(&five[..21]));
        assert_eq!(tuple_key(TupleFields::Five, &r6), xxh3_64(&five));
    }

    fn v6_octets(ip: IpAddr) -> [u8; 16] {
        match ip {
            IpAddr::V6(a) => a.octets(),
            IpAddr::V4(_) => unreachable!(),
        }
    }

    #[test]
    fn tuple_fields_change_the_key() {
        let a = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9));
        let r1 = req(a, b, 6, 1000, 80);
        let r2 = req(a, b, 6, 1001, 80);
        assert_eq!(
            tuple_key(TupleFields::Three, &r1),
            tuple_key(TupleFields::Three, &r2)
        );
        assert_ne!(
            tuple_key(TupleFields::Five, &r1),
            tuple_key(TupleFields::Five, &r2)
        );
    }

    #[test]
    fn xxh64_reference_vector() {
        // xxHash specification test vector: XXH64 of the empty input with seed 0.
        assert_eq!(member_hashes("").0, 0xEF46_DB37_51D8_E999);
    }
}
