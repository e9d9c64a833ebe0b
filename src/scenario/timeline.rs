//! The timeline replayed in time order, as the run will replay it: who the members are at each
//! event (indices never reused, keys naming live members), the ELB pool or the channel as
//! earlier events left it, and each event's member references resolved to indices.

use super::diag::{Code, Findings, Severity};
use super::events::Given;
use super::keys::{canonical, canonical_reference};
use super::valid::{ChannelChange, EventAction, PoolDef};
use super::{apig, elb, suggest};
use crate::model::{self, MemberIdx, Tier};
use std::collections::{BTreeMap, BTreeSet};

/// The members at a point of the timeline: every index ever given (indices are never reused)
/// and the key of each member that exists now.
struct Roster {
    keys: Vec<String>,
    live: BTreeMap<String, MemberIdx>,
}

impl Roster {
    fn new(keys: &[String]) -> Roster {
        let mut r = Roster {
            keys: Vec::with_capacity(keys.len()),
            live: BTreeMap::new(),
        };
        for k in keys {
            r.add(k.clone());
        }
        r
    }

    fn add(&mut self, key: String) -> MemberIdx {
        let i = self.keys.len() as MemberIdx;
        self.live.insert(key.clone(), i);
        self.keys.push(key);
        i
    }

    fn remove(&mut self, key: &str) {
        if self.live.remove(key).is_none() {
            self.live.remove(canonical_reference(key).as_ref());
        }
    }

    /// The live member `key` names, an address spelt any way (`2001:DB8::1`).
    fn index(&self, key: &str) -> Option<MemberIdx> {
        let found = self.live.get(key);
        found
            .or_else(|| self.live.get(canonical_reference(key).as_ref()))
            .copied()
    }
}

/// An ELB member as duplicates and roles are judged: its address as the API compares it, its
/// port and its role.
type ElbSlot = (String, i64, Tier);

/// ELB members at a point of the timeline, by index and by (address, port).
struct ElbMembers {
    slots: Vec<Option<ElbSlot>>,
    at: BTreeMap<(String, i64), MemberIdx>,
    /// Live masters and slaves of a master-slave pool.
    roles: [usize; 2],
    /// Each member's name or address (its key before disambiguation), and the live members
    /// using each: an added member whose name or address a live member uses is keyed
    /// `address:port`, one that only removed members used takes it again.
    bases: Vec<String>,
    uses: BTreeMap<String, BTreeSet<MemberIdx>>,
}

impl ElbMembers {
    /// The pool's own members. Two with one key (a `name` that is another member's name or
    /// address) are an error at `pool.members[i]`; a repeated address and port is one already.
    fn new(pool: &elb::Pool, zones: &[String], f: &mut Findings) -> ElbMembers {
        let own = pool.members.as_deref().unwrap_or_default();
        let mut m = ElbMembers {
            slots: Vec::new(),
            at: BTreeMap::new(),
            roles: [0, 0],
            bases: Vec::new(),
            uses: BTreeMap::new(),
        };
        let mut keys: BTreeMap<String, usize> = BTreeMap::new();
        for (i, member) in elb::added_members(|_| 0, own, zones) {
            let (addr, port, _) = Self::slot(&member);
            let repeated = m.at.contains_key(&(addr, port));
            match keys.get(&member.key) {
                Some(first) if !repeated => {
                    let rule =
                        format!("has the key of pool.members[{first}]: give it another name");
                    f.error(&format!("pool.members[{i}]"), &member.key, rule, Code::NONE);
                }
                _ => {
                    keys.entry(member.key.clone()).or_insert(i);
                }
            }
            m.add(&member, elb::base_key(&own[i]));
        }
        m
    }

    fn slot(member: &model::Member) -> ElbSlot {
        let addr = canonical(&member.address).into_owned();
        (addr, i64::from(member.port), member.tier)
    }

    fn add(&mut self, member: &model::Member, base: String) {
        let (addr, port, tier) = Self::slot(member);
        let i = self.slots.len() as MemberIdx;
        self.at.entry((addr.clone(), port)).or_insert(i);
        self.count(tier, 1);
        self.slots.push(Some((addr, port, tier)));
        self.uses.entry(base.clone()).or_default().insert(i);
        self.bases.push(base);
    }

    fn remove(&mut self, i: MemberIdx) {
        let Some(Some((addr, port, tier))) = self.slots.get_mut(i as usize).map(Option::take)
        else {
            return;
        };
        if self.at.get(&(addr.clone(), port)) == Some(&i) {
            self.at.remove(&(addr, port));
        }
        self.count(tier, -1);
        if let Some(users) = self.uses.get_mut(&self.bases[i as usize]) {
            users.remove(&i);
        }
    }

    /// The live members whose name or address is `key`.
    fn sharing(&self, key: &str) -> Option<&BTreeSet<MemberIdx>> {
        self.uses.get(canonical_reference(key).as_ref())
    }

