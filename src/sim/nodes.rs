//! The load-balancer nodes: one [`Balancer`] per entry of `lb_zones`, each with its own
//! algorithm state and connection counts, as real LB nodes are.

use rand_chacha::ChaCha8Rng;
use std::rc::Rc;

use super::config::{LbZone, SimConfig};
use super::sample::below;
use crate::balancer::{Balancer, BalancerCounters, SharedTables};
use crate::model::ZoneId;
use crate::time::SimTime;

struct Node {
    balancer: Balancer,
    zone: Option<ZoneId>,
    weight: u32,
    /// Its AZ is down: it takes no connections while another node is up.
    down: bool,
    /// Client connections open through it (counted only under a `connection` limit).
    open: u32,
    /// The second `cps` counts in, and the connections opened in it.
    second: u64,
    opened: u32,
}

pub(super) struct Nodes(Vec<Node>);

impl Nodes {
    pub(super) fn new(cfg: &SimConfig, lb_zones: &[LbZone]) -> Nodes {
        let w = &cfg.workload;
        let tables = Rc::<SharedTables>::default();
        Nodes(
            lb_zones
                .iter()
                .map(|z| {
                    let mut balancer =
                        Balancer::new(&cfg.pool, z.zone, w.clients.addresses, SimTime::ZERO);
                    balancer.share_tables(tables.clone());
                    // the servers issue CIDs of this length; short headers do not carry it
                    balancer.set_quic_short_dcid_len(w.quic.dcid_len);
                    balancer.set_weighted_hashing(cfg.weighted_hashing);
                    Node {
                        balancer,
                        zone: z.zone,
                        weight: z.weight,
                        down: false,
                        open: 0,
                        second: 0,
                        opened: 0,
                    }
                })
                .collect(),
        )
    }

    /// Applies a change of the pool or a member to every node: the nodes share one
    /// configuration and one health state per member.
    pub(super) fn each(&mut self, mut change: impl FnMut(&mut Balancer)) {
        for n in &mut self.0 {
            change(&mut n.balancer);
        }
    }

    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    /// The counters of all nodes' balancers, summed.
    pub(super) fn counters(&self) -> BalancerCounters {
        self.0.iter().fold(BalancerCounters::default(), |sum, n| {
            sum.plus(n.balancer.counters())
        })
    }

    #[inline]
    pub(super) fn balancer(&mut self, node: u16) -> &mut Balancer {
        &mut self.0[usize::from(node)].balancer
    }

    #[inline]
    pub(super) fn zone(&self, node: u16) -> Option<ZoneId> {
        self.0[usize::from(node)].zone
    }

    /// May a new client connection open through `node` now? The listener's `cps` counts
    /// connections per whole second of simulated time, `connection` the ones open at once
    /// (0 = no limit; both per AZ, elb_drawerhelp_710); a connection over either is dropped.
    pub(super) fn admit(&mut self, node: u16, now: SimTime, cps: u32, connection: u32) -> bool {
        let n = &mut self.0[usize::from(node)];
        let second = now.0 / SimTime::from_secs(1).0;
        if second != n.second {
            (n.second, n.opened) = (second, 0);
        }
        if (cps > 0 && n.opened >= cps) || (connection > 0 && n.open >= connection) {
            return false;
        }
        n.opened += 1;
        n.open += 1;
        true
    }

    /// A connection `admit` let in has closed.
    pub(super) fn release(&mut self, node: u16) {
        self.0[usize::from(node)].open -= 1;
    }

    /// An AZ went down or came back: `zone_down` is indexed by zone.
    pub(super) fn zones_changed(&mut self, zone_down: &[bool]) {
        for n in &mut self.0 {
            n.down = n.zone.is_some_and(|z| zone_down[usize::from(z)]);
        }
    }

    /// The node a new connection enters through, drawn by the nodes' weights; a node whose AZ
    /// is down takes none while another is up.
    #[inline]
    pub(super) fn draw(&self, rng: &mut ChaCha8Rng) -> u16 {
        if self.0.len() == 1 {
            return 0;
        }
        self.draw_weighted(rng)
    }

    fn draw_weighted(&self, rng: &mut ChaCha8Rng) -> u16 {
        let any_up = self.0.iter().any(|n| !n.down && n.weight > 0);
        let usable = |n: &Node| n.weight > 0 && (!n.down || !any_up);
        let total: u32 = self.0.iter().filter(|n| usable(n)).map(|n| n.weight).sum();
        let mut r = below(rng, total);
        for (i, n) in self.0.iter().enumerate() {
            if usable(n) {
                if r < n.weight {
                    return i as u16;
                }
                r -= n.weight;
            }
        }
        unreachable!("r < total")
    }
}
