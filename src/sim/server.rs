//! The backend behind one member: `capacity` servers, a FIFO queue up to `queue_limit`, then
//! rejection; service time = draw × slow factor / speed.

use std::collections::VecDeque;

use rand_chacha::ChaCha8Rng;

use super::check::invalid;
use super::config::{BackendConfig, Failure};
use super::sample::Sampler;
use super::SimError;
use crate::model::{Member, ZoneId};
use crate::time::SimTime;

/// `repr(C)`: the fields every request reads or writes come first, in the first 88 of its
/// 120 bytes: two cache lines for most servers rather than three.
#[repr(C)]
pub(super) struct Server {
    /// Servers busy with a request.
    pub busy: u32,
    capacity: u32,
    /// Connections (per-connection pools) or requests (per-request pools) held, and the most
    /// held at once since warm-up.
    open: u32,
    pub peak: u32,
    pub zone: Option<ZoneId>,
    /// `slow factor / speed`: multiplies every service draw.
    scale: f64,
    sampler: Sampler,
    /// Requests (slots) waiting for a server, oldest first.
    pub queue: VecDeque<u32>,
    /// How it fails as the load balancer meets it: its own failure (`Membership::failure`), or
    /// `Blackhole` while its AZ is down; cached because every failing member's attempts check
    /// it.
    pub mode: Failure,
    queue_limit: u32,
    speed: f64,
}

impl Server {
    pub(super) fn new(m: &Member, b: &BackendConfig) -> Result<Server, SimError> {
        let sampler =
            Sampler::new(&b.service_time).map_err(|e| invalid(format!("member {}: {e}", m.key)))?;
        if !(b.speed.is_finite() && b.speed > 0.0) || b.capacity == 0 {
            return Err(invalid(format!(
                "member {}: speed must be positive and capacity at least 1",
                m.key
            )));
        }
        Ok(Server {
            capacity: b.capacity,
            queue_limit: b.queue_limit,
            sampler,
            speed: b.speed,
            scale: 1.0 / b.speed,
            busy: 0,
            queue: VecDeque::new(),
            zone: m.zone,
            mode: b.failure,
            open: 0,
            peak: 0,
        })
    }

    /// Every server busy: a request would wait in the queue.
    #[inline]
    pub(super) fn saturated(&self) -> bool {
        self.busy >= self.capacity
    }

    /// Every server busy and the queue full: a request is rejected.
    #[inline]
    pub(super) fn full(&self) -> bool {
        self.saturated() && self.queue.len() >= self.queue_limit as usize
    }

    #[inline]
    pub(super) fn service_time(&self, rng: &mut ChaCha8Rng) -> SimTime {
        SimTime((self.sampler.sample(rng) * self.scale) as u64)
    }

    pub(super) fn set_slow(&mut self, factor: f64) {
        self.scale = factor / self.speed;
    }

    #[inline]
    pub(super) fn opened(&mut self) {
        self.open += 1;
        self.peak = self.peak.max(self.open);
    }

    #[inline]
    pub(super) fn closed(&mut self) {
        self.open -= 1;
    }

    /// Warm-up ends: the peak counts from now.
    pub(super) fn reset_peak(&mut self) {
        self.peak = self.open;
    }
}