    /// How many live members have the name or address `base`.
    fn users(&self, base: &str) -> usize {
        self.uses.get(base).map_or(0, BTreeSet::len)
    }

    fn count(&mut self, tier: Tier, by: isize) {
        let i = match tier {
            Tier::Master => 0,
            Tier::Slave => 1,
            _ => return,
        };
        self.roles[i] = self.roles[i].saturating_add_signed(by);
    }
}

/// The state the run will have at each event: who the members are, and the pool or channel
/// as earlier events left it.
pub(super) struct Timeline<'a> {
    roster: Roster,
    zones: &'a [String],
    /// An ELB pool's settings (no members) and its members.
    elb: Option<(elb::Pool, ElbMembers)>,
    /// The ELB pool is a master-slave pool (for good: its members' roles say so).
    master_slave: bool,
    channel: Option<apig::ChannelState>,
}

impl<'a> Timeline<'a> {
    pub(super) fn new(
        pool: Option<&PoolDef>,
        keys: &[String],
        zones: &'a [String],
        f: &mut Findings,
    ) -> Timeline<'a> {
        Timeline {
            roster: Roster::new(keys),
            zones,
            elb: match pool {
                Some(PoolDef::Elb(p)) => {
                    let settings = elb::apply_pool_update(p, &elb::Pool::default(), &[]);
                    Some((settings, ElbMembers::new(p, zones, f)))
                }
                _ => None,
            },
            channel: match pool {
                Some(PoolDef::Apig(c)) => Some(apig::ChannelState::new(c)),
                _ => None,
            },
            master_slave: matches!(pool, Some(PoolDef::Elb(p)) if p.is_master_slave()),
        }
    }

    /// The key of every member the run will have had, by index (members added by events too).
    pub(super) fn keys_ever(self) -> Vec<String> {
        self.roster.keys
    }

    /// The member `key` names now; an error at `path` when it names none, or several (a name
    /// or address live members share: the API allows both, and keys tell them apart).
    fn member(&self, key: &str, path: &str, f: &mut Findings) -> Option<MemberIdx> {
        let sharing = self.elb.as_ref().and_then(|(_, m)| m.sharing(key));
        if let Some(sharing) = sharing.filter(|s| s.len() > 1) {
            let keys: Vec<&str> = sharing
                .iter()
                .map(|&i| self.roster.keys[i as usize].as_str())
                .collect();
            let rule = format!(
                "is the name or address of {} members at its time: name one by its key ({})",
                keys.len(),
                keys.join(", ")
            );
            f.error(path, key, rule, Code::NONE);
            return None;
        }
        // by key, or by the name or address only one live member has
        let only = sharing
            .filter(|s| s.len() == 1)
            .and_then(|s| s.first().copied());
        let found = self.roster.index(key).or(only);
        if found.is_none() {
            let mut rule = String::from("names no member of the pool");
            if self.roster.keys.iter().any(|k| k == key) {
                rule.push_str(" at its time (it was removed before)");
            } else {
                let known = self.roster.live.keys().map(String::as_str);
                if let Some(sg) = suggest::closest(key, known) {
                    rule.push_str(&format!(" (did you mean {sg}?)"));
                }
            }
            f.error(path, key, rule, Code::NONE);
        }
        found
    }

    pub(super) fn resolve(
        &mut self,
        given: &Given,
        p: &str,
        f: &mut Findings,
    ) -> Option<EventAction> {
        Some(match given {
            Given::MemberDown(k) => {
                EventAction::MemberDown(self.member(k, &format!("{p}.member_down"), f)?)
            }
            Given::MemberUp(k) => {
                EventAction::MemberUp(self.member(k, &format!("{p}.member_up"), f)?)
            }
            Given::MemberSlow(k, factor) => EventAction::MemberSlow {
                member: self.member(k, &format!("{p}.member_slow.member"), f)?,
                factor: *factor,
            },
            Given::MemberFail(k, failure) => EventAction::MemberFail {
                member: self.member(k, &format!("{p}.member_fail.member"), f)?,
                failure: *failure,
            },
            Given::AzDown(z) => EventAction::AzDown(*z),
            Given::AzUp(z) => EventAction::AzUp(*z),
            Given::SetWeight(k, weight) => {
                let member = self.member(k, &format!("{p}.set_weight.member"), f)?;
                if let Some(c) = self.channel.as_mut() {
                    c.set_weight(k, *weight);
                }
                EventAction::SetWeight {
                    member,
                    weight: (*weight).max(0) as u32,
                }
            }
            Given::RemoveMember(k) => {
                let member = self.member(k, &format!("{p}.remove_member"), f)?;
                match (&mut self.elb, &mut self.channel) {
                    // refused by the run under deletion protection: the member stays
                    (Some((pool, _)), _)
                        if pool.member_deletion_protection_enable == Some(true) =>
                    {
                        let rule =
                            "will be refused: the pool has member_deletion_protection_enable";
                        f.warn(&format!("{p}.remove_member"), "", rule);
                    }
                    (Some((_, members)), _) => {
                        members.remove(member);
                        self.roster.remove(k);
                    }
                    (_, Some(c)) => {
                        c.remove(k);
                        self.roster.remove(k);
                    }
                    (None, None) => {}
                }
                EventAction::RemoveMember(member)
            }
            Given::SetRate(r) => EventAction::SetRate(*r),
            Given::AddElbMembers(body) => self.add_elb_members(body, p, f)?,
            Given::AddChannelMembers(members) => {
                let channel = self.channel.as_mut()?;
                // each member by the channel's rules at this time (its groups may have changed)
                let now = channel.channel();
                let groups = now.member_groups.as_deref().unwrap_or_default();
                let ecs = now.member_type.as_deref() == Some("ecs");
                for (i, m) in members.iter().enumerate() {
                    m.validate(&format!("{p}.add_members.members[{i}]"), ecs, groups, f);
                }
                let diff = channel.add_members(members.clone(), self.zones);
                self.channel_change(diff, None)
            }
            Given::UpdatePool { body, nulls } => {
                let (current, _) = self.elb.as_mut()?;
                *current = elb::apply_pool_update(current, body, nulls);
                // the pool's rules for what the body leaves, as earlier updates left it
                let mut sub = Findings::new("");
                current.validate_update("pool", self.master_slave, &mut sub);
                let at = format!("{p}.update_pool.pool");
                for item in sub
                    .items
                    .into_iter()
                    .filter(|i| i.severity == Severity::Error)
                {
                    let path = item.path.replacen("pool", &at, 1);
                    f.push(item.severity, &path, item.value, item.rule, item.code);
                }
                EventAction::UpdatePool(Box::new(current.clone()))
            }
            Given::UpdateChannel(update) => {
                let diff = self
                    .channel
                    .as_mut()?
                    .update((**update).clone(), self.zones);
                self.channel_change(diff, Some((**update).clone()))
            }
        })
    }

    /// Members an ELB add-members body adds. An address and port the pool has at the event's
    /// time, a second master or slave in a master-slave pool, or a key another member has, is
    /// an error at the member's path.
    fn add_elb_members(
        &mut self,
        body: &[elb::Member],
        p: &str,
        f: &mut Findings,
    ) -> Option<EventAction> {
        let (pool, members) = self.elb.as_mut()?;
        // each member by the rules of the pool as earlier events left it (an update may have
        // turned on any_port_enable, say)
        for (i, m) in body.iter().enumerate() {
            pool.validate_member(&format!("{p}.add_members.members[{i}]"), m, f);
        }
        let mut added = Vec::new();
        for (j, m) in elb::added_members(|b| members.users(b), body, self.zones) {
            let mp = format!("{p}.add_members.members[{j}]");
            let (addr, port, tier) = ElbMembers::slot(&m);
            if let Some(&i) = members.at.get(&(addr, port)) {
                let rule = format!(
                    "with port {port} is already a member of the pool ({})",
                    self.roster.keys[i as usize]
                );
                f.error(&format!("{mp}.address"), &m.address, rule, Code::NONE);
                continue;
            }
            let role = match tier {
                Tier::Master => Some((0, "master")),
                Tier::Slave => Some((1, "slave")),
                _ => None,
            };
            if let Some((_, name)) = role.filter(|(r, _)| members.roles[*r] > 0) {
                let rule = format!(
                    "adds a second {name}: a master-slave pool has one master and one slave (seed 002)"
                );
                f.error(&format!("{mp}.role"), name, rule, Code::NONE);
                continue;
            }
            if self.roster.index(&m.key).is_some() {
                let rule = "is the key of a member the pool has: give the member another name";
                f.error(&mp, &m.key, rule, Code::NONE);
                continue;
            }
            members.add(&m, elb::base_key(&body[j]));
            self.roster.add(m.key.clone());
            added.push(m);
        }
        Some(EventAction::AddMembers(added))
    }

    /// A channel diff with its members named by index; added members take the next indices.
    fn channel_change(
        &mut self,
        diff: apig::ChannelDiff,
        channel: Option<apig::VpcChannel>,
    ) -> EventAction {
        // every member the channel has came from the pool or an earlier diff: the roster
        // knows them all
        let index = |k: &String| self.roster.index(k);
        let removed = diff.removed.iter().filter_map(index).collect();
        let changed = diff
            .changed
            .iter()
            .filter_map(|(k, c)| Some((index(k)?, *c)))
            .collect();
        for k in &diff.removed {
            self.roster.remove(k);
        }
        for m in &diff.added {
            self.roster.add(m.key.clone());
        }
        EventAction::UpdateChannel(Box::new(ChannelChange {
            removed,
            changed,
            added: diff.added,
            channel,
        }))
    }
}
